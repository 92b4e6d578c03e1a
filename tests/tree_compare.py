"""Comparing irjax results with JAX's (the test-only oracle), leaf by leaf."""

import numpy as np

from irjax import tree_util


def tree_close(a, b, rtol=2e-5, atol=2e-5):
    """a (irjax) and b (jax) have the same number of leaves, shapes and values within tolerance."""
    import jax

    la, ta = tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    assert len(la) == len(lb), (ta, tb)
    for x, y in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (x.shape, y.shape)
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)
