"""Silent wrong answers in elementwise math and dtypes (issue 12): irjax against JAX on special
values, eagerly, under jit and under grad; plus property tests over edge values per dtype."""

from __future__ import annotations

import subprocess
import sys
import warnings

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest

jax = pytest.importorskip("jax")
jjnp = pytest.importorskip("jax.numpy")
warnings.filterwarnings("ignore", message=".*Explicitly requested dtype.*")

INF, NAN = np.inf, np.nan


def _same(got, want, ulps=0, what=""):
    """Equal dtype, shape, NaN and infinity positions, sign of zeros; finite values within `ulps`."""
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype, f"{what}: dtype {g.dtype} != {w.dtype}"
    assert g.shape == w.shape, f"{what}: shape {g.shape} != {w.shape}"
    if g.dtype.kind != "f":
        np.testing.assert_array_equal(g, w, err_msg=what)
        return
    np.testing.assert_array_equal(np.isnan(g), np.isnan(w), err_msg=f"{what}: NaN positions")
    fin = np.isfinite(w)
    np.testing.assert_array_equal(np.where(fin, 0, g), np.where(fin, 0, w), err_msg=f"{what}: infinities")
    zero = w == 0
    np.testing.assert_array_equal(np.signbit(g[zero]), np.signbit(w[zero]), err_msg=f"{what}: sign of zero")
    g64, w64 = g[fin].astype(np.float64), w[fin].astype(np.float64)
    tol = ulps * np.spacing(np.abs(w[fin])).astype(np.float64)
    bad = np.abs(g64 - w64) > tol
    assert not bad.any(), f"{what}: {g[fin][bad][:5]} != {w[fin][bad][:5]} (inputs at {np.flatnonzero(fin)[bad][:5]})"


def _both(f_irjax, f_jax, *args, ulps=0, what=""):
    """f eagerly and under jit in irjax against jit(f) in JAX."""
    want = jax.jit(f_jax)(*args)
    mine = [jnp.asarray(a) for a in args]  # irjax Arrays, so operators (a ** b) run in irjax
    _same(f_irjax(*mine), want, ulps, f"{what} eager")
    _same(irjax.jit(f_irjax)(*mine), want, ulps, f"{what} jit")


# ---- 1. pow ---------------------------------------------------------------------------------

_BASES = [-2.0, -1.0, -0.0, 0.0, 1.0, 2.0, 0.5, NAN, INF, -INF, -3.0]
_EXPS = [3.0, 2.0, 0.0, -0.0, -1.0, -2.0, 0.5, -0.5, NAN, INF, -INF, 1.0]


def test_pow_special_values():
    x = np.array([b for b in _BASES for _ in _EXPS], np.float32)
    y = np.array([e for _ in _BASES for e in _EXPS], np.float32)
    # values within 2 ulp (IREE's powf: (-3.)**3 = -27.000002), special values exact
    _both(jnp.power, jjnp.power, x, y, ulps=2, what="power grid")
    _both(lambda a, b: a**b, lambda a, b: a**b, x, y, ulps=2, what="** grid")


def test_pow_scalar_cases():
    for b, e in [(-2.0, 3.0), (-2.0, 0.0), (NAN, 0.0), (0.0, 0.0), (-INF, 3.0), (-2.0, 0.5), (1.0, NAN)]:
        _both(jnp.power, jjnp.power, np.float32(b), np.float32(e), ulps=2, what=f"{b}**{e}")


def test_pow_accuracy_positive_bases():
    """IREE's powf is exp2(y log2 x) in f32: its error grows with |y log2 x| (measured: up to
    ~0.5 ulp per unit of |y log2 x|, 97 ulp near overflow); JAX's is under 1 ulp. This pins the
    bound so it cannot get worse; the accuracy gap itself is listed as open in issue 12."""
    rng = np.random.default_rng(0)
    x = np.exp(rng.uniform(-20, 20, 2000)).astype(np.float32)
    y = rng.uniform(-4, 4, 2000).astype(np.float32)
    want = np.asarray(jax.jit(jjnp.power)(x, y))
    bound = 2 + np.abs(y.astype(np.float64) * np.log2(x.astype(np.float64)))
    for got in (jnp.power(x, y), irjax.jit(jnp.power)(x, y)):
        got = np.asarray(got)
        assert got.dtype == np.float32
        fin = np.isfinite(want)
        np.testing.assert_array_equal(np.isfinite(got), fin)
        ulps = np.abs(got[fin].astype(np.float64) - want[fin]) / np.spacing(np.abs(want[fin])).astype(np.float64)
        assert (ulps <= bound[fin]).all(), ulps.max()
    small = np.abs(y * np.log2(x)) < 1  # here it is as exact as JAX
    _both(jnp.power, jjnp.power, x[small], y[small], ulps=1, what="power, |y log2 x| < 1")


