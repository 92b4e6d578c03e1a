"""Data-parallel MLP training: run under mpiexec -n N (or alone, N = 1). Each process takes its
N-th of a synthetic batch; gradients are averaged across processes, once through
multihost_utils.process_allgather and once through the host engine's allreduce. Writes each
process's final parameters and losses to OUT/params_{mode}_{rank}.npz.

usage: train_mlp.py OUT [STEPS]"""

import os
import sys

import numpy as np

BATCH, D_IN, HIDDEN, D_OUT, LR = 32, 8, 16, 4, 0.1


def make_problem():
    """The synthetic batch and the initial parameters (NumPy, float32), the same in every process."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH, D_IN)).astype(np.float32)
    y = np.tanh(x @ rng.normal(size=(D_IN, D_OUT))).astype(np.float32)
    init = np.random.default_rng(1)
    params = {
        "w1": (init.normal(size=(D_IN, HIDDEN)) / np.sqrt(D_IN)).astype(np.float32),
        "b1": np.zeros(HIDDEN, np.float32),
        "w2": (init.normal(size=(HIDDEN, D_OUT)) / np.sqrt(HIDDEN)).astype(np.float32),
        "b2": np.zeros(D_OUT, np.float32),
    }
    return x, y, params


def loss(params, x, y, np_):
    h = np_.tanh(x @ params["w1"] + params["b1"])
    return np_.mean((h @ params["w2"] + params["b2"] - y) ** 2)


def main(out: str, steps: int) -> None:
    import irjax
    import irjax.numpy as jnp
    from irjax.experimental import multihost_utils
    from irjax.runtime import host_collectives

    irjax.distributed.initialize()
    rank, n = irjax.process_index(), irjax.process_count()
    x, y, params0 = make_problem()
    if BATCH % n:
        raise ValueError(f"the batch of {BATCH} does not split over {n} processes")
    rows = slice(rank * BATCH // n, (rank + 1) * BATCH // n)
    xs, ys = jnp.asarray(x[rows]), jnp.asarray(y[rows])
    # the source's parameters reach everyone (the others pass zeros of the same shapes)
    start = params0 if rank == 0 else irjax.tree_util.tree_map(np.zeros_like, params0)
    start = multihost_utils.broadcast_one_to_all(start)
    grad_fn = irjax.jit(irjax.value_and_grad(lambda p, a, b: loss(p, a, b, jnp)))
    engine = host_collectives.world()

    def average(tree, mode):
        if mode == "allgather":
            return irjax.tree_util.tree_map(lambda g: g.mean(axis=0), multihost_utils.process_allgather(tree))
        return irjax.tree_util.tree_map(lambda g: engine.allreduce(np.asarray(g), "sum") / np.float32(n), tree)

    for mode in ("allgather", "allreduce"):
        params, losses = start, []
        for _ in range(steps):
            value, grads = grad_fn(params, xs, ys)
            grads = average(grads, mode)
            losses.append(float(engine.allreduce(np.asarray(value), "sum")) / n)
            params = irjax.tree_util.tree_map(lambda p, g: p - LR * jnp.asarray(g), params, grads)
        host = {k: np.asarray(v) for k, v in params.items()}
        np.savez(os.path.join(out, f"params_{mode}_{rank}.npz"), losses=np.array(losses), **host)
    multihost_utils.sync_global_devices("written")
    print(f"rank {rank} of {n}: trained {steps} steps", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 5)
