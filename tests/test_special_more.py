"""irjax.scipy.special's functions beyond the first set (gamma/beta/zeta families, exponential and
trigonometric integrals, erfcx, hyp1f1, dawsn, spence, owens_t, bessel_jn, ...) and lax.zeta/
polygamma/betainc/igamma_grad_a against JAX on the same inputs (edges included): values, dtypes,
jit, vmap, gradients; where JAX itself is wrong, against identities or float64 series."""

import irjax
import irjax.lax as ilax
import numpy as np
import pytest
from irjax.scipy import special

jax = pytest.importorskip("jax")
pytestmark = pytest.mark.slow  # ~2 min on the shared 2-core machine: many distinct compiles
jlax = jax.lax
js = jax.scipy.special

EDGE = np.array(
    [-np.inf, -3.5, -2.5, -2, -1.5, -1, -0.5, -0.0, 0, 0.5, 1, 1.5, 2, 5, 10, 30, np.inf, np.nan], np.float32
)
PAIR = np.meshgrid(EDGE, EDGE, indexing="ij")
UNIT = np.array([-0.1, 0, 1e-6, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.999, 1, 1.1, np.nan], np.float32)
PARAM = np.array([-1, 0, 1e-3, 0.1, 0.5, 1, 2, 3.5, 10, 50, 300, np.inf, np.nan], np.float32)
GRID3 = np.meshgrid(PARAM, PARAM, UNIT, indexing="ij")
IG_A = np.array([-1, 0, 1e-3, 0.5, 1, 2, 3, 10, 30, 100, np.inf, np.nan], np.float32)
IG_X = np.array([-1, 0, 1e-3, 0.5, 1, 2, 3.5, 10, 30, 100, np.inf, np.nan], np.float32)
IG = np.meshgrid(IG_A, IG_X, indexing="ij")
ZX = np.array([-1, 0.5, 1, 1.5, 2, 3, 4, 5, 6, 7, 10, 11, 30, 50, np.inf, np.nan], np.float32)
ZQ = np.array([-2.5, -2, -1.5, -1, 0, 1e-3, 0.5, 1, 3, 25, 1e9, np.inf, np.nan], np.float32)
ZETA = np.meshgrid(ZX, ZQ, indexing="ij")


def _check(ours, theirs, rtol=2e-5, atol=1e-6):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


# name, argument grid, rtol, atol (log-gamma based values carry a few ulps of lgamma(x) ~ 70;
# betainc's 1 - I_{1-x}(b, a) branch cancels and its betaln does at a = b = 300, where JAX
# and irjax both miss I = 1/2 by ~7e-5: an absolute tolerance there)
VALUES = [
    ("gamma", (EDGE,), 5e-5, 1e-6),
    ("gammasgn", (EDGE,), 0, 0),
    ("loggamma", (EDGE,), 2e-6, 1e-6),
    ("factorial", (EDGE,), 5e-5, 1e-6),
    ("i0", (EDGE,), 5e-6, 1e-6),
    ("i1", (EDGE,), 5e-6, 1e-6),
    ("poch", PAIR, 5e-5, 1e-6),
    ("comb", PAIR, 5e-5, 1e-6),
    ("beta", [np.abs(p) for p in PAIR], 5e-5, 1e-6),
    ("kl_div", PAIR, 2e-6, 1e-5),
    ("rel_entr", PAIR, 2e-6, 1e-5),
    ("betainc", GRID3, 1e-4, 2e-4),
    ("zeta", ZETA, 2e-5, 1e-6),
]


@pytest.mark.parametrize("name,args,rtol,atol", VALUES, ids=[v[0] for v in VALUES])
def test_values_against_jax(name, args, rtol, atol):
    _check(getattr(special, name)(*args), getattr(js, name)(*args), rtol, atol)


def test_comb_repetition_and_int_inputs():
    _check(special.comb(*PAIR, repetition=True), js.comb(*PAIR, repetition=True), 5e-5)
    n, k = np.arange(8, dtype=np.int32), np.int32(3)
    _check(special.comb(n, k), js.comb(n, k), 5e-5)
    _check(special.gamma(n), js.gamma(n), 5e-5)