def test_integer_pow():
    i = np.array([2, 3, -2, 0, -1, 7], np.int32)
    e = np.array([3, 0, 2, 5, 3, 1], np.int32)
    _both(jnp.power, jjnp.power, i, e, what="int ** int array")
    u = np.array([2, 3, 255, 0, 1, 16], np.uint8)
    _both(jnp.power, jjnp.power, u, np.array([3, 2, 2, 0, 9, 2], np.uint8), what="uint8 power")
    for k in (0, 1, 2, 3, 5):
        _both(lambda a, k=k: a**k, lambda a, k=k: a**k, u, what=f"uint8 ** {k}")
        _both(lambda a, k=k: a**k, lambda a, k=k: a**k, np.array([-2.0, -0.0, 1.5, INF], np.float32), what=f"x ** {k}")
    x = np.array([-2.0, 1.5], np.float32)
    _both(lambda a: jnp.asarray(a) ** np.int32(3), lambda a: jjnp.asarray(a) ** np.int32(3), x, what="** np.int32")
    _both(lambda a: a**-2, lambda a: a**-2, np.array([-2.0, 0.0, -0.0, 4.0], np.float32), what="x ** -2")
    with pytest.raises(TypeError, match="Integers cannot be raised to negative powers"):
        jnp.array([2, 3]) ** -1
    with pytest.raises(TypeError, match="Integers cannot be raised to negative powers"):
        jjnp.array([2, 3]) ** -1  # the oracle agrees on the error class


@pytest.mark.parametrize("x,y", [(0.0, 2.0), (0.0, 0.0), (-2.0, 3.0), (0.0, 0.5), (2.0, 0.5), (0.0, -1.0), (3.0, 0.0)])
def test_pow_grad(x, y):
    for argnums in (0, 1):
        want = jax.grad(jjnp.power, argnums=argnums)(np.float32(x), np.float32(y))
        got = irjax.grad(jnp.power, argnums=argnums)(np.float32(x), np.float32(y))
        _same(got, want, 1, f"d/d{'xy'[argnums]} {x}**{y}")
        got = irjax.jit(irjax.grad(jnp.power, argnums=argnums))(np.float32(x), np.float32(y))
        _same(got, want, 1, f"jit d/d{'xy'[argnums]} {x}**{y}")


def test_pow_float_base_integer_exponent_array_grad():
    x = np.array([0.0, 0.0, 2.0, -1.0, 0.0], np.float32)
    y = np.array([0, 2, 0, 3, 1], np.int32)
    want = jax.grad(lambda v: jjnp.power(v, y).sum())(x)
    _same(irjax.grad(lambda v: jnp.power(v, y).sum())(x), want, 0, "grad x ** int array")
    _same(irjax.jit(irjax.grad(lambda v: jnp.power(v, y).sum()))(x), want, 0, "jit grad x ** int array")
    _both(jnp.power, jjnp.power, x, y, what="x ** int array")


def test_integer_pow_grad():
    for k in (0, 1, 2, 3, -1, -2):
        for x in (0.0, -2.0, 1.5):
            if k < 0 and x == 0.0:
                continue
            want = jax.grad(lambda v, k=k: v**k)(np.float32(x))
            _same(irjax.grad(lambda v, k=k: v**k)(np.float32(x)), want, 1, f"d/dx x**{k} at {x}")


# ---- 2. atan2, signed zeros, large trig arguments -------------------------------------------

_SPECIAL = [0.0, -0.0, 1.0, -1.0, INF, -INF, NAN]


def test_atan2_signed_zeros_and_infinities():
    y = np.array([a for a in _SPECIAL for _ in _SPECIAL], np.float32)
    x = np.array([b for _ in _SPECIAL for b in _SPECIAL], np.float32)
    _both(jnp.arctan2, jjnp.arctan2, y, x, ulps=1, what="arctan2")


def test_odd_functions_keep_sign_of_zero():
    z = np.array([-0.0, 0.0], np.float32)
    for name in (
        "sin",
        "tan",
        "arcsin",
        "arctan",
        "sinh",
        "tanh",
        "arcsinh",
        "arctanh",
        "expm1",
        "log1p",
        "cbrt",
        "sqrt",
        "trunc",
        "floor",
        "ceil",
        "rint",
        "sinc",
        "deg2rad",
    ):
        _both(getattr(jnp, name), getattr(jjnp, name), z, what=name)


