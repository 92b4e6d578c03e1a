"""jax.scipy.linalg's special matrices (toeplitz, hankel, circulant, pascal, ...): a static index map
gathers the entries from the argument, so batches, jit and gradients come for free."""

from __future__ import annotations

import math

import numpy as np

from .. import numpy as jnp
from ..dtypes import canonicalize_dtype

__all__ = [
    "circulant",
    "companion",
    "convolution_matrix",
    "dft",
    "fiedler",
    "fiedler_companion",
    "hadamard",
    "hankel",
    "helmert",
    "hilbert",
    "invhilbert",
    "invpascal",
    "leslie",
    "pascal",
    "toeplitz",
]


def _vec(x, name):
    x = jnp.asarray(x)
    if x.ndim == 0:
        raise ValueError(f"{name}: expected an array of at least one dimension, got a scalar")
    return x


def _float(x):
    return x if jnp.issubdtype(x.dtype, np.inexact) else x.astype(canonicalize_dtype(np.float64))


def _pick(vals, idx):
    """vals[..., idx] for a static integer map idx (the matrix of positions into vals)."""
    return jnp.take(vals, jnp.asarray(np.asarray(idx, np.int32)), axis=-1)


def _pair(a, b):
    batch = jnp.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    dt = jnp.result_type(a, b)
    return (jnp.broadcast_to(a, batch + a.shape[-1:]).astype(dt), jnp.broadcast_to(b, batch + b.shape[-1:]).astype(dt))


def toeplitz(c, r=None):
    """T[i, j] = c[i - j] below the diagonal, r[j - i] above it (r defaults to conj(c))."""
    c = _vec(c, "toeplitz")
    r = jnp.conj(c) if r is None else _vec(r, "toeplitz")
    c, r = _pair(c, r)
    m, n = c.shape[-1], r.shape[-1]
    vals = jnp.concatenate([jnp.flip(c, -1), r[..., 1:]], axis=-1)
    return _pick(vals, (m - 1) - np.arange(m)[:, None] + np.arange(n)[None, :])


def hankel(c, r=None):
    """H[i, j] = c[i + j] while i + j < len(c), then r[i + j - len(c) + 1] (r defaults to zeros)."""
    c = _vec(c, "hankel")
    r = jnp.zeros_like(c) if r is None else _vec(r, "hankel")
    c, r = _pair(c, r)
    m, n = c.shape[-1], r.shape[-1]
    vals = jnp.concatenate([c, r[..., 1:]], axis=-1)
    return _pick(vals, np.arange(m)[:, None] + np.arange(n)[None, :])


def circulant(c):
    """C[i, j] = c[(i - j) mod n]."""
    c = _vec(c, "circulant")
    n = c.shape[-1]
    return _pick(c, (np.arange(n)[:, None] - np.arange(n)[None, :]) % max(n, 1))


def companion(a):
    """The companion matrix of the polynomial a (highest degree first): first row -a[1:] / a[0]."""
    a = _float(_vec(a, "companion"))
    n = a.shape[-1]
    if n < 2:
        raise ValueError(f"companion: the length of a must be at least 2, got {n}")
    first = -a[..., 1:] / a[..., :1]
    vals = jnp.concatenate([jnp.zeros_like(a[..., :2]), first], axis=-1)  # [0, 0, -a1/a0, ...]
    vals = vals.at[..., 1].set(1)
    idx = np.zeros((n - 1, n - 1), np.int64)
    idx[0] = 2 + np.arange(n - 1)
    idx[np.arange(1, n - 1), np.arange(n - 2)] = 1
    return _pick(vals, idx)


def convolution_matrix(a, n: int, mode: str = "full"):
    """The matrix A with A @ v == convolve(a, v, mode) for v of length n."""
    a = _vec(a, "convolution_matrix")
    if a.ndim != 1:
        raise ValueError(f"convolution_matrix: a must be one-dimensional, got shape {a.shape}")
    n, m = int(n), a.shape[0]
    if n <= 0 or m == 0:
        raise ValueError(f"convolution_matrix: n and len(a) must be positive, got n={n}, len(a)={m}")
    if mode == "full":
        lo, hi = 0, m + n - 1
    elif mode == "valid":
        lo, hi = min(m, n) - 1, max(m, n)
    elif mode == "same":
        trim = min(m, n) - 1
        lo, hi = trim // 2, m + n - 1 - (trim - trim // 2)
    else:
        raise ValueError(f"convolution_matrix: mode must be 'full', 'valid' or 'same', got {mode!r}")
    d = np.arange(lo, hi)[:, None] - np.arange(n)[None, :]
    vals = jnp.concatenate([a, jnp.zeros((1,), a.dtype)])
    return _pick(vals, np.where((d >= 0) & (d < m), d, m))


def dft(n: int, scale: str | None = None, *, dtype=None):
    """The n x n discrete Fourier transform matrix exp(-2 pi i jk / n), scaled by 1, 1/sqrt(n) or 1/n."""
    n = int(n)
    if n < 0:
        raise ValueError(f"dft: n must be non-negative, got {n}")
    if scale not in (None, "sqrtn", "n"):
        raise ValueError(f"dft: scale must be None, 'sqrtn' or 'n', got {scale!r}")
    jk = (np.arange(n)[:, None] * np.arange(n)[None, :]) % max(n, 1)
    m = np.exp(-2j * np.pi * jk / max(n, 1))
    m = m / {None: 1.0, "sqrtn": math.sqrt(max(n, 1)), "n": max(n, 1)}[scale]
    return jnp.asarray(m, dtype=dtype or canonicalize_dtype(np.complex128))


