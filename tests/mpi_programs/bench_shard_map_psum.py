"""Cost of psum through a shard_map over every device of the job (float32, one block per member),
under IRJAX_NUM_CPU_DEVICES=L mpiexec -n N: with L = 1 the one-device-per-process path (one
MPI_Allreduce), with L > 1 the member threads (a rendezvous and one MPI_Allgather). Each eagerly (the collective runs on concrete values), with the psum inside a
jit in the body, and (L = 1) as jit(shard_map) on a global value held by every process (the psum
a host call of the compiled program). Prints, from process 0: bytes per member, best and median
ms of the slowest process.

usage: bench_shard_map_psum.py [REPS]"""

import sys
import time

import irjax
import numpy as np
from irjax import lax
from irjax.runtime import host_collectives
from irjax.sharding import NamedSharding
from irjax.sharding import PartitionSpec as P

irjax.distributed.initialize()
engine = host_collectives.world()
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
m = irjax.device_count()
mesh = irjax.make_mesh((m,), ("x",))


def smap(body):
    return irjax.shard_map(body, mesh=mesh, in_specs=P("x"), out_specs=P(), check_vma=False)


psum = irjax.jit(lambda v: lax.psum(v, "x"))
ways = {"eager": smap(lambda v: lax.psum(v, "x")), "jit in body": smap(lambda v: psum(v))}
if irjax.local_device_count() == 1:
    ways["jit(shard_map)"] = irjax.jit(smap(lambda v: lax.psum(v, "x")))
if engine.rank == 0:
    print(f"processes={engine.size} devices/process={irjax.local_device_count()} members={m}", flush=True)
for (way, f), nbytes in [(w, b) for w in ways.items() for b in (4, 1 << 20)]:
    value = np.ones((m, nbytes // 4), np.float32)
    if way == "jit(shard_map)":
        xs = irjax.device_put(value)  # the global value, on this process's device
    else:
        xs = irjax.device_put(value, NamedSharding(mesh, P("x")))
    f(xs)  # warm-up
    times = []
    for _ in range(reps):
        engine.barrier()
        t0 = time.perf_counter()
        y = f(xs)
        y.block_until_ready()
        times.append(time.perf_counter() - t0)
    assert float(np.asarray(y)[0, 0]) == m
    worst = engine.allreduce(np.array(times), "max")
    if engine.rank == 0:
        label = f"{nbytes >> 20} MB" if nbytes >= 1 << 20 else f"{nbytes} B"
        print(
            f"{way:>14} psum {label:>5}/member: best {worst.min() * 1e3:8.3f} ms  median {np.median(worst) * 1e3:8.3f} ms",
            flush=True,
        )
