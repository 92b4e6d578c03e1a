"""shard_map over a mesh with several devices per process, under
IRJAX_NUM_CPU_DEVICES=L mpiexec -n N: each process runs its L members in threads; collectives over
the in-process axis, the cross-process axis, both, and the flattened mesh, against their
definitions (every block is a known slice of one global value); then 5 data-parallel MLP steps
over both axes, whose parameters go to OUT/params_{rank}.npz. With L = 1 (N even) the mesh is
(2, N/2) over processes, so a collective over one axis is a sub-group of the processes.

usage: shard_map_devices_processes.py OUT"""

import os
import sys

import irjax
import irjax.numpy as jnp
import numpy as np
from irjax import lax
from irjax.experimental import multihost_utils as mh
from irjax.sharding import NamedSharding
from irjax.sharding import PartitionSpec as P
from train_mlp import BATCH, LR, make_problem

STEPS = 5


def expect(what, got, want, exact=True):
    """`got` (a global array, maybe spanning processes) against the global value `want`."""
    value = mh.process_allgather(got) if not got.is_fully_addressable else np.asarray(got)
    assert value.shape == want.shape and value.dtype == want.dtype, (what, value.shape, value.dtype, want.shape)
    if exact:
        np.testing.assert_array_equal(value, want, err_msg=what)
    else:
        np.testing.assert_allclose(value, want, rtol=1e-6, err_msg=what)


def check_flat(mesh, m):
    """The flattened mesh: one axis 'x' of m members, process-major."""
    x = np.arange(m * 3 * 2, dtype=np.float32).reshape(m * 3, 2)
    b = x.reshape(m, 3, 2)

    def smap(body, out_specs=None, **kw):  # outputs replicated unless said
        return irjax.shard_map(body, mesh=mesh, in_specs=P("x"), out_specs=out_specs or P(), **kw)

    expect("psum", smap(lambda v: lax.psum(v, "x"))(x), b.sum(0), exact=False)
    expect("pmean", smap(lambda v: lax.pmean(v, "x"))(x), b.mean(0), exact=False)
    expect("pmax", smap(lambda v: lax.pmax(v, "x"))(x), b.max(0))
    expect("pmin", smap(lambda v: lax.pmin(v, "x"))(x), b.min(0))
    expect(
        "psum int32", smap(lambda v: lax.psum(v.astype(jnp.int32), "x"))(x), b.astype(np.int32).sum(0, dtype=np.int32)
    )
    expect("all_gather", smap(lambda v: lax.all_gather(v, "x"))(x), b)
    expect("all_gather tiled", smap(lambda v: lax.all_gather(v, "x", tiled=True))(x), x)
    expect(
        "axis_index", smap(lambda v: jnp.reshape(lax.axis_index("x"), (1,)), P("x"))(x), np.arange(m, dtype=np.int32)
    )
    ring = [(k, (k + 1) % m) for k in range(m)]
    expect("ppermute ring", smap(lambda v: lax.ppermute(v, "x", ring), P("x"))(x), np.roll(b, 1, 0).reshape(x.shape))
    part = np.zeros_like(b)
    part[m - 1] = b[0]
    expect("ppermute partial", smap(lambda v: lax.ppermute(v, "x", [(0, m - 1)]), P("x"))(x), part.reshape(x.shape))
    y = np.arange(m * m * 2, dtype=np.float32).reshape(m * m, 2)
    yb = y.reshape(m, m, 2)
    expect("psum_scatter", smap(lambda v: lax.psum_scatter(v, "x", tiled=True), P("x"))(y), yb.sum(0), exact=False)
    expect(
        "all_to_all",
        smap(lambda v: lax.all_to_all(v, "x", 0, 0, tiled=True), P("x"))(y),
        yb.transpose(1, 0, 2).reshape(y.shape),
    )
    # check_vma: an unreduced output under P() is refused on every member; check_vma=False takes member 0's
    try:
        smap(lambda v: v * 2)(x)
    except ValueError as e:
        assert "out_specs which require replication" in str(e), e
    else:
        raise AssertionError("an unreplicated output under out_specs P() did not raise")
    expect("check_vma=False", smap(lambda v: v * (lax.axis_index("x") + 1), check_vma=False)(x), b[0])
    # a global array laid out over the mesh goes in as each member's shard
    xs = irjax.device_put(x, NamedSharding(mesh, P("x")))
    assert len(xs.addressable_shards) == m // irjax.process_count()
    expect("global in", smap(lambda v: lax.all_gather(v, "x", tiled=True))(xs), x)


