"""x64 mode against JAX with jax_enable_x64: 64-bit defaults, promotion, arithmetic that overflows
int32 or needs float64, reductions, matmul, random; switching it back restores today's 32-bit rules.
JAX's side runs in a subprocess with JAX_ENABLE_X64=1 (the same source, run by both libraries)."""

import json
import os
import subprocess
import sys
import warnings

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import dtypes

jax = pytest.importorskip("jax")

# one program, run with `jax` by JAX (x64 on, in a subprocess) and with `irjax` here
CASES = r"""
def cases(jax, jnp):
    out = {}
    out["arange"] = jnp.arange(3)
    out["array_float"] = jnp.array(1.0)
    out["array_int"] = jnp.array([1, 2])
    out["zeros"] = jnp.zeros(2)
    out["linspace"] = jnp.linspace(0, 1, 5)
    out["full_int"] = jnp.full((2,), 7)
    big = jnp.array([3_000_000_000, -5, 2**40 + 3])
    out["big_mul"] = big * 3
    out["big_add_weak"] = big + 2**33
    out["big_floordiv"] = big // 7
    out["big_shift"] = big >> 3
    out["big_jit"] = jax.jit(lambda v: v * 2 + 1)(big)
    u = jnp.array([2**63 + 5, 7], dtype=jnp.uint64)
    out["u64_add"] = u + 10
    f = jnp.array([1.0 + 1e-12, 2.0, 1e300])
    out["f64_mul"] = f * f
    out["f64_div"] = f / 3
    out["f64_exp_log"] = jnp.log(jnp.exp(jnp.array([0.5, 700.0])))
    out["f64_sqrt"] = jnp.sqrt(jnp.array([2.0, 1e-300]))
    out["i32_times_f64"] = jnp.array([3], jnp.int32) * jnp.array([0.1])
    out["f32_plus_weak"] = jnp.array([1.5], jnp.float32) + 1e-12
    out["i64_sum"] = jnp.sum(big)
    out["i64_cumsum"] = jnp.cumsum(big)
    out["i64_mean"] = jnp.mean(big)
    out["f64_sum"] = jnp.sum(jnp.array([1.0, 1e-16, -1.0]))
    out["f64_max"] = jnp.max(f)
    out["argmax"] = jnp.argmax(f)
    m = jnp.arange(12.0).reshape(3, 4) / 7
    out["f64_matmul"] = m @ m.T
    out["i64_matmul"] = (jnp.arange(6).reshape(2, 3) @ jnp.arange(6).reshape(3, 2)) * 2**33
    out["f64_grad"] = jax.grad(lambda v: jnp.sum(v**3))(jnp.array([1.0 + 1e-9, 2.0]))
    out["astype"] = f.astype(jnp.float32)
    t = jnp.array([1e-300, -1e-10, 0.3, -0.49, 0.7, 3.141592653589793, -2.5, 20.0, 1234.5])
    out["f64_trig"] = jnp.stack([jnp.sin(t), jnp.cos(t), jnp.tan(t)])
    out["f64_hyp"] = jnp.stack([jnp.tanh(t), jnp.expm1(t), jnp.sinh(t)])
    out["f64_atan"] = jnp.stack([jnp.arctan(t), jnp.arctan2(t, -1.5), jnp.fmod(t, 0.7)])
    out["f64_asin"] = jnp.stack([jnp.arcsin(t / 1300), jnp.arccos(t / 1300)])
    out["f64_more"] = jnp.stack([jnp.cbrt(t), jnp.log1p(jnp.abs(t)), jnp.arcsinh(t), jnp.arctanh(t / 1300)])
    out["bool_sum"] = jnp.sum(jnp.array([True, False, True]))
    key = jax.random.PRNGKey(2**40 + 5)
    out["key"] = jax.random.key_data(key)
    out["key_small"] = jax.random.key_data(jax.random.PRNGKey(-1))
    out["uniform"] = jax.random.uniform(key, (4,))
    out["normal"] = jax.random.normal(key, (4,))
    out["randint"] = jax.random.randint(key, (4,), 0, 2**40)
    out["bits64"] = jax.random.bits(key, (3,), dtype=jnp.uint64)
    out["split"] = jax.random.key_data(jax.random.split(key, 2))
    return out
"""


def _encode(out):
    return {k: {"dtype": str(np.asarray(v).dtype), "value": np.asarray(v).tolist()} for k, v in out.items()}


