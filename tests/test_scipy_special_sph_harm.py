"""irjax.scipy.special.sph_harm_y against jax.scipy.special.sph_harm_y: values, complex64 dtype,
n_max clipping, jit and vmap."""

import irjax
import irjax.scipy.special as isp
import jax.scipy.special as jsp
import numpy as np
import pytest

rng = np.random.default_rng(0)
N = 60
n = rng.integers(0, 9, N)
m = rng.integers(-9, 10, N)
th = rng.uniform(0, np.pi, N).astype(np.float32)
ph = rng.uniform(0, 2 * np.pi, N).astype(np.float32)


def close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype == np.complex64 and a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=2e-6)


def test_matches_jax_with_and_without_n_max():
    f = irjax.jit(lambda a, b: (isp.sph_harm_y(n, m, a, b, n_max=8), isp.sph_harm_y(n, m, a, b, n_max=4)))
    got8, got4 = f(th, ph)
    close(got8, jsp.sph_harm_y(n, m, th, ph))
    close(got4, jsp.sph_harm_y(n, m, th, ph, n_max=4))  # n and |m| clipped to 4, as JAX
    close(isp.sph_harm_y(n, m, th, ph), jsp.sph_harm_y(n, m, th, ph))  # n_max = max(n)


def test_vmap_and_bad_input():
    v = irjax.vmap(lambda a, b: isp.sph_harm_y(3, -2, a, b, n_max=3))(th[:4], ph[:4])
    close(v[:, 0], jsp.sph_harm_y(np.full(4, 3), np.full(4, -2), th[:4], ph[:4]))
    with pytest.raises(NotImplementedError, match="diff_n"):
        isp.sph_harm_y(n, m, th, ph, diff_n=1)
    with pytest.raises(TypeError, match="n_max"):
        irjax.jit(lambda k: isp.sph_harm_y(k, m, th, ph))(n)
