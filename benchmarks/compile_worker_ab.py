"""In-process compile vs the compile worker (runtime/compile_worker.py), alternating A/B in fresh processes.

    python benchmarks/compile_worker_ab.py --rounds 4

Each child process starts with an empty cache and measures (1) the MLP value_and_grad first call
and (2) a batch of 50 small compiles (a reduction jitted for 50 shapes). CPU time counts the child
and its live compile workers (/proc), so work moved to the worker is not hidden.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

CHILD = textwrap.dedent(
    """
    import json, os, time
    import numpy as np
    import irjax
    import irjax.numpy as jnp
    from irjax.runtime import compiler, compile_worker
    from first_call_phases import mlp_case

    def cpu():
        own = time.process_time()
        ticks = os.sysconf("SC_CLK_TCK")
        for w in (compile_worker._pool[0]._all if compile_worker._pool else ()):
            with open(f"/proc/{w.proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            own += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return own

    def timed(fn):
        w, c = time.perf_counter(), cpu()
        fn()
        return time.perf_counter() - w, cpu() - c

    f, args = mlp_case()
    irjax.block_until_ready(args)
    mlp = timed(lambda: irjax.block_until_ready(f(*args)))
    n0 = compiler.stats["compiles"]

    @irjax.jit
    def g(x):
        return jnp.sum(jnp.tanh(x) * 2.0, axis=0)

    xs = [np.ones((n % 7 + 2, n + 3), np.float32) for n in range(50)]
    batch = timed(lambda: [irjax.block_until_ready(g(x)) for x in xs])
    print(json.dumps({"mlp": mlp, "batch": batch, "batch_compiles": compiler.stats["compiles"] - n0}))
    """
)


def run_child(worker: bool) -> dict:
    env = dict(os.environ, IRJAX_COMPILE_WORKER="1" if worker else "0", IRJAX_DISABLE_CACHE="1")
    env["IRJAX_CACHE_DIR"] = tempfile.mkdtemp(prefix="irjax-ab-")
    env["PYTHONPATH"] = os.path.dirname(os.path.abspath(__file__)) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=4)
    rounds = ap.parse_args().rounds
    rows = {False: [], True: []}
    for r in range(rounds):
        for worker in (False, True) if r % 2 == 0 else (True, False):
            res = run_child(worker)
            rows[worker].append(res)
            load = os.getloadavg()[0]
            print(
                f"round {r} {'worker    ' if worker else 'in-process'} load {load:.1f}: "
                f"MLP first call {res['mlp'][0]:.2f} s wall {res['mlp'][1]:.2f} s CPU; "
                f"{res['batch_compiles']} compiles {res['batch'][0]:.2f} s wall {res['batch'][1]:.2f} s CPU",
                flush=True,
            )
    for key in ("mlp", "batch"):
        for i, what in ((0, "wall"), (1, "CPU")):
            a = sorted(x[key][i] for x in rows[False])
            b = sorted(x[key][i] for x in rows[True])
            med = lambda v: v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2  # noqa: E731
            paired = sorted(w[key][i] / p[key][i] for p, w in zip(rows[False], rows[True]))
            print(
                f"{key} {what}: in-process median {med(a):.2f} s, worker {med(b):.2f} s; "
                f"worker / in-process per round: median {med(paired):.3f}, range {paired[0]:.3f}-{paired[-1]:.3f}"
            )


if __name__ == "__main__":
    main()