@pytest.fixture(scope="module")
def jax_x64_results():
    prog = CASES + (
        "\nimport json, sys, numpy as np, jax, jax.numpy as jnp\n"
        "out = cases(jax, jnp)\n"
        "json.dump({k: {'dtype': str(np.asarray(v).dtype), 'value': np.asarray(v).tolist()} for k, v in out.items()}, sys.stdout)\n"
    )
    env = {**os.environ, "JAX_ENABLE_X64": "1", "JAX_PLATFORMS": "cpu"}
    r = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout)


@pytest.fixture
def x64():
    irjax.config.update("jax_enable_x64", True)
    try:
        yield
    finally:
        irjax.config.update("jax_enable_x64", False)


@pytest.mark.slow  # (~45 eager compiles and a JAX subprocess)
def test_x64_programs_match_jax(jax_x64_results, x64):
    ns = {}
    exec(CASES, ns)
    got = _encode(ns["cases"](irjax, jnp))
    assert got.keys() == jax_x64_results.keys()
    for k, want in jax_x64_results.items():
        g = got[k]
        assert g["dtype"] == want["dtype"], (k, g["dtype"], want["dtype"])
        gv, wv = np.asarray(g["value"]), np.asarray(want["value"])
        if k.startswith(("f64_trig", "f64_hyp", "f64_atan", "f64_asin", "f64_more")):
            # float64 math built here (IREE links no libm double sin/tanh/atan2/fmod): a few ulps
            np.testing.assert_allclose(gv, wv, rtol=2e-15, atol=1e-300, err_msg=k)
        elif want["dtype"].startswith("float"):
            # float64 all the way: agreement to ~1e-15, far beyond float32's 1e-7
            np.testing.assert_allclose(gv, wv, rtol=4e-16 if k != "normal" else 1e-14, atol=0, err_msg=k)
        else:
            np.testing.assert_array_equal(gv, wv, err_msg=k)


