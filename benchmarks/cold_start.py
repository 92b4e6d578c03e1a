"""Cold start: time from a fresh process to the first result of the same function.

    python benchmarks/cold_start.py [--runs 7]

irjax artifact (runtime only) vs irjax jit (warm disk cache) vs JAX jit (retrace + compile)
vs JAX with its persistent compilation cache. Each number is the wall time the parent sees
from spawning the interpreter to reading the result line (the median of --runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

FUNC = """
def f(params, x):
    for w, b in params:
        x = np.tanh(x @ w + b)
    return x.sum()
"""

DATA = """
rng = __import__("numpy").random.default_rng(0)
sizes = [64, 256, 256, 10]
params = [(rng.standard_normal((m, n)).astype("float32") * 0.1, __import__("numpy").zeros(n, "float32"))
          for m, n in zip(sizes[:-1], sizes[1:])]
x = rng.standard_normal((128, 64)).astype("float32")
"""

CASES = {
    "python -c pass (interpreter floor)": "print(0.0)",
    "import numpy, iree.runtime (import floor)": "import numpy, iree.runtime; print(0.0)",
    "irjax artifact: irjax.runtime.load + call": DATA
    + """
import irjax.runtime
print(float(irjax.runtime.load(ART)(params, x)))
""",
    "irjax jit (trace + lower + disk-cached vmfb)": DATA
    + """
import irjax, irjax.numpy as np
"""
    + FUNC
    + """
print(float(irjax.jit(f)(params, x)))
""",
    "jax jit (trace + XLA compile)": DATA
    + """
import jax, jax.numpy as np
"""
    + FUNC
    + """
print(float(jax.jit(f)(params, x)))
""",
    "jax jit + persistent compilation cache (warm)": DATA
    + """
import jax, jax.numpy as np
jax.config.update("jax_compilation_cache_dir", JAXCACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
"""
    + FUNC
    + """
print(float(jax.jit(f)(params, x)))
""",
}


def first_result_time(code: str, env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    p = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    line = p.stdout.readline()
    t = time.perf_counter() - start
    _, err = p.communicate()
    if p.returncode != 0 or not line.strip():
        raise RuntimeError(f"benchmark process failed:\n{err}")
    return t, line.strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        art = os.path.join(d, "f.irjax")
        jaxcache = os.path.join(d, "jaxcache")
        build = (
            DATA + "import irjax, irjax.numpy as np\n" + FUNC + f"irjax.export(irjax.jit(f))(params, x).save({art!r})\n"
        )
        subprocess.run([sys.executable, "-c", build], check=True)
        env = dict(os.environ, JAX_PLATFORMS="cpu")
        results = {}
        for name, body in CASES.items():
            code = f"ART = {art!r}\nJAXCACHE = {jaxcache!r}\n" + textwrap.dedent(body)
            first_result_time(code, env)  # warm the OS file cache, irjax's vmfb cache and JAX's cache
            times, values = [], set()
            for _ in range(args.runs):
                t, v = first_result_time(code, env)
                times.append(t)
                values.add(round(float(v), 3))
            results[name] = (statistics.median(times), min(times), values)
            print(
                f"{name:48s} median {statistics.median(times) * 1e3:7.1f} ms   min {min(times) * 1e3:7.1f} ms   result {sorted(values)}",
                flush=True,
            )
        ours = results["irjax artifact: irjax.runtime.load + call"][0]
        for other in ("jax jit (trace + XLA compile)", "jax jit + persistent compilation cache (warm)"):
            print(f"artifact vs {other}: {results[other][0] / ours:.1f}x faster to first result")


if __name__ == "__main__":
    main()
