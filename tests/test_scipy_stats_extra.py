"""jax.scipy.stats's mode, rankdata, sem, poisson.entropy and gaussian_kde against JAX (values,
dtypes, jit; resample draws the same numbers from the same key)."""

import irjax
import irjax.scipy.stats as ist
import jax
import jax.scipy.stats as jst
import numpy as np
import pytest

# many compiles (or worker processes): run in the -m slow set (CI runs it too)
pytestmark = pytest.mark.slow

rng = np.random.default_rng(0)
X = np.array([[3.0, 1, 2, 2], [1, 1, 5, np.nan]], np.float32)
Y = rng.integers(0, 4, (3, 7)).astype(np.float32)
METHODS = ["average", "min", "max", "dense", "ordinal"]


def close(a, b, tol=1e-5):
    for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        u, v = np.asarray(u), np.asarray(v)
        assert u.dtype == v.dtype and u.shape == v.shape, (u.dtype, v.dtype, u.shape, v.shape)
        np.testing.assert_allclose(u, v, rtol=tol, atol=tol)


def _descriptive(st, x, y):
    out = {
        "mode0": tuple(st.mode(x)),
        "modeN": tuple(st.mode(x, axis=None)),
        "mode1k": tuple(st.mode(x, axis=1, keepdims=True)),
        "rank_nan": st.rankdata(x, axis=1),
        "sem": st.sem(x),
        "sem_omit": st.sem(x, axis=1, nan_policy="omit"),
        "semN": st.sem(y, axis=None, keepdims=True, ddof=0),
    }
    for m in METHODS:
        out[m] = st.rankdata(y, m)
        out[m + "1"] = st.rankdata(y, m, axis=1)
    return out


def test_descriptive_match_jax():
    got = irjax.jit(lambda x, y: _descriptive(ist, x, y))(X, Y)
    want = _descriptive(jst, X, Y)
    for k in want:
        close(got[k], want[k])
    close(tuple(ist.mode(np.array([1, 2, 2, 3]))), tuple(jst.mode(np.array([1, 2, 2, 3]))))  # int input


def test_poisson_entropy_matches_jax():
    mu = np.array([0.5, 3.0, 0.0, 50.0, 99.0, 100.0, 150.0, 1e4, -1.0, 1e-3], np.float32)
    close(irjax.jit(ist.poisson.entropy)(mu), jst.poisson.entropy(mu))


@pytest.mark.slow  # ~35 s of compiles on 2 busy cores
def test_gaussian_kde_matches_jax():
    x2 = rng.standard_normal((2, 15)).astype(np.float32)
    w = rng.random(15).astype(np.float32)
    pts = rng.standard_normal((2, 4)).astype(np.float32)
    a, b = jst.gaussian_kde(x2, "silverman", w), ist.gaussian_kde(x2, "silverman", w)
    for name in ("covariance", "inv_cov", "neff"):
        close(getattr(b, name), getattr(a, name))
    assert (b.d, b.n) == (a.d, a.n)
    # (separate programs: the four in one trip IREE 3.13's "cyclic dependencies" partitioning error)
    close(irjax.jit(lambda k, p: (k(p), k.logpdf(p)))(b, pts), (a(pts), a.logpdf(pts)))
    close(
        irjax.jit(lambda k, m: k.integrate_gaussian(m, np.eye(2)))(b, pts[:, 0]),
        a.integrate_gaussian(pts[:, 0], np.eye(2)),
    )
    close(irjax.jit(lambda k: k.integrate_kde(k))(b), a.integrate_kde(a))
    close(b.resample(irjax.random.key(1), (3,)), a.resample(jax.random.key(1), (3,)))
    x1 = rng.standard_normal(20).astype(np.float32)
    a1, b1 = jst.gaussian_kde(x1, 0.3), ist.gaussian_kde(x1, 0.3)
    close(b1.integrate_box_1d(-1.0, 0.5), a1.integrate_box_1d(-1.0, 0.5))


def test_bad_input():
    with pytest.raises(ValueError, match="method"):
        ist.rankdata(Y, "mean")
    with pytest.raises(NotImplementedError, match="omit"):
        ist.mode(X, nan_policy="omit")
    with pytest.raises(ValueError, match="raise"):
        ist.sem(X, nan_policy="raise")
    with pytest.raises(ValueError, match="multiple elements"):
        ist.gaussian_kde(np.ones(1))
    with pytest.raises(ValueError, match="bw_method"):
        ist.gaussian_kde(Y[0], "wide")
    with pytest.raises(ValueError, match="dimension"):
        ist.gaussian_kde(Y[:2])(np.ones((3, 2)))
