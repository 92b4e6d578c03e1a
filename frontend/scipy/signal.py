"""irjax.scipy.signal (`jax.scipy.signal`): N-d convolution/correlation (direct via
lax.conv_general_dilated, or by FFT) and detrending."""

from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as jnp

__all__ = ["convolve", "convolve2d", "correlate", "correlate2d", "detrend", "fftconvolve"]

_MODES = ("full", "same", "valid")


def _inexact(*xs):
    dt = jnp.result_type(*xs)
    if not jnp.issubdtype(dt, jnp.inexact):
        dt = jnp.result_type(dt, jnp.float32)
    return [jnp.asarray(x).astype(dt) for x in xs]


def _conv_real(a, b, padding):
    # one (N=1, C=1) cross-correlation of a with the already-flipped kernel b
    out = lax.conv_general_dilated(a[None, None], b[None, None], (1,) * a.ndim, padding)
    return out[0, 0]


def _convolve_nd(in1, in2, mode: str):
    if mode not in _MODES:
        raise ValueError("mode must be one of ['full', 'same', 'valid']")
    in1, in2 = jnp.asarray(in1), jnp.asarray(in2)
    if in1.ndim != in2.ndim:
        raise ValueError("in1 and in2 must have the same number of dimensions")
    if in1.size == 0 or in2.size == 0:
        raise ValueError(f"zero-size arrays not supported in convolutions, got shapes {in1.shape} and {in2.shape}.")
    in1, in2 = _inexact(in1, in2)
    no_swap = all(s1 >= s2 for s1, s2 in zip(in1.shape, in2.shape))
    swap = all(s1 <= s2 for s1, s2 in zip(in1.shape, in2.shape))
    if not (no_swap or swap):
        raise ValueError("One input must be smaller than the other in every dimension.")
    shape_o = in2.shape
    if swap:  # convolution commutes: slide the smaller array over the larger
        in1, in2 = in2, in1
    shape = in2.shape
    in2 = jnp.flip(in2)
    if mode == "valid":
        padding = [(0, 0)] * len(shape)
    elif mode == "same":  # centred on in1 (the original first argument)
        padding = [(s - 1 - (so - 1) // 2, s - so + (so - 1) // 2) for s, so in zip(shape, shape_o)]
    else:
        padding = [(s - 1, s - 1) for s in shape]
    if jnp.iscomplexobj(in1):  # (a + ib) * (c + id) from four real convolutions
        ar, ai, br, bi = jnp.real(in1), jnp.imag(in1), jnp.real(in2), jnp.imag(in2)
        re = _conv_real(ar, br, padding) - _conv_real(ai, bi, padding)
        im = _conv_real(ar, bi, padding) + _conv_real(ai, br, padding)
        return lax.complex(re, im)
    return _conv_real(in1, in2, padding)


def convolve(in1, in2, mode: str = "full", method: str = "auto", precision=None):
    """N-d convolution of two arrays, as scipy.signal.convolve."""
    if method == "fft":
        return fftconvolve(in1, in2, mode=mode)
    if method in ("direct", "auto"):
        return _convolve_nd(in1, in2, mode)
    raise ValueError(f"Got {method=}; expected 'auto', 'fft', or 'direct'.")


def correlate(in1, in2, mode: str = "full", method: str = "auto", precision=None):
    """N-d cross-correlation of two arrays, as scipy.signal.correlate."""
    return convolve(in1, jnp.flip(jnp.conj(jnp.asarray(in2))), mode, precision=precision, method=method)


def _check_2d(name: str, in1, in2, boundary, fillvalue):
    if boundary != "fill" or fillvalue != 0:
        raise NotImplementedError(f"{name}() only supports boundary='fill', fillvalue=0")
    if jnp.ndim(in1) != 2 or jnp.ndim(in2) != 2:
        raise ValueError(f"{name}() only supports 2-dimensional inputs.")


def convolve2d(in1, in2, mode: str = "full", boundary: str = "fill", fillvalue=0, precision=None):
    """2-d convolution, as scipy.signal.convolve2d (zero fill only)."""
    _check_2d("convolve2d", in1, in2, boundary, fillvalue)
    return _convolve_nd(in1, in2, mode)


def correlate2d(in1, in2, mode: str = "full", boundary: str = "fill", fillvalue=0, precision=None):
    """2-d cross-correlation, as scipy.signal.correlate2d (zero fill only)."""
    _check_2d("correlate2d", in1, in2, boundary, fillvalue)
    in1, in2 = jnp.asarray(in1), jnp.asarray(in2)
    swap = all(s1 <= s2 for s1, s2 in zip(in1.shape, in2.shape))
    same_shape = in1.shape == in2.shape
    # correlate(a, b) = flip(convolve(flip(a), conj(b))); the swapped forms keep scipy's
    # orientation when in2 is the larger array
    if mode == "same" or not swap or (mode == "valid" and same_shape):
        return jnp.flip(_convolve_nd(jnp.flip(in1), jnp.conj(in2), mode))
    out = _convolve_nd(jnp.flip(in2), jnp.conj(in1), mode)
    return jnp.conj(out) if mode == "full" else out


def fftconvolve(in1, in2, mode: str = "full", axes=None):
    """N-d convolution through the FFT, as scipy.signal.fftconvolve."""
    in1, in2 = _inexact(in1, in2)
    if in1.ndim != in2.ndim:
        raise ValueError("in1 and in2 should have the same dimensionality")
    if mode not in _MODES:
        raise ValueError("mode must be one of ['same', 'full', 'valid']")
    if axes is None:
        axes = tuple(range(in1.ndim))
    else:
        axes = tuple(int(a) % in1.ndim for a in np.atleast_1d(axes))
    mapped = [a for a in range(in1.ndim) if a not in axes]
    if any(in1.shape[a] != in2.shape[a] for a in mapped):
        raise ValueError(f"mapped axes must have same shape; got {in1.shape=} {in2.shape=} {axes=}")
    if in1.size == 0 or in2.size == 0:
        return jnp.zeros([0 if a in axes else in1.shape[a] for a in range(in1.ndim)], in1.dtype)
    s1 = [in1.shape[a] for a in axes]
    s2 = [in2.shape[a] for a in axes]
    if mode == "valid" and not (all(x >= y for x, y in zip(s1, s2)) or all(x <= y for x, y in zip(s1, s2))):
        raise ValueError("For 'valid' mode, One input must be at least as large as the other in every dimension")
    full = [x + y - 1 for x, y in zip(s1, s2)]
    if jnp.iscomplexobj(in1):
        out = jnp.fft.ifftn(jnp.fft.fftn(in1, full, axes) * jnp.fft.fftn(in2, full, axes), full, axes)
    else:
        out = jnp.fft.irfftn(jnp.fft.rfftn(in1, full, axes) * jnp.fft.rfftn(in2, full, axes), full, axes)
    out = out.astype(in1.dtype)
    if mode == "full":
        return out
    if mode == "same":
        starts = [(f - a) // 2 for f, a in zip(full, s1)]
        sizes = s1
    else:
        sizes = [abs(x - y) + 1 for x, y in zip(s1, s2)]
        starts = [min(x, y) - 1 for x, y in zip(s1, s2)]
    for a, st, sz in zip(axes, starts, sizes):
        out = lax.slice_in_dim(out, st, st + sz, axis=a)
    return out


def detrend(data, axis: int = -1, type: str = "linear", bp=0, overwrite_data=None):
    """Remove a constant or (piecewise) linear least-squares trend along `axis`."""
    if overwrite_data is not None:
        raise NotImplementedError("overwrite_data argument not implemented.")
    if type not in ("constant", "linear"):
        raise ValueError("Trend type must be 'linear' or 'constant'.")
    (data,) = _inexact(data)
    if type == "constant":
        return data - jnp.mean(data, axis, keepdims=True)
    N = data.shape[axis]
    bp = np.sort(np.unique(np.r_[0, np.asarray(bp, dtype=int).ravel(), N]))
    if np.any(bp < 0) or np.any(bp > N):
        raise ValueError("Breakpoints must be non-negative and less than length of data along given axis.")
    x = jnp.moveaxis(data, axis, -1)
    pieces = []
    for lo, hi in zip(bp[:-1], bp[1:]):
        seg = x[..., lo:hi]
        t = jnp.arange(hi - lo, dtype=seg.dtype)
        t = t - jnp.mean(t)
        # least squares line through the segment: slope = <t, y> / <t, t> with centred t
        slope = jnp.sum(seg * t, -1, keepdims=True) / jnp.sum(t * t)
        pieces.append(seg - jnp.mean(seg, -1, keepdims=True) - slope * t)
    return jnp.moveaxis(jnp.concatenate(pieces, -1), -1, axis)
