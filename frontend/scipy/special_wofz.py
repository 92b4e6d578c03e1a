"""The Faddeeva function w(z) = exp(-z^2) erfc(-iz) (`jax.scipy.special.wofz`) by Weideman's
rational approximation (SIAM J. Numer. Anal. 31, 1994) with 32 terms, reflected for Im z < 0."""

from __future__ import annotations

import numpy as np

from .. import numpy as jnp

__all__ = ["wofz"]

_N = 32
_L = np.sqrt(_N / np.sqrt(2))


def _coefficients():
    m = 2 * _N
    k = np.arange(-m + 1, m)
    t = _L * np.tan(k * np.pi / m / 2)
    f = np.concatenate([[0.0], np.exp(-t * t) * (_L * _L + t * t)])
    a = np.real(np.fft.fft(np.fft.fftshift(f))) / (2 * m)
    return np.flipud(a[1 : _N + 1])


_A = _coefficients()


def wofz(z):
    """w(z) for complex z (real z is promoted to complex, as JAX); relative error ~1e-7 in complex64."""
    z = jnp.asarray(z)
    if not jnp.issubdtype(z.dtype, np.complexfloating):
        z = z.astype(jnp.result_type(z.dtype, jnp.complex64))
    lower = jnp.imag(z) < 0
    zu = jnp.where(lower, -z, z)  # w(z) = 2 exp(-z^2) - w(-z) below the real axis
    d = _L - 1j * zu
    big_z = (_L + 1j * zu) / d
    p = jnp.zeros_like(zu)
    for c in _A:
        p = p * big_z + c
    w = 2 * p / (d * d) + (1 / np.sqrt(np.pi)) / d
    return jnp.where(lower, 2 * jnp.exp(-(z * z)) - w, w)
