"""In-process compile vs the compile worker (runtime/compile_worker.py), alternating A/B.

    python benchmarks/compile_worker_ab.py --rounds 4            # fresh processes: first calls
    python benchmarks/compile_worker_ab.py --paired              # one process: the same modules both ways

Fresh processes (empty cache, alternating order) measure the MLP value_and_grad first call and,
with --batch, 50 small compiles (a reduction jitted for 50 shapes): worker start-up included.
--paired compiles the MLP's and those 50 modules' StableHLO both ways in one process (a warm
worker), alternating which goes first. CPU time counts this process and its live compile
workers (/proc), so work moved into a worker is not hidden; the machine may be loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

COMMON = """
import json, os, time
import numpy as np
import irjax
import irjax.numpy as jnp
from irjax import dispatch
from irjax.runtime import compiler, compile_worker
from irjax.runtime.device import default_device
from first_call_phases import mlp_case


def cpu():
    total = time.process_time()
    ticks = os.sysconf("SC_CLK_TCK")
    for w in list(compile_worker._pool[0]._all) if compile_worker._pool else ():
        with open(f"/proc/{w.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def timed(fn):
    w, c = time.perf_counter(), cpu()
    fn()
    return time.perf_counter() - w, cpu() - c


@irjax.jit
def g(x):
    return jnp.sum(jnp.tanh(x) * 2.0, axis=0)


SHAPES = [(n % 7 + 2, n + 3) for n in range(50)]
"""

FRESH = """
f, args = mlp_case()
irjax.block_until_ready(args)
res = {"mlp": timed(lambda: irjax.block_until_ready(f(*args)))}
if BATCH:
    n0 = compiler.stats["compiles"]
    xs = [np.ones(s, np.float32) for s in SHAPES]
    res["batch"] = timed(lambda: [irjax.block_until_ready(g(x)) for x in xs])
    res["batch_compiles"] = compiler.stats["compiles"] - n0
print(json.dumps(res))
"""

PAIRED = """
dev = default_device()


def hlo_of(fn, args):
    tr = fn._trace(args, {})[0]
    return dispatch._lower_text(str(tr.module), tr.fname, dev)


f, args = mlp_case()
texts = [hlo_of(f, args)] + [hlo_of(g, (np.ones(s, np.float32),)) for s in SHAPES]
assert len(set(texts)) == len(texts)
texts = texts[:1] * MLP_REPEATS + texts[1:]
flags = list(dev.compile_flags)
compiler.compile_stablehlo(texts[1], dev.target, flags, fresh=True)  # start the worker (its start-up is not counted)
os.environ["IRJAX_COMPILE_WORKER"] = "0"
compiler.compile_stablehlo(texts[1], dev.target, flags, fresh=True)  # and this process's first session
rows = []
for i, text in enumerate(texts):
    row = {}
    for mode in ("1", "0") if i % 2 else ("0", "1"):
        os.environ["IRJAX_COMPILE_WORKER"] = mode
        row[mode] = timed(lambda: compiler.compile_stablehlo(text, dev.target, flags, fresh=True))
    rows.append(row)
print(json.dumps(rows))
"""


def child(code: str, env_extra: dict) -> str:
    env = dict(os.environ, IRJAX_DISABLE_CACHE="1", **env_extra)
    env["IRJAX_CACHE_DIR"] = tempfile.mkdtemp(prefix="irjax-ab-")
    env["PYTHONPATH"] = os.path.dirname(os.path.abspath(__file__)) + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def med(v: list) -> float:
    v = sorted(v)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def fresh(rounds: int, batch: bool) -> None:
    code = COMMON + f"BATCH = {batch}\n" + FRESH
    rows = {False: [], True: []}
    for r in range(rounds):
        for worker in (False, True) if r % 2 == 0 else (True, False):
            res = json.loads(child(code, {"IRJAX_COMPILE_WORKER": "1" if worker else "0"}))
            rows[worker].append(res)
            line = f"round {r} {'worker    ' if worker else 'in-process'} load {os.getloadavg()[0]:.1f}: "
            line += f"MLP first call {res['mlp'][0]:.2f} s wall {res['mlp'][1]:.2f} s CPU"
            if batch:
                line += f"; {res['batch_compiles']} compiles {res['batch'][0]:.2f} s wall {res['batch'][1]:.2f} s CPU"
            print(line, flush=True)
    for key in ("mlp", "batch") if batch else ("mlp",):
        for i, what in ((0, "wall"), (1, "CPU")):
            a = [x[key][i] for x in rows[False]]
            b = [x[key][i] for x in rows[True]]
            paired = sorted(w[key][i] / p[key][i] for p, w in zip(rows[False], rows[True]))
            print(
                f"{key} {what}: in-process median {med(a):.2f} s, worker {med(b):.2f} s; "
                f"worker / in-process per round: median {med(paired):.3f}, range {paired[0]:.3f}-{paired[-1]:.3f}"
            )


def paired(mlp_repeats: int) -> None:
    t0 = time.perf_counter()
    rows = json.loads(child(COMMON + f"MLP_REPEATS = {mlp_repeats}\n" + PAIRED, {}))
    k = mlp_repeats
    for name, part in ((f"MLP module x{k}", rows[:k]), ("50 small modules", rows[k:])):
        for i, what in ((0, "wall"), (1, "CPU")):
            a = sum(r["0"][i] for r in part)
            b = sum(r["1"][i] for r in part)
            print(f"{name} {what}: in-process {a:.2f} s, worker {b:.2f} s, worker / in-process {b / a:.3f}")
    ratios = sorted(r["1"][1] / r["0"][1] for r in rows[:k])
    print(f"per MLP compile CPU ratio: {', '.join(f'{x:.3f}' for x in ratios)}")
    ratios = sorted(r["1"][1] / r["0"][1] for r in rows[k:])
    print(f"per small module CPU ratio: median {med(ratios):.3f}, quartiles {ratios[12]:.3f}-{ratios[37]:.3f}")
    print(f"({time.perf_counter() - t0:.0f} s, load {os.getloadavg()[0]:.1f})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--batch", action="store_true", help="fresh processes also compile 50 small modules")
    ap.add_argument("--paired", action="store_true", help="one process, the same modules compiled both ways")
    ap.add_argument("--mlp-repeats", type=int, default=1, help="with --paired: compile the MLP module this many times")
    a = ap.parse_args()
    paired(a.mlp_repeats) if a.paired else fresh(a.rounds, a.batch)


if __name__ == "__main__":
    main()
