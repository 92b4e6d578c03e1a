"""irjax beside JAX, in one run: call overhead, jit, eager ops, vmap, an MLP step, cold processes.

    python benchmarks/run.py            # prints a table, writes benchmarks/results.md
    python benchmarks/run.py --quick    # fewer repeats
    python benchmarks/run.py --platform cuda   # irjax and JAX on the GPU -> benchmarks/results-cuda.md

Each in-process time is the median of several repeats (each repeat averages a batch of calls)
after warm-up. Ratios are irjax/JAX: lower is better. irjax's in-process cases use a fresh,
empty compile cache, so first-call times include IREE compilation.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TUTORIAL = REPO / "examples" / "thinking_in_jax.py"

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--quick", action="store_true", help="fewer repeats, one cold/warm tutorial run each")
parser.add_argument("--repeats", type=int, default=None, help="timed repeats per case (median is reported)")
parser.add_argument("--out", default=str(REPO / "benchmarks" / "results.md"), help="markdown results file")
parser.add_argument("--no-cold", action="store_true", help="skip the cold-process cases")
parser.add_argument("--only", default="", help="comma-separated case names to run (e.g. matmul,scan,eager_index)")
parser.add_argument(
    "--platform",
    default="cpu",
    choices=["cpu", "cuda", "vulkan"],
    help="irjax's device (IRJAX_PLATFORMS); JAX runs on the same GPU for cuda, on the CPU otherwise",
)
args = parser.parse_args()
ON_GPU = args.platform != "cpu"
if args.out == parser.get_default("out") and ON_GPU:
    args.out = str(REPO / "benchmarks" / f"results-{args.platform}.md")
# before irjax and JAX pick their devices; JAX has no Vulkan backend (it runs on the CPU then)
os.environ["IRJAX_PLATFORMS"] = args.platform
os.environ.setdefault("JAX_PLATFORMS", "cuda" if args.platform == "cuda" else "cpu")
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # leave GPU memory to IREE as well
# the bounds on the GPU (irjax/JAX time); a 4096^2 matmul at >= 50% of JAX's FLOP/s is <= 2x
GPU_TARGETS = {
    "jit call, tiny function (x+1, scalar)": 1.5,
    "MLP 784-512-512-10 b128 jit(value_and_grad) step": 2.0,
    "4096^2 f32 matmul (jit)": 2.0,
}
REPEATS = args.repeats or (5 if args.quick else 9)
PROC_REPEATS = 1 if args.quick else 3

_cache_root = tempfile.mkdtemp(prefix="irjax-bench-")
os.environ["IRJAX_CACHE_DIR"] = os.path.join(_cache_root, "inproc")  # before irjax compiles anything

import irjax  # noqa: E402
import irjax.numpy as ijnp  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jjnp  # noqa: E402

FW = {"irjax": (irjax, ijnp), "jax": (jax, jjnp)}
rows: list[dict] = []
_case_load = [0.0]  # the 1-minute load average when the current case started (shared machine)


# ---------------------------------------------------------------- timing helpers


def bench(fn, repeats: int = REPEATS, min_batch_s: float = 0.02, max_batch: int = 2000) -> float:
    """Median seconds per call: warm up, size a batch to ~min_batch_s, time `repeats` batches."""
    for _ in range(3):
        fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    n = int(min(max_batch, max(1, min_batch_s / one)))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)


def once(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def fmt_t(s: float | None) -> str:
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def row(
    case: str,
    irjax_s,
    jax_s,
    target: float | None = None,
    note: str = "",
    ratio=None,
    target_text=None,
    failed: bool = False,
):
    """One table line; ratio defaults to irjax/JAX; target is the issue's bound on that ratio."""
    if ON_GPU:
        target = GPU_TARGETS.get(case, target)
    if ratio is None and irjax_s is not None and jax_s:
        ratio = irjax_s / jax_s
    status = ""
    if failed:
        status = "FAILED"
    elif target is not None and ratio is not None:
        status = "ok" if ratio <= target else "MISS"
    r = dict(
        load=_case_load[0],
        case=case,
        irjax=irjax_s,
        jax=jax_s,
        ratio=ratio,
        target=target_text or (f"<= {target:g}x" if target else ""),
        status=status,
        note=note,
    )
    rows.append(r)
    print(
        f"  {case:<44} irjax {fmt_t(irjax_s):>10}  jax {fmt_t(jax_s):>10}  "
        f"ratio {'-' if ratio is None else f'{ratio:.2f}x':>7}  {r['target']:>9} {status} load {r['load']:.1f} {note}",
        flush=True,
    )


