"""Weak scaling of a data-parallel MLP training step: irjax over 1, 2, 4 MPI processes (one device
each, mpiexec from the mpich wheel) and JAX over 1, 2, 4 forced CPU devices (jit with a batch
sharding), the batch per process (per device) fixed.

    python benchmarks/mpi_scaling.py [--procs 1 2 4] [--batch 64] [--steps 20]

irjax's step: jit(value_and_grad) on the process's batch, the gradients packed into one buffer and
averaged with the MPI engine's allreduce (irjax.runtime.host_collectives), a jitted SGD update.
Also the same step written as a shard_map over the process mesh (lax.pmean inside). Per process:
steps/s (median step), the share of the step spent in the allreduce, and samples/s of the job.
With one process the mesh is local, so shard_map takes the in-process (vmap) path, which traces
and transforms the body on every call. JAX: jit(grad + SGD) over the batch sharded on N devices
of XLA's CPU client (XLA inserts the all-reduce). The machine's load average is printed beside
each row: on a shared machine it moves the numbers more than anything.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

D_IN, HIDDEN, D_OUT, LR = 256, 512, 10, 0.01
HERE = os.path.abspath(__file__)


def make_problem(rows: int, seed: int):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, D_IN)).astype(np.float32)
    y = np.eye(D_OUT, dtype=np.float32)[rng.integers(0, D_OUT, rows)]
    init = np.random.default_rng(1)
    params = [
        (init.normal(size=(D_IN, HIDDEN)) / np.sqrt(D_IN)).astype(np.float32),
        np.zeros(HIDDEN, np.float32),
        (init.normal(size=(HIDDEN, D_OUT)) / np.sqrt(HIDDEN)).astype(np.float32),
        np.zeros(D_OUT, np.float32),
    ]
    return x, y, params


def make_loss(jnp):
    def loss(params, x, y):
        w1, b1, w2, b2 = params
        h = jnp.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        logits = logits - jnp.max(logits, axis=1, keepdims=True)
        return -jnp.mean(jnp.sum(y * (logits - jnp.log(jnp.sum(jnp.exp(logits), axis=1, keepdims=True))), axis=1))

    return loss


def _median_ms(ts: list[float]) -> float:
    return 1e3 * statistics.median(ts)


# ---- irjax, one process of the job ------------------------------------------------------------------


def irjax_worker(batch: int, steps: int) -> None:
    import irjax
    import irjax.numpy as jnp
    from irjax import lax
    from irjax.runtime import host_collectives as hc
    from irjax.sharding import NamedSharding
    from irjax.sharding import PartitionSpec as P

    irjax.distributed.initialize()
    rank, n = irjax.process_index(), irjax.process_count()
    engine = hc.world()
    x, y, params = make_problem(batch, seed=rank)
    loss = make_loss(jnp)
    grad_fn = irjax.jit(irjax.value_and_grad(loss))
    update = irjax.jit(lambda p, g: [a - LR * b for a, b in zip(p, g)])
    shapes = [p.shape for p in params]
    sizes = [int(np.prod(s)) for s in shapes]

    def step(p):
        value, grads = grad_fn(p, x, y)
        t0 = time.perf_counter()
        flat = np.concatenate([np.asarray(g).reshape(-1) for g in grads])
        avg = engine.allreduce(flat, "sum") / np.float32(n)
        t_ar = time.perf_counter() - t0
        parts = np.split(avg, np.cumsum(sizes)[:-1])
        return update(p, [a.reshape(s) for a, s in zip(parts, shapes)]), t_ar

    p = [jnp.asarray(a) for a in params]
    for _ in range(3):
        p, _ = step(p)
    irjax.block_until_ready(p)
    times, ar = [], []
    for _ in range(steps):
        engine.barrier()  # every step starts together: the slowest process sets the pace anyway
        t0 = time.perf_counter()
        p, t_ar = step(p)
        irjax.block_until_ready(p)
        times.append(time.perf_counter() - t0)
        ar.append(t_ar)

    # the same step as a shard_map over the process mesh (the batch a global array split over 'p')
    mesh = irjax.make_mesh((n,), ("p",))

    def body(p, xb, yb):
        _, grads = grad_fn(p, xb, yb)
        return update(p, lax.pmean(grads, "p"))

    smap = irjax.shard_map(body, mesh=mesh, in_specs=(P(), P("p"), P("p")), out_specs=P(), check_vma=False)
    gx = np.concatenate(engine.allgather(x)) if n > 1 else x
    gy = np.concatenate(engine.allgather(y)) if n > 1 else y
    xs, ys = (irjax.device_put(a, NamedSharding(mesh, P("p"))) for a in (gx, gy))
    q = [jnp.asarray(a) for a in params]
    for _ in range(3):
        q = smap(q, xs, ys)
    sm = []
    for _ in range(steps):
        engine.barrier()
        t0 = time.perf_counter()
        q = smap(q, xs, ys)
        irjax.block_until_ready(q)
        sm.append(time.perf_counter() - t0)

    mine = {"step_ms": _median_ms(times), "allreduce_ms": _median_ms(ar), "smap_ms": _median_ms(sm)}
    every = engine.allgather_object(mine)
    if rank == 0:
        slowest = {k: max(e[k] for e in every) for k in mine}
        print("RESULT " + json.dumps({"n": n, **slowest, "grad_bytes": 4 * sum(sizes)}), flush=True)


# ---- JAX on N forced CPU devices ----------------------------------------------------------------------


def jax_worker(batch: int, steps: int) -> None:
    import jax
    import jax.numpy as jjnp
    from jax.sharding import AxisType, NamedSharding
    from jax.sharding import PartitionSpec as P

    n = jax.local_device_count()
    loss = make_loss(jjnp)
    mesh = jax.make_mesh((n,), ("b",), axis_types=(AxisType.Auto,))

    @jax.jit
    def step(p, x, y):  # the mean over the global batch: XLA all-reduces the gradients
        return [a - LR * g for a, g in zip(p, jax.grad(loss)(p, x, y))]

    xs, ys = zip(*[make_problem(batch, seed=r)[:2] for r in range(n)])
    x = jax.device_put(np.concatenate(xs), NamedSharding(mesh, P("b")))
    y = jax.device_put(np.concatenate(ys), NamedSharding(mesh, P("b")))
    p = jax.device_put(make_problem(batch, 0)[2], NamedSharding(mesh, P()))
    for _ in range(3):
        p = step(p, x, y)
    jax.block_until_ready(p)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        p = step(p, x, y)
        jax.block_until_ready(p)
        times.append(time.perf_counter() - t0)
    print("RESULT " + json.dumps({"n": n, "step_ms": _median_ms(times)}), flush=True)


# ---- the driver ---------------------------------------------------------------------------------------


def _result(cmd: list[str], env: dict, timeout: float) -> dict:
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--batch", type=int, default=64, help="rows per process (per device for JAX)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--worker", choices=("irjax", "jax"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker == "irjax":
        return irjax_worker(args.batch, args.steps)
    if args.worker == "jax":
        return jax_worker(args.batch, args.steps)

    sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
    from irjax import distributed

    mpiexec = distributed.mpiexec_path()
    base = {k: v for k, v in os.environ.items() if k not in ("IRJAX_NUM_CPU_DEVICES", "XLA_FLAGS")}
    worker = [sys.executable, HERE, "--batch", str(args.batch), "--steps", str(args.steps), "--worker"]
    print(
        f"MLP {D_IN}-{HIDDEN}-{D_OUT}, {args.batch} rows per process/device, median of {args.steps} steps; "
        f"{os.cpu_count()} CPU cores"
    )
    head = (
        "| N | irjax step ms | steps/s per process | allreduce ms (share) | job samples/s | shard_map step ms "
        "| JAX step ms | JAX samples/s | load (1/5/15 min) |"
    )
    print(head)
    print("|" + "---|" * 9)
    for n in args.procs:
        load = _load()
        ours = _result([mpiexec, "-n", str(n), *worker, "irjax"], base, timeout=600)
        env = dict(base, XLA_FLAGS=f"--xla_force_host_platform_device_count={n}", JAX_PLATFORMS="cpu")
        theirs = _result([*worker, "jax"], env, timeout=600)
        share = ours["allreduce_ms"] / ours["step_ms"]
        print(
            f"| {n} | {ours['step_ms']:.2f} | {1e3 / ours['step_ms']:.1f} | {ours['allreduce_ms']:.2f} ({share:.0%}) "
            f"| {n * args.batch * 1e3 / ours['step_ms']:.0f} | {ours['smap_ms']:.2f} | {theirs['step_ms']:.2f} "
            f"| {n * args.batch * 1e3 / theirs['step_ms']:.0f} | {load} |",
            flush=True,
        )
    print(f"gradients allreduced per step: {ours['grad_bytes'] / 1e6:.2f} MB (float32)")


if __name__ == "__main__":
    main()