def _trig_points():
    rng = np.random.default_rng(1)
    mags = np.concatenate([rng.uniform(0, 10, 1000), 10 ** rng.uniform(0, 38.5, 3000)])
    special = [
        3.99e7,
        1e10,
        1e20,
        1e30,
        3e38,
        np.pi / 4,
        np.pi / 2,
        np.pi,
        1.5707964,
        3.1415927,
        12345.678,
        2.0**49,
        2.0**73,
        2.0**97,
        2.0**121,
        1e-30,
        1e-45,
    ]
    x = np.concatenate([mags, special]) * rng.choice([-1, 1], len(mags) + len(special))
    return x.astype(np.float32)


@pytest.mark.parametrize("name,ulps", [("sin", 3), ("cos", 3), ("tan", 4)])
def test_trig_large_arguments(name, ulps):
    """Within a few ulp of JAX (XLA reduces exactly) up to 3e38; IREE's own were off by O(1)."""
    _both(getattr(jnp, name), getattr(jjnp, name), _trig_points(), ulps=ulps, what=name)


def test_trig_float16():
    x = np.array([0.0, -0.0, 0.5, -3.0, 1000.0, 65504.0, -65504.0, INF, NAN], np.float16)
    for name in ("sin", "cos", "tan"):
        _both(getattr(jnp, name), getattr(jjnp, name), x, ulps=1, what=f"{name} f16")


def test_trig_grad_large_arguments():
    for x in (3.99e7, 1e10, -1e20):
        want = jax.grad(jjnp.sin)(np.float32(x))
        _same(irjax.grad(jnp.sin)(np.float32(x)), want, 3, f"grad sin {x}")
        want = jax.grad(jjnp.cos)(np.float32(x))
        _same(irjax.grad(jnp.cos)(np.float32(x)), want, 3, f"grad cos {x}")


# ---- 3. derivatives at removable singularities ----------------------------------------------


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_sinc_derivatives_at_zero(order):
    f, g = jnp.sinc, jjnp.sinc
    for _ in range(order):
        f, g = irjax.grad(f), jax.grad(g)
    # at 0 the derivatives are exact Taylor coefficients; elsewhere f32 rounding grows with order.
    # The un-jitted 4th derivative is left out: its module fails to load in IREE 3.13 (its
    # initializer gets a dispatch with > 32 bindings), reported with issue 12; jit(...) loads
    runs = [irjax.jit(f)] + ([f] if order < 4 else [])
    for h in runs:
        _same(h(np.float32(0.0)), g(np.float32(0.0)), 1, f"sinc^({order})(0)")
        for x in (0.5, -1.25):
            _same(h(np.float32(x)), g(np.float32(x)), 4**order, f"sinc^({order})({x})")


def test_sinc_values():
    x = np.array([0.0, -0.0, 0.5, 1.0, -2.5, 1e-20, 1e6, INF, NAN], np.float32)
    _both(jnp.sinc, jjnp.sinc, x, ulps=2, what="sinc")
    _both(jnp.sinc, jjnp.sinc, np.array([0, 1, -3], np.int32), ulps=2, what="sinc int")


def test_hypot():
    x = np.array([3e30, 0.0, INF, NAN, -INF, 3.0, 1e-30, -0.0], np.float32)
    y = np.array([4e30, 0.0, NAN, 1.0, 2.0, -4.0, 1e-30, 0.0], np.float32)
    # jit only: eagerly the fused pending graph of hypot exceeds IREE's 32 bindings per dispatch
    # (frontend/lazy.py returns every intermediate; reported with issue 12)
    _same(irjax.jit(jnp.hypot)(x, y), jax.jit(jjnp.hypot)(x, y), 1, "hypot jit")
    _same(jnp.hypot(x[:2], y[:2]), jjnp.hypot(x[:2], y[:2]), 1, "hypot eager")
    # left out where JAX's gradient is off: x == y > 0 (1.06 for sqrt(2)/2, from its max/min tie
    # rule), (1e30, 2e30) (1.118 for 2/sqrt(5)) and (1e-30, 2e-30) (NaN); irjax is exact there
    for a, b in [(0.0, 0.0), (3.0, 4.0), (-3.0, 0.0), (1.0, -2.0), (1e-3, 2e-3)]:
        want = jax.grad(jjnp.hypot, argnums=(0, 1))(np.float32(a), np.float32(b))
        got = irjax.grad(jnp.hypot, argnums=(0, 1))(np.float32(a), np.float32(b))
        for gi, wi in zip(got, want):
            _same(gi, wi, 1, f"grad hypot {a},{b}")