def test_x64_promotion_table_matches_jax(x64):
    names = ["bool", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64"]
    names += ["float16", "bfloat16", "float32", "float64"]
    kinds = [np.dtype(jax.numpy.dtype(n)) for n in names] + [int, float]
    jax.config.update("jax_enable_x64", True)
    try:
        for a in kinds:
            for b in kinds:
                assert dtypes.promote_types(a, b) == jax.numpy.promote_types(a, b), (a, b)
                assert jnp.result_type(a, b) == jax.numpy.result_type(a, b), (a, b)
                # Python scalars for int/float (weak); `is`, since np.dtype('int64') == int
                va = a(1) if a is int or a is float else np.ones((), a)
                vb = b(1) if b is int or b is float else np.ones((), b)
                want = jax.dtypes.result_type(va, vb, return_weak_type_flag=True)
                assert dtypes.result_type(va, vb, return_weak_type_flag=True) == tuple(want), (a, b)
        assert irjax.numpy.array(1).dtype == np.int64 and irjax.numpy.array(1.0).dtype == np.float64
    finally:
        jax.config.update("jax_enable_x64", False)


def test_switching_x64_keys_the_trace_cache_and_restores_32_bit_rules():
    f = irjax.jit(lambda: jnp.arange(3) + 1)
    assert f().dtype == np.int32
    with irjax.enable_x64():
        assert irjax.config.jax_enable_x64 is True and irjax.config.read("jax_enable_x64") is True
        assert f().dtype == np.int64  # retraced: not the x64-off trace
        big = jnp.array(2**40) * 4
        assert big.dtype == np.int64 and int(big) == 2**42
    assert irjax.config.jax_enable_x64 is False
    assert f().dtype == np.int32
    # x64 off: 64-bit inputs canonicalize to 32 bits, as in JAX
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = jax.numpy.array(np.arange(3, dtype=np.int64))
    got = jnp.array(np.arange(3, dtype=np.int64))
    assert got.dtype == want.dtype == np.int32
    assert jnp.asarray(np.ones(2, np.float64)).dtype == np.float32
    assert dtypes.promote_types(np.uint32, np.int32) == jax.numpy.promote_types(np.uint32, np.int32) == np.int32
    with pytest.raises(ValueError, match="jax_enable_x64 must be a bool"):
        irjax.config.update("jax_enable_x64", "yes")


def test_float64_keeps_its_precision_through_iree():
    # IREE demotes f64 to f32 unless told not to; a float32 result would lose the 1e-12
    with irjax.enable_x64():
        x = jnp.array([1.0 + 2.0**-40])
        y = irjax.jit(lambda v: (v - 1.0) * 2.0**40)(x)
        assert y.dtype == np.float64 and float(y[0]) == 1.0


@pytest.mark.parametrize(
    "env,expect",
    [
        ({"JAX_ENABLE_X64": "1"}, "True int64 float64"),
        ({"IRJAX_ENABLE_X64": "true"}, "True int64 float64"),
        ({"JAX_ENABLE_X64": "1", "IRJAX_ENABLE_X64": "0"}, "False int32 float32"),
        ({}, "False int32 float32"),
    ],
)
def test_environment_turns_x64_on_at_import(env, expect):
    base = {k: v for k, v in os.environ.items() if k not in ("JAX_ENABLE_X64", "IRJAX_ENABLE_X64")}
    prog = (
        "import irjax, irjax.numpy as jnp\n"
        "print(irjax.config.jax_enable_x64, irjax.dtypes.default_int, jnp.zeros(1).dtype if False else "
        "irjax.dtypes.canonicalize_dtype(float))\n"
    )
    r = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, env={**base, **env}, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == expect.split()


def test_float64_math_without_a_float64_kernel_warns():
    with irjax.enable_x64():
        with pytest.warns(RuntimeWarning, match="computed in float32"):
            y = irjax.jit(irjax.lax.lgamma)(jnp.array([0.5, 3.0]))
        assert y.dtype == np.float64
        np.testing.assert_allclose(np.asarray(y), [0.5723649429247001, 0.6931471805599453], rtol=1e-6)


def test_float64_to_bfloat16_rounds_once_like_ml_dtypes():
    # 1 + 2**-8 + 2**-40 is just above a bfloat16 tie: one rounding goes up (ml_dtypes); through
    # float32 it would become the tie and round to even (1.0). irjax rounds to odd in float32 first.
    bf16 = np.dtype(jnp.bfloat16)
    rng = np.random.default_rng(0)
    x = np.concatenate([[1 + 2**-8 + 2**-40, -(1 + 2**-8 + 2**-40), 1 + 2**-8, 3.0000001, 1e39, -np.inf, 0.0, -0.0]])
    x = np.concatenate([x, rng.normal(size=2000) * 10.0 ** rng.integers(-30, 30, 2000)])
    with irjax.enable_x64():
        got = np.asarray(irjax.jit(lambda v: v.astype(jnp.bfloat16))(x))
    np.testing.assert_array_equal(got.view(np.uint16), x.astype(bf16).view(np.uint16))


def test_one_jitted_x64_program_matches_jax_in_process(x64):
    """A small differential check for the default suite (JAX's x64 flag set here, then restored)."""

    def f(xp, i, u, x):
        math = [xp.sin(x), xp.tanh(x), xp.cbrt(x), xp.log1p(x), xp.arctanh(x / 3), xp.arctan2(x, -x), xp.expm1(x)]
        return [
            i * 3 + 2**33,
            i // 7,
            xp.sum(i),
            u + 10,
            x * x,
            xp.mean(x),
            x @ x,
            xp.cumsum(x) / 3,
            xp.arange(3),
        ] + math

    i = np.array([3_000_000_000, -5, 2**40 + 3], np.int64)
    u = np.array([2**63 + 5, 7, 9], np.uint64)
    x = np.array([1.0 + 1e-12, 2.0, 1e-300])
    got = irjax.jit(lambda *a: f(jnp, *a))(i, u, x)
    jax.config.update("jax_enable_x64", True)
    try:
        want = jax.jit(lambda *a: f(jax.numpy, *a))(i, u, x)
    finally:
        jax.config.update("jax_enable_x64", False)
    for k, (g, w) in enumerate(zip(got, want)):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype, k
        # float64 math built here (no libm double kernels in IREE): a few ulps
        np.testing.assert_allclose(g, w, rtol=4e-16 if k < 9 else 2e-15, atol=0, err_msg=str(k))


def test_jit_fast_path_follows_the_x64_flag():
    # a cached 32-bit trace must not serve calls once x64 is on (and back)
    f = irjax.jit(lambda x: x + jnp.arange(3))
    x = jnp.ones(3, jnp.int32)
    assert f(x).dtype == np.int32 and f(x).dtype == np.int32  # second call: the fast path
    irjax.config.update("jax_enable_x64", True)
    try:
        assert f(x).dtype == np.int64 and f(x).dtype == np.int64
    finally:
        irjax.config.update("jax_enable_x64", False)
    assert f(x).dtype == np.int32