def both(make, repeats: int = REPEATS, min_batch_s: float = 0.02, max_batch: int = 2000):
    """{fw: median seconds per call} for a case built by make(jax_module, numpy_module) ->
    zero-arg callable. Batches of irjax and JAX alternate, so a noisy spell of this shared VM
    hits both sides rather than whichever ran during it."""
    fns = {name: make(*mods) for name, mods in FW.items()}
    sizes = {}
    for name, fn in fns.items():
        for _ in range(3):
            fn()
        t0 = time.perf_counter()
        fn()
        sizes[name] = int(min(max_batch, max(1, min_batch_s / max(time.perf_counter() - t0, 1e-7))))
    times = {name: [] for name in fns}
    for _ in range(max(repeats, 7)):
        for name, fn in fns.items():
            n = sizes[name]
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            times[name].append((time.perf_counter() - t0) / n)
    return {name: statistics.median(ts) for name, ts in times.items()}


# ---------------------------------------------------------------- in-process cases


def case_tiny_jit():
    def make(jx, np_):
        f = jx.jit(lambda x: x + 1)
        x = np_.asarray(np.float32(1.0))
        return lambda: f(x).block_until_ready()

    t = both(make)
    row("jit call, tiny function (x+1, scalar)", t["irjax"], t["jax"], 1.2)


def norm(X):
    X = X - X.mean(0)
    return X / X.std(0)


def case_norm():
    np.random.seed(1701)
    Xn = np.random.rand(10000, 10)
    jits = {}

    def make_jit(jx, np_):
        X, f = np_.array(Xn), jx.jit(norm)
        jits[jx.__name__] = f
        return lambda: f(X).block_until_ready()

    def make_eager(jx, np_):
        X = np_.array(Xn)
        return lambda: norm(X).block_until_ready()

    t_jit, t_eager = both(make_jit), both(make_eager)
    row("jit(norm), 10000x10", t_jit["irjax"], t_jit["jax"], 1.5)
    row("norm op by op (eager), 10000x10", t_eager["irjax"], t_eager["jax"], 1.5)
    row(
        "irjax: op-by-op norm / jit(norm)",
        t_eager["irjax"],
        None,
        ratio=t_eager["irjax"] / t_jit["irjax"],
        note=f"ratio within irjax (jit {fmt_t(t_jit['irjax'])}); JAX's own: {t_eager['jax'] / t_jit['jax']:.2f}x",
    )


def case_eager_sin():
    def make(jx, np_):
        x = np_.array(np.linspace(0, 10, 1000, dtype=np.float32))
        return lambda: np_.sin(x).block_until_ready()

    t = both(make)
    row("eager jnp.sin, 1000 floats (warm cache)", t["irjax"], t["jax"], 2.0)