def fiedler(a):
    """F[i, j] = |a[i] - a[j]|."""
    a = _vec(a, "fiedler")
    return jnp.abs(a[..., :, None] - a[..., None, :])


def fiedler_companion(a):
    """Fiedler's pentadiagonal companion matrix of the polynomial a (highest degree first)."""
    a = _float(_vec(a, "fiedler_companion"))
    if a.ndim != 1:
        raise ValueError(f"fiedler_companion: a must be one-dimensional, got shape {a.shape}")
    n = a.shape[0] - 1
    if n < 1:
        return jnp.zeros((0, 0), a.dtype)
    vals = jnp.concatenate([jnp.array([0.0, 1.0], a.dtype), -a[1:] / a[0]])  # 2 + k - 1 holds -a_k
    idx = np.zeros((n, n), np.int64)
    for r in range(0, n, 2):  # even rows: -a[r+1] left of the diagonal (-a1 on it for r=0), -a[r+2], 1
        for col, v in ((max(r - 1, 0), 1 + r + 1), (r + 1, 1 + r + 2), (r + 2, 1)):
            if col < n and (v == 1 or v - 1 <= n):
                idx[r, col] = v
    for r in range(1, n, 2):  # odd rows: one 1, two columns left of the diagonal (column 0 for r=1)
        idx[r, max(r - 2, 0)] = 1
    return _pick(vals, idx)


def leslie(f, s):
    """The Leslie matrix: fecundities f on the first row, survival rates s on the subdiagonal."""
    f, s = _vec(f, "leslie"), _vec(s, "leslie")
    n = f.shape[-1]
    if s.shape[-1] != n - 1:
        raise ValueError(f"leslie: len(s) must be len(f) - 1, got {s.shape[-1]} and {n}")
    f, s = _pair(f, s)
    vals = jnp.concatenate([jnp.zeros_like(f[..., :1]), f, s], axis=-1)
    idx = np.zeros((n, n), np.int64)
    idx[0] = 1 + np.arange(n)
    idx[np.arange(1, n), np.arange(n - 1)] = 1 + n + np.arange(n - 1)
    return _pick(vals, idx)


def hadamard(n: int, dtype=int):
    """Sylvester's Hadamard matrix of order n (a power of 2)."""
    n = int(n)
    if n < 1 or n & (n - 1):
        raise ValueError(f"hadamard: n must be a positive power of 2, got {n}")
    h = np.ones((1, 1), np.int64)
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return jnp.asarray(h, dtype=canonicalize_dtype(dtype))


def helmert(n: int, full: bool = False):
    """The (n-1) x n Helmert matrix (n x n with full=True: first row 1/sqrt(n))."""
    n = int(n)
    if n < 0:
        raise ValueError(f"helmert: n must be non-negative, got {n}")
    h = np.tril(np.ones((n, n)), -1) - np.diag(np.arange(n))
    d = np.arange(n) * np.arange(1, n + 1)
    h[0] = 1
    d[0] = n
    h = h / np.sqrt(np.maximum(d, 1))[:, None]
    return jnp.asarray(h if full else h[1:], dtype=canonicalize_dtype(np.float64))


def hilbert(n: int):
    """H[i, j] = 1 / (i + j + 1)."""
    n = int(n)
    if n < 0:
        raise ValueError(f"hilbert: n must be non-negative, got {n}")
    return jnp.asarray(1.0 / (np.arange(n)[:, None] + np.arange(n)[None, :] + 1), canonicalize_dtype(np.float64))


def _int_matrix(n, f):
    return np.array([[f(i, j) for j in range(n)] for i in range(n)], dtype=object).reshape(n, n)


def invhilbert(n: int):
    """The exact inverse of hilbert(n) (integer entries, rounded once to the float dtype)."""
    n = int(n)
    if n < 0:
        raise ValueError(f"invhilbert: n must be non-negative, got {n}")
    c = math.comb

    def entry(i, j):
        s = i + j
        return (-1) ** s * (s + 1) * c(n + i, n - j - 1) * c(n + j, n - i - 1) * c(s, i) ** 2

    return jnp.asarray(_int_matrix(n, entry).astype(np.float64), canonicalize_dtype(np.float64))


def _pascal_int(n, kind):
    if kind not in ("symmetric", "lower", "upper"):
        raise ValueError(f"pascal: kind must be 'symmetric', 'lower' or 'upper', got {kind!r}")
    if kind == "symmetric":
        return _int_matrix(n, lambda i, j: math.comb(i + j, i))
    low = _int_matrix(n, lambda i, j: math.comb(i, j))
    return low if kind == "lower" else low.T


def pascal(n: int, kind: str | None = None):
    """The n x n Pascal matrix: binomial coefficients, 'symmetric' (default), 'lower' or 'upper'."""
    n = int(n)
    if n < 0:
        raise ValueError(f"pascal: n must be non-negative, got {n}")
    m = _pascal_int(n, kind or "symmetric")
    return jnp.asarray(m.astype(np.float64), canonicalize_dtype(np.float64))


def invpascal(n: int, kind: str | None = None):
    """The exact inverse of pascal(n, kind)."""
    n = int(n)
    if n < 0:
        raise ValueError(f"invpascal: n must be non-negative, got {n}")
    kind = kind or "symmetric"
    _pascal_int(0, kind)  # validates kind
    low = _int_matrix(n, lambda i, j: (-1) ** (i - j) * math.comb(i, j) if i >= j else 0)  # inverse of lower
    if kind == "lower":
        m = low
    elif kind == "upper":
        m = low.T
    else:  # P = L L^T, so P^-1 = L^-T L^-1
        m = low.T.dot(low) if n else low
    return jnp.asarray(np.asarray(m, dtype=np.float64).reshape(n, n), canonicalize_dtype(np.float64))
