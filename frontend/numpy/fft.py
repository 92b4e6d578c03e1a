"""irjax.numpy.fft: NumPy's FFT functions on lax.fft (norm = backward / ortho / forward).

Axes are moved last, resized to `n` / `s` (sliced or zero-padded) and transformed together.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from irjax import dtypes, lax
from irjax.device_api import device_put as _device_put

from ._util import asarray_any, canonical_axis, convert
from .shape import moveaxis, roll
from .ufuncs import conj

__all__ = [
    "fft",
    "ifft",
    "rfft",
    "irfft",
    "hfft",
    "ihfft",
    "fft2",
    "ifft2",
    "rfft2",
    "irfft2",
    "fftn",
    "ifftn",
    "rfftn",
    "irfftn",
    "fftfreq",
    "rfftfreq",
    "fftshift",
    "ifftshift",
]

_NORMS = (None, "backward", "ortho", "forward")


def _inexact(dtype) -> np.dtype:
    """JAX's to_inexact_dtype: integers and bools become the default float."""
    dtype = np.dtype(dtype)
    if dtypes.issubdtype(dtype, np.inexact):
        return dtype
    return dtypes.canonicalize_dtype(np.float64)


def _complex(dtype) -> np.dtype:
    """JAX's to_complex_dtype: complex64 for float16/bfloat16/float32, else the x64 default."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return dtype
    return dtypes.canonicalize_dtype(np.complex128 if dtype == np.float64 else np.complex64)


def _resize(x, axis: int, size: int):
    """Slice or zero-pad axis `axis` to `size` (NumPy's n / s)."""
    have = x.shape[axis]
    if size < have:
        return lax.slice_in_dim(x, 0, size, axis=axis)
    if size > have:
        cfg = [(0, 0, 0)] * x.ndim
        cfg[axis] = (0, size - have, 0)
        return lax.pad(x, np.zeros((), x.dtype), cfg)
    return x


def _apply(x, kind: str, lengths: tuple):
    """lax.fft over the trailing len(lengths) axes, in steps of at most 3 axes (lax.fft's limit)."""
    k = len(lengths)
    if k <= 3:
        return lax.fft(x, kind, lengths)
    if kind == "RFFT":  # the last axis real-to-complex, then complex FFTs over the rest
        return _apply(_apply(x, kind, lengths[-1:]), "FFT", lengths[:-1])
    if kind == "IRFFT":
        return _apply(_apply(x, "IFFT", lengths[:-1]), kind, lengths[-1:])
    # complex FFTs over disjoint axes commute: the leading ones are moved last in turn
    nd = x.ndim
    y = _apply(x, kind, lengths[-3:])
    y = moveaxis(y, tuple(range(nd - k, nd - 3)), tuple(range(nd - k + 3, nd)))
    y = _apply(y, kind, lengths[:-3])
    return moveaxis(y, tuple(range(nd - k + 3, nd)), tuple(range(nd - k, nd - 3)))


def _fft_core(name: str, kind: str, a, s, axes, norm):
    if norm not in _NORMS:
        raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or "forward".')
    x = asarray_any(a)
    if kind == "RFFT":
        if x.dtype.kind == "c":
            raise TypeError(f"jax.numpy.fft.{name} takes real input, got {x.dtype.name}")
        x = convert(x, _inexact(x.dtype))
        if x.dtype not in (np.float32, np.float64):  # float16 / bfloat16 compute in float32, as JAX
            x = convert(x, np.float32)
    else:
        x = convert(x, _complex(x.dtype))
    nd = x.ndim
    if axes is None:
        axes = range(nd) if s is None else range(nd - len(s), nd)
    axes = [canonical_axis(int(ax), nd) for ax in axes]
    if len(set(axes)) != len(axes):
        raise ValueError(f"jax.numpy.fft.{name} does not support repeated axes. Got axes {axes}.")
    if not axes:
        raise ValueError(f"jax.numpy.fft.{name} needs at least one axis to transform")
    if s is not None:
        s = [int(v) for v in s]
        if len(s) != len(axes):
            raise ValueError(f"jax.numpy.fft.{name}: s {s} and axes {axes} must have one entry each")
    elif kind == "IRFFT":
        s = [x.shape[ax] for ax in axes[:-1]] + [2 * (x.shape[axes[-1]] - 1)]
    else:
        s = [x.shape[ax] for ax in axes]
    if any(n < 1 for n in s):
        raise ValueError(f"jax.numpy.fft.{name}: Invalid number of FFT data points ({s}) specified.")
    in_sizes = s[:-1] + [s[-1] // 2 + 1] if kind == "IRFFT" else s
    for ax, size in zip(axes, in_sizes):
        x = _resize(x, ax, size)
    k = len(axes)
    last = tuple(range(nd - k, nd))
    out = moveaxis(_apply(moveaxis(x, axes, last), kind, tuple(s)), last, axes)
    total = math.prod(s)
    inverse = kind in ("IFFT", "IRFFT")
    if norm == "ortho":
        out = out * (math.sqrt(total) if inverse else 1 / math.sqrt(total))
    elif norm == "forward":
        out = out * (float(total) if inverse else 1 / total)
    return out


def _one_axis(name, kind):
    def f(a, n: int | None = None, axis: int = -1, norm: str | None = None):
        return _fft_core(name, kind, a, None if n is None else (n,), (axis,), norm)

    f.__name__ = name
    f.__doc__ = f"NumPy's fft.{name} over one axis (n pads or crops it)."
    return f


def _two_axes(name, kind):
    def f(a, s: Sequence[int] | None = None, axes: Sequence[int] = (-2, -1), norm: str | None = None):
        return _fft_core(name, kind, a, s, axes, norm)

    f.__name__ = name
    f.__doc__ = f"NumPy's fft.{name} over two axes."
    return f


def _n_axes(name, kind):
    def f(a, s: Sequence[int] | None = None, axes: Sequence[int] | None = None, norm: str | None = None):
        return _fft_core(name, kind, a, s, axes, norm)

    f.__name__ = name
    f.__doc__ = f"NumPy's fft.{name} over the given (default: all) axes."
    return f


fft = _one_axis("fft", "FFT")
ifft = _one_axis("ifft", "IFFT")
rfft = _one_axis("rfft", "RFFT")
irfft = _one_axis("irfft", "IRFFT")
fft2 = _two_axes("fft2", "FFT")
ifft2 = _two_axes("ifft2", "IFFT")
rfft2 = _two_axes("rfft2", "RFFT")
irfft2 = _two_axes("irfft2", "IRFFT")
fftn = _n_axes("fftn", "FFT")
ifftn = _n_axes("ifftn", "IFFT")
rfftn = _n_axes("rfftn", "RFFT")
irfftn = _n_axes("irfftn", "IRFFT")


def hfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The FFT of a Hermitian-symmetric signal given by its first half (real output), as JAX's."""
    x = conj(asarray_any(a))
    nn = (x.shape[axis] - 1) * 2 if n is None else n
    return _fft_core("hfft", "IRFFT", x, None if n is None else (n,), (axis,), norm) * nn


def ihfft(a, n: int | None = None, axis: int = -1, norm: str | None = None):
    """The inverse of hfft: conj(rfft(a)) / n, as JAX's."""
    x = asarray_any(a)
    nn = x.shape[axis] if n is None else n
    return conj(_fft_core("ihfft", "RFFT", x, None if n is None else (n,), (axis,), norm)) * (1 / nn)


def _freq_dtype(dtype):
    return _inexact(dtypes.canonicalize_dtype(dtype)) if dtype is not None else dtypes.canonicalize_dtype(np.float64)


def _check_n_d(name, n, d):
    if isinstance(n, (list, tuple)):
        raise ValueError(f"The n argument of jax.numpy.fft.{name} only takes an int. Got n = {list(n)}.")
    if isinstance(d, (list, tuple)):
        raise ValueError(f"The d argument of jax.numpy.fft.{name} only takes a single value. Got d = {list(d)}.")


def fftfreq(n: int, d=1.0, *, dtype=None, device=None):
    """Sample frequencies [0, 1, ..., -(n//2), ..., -1] / (d n), in the default float dtype."""
    _check_n_d("fftfreq", n, d)
    dtype = _freq_dtype(dtype)
    n = int(n)
    k = np.concatenate([np.arange(0, (n - 1) // 2 + 1), np.arange(-(n // 2), 0)]).astype(dtype)
    out = asarray_any(k) / asarray_any(d * n, dtype)
    return out if device is None else _device_put(out, device)


def rfftfreq(n: int, d=1.0, *, dtype=None, device=None):
    """Sample frequencies [0, 1, ..., n//2] / (d n) of rfft's output."""
    _check_n_d("rfftfreq", n, d)
    dtype = _freq_dtype(dtype)
    n = int(n)
    out = asarray_any(np.arange(0, n // 2 + 1).astype(dtype)) / asarray_any(d * n, dtype)
    return out if device is None else _device_put(out, device)


def _shift(x, axes, sign: int):
    x = asarray_any(x)
    if axes is None:
        axes = tuple(range(x.ndim))
    elif isinstance(axes, int):
        axes = (axes,)
    shifts = tuple(sign * (x.shape[ax] // 2) for ax in axes)
    return roll(x, shifts, tuple(axes))


def fftshift(x, axes: int | Sequence[int] | None = None):
    """Roll the zero frequency to the middle: by n//2 along each of `axes` (default: all)."""
    return _shift(x, axes, 1)


def ifftshift(x, axes: int | Sequence[int] | None = None):
    """The inverse of fftshift: roll by -(n//2)."""
    return _shift(x, axes, -1)
