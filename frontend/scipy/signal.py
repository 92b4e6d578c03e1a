"""irjax.scipy.signal (`jax.scipy.signal`): N-d convolution/correlation (direct via
lax.conv_general_dilated, or by FFT) and detrending."""

from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as jnp

__all__ = [
    "convolve",
    "convolve2d",
    "correlate",
    "correlate2d",
    "csd",
    "detrend",
    "fftconvolve",
    "istft",
    "stft",
    "welch",
]

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


def _window(window, nperseg, n: int, dtype):
    """(window array, nperseg) as scipy's get_window(periodic) for the common named windows."""
    if isinstance(window, str):
        if nperseg is None:
            nperseg = 256
        nperseg = min(int(nperseg), n)  # scipy shortens the segment to the input
        k = np.arange(nperseg)
        shapes = {
            "hann": lambda: 0.5 - 0.5 * np.cos(2 * np.pi * k / nperseg),
            "hamming": lambda: 0.54 - 0.46 * np.cos(2 * np.pi * k / nperseg),
            "boxcar": lambda: np.ones(nperseg),
        }
        if window not in shapes:
            raise NotImplementedError(f"window {window!r}: irjax supports {sorted(shapes)} or a 1-D array")
        return jnp.asarray(shapes[window](), dtype=dtype), nperseg
    win = jnp.asarray(window).astype(dtype)
    if win.ndim != 1:
        raise ValueError("window must be 1-D")
    if nperseg is not None and int(nperseg) != win.shape[0]:
        raise ValueError("value specified for nperseg is different from length of window")
    return win, win.shape[0]


def _segments_fft(x, win, detrend_type, nperseg: int, noverlap: int, nfft: int, onesided: bool):
    step = nperseg - noverlap
    starts = range(0, x.shape[-1] - nperseg + 1, step)
    segs = jnp.stack([x[..., s : s + nperseg] for s in starts], axis=-2)
    if detrend_type:
        segs = detrend(segs, type=detrend_type, axis=-1)
    segs = win * segs
    return jnp.fft.rfft(jnp.real(segs), n=nfft) if onesided else jnp.fft.fft(segs, n=nfft)


