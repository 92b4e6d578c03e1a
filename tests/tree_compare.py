"""Comparing irjax results with JAX's (the test-only oracle), leaf by leaf."""

import numpy as np
from irjax import tree_util


def tree_close(a, b, rtol=2e-5, atol=2e-5, dtype=False, equal_nan=False):
    """a (irjax) and b (jax) have the same number of leaves, shapes and values within tolerance
    (and the same dtypes, with dtype=True; NaNs in the same places count as equal with
    equal_nan=True)."""
    import jax

    la, ta = tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    assert len(la) == len(lb), (ta, tb)
    for x, y in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (x.shape, y.shape)
        if dtype:
            assert x.dtype == y.dtype, (x.dtype, y.dtype)
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan)
