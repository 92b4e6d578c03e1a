"""GPU checks for irjax on CUDA, run by scripts/gpu_check.sh (one part per process).

  python scripts/gpu_check.py probe|ops|transforms|mlp|tutorial   (on the GPU machine)
  python scripts/gpu_check.py prepare                              (here: fill the compile cache)

`prepare` runs every part on the CPU while compiling each module also for CUDA (sm_89 and
sm_80), so the GPU machine finds the .vmfb files in $IRJAX_CACHE_DIR and needs only the IREE
runtime (the compiler wheel is too big to carry).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))
PREP_ARCHS = ("sm_89", "sm_80")

import irjax  # noqa: E402
import irjax.numpy as jnp  # noqa: E402

OPS = {
    "add", "mul", "div", "max", "sin", "exp", "tanh", "log", "pow", "eq", "select", "convert_element_type",
    "broadcast_in_dim", "transpose", "concatenate", "pad", "slice", "dynamic_update_slice", "reduce_sum",
    "reduce_max", "argmax", "cumsum", "dot_general", "gather", "scatter", "sort", "iota",
}


def say(*a):
    print(*a, flush=True)


def dev():
    return irjax.devices()[0]  # the default backend: IRJAX_PLATFORMS picks cuda (or cpu in prepare)


def close(a, b, tol=1e-4):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and (np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True) if a.dtype.kind == "f"
                                   else np.array_equal(a, b))


def part_probe():
    d = dev()
    say("device:", d, d.device_kind, "target:", d.target, "flags:", d.compile_flags)
    x = irjax.device_put(np.arange(8, dtype=np.float32), d)
    y = irjax.jit(lambda a: jnp.sin(a) * 2 + 1)(x)
    ok = close(y, np.sin(np.arange(8, dtype=np.float32)) * 2 + 1)
    say("probe result on", y.devices(), "ok" if ok else "WRONG", np.asarray(y)[:4])
    return 0 if ok else 1


# A scatter row with an out-of-range index: IREE 3.13 wrote out of bounds for it (heap corruption
# on the CPU, seen once); the lowering now drops such windows, but keep it off the GPU check.
SKIP_ROWS = {"scatter[max]"}


def part_ops():
    from irjax.core import bind
    from irjax.dialects.registry import get
    from op_table import ROWS

    d, bad, n = dev(), [], 0
    t0 = time.time()
    with irjax.default_device(d):
        for r in ROWS:
            if r.name not in OPS or r.id in SKIP_ROWS:
                continue
            for dt in r.dtypes:
                dt = np.dtype(dt)
                n += 1
                args, params = r.make(dt), r.params_for(dt)
                try:
                    want = get(r.name).impl(*args, **params)
                    got = bind(r.name, *args, **params)
                    want = want if isinstance(want, (list, tuple)) else [want]
                    got = got if isinstance(got, (list, tuple)) else [got]
                    for g, w in zip(got, want):
                        if g.devices() != {d}:
                            raise AssertionError(f"result on {g.devices()}, not {d}")
                        if not close(g, w, 1e-5 if dt.kind == "f" else 0):
                            raise AssertionError(f"mismatch: got {np.asarray(g).ravel()[:4]} want {np.asarray(w).ravel()[:4]}")
                    say(f"ok   {r.id}-{dt.name}")
                except Exception as e:  # noqa: BLE001
                    bad.append(f"{r.id}-{dt.name}")
                    say(f"FAIL {r.id}-{dt.name}: {type(e).__name__}: {str(e)[:300]}")
    say(f"ops: {n - len(bad)}/{n} ok in {time.time() - t0:.1f}s; failed: {bad}")
    return 1 if bad else 0


def _mlp_params(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((m, n)).astype(np.float32) / np.sqrt(m), np.zeros(n, np.float32))
            for m, n in zip(sizes[:-1], sizes[1:])]


def _loss(params, x, y):
    h = x
    for w, b in params[:-1]:
        h = jnp.tanh(h @ w + b)
    w, b = params[-1]
    logits = h @ w + b
    logp = logits - jnp.log(jnp.sum(jnp.exp(logits), axis=-1, keepdims=True))
    return -jnp.mean(jnp.sum(logp * y, axis=-1))


def part_transforms():
    d, cpu = dev(), irjax.devices("cpu")[0]
    rng = np.random.default_rng(1)
    params = _mlp_params([16, 32, 10])
    x = rng.standard_normal((8, 16)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 8)]
    fails = []

    def check(name, f, *args):
        try:
            want = f(*irjax.device_put(args, cpu))
            got = f(*irjax.device_put(args, d))
            wl, gl = irjax.tree_util.tree_leaves(want), irjax.tree_util.tree_leaves(got)
            ok = len(wl) == len(gl) and all(close(g, w) for g, w in zip(gl, wl))
            where = {str(dd) for g in gl for dd in g.devices()}
            ok = ok and where == {str(d)}
            say(f"{'ok  ' if ok else 'FAIL'} {name} on {sorted(where)}")
        except Exception as e:  # noqa: BLE001
            ok = False
            say(f"FAIL {name}: {type(e).__name__}: {str(e)[:400]}")
        if not ok:
            fails.append(name)

    check("f", _loss, params, x, y)
    check("jit(f)", irjax.jit(_loss), params, x, y)
    check("grad(f)", irjax.grad(_loss), params, x, y)
    check("jit(grad(f))", irjax.jit(irjax.grad(_loss)), params, x, y)
    check("value_and_grad", irjax.jit(irjax.value_and_grad(_loss)), params, x, y)
    check("vmap(grad)", irjax.vmap(irjax.grad(lambda w, xi: jnp.sum(jnp.tanh(xi @ w))), in_axes=(None, 0)), params[0][0], x)
    check("jit(grad(grad))", irjax.jit(irjax.grad(irjax.grad(lambda t: jnp.sin(t) * t ** 2))), np.float32(0.7))
    check("sort/cumsum/gather", irjax.jit(lambda a: jnp.cumsum(jnp.sort(a, axis=-1), axis=-1)[:, jnp.array([0, 3])]), x)
    try:
        irjax.device_put(x, d) + irjax.device_put(x, cpu)
        fails.append("mixed devices")
        say("FAIL mixed devices did not raise")
    except ValueError as e:
        say("ok   mixed devices raise:", str(e)[:120])
    say(f"transforms: failed {fails}")
    return 1 if fails else 0


def part_mlp():
    d, cpu = dev(), irjax.devices("cpu")[0]
    sizes, batch = [784, 512, 512, 10], 128
    rng = np.random.default_rng(0)
    params = _mlp_params(sizes)
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]
    step = irjax.jit(irjax.value_and_grad(_loss))
    results = {}
    for where in (d, cpu) if d != cpu else (cpu,):
        args = irjax.device_put((params, x, y), where)
        v, g = step(*args)
        irjax.block_until_ready(g)
        n = 20 if where.platform == "cpu" else 200
        t0 = time.perf_counter()
        for _ in range(n):
            v, g = step(*args)
        float(v)
        irjax.block_until_ready(g)
        ms = (time.perf_counter() - t0) / n * 1e3
        results[where.platform] = (ms, float(v))
        say(f"irjax MLP {sizes} batch {batch} value_and_grad on {where}: {ms:.3f} ms/step (loss {float(v):.6f})")
    if len(results) == 2:
        (a, va), (b, vb) = results[d.platform], results["cpu"]
        say(f"loss agrees cpu vs {d.platform}: {abs(va - vb) < 1e-4 * max(1, abs(vb))}; speedup {b / a:.1f}x over irjax cpu")
    try:
        import jax
        import jax.numpy as jjnp

        def jloss(params, x, y):
            h = x
            for w, b in params[:-1]:
                h = jjnp.tanh(h @ w + b)
            w, b = params[-1]
            logits = h @ w + b
            logp = logits - jjnp.log(jjnp.sum(jjnp.exp(logits), axis=-1, keepdims=True))
            return -jjnp.mean(jjnp.sum(logp * y, axis=-1))

        jstep = jax.jit(jax.value_and_grad(jloss))
        for plat in ("gpu", "cpu"):
            try:
                jd = jax.devices(plat)[0]
            except Exception:  # noqa: BLE001
                continue
            args = jax.device_put((params, x, y), jd)
            jax.block_until_ready(jstep(*args))
            n = 200 if plat == "gpu" else 20
            t0 = time.perf_counter()
            for _ in range(n):
                out = jstep(*args)
            jax.block_until_ready(out)
            ms = (time.perf_counter() - t0) / n * 1e3
            mine = results.get("cuda" if plat == "gpu" else "cpu", (None,))[0]
            say(f"JAX {jax.__version__} on {jd}: {ms:.3f} ms/step" + (f"; irjax/JAX time ratio {mine / ms:.2f}" if mine else ""))
    except ImportError:
        say("JAX not installed here: no JAX ratio")
    return 0


def part_tutorial():
    path = os.path.join(REPO, "examples", "thinking_in_jax.py")
    if not os.path.isfile(path):
        say("no examples/thinking_in_jax.py: skipped")
        return 0
    import runpy

    sys.argv = [path, "--repeat", "2", "--plot", os.path.join(os.environ.get("OUT", "/tmp"), "tutorial_plot.png")]
    runpy.run_path(path, run_name="__main__")
    say("tutorial finished on", irjax.default_backend())
    return 0


PARTS = {"probe": part_probe, "ops": part_ops, "transforms": part_transforms, "mlp": part_mlp, "tutorial": part_tutorial}


def prepare():
    """Run every part on the CPU; each module compiled for the CPU is also compiled for CUDA."""
    from irjax.runtime import compiler

    orig = compiler.compile_stablehlo

    def both(text, target="llvm-cpu", extra_flags=None):
        out = orig(text, target, extra_flags)
        if target == "llvm-cpu":
            old = os.environ.get("IRJAX_CUDA_TARGET")
            for arch in PREP_ARCHS:
                os.environ["IRJAX_CUDA_TARGET"] = arch  # what the GPU run sets
                try:
                    orig(text, "cuda", [f"--iree-cuda-target={arch}"])
                except Exception as e:  # noqa: BLE001
                    say(f"prepare: cuda {arch} compile failed: {str(e)[:200]}")
            if old is None:
                os.environ.pop("IRJAX_CUDA_TARGET", None)
            else:
                os.environ["IRJAX_CUDA_TARGET"] = old
        return out

    compiler.compile_stablehlo = both
    for name in ("probe", "ops", "transforms", "tutorial"):
        t0 = time.time()
        try:
            PARTS[name]()
        except BaseException as e:  # noqa: BLE001  (SystemExit from argparse, ...)
            say(f"prepare: part {name} raised {type(e).__name__}: {str(e)[:200]}")
        say(f"prepare: {name} done in {time.time() - t0:.0f}s")
    # the MLP step at its real size: compile (cpu + cuda) without timing it
    sizes, batch = [784, 512, 512, 10], 128
    params = _mlp_params(sizes)
    x = np.zeros((batch, sizes[0]), np.float32)
    y = np.zeros((batch, 10), np.float32)
    irjax.jit(irjax.value_and_grad(_loss))(params, x, y)
    say("prepare: stats", compiler.stats)


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "probe"
    if which == "prepare":
        prepare()
        sys.exit(0)
    try:
        rc = PARTS[which]()
    finally:
        from irjax.runtime import compiler

        say(f"compile cache for part {which}: {compiler.stats} (compiles = modules not in the prepared cache)")
    sys.exit(rc)