def test_abs_grad_at_zero():
    for x in (0.0, -0.0, -2.0, 3.0):
        _same(irjax.grad(jnp.abs)(np.float32(x)), jax.grad(jjnp.abs)(np.float32(x)), 0, f"grad abs {x}")


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_special_values(name):
    f, g = getattr(jnp, name), getattr(jjnp, name)
    pairs = [(-INF, -INF), (INF, INF), (INF, -INF), (1.0, -INF), (NAN, 1.0), (1.0, 2.0), (-100.0, 100.0), (0.0, 0.0)]
    x = np.array([p[0] for p in pairs], np.float32)
    y = np.array([p[1] for p in pairs], np.float32)
    _both(f, g, x, y, ulps=2, what=name)
    for a, b in pairs:
        want = jax.grad(g, argnums=(0, 1))(np.float32(a), np.float32(b))
        got = irjax.grad(f, argnums=(0, 1))(np.float32(a), np.float32(b))
        for gi, wi in zip(got, want):
            _same(gi, wi, 2, f"grad {name} {a},{b}")


# ---- 4. Python ints out of range ------------------------------------------------------------

_OVERFLOWS = {
    "array(2**40)": lambda m: m.array(2**40),
    "array([2**40])": lambda m: m.array([2**40]),
    "array([2**63])": lambda m: m.array([2**63]),
    "array([-2**63])": lambda m: m.array([-(2**63)]),
    "array(2**64)": lambda m: m.array(2**64),
    "array([2**31])": lambda m: m.array([2**31]),
    "array([1, 2**40])": lambda m: m.array([1, 2**40]),
    "int32(2**40)": lambda m: m.int32(2**40),
    "uint32(2**32)": lambda m: m.uint32(2**32),
    "array([2**32], uint32)": lambda m: m.array([2**32], m.uint32),
    "array(-1, uint32)": lambda m: m.array(-1, m.uint32),
    "array(256, uint8)": lambda m: m.array(256, m.uint8),
    "zeros(3) + 2**40": lambda m: m.zeros(3) + 2**40,
    "ones(3, int32) + 2**40": lambda m: m.ones(3, m.int32) + 2**40,
    "array(True) + 2**31": lambda m: m.array(True) + 2**31,
    "where(c, 2**40, 0)": lambda m: m.where(m.ones(2, bool), 2**40, 0),
}


@pytest.mark.parametrize("case", sorted(_OVERFLOWS))
def test_python_int_overflow_raises(case):
    with pytest.raises(OverflowError):
        _OVERFLOWS[case](jjnp)  # the oracle raises too
    with pytest.raises(OverflowError):
        _OVERFLOWS[case](jnp)


def test_python_int_overflow_under_jit():
    with pytest.raises(OverflowError):
        irjax.jit(lambda x: x + 2**40)(jnp.ones(2, jnp.int32))
    with pytest.raises(OverflowError):
        irjax.jit(lambda x: x)(2**40)


def test_python_ints_in_range():
    cases = [
        lambda m: m.array(2**31 - 1),
        lambda m: m.array(-(2**31)),
        lambda m: m.array([2**31 - 1, -(2**31)]),
        lambda m: m.array(2**31, m.uint32),
        lambda m: m.array([2**32 - 1], m.uint32),
        lambda m: m.array(2**40, m.float32),
        lambda m: m.array([1.5, 2**40]),
        lambda m: m.ones(3, m.uint8) + 256,  # fits int32, then wraps into uint8 as in JAX
        lambda m: m.ones(2, m.uint32) + (-1),
        lambda m: m.ones(2, m.int8) + 200,
        lambda m: m.asarray(np.int64(2**40)),  # NumPy ints wrap (JAX too)
    ]
    for i, c in enumerate(cases):
        _same(c(jnp), c(jjnp), 0, f"case {i}")


# ---- 5. integer dtypes of rounding, vecdot, descending sorts, order='F' --------------------


@pytest.mark.parametrize("dtype", [np.int32, np.int8, np.uint8, np.uint32, np.bool_])
def test_rounding_keeps_integer_dtypes(dtype):
    x = np.array([1, 0, 1, 1], dtype) if dtype == np.bool_ else np.array([0, 1, 5, 100], dtype)
    names = ["floor", "ceil", "trunc", "rint", "square", "abs"] + ([] if dtype == np.bool_ else ["round"])
    for name in names:
        _both(getattr(jnp, name), getattr(jjnp, name), x, what=f"{name} {np.dtype(dtype).name}")
    if dtype == np.bool_:
        with pytest.raises(ValueError):
            jnp.round(x)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int32, np.bool_, np.float32])
def test_vecdot_dtype(dtype):
    a = (np.arange(12).reshape(3, 4) * 37 % 5).astype(dtype)
    b = (np.arange(12).reshape(3, 4) * 11 % 3 + 100).astype(dtype) if dtype != np.bool_ else a[::-1]
    _both(jnp.vecdot, jjnp.vecdot, a, b, ulps=1, what="vecdot")