def _spectral(
    x,
    y,
    fs,
    window,
    nperseg,
    noverlap,
    nfft,
    detrend_type,
    return_onesided,
    scaling,
    axis,
    mode,
    boundary=None,
    padded=False,
):
    if mode not in ("psd", "stft"):
        raise ValueError(f"Unknown value for mode {mode}, must be one of: ('psd', 'stft')")
    if nperseg is not None and int(nperseg) < 1:
        raise ValueError("nperseg must be a positive integer")
    arrs = _inexact(x) if y is None else _inexact(x, y)
    x = arrs[0]
    rdt = jnp.real(x).dtype
    cdt = jnp.result_type(rdt, jnp.complex64)
    x = jnp.moveaxis(x, axis, -1)
    y = None if y is None else jnp.moveaxis(arrs[1], axis, -1)
    win, nperseg = _window(window, nperseg, x.shape[-1], rdt)
    noverlap = nperseg // 2 if noverlap is None else int(noverlap)
    nfft = nperseg if nfft is None else int(nfft)
    if nfft < nperseg:
        raise ValueError("nfft must be greater than or equal to nperseg.")
    if noverlap >= nperseg:
        raise ValueError("noverlap must be less than nperseg.")
    if y is not None and x.shape[-1] != y.shape[-1]:  # zero-pad the shorter signal
        n = max(x.shape[-1], y.shape[-1])
        x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n - x.shape[-1])])
        y = jnp.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, n - y.shape[-1])])
    if boundary is not None:
        if boundary != "zeros":
            raise NotImplementedError(f"boundary {boundary!r}: irjax supports 'zeros' or None")
        pad = [(0, 0)] * (x.ndim - 1) + [(nperseg // 2, nperseg // 2)]
        x = jnp.pad(x, pad)
        y = None if y is None else jnp.pad(y, pad)
    if padded:  # a whole number of segments
        nadd = (-(x.shape[-1] - nperseg) % (nperseg - noverlap)) % nperseg
        x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, nadd)])
        y = None if y is None else jnp.pad(y, [(0, 0)] * (y.ndim - 1) + [(0, nadd)])
    if scaling == "density":
        scale = 1.0 / (fs * jnp.sum(win * win))
    elif scaling == "spectrum":
        scale = 1.0 / jnp.sum(win) ** 2
    else:
        raise ValueError(f"Unknown scaling: {scaling}")
    if mode == "stft":
        scale = jnp.sqrt(scale)
    onesided = bool(return_onesided) and not jnp.iscomplexobj(x) and (y is None or not jnp.iscomplexobj(y))
    freqs = (jnp.fft.rfftfreq if onesided else jnp.fft.fftfreq)(nfft, 1 / fs).astype(rdt)
    res = _segments_fft(x, win, detrend_type, nperseg, noverlap, nfft, onesided)
    if y is not None:
        res = jnp.conj(res) * _segments_fft(y, win, detrend_type, nperseg, noverlap, nfft, onesided)
    elif mode == "psd":
        res = jnp.conj(res) * res
    res = res * scale.astype(cdt)
    if onesided and mode == "psd":
        double = np.full(res.shape[-1], 2.0)
        double[0] = 1.0
        if nfft % 2 == 0:
            double[-1] = 1.0
        res = res * jnp.asarray(double, dtype=rdt)
    time = jnp.arange(nperseg / 2, x.shape[-1] - nperseg / 2 + 1, nperseg - noverlap, dtype=rdt) / fs
    if boundary is not None:
        time = time - (nperseg / 2) / fs
    res = res.astype(cdt)
    if y is None and mode != "stft":
        res = jnp.real(res)
    # (..., segments, freqs) -> freqs where the data axis was, segments last
    out_axis = axis - 1 if axis < 0 else axis
    return freqs, time, jnp.moveaxis(jnp.swapaxes(res, -1, -2), -2, out_axis)


def stft(
    x,
    fs=1.0,
    window="hann",
    nperseg: int = 256,
    noverlap=None,
    nfft=None,
    detrend=False,
    return_onesided: bool = True,
    boundary="zeros",
    padded: bool = True,
    axis: int = -1,
):
    """Short-time Fourier transform: (freqs, segment times, Zxx), as scipy.signal.stft."""
    return _spectral(
        x,
        None,
        fs,
        window,
        nperseg,
        noverlap,
        nfft,
        detrend,
        return_onesided,
        "spectrum",
        axis,
        "stft",
        boundary,
        padded,
    )


