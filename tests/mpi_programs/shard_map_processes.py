"""shard_map over a mesh that spans processes: run under mpiexec -n N (one device per process).
Every collective over the process axis against its definition (each process's block is a known
function of its rank), global arrays over processes, the errors; then a data-parallel MLP step via
shard_map, 5 steps of train_mlp.py's problem, whose parameters go to OUT/params_{rank}.npz (when
the batch of 32 splits over N). Alone (N = 1, no mpiexec) the same training runs on a one-device
mesh: the one-process reference.

usage: shard_map_processes.py OUT"""

import os
import sys

import irjax
import irjax.numpy as jnp
import numpy as np
from irjax import lax
from irjax.experimental import multihost_utils as mh
from irjax.sharding import NamedSharding
from irjax.sharding import PartitionSpec as P
from train_mlp import BATCH, LR, make_problem  # the same problem as train_mlp.py (beside this file)

STEPS = 5


def check_collectives(mesh, n):
    """Expected values in member order; `r` is this process's member index (its device's mesh position)."""
    r = [d.process_index for d in mesh.devices.flat].index(irjax.process_index())
    x = np.arange(n * 3 * 2, dtype=np.float32).reshape(n * 3, 2)  # the same global value everywhere
    blocks = x.reshape(n, 3, 2)  # member k's block

    def smap(body, out_specs=None, **kw):  # blocks split over 'p'; outputs replicated unless said
        return irjax.shard_map(body, mesh=mesh, in_specs=P("p"), out_specs=out_specs or P(), **kw)

    got = smap(lambda b: lax.psum(b, "p"))(x)
    assert got.dtype == np.float32 and got.shape == (3, 2)
    np.testing.assert_allclose(np.asarray(got), blocks.sum(0), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(smap(lambda b: lax.pmean(b, "p"))(x)), blocks.mean(0), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(smap(lambda b: lax.pmax(b, "p"))(x)), blocks.max(0))
    np.testing.assert_array_equal(np.asarray(smap(lambda b: lax.pmin(b, "p"))(x)), blocks.min(0))
    i32 = smap(lambda b: lax.psum(b.astype(jnp.int32), "p"))(x)
    assert i32.dtype == np.int32 and np.array_equal(np.asarray(i32), blocks.astype(np.int32).sum(0))
    assert int(np.asarray(smap(lambda b: lax.psum(1, "p") + 0 * b.sum())(x))) == n
    tree = smap(lambda b: lax.psum({"f": b, "i": b.astype(jnp.int32), "g": 2 * b[0], "one": 1}, "p"))(x)
    assert tree["i"].dtype == np.int32 and tree["one"] == n
    np.testing.assert_allclose(np.asarray(tree["f"]), blocks.sum(0), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(tree["g"]), 2 * blocks[:, 0].sum(0), rtol=1e-6)
    assert np.array_equal(np.asarray(tree["i"]), blocks.astype(np.int32).sum(0))

    g = smap(lambda b: lax.all_gather(b, "p"))(x)
    np.testing.assert_array_equal(np.asarray(g), blocks)
    np.testing.assert_array_equal(
        np.asarray(smap(lambda b: lax.all_gather(b, "p", axis=1))(x)), blocks.transpose(1, 0, 2)
    )
    np.testing.assert_array_equal(np.asarray(smap(lambda b: lax.all_gather(b, "p", tiled=True))(x)), x)
    idx = smap(lambda b: jnp.reshape(lax.axis_index("p"), (1,)), out_specs=P("p"))(x)
    assert np.array_equal(mh.process_allgather(idx, tiled=True), np.arange(n, dtype=np.int32))

    # ppermute: a ring, and a partial permutation (members nobody sends to get zeros)
    ring = smap(lambda b: lax.ppermute(b, "p", [(k, (k + 1) % n) for k in range(n)]), out_specs=P("p"))(x)
    assert not ring.is_fully_addressable and len(ring.addressable_shards) == 1
    np.testing.assert_array_equal(np.asarray(ring.addressable_shards[0].data), blocks[(r - 1) % n])
    np.testing.assert_array_equal(mh.process_allgather(ring), np.roll(blocks, 1, axis=0).reshape(x.shape))
    part = smap(lambda b: lax.ppermute(b, "p", [(0, n - 1)]), out_specs=P("p"))(x)
    want = np.zeros_like(blocks)
    want[n - 1] = blocks[0]
    np.testing.assert_array_equal(mh.process_allgather(part), want.reshape(x.shape))

    # psum_scatter: member k keeps block k of the sum; all_to_all: member i gets block i of everyone's
    y = np.arange(n * n * 2, dtype=np.float32).reshape(n * n, 2)  # member k's block: y[k*n:(k+1)*n]
    yb = y.reshape(n, n, 2)
    ps = smap(lambda b: lax.psum_scatter(b, "p", tiled=True), out_specs=P("p"))(y)
    np.testing.assert_allclose(mh.process_allgather(ps), yb.sum(0), rtol=1e-6)
    a2a = smap(lambda b: lax.all_to_all(b, "p", 0, 0, tiled=True), out_specs=P("p"))(y)
    np.testing.assert_array_equal(mh.process_allgather(a2a), yb.transpose(1, 0, 2).reshape(y.shape))

    # a global array whose shards live on the processes' devices goes in without a copy through the host
    xs = irjax.device_put(x, NamedSharding(mesh, P("p")))
    assert not xs.is_fully_addressable and len(xs.addressable_shards) == 1
    np.testing.assert_array_equal(np.asarray(xs.addressable_shards[0].data), blocks[r])
    try:
        np.asarray(xs)
    except RuntimeError as e:
        assert "non-addressable" in str(e), e
    else:
        raise AssertionError("np.asarray of a non-addressable array did not raise")
    np.testing.assert_array_equal(np.asarray(smap(lambda b: lax.all_gather(b, "p", tiled=True))(xs)), x)

    # traced collectives are host calls (traced_collectives.py has the rest)
    np.testing.assert_array_equal(
        np.asarray(smap(lambda b: irjax.jit(lambda c: lax.psum(c, "p"))(b))(x)), blocks.sum(0)
    )
    np.testing.assert_array_equal(np.asarray(irjax.jit(smap(lambda b: lax.psum(b, "p")))(x)), blocks.sum(0))
    # what is not supported says so
    for call, exc, words, arg in [
        (smap(lambda b: b * (r + 1)), ValueError, "out_specs which require replication", x),
        (irjax.jit(smap(lambda b: lax.psum(b, "p"))), RuntimeError, "non-addressable", xs),  # a global array into jit
    ]:
        try:
            call(arg)
        except exc as e:
            assert words in str(e), e
        else:
            raise AssertionError(f"expected {exc.__name__} with {words!r}")
    # check_vma=False takes member 0's value, as the in-process path
    np.testing.assert_array_equal(
        np.asarray(smap(lambda b: b * (lax.axis_index("p") + 1), check_vma=False)(x)), blocks[0]
    )


