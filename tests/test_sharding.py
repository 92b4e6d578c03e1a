"""Sharded arrays on 8 CPU devices (IRJAX_NUM_CPU_DEVICES=8) against JAX on 8 forced host
devices (tests/sharding_jax_oracle.py, run once in a subprocess): placement, shards, jit's
in/out shardings, with_sharding_constraint, a data-parallel MLP step."""

import json
import os
import subprocess
import sys

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.runtime import device as rt
from irjax.sharding import Mesh, NamedSharding, SingleDeviceSharding
from irjax.sharding import PartitionSpec as P

sys.path.insert(0, os.path.dirname(__file__))
import sharding_jax_oracle as oracle  # noqa: E402

HERE = os.path.dirname(__file__)


@pytest.fixture(scope="module")
def devs(eight_cpu_devices):
    return eight_cpu_devices


@pytest.fixture(scope="module")
def jax_out():
    pytest.importorskip("jax")
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    res = subprocess.run(
        [sys.executable, os.path.join(HERE, "sharding_jax_oracle.py")], capture_output=True, text=True, env=env
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout)


def mesh_of(devs, shape, names):
    n = int(np.prod(shape))
    return irjax.make_mesh(shape, names, devices=devs[:n])


def shards_json(arr):
    return [
        [
            s.device.id,
            [list(i.indices(n)[:2]) for i, n in zip(s.index, arr.shape)],
            s.replica_id,
            np.asarray(s.data).tolist(),
        ]
        for s in arr.addressable_shards
    ]


def test_cpu_devices(devs):
    assert [repr(d) for d in devs] == [f"CpuDevice(id={i})" for i in range(8)]
    assert len({id(d.hal) for d in devs}) == 8  # each its own IREE device
    assert irjax.device_count() == 8 and irjax.devices()[0] is devs[0]
    f = irjax.jit(lambda a: a * 3 - 1)
    from irjax.runtime import compiler

    before = compiler.stats["compiles"]
    for d in devs:
        y = f(irjax.device_put(np.arange(5, dtype=np.float32), d))
        assert y.device == d
        np.testing.assert_array_equal(np.asarray(y), np.arange(5) * 3 - 1)
    assert compiler.stats["compiles"] - before <= 1  # one compile, loaded on every device


def test_bad_device_count_env(monkeypatch):
    monkeypatch.setenv("IRJAX_NUM_CPU_DEVICES", "zero")
    with pytest.raises(ValueError, match="IRJAX_NUM_CPU_DEVICES must be a positive integer"):
        rt.num_cpu_devices()


@pytest.mark.parametrize("case", range(len(oracle.CASES)))
def test_device_put_shards_match_jax(devs, jax_out, case):
    mshape, names, entries, shape = oracle.CASES[case]
    mesh = mesh_of(devs, mshape, names)
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    s = NamedSharding(mesh, oracle.spec(P, entries))
    a = irjax.device_put(x, s)
    assert a.shape == shape and a.dtype == np.float32 and a.sharding == s
    assert shards_json(a) == jax_out["cases"][case]["shards"]
    assert a.is_fully_replicated == jax_out["cases"][case]["replicated"]
    assert a.is_fully_addressable and len(a.global_shards) == mesh.size
    assert all(sh.data.device == sh.device for sh in a.addressable_shards)
    np.testing.assert_array_equal(np.asarray(a), x)
    np.testing.assert_array_equal(irjax.device_get(a), x)


def test_single_device_arrays_keep_their_sharding(devs):
    a = jnp.ones(3)
    assert a.sharding == SingleDeviceSharding(devs[0])
    assert repr(a.sharding) == "SingleDeviceSharding(device=CpuDevice(id=0), memory_kind=device)"
    (sh,) = a.addressable_shards
    assert sh.device == devs[0] and sh.index == (slice(None),) and sh.replica_id == 0
    assert a.is_fully_replicated
    b = irjax.device_put(np.ones(2), SingleDeviceSharding(devs[3]))
    assert b.device == devs[3] and b.sharding == SingleDeviceSharding(devs[3])


