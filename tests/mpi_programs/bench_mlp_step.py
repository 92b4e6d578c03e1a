"""One data-parallel MLP step (train_mlp.py's problem) through a shard_map over processes, two
ways: eagerly (jit(grad) in the body, pmean of the gradients on concrete values) and the JAX way,
jit(shard_map(grad + pmean)) with the pmean a host call of the compiled step. Run under
mpiexec -n N (IRJAX_NUM_CPU_DEVICES=L: a mesh over all N x L devices). Prints, from process 0, best and median ms of the slowest
process over REPS steps.

usage: bench_mlp_step.py [REPS]"""

import sys
import time

import irjax
import irjax.numpy as jnp
import numpy as np
from irjax import lax
from irjax.runtime import host_collectives
from irjax.sharding import NamedSharding
from irjax.sharding import PartitionSpec as P
from train_mlp import LR, loss, make_problem

irjax.distributed.initialize()
engine = host_collectives.world()
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
mesh = irjax.make_mesh((irjax.device_count(),), ("p",))
x, y, params = make_problem()
grad_fn = irjax.jit(irjax.grad(lambda q, a, b: loss(q, a, b, jnp)))


def step(p, a, b):
    return irjax.tree_util.tree_map(lambda w, d: w - LR * d, p, lax.pmean(grad_fn(p, a, b), "p"))


specs = dict(mesh=mesh, in_specs=(P(), P("p"), P("p")), out_specs=P(), check_vma=False)
eager = irjax.shard_map(step, **specs)
traced = irjax.jit(irjax.shard_map(step, **specs))
xs, ys = (irjax.device_put(v, NamedSharding(mesh, P("p"))) for v in (x, y))
args = {"eager shard_map": (eager, xs, ys), "jit(shard_map)": (traced, irjax.device_put(x), irjax.device_put(y))}
for name, (f, a, b) in args.items():
    p = irjax.tree_util.tree_map(irjax.device_put, params)
    f(p, a, b)  # warm-up (compiles)
    times = []
    for _ in range(reps):
        engine.barrier()
        t0 = time.perf_counter()
        p = f(p, a, b)
        irjax.block_until_ready(p)
        times.append(time.perf_counter() - t0)
    worst = engine.allreduce(np.array(times), "max")
    if engine.rank == 0:
        print(
            f"{name:>16} MLP step: best {worst.min() * 1e3:7.3f} ms  median {np.median(worst) * 1e3:7.3f} ms",
            flush=True,
        )
