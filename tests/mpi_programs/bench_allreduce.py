"""Cost of the host engine's allreduce (float32 sum), run under mpiexec -n N or alone (the
one-process engine, a copy). Prints, from process 0: size, best and median seconds over reps.

usage: bench_allreduce.py [REPS]"""

import sys
import time

import numpy as np

t_start = time.perf_counter()
import irjax  # noqa: E402
from irjax.runtime import host_collectives  # noqa: E402

irjax.distributed.initialize()
t_init = time.perf_counter() - t_start
engine = host_collectives.world()
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
if engine.rank == 0:
    print(f"processes={engine.size} engine={type(engine).__name__} import+initialize={t_init:.3f}s", flush=True)
for nbytes in (4, 1 << 20, 64 << 20):
    x = np.full(nbytes // 4, engine.rank + 1, np.float32)
    engine.allreduce(x, "sum")  # warm-up (buffers, connections)
    times = []
    for _ in range(reps if nbytes > 4 else 10 * reps):
        engine.barrier()
        t0 = time.perf_counter()
        y = engine.allreduce(x, "sum")
        times.append(time.perf_counter() - t0)
    assert y[0] == engine.size * (engine.size + 1) / 2
    worst = engine.allreduce(np.array(times), "max")  # the slowest process decides
    if engine.rank == 0:
        label = f"{nbytes >> 20} MB" if nbytes >= 1 << 20 else f"{nbytes} B"
        print(
            f"allreduce {label:>6}: best {worst.min() * 1e3:8.3f} ms  median {np.median(worst) * 1e3:8.3f} ms",
            flush=True,
        )