def test_eager_ops_and_output_rule(devs):
    mesh = mesh_of(devs, (4, 2), ("data", "model"))
    xv = np.random.RandomState(0).randn(8, 4).astype(np.float32)
    x = irjax.device_put(xv, NamedSharding(mesh, P("data", None)))
    y = jnp.sin(x) * 2 + 1
    np.testing.assert_allclose(np.asarray(y), np.sin(xv) * 2 + 1, rtol=1e-5, atol=1e-6)
    assert y.sharding == x.sharding  # rule 1: same shape as a sharded input
    s = x.sum(1)
    np.testing.assert_allclose(np.asarray(s), xv.sum(1), rtol=1e-5)
    assert s.sharding == NamedSharding(mesh, P("data"))  # rule 2: the leading split
    t = jnp.sum(x)
    assert t.sharding == NamedSharding(mesh, P())  # rule 3: replicated
    assert [sh.device.id for sh in t.addressable_shards] == list(range(8))
    np.testing.assert_allclose(float(t), xv.sum(), rtol=1e-5)
    rep = irjax.device_put(xv, NamedSharding(mesh, P()))
    assert (rep * x).sharding == x.sharding  # the split input of the same shape wins
    z = x + jnp.ones(4)  # an uncommitted array joins the sharded one
    np.testing.assert_allclose(np.asarray(z), xv + 1, rtol=1e-6)
    g = irjax.grad(lambda a: jnp.sum(a**2))(x)  # a transformation runs the same way
    np.testing.assert_allclose(np.asarray(g), 2 * xv, rtol=1e-6)


def test_incompatible_devices(devs):
    mesh = mesh_of(devs, (4,), ("data",))
    x = irjax.device_put(np.ones((8, 4), np.float32), NamedSharding(mesh, P("data")))
    y = irjax.device_put(np.ones((8, 4), np.float32), devs[5])
    with pytest.raises(
        ValueError,
        match=r"Received incompatible devices for jitted computation. Got argument 0 of add .*device ids \[0, 1, 2, 3\].*\[5\]",
    ):
        x + y
    with pytest.raises(ValueError, match="Received incompatible devices for jitted computation"):
        irjax.jit(lambda a, b: a + b)(x, y)
    other = irjax.device_put(np.ones((8, 4), np.float32), NamedSharding(mesh_of(devs, (8,), ("d",)), P("d")))
    with pytest.raises(ValueError, match="Received incompatible devices"):
        x * other


def test_jit_in_out_shardings_match_jax(devs, jax_out):
    mesh = mesh_of(devs, (4, 2), ("data", "model"))
    xv = np.arange(32, dtype=np.float32).reshape(8, 4)
    xs = irjax.device_put(xv, NamedSharding(mesh, P("data", None)))
    f = irjax.jit(lambda a: a + 1, in_shardings=NamedSharding(mesh, P(None, "model")))
    with pytest.raises(ValueError) as e:
        f(xs)
    head = "Sharding passed to jit does not match the sharding on the respective arg."
    assert jax_out["in_mismatch"].startswith(head) and str(e.value).startswith(head)
    assert str(e.value).endswith("for arg type: float32[8,4]") and jax_out["in_mismatch"].endswith("float32[8,4]")
    assert shards_json(f(xv)) == jax_out["in_placed"]
    g = irjax.jit(lambda a: (a * 2, a.sum(0)), out_shardings=(None, NamedSharding(mesh, P("data"))))
    r = g(xs)
    assert shards_json(r[1]) == jax_out["out_second"]
    np.testing.assert_array_equal(np.asarray(r[0]), xv * 2)
    # a single sharding applies to every output
    both = irjax.jit(lambda a: (a, a * 3), out_shardings=NamedSharding(mesh, P("model")))(xv)
    assert all(o.sharding == NamedSharding(mesh, P("model")) for o in both)
    with pytest.raises(ValueError, match="incompatible with its sharding annotation"):
        f(np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"(?s)does not match.*SingleDeviceSharding\(device=CpuDevice\(id=5\)"):
        f(irjax.device_put(xv, devs[5]))  # (JAX's message for another device set too)