def case_vmap():
    rng = np.random.default_rng(1701)
    matn = rng.standard_normal((150, 100), dtype=np.float32)
    bxn = rng.standard_normal((10, 100), dtype=np.float32)
    t = {}
    for name, (jx, np_) in FW.items():
        mat, bx = np_.array(matn), np_.array(bxn)

        def apply_matrix(x):
            return np_.dot(mat, x)

        def naive(v_batched):
            return np_.stack([apply_matrix(v) for v in v_batched])

        manual = jx.jit(lambda b: np_.dot(b, mat.T))
        auto = jx.jit(lambda b: jx.vmap(apply_matrix)(b))
        np.testing.assert_allclose(np.asarray(naive(bx)), np.asarray(auto(bx)), atol=1e-4, rtol=1e-4)
        np.testing.assert_allclose(np.asarray(manual(bx)), np.asarray(auto(bx)), atol=1e-4, rtol=1e-4)
        t[name] = {
            "naive": bench(lambda: naive(bx).block_until_ready()),
            "manual": bench(lambda: manual(bx).block_until_ready()),
            "vmap": bench(lambda: auto(bx).block_until_ready()),
        }
    row("vmap tutorial: naively batched", t["irjax"]["naive"], t["jax"]["naive"])
    row("vmap tutorial: manually batched (jit)", t["irjax"]["manual"], t["jax"]["manual"])
    row("vmap tutorial: jit(vmap)", t["irjax"]["vmap"], t["jax"]["vmap"], 1.5)
    r = t["irjax"]["vmap"] / t["irjax"]["manual"]
    row(
        "irjax: jit(vmap) / manual jit",
        t["irjax"]["vmap"],
        None,
        1.2,
        ratio=r,
        note=f"ratio within irjax (manual {fmt_t(t['irjax']['manual'])}); JAX's own: "
        f"{t['jax']['vmap'] / t['jax']['manual']:.2f}x",
    )


def _mlp_problem(jx, np_, seed=0):
    """(jit(value_and_grad(loss)), params, x, y) of the MLP 784-512-512-10, batch 128."""
    rng = np.random.default_rng(seed)
    sizes = [784, 512, 512, 10]
    params = [
        (
            np_.array(rng.standard_normal((m, n), dtype=np.float32) * np.float32(np.sqrt(2.0 / m))),
            np_.array(np.zeros(n, np.float32)),
        )
        for m, n in zip(sizes[:-1], sizes[1:])
    ]
    x = np_.array(rng.standard_normal((128, 784), dtype=np.float32))
    y = np_.array(np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)])

    def loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = np_.maximum(np_.dot(h, w) + b, 0.0)
        w, b = params[-1]
        logits = np_.dot(h, w) + b
        m = np_.max(logits, axis=1, keepdims=True)
        logp = logits - m - np_.log(np_.sum(np_.exp(logits - m), axis=1, keepdims=True))
        return -np_.mean(np_.sum(logp * y, axis=1))

    return jx.jit(jx.value_and_grad(loss)), params, x, y


_mlp_first: dict = {}  # JAX's first call, for the tiered case


def case_mlp():
    first, steps, losses = {}, {}, {}
    for name, (jx, np_) in FW.items():
        f, params, x, y = _mlp_problem(jx, np_)
        first[name] = once(lambda: jx.block_until_ready(f(params, x, y)))
        losses[name] = float(f(params, x, y)[0])
        steps[name] = (lambda jx, f, params, x, y: lambda: jx.block_until_ready(f(params, x, y)))(jx, f, params, x, y)
    step = both(lambda jx, np_: steps["irjax" if jx is irjax else "jax"])
    assert abs(losses["irjax"] - losses["jax"]) < 1e-3 * max(1.0, abs(losses["jax"])), losses
    _mlp_first.update(first)
    row("MLP 784-512-512-10 b128 jit(value_and_grad) step", step["irjax"], step["jax"], 1.1)
    row("MLP first call (trace+passes+compile)", first["irjax"], first["jax"], 3.0, note="empty irjax cache")


def _fresh_irjax_cache() -> None:
    """Empty disk and memory caches: the next trace of a function compiled before compiles again."""
    from irjax import dispatch
    from irjax.runtime import compiler

    os.environ["IRJAX_CACHE_DIR"] = tempfile.mkdtemp(dir=_cache_root)
    compiler.forget_memory_cache()
    dispatch._exe_cache.clear()  # (executables by jx text and by StableHLO text)
    dispatch._hlo_cache.clear()