def test_polygamma_values_and_n_must_be_integer():
    n = np.array([0, 1, 2, 3, 4, -1], np.int32)[:, None]
    x = np.array([-2.5, -1, 0, 0.5, 1, 2.5, 10, np.inf, np.nan], np.float32)
    _check(special.polygamma(n, x), js.polygamma(n, x), 5e-5)
    # high orders only at x > 0: at x = -2.5 both cancel catastrophically (true -4.03, both ~416)
    _check(special.polygamma(10, x[3:]), js.polygamma(10, x[3:]), 5e-5)
    _check(special.polygamma(1, 2), js.polygamma(1, 2))
    with pytest.raises(ValueError, match="integer type"):
        special.polygamma(np.float32(1), x)


def test_softmax_log_softmax():
    x = np.array([[1, 2, -3, 0.5], [-np.inf, 0, 1, 2]], np.float32)
    for axis in (-1, 0):
        _check(special.softmax(x, axis=axis), js.softmax(x, axis=axis))
        _check(special.log_softmax(x, axis=axis), js.log_softmax(x, axis=axis))


def test_igamma_grad_a_and_gammainc_da():
    _check(ilax.igamma_grad_a(*IG), jlax.igamma_grad_a(*IG), 2e-4, 2e-6)
    a = np.array([1e-3, 0.5, 1, 2, 3, 10, 30], np.float32)
    x = np.array([0.5, 0.3, 1, 2.5, 1, 12, 25], np.float32)
    for ours, theirs in ((special.gammainc, js.gammainc), (special.gammaincc, js.gammaincc)):
        for argnum in (0, 1):
            got = irjax.jit(irjax.vmap(irjax.grad(ours, argnum)))(a, x)
            _check(got, jax.vmap(jax.grad(theirs, argnum))(a, x), 2e-4, 1e-6)
    # JAX refuses ∂²P/∂a² (igamma_grad_a has no derivative); irjax's rules cannot raise per
    # argument, so it is nan rather than a silent 0; the mixed one is exact
    assert np.isnan(float(irjax.grad(irjax.grad(special.gammainc, 0), 0)(np.float32(2), np.float32(3))))
    got = irjax.grad(irjax.grad(special.gammainc, 1), 0)(np.float32(2), np.float32(3))
    np.testing.assert_allclose(got, jax.grad(jax.grad(js.gammainc, 1), 0)(2.0, 3.0), rtol=1e-5)


def test_lax_versions_match_and_refuse_ints_and_mixed_dtypes():
    x, q = ZETA
    _check(ilax.zeta(x, q), jlax.zeta(x, q), 2e-5)
    m = np.array([0, 1, 2, 1.5, -1], np.float32)[:, None]
    z = np.array([-2.5, 0.5, 2, 10], np.float32)
    m, z = np.broadcast_to(m, (5, 4)), np.broadcast_to(z, (5, 4))
    _check(ilax.polygamma(m, z), jlax.polygamma(m, z), 2e-5)
    a, b, u = GRID3
    _check(ilax.betainc(a, b, u), jlax.betainc(a, b, u), 1e-4, 2e-4)
    for f in (ilax.zeta, ilax.polygamma, ilax.igamma_grad_a):
        with pytest.raises(TypeError, match="floating"):
            f(np.int32(2), np.int32(1))
        with pytest.raises(TypeError, match="same dtypes"):
            f(np.float32(2), np.float16(1))
    with pytest.raises(TypeError, match="floating"):
        ilax.betainc(1, 2, 0.5)


