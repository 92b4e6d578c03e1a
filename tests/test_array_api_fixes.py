"""Fixes found by the array API suite at 2023.12 (tests/test_array_api_suite.py), each checked
against JAX on the input that failed: values, shapes and dtypes; and the suite's failures that
irjax keeps because jax.numpy fails them too, pinned to JAX's answers."""

from __future__ import annotations

import inspect

import irjax.numpy as jnp
import jax
import jax.numpy as jjnp
import numpy as np
import pytest

jax.config.update("jax_platforms", "cpu")


def _same(got, want, rtol=1e-5, atol=0.0):
    assert np.dtype(got.dtype) == np.dtype(want.dtype), (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=rtol, atol=atol)


def test_clip_takes_min_and_max_by_position_and_name():
    assert list(inspect.signature(jnp.clip).parameters)[:3] == ["arr", "min", "max"]
    x = np.arange(6.0, dtype=np.float32) - 2
    _same(jnp.clip(x, 0, 2), jjnp.clip(x, 0, 2))
    _same(jnp.clip(x, min=1), jjnp.clip(x, min=1))
    _same(jnp.clip(x, max=np.float32(0.5)), jjnp.clip(x, max=np.float32(0.5)))
    with pytest.raises(TypeError, match="no array"):
        jnp.clip(min=1)


def test_repeat_and_take_fill_in_unsigned_dtypes():
    # the default fill is uint32's max, which as a weak int32 overflowed
    empty, reps = np.zeros((0,), np.uint32), np.zeros((0,), np.int8)
    _same(jnp.repeat(empty, reps), jjnp.repeat(empty, reps))
    x, idx = np.arange(3, dtype=np.uint32), np.array([0, 5, -9])
    _same(jnp.take(x, idx, mode="fill"), jjnp.take(x, idx, mode="fill"))


@pytest.mark.parametrize("shape", [(), (2, 2)])
@pytest.mark.parametrize("mask", [True, False])
def test_zero_d_boolean_mask_adds_an_axis(shape, mask):
    x = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    _same(jnp.asarray(x)[jnp.asarray(mask)], jjnp.asarray(x)[jjnp.asarray(mask)])
    _same(jnp.asarray(x)[np.asarray(mask)], jjnp.asarray(x)[np.asarray(mask)])


_RNG = np.random.default_rng(3)
_Z = (_RNG.normal(size=(2, 3, 4)) + 1j * _RNG.normal(size=(2, 3, 4))).astype(np.complex64)


def test_vector_norm_over_axis_tuples_and_complex_matches_jax():
    cases = [
        (_Z, {}),
        (_Z, {"axis": (0, -1), "keepdims": True}),
        (_Z, {"ord": 0, "axis": -1}),
        (_Z.real.copy(), {"ord": -np.inf, "axis": (0, 1)}),
        (np.zeros((1,), np.complex64), {"ord": 3}),
    ]
    for x, kw in cases:
        _same(jnp.linalg.vector_norm(x, **kw), jjnp.linalg.vector_norm(x, **kw), rtol=2e-6)


def test_qr_and_svd_of_huge_entries_stay_finite():
    # squared norms of entries near 1e19 overflow float32: the factorizations scale first
    z = np.array([[1.4627365e18 + 1.7669427e19j, 0], [0, 0]], np.complex64)
    q, r = jnp.linalg.qr(z)
    qj, rj = jjnp.linalg.qr(z)
    _same(q, qj, rtol=1e-6, atol=1e-6)
    _same(r, rj, rtol=1e-5)
    y = np.array([[3e19, 1e19], [2e19, -1e19], [1, 2]], np.float32)
    _same(jnp.linalg.svd(y, compute_uv=False), jjnp.linalg.svd(y, compute_uv=False), rtol=1e-5)
    u, s, vh = jnp.linalg.svd(y, full_matrices=False)
    np.testing.assert_allclose((np.asarray(u) * np.asarray(s)) @ np.asarray(vh), y, rtol=1e-5, atol=1e14)


def test_one_by_one_complex_factorizations_match_jax():
    # IREE 3.13 miscompiled det (0) and failed to compile qr/svd/pinv on (..., 1, 1) complex
    for a in (np.array([[2 + 1j]], np.complex64), np.array([[[-3 + 0j]], [[0.5j]]], np.complex64)):
        _same(jnp.linalg.det(a), jjnp.linalg.det(a), rtol=1e-6)
        for got, want in zip(jnp.linalg.slogdet(a), jjnp.linalg.slogdet(a)):
            _same(got, want, rtol=1e-6, atol=1e-7)
        for got, want in zip(jnp.linalg.qr(a), jjnp.linalg.qr(a)):
            _same(got, want, rtol=1e-6, atol=1e-7)
        u, s, vh = jnp.linalg.svd(a)
        _same(s, jjnp.linalg.svd(a)[1], rtol=1e-6)
        np.testing.assert_allclose(np.asarray(u) * np.asarray(s)[..., None] * np.asarray(vh), a, rtol=1e-6)
        _same(jnp.linalg.pinv(a), jjnp.linalg.pinv(a), rtol=1e-6, atol=1e-7)


