"""jax.numpy's answers off the common path, checked against JAX on the same inputs: NaN in order
statistics and searches, infinities in isclose, `where=` masks on every reduction, weights in
quantile and cov, traced repeats and shifts, fill tuples, keyword names. Each case was a
difference a differential probe found (2026-12-07)."""

from __future__ import annotations

import irjax
import irjax.numpy as inp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax_diff import assert_matches_jax

jax.config.update("jax_platforms", "cpu")

NAN = np.float32(np.nan)
X = np.array([[1.0, 2.0, 3.0, -5.0], [0.0, 1.0, 2.0, 3.0]], np.float32)
A3 = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
A3[0, 1, 2] = np.nan
V8 = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0], np.float32)
W8 = np.array([1, 2, 1, 1, 3, 1, 1, 1], np.float32)
QS = np.array([0.1, 0.33, 0.5, 0.99], np.float32)
XI = np.arange(12).reshape(3, 4)
_rng = np.random.default_rng(0)
M4 = _rng.standard_normal((4, 4)).astype(np.float32)
T246 = _rng.standard_normal((4, 6, 24)).astype(np.float32)
T3232 = _rng.standard_normal((3, 2, 3, 2)).astype(np.float32)
B23 = _rng.standard_normal((2, 3)).astype(np.float32)
C5 = (_rng.standard_normal(5) + 1j * _rng.standard_normal(5)).astype(np.complex64)
C3 = (_rng.standard_normal(3) + 1j * _rng.standard_normal(3)).astype(np.complex64)


_UFUNC_CALLS = {
    "reduce": lambda f: f.reduce(X / 4, axis=1),
    "reduce_keepdims": lambda f: f.reduce(X / 4, axis=0, keepdims=True),
    "accumulate": lambda f: f.accumulate(X / 4, axis=1),
    "outer": lambda f: f.outer(np.arange(3.0), np.arange(4.0)),
    "at": lambda f: f.at(
        X / 4, (np.array([0, 0, 2]), np.array([1, 1, 3])), np.array([2, 3, 4], np.float32), inplace=False
    ),
    "reduceat": lambda f: f.reduceat(np.arange(8.0, dtype=np.float32) / 3, np.array([0, 4, 1, 5])),
    "attributes": lambda f: [f.nin, f.nout, f.nargs, -99 if f.identity is None else f.identity],
}


def _t(m):
    """The transformations module that goes with numpy module m."""
    return jax if m is jnp else irjax


