"""The comparison the differential tests against JAX share: same leaves, dtypes and shapes, values
within a tolerance (or bit for bit)."""

from __future__ import annotations

import jax
import numpy as np


def leaves(x) -> list:
    return [np.asarray(v) for v in jax.tree_util.tree_leaves(x)]


def assert_matches_jax(got, want, tol: float = 2e-6, exact: bool = False) -> None:
    got, want = leaves(got), leaves(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, g.shape, w.dtype, w.shape)
        if exact:
            np.testing.assert_array_equal(g, w)
        else:
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol, equal_nan=True)