def test_gradients_against_jax():
    x = np.array([1.5, 2, 3, 7.5, 30], np.float32)
    q = np.array([1, 0.5, 2, 3, 2.5], np.float32)
    for argnum in (0, 1):  # zeta: both arguments, as JAX
        got = irjax.jit(irjax.vmap(irjax.grad(special.zeta, argnum)))(x, q)
        _check(got, jax.vmap(jax.grad(js.zeta, argnum))(x, q), 5e-5)
    got = irjax.jit(irjax.vmap(irjax.grad(irjax.grad(special.zeta, 1), 0)))(x[:3], q[:3])
    _check(got, jax.vmap(jax.grad(jax.grad(js.zeta, 1), 0))(x[:3], q[:3]), 5e-5)
    n = np.array([0, 1, 2, 3, 4], np.int32)
    got = irjax.jit(irjax.vmap(irjax.grad(special.polygamma, 1)))(n, q + 0.25)
    _check(got, jax.vmap(jax.grad(js.polygamma, 1))(n, q + 0.25), 5e-5)
    a, b, u = np.array([0.5, 1, 2, 4, 10], np.float32), np.array([3, 0.5, 2, 1.5, 20], np.float32), x / 31
    got = irjax.jit(irjax.vmap(irjax.grad(special.betainc, 2)))(a, b, u)
    _check(got, jax.vmap(jax.grad(js.betainc, 2))(a, b, u), 5e-5)
    for name in ("gamma", "i1"):
        got = irjax.jit(irjax.vmap(irjax.grad(getattr(special, name))))(x / 3)
        _check(got, jax.vmap(jax.grad(getattr(js, name)))(x / 3), 5e-5)
    for name in ("beta", "rel_entr"):
        for argnum in (0, 1):
            got = irjax.jit(irjax.vmap(irjax.grad(getattr(special, name), argnum)))(x + 2, q)
            _check(got, jax.vmap(jax.grad(getattr(js, name), argnum))(x + 2, q), 5e-5, 1e-5)


def test_betainc_parameter_gradients_by_finite_differences():
    """JAX has no d/da, d/db of betainc; irjax's agree with central differences of JAX's values."""
    a, b, u = np.float64(2.5), np.float64(1.5), np.float64(0.4)
    h = 1e-3
    with jax.enable_x64(True):
        fd_a = (js.betainc(a + h, b, u) - js.betainc(a - h, b, u)) / (2 * h)
        fd_b = (js.betainc(a, b + h, u) - js.betainc(a, b - h, u)) / (2 * h)
    got = irjax.grad(special.betainc, (0, 1))(np.float32(a), np.float32(b), np.float32(u))
    np.testing.assert_allclose([float(got[0]), float(got[1])], [float(fd_a), float(fd_b)], rtol=2e-3)


def test_vmap_matches_loop():
    x, q = ZETA[0][:4, 5:9], ZETA[1][:4, 5:9]
    got = irjax.vmap(special.zeta)(x, q)
    _check(got, np.stack([np.asarray(special.zeta(x[i], q[i])) for i in range(4)]))
    a, b, u = (g[4:7, 5, 2:6] for g in GRID3)
    got = irjax.vmap(special.betainc)(a, b, u)
    _check(got, np.stack([np.asarray(special.betainc(a[i], b[i], u[i])) for i in range(3)]))


EXPX = np.array(
    [-np.inf, -30, -10, -2, -0.5, -0.0, 0, 1e-3, 0.5, 0.99, 1, 1.01, 2, 5, 10, 30, 41, 50, 80, 90, np.inf, np.nan]
)
EXPX = EXPX.astype(np.float32)


def test_erfcx_exp1_expi_values():
    erfcx_x = np.concatenate([EXPX, [-9, -5, 2.99, 3, 3.01, 1e10]]).astype(np.float32)
    _check(special.erfcx(erfcx_x), js.erfcx(erfcx_x), 2e-6)
    _check(special.exp1(EXPX), js.exp1(EXPX), 2e-5)
    _check(special.expi(EXPX), js.expi(EXPX), 2e-5)


def test_expn_values_and_the_limit_at_zero():
    n = np.array([0, 1, 2, 3, 5, 10], np.int32)[:, None]
    x = np.where(EXPX == 0, np.float32(0.25), EXPX)  # JAX's E_n(0) is 1/n, not 1/(n - 1): below
    _check(special.expn(n, x), js.expn(n, x), 2e-5)
    n = np.array([2, 3, 5, 10], np.int32)
    _check(special.expn(n, np.float32(0)), js.expn(n, np.float32(1e-7)), 1e-5)  # E_n(0) = 1/(n-1)


def test_hyp1f1_values():
    a = np.array([1, -2, 0.5, 2.5, 3], np.float32)[:, None]
    b = np.array([2, 3, 1.5, 0.5, 7], np.float32)[:, None]
    x = np.array([-2, -0.5, 0, 0.5, 1, 2, 5, 10, 30], np.float32)
    _check(special.hyp1f1(a, b, x), js.hyp1f1(a, b, x), 5e-5)
    # JAX's series loses everything at large negative x; Kummer's transformation does not:
    # 1F1(1; 2; x) = (e^x - 1) / x
    xn = np.array([-30, -10], np.float32)
    np.testing.assert_allclose(special.hyp1f1(1.0, 2.0, xn), np.expm1(xn) / xn, rtol=2e-6)


