"""Collectives over process axes in traced code, under mpiexec -n N: inside jit, grad, vmap, scan
and cond in a shard_map body and as jit(shard_map(...)), each a host call that runs on MPI while
the compiled program runs. Every collective against its definition, in a jit in the body and under
jit(shard_map) (this process's members batched: one or several devices per process); grad through
psum against JAX's vmap(axis_name) values; grad and vmap of the shard_map from outside against
JAX's shard_map on forced CPU devices; and 5 data-parallel MLP steps written the JAX way
(jit(shard_map(grad + pmean))): bit-for-bit equal on every process, within 2e-5 of JAX's
full-batch training. With several devices per process (IRJAX_NUM_CPU_DEVICES=2) also a
(processes, devices) mesh: collectives along either axis, eagerly (member threads sharing one
compiled program in the body) and under jit."""

import os

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"  # JAX's shard_map: the oracle

import irjax  # noqa: E402
import irjax.numpy as jnp  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jjnp
import numpy as np
from irjax import lax
from irjax.experimental import multihost_utils as mh
from irjax.sharding import PartitionSpec as P
from train_mlp import BATCH, LR, loss, make_problem

JP = jax.sharding.PartitionSpec
REPLICATED = P()

irjax.distributed.initialize()
n, L = irjax.process_count(), irjax.local_device_count()
m = n * L
mesh = irjax.make_mesh((m,), ("p",))
x = np.arange(m * 6, dtype=np.float32).reshape(m * 3, 2)  # the same global value everywhere
blocks = x.reshape(m, 3, 2)  # member k's block


def smap(body, out_specs=REPLICATED):
    return irjax.shard_map(body, mesh=mesh, in_specs=P("p"), out_specs=out_specs, check_vma=False)


def members(y) -> np.ndarray:
    """(m, ...) every member's block of a result laid out P('p')."""
    return np.asarray(mh.process_allgather(y)).reshape((m, -1) + y.shape[1:])


def in_jit(f):  # the collective inside a jit in the body
    return lambda b: irjax.jit(f)(b)


def check_collectives(wrap):
    """`wrap(body)`: the body as run (jit in the body, or jit of the shard_map)."""
    eq = np.testing.assert_array_equal
    eq(np.asarray(wrap(lambda b: lax.psum(b * 2, "p"))(x)), 2 * blocks.sum(0))
    np.testing.assert_allclose(np.asarray(wrap(lambda b: lax.pmean(b, "p"))(x)), blocks.mean(0), rtol=1e-6)
    eq(np.asarray(wrap(lambda b: lax.pmax(b, "p"))(x)), blocks.max(0))
    eq(np.asarray(wrap(lambda b: lax.pmin(b, "p"))(x)), blocks.min(0))
    eq(np.asarray(wrap(lambda b: lax.pmax(b.sum(), "p"))(x)), blocks.sum((1, 2)).max())  # a scalar operand
    assert np.signbit(np.asarray(wrap(lambda b: lax.all_gather(b * -0.0, "p"))(x))).all()  # -0.0 kept
    tree = wrap(lambda b: lax.psum({"f": b, "g": b[0] * 3, "i": b.astype(jnp.int32)}, "p"))(x)
    eq(np.asarray(tree["f"]), blocks.sum(0))
    eq(np.asarray(tree["g"]), 3 * blocks[:, 0].sum(0))
    assert tree["i"].dtype == np.int32 and np.array_equal(np.asarray(tree["i"]), blocks.astype(np.int32).sum(0))
    eq(np.asarray(wrap(lambda b: lax.all_gather(b, "p"))(x)), blocks)
    eq(np.asarray(wrap(lambda b: lax.all_gather(b, "p", axis=1, tiled=True))(x)), np.concatenate(list(blocks), 1))
    return wrap


def check_sharded_outputs(run):
    """Collectives whose results differ per member; `run(body, spec)` gives every member's block."""
    eq = np.testing.assert_array_equal
    eq(run(lambda b: jnp.reshape(lax.axis_index("p"), (1,))).ravel(), np.arange(m, dtype=np.int32))
    ring = [(k, (k + 1) % m) for k in range(m)]
    eq(run(lambda b: lax.ppermute(b, "p", ring)), np.roll(blocks, 1, axis=0))
    part = [(0, m - 1)]  # members nobody sends to get zeros
    want = np.zeros_like(blocks)
    want[m - 1] = blocks[0]
    eq(run(lambda b: lax.ppermute(b, "p", part)), want)
    tops = blocks[:, :1].repeat(m, 1)  # (m, m, 2): member j's rows, m of them
    tops = tops + np.arange(m, dtype=np.float32)[None, :, None]
    s = tops.sum(0)  # the sum over members; member k keeps row k
    eq(run(lambda b: lax.psum_scatter(b[:1].repeat(m, 0) + jnp.arange(m, dtype=jnp.float32)[:, None], "p")), s)
    a2a = run(lambda b: lax.all_to_all(b[:1].repeat(m, 0) + jnp.arange(m, dtype=jnp.float32)[:, None], "p", 0, 0))
    eq(a2a, np.stack([tops[:, i] for i in range(m)]))  # member i: row i of every member's, in member order


