"""irjax.scipy.special.wofz (the Faddeeva function) against jax.scipy.special.wofz: both half-planes,
real input, dtype, jit and vmap."""

import irjax
import irjax.scipy.special as isp
import jax.scipy.special as jsp
import numpy as np
import pytest

rng = np.random.default_rng(0)
Z = np.concatenate(
    [
        (rng.uniform(-6, 6, 200) + 1j * rng.uniform(-3, 6, 200)).astype(np.complex64),
        np.array([0, 1, 1j, -1j, 3 - 2j, 10 + 10j, 100 + 1j, 0.5 - 0.1j], np.complex64),
    ]
)


@pytest.mark.slow  # ~100 s of compiles on 2 busy cores (a 32-term complex Horner, jit + vmap + eager)
def test_matches_jax():
    got, want = irjax.jit(isp.wofz)(Z), jsp.wofz(Z)
    assert got.dtype == want.dtype == np.complex64
    g, w = np.asarray(got), np.asarray(want)
    assert np.max(np.abs(g - w) / np.abs(w)) < 1e-6
    r = np.linspace(-3, 3, 7, dtype=np.float32)  # real input becomes complex
    np.testing.assert_allclose(np.asarray(isp.wofz(r)), np.asarray(jsp.wofz(r)), rtol=1e-6)
    v = irjax.vmap(isp.wofz)(Z[:5])
    np.testing.assert_allclose(np.asarray(v), g[:5], rtol=1e-6)