def csd(
    x,
    y,
    fs=1.0,
    window="hann",
    nperseg=None,
    noverlap=None,
    nfft=None,
    detrend="constant",
    return_onesided: bool = True,
    scaling: str = "density",
    axis: int = -1,
    average: str = "mean",
):
    """Cross power spectral density by Welch's method, as scipy.signal.csd."""
    freqs, _, pxy = _spectral(x, y, fs, window, nperseg, noverlap, nfft, detrend, return_onesided, scaling, axis, "psd")
    if pxy.ndim >= 2 and pxy.size > 0:
        if average == "mean":
            pxy = jnp.mean(pxy, axis=-1)
        elif average == "median":
            # the median of chi^2 periodogram estimates is biased low by this factor
            n = pxy.shape[-1]
            ii = 2 * np.arange(1.0, (n - 1) // 2 + 1)
            bias = 1 + np.sum(1.0 / (ii + 1) - 1.0 / ii)
            if jnp.iscomplexobj(pxy):
                pxy = jnp.median(jnp.real(pxy), axis=-1) + 1j * jnp.median(jnp.imag(pxy), axis=-1)
            else:
                pxy = jnp.median(pxy, axis=-1)
            pxy = pxy / bias
        else:
            raise ValueError(f'average must be "median" or "mean", got {average}')
    return freqs, pxy


def welch(
    x,
    fs=1.0,
    window="hann",
    nperseg=None,
    noverlap=None,
    nfft=None,
    detrend="constant",
    return_onesided: bool = True,
    scaling: str = "density",
    axis: int = -1,
    average: str = "mean",
):
    """Power spectral density by Welch's method, as scipy.signal.welch."""
    freqs, pxx = csd(x, None, fs, window, nperseg, noverlap, nfft, detrend, return_onesided, scaling, axis, average)
    return freqs, jnp.real(pxx)


def istft(
    Zxx,
    fs=1.0,
    window="hann",
    nperseg=None,
    noverlap=None,
    nfft=None,
    input_onesided: bool = True,
    boundary: bool = True,
    time_axis: int = -1,
    freq_axis: int = -2,
):
    """Inverse short-time Fourier transform by windowed overlap-add: (times, x), as JAX's istft
    (times count the samples along the output's last axis, as SciPy)."""
    Zxx = jnp.asarray(Zxx)
    if Zxx.ndim < 2:
        raise ValueError("Input stft must be at least 2d!")
    freq_axis, time_axis = freq_axis % Zxx.ndim, time_axis % Zxx.ndim
    if freq_axis == time_axis:
        raise ValueError("Must specify differing time and frequency axes!")
    Zxx = Zxx.astype(jnp.result_type(Zxx.dtype, jnp.complex64))
    n_default = 2 * (Zxx.shape[freq_axis] - 1) if input_onesided else Zxx.shape[freq_axis]
    nperseg = int(nperseg or n_default)
    if nperseg < 1:
        raise ValueError("nperseg must be a positive integer")
    if nfft is None:
        nfft = n_default + (1 if input_onesided and nperseg == n_default + 1 else 0)
    nfft = int(nfft)
    if nfft < nperseg:
        raise ValueError(f"FFT length ({nfft}) must be longer than nperseg ({nperseg}).")
    noverlap = int(noverlap or nperseg // 2)
    if noverlap >= nperseg:
        raise ValueError("noverlap must be less than nperseg.")
    step = nperseg - noverlap
    outer = [i for i in range(Zxx.ndim) if i not in (freq_axis, time_axis)]
    Zxx = jnp.transpose(Zxx, (*outer, freq_axis, time_axis))
    frames = (jnp.fft.irfft if input_onesided else jnp.fft.ifft)(Zxx, n=nfft, axis=-2)[..., :nperseg, :]
    rdt = jnp.real(frames).dtype
    if isinstance(window, str) and nperseg == 1:
        win = jnp.ones((1,), rdt)
    else:
        win, _ = _window(window, nperseg, nperseg, rdt)
        if win.shape[0] != nperseg:
            raise ValueError(f"window must have length of {nperseg}")
    win = win.astype(frames.dtype)
    frames = frames * jnp.sum(win) * win[:, None]  # undo the 'spectrum' scaling, window again
    nseg = frames.shape[-1]
    length = nperseg + (nseg - 1) * step
    idx = (np.arange(nseg)[:, None] * step + np.arange(nperseg)[None, :]).reshape(-1)
    seg_major = jnp.reshape(jnp.swapaxes(frames, -1, -2), frames.shape[:-2] + (nseg * nperseg,))
    x = jnp.zeros(frames.shape[:-2] + (length,), frames.dtype).at[..., idx].add(seg_major)
    norm = jnp.zeros((length,), rdt).at[idx].add(jnp.tile(jnp.real(win * jnp.conj(win)), nseg))
    if boundary:
        x, norm = x[..., nperseg // 2 : -(nperseg // 2)], norm[nperseg // 2 : -(nperseg // 2)]
    x = x / jnp.where(norm > 1e-10, norm, 1.0).astype(x.dtype)
    if x.ndim > 1 and time_axis != Zxx.ndim - 1:
        x = jnp.moveaxis(x, -1, time_axis - 1 if freq_axis < time_axis else time_axis)
    return jnp.arange(x.shape[-1] if x.ndim else 0, dtype=rdt) / fs, x