def test_with_sharding_constraint_match_jax(devs, jax_out):
    mesh = mesh_of(devs, (4, 2), ("data", "model"))
    xv = np.arange(32, dtype=np.float32).reshape(8, 4)
    xs = irjax.device_put(xv, NamedSharding(mesh, P("data", None)))
    h = irjax.jit(lambda a: irjax.lax.with_sharding_constraint(a * 2, NamedSharding(mesh, P(None, "model"))))
    assert shards_json(h(xs)) == jax_out["wsc_jit"]
    assert shards_json(h(xs)) == jax_out["wsc_jit"]  # (the cached trace keeps the constraint)
    out = irjax.lax.with_sharding_constraint(xv, NamedSharding(mesh, P("model")))
    assert shards_json(out) == jax_out["wsc_eager"]
    with mesh:  # a bare PartitionSpec takes the mesh of the `with` block
        assert irjax.lax.with_sharding_constraint(xv, P("data")).sharding == NamedSharding(mesh, P("data"))
    with pytest.raises(ValueError, match="Using PartitionSpec when you are not under a mesh context"):
        irjax.lax.with_sharding_constraint(xv, P("data"))


def test_make_array_and_reshard_match_jax(devs, jax_out):
    mesh = mesh_of(devs, (4, 2), ("data", "model"))
    xv = np.arange(32, dtype=np.float32).reshape(8, 4)
    s = NamedSharding(mesh, P("data", "model"))
    calls = []
    cb = irjax.make_array_from_callback((8, 4), s, lambda idx: calls.append(idx) or xv[idx] * 3)
    assert len(calls) == 8 and shards_json(cb) == jax_out["callback"]
    moved = irjax.device_put(cb, NamedSharding(mesh, P("model", "data")))
    assert shards_json(moved) == jax_out["reshard"]
    assert shards_json(irjax.sharding.reshard(cb, NamedSharding(mesh, P("model", "data")))) == jax_out["reshard"]
    assert irjax.device_put(cb, s) is cb
    with pytest.raises(ValueError, match="Expected shard shape"):
        irjax.make_array_from_callback((8, 4), s, lambda idx: xv)
    # from single-device arrays, in any order, matched by device; the buffers are shared
    parts = [sh.data for sh in cb.addressable_shards][::-1]
    again = irjax.make_array_from_single_device_arrays((8, 4), s, parts)
    assert shards_json(again) == jax_out["callback"]
    with pytest.raises(ValueError, match="no array given for devices"):
        irjax.make_array_from_single_device_arrays((8, 4), s, parts[:-1])
    with pytest.raises(ValueError, match="Expected shard shape"):
        irjax.make_array_from_single_device_arrays((16, 4), s, parts)


def test_jit_sharding_pytrees(devs):
    mesh = mesh_of(devs, (4,), ("data",))
    rep, row = NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))
    f = irjax.jit(
        lambda p, none, x: ({"y": p["w"] * x, "s": x.sum()}, none),
        in_shardings=({"w": rep}, None, row),
        out_shardings=({"y": row, "s": None}, None),
    )
    out, none = f({"w": np.float32(2.0)}, None, np.arange(8, dtype=np.float32))
    assert none is None and out["y"].sharding == row and out["s"].sharding == NamedSharding(mesh, P())
    np.testing.assert_array_equal(np.asarray(out["y"]), 2 * np.arange(8))
    with pytest.raises(ValueError, match="pytree prefix"):
        irjax.jit(lambda a: a, in_shardings=(rep, rep))(np.ones(4))
    with mesh:  # bare PartitionSpecs take the mesh of the `with` block
        g = irjax.jit(lambda a: a * 2, in_shardings=P("data"), out_shardings=P())
        o = g(np.arange(8, dtype=np.float32))
    assert o.sharding == rep
    np.testing.assert_array_equal(np.asarray(o), 2 * np.arange(8))
    placed = irjax.device_put({"a": np.ones(2), "b": np.ones(2)}, {"a": devs[1], "b": rep})
    assert placed["a"].device == devs[1] and placed["b"].sharding == rep


def test_device_put_pytree_of_shardings(devs):
    mesh = mesh_of(devs, (4,), ("data",))
    tree = {"a": np.ones((4, 2), np.float32), "b": np.zeros(8, np.float32)}
    out = irjax.device_put(tree, {"a": NamedSharding(mesh, P()), "b": NamedSharding(mesh, P("data"))})
    assert out["a"].sharding.spec == P() and out["b"].sharding.spec == P("data")
    assert [sh.index for sh in out["b"].addressable_shards][1] == (slice(2, 4),)


