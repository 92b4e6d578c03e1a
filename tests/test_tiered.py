"""The tiered first call (frontend/tiered.py): a new jit trace runs on the NumPy reference while
IREE compiles it in a background thread, then switches to the compiled executable. Values
against JAX and against the compiled module, calls from several threads, a failed compile,
and a process that exits while its compile runs."""

import os
import subprocess
import sys
import threading

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import tiered
from irjax.runtime import compiler
from irjax.runtime.device import default_device
from irjax.runtime.executable import Executable

jax = pytest.importorskip("jax")


@pytest.fixture
def tiered_on(tmp_path, monkeypatch):
    """Tiered compiles on, with empty caches (a cached module skips the tiered path)."""
    monkeypatch.setenv("IRJAX_CACHE_DIR", str(tmp_path / "cache"))
    compiler.forget_memory_cache()
    irjax.config.update("irjax_tiered_compile", True)
    yield
    irjax.config.update("irjax_tiered_compile", False)


def _mlp_loss(np_):
    def loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = np_.tanh(np_.dot(h, w) + b)
        w, b = params[-1]
        logits = np_.dot(h, w) + b
        logp = logits - np_.log(np_.sum(np_.exp(logits), axis=1, keepdims=True))
        return -np_.mean(np_.sum(logp * y, axis=1))

    return loss


def _mlp_data(seed=0, sizes=(12, 16, 5), batch=8):
    rng = np.random.default_rng(seed)
    params = [
        (rng.standard_normal((m, n)).astype(np.float32) / np.sqrt(m), rng.standard_normal(n).astype(np.float32))
        for m, n in zip(sizes[:-1], sizes[1:])
    ]
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], batch)]
    return params, x, y


def _stand_in(f):
    (tr,) = f._cache.values()
    ((exe, _, _),) = tr.exes.values()
    return tr, exe


def _close(got, want, rtol=2e-5, atol=1e-6):
    gl, wl = jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)
    assert len(gl) == len(wl)
    for g, w in zip(gl, wl):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def test_first_call_interpreted_then_compiled_values_agree(tiered_on):
    params, x, y = _mlp_data()
    f = irjax.jit(irjax.value_and_grad(_mlp_loss(jnp)))
    args = ([(jnp.asarray(w), jnp.asarray(b)) for w, b in params], jnp.asarray(x), jnp.asarray(y))
    first = f(*args)
    tr, stand_in = _stand_in(f)
    assert isinstance(stand_in, tiered.TieredExecutable)
    assert stand_in.interpreted_calls >= 1  # the first call ran on the reference interpreter
    assert stand_in.wait(120)
    compiled = f(*args)
    assert isinstance(tr.exes[next(iter(tr.exes))][0], Executable)  # the trace now holds the real one
    again = f(*args)  # (the fast path, rebuilt on the compiled executable)
    _close(first, compiled)
    _close(again, compiled, rtol=0, atol=0)
    want = jax.jit(jax.value_and_grad(_mlp_loss(jax.numpy)))(params, x, y)
    _close(first, want)
    _close(compiled, want)


def test_threads_call_while_compiling(tiered_on):
    f = irjax.jit(lambda a, b: jnp.sin(a) @ b + jnp.cos(b).sum())
    rng = np.random.default_rng(1)
    pairs = [(rng.standard_normal((6, 7), np.float32), rng.standard_normal((7, 3), np.float32)) for _ in range(4)]
    want = [np.sin(a) @ b + np.cos(b).sum() for a, b in pairs]
    f(jnp.asarray(pairs[0][0]), jnp.asarray(pairs[0][1]))  # the trace and its background compile
    _, stand_in = _stand_in(f)
    results, errors = {}, []

    def worker(k):
        try:
            a, b = pairs[k % len(pairs)]
            for _ in range(5):
                results.setdefault(k, []).append(np.asarray(f(jnp.asarray(a), jnp.asarray(b))))
        except Exception as e:  # noqa: BLE001  (reported by the main thread)
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert stand_in.wait(120)
    for k, outs in results.items():
        assert len(outs) == 5
        for o in outs:
            np.testing.assert_allclose(o, want[k % len(pairs)], rtol=1e-5, atol=1e-5)
    after = np.asarray(f(jnp.asarray(pairs[2][0]), jnp.asarray(pairs[2][1])))
    np.testing.assert_allclose(after, want[2], rtol=1e-5, atol=1e-5)


def test_parallel_compiles_of_different_modules(tmp_path, monkeypatch):
    """IREE compiles running at once in several threads (each in its own session, the GIL
    released) give working modules, each in the memory cache afterwards."""
    monkeypatch.setenv("IRJAX_CACHE_DIR", str(tmp_path / "cache"))
    compiler.forget_memory_cache()
    dev = default_device()
    texts = [
        "func.func @main(%x: tensor<5xf32>) -> tensor<5xf32> {\n"
        f"  %k = stablehlo.constant dense<{k + 2}.0> : tensor<5xf32>\n"
        "  %y = stablehlo.multiply %x, %k : tensor<5xf32>\n"
        "  %z = stablehlo.add %y, %k : tensor<5xf32>\n"
        "  return %z : tensor<5xf32>\n}\n"
        for k in range(3)
    ]
    jobs = [compiler.compile_job(t, dev.target, list(dev.compile_flags)) for t in texts]
    out, errors = {}, []

    def worker(k):
        try:
            out[k] = compiler.run_job(jobs[k])
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    x = np.arange(5, dtype=np.float32)
    for k, job in enumerate(jobs):
        assert compiler.cached(job) == out[k]
        exe = Executable(out[k], dev)
        (bv,) = exe.call("main", [dev.put(x)], 1)
        np.testing.assert_array_equal(dev.get(bv, np.float32), x * (k + 2) + (k + 2))


