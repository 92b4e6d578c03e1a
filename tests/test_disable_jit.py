"""`with jax.disable_jit():` against JAX: jitted functions run as Python on the values they are
given, and lax control flow with concrete operands runs as Python control flow (each function
below runs under both libraries and records what its bodies saw)."""

import threading

import irjax
import numpy as np
import pytest
from irjax.core import Tracer
from jax_diff import assert_matches_jax

jax = pytest.importorskip("jax")


def _concrete(x) -> bool:
    return not isinstance(x, (Tracer, jax.core.Tracer))


def _both(program):
    """program(lib) -> (result, trace of what the bodies saw), under each library's disable_jit."""
    out = []
    for lib in (irjax, jax):
        with lib.disable_jit():
            out.append(program(lib))
    return out


def test_jitted_body_sees_the_call_values():
    def program(lib):
        seen = []

        @lib.jit
        def f(x, n):
            seen.append((type(x).__name__ if isinstance(x, (int, float, list)) else "array", _concrete(x)))
            return x * n

        g = lib.jit(lambda x, n: x * n, static_argnums=1)
        r = (f(3.0, 2), f(lib.numpy.arange(3.0), 2), g(lib.numpy.ones(2), 3), lib.jit(lambda x: x)([1, 2]))
        return r, seen

    (got, seen_i), (want, seen_j) = _both(program)
    assert seen_i == seen_j == [("float", True), ("array", True)]
    assert got[0] == want[0] == 6.0 and type(got[0]) is float
    assert got[3] == [1, 2]
    assert_matches_jax(got[1:3], want[1:3])


def test_cond_and_switch_run_only_the_chosen_branch():
    def program(lib):
        ran = []

        def branch(name, k):
            def f(x):
                ran.append((name, _concrete(x)))
                return x * k

            return f

        lax = lib.lax
        r = (
            lax.cond(True, branch("t", 1), branch("f", -1), 2.0),
            lax.cond(lib.numpy.array(0), branch("t", 1), branch("f", -1), 2.0),
            lax.switch(7, [branch("s0", 0), branch("s1", 10)], 1.0),
            lax.switch(-3, [branch("s0", 0), branch("s1", 10)], 1.0),
        )
        return r, ran

    (got, ran_i), (want, ran_j) = _both(program)
    assert ran_i == ran_j == [("t", True), ("f", True), ("s1", True), ("s0", True)]
    assert got == want == (2.0, -2.0, 10.0, 0.0)


def test_loops_run_in_python():
    def program(lib):
        lax, jnp = lib.lax, lib.numpy
        seen = []

        def body(c):
            seen.append(("w", _concrete(c)))
            return c + 1

        def fbody(i, c):
            seen.append(("f", type(i).__name__))
            return c + i

        w = lax.while_loop(lambda c: c < 3, body, 0)
        f = lax.fori_loop(0, jnp.int32(3), fbody, 0.5)
        none = lax.fori_loop(2, 2, fbody, 1)
        c, ys = lax.scan(
            lambda c, x: (c + x["a"], {"p": c * x["a"], "q": x["b"]}),
            0.0,
            {"a": jnp.arange(3.0), "b": jnp.arange(6).reshape(3, 2)},
        )
        rc, rys = lax.scan(lambda c, x: (c + x, c * x), 0.0, jnp.arange(3.0), reverse=True)
        k, ks = lax.scan(lambda c, _: (c + 1, 7), 0, None, length=3)
        m = lax.map(lambda x: x * 2, jnp.arange(3))
        return (w, f, none, c, ys, rc, rys, k, ks, m), seen

    (got, seen_i), (want, seen_j) = _both(program)
    assert seen_i == seen_j == [("w", True)] * 3 + [("f", "int")] * 3
    assert type(got[1]) is float and got[1] == want[1] == 3.5
    assert got[2] == want[2] == 1 and got[7] == want[7] == 3
    assert_matches_jax([got[0]] + list(got[3:7]) + list(got[8:]), [want[0]] + list(want[3:7]) + list(want[8:]))


def test_zero_length_scan_is_refused_as_in_jax():
    for lib in (irjax, jax):
        with lib.disable_jit(), pytest.raises(ValueError, match="zero-length scan is not supported in disable_jit"):
            lib.lax.scan(lambda c, x: (c + x, c), 0.0, lib.numpy.zeros(0))


def test_transformations_inside_disable_jit():
    def program(lib):
        lax, jnp = lib.lax, lib.numpy
        loop = lib.grad(lambda x: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * x), (0, x))[1])
        fori = lib.grad(lambda x: lax.fori_loop(0, 3, lambda i, c: c * x, x))
        batched_while = lib.vmap(lambda x: lax.while_loop(lambda c: c < 3, lambda c: c + x, 0.0))
        batched_cond = lib.vmap(lambda p, x: lax.cond(p, lambda x: x, lambda x: -x, x))
        batched_scan = lib.vmap(lambda x: lax.scan(lambda c, y: (c + y * x, c), 0.0, jnp.arange(3.0)))
        return (
            loop(2.0),
            fori(2.0),
            batched_while(jnp.array([1.0, 2.0])),
            batched_cond(jnp.array([True, False]), jnp.ones(2)),
            batched_scan(jnp.array([1.0, 2.0])),
            lib.grad(lib.jit(lambda x: x * x))(3.0),
        )

    got, want = _both(program)
    assert_matches_jax(got, want)


def test_disable_jit_is_per_thread_and_jit_compiles_again_after():
    seen = {}

    def f(x):
        seen[threading.current_thread().name] = _concrete(x)
        return x + 1

    jf = irjax.jit(f)
    barrier = threading.Barrier(2)

    def run(off):
        if off:
            with irjax.disable_jit():
                barrier.wait()
                jf(np.float32(1.0))
                barrier.wait()
        else:
            barrier.wait()
            jf(np.float32(2.0))
            barrier.wait()

    threads = [threading.Thread(target=run, args=(off,), name=f"off={off}") for off in (True, False)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"off=True": True, "off=False": False}
    seen.clear()
    assert float(jf(np.float32(3.0))) == 4.0 and seen == {}  # (traced by the other thread)
    assert jf(np.ones(2, np.float32)).tolist() == [2.0, 2.0] and seen == {"MainThread": False}
