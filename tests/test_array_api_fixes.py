"""Fixes found by the array API suite at 2023.12 (tests/test_array_api_suite.py), each checked
against JAX on the input that failed: values, shapes and dtypes."""

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