@pytest.mark.parametrize(
    "values",
    [
        np.array([3, 1, 3, 2, 1, 3, NAN, -0.0, 0.0, -INF, INF, NAN], np.float32),
        np.array([0, 255, 3, 255, 0, 7], np.uint8),
        np.array([-(2**31), 5, -(2**31), 2**31 - 1, 5, 0], np.int32),
        np.array([True, False, True, False, False], np.bool_),
        np.array([4000000000, 1, 4000000000, 0], np.uint32),
    ],
)
def test_descending_sorts(values):
    for stable in (True,):
        _both(
            lambda v: jnp.argsort(v, descending=True, stable=stable),
            lambda v: jjnp.argsort(v, descending=True, stable=stable),
            values,
            what="argsort desc",
        )
    _both(lambda v: jnp.sort(v, descending=True), lambda v: jjnp.sort(v, descending=True), values, what="sort desc")
    _both(jnp.argsort, jjnp.argsort, values, what="argsort")
    m = np.stack([values, values[::-1]])
    _both(
        lambda v: jnp.argsort(v, axis=0, descending=True),
        lambda v: jjnp.argsort(v, axis=0, descending=True),
        m,
        what="argsort desc axis 0",
    )


def test_reshape_and_ravel_order_f():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for shape in [(6, 4), (4, 6), (24,), (2, 12), (3, 2, 4), (-1, 2)]:
        _both(
            lambda v, s=shape: jnp.reshape(v, s, order="F"),
            lambda v, s=shape: jjnp.reshape(v, s, order="F"),
            x,
            what=f"reshape F {shape}",
        )
    _both(lambda v: jnp.ravel(v, order="F"), lambda v: jjnp.ravel(v, order="F"), x, what="ravel F")
    _both(
        lambda v: v.reshape((4, 6), order="F"),
        lambda v: v.reshape((4, 6), order="F"),
        jnp.asarray(x) if False else x,
        what="method",
    )
    _same(jnp.asarray(x).ravel(order="F"), jjnp.asarray(x).ravel(order="F"), 0, "Array.ravel F")
    _same(jnp.asarray(x).reshape((4, 6), order="F"), jjnp.asarray(x).reshape((4, 6), order="F"), 0, "Array.reshape F")
    with pytest.raises(NotImplementedError):
        jnp.reshape(jnp.asarray(x), (4, 6), order="A")
    with pytest.raises(NotImplementedError):
        jnp.ravel(x, order="K")
    with pytest.raises(NotImplementedError):
        jjnp.ravel(x, order="K")
    with pytest.raises(ValueError):
        jnp.reshape(x, (4, 6), order="X")
    grad = irjax.grad(lambda v: jnp.sum(jnp.reshape(v, (6, 4), order="F") * np.arange(24.0).reshape(6, 4)))(x)
    want = jax.grad(lambda v: jjnp.sum(jjnp.reshape(v, (6, 4), order="F") * np.arange(24.0).reshape(6, 4)))(x)
    _same(grad, want, 0, "grad reshape F")


# ---- 6. complex input works as in JAX (it was a clear TypeError before complex64 existed) ---------

_COMPLEX = {
    "array(1j)": lambda m, np_: m.numpy.array(1j),
    "ones complex64": lambda m, np_: m.numpy.ones(3, m.numpy.complex64),
    "zeros complex128": lambda m, np_: m.numpy.zeros(3, np.complex128),
    "sin(np complex)": lambda m, np_: m.numpy.sin(np.array([1j])),
    "jit complex arg": lambda m, np_: m.jit(lambda x: x * 2)(np.complex64(1j)),
    "jit python complex": lambda m, np_: m.jit(lambda x: x * 2)(1j),
    "x + 1j": lambda m, np_: m.numpy.ones(3) + 1j,
    "jit x + 1j": lambda m, np_: m.jit(lambda x: x + 1j)(m.numpy.ones(3)),
    "astype complex64": lambda m, np_: m.numpy.ones(3).astype(m.numpy.complex64),
    "jit astype complex64": lambda m, np_: m.jit(lambda x: x.astype(m.numpy.complex64))(m.numpy.ones(3)),
    "full 1j": lambda m, np_: m.numpy.full(3, 1j),
    "asarray [1, 2j]": lambda m, np_: m.numpy.asarray([1, 2j]),
    "vmap complex": lambda m, np_: m.vmap(m.numpy.sin)(np.ones(3, np.complex64)),
    "zeros_like complex": lambda m, np_: m.numpy.zeros_like(np.ones(2, np.complex64)),
    "arange complex": lambda m, np_: m.numpy.arange(3, dtype=m.numpy.complex64),
    "where 1j": lambda m, np_: m.numpy.where(m.numpy.ones(2, bool), 1j, 0.0),
    "grad holomorphic": lambda m, np_: m.grad(m.numpy.conjugate, holomorphic=True)(3.0 + 4j),
}