def case_mlp_tiered(n_steps: int = 30):
    """The MLP's first call and its first n_steps with `irjax_tiered_compile` on and off, each from
    an empty cache; the compile of the first of them runs in the background when on."""
    jax_first = _mlp_first.get("jax")
    if jax_first is None:
        f, params, x, y = _mlp_problem(jax, jjnp, seed=1)
        jax_first = once(lambda: jax.block_until_ready(f(params, x, y)))
    first, total, loss = {}, {}, {}
    for mode in (True, False):
        _fresh_irjax_cache()
        irjax.config.update("irjax_tiered_compile", mode)
        try:
            f, params, x, y = _mlp_problem(irjax, ijnp, seed=2)
            t0 = time.perf_counter()
            out = f(params, x, y)
            irjax.block_until_ready(out)
            first[mode] = time.perf_counter() - t0
            loss[mode] = float(out[0])
            for _ in range(n_steps - 1):
                out = f(params, x, y)
            irjax.block_until_ready(out)
            total[mode] = time.perf_counter() - t0
        finally:
            irjax.config.update("irjax_tiered_compile", False)
    assert abs(loss[True] - loss[False]) < 1e-5 * max(1.0, abs(loss[False])), loss
    row("MLP first call, tiered compile (opt-in)", first[True], jax_first, 3.0, note="empty irjax cache")
    row(
        f"irjax: MLP first {n_steps} steps, tiered / not",
        total[True],
        None,
        ratio=total[True] / total[False],
        note=f"not tiered: first call {fmt_t(first[False])}, {n_steps} steps {fmt_t(total[False])}",
    )


def case_matmul():
    rng = np.random.default_rng(0)
    n = 4096 if ON_GPU else 2048
    an = rng.standard_normal((n, n), dtype=np.float32)
    bn = rng.standard_normal((n, n), dtype=np.float32)

    def make(jx, np_):
        a, b = np_.array(an), np_.array(bn)
        f = jx.jit(lambda a, b: a @ b)
        return lambda: f(a, b).block_until_ready()

    t = both(make, repeats=5, min_batch_s=0.2)
    flops = 2 * n**3
    row(
        f"{n}^2 f32 matmul (jit)",
        t["irjax"],
        t["jax"],
        1.1,
        note=f"irjax {flops / t['irjax'] / 1e9:.0f} GFLOP/s, JAX {flops / t['jax'] / 1e9:.0f} GFLOP/s",
    )