def test_visualize_array_sharding(devs, capsys):
    mesh = mesh_of(devs, (4, 2), ("data", "model"))
    a = irjax.device_put(np.zeros((8, 8), np.float32), NamedSharding(mesh, P("model", "data")))
    irjax.debug.visualize_array_sharding(a)
    assert capsys.readouterr().out.splitlines() == [
        "+-------+-------+-------+-------+",
        "| CPU 0 | CPU 2 | CPU 4 | CPU 6 |",
        "+-------+-------+-------+-------+",
        "| CPU 1 | CPU 3 | CPU 5 | CPU 7 |",
        "+-------+-------+-------+-------+",
    ]
    v = irjax.device_put(np.zeros(8, np.float32), NamedSharding(mesh, P("data")))
    assert irjax.debug.sharding_grid(v.shape, v.sharding) == [["CPU 0,1", "CPU 2,3", "CPU 4,5", "CPU 6,7"]]
    assert irjax.debug.sharding_grid((8, 8), NamedSharding(mesh, P("data"))) == [
        ["CPU 0,1"],
        ["CPU 2,3"],
        ["CPU 4,5"],
        ["CPU 6,7"],
    ]
    with pytest.raises(ValueError, match="1 or 2 dimensions"):
        irjax.debug.visualize_array_sharding(irjax.device_put(np.zeros((2, 2, 2)), NamedSharding(mesh, P())))


def _mlp_steps(params, bx, by, steps=3):
    step = irjax.jit(irjax.value_and_grad(lambda p, x, y: oracle.mlp_loss(jnp, p, x, y)))
    losses = []
    for _ in range(steps):
        loss, grads = step(params, bx, by)
        params = irjax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
        losses.append(float(loss))
    return losses, params


def test_data_parallel_mlp_step(devs, jax_out):
    params, bx, by = oracle.mlp_params()
    mesh = Mesh(np.array(devs[:4]), ("data",))
    rep = NamedSharding(mesh, P())
    batch = NamedSharding(mesh, P("data", None))
    sp = irjax.device_put(params, rep)
    losses, new = _mlp_steps(sp, irjax.device_put(bx, batch), irjax.device_put(by, batch))
    assert all(p.sharding == rep for p in new)  # params stay replicated
    ref_losses, ref = _mlp_steps(tuple(jnp.asarray(p) for p in params), jnp.asarray(bx), jnp.asarray(by))
    np.testing.assert_allclose(losses, ref_losses, rtol=1e-5)
    np.testing.assert_allclose(losses, jax_out["mlp_losses"], rtol=1e-5)
    for p, q, j in zip(new, ref, jax_out["mlp_params"]):
        np.testing.assert_allclose(np.asarray(p), np.asarray(q), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(p), np.asarray(j, np.float32), rtol=1e-4, atol=1e-5)


def test_sharded_values_move_and_round_trip(devs):
    import pickle

    mesh = mesh_of(devs, (4, 2), ("data", "model"))
    xv = np.arange(24, dtype=np.float32).reshape(8, 3)
    x = irjax.device_put(xv, NamedSharding(mesh, P("data")))
    one = irjax.device_put(x, devs[2])  # gathered onto one device
    assert type(one) is irjax.array.Array and one.device == devs[2]
    np.testing.assert_array_equal(np.asarray(one), xv)
    back = pickle.loads(pickle.dumps(x))
    assert back.sharding == x.sharding
    np.testing.assert_array_equal(np.asarray(back), xv)
    with pytest.raises(ValueError, match="Please use `.devices\\(\\)`"):
        x.device  # noqa: B018
    assert x.devices() == set(devs)
    np.testing.assert_array_equal(np.asarray(list(x)[3]), xv[3])
    donated = irjax.device_put(xv, NamedSharding(mesh, P("data")))
    shard0 = donated.addressable_shards[0].data
    np.testing.assert_array_equal(np.asarray(irjax.jit(lambda a: a + 1, donate_argnums=0)(donated)), xv + 1)
    assert donated.is_deleted() and shard0.is_deleted()
    with pytest.raises(RuntimeError, match="Array has been deleted"):
        np.asarray(donated)
    with pytest.raises(ValueError, match="should be divisible by 4"):
        irjax.device_put(np.ones((6, 2), np.float32), NamedSharding(mesh, P("data")))


