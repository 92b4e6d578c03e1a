"""irjax from several Python threads: jit, eager ops, grad, vmap, shared pending arrays and the
compile caches, cold and warm, agree with NumPy and never crash. Each scenario runs in a child
process, so a segfault fails the test instead of killing pytest."""

from __future__ import annotations

import json

import pytest
from child_process import assert_clean_exit, run_python

PRELUDE = """
    import json, sys, threading, traceback
    import numpy as np
    import irjax as jax, irjax.numpy as jnp

    def f1(x): return jnp.sin(x) * 2 + 1
    def f2(x): return (x @ x.T).sum(axis=0)
    def f3(x): return jax.grad(lambda y: jnp.sum(jnp.tanh(y) ** 2))(x)
    def f4(x): return jax.vmap(lambda r: r / (1 + jnp.abs(r)))(x)
    def f5(x): return jnp.cumsum(x, axis=1)[:, ::-1] - jnp.max(x)

    def n1(x): return np.sin(x) * 2 + 1
    def n2(x): return (x @ x.T).sum(axis=0)
    def n3(x): return 2 * np.tanh(x) * (1 - np.tanh(x) ** 2)
    def n4(x): return x / (1 + np.abs(x))
    def n5(x): return np.cumsum(x, axis=1)[:, ::-1] - np.max(x)

    FUNCS = [(f1, n1), (f3, n3), (f4, n4)]  # (f2, f5: more cases, but each costs compiles)
    X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    SHARED_JITS = [jax.jit(f) for f, _ in FUNCS]

    def check(got, want, what):
        got = np.asarray(got)
        if got.dtype != np.float32 or got.shape != want.shape or not np.allclose(got, want, rtol=2e-5, atol=2e-5):
            raise AssertionError(f"{what}: got {got!r}, want {want!r}")

    def run_threads(n, work):
        errors = []
        barrier = threading.Barrier(n)

        def body(t):
            try:
                barrier.wait()
                work(t)
            except BaseException:
                errors.append(traceback.format_exc())

        ts = [threading.Thread(target=body, args=(t,)) for t in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return errors

    def work(t, iters):
        x = (X + np.float32(t)).astype(np.float32)
        xa = jnp.asarray(x)
        for it in range(iters):
            for k, (f, ref) in enumerate(FUNCS):
                mode = (it + k + t) % 3
                fn = SHARED_JITS[k] if mode == 0 else (jax.jit(f) if mode == 1 else f)  # shared jit, own jit, eager
                check(fn(jnp.asarray(x)), ref(x), f"thread {t} iter {it} {f.__name__} mode {mode}")
            # eager fusion: a graph of pending ops per thread (no per-thread constants: one module)
            y = jnp.cos(xa * xa) + xa
            check(y, np.cos(x * x) + x, f"thread {t} eager")
"""


def _run(body: str, env: dict, timeout: float = 300) -> dict:
    p = run_python(PRELUDE + body, env=env, timeout=timeout)
    assert_clean_exit(p)
    return json.loads(p.stdout.split("RESULT ", 1)[1])


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One disk cache for the warm tests of this file (the first to run fills it)."""
    return {"IRJAX_CACHE_DIR": str(tmp_path_factory.mktemp("thread_cache"))}


@pytest.mark.parametrize("n_threads", [8])
def test_cold_first_calls_from_threads(fresh_cache, n_threads):
    """Every thread makes its first calls at once: registry loading, tracing, compiling and the
    disk cache all race. Used to fail with KeyError / UnexpectedTracerError or segfault."""
    r = _run(
        f"""
    errors = run_threads({n_threads}, lambda t: work(t, 3))
    from irjax.runtime import compiler
    print("RESULT", json.dumps({{"errors": errors, "stats": compiler.stats}}))
    """,
        fresh_cache,
    )
    assert r["errors"] == [], "\n".join(r["errors"][:3])
    assert r["stats"]["compiles"] > 0


def test_warm_calls_from_threads(shared_cache):
    """After a single-threaded warm-up, 8 threads hammer the cached fast paths."""
    r = _run(
        """
    work(0, 3)
    from irjax.runtime import compiler
    before = compiler.stats["compiles"]
    errors = run_threads(8, lambda t: work(t, 10))
    print("RESULT", json.dumps({"errors": errors, "new_compiles": compiler.stats["compiles"] - before}))
    """,
        shared_cache,
    )
    assert r["errors"] == [], "\n".join(r["errors"][:3])
    assert r["new_compiles"] == 0  # everything was cached: the threads only ran code


def test_warm_disk_cache_from_threads(shared_cache):
    """A second process finds every module on disk; its threads load them concurrently."""
    first = _run(
        """
    errors = run_threads(4, lambda t: work(t, 3))
    from irjax.runtime import compiler
    print("RESULT", json.dumps({"errors": errors, "stats": compiler.stats}))
    """,
        shared_cache,
    )
    assert first["errors"] == []
    second = _run(
        """
    errors = run_threads(4, lambda t: work(t, 3))
    from irjax.runtime import compiler
    print("RESULT", json.dumps({"errors": errors, "stats": compiler.stats}))
    """,
        shared_cache,
    )
    assert second["errors"] == [], "\n".join(second["errors"][:3])
    assert second["stats"]["compiles"] == 0 and second["stats"]["disk_hits"] > 0, second["stats"]


def test_shared_pending_array_materialized_by_many_threads(shared_cache):
    r = _run(
        """
    x = jnp.asarray(X)
    outs = []
    for round in range(20):
        y = jnp.exp(x * np.float32(round) / 20) - jnp.sin(x)  # pending until observed
        got = [None] * 8
        def look(t):
            got[t] = np.asarray(y)
        errors = run_threads(8, look)
        want = np.exp(X * np.float32(round) / 20) - np.sin(X)
        bad = [t for t in range(8) if got[t] is None or not np.allclose(got[t], want, rtol=1e-5, atol=1e-6)]
        outs.append((errors, bad))
    print("RESULT", json.dumps({"errors": sum((e for e, _ in outs), []), "bad": sum((b for _, b in outs), [])}))
    """,
        shared_cache,
    )
    assert r["errors"] == [] and r["bad"] == [], r


def test_trace_state_is_per_thread(shared_cache):
    """A thread that calls a jitted function while another thread is tracing sees no trace
    (JAX's trace state is thread-local): it gets concrete results, not the other's tracers."""
    r = _run(
        """
    from irjax.api import is_tracing
    inside, checked = threading.Event(), threading.Event()
    seen = {}

    def slow(x):
        seen["main_in_trace"] = is_tracing()
        inside.set()
        checked.wait(60)  # the other thread looks while this trace is open
        return x * 2

    def other():
        inside.wait(60)
        seen["other_in_trace"] = is_tracing()
        checked.set()
        seen["other"] = np.asarray(jnp.arange(3.0) + 1).tolist()

    th = threading.Thread(target=other)
    th.start()
    y = jax.jit(slow)(jnp.ones(2))
    th.join()
    print("RESULT", json.dumps({"y": np.asarray(y).tolist(), **seen}))
    """,
        shared_cache,
    )
    assert r["y"] == [2.0, 2.0] and r["other"] == [1.0, 2.0, 3.0]
    assert r["main_in_trace"] is True and r["other_in_trace"] is False