def test_exponential_integral_and_hyp1f1_gradients():
    x = np.array([0.3, 0.9, 1.5, 4, 12], np.float32)
    for name in ("erfcx", "exp1", "expi"):
        f, g = getattr(special, name), getattr(js, name)
        for xs in (x, -x):
            _check(irjax.jit(irjax.vmap(irjax.grad(f)))(xs), jax.vmap(jax.grad(g))(xs), 1e-4, 1e-6)
    n = np.array([1, 2, 3, 0, 5], np.int32)
    _check(irjax.jit(irjax.vmap(irjax.grad(special.expn, 1)))(n, x), jax.vmap(jax.grad(js.expn, 1))(n, x), 5e-5)
    a, b, u = np.full(5, 1.5, np.float32), np.full(5, 2.5, np.float32), np.array([-2, 0.3, 2.5, 4, 8], np.float32)
    for argnum in (0, 1, 2):
        got = irjax.jit(irjax.vmap(irjax.grad(special.hyp1f1, argnum)))(a, b, u)
        _check(got, jax.vmap(jax.grad(js.hyp1f1, argnum))(a, b, u), 5e-5)


def test_bernoulli_and_boxcox():
    for n in (0, 1, 2, 3, 10, 30, 60):
        _check(special.bernoulli(n), js.bernoulli(n), 1e-5, 1e-7)
    # B_64 = -2.0938e38 fits float32; JAX's recurrence overflows to -inf there
    np.testing.assert_allclose(float(special.bernoulli(64)[64]), -2.0938005911e38, rtol=1e-6)
    with pytest.raises(ValueError, match="non-negative"):
        special.bernoulli(-1)
    x, lmbda = np.meshgrid(
        np.array([-1, 0, 0.5, 1, 2, 10, np.inf, np.nan], np.float32),
        np.array([-2, -0.5, 0, 1e-4, 0.5, 1, 3], np.float32),
    )
    for name in ("boxcox", "boxcox1p"):
        _check(getattr(special, name)(x, lmbda), getattr(js, name)(x, lmbda), 2e-6)
        # λ = 1e-4 left out: d/dλ of expm1(λ u)/λ cancels there (float32 keeps ~3 digits, in both)
        rows = [2, 4, 5, 6]
        got = irjax.jit(irjax.vmap(irjax.grad(getattr(special, name), (0, 1))))(x[rows, 3], lmbda[rows, 3])
        want = jax.vmap(jax.grad(getattr(js, name), (0, 1)))(x[rows, 3], lmbda[rows, 3])
        for o, t in zip(got, want):
            _check(o, t, 2e-5)


def test_spence_values_and_gradient():
    x = np.array([-np.inf, -1, -0.0, 0, 1e-6, 0.1, 0.4999, 0.5, 0.9, 1, 1.1, 2, 2.0001, 5, 100, 1e10, np.inf, np.nan])
    x = x.astype(np.float32)
    _check(special.spence(x), js.spence(x), 2e-6, 1e-7)
    xs = np.array([0.2, 0.7, 1.5, 3], np.float32)
    # d/dx Li2(1 - x) = log(x) / (1 - x); JAX's own gradient is nan at 1.5
    got = irjax.jit(irjax.vmap(irjax.grad(special.spence)))(xs)
    np.testing.assert_allclose(got, np.log(xs) / (1 - xs), rtol=2e-6)


def test_dawsn_values_and_gradient():
    x = np.array([-np.inf, -1e6, -30, -3, -1, -0.21, -0.19, -0.0, 0, 1e-6, 0.1, 0.2, 0.5, 1, 2, 5, 10, 99, 101, 1e20])
    x = np.concatenate([x, [np.inf, np.nan]]).astype(np.float32)
    _check(special.dawsn(x), js.dawsn(x), 1e-6, 0)
    xs = np.array([-2, 0.1, 0.7, 3], np.float32)
    _check(irjax.jit(irjax.vmap(irjax.grad(special.dawsn)))(xs), jax.vmap(jax.grad(js.dawsn))(xs), 1e-5)


