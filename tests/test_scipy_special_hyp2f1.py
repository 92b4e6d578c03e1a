"""irjax.scipy.special.hyp2f1 against jax.scipy.special.hyp2f1: random and special arguments (JAX's
case split: inf, Euler's transformation, terminating polynomials, the logarithmic case near x = 1),
dtypes, gradients in all four arguments, jit and vmap."""

import irjax
import irjax.scipy.special as isp
import jax
import jax.scipy.special as jsp
import numpy as np
import pytest

# ~10 while loops per program: 1-3 min of IREE compile on 2 busy cores
pytestmark = pytest.mark.slow

rng = np.random.default_rng(0)
n = 40
SPECIAL = np.array(
    [  # a, b, c, x
        [1, 1, 2, 0.5],
        [2, 3, 5, 0.95],
        [-2, 1.5, 3, 0.3],
        [-3, 2, -4, 0.2],
        [1.5, 2.5, 4, 1],
        [0.5, 0.5, 1, 1],
        [1, 1, -2, 0.5],
        [2, 2, 0, 0.5],
        [1, 2, 3, 0.97],
        [0.5, 1.5, 3, 0.99],
        [1, 1, 2, 1.5],
        [-2, 1, 1.5, 0.5],
        [2.5, 2.5, 3, -0.5],
        [1.5, 0.5, 2, 0],
        [1.5, 0.5, 2, 0.95],
        [0.5, 1.5, 2, 0.93],
        [0.5, 1.5, 4, 0.95],
        [0.3, 0.2, 3.5, 0.92],
        [1.2, 0.8, 4, 0.99],
        [0.5, 1.5, 1, 0.95],
        [0.7, 0.1, 0.8, 0.97],
        [-1.5, 0.5, 1.5, 0.95],
        [0.5, 2.5, 2, 0.95],
        [1, 2, 2, 0.5],
        [2, 1, 2, 0.5],
    ],
    np.float32,
).T
ARGS = [
    np.concatenate([rng.uniform(lo, hi, n).astype(np.float32), s])
    for (lo, hi), s in zip([(-3, 3), (-3, 3), (-3, 4), (-1, 1)], SPECIAL)
]
hyp2f1 = irjax.jit(isp.hyp2f1)


def test_values_and_dtype_match_jax():
    got, want = hyp2f1(*ARGS), jsp.hyp2f1(*ARGS)
    assert got.dtype == want.dtype == np.float32
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-5, equal_nan=True)
    # the answers JAX gives where 2F1 is infinite (x > 1, c a non-positive integer)
    assert np.isinf(np.asarray(got)[[n + 6, n + 7, n + 10]]).all()


def test_grad_vmap_and_python_scalars():
    args = (0.7, 1.3, 2.9, 0.4)
    g = irjax.jit(irjax.grad(isp.hyp2f1, argnums=(0, 1, 2, 3)))(*args)
    j = jax.grad(jsp.hyp2f1, argnums=(0, 1, 2, 3))(*args)
    np.testing.assert_allclose(np.array(g), np.array(j), rtol=1e-5)
    v = irjax.vmap(isp.hyp2f1)(*(a[:5] for a in ARGS))
    np.testing.assert_allclose(np.asarray(v), np.asarray(hyp2f1(*(a[:5] for a in ARGS))), rtol=1e-6)
    assert isp.hyp2f1(1, 1, 2, 0.5).dtype == np.float32