def case_reductions():
    """Long reductions under jit: a 1M-float sum, a dot of two 1M vectors, a norm, (x - mean) / std;
    column sums of a 4096x1024 matrix; and transcendental math over 1M floats (tanh, sin)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(1 << 20).astype(np.float32)
    y = rng.standard_normal(1 << 20).astype(np.float32)
    m = rng.standard_normal((4096, 1024)).astype(np.float32)
    cases = {
        "jit sum, 1M f32": (lambda np_: np_.sum, [x]),
        "jit dot of two 1M f32 vectors": (lambda np_: np_.dot, [x, y]),
        "jit norm (sqrt of sum of squares), 1M f32": (lambda np_: np_.linalg.norm, [x]),
        "jit (x - mean) / std, 1M f32": (lambda np_: lambda x: (x - x.mean()) / x.std(), [x]),
        "jit column sums x.sum(0), 4096x1024 f32": (lambda np_: lambda x: x.sum(0), [m]),
        "jit tanh, 1M f32": (lambda np_: np_.tanh, [x]),
        "jit sin, 1M f32": (lambda np_: np_.sin, [x]),
    }
    for name, (fn, host_args) in cases.items():

        def make(jx, np_, fn=fn, host_args=host_args):
            args = [np_.array(a) for a in host_args]
            f = jx.jit(fn(np_))
            return lambda: f(*args).block_until_ready()

        t = both(make, min_batch_s=0.05)
        row(name, t["irjax"], t["jax"])


def case_batched_matmul():
    """jit einsum bij,bjk->bik at 8x512^3 in float32 and in float64 (x64 on for both sides)."""
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        an = rng.standard_normal((8, 512, 512)).astype(dt)
        bn = rng.standard_normal((8, 512, 512)).astype(dt)

        def make(jx, np_, an=an, bn=bn):
            x64 = jx.enable_x64
            with x64(True):
                a, b = np_.array(an), np_.array(bn)
                f = jx.jit(lambda a, b: np_.einsum("bij,bjk->bik", a, b))

            def call():
                with x64(True):
                    return f(a, b).block_until_ready()

            return call

        t = both(make, repeats=5, min_batch_s=0.1)
        flops = 2 * 8 * 512**3
        row(
            f"batched matmul 8x512^3 {np.dtype(dt).name} (jit einsum)",
            t["irjax"],
            t["jax"],
            note=f"irjax {flops / t['irjax'] / 1e9:.0f} GFLOP/s, JAX {flops / t['jax'] / 1e9:.0f} GFLOP/s",
        )


def case_cnn():
    """A small CNN's jit(value_and_grad) step (MNIST-sized: batch 32 of 28x28x1, 3x3 VALID convs to
    32 and 64 features with relu, a dense layer to 10, softmax cross-entropy) in channels-last
    (stax/flax) and channels-first (lax.conv's default) layouts. No target in the issue."""
    rng = np.random.default_rng(0)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 32)]
    dense = (rng.standard_normal((24 * 24 * 64, 10)) * 0.01).astype(np.float32)
    for layout, dn, shapes, xshape in (
        ("NHWC", ("NHWC", "HWIO", "NHWC"), [(3, 3, 1, 32), (3, 3, 32, 64)], (32, 28, 28, 1)),
        ("NCHW", ("NCHW", "OIHW", "NCHW"), [(32, 1, 3, 3), (64, 32, 3, 3)], (32, 1, 28, 28)),
    ):
        pn = [(rng.standard_normal(s) * 0.1).astype(np.float32) for s in shapes] + [dense]
        xn = rng.standard_normal(xshape).astype(np.float32)
        vals = {}

        def make(jx, np_, dn=dn, pn=pn, xn=xn, vals=vals):
            def loss(p, x, y):
                h = x
                for w in p[:-1]:
                    h = np_.maximum(jx.lax.conv_general_dilated(h, w, (1, 1), "VALID", dimension_numbers=dn), 0.0)
                logits = h.reshape(h.shape[0], -1) @ p[-1]
                logp = logits - np_.log(np_.sum(np_.exp(logits), axis=1, keepdims=True))
                return -np_.mean(np_.sum(y * logp, axis=1))

            f = jx.jit(jx.value_and_grad(loss))
            args = ([np_.array(a) for a in pn], np_.array(xn), np_.array(y))
            vals[jx.__name__] = float(f(*args)[0])
            return lambda: jx.block_until_ready(f(*args))

        t = both(make, repeats=5, min_batch_s=0.1)
        assert abs(vals["irjax"] - vals["jax"]) < 1e-3 * max(1.0, abs(vals["jax"])), vals
        row(f"CNN 2x conv3x3 b32 28x28 {layout} jit(value_and_grad) step", t["irjax"], t["jax"])