def check_grid(mesh, n, L, failing_member):
    """An (n, L) mesh ('p', 'd'): collectives over 'd', over 'p', over both; blocks b[i, j] of one
    global value laid out by P('p', 'd'). With several devices per process 'd' is the in-process
    axis and 'p' crosses processes; with one, both cross processes (sub-groups of the job)."""
    x = np.arange(n * 3 * L * 2, dtype=np.float32).reshape(n * 3, L * 2)
    b = x.reshape(n, 3, L, 2).transpose(0, 2, 1, 3)  # b[i, j] is member (i, j)'s block

    def smap(body, out_specs, **kw):
        return irjax.shard_map(body, mesh=mesh, in_specs=P("p", "d"), out_specs=out_specs, **kw)

    # over 'd' (the members of one process): member row i gets sum_j b[i, j]
    expect("psum d", smap(lambda v: lax.psum(v, "d"), P("p"))(x), b.sum(1).reshape(n * 3, 2), exact=False)
    # over 'p' (across processes): member column j gets sum_i b[i, j]
    expect(
        "psum p", smap(lambda v: lax.psum(v, "p"), P(None, "d"))(x), np.concatenate(list(b.sum(0)), axis=1), exact=False
    )
    expect("psum p,d", smap(lambda v: lax.psum(v, ("p", "d")), P())(x), b.sum((0, 1)), exact=False)
    expect("all_gather p", smap(lambda v: lax.all_gather(v, "p", tiled=True), P(None, "d"))(x), x)
    expect("all_gather d", smap(lambda v: lax.all_gather(v, "d", tiled=True, axis=1), P("p"))(x), x)
    idx = smap(lambda v: jnp.reshape(lax.axis_index(("p", "d")), (1, 1)), P("p", "d"))(x)
    expect("axis_index p,d", idx, np.arange(n * L, dtype=np.int32).reshape(n, L))
    ring = [(i, (i + 1) % n) for i in range(n)]
    expect("ppermute p", smap(lambda v: lax.ppermute(v, "p", ring), P("p", "d"))(x), np.roll(x, 3, axis=0))

    # replicated along 'd' only: check_vma=False takes member (i, 0)'s value for row i; True refuses
    scaled = smap(lambda v: v * (lax.axis_index("d") + 1), P("p"), check_vma=False)(x)
    expect("check_vma=False over d", scaled, b[:, 0].reshape(n * 3, 2))
    try:
        smap(lambda v: v * (lax.axis_index("d") + 1), P("p"))(x)
    except ValueError as e:
        assert "out_specs which require replication" in str(e), e
    else:
        raise AssertionError("an output varying over 'd' under out_specs P('p') did not raise")
    if not failing_member:
        return

    # a member that raises (here member d=1 of every process, before any collective): the other
    # members leave their rendezvous and the member's own exception reaches the caller, not a hang
    def fails(v):
        if int(np.asarray(lax.axis_index("d"))) == 1:
            raise ArithmeticError("member d=1 gives up")
        return lax.psum(v, ("p", "d"))

    try:
        smap(fails, P(), check_vma=False)(x)  # (check_vma=True traces the body once first)
    except ArithmeticError as e:
        assert "member d=1 gives up" in str(e), e
    else:
        raise AssertionError("a failing member did not raise")
    expect("after a failure", smap(lambda v: lax.psum(v, ("p", "d")), P())(x), b.sum((0, 1)), exact=False)


def loss(params, x, y):
    h = jnp.tanh(x @ params["w1"] + params["b1"])
    return jnp.mean((h @ params["w2"] + params["b2"] - y) ** 2)


def train(mesh):
    """Data-parallel SGD over both mesh axes: the batch split over ('p', 'd'), gradients pmean'd."""
    x, y, params = make_problem()
    grad_fn = irjax.jit(irjax.value_and_grad(loss))
    axes = tuple(mesh.axis_names)

    def step(p, xb, yb):
        value, grads = grad_fn(p, xb, yb)
        grads, value = lax.pmean((grads, value), axes)
        return irjax.tree_util.tree_map(lambda a, g: a - LR * g, p, grads), value

    step = irjax.shard_map(step, mesh=mesh, in_specs=(P(), P(axes), P(axes)), out_specs=(P(), P()), check_vma=False)
    for _ in range(STEPS):
        params, value = step(params, x, y)
    return {k: np.asarray(v) for k, v in params.items()}


def main(out: str) -> None:
    irjax.distributed.initialize()
    n, r, L = irjax.process_count(), irjax.process_index(), irjax.local_device_count()
    check_flat(irjax.make_mesh((n * L,), ("x",)), n * L)
    if L > 1:  # rows are processes, columns a process's devices
        rows, cols = n, L
    else:  # one device per process: both axes cross processes, so 'p' and 'd' alone are sub-groups of them
        assert n % 2 == 0, "with one device per process, run an even number of processes"
        rows, cols = 2, n // 2
    grid = irjax.make_mesh((rows, cols), ("p", "d"))
    check_grid(grid, rows, cols, failing_member=L > 1)
    if BATCH % (n * L) == 0:
        params = train(grid)
        np.savez(os.path.join(out, f"params_{r}.npz"), **params)
    mh.sync_global_devices("written")
    print(f"rank {r} of {n} with {L} devices: shard_map over devices and processes ok", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
