"""The NumPy functions beyond issue #2's core list (nan-reductions, quantiles, diff/append/
delete/insert, cross/kron/convolve, searchsorted/isin/unique, log ranges, index helpers,
gcd/lcm/ldexp/modf, select): values and dtypes against NumPy, and JAX where they differ."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest

jax = pytest.importorskip("jax")
from tree_compare import tree_close  # noqa: E402

jjnp = jax.numpy

RNG = np.random.default_rng(7)
A = RNG.standard_normal((4, 5)).astype(np.float32)
AN = A.copy()
AN[0, 1] = AN[2, 3] = AN[3, 0] = np.nan
AN[1, :] = np.nan  # an all-NaN row
I = RNG.integers(-20, 20, (6,)).astype(np.int32)


def check(got, want, rtol=1e-5, atol=1e-5, dtype=True):
    tree_close(got, want, rtol, atol, dtype=dtype, equal_nan=True)


NAN_CASES = [
    ("nansum", {}),
    ("nansum", {"axis": 0}),
    ("nanprod", {"axis": 1}),
    ("nanmean", {}),
    ("nanmean", {"axis": 1}),
    ("nanvar", {"axis": 0}),
    ("nanstd", {"axis": 1, "ddof": 1}),
    ("nanmax", {"axis": 1}),
    ("nanmin", {"axis": 0}),
    ("nanmax", {}),
    ("nanargmax", {"axis": 1}),
    ("nanargmin", {"axis": 0}),
    ("nancumsum", {"axis": 1}),
    ("nancumprod", {"axis": 0}),
    ("nanmedian", {"axis": 1}),
    ("nanmean", {"axis": 0, "keepdims": True}),
]


@pytest.mark.parametrize("name,kw", NAN_CASES, ids=[f"{n}-{k}" for n, k in NAN_CASES])
def test_nan_reductions_match_jax(name, kw):
    want = getattr(jjnp, name)(AN, **kw)
    check(getattr(jnp, name)(AN, **kw), want)
    check(irjax.jit(lambda x: getattr(jnp, name)(x, **kw))(AN), want)


def test_nan_reductions_on_ints_and_grad():
    check(jnp.nansum(I), jjnp.nansum(I))
    check(jnp.nanmax(I), jjnp.nanmax(I))
    g = irjax.grad(lambda x: jnp.nanmean(x * x))(AN)
    want = jax.grad(lambda x: jjnp.nanmean(x * x))(AN)
    check(g, want)


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_methods(method):
    q = np.array([0.0, 0.1, 0.5, 0.77, 1.0], np.float32)
    for axis in (None, 0, 1):
        check(jnp.quantile(A, q, axis=axis, method=method), jjnp.quantile(A, q, axis=axis, method=method))
        check(
            jnp.quantile(A, 0.3, axis=axis, method=method, keepdims=True),
            jjnp.quantile(A, 0.3, axis=axis, method=method, keepdims=True),
        )
    check(jnp.percentile(A, 40.0, axis=1, method=method), jjnp.percentile(A, 40.0, axis=1, method=method))
    check(jnp.nanquantile(AN, q, axis=1, method=method), jjnp.nanquantile(AN, q, axis=1, method=method))
    check(
        irjax.jit(lambda x: jnp.quantile(x, 0.25, axis=0, method=method))(A),
        np.quantile(A, 0.25, axis=0, method=method),
        dtype=False,
    )
    with pytest.raises(ValueError, match="method"):
        jnp.quantile(A, 0.5, method="bogus")


def test_cov_corrcoef():
    check(jnp.cov(A), np.cov(A).astype(np.float32))
    check(jnp.cov(A, rowvar=False, bias=True), np.cov(A, rowvar=False, bias=True).astype(np.float32))
    check(jnp.cov(A[0], A[1]), np.cov(A[0], A[1]).astype(np.float32))
    check(jnp.corrcoef(A), np.corrcoef(A).astype(np.float32))


def test_diff_append_delete_insert():
    for kw in ({}, {"n": 2}, {"axis": 0}, {"prepend": 0.0}, {"append": A[:, :1]}):
        check(jnp.diff(A, **kw), jjnp.diff(A, **kw))
    check(jnp.diff(I), jjnp.diff(I))
    check(jnp.diff(np.array([True, False, False])), np.diff(np.array([True, False, False])))
    check(jnp.ediff1d(A, to_begin=9.0, to_end=[1.0, 2.0]), jjnp.ediff1d(A, to_begin=9.0, to_end=jjnp.array([1.0, 2.0])))
    check(jnp.append(A, A[:1], axis=0), np.append(A, A[:1], axis=0))
    check(jnp.append(I, 3), jjnp.append(I, 3))
    for obj, axis in ((1, 0), ([0, 2], 1), (slice(1, 4), 1), (-1, None)):
        check(jnp.delete(A, obj, axis=axis), np.delete(A, obj, axis=axis))
    for obj, vals, axis in ((1, 7.0, 0), ([0, 2], [5.0, 6.0], None), (2, A[:, 0], 1), (5, 1.5, 1)):
        check(jnp.insert(A, obj, vals, axis=axis), np.insert(A, obj, vals, axis=axis))
    with pytest.raises(IndexError):
        jnp.delete(A, 9, axis=0)


def test_unstack_transpose_rollaxis():
    x = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    check(jnp.unstack(x, axis=1), jjnp.unstack(x, axis=1))
    check(jnp.matrix_transpose(x), jjnp.matrix_transpose(x))
    for axis, start in ((2, 0), (0, 3), (1, -1)):
        check(jnp.rollaxis(x, axis, start), np.rollaxis(x, axis, start))


def test_products():
    a3, b3 = RNG.standard_normal((5, 3)).astype(np.float32), RNG.standard_normal((5, 3)).astype(np.float32)
    check(jnp.cross(a3, b3), np.cross(a3, b3))
    check(jnp.cross(a3[:, :2], b3[:, :2]), a3[:, 0] * b3[:, 1] - a3[:, 1] * b3[:, 0])  # z of 2-vectors
    check(jnp.cross(a3.T, b3.T, axis=0), np.cross(a3.T, b3.T, axis=0))
    check(jnp.kron(A[:2, :3], A[:3, :2]), np.kron(A[:2, :3], A[:3, :2]))
    check(jnp.kron(I[:3], np.ones((2, 2), np.int32)), np.kron(I[:3], np.ones((2, 2), np.int32)))
    check(jnp.vecdot(a3, b3), jjnp.vecdot(a3, b3))
    check(jnp.matvec(A, A[0]), jjnp.matvec(A, A[0]))
    check(jnp.vecmat(A[:, 0], A), jjnp.vecmat(A[:, 0], A))
    v1, v2 = RNG.standard_normal(7).astype(np.float32), RNG.standard_normal(3).astype(np.float32)
    for mode in ("full", "same", "valid"):
        check(jnp.convolve(v1, v2, mode), np.convolve(v1, v2, mode), rtol=1e-4, atol=1e-5)
        check(jnp.convolve(v2, v1, mode), np.convolve(v2, v1, mode), rtol=1e-4, atol=1e-5)
        check(jnp.correlate(v1, v2, mode), np.correlate(v1, v2, mode), rtol=1e-4, atol=1e-5)
        check(jnp.correlate(v2, v1, mode), np.correlate(v2, v1, mode), rtol=1e-4, atol=1e-5)
    x = np.linspace(0, 2, 9, dtype=np.float32)
    check(jnp.trapezoid(A, axis=1), jjnp.trapezoid(A, axis=1))
    check(jnp.trapezoid(x * x, x), jjnp.trapezoid(x * x, x))


def test_sorting_helpers():
    s = np.sort(RNG.standard_normal(10).astype(np.float32))
    v = np.array([-5.0, s[3], 0.1, 5.0], np.float32)
    for side in ("left", "right"):
        check(jnp.searchsorted(s, v, side=side), jjnp.searchsorted(s, v, side=side))
    check(irjax.jit(lambda a, b: jnp.searchsorted(a, b))(s, v), jjnp.searchsorted(s, v))
    check(jnp.isin(I, [3, -4, 7]), np.isin(I, [3, -4, 7]))
    check(jnp.isin(I, I[:2], invert=True), np.isin(I, I[:2], invert=True))
    x = np.array([3, 1, 3, 2, 1, 3], np.int32)
    check(jnp.unique(x), np.unique(x).astype(np.int32))
    check(
        jnp.unique(x, return_index=True, return_inverse=True, return_counts=True),
        jjnp.unique(x, return_index=True, return_inverse=True, return_counts=True),
        dtype=False,
    )
    f = irjax.jit(lambda a: jnp.unique(a, size=4, fill_value=-1, return_counts=True, return_inverse=True))
    check(f(x), jjnp.unique(x, size=4, fill_value=-1, return_counts=True, return_inverse=True), dtype=False)
    with pytest.raises(irjax.errors.ConcretizationTypeError):
        irjax.jit(jnp.unique)(x)
    check(jnp.partition(I, 2)[2], np.partition(I, 2)[2])
    assert int(jnp.argpartition(I, 0)[0]) == int(np.argmin(I))


def test_ranges_and_indices():
    check(jnp.logspace(0.0, 2.0, 5), jjnp.logspace(0.0, 2.0, 5))
    check(jnp.logspace(0.0, 3.0, 4, base=2.0, endpoint=False), jjnp.logspace(0.0, 3.0, 4, base=2.0, endpoint=False))
    check(jnp.geomspace(1.0, 1000.0, 4), jjnp.geomspace(1.0, 1000.0, 4), rtol=1e-5)
    check(jnp.geomspace(-1.0, -16.0, 5), jjnp.geomspace(-1.0, -16.0, 5), rtol=1e-5)
    check(jnp.tril_indices(4, -1), jjnp.tril_indices(4, -1))
    check(jnp.triu_indices(3, 1, 5), jjnp.triu_indices(3, 1, 5))
    check(jnp.triu_indices_from(A), jjnp.triu_indices_from(A))
    check(jnp.diag_indices(3, 3), jjnp.diag_indices(3, 3))
    check(jnp.indices((2, 3)), jjnp.indices((2, 3)))
    check(
        jnp.fromfunction(lambda i, j: i * 10 + j, (3, 4)),
        np.fromfunction(lambda i, j: i * 10 + j, (3, 4)).astype(np.float32),
    )
    v = np.array([1.0, 2.0, 3.0], np.float32)
    check(jnp.vander(v, 4), jjnp.vander(v, 4))
    check(jnp.vander(v, increasing=True), jjnp.vander(v, increasing=True))
    check(jnp.asarray(A)[jnp.diag_indices(4)], A[np.diag_indices(4)])


def test_elementwise_extras():
    a, b = np.array([12, -18, 0, 7, 0], np.int32), np.array([8, 12, 5, 0, 0], np.int32)
    check(jnp.gcd(a, b), jjnp.gcd(a, b))
    check(jnp.lcm(a, b), jjnp.lcm(a, b))
    check(jnp.ldexp(A, np.int32(3)), jjnp.ldexp(A, np.int32(3)))
    check(jnp.modf(A * 3), jjnp.modf(A * 3))
    check(jnp.logaddexp2(A, A.T[:4, :4].sum() + A), jjnp.logaddexp2(A, A.T[:4, :4].sum() + A), rtol=1e-5)
    x = np.array([np.inf, -np.inf, np.nan, 1.0], np.float32)
    check(jnp.isposinf(x), np.isposinf(x))
    check(jnp.isneginf(x), np.isneginf(x))
    check(jnp.isreal(x), np.isreal(x))
    assert jnp.isrealobj(x) and not jnp.iscomplexobj(x)
    check(jnp.select([A > 0.5, A < -0.5], [A, -A], 0.0), np.select([A > 0.5, A < -0.5], [A, -A], 0.0))
    with pytest.raises(TypeError):
        jnp.gcd(A, A)
    with pytest.raises(ValueError):
        jnp.select([A > 0], [A, A])
    # the 64-bit alias names, truncated to 32 bits with x64 off as in JAX
    assert jnp.zeros(2, jnp.float_).dtype == np.float32 and jnp.zeros(2, jnp.int_).dtype == np.int32


def test_more_array_methods():
    x = jnp.asarray(A)
    check(x.diagonal(), A.diagonal())
    check(x.diagonal(1), A.diagonal(1))
    check(x.trace(), jjnp.asarray(A).trace())
    check(x.ptp(axis=0), jjnp.asarray(A).ptp(axis=0))
    c = x.copy()
    assert c is not x and isinstance(c, irjax.Array)
    check(c, A)
    assert x.itemsize == 4 and x.nbytes == A.nbytes and x.imag.shape == A.shape and not np.asarray(x.imag).any()
    s = jnp.sort(x[0])
    check(s.searchsorted(x[1, :2]), jjnp.searchsorted(jjnp.sort(A[0]), A[1, :2]))
    assert int(x[0].argpartition(0)[0]) == int(np.argmin(A[0]))
    check(irjax.jit(lambda m: m.diagonal() + m.trace())(A), A.diagonal() + np.trace(A), rtol=1e-5)