@pytest.mark.parametrize("case", sorted(_COMPLEX))
def test_complex_input_matches_jax(case):
    got, want = _COMPLEX[case](irjax, jnp), _COMPLEX[case](jax, jjnp)
    assert np.asarray(got).dtype == np.asarray(want).dtype, case
    assert bool(getattr(got, "weak_type", False)) == bool(getattr(want, "weak_type", False)), case
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, err_msg=case)


def test_complex_grad_holomorphic_does_not_crash_the_process():
    code = (
        "import irjax, irjax.numpy as jnp\n"
        "print('grad:', complex(irjax.grad(jnp.conjugate, holomorphic=True)(3.0 + 4j)))\n"
        "try:\n"
        "    irjax.grad(lambda z: z * z)(3.0 + 4j)\n"
        "except TypeError as e:\n"
        "    print('TypeError:', e)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    want = complex(jax.grad(jjnp.conjugate, holomorphic=True)(3.0 + 4j))
    assert f"grad: {want}" in r.stdout
    assert "TypeError: grad requires real-valued outputs" in r.stdout and "holomorphic=True" in r.stdout


# ---- 7. property tests: every elementwise op on edge values, per dtype ------------------------

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

N = 12  # one shape for every example: each (op set, dtype) compiles once, examples vary values


def _edges(dtype):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        fi = np.finfo(dt)
        return [
            0.0,
            -0.0,
            INF,
            -INF,
            NAN,
            1.0,
            -1.0,
            0.5,
            -2.5,
            3.0,
            100.0,
            -1e-3,
            float(fi.max),
            -float(fi.max),
            float(fi.tiny),
            -float(fi.tiny),
            float(fi.smallest_subnormal),
            -float(fi.smallest_subnormal),
        ]
    if dt.kind == "b":
        return [True, False]
    ii = np.iinfo(dt)
    return sorted(
        {0, 1, 2, 3, 7, ii.max, ii.max - 1, ii.min, ii.min + 1, -1 if ii.min < 0 else 5, -7 if ii.min < 0 else 100}
    )


def _values(dtype):
    dt = np.dtype(dtype)
    if dt.kind == "f":
        other = st.floats(width=8 * dt.itemsize, allow_nan=True, allow_infinity=True)
    elif dt.kind == "b":
        other = st.booleans()
    else:
        ii = np.iinfo(dt)
        other = st.integers(int(ii.min), int(ii.max))
    elem = st.one_of(st.sampled_from(_edges(dt)), other)
    return st.lists(elem, min_size=N, max_size=N).map(lambda v: np.array(v, dt))


# op name -> ulps allowed against JAX (0: exact, sign of zero included)
_UNARY_FLOAT = {
    "negative": 0,
    "positive": 0,
    "abs": 0,
    "fabs": 0,
    "sign": 0,
    "floor": 0,
    "ceil": 0,
    "rint": 0,
    "trunc": 0,
    "sqrt": 1,
    "cbrt": 2,
    "exp": 2,
    "expm1": 2,
    "exp2": 2,
    "log": 2,
    "log1p": 2,
    "log2": 2,
    "log10": 2,
    "sin": 3,
    "cos": 3,
    "tan": 4,
    "arcsin": 2,
    "arccos": 2,
    "arctan": 2,
    "sinh": 2,
    "cosh": 2,
    "tanh": 2,
    "arcsinh": 2,
    "arccosh": 2,
    "arctanh": 2,
    "square": 0,
    "reciprocal": 0,
    "signbit": 0,
    "isnan": 0,
    "isinf": 0,
    "isfinite": 0,
    "isposinf": 0,
    "isneginf": 0,
    "logical_not": 0,
    "deg2rad": 1,
    "rad2deg": 1,
    "sinc": 4,
}
_UNARY_INT = {
    "negative": 0,
    "positive": 0,
    "abs": 0,
    "sign": 0,
    "square": 0,
    "invert": 0,
    "floor": 0,
    "ceil": 0,
    "trunc": 0,
    "rint": 0,
    "logical_not": 0,
    "isnan": 0,
    "isfinite": 0,
    "sqrt": 1,
    "exp2": 2,
}
_UNARY_BOOL = {"logical_not": 0, "invert": 0, "abs": 0, "floor": 0, "ceil": 0, "trunc": 0, "positive": 0, "square": 0}
_BINARY_FLOAT = {
    "add": 0,
    "subtract": 0,
    "multiply": 0,
    "divide": 0,
    "power": None,
    "arctan2": 4,
    "maximum": 0,
    "minimum": 0,
    "fmax": 0,
    "fmin": 0,
    "hypot": 2,
    "copysign": 0,
    "logaddexp": 4,  # -0.2 (+) -1.0: true 0.17110067; JAX 0.17110063, irjax 0.17110069 (2 ulps each side)
    "remainder": 0,
    "fmod": 0,
    "floor_divide": 0,
    "equal": 0,
    "not_equal": 0,
    "less": 0,
    "less_equal": 0,
    "greater": 0,
    "greater_equal": 0,
    "logical_and": 0,
    "logical_or": 0,
    "logical_xor": 0,
    "heaviside": 0,
}
_BINARY_INT = {
    "add": 0,
    "subtract": 0,
    "multiply": 0,
    "floor_divide": 0,
    "remainder": 0,
    "maximum": 0,
    "minimum": 0,
    "bitwise_and": 0,
    "bitwise_or": 0,
    "bitwise_xor": 0,
    "left_shift": 0,
    "right_shift": 0,
    "power": 0,
    "equal": 0,
    "not_equal": 0,
    "less": 0,
    "less_equal": 0,
    "greater": 0,
    "greater_equal": 0,
    "logical_and": 0,
    "logical_or": 0,
    "logical_xor": 0,
    "true_divide": 1,
}
_BINARY_BOOL = {
    "logical_and": 0,
    "logical_or": 0,
    "logical_xor": 0,
    "bitwise_and": 0,
    "bitwise_or": 0,
    "bitwise_xor": 0,
    "equal": 0,
    "not_equal": 0,
    "less": 0,
    "maximum": 0,
    "minimum": 0,
    "add": 0,
    "multiply": 0,
}


def _pow_ulps(x, y):
    # IREE's powf error grows with |y log2 x| (see test_pow_accuracy_positive_bases)
    with np.errstate(all="ignore"):
        return 2 + np.nan_to_num(np.abs(y.astype(np.float64) * np.log2(np.abs(x).astype(np.float64))), posinf=0.0)


def _close(g, w, ulps):
    """Elementwise: same value (NaN = NaN, signed zeros and infinities exact), within ulps."""
    g, w = np.asarray(g), np.asarray(w)
    if g.dtype.kind != "f":
        return g == w
    g64, w64 = g.astype(np.float64), w.astype(np.float64)
    with np.errstate(all="ignore"):
        tol = np.asarray(ulps, np.float64) * np.spacing(np.abs(w)).astype(np.float64)
        near = np.abs(g64 - w64) <= tol
    same = (g64 == w64) & (np.signbit(g) == np.signbit(w))
    both_nan = np.isnan(g64) & np.isnan(w64)
    return same | both_nan | (near & np.isfinite(w64) & (w64 != 0))


def _subnormal(a):
    a = np.asarray(a)
    return (a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny) if a.dtype.kind == "f" else np.zeros(a.shape, bool)


def _flush(a):
    a = np.asarray(a)
    return np.where(_subnormal(a), np.copysign(0, a).astype(a.dtype), a) if a.dtype.kind == "f" else a


_EXACT_F16 = {"exp2"}


def _compare_all(ops, args, mine, want, dtype, mode, want_ftz):
    """irjax runs with IREE's CPU flushing subnormals (DAZ/FTZ; XLA keeps most): an element whose
    input or result is subnormal may instead match JAX on flushed values, or NumPy's exact value."""
    daz = np.zeros(np.shape(args[0]), bool)
    for a in args:
        daz |= _subnormal(a)
    for (name, ulps), g, w, wf in zip(ops.items(), mine, want, want_ftz):
        g, w, wf = np.asarray(g), np.asarray(w), np.asarray(wf)
        what = f"{name} {np.dtype(dtype).name} {mode} on {args}"
        assert g.dtype == w.dtype and g.shape == w.shape, f"{what}: {g.dtype}{g.shape} != {w.dtype}{w.shape}"
        if ulps is None:
            ulps = _pow_ulps(*args)
        ok = _close(g, w, ulps)
        if w.dtype == np.float16 and not ok.all() and name in _EXACT_F16:
            # JAX's float16 exp2 is itself 1-3 ulps off (exp2(-3) = 0.12494, not 0.125): there
            # the correctly rounded value (float64 NumPy, rounded once) is the reference too
            with np.errstate(all="ignore"):
                exact = getattr(np, name)(*(a.astype(np.float64) for a in args)).astype(np.float16)
            ok |= _close(g, exact, ulps)
        if not ok.all() and w.dtype.kind == "f" and hasattr(np, name):
            # JAX's own result may be the less accurate one (its arcsin(-1.18e-38) is -0: XLA's
            # 2 * atan2(x, 1 + sqrt(1 - x^2)) takes x / 2 through a flushed subnormal): NumPy's
            # float64 value, rounded once, is a reference too
            with np.errstate(all="ignore"):
                exact = getattr(np, name)(*(np.asarray(a).astype(np.float64) for a in args)).astype(w.dtype)
            ok |= _close(g, exact, ulps)
        touched = daz | _subnormal(w) | _subnormal(g)
        if (touched & ~ok).any():
            with np.errstate(all="ignore"):  # NumPy keeps subnormals; zero signs aside
                exact = np.asarray(getattr(np, name)(*args)).astype(w.dtype) + w.dtype.type(0)
            alt = _close(_flush(g), _flush(wf), ulps) | _close(_flush(g), _flush(w), ulps)
            ok |= touched & (alt | _close(g + w.dtype.type(0), exact, ulps))
        assert ok.all(), f"{what}: got {g[~ok]}, JAX {w[~ok]} at {np.flatnonzero(~ok)}"


_jit_cache: dict = {}


def _run(ops, dtype, *args):
    """All `ops` on args in irjax (one jit per op set and dtype; eagerly op by op) and in JAX."""
    key = (tuple(ops), np.dtype(dtype), len(args))
    if key not in _jit_cache:
        fs = [getattr(jnp, n) for n in ops]
        gs = [getattr(jjnp, n) for n in ops]
        _jit_cache[key] = (
            irjax.jit(lambda *a: tuple(f(*a) for f in fs)),
            jax.jit(lambda *a: tuple(g(*a) for g in gs)),
            fs,
        )
    mine_jit, theirs, fs = _jit_cache[key]
    want, want_ftz = theirs(*args), theirs(*[_flush(a) for a in args])
    _compare_all(ops, args, mine_jit(*args), want, dtype, "jit", want_ftz)
    if np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.int32)):  # eager compiles op by op: two dtypes
        arrs = [jnp.asarray(a) for a in args]
        _compare_all(ops, args, [f(*arrs) for f in fs], want, dtype, "eager", want_ftz)