def members_of(wrap):
    return lambda body: members(wrap(body, P("p"))(x))


jit_in_body = lambda body, o=REPLICATED: smap(in_jit(body), o)  # noqa: E731
check_collectives(jit_in_body)
check_sharded_outputs(members_of(jit_in_body))

# grad through psum inside the body (compiled): against JAX's vmap(axis_name), which has the same
# per-member semantics (psum's transpose is psum)
f_loss = lambda v, ps: (ps(jnp.sin(v), "p") ** 2).sum()  # noqa: E731
got = members(smap(irjax.jit(irjax.grad(lambda v: f_loss(v, lax.psum))), P("p"))(x))
want_inside = jax.vmap(jax.grad(lambda v: (jax.lax.psum(jjnp.sin(v), "p") ** 2).sum()), axis_name="p")(blocks)
np.testing.assert_allclose(got, np.asarray(want_inside), rtol=2e-6, atol=1e-6)

# vmap and scan and cond with a collective in the body
np.testing.assert_array_equal(
    np.asarray(smap(in_jit(lambda b: irjax.vmap(lambda r: lax.psum(r, "p"))(b)))(x)), blocks.sum(0)
)


def scanned(b):
    def step(c, row):
        s = lax.psum(row, "p")
        return c + s, s

    return lax.scan(step, jnp.zeros(2, jnp.float32), b)


total, per_row = smap(in_jit(scanned))(x)
np.testing.assert_array_equal(np.asarray(total), blocks.sum((0, 1)))
np.testing.assert_array_equal(np.asarray(per_row), blocks.sum(0))
cond = smap(in_jit(lambda b: lax.cond(b.sum() >= 0, lambda v: lax.pmax(v, "p"), lambda v: v, b)))(x)
np.testing.assert_array_equal(np.asarray(cond), blocks.max(0))

# jit(shard_map(...)): the body traced once for this process's members (a vmap over them), global
# values in and out on every process
jsm = lambda body, o=REPLICATED: irjax.jit(smap(body, o))  # noqa: E731
check_collectives(jsm)


def global_blocks(body):
    r = np.asarray(jsm(body, P("p"))(x))  # the gathered global value, on every process
    return r.reshape((m, -1) + r.shape[1:])


check_sharded_outputs(global_blocks)
rep = irjax.jit(irjax.shard_map(lambda b: b * 0 + lax.axis_index("p"), mesh=mesh, in_specs=P("p"), out_specs=P()))
try:
    rep(x)  # check_vma=True: members differ, ValueError on every process
except ValueError as e:
    assert "out_specs which require replication" in str(e), e
else:
    raise AssertionError("an unreplicated output passed check_vma")

# grad and vmap of the shard_map from outside, on a (processes, devices) mesh, against JAX's
# shard_map on as many forced CPU devices (specs with mapped and unmapped axes, both check_vma)
mesh2 = irjax.make_mesh((n, L), ("p", "d"))
jmesh = jax.sharding.Mesh(np.array(jax.devices()[:m]).reshape(n, L), ("p", "d"))
xg = (np.arange(m * 4 * 2 * L, dtype=np.float32).reshape(m * 4, 2 * L) / 13 - 1).astype(np.float32)
vg = np.linspace(-1, 1, 2 * L, dtype=np.float32)
OUTSIDE = [  # (body over (lax, numpy), in_specs, out_specs, check_vma)
    (lambda lx, np_: lambda b, v: lx.psum(np_.sin(b) * v, "p"), (P("p", "d"), P("d")), P(None, "d"), False),
    (lambda lx, np_: lambda b, v: lx.psum(np_.sin(b) * v, ("p", "d")), (P("p", "d"), P("d")), P(), True),
    (
        lambda lx, np_: lambda b, v: lx.all_gather(b * v[:2], "d", axis=1, tiled=True),
        (P("p", "d"), P("d")),
        P("p"),
        False,
    ),
    (
        lambda lx, np_: lambda b, v: lx.ppermute(b, "p", [(i, (i + 1) % n) for i in range(n)]) * v,
        (P("p"), P()),
        P("p"),
        False,
    ),
]
for k, (body, ins, outs, chk) in enumerate(OUTSIDE if (n, L) == (2, 2) else []):  # (the same code at 2 x 1, 3 x 1)

    def loss_of(sm, np_):
        return lambda a, v: (sm(a, v) ** 2).sum()

    ism = irjax.shard_map(body(lax, jnp), mesh=mesh2, in_specs=ins, out_specs=outs, check_vma=chk)
    jins, jouts = tuple(JP(*sp) for sp in ins), JP(*outs)
    jsm_ = jax.shard_map(body(jax.lax, jjnp), mesh=jmesh, in_specs=jins, out_specs=jouts, check_vma=chk)
    got = irjax.grad(loss_of(irjax.jit(ism), jnp), argnums=(0, 1))(xg, vg)
    want = jax.grad(loss_of(jsm_, jjnp), argnums=(0, 1))(xg, vg)
    for g, w_ in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w_), rtol=2e-6, atol=2e-6, err_msg=f"grad {k}")
    if k == 0:  # grad of the eager call, under jit
        got = irjax.jit(irjax.grad(loss_of(ism, jnp)))(xg, vg)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want[0]), rtol=2e-6, atol=2e-6, err_msg="jit grad")
    if k in (0, 2):  # vmap from outside, against a loop
        batch = np.stack([xg, -2 * xg, xg + 1])
        got = irjax.vmap(irjax.jit(ism), in_axes=(0, None))(batch, vg)
        want = [np.asarray(jsm_(b, vg)) for b in batch]
        np.testing.assert_allclose(np.asarray(got), np.stack(want), rtol=2e-6, atol=2e-6, err_msg=f"vmap {k}")