def case_scan():
    steps, hidden, inputs, batch = 1000, 64, 16, 8
    rng = np.random.default_rng(0)
    pn = (
        (rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(np.float32),
        (rng.standard_normal((inputs, hidden)) / np.sqrt(inputs)).astype(np.float32),
        np.zeros(hidden, np.float32),
        (rng.standard_normal((hidden, 1)) / np.sqrt(hidden)).astype(np.float32),
    )
    xsn = rng.standard_normal((steps, batch, inputs)).astype(np.float32)
    tn = rng.standard_normal((steps, batch, 1)).astype(np.float32)
    vals = {}

    def make(jx, np_):
        def loss(params, xs, target):
            w_h, w_x, b, w_o = params

            def step(h, x):
                h = np_.tanh(h @ w_h + x @ w_x + b)
                return h, h @ w_o

            _, ys = jx.lax.scan(step, np_.zeros((batch, hidden), np_.float32), xs)
            return np_.mean((ys - target) ** 2)

        f = jx.jit(jx.value_and_grad(loss))
        args = (tuple(np_.array(p) for p in pn), np_.array(xsn), np_.array(tn))
        vals[jx.__name__] = float(f(*args)[0])
        return lambda: jx.block_until_ready(f(*args))

    t = both(make, repeats=5, min_batch_s=0.05)
    assert abs(vals["irjax"] - vals["jax"]) < 1e-3 * max(1.0, abs(vals["jax"])), vals
    row("1000-step scan RNN jit(value_and_grad) step", t["irjax"], t["jax"], 1.5)


def case_eager_index():
    """200 eager x[i] with distinct Python ints: first time through, each side from scratch."""
    xn = np.arange(1000, dtype=np.float32)
    t = {}
    for name, (_jx, np_) in FW.items():
        x = np_.array(xn)
        t0 = time.perf_counter()
        got = [float(x[i]) for i in range(200)]
        t[name] = time.perf_counter() - t0
        assert got == [float(v) for v in xn[:200]], name
    row("200 eager x[i], distinct ints (total, cold)", t["irjax"], t["jax"], 3.0)


def case_many_shapes():
    """One jitted elementwise function called on 50 distinct shapes: total time, cold."""
    t = {}
    for name, (jx, np_) in FW.items():
        f = jx.jit(lambda x: np_.tanh(x) * 2.0 + 1.0)
        xs = [np_.array(np.ones(n, np.float32)) for n in range(1, 51)]
        t0 = time.perf_counter()
        for x in xs:
            f(x).block_until_ready()
        t[name] = time.perf_counter() - t0
    row("jit elementwise fn on 50 distinct shapes (total)", t["irjax"], t["jax"], 3.0)


# ---------------------------------------------------------------- cold-process cases


def run_proc(argv, env_extra=None) -> tuple[float, int, str]:
    env = dict(os.environ, **(env_extra or {}))
    t0 = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t0, p.returncode, p.stdout + p.stderr


def case_tutorial_processes():
    cache = os.path.join(_cache_root, "tutorial")
    script = [sys.executable, str(TUTORIAL), "--repeat", "1", "--plot", os.path.join(_cache_root, "plot.png")]
    notes = []

    def timed(argv, env, n):
        ts, bad = [], None
        for _ in range(n):
            t, rc, out = run_proc(argv, env)
            ts.append(t)
            if rc != 0:
                tail = [ln for ln in out.strip().splitlines() if "Error" in ln] or out.strip().splitlines() or [""]
                bad = f"exit {rc}: {tail[-1]}"
        return statistics.median(ts), bad

    jax_t, jbad = timed(script + ["--jax"], None, PROC_REPEATS)
    cold, cbad = [], None
    for _ in range(PROC_REPEATS):  # each cold run gets its own empty cache
        shutil.rmtree(cache, ignore_errors=True)
        t, bad = timed(script, {"IRJAX_CACHE_DIR": cache}, 1)
        cold.append(t)
        cbad = cbad or bad
    warm, wbad = timed(script, {"IRJAX_CACHE_DIR": cache}, PROC_REPEATS)
    for label, bad in (("jax", jbad), ("irjax cold", cbad), ("irjax warm", wbad)):
        if bad:
            notes.append(f"{label} run failed ({bad[:120]})")
    note = "; ".join(notes)
    row(
        "tutorial script, fresh process, empty cache",
        statistics.median(cold),
        jax_t,
        3.0,
        note=note,
        failed=bool(jbad or cbad),
    )
    row("tutorial script, fresh process, warm cache", warm, jax_t, 1.0, note=note, failed=bool(jbad or wbad))


CHILD = textwrap.dedent(
    """
    import json, numpy as np
    import irjax as jax, irjax.numpy as jnp
    from irjax.runtime import compiler

    @jax.jit
    def f(x):
        return jnp.tanh(x) * 3.0 - 1.0

    f(np.arange(8, dtype=np.float32)).block_until_ready()
    print(json.dumps(compiler.stats))
    """
)


def case_second_process():
    cache = os.path.join(_cache_root, "second")
    out = []
    for _ in range(2):
        t, rc, text = run_proc([sys.executable, "-c", CHILD], {"IRJAX_CACHE_DIR": cache})
        stats = json.loads(text.strip().splitlines()[-1]) if rc == 0 else None
        out.append((t, stats, text))
    (t1, s1, o1), (t2, s2, o2) = out
    if s1 is None or s2 is None:
        row("second process, same jitted fn: compiles", None, None, note=f"child failed: {(o1 + o2)[-200:]}")
        return
    status = "ok" if s2["compiles"] == 0 else "MISS"
    r = dict(
        load=_case_load[0],
        case="second process, same jitted fn",
        irjax=t2,
        jax=None,
        ratio=None,
        target="0 compiles",
        status=status,
        note=f"compiles: 1st process {s1['compiles']}, 2nd {s2['compiles']} "
        f"(disk hits {s2['disk_hits']}); 1st process {fmt_t(t1)}",
    )
    rows.append(r)
    print(f"  {r['case']:<44} irjax {fmt_t(t2):>10}  {r['target']} {status} {r['note']}", flush=True)


# ---------------------------------------------------------------- report


def machine_info() -> dict:
    cpu = platform.processor() or "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    def ver(p):
        try:
            return version(p)
        except Exception:  # noqa: BLE001
            return "?"

    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain"], capture_output=True, text=True
        ).stdout.strip()
        commit += " (+ uncommitted changes)" if dirty else ""
    except OSError:
        commit = "?"
    return {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "jax / jaxlib": f"{ver('jax')} / {ver('jaxlib')}",
        "iree-base-compiler / runtime": f"{ver('iree-base-compiler')} / {ver('iree-base-runtime')}",
        "irjax commit": commit,
        "jax backend": f"{jax.default_backend()} ({jax.devices()[0].device_kind})",
        "irjax device": f"{irjax.devices()[0]} ({irjax.devices()[0].device_kind}) "
        f"{' '.join(irjax.devices()[0].compile_flags)}",
        "load average at start (1/5/15 min)": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def write_markdown(path: str, info: dict) -> None:
    lines = [
        "# irjax vs JAX benchmarks",
        "",
        "Written by `python benchmarks/run.py` (the tables above the history are rewritten each run). Times are medians of "
        f"{REPEATS} repeats after warm-up; process times medians of {PROC_REPEATS} runs. "
        "Ratio = irjax/JAX unless the note says otherwise; lower is better.",
        "",
        "| machine | |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in info.items()]
    lines += [
        "",
        "| case | irjax | JAX | ratio | target | status | load | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        lines.append(
            f"| {r['case']} | {fmt_t(r['irjax'])} | {fmt_t(r['jax'])} | {ratio} | {r['target']} | "
            f"{r['status']} | {r['load']:.1f} | {r['note']} |"
        )
    lines += ["", "load: the 1-minute load average when the case started (2 cores, shared machine)."]
    # a hand-written history (dated before/after tables) below the marker survives each run
    old = Path(path).read_text() if Path(path).exists() else ""
    if HISTORY in old:
        lines += ["", HISTORY + old.split(HISTORY, 1)[1].rstrip("\n")]
    Path(path).write_text("\n".join(lines) + "\n")


HISTORY = "<!-- history: kept by run.py -->"


def main():
    info = machine_info()
    print("machine: " + "; ".join(f"{k}: {v}" for k, v in info.items()))
    cases = [
        case_tiny_jit,
        case_norm,
        case_eager_sin,
        case_vmap,
        case_mlp,
        case_mlp_tiered,
        case_matmul,
        case_batched_matmul,
        case_reductions,
        case_cnn,
        case_scan,
        case_eager_index,
        case_many_shapes,
    ]
    if not args.no_cold:
        cases += [case_tutorial_processes, case_second_process]
    if args.only:
        wanted = {w.strip() for w in args.only.split(",")}
        cases = [c for c in cases if c.__name__.removeprefix("case_") in wanted]
    for case in cases:
        _case_load[0] = os.getloadavg()[0]
        try:
            case()
        except Exception as e:  # noqa: BLE001 - one broken case must not hide the others
            row(
                case.__name__,
                None,
                None,
                failed=True,
                note=f"{type(e).__name__}: {str(e).splitlines()[0][:150] if str(e) else ''}",
            )
    info["load average at end (1/5/15 min)"] = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    write_markdown(args.out, info)
    print(f"results written to {args.out}")
    shutil.rmtree(_cache_root, ignore_errors=True)


if __name__ == "__main__":
    main()
