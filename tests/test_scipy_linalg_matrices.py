"""jax.scipy.linalg's special matrices against JAX: values, dtypes, batches, jit and gradients."""

import irjax
import irjax.scipy.linalg as isl
import jax
import jax.scipy.linalg as jsl
import numpy as np
import pytest

rng = np.random.default_rng(0)
c = np.array([1.0, 2, 3], np.float32)
r = np.array([4.0, 5, 6, 7], np.float32)
f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731

CASES = [
    ("toeplitz", (c, r)),
    ("toeplitz", (c,)),
    ("toeplitz", (c + 1j,)),
    ("toeplitz", (np.array([1, 2]),)),
    ("toeplitz", (f32(2, 3), f32(2, 4))),
    ("hankel", (c, r)),
    ("hankel", (c,)),
    ("hankel", (f32(2, 3), f32(1, 2))),
    ("circulant", (c,)),
    ("circulant", (f32(2, 3),)),
    ("companion", (np.array([2.0, 3, 4], np.float32),)),
    ("companion", (np.array([1, 2, 3]),)),
    ("companion", (np.array([0.0, 1, 2], np.float32),)),
    ("convolution_matrix", (c, 5)),
    ("convolution_matrix", (c, 5, "same")),
    ("convolution_matrix", (c, 5, "valid")),
    ("convolution_matrix", (np.arange(1.0, 6, dtype=np.float32), 3, "valid")),
    ("convolution_matrix", (np.arange(1.0, 6, dtype=np.float32), 3, "same")),
    ("dft", (3,)),
    ("dft", (4, "n")),
    ("dft", (5, "sqrtn")),
    ("fiedler", (c,)),
    ("fiedler", (f32(2, 3),)),
    ("hadamard", (8,)),
    ("helmert", (4,)),
    ("helmert", (4, True)),
    ("helmert", (1,)),
    ("hilbert", (4,)),
    ("hilbert", (0,)),
    ("invhilbert", (5,)),
    ("invpascal", (4,)),
    ("invpascal", (4, "lower")),
    ("invpascal", (4, "upper")),
    ("leslie", (c, r[:2])),
    ("leslie", (f32(2, 3), f32(2, 2))),
    ("pascal", (4,)),
    ("pascal", (4, "upper")),
    ("pascal", (4, "lower")),
    ("pascal", (0,)),
    *[("fiedler_companion", (np.arange(1.0, n + 1, dtype=np.float32),)) for n in range(1, 8)],
]


def test_values_and_dtypes_match_jax():
    for name, args in CASES:
        want, got = getattr(jsl, name)(*args), getattr(isl, name)(*args)
        assert got.dtype == want.dtype and got.shape == want.shape, (name, args, got.dtype, want.dtype)
        # JAX rounds invhilbert's float32 arithmetic (rel. error ~5e-6); irjax's entries are exact
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6, err_msg=name)


def test_invhilbert_is_exact_inverse():
    h = np.array(isl.invhilbert(4), np.float64)
    np.testing.assert_allclose(h @ (1.0 / (np.arange(4)[:, None] + np.arange(4) + 1)), np.eye(4), atol=1e-9)


def test_jit_and_grad():
    def loss(c, r):
        return (isl.toeplitz(c, r) ** 2).sum() + (isl.hankel(c, r) * 1.5).sum() + isl.circulant(c).sum() ** 2

    def jloss(c, r):
        return (jsl.toeplitz(c, r) ** 2).sum() + (jsl.hankel(c, r) * 1.5).sum() + jsl.circulant(c).sum() ** 2

    gi = irjax.jit(irjax.grad(loss, argnums=(0, 1)))(c, r)
    gj = jax.grad(jloss, argnums=(0, 1))(c, r)
    for a, b in zip(gi, gj):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
    np.testing.assert_allclose(irjax.jit(isl.toeplitz)(c, r), jsl.toeplitz(c, r))


def test_bad_input():
    with pytest.raises(ValueError, match="power of 2"):
        isl.hadamard(6)
    with pytest.raises(ValueError, match="mode"):
        isl.convolution_matrix(c, 3, "nope")
    with pytest.raises(ValueError, match="len\\(s\\)"):
        isl.leslie(c, c)
    with pytest.raises(ValueError, match="kind"):
        isl.pascal(3, "diag")
    with pytest.raises(ValueError, match="at least 2"):
        isl.companion(np.ones(1))
    with pytest.raises(ValueError, match="scalar"):
        isl.toeplitz(1.0)