CASES = {
    # order statistics: a NaN in a slice makes it NaN (nan* functions leave NaNs out)
    "median_nan": lambda m: m.median(np.array([1.0, NAN, 3.0], np.float32)),
    "median_rows_nan": lambda m: m.median(np.array([[1, NAN, 2], [1, 2, 3]], np.float32), axis=1),
    "quantile_nan": lambda m: m.quantile(np.array([1.0, NAN, 3.0], np.float32), 0.5),
    "percentile_nan": lambda m: m.percentile(np.array([1.0, NAN, 3.0], np.float32), 50),
    "quantile_axis_tuple": lambda m: m.quantile(A3, QS, axis=(0, 2)),
    "quantile_axis_tuple_keepdims": lambda m: m.quantile(A3, QS[:2], axis=(0, 2), keepdims=True),
    "nanquantile_axis_tuple": lambda m: m.nanquantile(A3, 0.5, axis=(0, 2)),
    "median_axis_tuple_keepdims": lambda m: m.median(A3, axis=(2, 0), keepdims=True),
    "nanmedian": lambda m: m.nanmedian(A3, axis=1),
    "median_int": lambda m: m.median(np.array([1, 2, 3, 4], np.int32)),
    "quantile_inverted_cdf": lambda m: m.quantile(
        V8, np.array([0, 0.1, 0.125, 0.3, 0.5, 0.9, 1], np.float32), method="inverted_cdf"
    ),
    "nanquantile_inverted_cdf": lambda m: m.nanquantile(
        np.array([1, NAN, 3, 4], np.float32), QS, method="inverted_cdf"
    ),
    "quantile_weights": lambda m: m.quantile(
        V8, np.array([0.2, 0.5, 0.7], np.float32), weights=W8, method="inverted_cdf"
    ),
    "nanquantile_weights": lambda m: m.nanquantile(
        np.array([1, NAN, 3, 4], np.float32), 0.5, method="inverted_cdf", weights=np.array([1, 5, 1, 1], np.float32)
    ),
    "quantile_weights_1d_along_axis": lambda m: m.quantile(
        np.array([[1, 2], [3, 4]], np.float32), 0.5, axis=1, method="inverted_cdf", weights=np.array([3, 1], np.float32)
    ),
    "jit_quantile_axis_tuple": lambda m: _t(m).jit(lambda x: m.quantile(x, 0.3, axis=(0, 1)))(A3),
    "grad_median": lambda m: _t(m).grad(lambda x: m.median(x))(np.array([3.0, 1.0, 2.0, 5.0], np.float32)),
    # reductions' where= and var's mean=
    "all_where": lambda m: m.all(X > 0, where=X > 0.5),
    "any_where": lambda m: m.any(X > 0, where=X < 0),
    "var_where": lambda m: m.var(X, axis=1, where=X > -1),
    "std_where": lambda m: m.std(X, where=X > -1),
    "var_where_ddof_keepdims": lambda m: m.var(X, axis=0, where=X > -1, ddof=1, keepdims=True),
    "var_complex_where": lambda m: m.var(np.array([1 + 1j, 2j, 3], np.complex64), where=np.array([True, True, False])),
    "std_mean": lambda m: m.std(X, axis=1, mean=X.mean(1, keepdims=True)),
    "nanvar_complex": lambda m: m.nanvar(np.array([1 + 1j, np.nan, 2j], np.complex64)),
    "nanstd_mean": lambda m: m.nanstd(np.array([1.0, NAN, 2.0], np.float32), mean=np.float32(1.0)),
    # cov weights
    "cov_aweights": lambda m: m.cov(X, aweights=np.array([1, 2, 1, 1], np.float32)),
    "cov_fweights": lambda m: m.cov(X, fweights=np.array([1, 2, 1, 3])),
    "cov_both": lambda m: m.cov(X, fweights=np.array([1, 2, 1, 3]), aweights=np.array([1, 0.5, 1, 2], np.float32)),
    "cov_both_bias": lambda m: m.cov(
        X, fweights=np.array([1, 2, 1, 3]), aweights=np.array([1, 0.5, 1, 2], np.float32), bias=True
    ),
    "cov_complex": lambda m: m.cov(np.array([[1 + 1j, 2, 3j], [1, 2j, 0]], np.complex64)),
    "corrcoef_dtype": lambda m: m.corrcoef(np.array([[1, 2, 4], [1, 5, 0]]), dtype=np.float32),
    # comparisons with infinities and NaN
    "isclose_infinities": lambda m: m.isclose(
        np.array([np.inf, -np.inf, NAN, 1, 0, np.inf, NAN], np.float32),
        np.array([-np.inf, -np.inf, NAN, 1.00001, np.inf, np.inf, 1], np.float32),
    ),
    "allclose_opposite_infinities": lambda m: m.allclose(np.float32(np.inf), np.float32(-np.inf)),
    "array_equal_equal_nan": lambda m: m.array_equal(np.array([1.0, NAN]), np.array([1.0, NAN]), equal_nan=True),
    "searchsorted_nan_left": lambda m: m.searchsorted(
        np.array([1, 2, NAN], np.float32), np.array([NAN, 0, 1, 2, 5, -np.inf, np.inf], np.float32)
    ),
    "searchsorted_nan_right": lambda m: m.searchsorted(
        np.array([1, 2, NAN], np.float32), np.array([NAN, 0, 1, 2, 5, -np.inf, np.inf], np.float32), side="right"
    ),
    "digitize_nan": lambda m: m.digitize(np.array([NAN, 0.5, 2], np.float32), np.array([0, 1], np.float32)),
    "digitize_nan_decreasing": lambda m: m.digitize(np.array([NAN, 0.5, 2], np.float32), np.array([1, 0], np.float32)),
    # repeat with total_repeat_length, roll by a traced shift
    "repeat_total_pads_with_last": lambda m: m.repeat(np.array([1, 2, 3]), np.array([1, 0, 2]), total_repeat_length=5),
    "repeat_total_cuts": lambda m: m.repeat(np.array([1, 2, 3]), np.array([1, 3, 2]), total_repeat_length=3),
    "repeat_total_scalar": lambda m: m.repeat(np.array([1, 2, 3]), 2, total_repeat_length=4),
    "jit_repeat_traced": lambda m: _t(m).jit(lambda r: m.repeat(X, r, axis=1, total_repeat_length=7))(
        np.array([3, 0, 2, 1])
    ),
    "jit_roll_traced": lambda m: _t(m).jit(lambda a, s: m.roll(a, s))(np.arange(5), -7),
    "jit_roll_traced_axis": lambda m: _t(m).jit(lambda a, s: m.roll(a, s, axis=1))(X, 5),
    "vmap_roll": lambda m: _t(m).vmap(lambda s: m.roll(np.arange(5), s))(np.array([0, 1, -2])),
    "grad_roll_traced": lambda m: _t(m).grad(lambda a, s: (m.roll(a, s) * np.arange(5.0)).sum())(np.arange(5.0), 2),
    "roll_one_shift_two_axes": lambda m: m.roll(X, 1, axis=(0, 1)),
    # dtypes and fills
    "matrix_power_int": lambda m: m.linalg.matrix_power(np.array([[1, 1], [1, 0]]), 10),
    "matrix_power_int_zero": lambda m: m.linalg.matrix_power(np.array([[1, 1], [1, 0]]), 0),
    "fmod_int_by_zero": lambda m: m.fmod(np.array([7, -7]), 0),
    "nonzero_fill_tuple": lambda m: m.nonzero(np.array([[0, 1], [1, 1]]), size=5, fill_value=(-1, -2)),
    "argwhere_fill_tuple": lambda m: m.argwhere(np.array([[0, 1], [1, 1]]), size=5, fill_value=(-1, -2)),
    "take_along_axis_none": lambda m: m.take_along_axis(X, np.array([0, 7]), axis=None),
    "take_along_axis_no_wrap": lambda m: m.take_along_axis(
        X, np.array([0, -1]), axis=None, wrap_negative_indices=False
    ),
    # two pads in a row with run-time padding values (IREE rejected the module)
    "fft2_padded_real_eager": lambda m: m.fft.fft2(np.ones((4, 6), np.float32), s=(5, 8)),
    "ifftn_padded_real_eager": lambda m: m.fft.ifftn(np.ones((4, 6), np.float32), s=(5, 8)),
    "jit_two_pads_traced_values": lambda m: _t(m).jit(
        lambda x, v: m.pad(m.pad(-x, ((1, 0), (0, 0)), constant_values=v), ((0, 0), (0, 2)), constant_values=2 * v)
    )(X, np.float32(7)),
    "lax_pad_crop_traced_value": lambda m: _t(m).jit(lambda x, v: _t(m).lax.pad(-x, v, ((1, -1, 0), (2, 1, 1))))(
        X, np.float32(3)
    ),
    # jnp.pad's modes (each axis in turn, as NumPy)
    **{
        f"pad_{mode}_{dt.__name__}": (
            lambda mode, kw, dt: lambda m: m.pad((XI * 3 - 7).astype(dt), ((1, 2), (2, 1)), mode, **kw)
        )(mode, kw, dt)
        for mode, kw in [
            ("mean", {}),
            ("mean", {"stat_length": ((1, 2), (2, 1))}),
            ("median", {"stat_length": 2}),
            ("maximum", {"stat_length": (1, 3)}),
            ("minimum", {}),
            ("linear_ramp", {"end_values": ((1, 2), (-3, 4))}),
            ("reflect", {"reflect_type": "odd"}),
            ("symmetric", {"reflect_type": "odd"}),
            ("constant", {"constant_values": ((1, 2), (3, 4))}),
            ("empty", {}),
        ]
        for dt in (np.float32, np.int32)
    },
    "pad_odd_reflection_wider_than_axis": lambda m: m.pad(
        np.array([1, 4, 9, 16, 25], np.float32), (13, 2), "reflect", reflect_type="odd"
    ),
    "pad_odd_symmetric_wider_than_axis": lambda m: m.pad(
        np.array([1, 4, 9, 16, 25], np.float32), (7, 11), "symmetric", reflect_type="odd"
    ),
    "pad_callable": lambda m: m.pad(
        np.arange(6.0).reshape(2, 3),
        (1, 2),
        lambda v, w, i, kw: v.at[: w[0]].set(-1).at[v.shape[0] - w[1] :].set(i + kw["k"]),
        k=5,
    ),
    "grad_pad_mean": lambda m: _t(m).grad(lambda x: (m.pad(x, (3, 4), "mean") ** 2).sum())(np.arange(5.0)),
    # 0-d .at[()] and einsum's sublist form
    "at_empty_index_0d": lambda m: [
        getattr(m.asarray(3.0).at[()], k)(v)
        for k, v in [("set", 5.0), ("add", 2.0), ("mul", 4.0), ("max", 7.0), ("min", 1.0)]
    ],
    "einsum_sublists": lambda m: m.einsum(X, [0, 1], X.T, [1, 2], [0, 2]),
    "einsum_sublists_implicit_output": lambda m: m.einsum(X, [1, 0]),
    # linalg: the general eigenproblem (eigenvalues; vectors are checked by reconstruction below)
    "eigvals_general": lambda m: m.sort_complex(m.linalg.eigvals(M4)),
    "eigvals_batched_jit": lambda m: m.sort_complex(_t(m).jit(m.linalg.eigvals)(np.stack([M4, M4.T, -M4]))),
    "tensorinv": lambda m: m.linalg.tensorinv(T246, ind=2),
    "tensorsolve_axes": lambda m: m.linalg.tensorsolve(T3232, B23, axes=(0,)),
    # ufunc methods (jnp.add.at, .reduce, .accumulate, .outer, .reduceat)
    **{
        f"ufunc_{n}_{meth}": (lambda n, meth: lambda m: _UFUNC_CALLS[meth](getattr(m, n)))(n, meth)
        for n in ("add", "multiply", "maximum", "minimum", "subtract", "logaddexp")
        for meth in _UFUNC_CALLS
    },
    "ufunc_bitwise_xor_accumulate": lambda m: m.bitwise_xor.accumulate(XI * 7 - 20, axis=1),
    "ufunc_logical_and_reduce": lambda m: m.logical_and.reduce(X > 0, axis=1),
    "ufunc_subtract_reduce_where_initial": lambda m: m.subtract.reduce(X, axis=1, where=X > 0, initial=1.0),
    "ufunc_add_reduce_where": lambda m: m.add.reduce(X, axis=1, where=X > 0),
    "jit_ufunc_subtract_at_traced": lambda m: _t(m).jit(lambda x, i: m.subtract.at(x, i, 1.0, inplace=False))(
        X[0], np.array([0, 0, 2])
    ),
    "grad_ufunc_subtract_reduce": lambda m: _t(m).grad(lambda x: m.subtract.reduce(x))(np.array([2, 3, 4], np.float32)),
    # complex 1-d correlation and convolution (four real correlations)
    **{
        f"{f}_complex_{mode}_{'long_short' if swap else 'short_long'}": (
            lambda f, mode, swap: lambda m: getattr(m, f)(*((C5, C3) if swap else (C3, C5)), mode=mode)
        )(f, mode, swap)
        for f in ("correlate", "convolve")
        for mode in ("valid", "same", "full")
        for swap in (False, True)
    },
    "correlate_complex_with_real": lambda m: m.correlate(C5, C3.real.copy(), mode="full"),
    # keyword names and arguments JAX has
    "argsort_dtype": lambda m: m.argsort(np.array([3, 1, 2]), dtype=np.int16),
    "round_a": lambda m: m.round(a=np.array([1.26, 2.5], np.float32), decimals=1),
    "broadcast_to_array": lambda m: m.broadcast_to(array=np.ones(3, np.float32), shape=(2, 3)),
    "inner_preferred": lambda m: m.inner(
        np.array([100, 2], np.int8), np.array([3, 4], np.int8), preferred_element_type=np.int32
    ),
    "tensordot_preferred": lambda m: m.tensordot(
        np.full((2, 3), 100, np.int8), np.ones((3, 2), np.int8), 1, preferred_element_type=np.int32
    ),
    "linalg_vecdot_preferred": lambda m: m.linalg.vecdot(
        np.full((2, 3), 100, np.int8), np.ones((2, 3), np.int8), preferred_element_type=np.int32
    ),
    "pinv_rcond": lambda m: m.linalg.pinv(X, rcond=1e-3),
    "hsplit_keywords": lambda m: m.hsplit(ary=X, indices_or_sections=2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_jax(name):
    # (LAPACK vs irjax's own solves; sums of products in another order)
    tol = 2e-4 if name.startswith(("eig", "tensor")) else 2e-5 if "complex" in name else 2e-6
    assert_matches_jax(CASES[name](inp), CASES[name](jnp), tol)


def test_weights_need_inverted_cdf():
    with pytest.raises(ValueError, match="inverted_cdf"):
        inp.quantile(V8, 0.5, weights=W8)


def test_traced_repeats_need_total_length():
    with pytest.raises(irjax.errors.ConcretizationTypeError, match="total_repeat_length"):
        irjax.jit(lambda r: inp.repeat(np.arange(3), r))(np.array([1, 0, 2]))


def test_cov_rejects_float_frequency_weights():
    with pytest.raises(TypeError, match="fweights"):
        inp.cov(X, fweights=np.array([1.0, 2.0, 1.0, 1.0]))


def test_grad_of_two_pads_by_their_traced_value():
    """d/dv of the sum of pad(pad(-X, v), 2v): 4 cells of v and 3 * 2 cells of 2v (JAX 0.10.2's
    jnp.pad fails on this gradient)."""

    def f(v):
        once = inp.pad(-X, ((1, 0), (0, 0)), constant_values=v)
        return inp.pad(once, ((0, 0), (0, 2)), constant_values=2 * v).sum()

    assert float(irjax.grad(f)(np.float32(1))) == 4 + 2 * (3 * 2)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((np.arange(5.0), -1), {}, "negative"),
        ((np.arange(5.0), 1), {"mode": "circular"}, "mode"),
        ((np.arange(5.0), 1), {"mode": "edge", "stat_length": 2}, "stat_length"),
        ((np.zeros((0, 3)), 1), {"mode": "edge"}, "empty axis"),
    ],
)
def test_pad_rejects(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        inp.pad(*args, **kwargs)


def test_eig_vectors_reconstruct_the_matrix():
    w, v = inp.linalg.eig(np.stack([M4, M4.T]))
    a = np.stack([M4, M4.T]).astype(np.complex64)
    np.testing.assert_allclose(a @ np.asarray(v), np.asarray(v) * np.asarray(w)[:, None, :], atol=1e-4)
    assert np.asarray(w).dtype == np.complex64 and np.asarray(v).dtype == np.complex64


def test_ufunc_at_in_place_is_refused():
    with pytest.raises(NotImplementedError, match="inplace=False"):
        inp.add.at(X, 0, 1.0)