def test_sici_fresnel_values_and_gradients():
    x = np.array([-np.inf, -10, -1, -0.0, 0, 1e-3, 0.5, 1.49, 1.5, 1.51, 1.99, 2, 2.01, 3, 5, 30, 1e5, np.inf, np.nan])
    x = x.astype(np.float32)
    for name in ("sici", "fresnel"):
        for ours, theirs in zip(getattr(special, name)(x), getattr(js, name)(x)):
            _check(ours, theirs, 2e-6, 1e-7)
    xs = np.array([-2, 0.1, 0.7, 3], np.float32)
    for name in ("sici", "fresnel"):
        for i in (0, 1):
            got = irjax.jit(irjax.vmap(irjax.grad(lambda v, n=name, i=i: getattr(special, n)(v)[i])))(xs)
            want = jax.vmap(jax.grad(lambda v, n=name, i=i: getattr(js, n)(v)[i]))(xs)
            _check(got, want, 1e-5, 1e-6)  # sin(π/2 · 4) is 1.7e-7 in float32, 0 in JAX


def test_owens_t_values_and_gradients():
    h = np.array([-np.inf, -3, -1, -0.0, 0, 0.5, 1, 3, 5, 8, 12, np.inf, np.nan], np.float32)
    a = np.array([-np.inf, -10, -2, -1, -0.5, 0, 1e-3, 0.5, 0.99, 1, 1.01, 2, 10, np.inf, np.nan], np.float32)
    hh, aa = np.meshgrid(h, a, indexing="ij")
    _check(special.owens_t(hh, aa), js.owens_t(hh, aa), 2e-6, 1e-30)
    xs, ys = np.array([0.5, 1.2, -2, 3], np.float32), np.array([0.7, 2, 0.3, -1.5], np.float32)
    for argnum in (0, 1):
        got = irjax.jit(irjax.vmap(irjax.grad(special.owens_t, argnum)))(xs, ys)
        _check(got, jax.vmap(jax.grad(js.owens_t, argnum))(xs, ys), 1e-5)


def _jn_series(n, z):
    """J_n(z) by its power series in float64 (fine for |z| <= 10)."""
    m = np.arange(60)[:, None]
    lg = np.vectorize(__import__("math").lgamma)
    terms = (-1.0) ** m * np.exp((2 * m + n) * np.log(np.abs(z) / 2 + 1e-300) - lg(m + 1) - lg(m + n + 1))
    return terms.sum(0) * np.where(z < 0, (-1.0) ** n, 1.0)


def test_bessel_jn_values_and_gradient():
    z = np.array([-2, 0, 1e-3, 0.5, 1, 2, 5, 7.5, 10], np.float32)
    got = np.asarray(special.bessel_jn(z, v=4))
    assert got.shape == (5, 9) and got.dtype == np.float32
    ref = np.stack([_jn_series(n, z.astype(np.float64)) for n in range(5)])
    ref[:, 1] = [1, 0, 0, 0, 0]
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-7)
    # JAX's own is nan for z <= 2 and off at 60 (J_0(60) = -0.0914717, JAX 0.282): compare between
    far = np.array([5, 10, 30], np.float32)
    _check(special.bessel_jn(far, v=3), js.bessel_jn(far, v=3), 2e-5, 2e-7)
    np.testing.assert_allclose(float(special.bessel_jn(np.float32(60), v=0)[0]), -0.0914717, atol=1e-6)
    big = np.float32(95)  # three-term recurrence as a check past the series' reach
    j = np.asarray(special.bessel_jn(big, v=3), np.float64)
    np.testing.assert_allclose(j[0] + j[2], 2 / 95 * j[1], atol=1e-7)
    assert np.isnan(np.asarray(special.bessel_jn(np.float32(500), v=2))).all()  # past its range: nan
    with pytest.raises(ValueError, match="non-negative"):
        special.bessel_jn(z, v=-1)
    # d/dz J_0 = -J_1
    got = irjax.jit(irjax.vmap(irjax.grad(lambda t: special.bessel_jn(t, v=1)[0])))(z[3:])
    np.testing.assert_allclose(got, -np.asarray(special.bessel_jn(z[3:], v=1))[1], rtol=1e-4, atol=1e-7)