def test_constraints_inside_transformations(devs):
    mesh = mesh_of(devs, (4,), ("data",))
    s = NamedSharding(mesh, P("data"))
    xv = np.linspace(-1, 1, 8, dtype=np.float32)

    def f(a):
        b = irjax.device_put(jnp.tanh(a), s)  # inside jit: a constraint on an output
        return b, jnp.sum(b)

    out, tot = irjax.jit(f)(xv)
    assert out.sharding == s and type(tot) is irjax.array.Array  # tot: no sharded input, no constraint
    np.testing.assert_allclose(np.asarray(out), np.tanh(xv), rtol=1e-6)
    g = irjax.jit(irjax.grad(lambda a: jnp.sum(irjax.lax.with_sharding_constraint(a * a, s))))(xv)
    np.testing.assert_allclose(np.asarray(g), 2 * xv, rtol=1e-6)
    v = irjax.vmap(lambda r: irjax.lax.with_sharding_constraint(r * 2, None))(irjax.device_put(xv, s))
    np.testing.assert_allclose(np.asarray(v), 2 * xv)
    assert v.sharding == s


def test_elementwise_jit_runs_per_device(devs):
    mesh = mesh_of(devs, (4, 2), ("data", "model"))
    s = NamedSharding(mesh, P("data", "model"))
    xv = np.random.RandomState(1).randn(8, 6).astype(np.float32)
    x, y = irjax.device_put(xv, s), irjax.device_put(xv * 3, s)
    f = irjax.jit(lambda a, b: jnp.where(a > 0, jnp.tanh(a) * 2, b) - 1)
    out = f(x, y)
    assert out._global is None and out.sharding == s  # each device ran on its own shard: nothing gathered
    np.testing.assert_allclose(np.asarray(out), np.where(xv > 0, np.tanh(xv) * 2, 3 * xv) - 1, rtol=1e-5, atol=1e-6)
    for sh in out.addressable_shards:
        np.testing.assert_allclose(np.asarray(sh.data), np.asarray(out)[sh.index])
    # position-dependent or reducing functions must not run per shard (iota would restart per shard)
    row = irjax.jit(lambda a: a * irjax.lax.broadcasted_iota(jnp.float32, a.shape, 0))(x)
    np.testing.assert_allclose(np.asarray(row), xv * np.arange(8, dtype=np.float32)[:, None], rtol=1e-6)
    centered = irjax.jit(lambda a: a - jnp.max(a))(x)
    np.testing.assert_allclose(np.asarray(centered), xv - xv.max(), rtol=1e-6)
    mixed = f(x, irjax.device_put(xv * 3, NamedSharding(mesh, P("data"))))  # shardings differ: gathered
    np.testing.assert_allclose(np.asarray(mixed), np.asarray(out), rtol=1e-6)


def test_elementwise_decision():
    from irjax import placement

    x, r = np.ones((8, 6), np.float32), np.ones(6, np.float32)

    def decide(f, *args):
        tr, _ = irjax.jit(f)._trace(args, {})
        return placement.is_elementwise(tr.module, tr.fname)

    assert decide(lambda a: jnp.exp(-a) * 2.0 + jnp.where(a > 1, a, 0.0), x)
    assert decide(lambda a, b: jnp.maximum(a, b).astype(jnp.int32), x, x)
    assert not decide(lambda a, b: a + b, x, r)  # a row broadcast along the sharded dims
    assert not decide(lambda a: a * irjax.lax.broadcasted_iota(jnp.float32, a.shape, 0), x)
    assert not decide(lambda a: a - jnp.max(a), x)
    assert not decide(lambda a: a.T @ a, x)
    assert not decide(lambda a: jnp.roll(a, 1, axis=0), x)
    assert not decide(lambda a: irjax.jit(jnp.sin)(a), x)  # a call: not looked into
