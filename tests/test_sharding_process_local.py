"""Process-local data <-> global arrays in one process: make_array_from_process_local_data and
multihost_utils' host-local conversions on 4 CPU devices against JAX on 4 forced CPU devices
(one JAX subprocess), and the layouts of a process in a multi-process job, simulated with
RemoteDevices for the other process, against the definition (mpiexec: test_mpi_arrays.py)."""

import json
import os
import subprocess
import sys

import irjax
import numpy as np
import pytest
from conftest import num_cpu_devices
from irjax.distributed import RemoteDevice
from irjax.experimental import multihost_utils as mh
from irjax.sharding import Mesh, NamedSharding
from irjax.sharding import PartitionSpec as P

# (spec entries over the mesh (2, 2) ('a', 'b'), local shape); lists are tuples of axes
SPECS = [(("a", "b"), (4, 6)), (("b",), (4, 3)), ((), (3, 2)), ((["a", "b"],), (8,)), ((None, "a"), (3, 4))]

ORACLE = """
import json, os, sys
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
import jax, numpy as np
from jax.experimental import multihost_utils as mh
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
specs = json.loads(sys.argv[1])
mesh = Mesh(np.array(jax.devices()).reshape(2, 2), ("a", "b"))
def shards(a):
    return [[s.device.id, [list(i.indices(n)[:2]) for i, n in zip(s.index, a.shape)], np.asarray(s.data).tolist()]
            for s in a.addressable_shards]
def entries(spec):
    return [list(e) if isinstance(e, tuple) else e for e in spec]
out = []
for ents, shape in specs:
    spec = P(*[tuple(e) if isinstance(e, list) else e for e in ents])
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 4
    a = jax.make_array_from_process_local_data(NamedSharding(mesh, spec), x)
    g = mh.host_local_array_to_global_array(x, mesh, spec)
    h = mh.global_array_to_host_local_array(g, mesh, spec)
    out.append({"a": [a.shape, str(a.dtype), shards(a)], "g": [g.shape, str(g.dtype), entries(g.sharding.spec), shards(g)],
                "h": [h.shape, str(h.dtype), shards(h)]})
print(json.dumps(out))
"""


def spec_of(entries):
    return P(*[tuple(e) if isinstance(e, list) else e for e in entries])


def shards_json(a):
    return [
        [s.device.id, [list(i.indices(n)[:2]) for i, n in zip(s.index, a.shape)], np.asarray(s.data).tolist()]
        for s in a.addressable_shards
    ]


@pytest.fixture(scope="module")
def jax_out():
    pytest.importorskip("jax")
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    res = subprocess.run([sys.executable, "-c", ORACLE, json.dumps(SPECS)], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def mesh():
    with num_cpu_devices(4) as devs:
        yield Mesh(np.array(devs, dtype=object).reshape(2, 2), ("a", "b"))


def test_one_process_matches_jax(mesh, jax_out):
    """One process: the local data is the global value; shards, shapes, dtypes and specs as JAX's."""
    for (entries, shape), want in zip(SPECS, jax_out):
        spec = spec_of(entries)
        x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) / 4
        a = irjax.make_array_from_process_local_data(NamedSharding(mesh, spec), x)
        assert [list(a.shape), str(a.dtype), shards_json(a)] == [want["a"][0], want["a"][1], want["a"][2]]
        g = mh.host_local_array_to_global_array(x, mesh, spec)
        got_spec = [list(e) if isinstance(e, tuple) else e for e in g.sharding.spec]
        assert [list(g.shape), str(g.dtype), got_spec, shards_json(g)] == want["g"], entries
        h = mh.global_array_to_host_local_array(g, mesh, spec)
        assert [list(h.shape), str(h.dtype), shards_json(h)] == want["h"]
        assert h is g  # already host-local: returned as is, as JAX does


def test_one_process_pytrees_and_errors(mesh):
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    tree = mh.host_local_array_to_global_array({"w": x, "b": (x[0], x)}, mesh, {"w": P("a"), "b": P()})
    assert tree["w"].sharding.spec == P("a") and tree["b"][1].sharding.spec == P()
    np.testing.assert_array_equal(np.asarray(tree["b"][0]), x[0])
    many = irjax.make_array_from_process_local_data(NamedSharding(mesh, P("b")), [x, 2 * x])
    np.testing.assert_array_equal(np.asarray(many[1]), 2 * x)
    with irjax.sharding.set_mesh(mesh):  # a bare PartitionSpec refers to the current mesh
        assert irjax.make_array_from_process_local_data(P("a", "b"), x).sharding == NamedSharding(mesh, P("a", "b"))
    with pytest.raises(ValueError, match="PartitionSpec()"):
        mh.host_local_array_to_global_array(x, mesh, None)
    with pytest.raises(ValueError, match="global_shape should be None or equal to local_data.shape"):
        irjax.make_array_from_process_local_data(NamedSharding(mesh, P("a")), x, (8, 2))
    with pytest.raises(ValueError, match="no current mesh"):
        irjax.make_array_from_process_local_data(P("a"), x)
    with pytest.raises(TypeError, match="Sharding or a PartitionSpec"):
        irjax.make_array_from_process_local_data("a", x)


# ---- process 0 of a two-process job, the other process's devices stood in by RemoteDevices --------


