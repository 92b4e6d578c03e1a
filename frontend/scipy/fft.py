"""irjax.scipy.fft (`jax.scipy.fft`): type-2 discrete cosine transforms through irjax.numpy.fft."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

from .. import numpy as jnp

__all__ = ["dct", "dctn", "idct", "idctn"]


def _check(name: str, type: int, norm) -> None:
    if type != 2:
        raise NotImplementedError("Only DCT type 2 is implemented.")
    if norm is not None and norm not in ("backward", "ortho"):
        raise ValueError(f"jax.scipy.fft.{name}: {norm=!r} is not implemented")


def _resize(x, n: int | None, axis: int):
    if n is None or n == x.shape[axis]:
        return x
    if n < x.shape[axis]:
        return jnp.take(x, jnp.arange(n), axis=axis)
    pad = [(0, 0)] * x.ndim
    pad[axis] = (0, n - x.shape[axis])
    return jnp.pad(x, pad)


def _inexact(x):
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.result_type(x.dtype, jnp.float32))


def _ortho_scale(N: int, dtype, ndim: int, axis: int, inverse: bool):
    # ortho = backward scaled by 1/sqrt(4N) at k=0 and 1/sqrt(2N) elsewhere
    s = np.full(N, 1.0 / math.sqrt(2 * N))
    s[0] = 1.0 / math.sqrt(4 * N)
    if inverse:
        s = 1.0 / s
    shape = [1] * ndim
    shape[axis] = N
    return jnp.asarray(s.reshape(shape), dtype=dtype)


def _dct_axis(x, axis: int, norm):
    # DCT-II from one length-N FFT of the even/odd-interleaved sequence (Makhoul's method)
    N = x.shape[axis]
    idx = np.concatenate([np.arange(0, N, 2), np.arange(1, N, 2)[::-1]])
    v = jnp.take(x, jnp.asarray(idx), axis=axis)
    V = jnp.fft.fft(v, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = N
    tw = np.exp(-1j * np.pi * np.arange(N) / (2 * N)).reshape(shape)
    out = (2 * jnp.real(V * jnp.asarray(tw, dtype=V.dtype))).astype(x.dtype)
    if norm == "ortho":
        out = out * _ortho_scale(N, x.dtype, x.ndim, axis, False)
    return out


def _idct_axis(y, axis: int, norm):
    N = y.shape[axis]
    if norm == "ortho":
        y = y * _ortho_scale(N, y.dtype, y.ndim, axis, True)
    # V[k] = exp(i pi k / 2N) (y[k] - i y[N-k]) / 2, with y[N] = 0
    rev = jnp.take(y, jnp.asarray(np.r_[0, np.arange(N - 1, 0, -1)]), axis=axis)
    shape = [1] * y.ndim
    shape[axis] = N
    mask = np.ones(N)
    mask[0] = 0.0
    rev = rev * jnp.asarray(mask.reshape(shape), dtype=y.dtype)
    tw = np.exp(1j * np.pi * np.arange(N) / (2 * N)).reshape(shape) / 2
    cdt = jnp.result_type(y.dtype, jnp.complex64)
    V = jnp.asarray(tw, dtype=cdt) * (y.astype(cdt) - 1j * rev.astype(cdt))
    v = jnp.real(jnp.fft.ifft(V, axis=axis)).astype(y.dtype)
    inv = np.empty(N, dtype=np.int64)
    inv[np.concatenate([np.arange(0, N, 2), np.arange(1, N, 2)[::-1]])] = np.arange(N)
    return jnp.take(v, jnp.asarray(inv), axis=axis)


def _split_complex(f, x):
    if jnp.iscomplexobj(x):
        return f(jnp.real(x)) + 1j * f(jnp.imag(x))
    return f(x)


def dct(x, type: int = 2, n: int | None = None, axis: int = -1, norm: str | None = None):
    """Discrete cosine transform (type 2) along `axis`, as scipy.fft.dct."""
    _check("dct", type, norm)
    x = _inexact(x)
    axis = operator.index(axis) % x.ndim
    return _split_complex(lambda r: _dct_axis(_resize(r, n, axis), axis, norm), x)


def idct(x, type: int = 2, n: int | None = None, axis: int = -1, norm: str | None = None):
    """Inverse of the type-2 DCT along `axis`, as scipy.fft.idct."""
    _check("idct", type, norm)
    x = _inexact(x)
    axis = operator.index(axis) % x.ndim
    return _split_complex(lambda r: _idct_axis(_resize(r, n, axis), axis, norm), x)


def _axes_and_sizes(x, s, axes):
    if s is not None:
        try:
            s = list(s)
        except TypeError:
            s = [operator.index(s)]
        if len(s) > x.ndim:
            raise ValueError(f"s must have at most x.ndim ({x.ndim}) elements, got {len(s)}")
    if axes is None:
        axes = tuple(range(x.ndim - len(s), x.ndim)) if s is not None else tuple(range(x.ndim))
    elif isinstance(axes, int):
        axes = (axes,)
    axes = tuple(operator.index(a) % x.ndim for a in axes)
    if s is None:
        s = [None] * len(axes)
    elif len(s) != len(axes):
        raise ValueError(f"Shape of s ({len(s)}) must match the number of axes ({len(axes)})")
    return axes, s


def dctn(x, type: int = 2, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm=None):
    """Multidimensional type-2 DCT over `axes`, as scipy.fft.dctn."""
    _check("dctn", type, norm)
    x = _inexact(x)
    axes, s = _axes_and_sizes(x, s, axes)

    def f(r):
        for a, n in zip(axes, s):
            r = _dct_axis(_resize(r, n, a), a, norm)
        return r

    return _split_complex(f, x)


def idctn(x, type: int = 2, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm=None):
    """Multidimensional inverse type-2 DCT over `axes`, as scipy.fft.idctn."""
    _check("idctn", type, norm)
    x = _inexact(x)
    axes, s = _axes_and_sizes(x, s, axes)

    def f(r):
        for a, n in zip(axes, s):
            r = _idct_axis(_resize(r, n, a), a, norm)
        return r

    return _split_complex(f, x)
