"""shard_map and pmap on a real 8-device CPU mesh (IRJAX_NUM_CPU_DEVICES=8): outputs are placed
per out_specs, sharded inputs work, and values equal the one-device results (test_shard_map.py
checks those against JAX)."""

import irjax
import numpy as np
import pytest
import test_shard_map as t
from irjax import lax
from irjax.sharding import Mesh, NamedSharding, P


@pytest.fixture(scope="module")
def mesh(eight_cpu_devices):
    return Mesh(np.array(eight_cpu_devices, dtype=object).reshape(4, 2), ("a", "b"))


def _smap(mesh, name):
    body, ins, outs, _ = t.CASES[name]
    return irjax.shard_map(lambda *a: body(lax, *a), mesh=mesh, in_specs=ins, out_specs=outs)


@pytest.mark.parametrize("name", ["index", "psum", "matmul", "mean_max"])
def test_outputs_placed_per_out_specs_and_values_as_one_device(mesh, name):
    args = [{"X": t.X, "W": t.W}[a] for a in t.CASES[name][3]]
    abstract = t._AbstractMesh((4, 2), ("a", "b"))
    body, ins, outs, _ = t.CASES[name]
    want = irjax.shard_map(lambda *a: body(lax, *a), mesh=abstract, in_specs=ins, out_specs=outs)(*args)
    got = _smap(mesh, name)(*args)
    got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
    specs = outs if isinstance(outs, tuple) else (outs,)
    for g, w, s in zip(got, want, specs):
        assert g.sharding == NamedSharding(mesh, s)
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-6)
        for shard in g.addressable_shards:  # each device holds its block of the global value
            np.testing.assert_array_equal(np.asarray(shard.data), np.asarray(g)[shard.index])


def test_sharded_input_and_jit(mesh):
    x = irjax.device_put(t.X, NamedSharding(mesh, P("a", "b")))
    f = irjax.jit(_smap(mesh, "psum"))
    got = f(x)
    np.testing.assert_allclose(np.asarray(got), t.X[:, :3] + t.X[:, 3:], rtol=1e-6)


def test_pmap_over_8_devices(mesh):
    x = np.arange(16.0, dtype=np.float32).reshape(8, 2)
    got = irjax.pmap(lambda v: lax.psum(v, "i") - v, axis_name="i")(x)
    np.testing.assert_allclose(np.asarray(got), x.sum(0) - x)
    with pytest.raises(ValueError, match="devices"):
        irjax.pmap(lambda v: v, axis_name="i")(np.zeros((9, 2), np.float32))