# ---- the failures irjax keeps because jax.numpy has them too (JAX's deviations from the standard):
# the same answers as JAX, so that JAX code runs unchanged

NAN, INF = np.nan, np.inf
# (real, imag) inputs of the 2023.12 special cases that jax.numpy and irjax.numpy both fail
# (array_api_tests/test_special_cases.py::test_unary), one array per function
SPECIAL = {
    "arccos": [(0.0, NAN), (-0.0, NAN), (1.5, NAN), (-4.733138e18, NAN)],
    "arccosh": [(0.0, NAN), (-1.0723123e19, NAN)],
    "arcsinh": [(NAN, 0.0)],
    "arctanh": [(0.0, NAN), (1.5, NAN), (INF, NAN), (NAN, 1.5), (NAN, NAN)],
    "cosh": [(0.0, INF), (0.0, NAN), (INF, INF), (INF, NAN)],
    "exp": [(-INF, INF), (INF, INF), (-INF, NAN), (INF, NAN)],
    "expm1": [(-INF, INF), (INF, INF), (-INF, NAN), (INF, NAN)],
    "sign": [(0.0, 0.0), (-0.0, 0.0), (0.0, -0.0), (-0.0, -0.0)],
    "sinh": [(0.0, INF), (0.0, NAN), (INF, INF), (INF, NAN)],
    "tanh": [(0.0, INF), (0.0, NAN)],
}


def _pattern(a: np.ndarray) -> list:
    """Each part as NaN, or its value with its sign bit (so -0 and +0 differ)."""
    out = []
    for part in (a.real, a.imag):
        out.append([("nan",) if np.isnan(v) else (float(v), bool(np.signbit(v))) for v in part])
    return out


@pytest.mark.parametrize("name", sorted(SPECIAL))
def test_complex_special_values_follow_jax(name):
    z = np.array([complex(r, i) for r, i in SPECIAL[name]], np.complex64)
    got = getattr(jnp, name)(jnp.asarray(z))
    want = getattr(jjnp, name)(jjnp.asarray(z))
    assert got.dtype == want.dtype == np.complex64
    g, w = np.asarray(got), np.asarray(want)
    # arctanh's finite parts are pi/2 computed two ways: equal to a few ulp, not bitwise
    np.testing.assert_allclose(np.nan_to_num(g), np.nan_to_num(w), rtol=1e-6)
    if name != "arctanh":
        assert _pattern(g) == _pattern(w), (z, g, w)
    else:
        assert [np.isnan(g.real).tolist(), np.isnan(g.imag).tolist()] == [
            np.isnan(w.real).tolist(),
            np.isnan(w.imag).tolist(),
        ]


def test_sign_of_negative_zero_is_negative_zero_as_in_jax():
    # the standard asks sign(-0.0) -> +0; JAX (and NumPy) keep the sign bit
    x = np.array([-0.0, 0.0], np.float32)
    got, want = jnp.sign(jnp.asarray(x)), jjnp.sign(jjnp.asarray(x))
    assert got.dtype == want.dtype == np.float32
    assert np.signbit(np.asarray(got)).tolist() == np.signbit(np.asarray(want)).tolist() == [True, False]


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_finfo_fields_are_numpy_scalars_as_in_jax(dtype):
    # the standard asks for Python floats; JAX gives ml_dtypes' finfo with NumPy scalars
    got, want = jnp.finfo(getattr(jnp, dtype)), jjnp.finfo(getattr(jjnp, dtype))
    for field in ("eps", "max", "min", "smallest_normal"):
        g, w = getattr(got, field), getattr(want, field)
        assert type(g) is type(w), (field, type(g), type(w))
        assert g == w, field
    assert got.bits == want.bits and got.dtype == want.dtype


def test_setitem_raises_typeerror_as_jax():
    # the suite's test_setitem / test_setitem_masking: JAX arrays are immutable
    x, jx = jnp.zeros(3), jjnp.zeros(3)
    for arr in (x, jx):
        with pytest.raises(TypeError, match=r"\.at\["):
            arr[0] = 1.0
        with pytest.raises(TypeError, match=r"\.at\["):
            arr[arr > 0] = 1.0
    assert np.asarray(x.at[0].set(1.0)).tolist() == np.asarray(jx.at[0].set(1.0)).tolist()
