"""Zero-size shapes and reduction dtypes against JAX (values and dtypes; eager, jit, grad, vmap).

IREE 3.13 died with SIGFPE compiling a dispatch that reads a zero-size operand into a
non-empty result (`jnp.sum(jnp.zeros((0, 3)), axis=0)`), so the zero-size cases run in a
child process: a regression fails these tests instead of killing pytest.
"""

import json
import os
import subprocess
import sys
import textwrap

import irjax.numpy as jnp
import jax
import jax.numpy as jnp_ref
import numpy as np
import pytest

jax.config.update("jax_platforms", "cpu")

# expressions over `np` (NumPy), `jnp` and `jax`, evaluated with irjax and with JAX
ZERO_SIZE = [
    "jnp.sum(jnp.zeros((0, 3)), axis=0)",
    "jnp.sum(jnp.zeros((0, 3)), axis=1)",
    "jnp.sum(jnp.zeros((0, 3)))",
    "jnp.sum(jnp.zeros((0, 3), jnp.int32), axis=0)",
    "jnp.sum(jnp.zeros((2, 0, 3)), axis=(0, 1))",
    "jnp.sum(jnp.zeros((0, 3), jnp.uint8), axis=0)",
    "jnp.sum(jnp.zeros((0, 3), bool), axis=0)",
    "jnp.prod(jnp.zeros((0, 3)), axis=0)",
    "jnp.prod(jnp.zeros((3, 0), jnp.int32), axis=1)",
    "jnp.max(jnp.zeros((0, 3)), axis=1)",
    "jnp.max(jnp.zeros((0, 3)), axis=0, initial=-1.0)",
    "jnp.min(jnp.zeros((0, 3), jnp.int32), axis=0, initial=7)",
    "jnp.max(jnp.zeros((0, 3)), axis=0)",
    "jnp.min(jnp.zeros((0,)))",
    "jnp.argmax(jnp.zeros((0, 3)), axis=0)",
    "jnp.argmin(jnp.zeros((0,)))",
    "jnp.argmax(jnp.zeros((0, 3)), axis=1)",
    "jnp.mean(jnp.zeros((0, 3)), axis=0)",
    "jnp.mean(jnp.zeros((0,)))",
    "jnp.var(jnp.zeros((0, 3)), axis=0)",
    "jnp.std(jnp.zeros((0,)))",
    "jnp.average(jnp.zeros((0, 3)), axis=0)",
    "jnp.all(jnp.zeros((0, 3), bool), axis=0)",
    "jnp.any(jnp.zeros((0, 3), bool), axis=0)",
    "jnp.count_nonzero(jnp.zeros((0, 3)), axis=0)",
    "jnp.nansum(jnp.zeros((0, 3)), axis=0)",
    "jnp.nanprod(jnp.zeros((0, 3)), axis=0)",
    "jnp.cumsum(jnp.zeros((0, 3)), axis=0)",
    "jnp.cumsum(jnp.zeros((0, 3)), axis=1)",
    "jnp.cumprod(jnp.zeros((3, 0)), axis=0)",
    "jnp.cumsum(jnp.zeros((0,), jnp.int8))",
    "jnp.zeros((2, 0)) @ jnp.zeros((0, 3))",
    "jnp.zeros((0, 2)) @ jnp.zeros((2, 3))",
    "jnp.dot(jnp.zeros((0,)), jnp.zeros((0,)))",
    "jnp.dot(jnp.zeros((2, 0), jnp.int32), jnp.zeros((0,), jnp.int32))",
    "jnp.matmul(jnp.zeros((4, 2, 0)), jnp.zeros((4, 0, 3)))",
    "jnp.outer(jnp.zeros((0,)), jnp.ones((3,)))",
    "jnp.trace(jnp.zeros((0, 0)))",
    "jnp.linalg.inv(jnp.zeros((0, 0)))",
    "jnp.linalg.det(jnp.zeros((0, 0)))",
    "jnp.linalg.det(jnp.zeros((2, 0, 0)))",
    "jnp.linalg.slogdet(jnp.zeros((0, 0)))",
    "jnp.linalg.solve(jnp.zeros((0, 0)), jnp.zeros((0,)))",
    "jnp.linalg.cholesky(jnp.zeros((0, 0)))",
    "jnp.linalg.qr(jnp.zeros((0, 0)))",
    "jnp.linalg.eigh(jnp.zeros((0, 0)))",
    "jnp.linalg.svd(jnp.zeros((0, 0)))",
    "jnp.linalg.norm(jnp.zeros((0,)))",
    "jnp.linalg.norm(jnp.zeros((0, 0)))",
    "jnp.sort(jnp.zeros((0, 3)), axis=0)",
    "jnp.argsort(jnp.zeros((0,)))",
    "jnp.concatenate([jnp.zeros((0, 3)), jnp.ones((2, 3))])",
    "jnp.concatenate([jnp.ones((2, 0)), jnp.ones((2, 3)), jnp.zeros((2, 0))], axis=1)",
    "jnp.stack([jnp.zeros((0,)), jnp.zeros((0,))])",
    "jnp.pad(jnp.zeros((0,)), 2, constant_values=3.0)",
    "jnp.ones((4, 3))[2:2]",
    "jnp.zeros((0, 3))[:, 1]",
    "jnp.zeros((0, 3))[jnp.zeros((0,), jnp.int32)]",
    "jnp.ones((3,))[jnp.zeros((0,), jnp.int32)]",
    "jnp.ones((3,)).at[jnp.zeros((0,), jnp.int32)].set(5.0)",
    "jnp.ones((3,)).at[jnp.zeros((0,), jnp.int32)].add(jnp.zeros((0,)))",
    "jnp.take(jnp.zeros((0,)), jnp.zeros((2,), jnp.int32))",
    "jnp.where(jnp.zeros((0, 3), bool), jnp.zeros((0, 3)), 1.0)",
    "jnp.sin(jnp.zeros((0, 3))) + jnp.ones((3,))",
    "jax.lax.dynamic_update_slice(jnp.ones((3,)), jnp.zeros((0,)), (1,))",
    "jax.lax.dynamic_slice(jnp.ones((3,)), (1,), (0,))",
    "jax.nn.logsumexp(jnp.zeros((0, 3)), axis=0)",
    "jax.grad(lambda x: jnp.sum(x))(jnp.zeros((0, 3)))",
    "jax.grad(lambda x: jnp.sum(jnp.sum(x, axis=0) * 2.0) + 1.0)(jnp.zeros((0, 3)))",
    "jax.vmap(jnp.sum)(jnp.zeros((3, 0)))",
    "jax.lax.scan(lambda c, x: (c + jnp.sum(x), x * 2), jnp.ones(2), jnp.zeros((0, 3)))",
    "jax.lax.fori_loop(0, 3, lambda i, c: (c[0] + 1.0, c[1] * 2), (0.0, jnp.zeros((0, 2))))",
    "jax.lax.cond(True, lambda x: jnp.sum(x, axis=0), lambda x: jnp.prod(x, axis=0), jnp.zeros((0, 3)))",
    "jax.jacfwd(lambda x: jnp.sum(x, axis=0))(jnp.zeros((0, 2)))",
    "jnp.unique(jnp.zeros((0,)), size=2, fill_value=1.0)",
    "jax.vmap(lambda a: a @ jnp.zeros((0, 2)))(jnp.zeros((3, 0)))",
]

_CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import irjax as jax, irjax.numpy as jnp
    cases, mode = json.loads(sys.argv[1]), sys.argv[2]
    for i, e in enumerate(cases):
        try:
            r = jax.jit(lambda: eval(e))() if mode == "jit" else eval(e)
            leaves = [np.asarray(l) for l in jax.tree_util.tree_leaves(r)]
            out = ["ok", [[str(l.dtype), list(l.shape), np.where(np.isnan(l), None, l).tolist()
                           if l.dtype.kind == "f" else l.tolist()] for l in leaves]]
        except Exception as ex:  # the error class is compared with JAX's
            out = ["error", type(ex).__name__, str(ex)]
        print(json.dumps([i, out]), flush=True)
    """
)


def _run_child(cases, mode):
    """{index: result} from a child process; a case that kills it is reported, then the rest run."""
    results, start = {}, 0
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    while start < len(cases):
        p = subprocess.run(
            [sys.executable, "-c", _CHILD, json.dumps(cases[start:]), mode],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
        last = start - 1
        for line in p.stdout.splitlines():
            i, out = json.loads(line)
            results[start + i] = out
            last = start + i
        if p.returncode == 0:
            break
        results[last + 1] = ["crash", p.returncode, p.stderr[-2000:]]
        start = last + 2
    return results


@pytest.fixture(scope="module", params=["eager", "jit"])
def zero_size_results(request):
    return request.param, _run_child(ZERO_SIZE, request.param)


def _jax_result(expr, mode):
    env = {"np": np, "jnp": jnp_ref, "jax": jax}
    try:
        r = jax.jit(lambda: eval(expr, env))() if mode == "jit" else eval(expr, env)
    except Exception as ex:  # noqa: BLE001
        return ["error", type(ex).__name__, str(ex)]
    return ["ok", [np.asarray(l) for l in jax.tree_util.tree_leaves(r)]]


# where irjax's error class differs from JAX's but both refuse the input
_ERROR_ALIASES = {"VerifyError": "TypeError"}


@pytest.mark.parametrize("k", range(len(ZERO_SIZE)), ids=[e[:60] for e in ZERO_SIZE])
def test_zero_size_matches_jax(zero_size_results, k):
    mode, results = zero_size_results
    expr = ZERO_SIZE[k]
    got, want = results.get(k), _jax_result(expr, mode)
    assert got is not None and got[0] != "crash", f"{expr} ({mode}) killed the process: {got}"
    if want[0] == "error":
        assert got[0] == "error", f"{expr}: JAX raises {want[1]}, irjax returned {got}"
        assert _ERROR_ALIASES.get(got[1], got[1]) == want[1] or got[1] == want[1], (got, want)
        return
    assert got[0] == "ok", f"{expr} ({mode}): irjax raised {got[1:]}"
    assert len(got[1]) == len(want[1])
    for (dt, shape, vals), w in zip(got[1], want[1]):
        assert (dt, tuple(shape)) == (str(w.dtype), w.shape), (expr, dt, shape, w.dtype, w.shape)
        v = np.array(
            [np.nan if x is None else x for x in np.ravel(vals)] if dt.startswith("float") else vals, dtype=w.dtype
        )
        np.testing.assert_allclose(v.reshape(w.shape), w, rtol=1e-6, atol=1e-6, equal_nan=True, err_msg=expr)


# ---- reduction dtypes ------------------------------------------------------------------------

DTYPES = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "float16", "float32"]
REDUCTIONS = [
    "sum",
    "prod",
    "max",
    "min",
    "mean",
    "var",
    "cumsum",
    "cumprod",
    "nansum",
    "nanprod",
    "nanmean",
    "nancumsum",
    "nancumprod",
    "median",
    "average",
    "count_nonzero",
    "argmax",
    "cumulative_sum",
    "cumulative_prod",
]


@pytest.mark.parametrize("dt", DTYPES)
def test_reduction_dtypes_match_jax(dt):
    """Every reduction keeps JAX's result dtype (int8 cumsum stays int8, sum of uint8 is
    uint32, cumulative_sum promotes, median of float16 stays float16, ...) and its values."""
    x = (np.arange(6).reshape(2, 3) % 3).astype(dt)
    for name in REDUCTIONS:
        kw = {"axis": 1}
        try:
            want = getattr(jnp_ref, name)(x, **kw)
        except Exception as ex:  # noqa: BLE001
            with pytest.raises(Exception) as got:  # noqa: PT011
                getattr(jnp, name)(x, **kw)
            assert type(got.value).__name__ in (type(ex).__name__, "TypeError", "VerifyError"), (name, dt)
            continue
        got = getattr(jnp, name)(x, **kw)
        assert got.dtype == want.dtype, (name, dt, got.dtype, want.dtype)
        np.testing.assert_allclose(
            np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=2e-3, err_msg=f"{name} {dt}"
        )


def test_small_int_cumsum_wraps_like_jax():
    x = np.array([100, 100, 100], np.int8)
    for f in ("cumsum", "cumprod"):
        got, want = getattr(jnp, f)(x), getattr(jnp_ref, f)(x)
        assert got.dtype == want.dtype == np.int8
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    got = jnp.cumulative_sum(np.ones((2, 3), np.uint8), axis=1, include_initial=True)
    want = jnp_ref.cumulative_sum(np.ones((2, 3), np.uint8), axis=1, include_initial=True)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_zero_size_guard_covers_registered_ops():
    """Every jx op's lowering, as lower-stablehlo applies it, goes through the zero-size guard,
    later registrations too."""
    from irjax.dialects import registry
    from irjax.passes.lower_stablehlo import lowering_rule

    prims = registry.all_primitives()
    unguarded = [
        n
        for n, p in prims.items()
        if p.lower is not None and not getattr(lowering_rule(p), "_zero_size_guarded", False)
    ]
    assert not unguarded
    late = registry.register(registry.Primitive("_numb_probe_op", lambda x: x, lower=lambda ctx, x: x))
    try:
        assert lowering_rule(late)._zero_size_guarded
    finally:
        registry._REGISTRY.pop("_numb_probe_op")


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize(
    "x",
    [[[0.0, 2.0, 4.0], [1.0, 3.0, 0.5]], [[0.0, 0.0, 4.0], [1.0, 3.0, 2.0]], [[1.5, 2.0, 4.0], [1.0, -3.0, 0.5]]],
    ids=["one_zero", "two_zeros", "no_zero"],
)
def test_grad_of_prod_with_zeros_is_exact(x, axis):
    """d prod / d x_i is the product of the others: exact at zeros (JAX), never 0/0 = NaN."""
    import irjax

    x = np.asarray(x, np.float32)

    def f(jnp_):
        return lambda v: (jnp_.prod(v, axis=axis) * np.float32(1.5)).sum()

    want = np.asarray(jax.grad(f(jnp_ref))(x))
    for g in (irjax.grad(f(jnp)), irjax.jit(irjax.grad(f(jnp)))):
        got = np.asarray(g(x))
        np.testing.assert_allclose(got, want, rtol=1e-6)
    # forward mode agrees too
    t = np.ones_like(x)
    np.testing.assert_allclose(
        np.asarray(irjax.jvp(f(jnp), (x,), (t,))[1]), np.asarray(jax.jvp(f(jnp_ref), (x,), (t,))[1]), rtol=1e-6
    )