_FLOATS = [np.float32, np.float16]
_INTS = [np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32]
# no shrinking: a failure reports its first example at once (each example runs ~40 ops 3 ways)
_PROPERTY = settings(
    max_examples=10,
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _unary_ops(dtype):
    kind = np.dtype(dtype).kind
    return _UNARY_FLOAT if kind == "f" else _UNARY_BOOL if kind == "b" else _UNARY_INT


def _binary_ops(dtype):
    kind = np.dtype(dtype).kind
    return _BINARY_FLOAT if kind == "f" else _BINARY_BOOL if kind == "b" else _BINARY_INT


@pytest.mark.parametrize("dtype", _FLOATS + _INTS + [np.bool_], ids=lambda d: np.dtype(d).name)
def test_property_unary(dtype):
    ops = _unary_ops(dtype)

    @_PROPERTY
    @given(_values(dtype))
    def check(x):
        _run(ops, dtype, x)

    check()


@pytest.mark.parametrize("dtype", _FLOATS + _INTS + [np.bool_], ids=lambda d: np.dtype(d).name)
def test_property_binary(dtype):
    ops = dict(_binary_ops(dtype))
    if np.dtype(dtype).kind in "iu":
        ops.pop("power")  # an integer exponent drawn at random may be negative: a separate test

    @_PROPERTY
    @given(_values(dtype), _values(dtype))
    def check(x, y):
        _run(ops, dtype, x, y)

    check()


def test_inverse_trig_float32_within_3_ulp():
    """IREE 3.13's own float32 atan (behind atan2, asin, acos) is up to 40 ulp off; irjax's
    lowering must stay within 3 ulp of the correctly rounded value on a dense sample."""
    rng = np.random.default_rng(0)
    u = np.concatenate([rng.uniform(-1, 1, 20000), [0.9, -0.9, 0.5, 1.0, -1.0]]).astype(np.float32)
    w = (rng.standard_normal(20000) * 10).astype(np.float32)
    f = irjax.jit(lambda u, w: (jnp.arcsin(u), jnp.arccos(u), jnp.arctan(w), jnp.arctan2(w, u[: w.size])))
    got = f(u, w)
    refs = (
        np.arcsin(u.astype(np.float64)),
        np.arccos(u.astype(np.float64)),
        np.arctan(w.astype(np.float64)),
        np.arctan2(w.astype(np.float64), u[: w.size].astype(np.float64)),
    )
    for name, g, r in zip(("arcsin", "arccos", "arctan", "arctan2"), got, refs):
        err = np.abs(np.asarray(g, np.float64) - r) / np.spacing(np.abs(r).astype(np.float32)).astype(np.float64)
        assert err.max() <= 3, f"{name}: {err.max():.1f} ulp"