def loss(params, x, y):
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    return jnp.mean((h @ params["w2"] + params["b2"] - y) ** 2)


def train(mesh):
    """Data-parallel SGD: the batch split over 'p', parameters replicated, gradients pmean'd."""
    x, y, params = make_problem()
    grad_fn = irjax.jit(irjax.value_and_grad(loss))

    def step(p, xb, yb):
        value, grads = grad_fn(p, xb, yb)
        grads, value = lax.pmean((grads, value), "p")
        return irjax.tree_util.tree_map(lambda a, g: a - LR * g, p, grads), value

    step = irjax.shard_map(step, mesh=mesh, in_specs=(P(), P("p"), P("p")), out_specs=(P(), P()), check_vma=False)
    xs, ys = (irjax.device_put(a, NamedSharding(mesh, P("p"))) for a in (x, y))
    losses = []
    for _ in range(STEPS):
        params, value = step(params, xs, ys)
        losses.append(float(np.asarray(value)))
    return {k: np.asarray(v) for k, v in params.items()}, losses


def main(out: str) -> None:
    irjax.distributed.initialize()
    n, r = irjax.process_count(), irjax.process_index()
    mesh = irjax.make_mesh((n,), ("p",))
    if n > 1:
        check_collectives(mesh, n)
        # members in another order than the ranks: results follow the mesh order
        check_collectives(irjax.sharding.Mesh(np.array(irjax.devices()[::-1]), ("p",)), n)
        x, y, params = make_problem()
        x, y = x[: 2 * n], y[: 2 * n]
        body = lambda p, xb, yb: lax.pmean(irjax.grad(loss)(p, xb, yb), "p")  # noqa: E731
        try:
            irjax.shard_map(body, mesh=mesh, in_specs=(P(), P("p"), P("p")), out_specs=P())(params, x, y)
        except NotImplementedError as e:
            assert "reverse-mode derivative" in str(e), e
        else:
            raise AssertionError("grad inside a check_vma=True body over processes did not raise")
    if BATCH % n:
        print(f"rank {r} of {n}: shard_map over processes ok (no training: {BATCH} rows do not split)", flush=True)
        return
    params, losses = train(mesh)
    np.savez(os.path.join(out, f"params_{r}.npz"), losses=np.array(losses), **params)
    mh.sync_global_devices("written")
    print(f"rank {r} of {n}: shard_map over processes ok", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