# grad through psum inside the body under jit(shard_map): JAX's vmap(axis_name) values again
got = np.asarray(irjax.jit(smap(irjax.grad(lambda v: f_loss(v, lax.psum)), P("p")))(x)).reshape(blocks.shape)
np.testing.assert_allclose(got, np.asarray(want_inside), rtol=2e-6, atol=1e-6)

# the data-parallel MLP step the JAX way: jit(shard_map(grad + pmean)), 5 steps (when the batch
# splits), on the flat mesh and (several devices per process) the (processes, devices) mesh
if BATCH % m == 0:
    xb, yb, _ = make_problem()

    def step_over(names):
        def step(p, a, b):
            g = irjax.grad(lambda q: loss(q, a, b, jnp))(p)
            return irjax.tree_util.tree_map(lambda w, d: w - LR * d, p, lax.pmean(g, names))

        return step

    jp = make_problem()[2]
    jgrad = jax.jit(jax.grad(lambda q, a, b: loss(q, a, b, jjnp)))
    for _ in range(5):
        jp = jax.tree_util.tree_map(lambda w, d: w - LR * d, jp, jgrad(jp, xb, yb))
    want = np.concatenate([np.asarray(jp[k]).ravel() for k in sorted(jp)])
    one = irjax.sharding.Mesh(np.array(irjax.local_devices()[:1]), ("p",))
    specs = dict(in_specs=(P(), P("p"), P("p")), out_specs=P(), check_vma=False)
    alone, p1 = irjax.jit(irjax.shard_map(step_over("p"), mesh=one, **specs)), make_problem()[2]
    for _ in range(5):
        p1 = alone(p1, xb, yb)
    single = np.concatenate([np.asarray(p1[k]).ravel() for k in sorted(p1)])
    batch_spec = P(("p", "d")) if L > 1 else P("p")
    meshes = [(mesh, "p", P("p"))] + ([(mesh2, ("p", "d"), batch_spec)] if L > 1 else [])
    for mm, names, bs in meshes:
        train = irjax.jit(
            irjax.shard_map(step_over(names), mesh=mm, in_specs=(P(), bs, bs), out_specs=P(), check_vma=False)
        )
        params = make_problem()[2]
        for _ in range(5):
            params = train(params, xb, yb)
        flat = np.concatenate([np.asarray(params[k]).ravel() for k in sorted(params)])
        every = mh.process_allgather(flat)
        assert all(np.array_equal(every[0], e) for e in every), "ranks differ"
        np.testing.assert_allclose(flat, want, atol=2e-5)  # JAX's full-batch training
        np.testing.assert_allclose(flat, single, atol=2e-5)  # the same program on one device

if L > 1:
    # a (processes, devices) mesh: groups along one axis (sub-groups of the members), in a jit in the
    # body (member threads) and under jit(shard_map) (members batched)
    x2 = np.arange(m * 2, dtype=np.float32).reshape(n, L * 2)
    b2 = x2.reshape(n, L, 2)  # member (i, j)'s block

    def grid(y):
        return np.asarray(mh.process_allgather(y, tiled=True)).reshape(n, L, 2)

    for wrap, to_grid in [
        (lambda sm: sm, grid),
        (irjax.jit, lambda y: np.asarray(y).reshape(n, L, 2)),
    ]:

        def sm2(body):
            return wrap(
                irjax.shard_map(
                    irjax.jit(body), mesh=mesh2, in_specs=P("p", "d"), out_specs=P("p", "d"), check_vma=False
                )
            )

        np.testing.assert_array_equal(
            to_grid(sm2(lambda b: lax.psum(b, "d"))(x2)), b2.sum(1, keepdims=True).repeat(L, 1)
        )
        np.testing.assert_array_equal(
            to_grid(sm2(lambda b: lax.psum(b, "p"))(x2)), b2.sum(0, keepdims=True).repeat(n, 0)
        )
        idx = lambda b: b * 0 + (lax.axis_index("p") * 10 + lax.axis_index("d")).astype(jnp.float32)  # noqa: E731
        both = to_grid(sm2(idx)(x2))
        np.testing.assert_array_equal(both[..., 0], np.arange(n)[:, None] * 10 + np.arange(L)[None, :])

print(f"traced collectives ok ({n} x {L})", flush=True)