@pytest.fixture(scope="module")
def job():
    """(this process's 2 devices, process 1's 2 RemoteDevices with ids 2, 3)."""
    with num_cpu_devices(2) as devs:
        yield devs, [RemoteDevice("cpu", 2 + k, 1, "cpu") for k in range(2)]


def assert_shards(g, want_global, n_local):
    assert g.shape == want_global.shape and not g.is_fully_addressable
    shards = g.addressable_shards
    assert len(shards) == n_local
    for s in shards:
        np.testing.assert_array_equal(np.asarray(s.data), want_global[s.index])


def test_process_mesh_layouts(job):
    """Process 0's local data becomes its part of the global value (process 1's part unknown here:
    the global value's rows of process 1 are NaN in `want`, and no local shard may touch them)."""
    here, there = job
    mesh = Mesh(np.array(here + there, dtype=object).reshape(2, 2), ("host", "dev"))
    assert mesh.local_mesh == Mesh(np.array(here, dtype=object).reshape(1, 2), ("host", "dev"))
    assert mesh.local_devices == here
    nan = np.full
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    cases = [  # (spec, global value with process 1's part NaN)
        (P("host"), np.concatenate([x, nan((4, 3), np.nan, np.float32)])),
        (P(("host", "dev")), np.concatenate([x, nan((4, 3), np.nan, np.float32)])),
        (P("dev", "host"), np.concatenate([x, nan((4, 3), np.nan, np.float32)], axis=1)),
        (P("dev"), x),  # split within the process only: the global value is the local one
        (P(), x),
    ]
    for spec, want in cases:
        g = mh.host_local_array_to_global_array(x, mesh, spec)
        assert_shards(g, want, 2)
        assert g.sharding == NamedSharding(mesh, spec)
        h = mh.global_array_to_host_local_array(g, mesh, spec)
        assert h.is_fully_addressable and h.sharding.mesh == mesh.local_mesh
        np.testing.assert_array_equal(np.asarray(h), x)
        again = mh.host_local_array_to_global_array(h, mesh, spec)  # laid out as the local mesh: no copy
        assert again.sharding == g.sharding and again.shape == g.shape
        assert all(a.data is b.data for a, b in zip(again.addressable_shards, h.addressable_shards))
        a = irjax.make_array_from_process_local_data(NamedSharding(mesh, spec), x)
        assert a.shape == want.shape
        for s, t in zip(a.addressable_shards, g.addressable_shards):
            np.testing.assert_array_equal(np.asarray(s.data), np.asarray(t.data))
    # a value every process holds whole: each device takes its block of it
    whole = np.arange(16, dtype=np.float32).reshape(8, 2)
    assert_shards(irjax.make_array_from_process_local_data(NamedSharding(mesh, P("host")), whole, (8, 2)), whole, 2)
    np.testing.assert_array_equal(np.asarray(mh.global_array_to_host_local_array(whole, mesh, P("host"))), whole[:4])


def test_interleaved_processes(job):
    """Mesh positions 0 and 2 are this process's: its local rows go to them in order (JAX's rule);
    the host-local conversions need a contiguous subcube and say so."""
    here, there = job
    mesh = Mesh(np.array([here[0], there[0], here[1], there[1]], dtype=object), ("x",))
    x = np.arange(8, dtype=np.float32).reshape(4, 2)
    g = irjax.make_array_from_process_local_data(NamedSharding(mesh, P("x")), x)
    assert g.shape == (8, 2)
    idx = [(s.device, s.index[0].indices(8)[:2]) for s in g.addressable_shards]
    assert idx == [(here[0], (0, 2)), (here[1], (4, 6))]
    np.testing.assert_array_equal(np.asarray(g.addressable_shards[1].data), x[2:])
    with pytest.raises(ValueError, match="contiguous subcube"):
        mh.host_local_array_to_global_array(x, mesh, P("x"))


def test_non_uniform_and_bad_shapes(job):
    here, there = job
    # three processes: this one at (0, 0) and (1, 1), process 1 at (0, 1), process 2 at (1, 0)
    other = RemoteDevice("cpu", 4, 2, "cpu")
    mesh = Mesh(np.array([[here[0], there[0]], [other, here[1]]], dtype=object), ("a", "b"))
    s = NamedSharding(mesh, P("a"))
    with pytest.raises(ValueError, match="non-uniform sharding"):
        irjax.make_array_from_process_local_data(s, np.zeros((4, 2), np.float32))
    whole = np.arange(8, dtype=np.float32).reshape(4, 2)
    assert_shards(irjax.make_array_from_process_local_data(s, whole, (4, 2)), whole, 2)
    mesh1 = Mesh(np.array(here + there, dtype=object), ("x",))
    with pytest.raises(ValueError, match="Invalid host data"):
        irjax.make_array_from_process_local_data(NamedSharding(mesh1, P("x")), np.zeros((4,)), (16,))
    with pytest.raises(ValueError, match="divisible"):
        irjax.make_array_from_process_local_data(NamedSharding(mesh1, P("x")), np.zeros((3,)))
    g = mh.host_local_array_to_global_array(np.zeros((4,), np.float32), mesh1, P("x"))
    with pytest.raises(ValueError, match="does not reshard across processes"):
        mh.global_array_to_host_local_array(g, mesh1, P())