def test_failed_compile_raises_at_the_next_call(tiered_on, monkeypatch):
    first_call_done = threading.Event()

    def refuse(job, fresh=False):
        first_call_done.wait(60)
        raise compiler.CompileError("IREE failed to compile the module for llvm-cpu: (test)")

    monkeypatch.setattr(compiler, "run_job", refuse)
    f = irjax.jit(lambda x: x * 3.0 + 1.0)
    x = jnp.arange(4.0)
    np.testing.assert_array_equal(np.asarray(f(x)), np.arange(4.0, dtype=np.float32) * 3 + 1)
    first_call_done.set()
    _, stand_in = _stand_in(f)
    assert stand_in.wait(60)
    with pytest.raises(compiler.CompileError, match="test"):
        f(x)


def test_cached_module_takes_the_normal_path(tiered_on):
    def g(x):
        return jnp.exp(x) - 2.0

    x = jnp.linspace(0.0, 1.0, 9)
    irjax.config.update("irjax_tiered_compile", False)
    want = np.asarray(irjax.jit(g)(x))  # compiled and cached
    irjax.config.update("irjax_tiered_compile", True)
    f = irjax.jit(g)
    np.testing.assert_array_equal(np.asarray(f(x)), want)
    assert isinstance(_stand_in(f)[1], Executable)


def test_off_by_default_and_config_flag():
    assert irjax.config.read("irjax_tiered_compile") is False
    irjax.config.update("irjax_tiered_compile", True)
    try:
        assert irjax.config.irjax_tiered_compile is True
    finally:
        irjax.config.update("irjax_tiered_compile", False)


@pytest.mark.slow  # (a fresh process: ~3 s each)
def test_env_var_and_exit_while_compiling(tmp_path):
    """IRJAX_TIERED_COMPILE=1 turns it on; a process that exits with its compile still running
    waits for it (no crash) and leaves the compiled module in the disk cache."""
    code = (
        "import time, irjax, irjax.numpy as jnp, numpy as np\n"
        "assert irjax.config.irjax_tiered_compile is True\n"
        "f = irjax.jit(lambda a: jnp.tanh(a) * 2.0)\n"
        "print(np.asarray(f(jnp.arange(3.0))).tolist())\n"
        "(tr,) = f._cache.values()\n"
        "(entry,) = tr.exes.values()\n"
        "print(type(entry[0]).__name__)\n"
        "while not entry[0]._started:\n"  # (exit while the compile runs, not before it starts)
        "    time.sleep(0.01)\n"
    )
    cache = tmp_path / "cache"
    env = dict(os.environ, IRJAX_TIERED_COMPILE="1", IRJAX_CACHE_DIR=str(cache))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    values, kind = r.stdout.split("\n")[:2]
    np.testing.assert_allclose(eval(values), np.tanh(np.arange(3.0)) * 2.0, rtol=1e-6)
    assert kind == "TieredExecutable"
    assert list(cache.rglob("*.vmfb")), "the background compile did not finish before exit"


def test_flag_refuses_non_booleans():
    with pytest.raises(TypeError, match="expected True or False"):
        irjax.config.update("irjax_tiered_compile", "yes")
    assert irjax.config.read("irjax_tiered_compile") is False


def test_reference_failure_falls_back_to_the_compile(tiered_on, monkeypatch):
    def broken(self, args):
        raise FloatingPointError("a reference that fails")

    primed = []
    prime = tiered.prime
    monkeypatch.setattr(tiered._Program, "run", broken)
    monkeypatch.setattr(tiered, "prime", lambda tr, leaves: primed.append(prime(tr, leaves)))
    f = irjax.jit(lambda x: jnp.sqrt(x) + 1.0)
    x = jnp.arange(6.0)
    np.testing.assert_allclose(np.asarray(f(x)), np.sqrt(np.arange(6.0)) + 1, rtol=1e-6)
    (stand_in,) = primed
    assert stand_in.interpreted_calls == 0 and stand_in.done.is_set()
    assert isinstance(_stand_in(f)[1], Executable)  # the first call already ran compiled


def test_no_numpy_warnings_from_the_interpreter(tiered_on):
    import warnings

    f = irjax.jit(lambda x: jnp.exp(x) / x)
    x = jnp.asarray(np.array([0.0, 1.0, 200.0], np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from NumPy would fail the call
        got = np.asarray(f(x))
    assert _stand_in(f)[1].interpreted_calls == 1
    assert np.isnan(got[0]) or np.isinf(got[0])
    assert got[1] == pytest.approx(np.e, rel=1e-6) and np.isinf(got[2])


@pytest.mark.slow
def test_exit_drops_queued_compiles(tmp_path):
    """Eight new shapes queue eight compiles behind one worker thread; the process's exit waits
    for the one running, not for all eight, and every call's value is right."""
    code = (
        "import irjax, irjax.numpy as jnp, numpy as np\n"
        "f = irjax.jit(lambda a: a * 2.0 + 1.0)\n"
        "for n in range(1, 9):\n"
        "    assert np.array_equal(np.asarray(f(jnp.arange(float(n)))), np.arange(n, dtype=np.float32) * 2 + 1)\n"
        "print('ok')\n"
    )
    cache = tmp_path / "cache"
    env = dict(os.environ, IRJAX_TIERED_COMPILE="1", IRJAX_CACHE_DIR=str(cache))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
    assert len(list(cache.rglob("*.vmfb"))) < 8
