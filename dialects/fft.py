"""jx.fft: FFT / IFFT / RFFT / IRFFT over the trailing `fft_lengths` axes (as jax.lax.fft).

    %1 = "jx.fft"(%0) {fft_type = "FFT", fft_lengths = array<i64: 8>} : (tensor<3x8xcomplex<f32>>) -> tensor<3x8xcomplex<f32>>
lowers to one 1-D stablehlo.fft per axis where the length is a power of two (IREE 3.13
compiles only those), to Bluestein's chirp-z (power-of-two stablehlo.fft inside) otherwise,
and to a DFT as real float64 matmuls for complex128 (IREE's FFT does not compile for f64).
"""

from __future__ import annotations

import contextvars

import numpy as np

from . import hlo
from . import lang as L
from .builder import aval, constant
from .complex_ops import complex_dtype, real_dtype
from .lang import jx
from .registry import Primitive, ShapedType, VerifyError, register

FFT_TYPES = ("FFT", "IFFT", "RFFT", "IRFFT")


def _infer(x, fft_type, fft_lengths):
    lengths = tuple(fft_lengths)
    if fft_type not in FFT_TYPES:
        raise VerifyError(f"jx.fft: fft_type must be one of {FFT_TYPES}, got {fft_type!r}")
    if not 1 <= len(lengths) <= x.ndim or any(n < 1 for n in lengths):
        raise VerifyError(f"jx.fft: fft_lengths {lengths} must be 1 to {x.ndim} positive lengths for {x.str_short()}")
    k = len(lengths)
    lead, tail = x.shape[:-k], x.shape[-k:]
    if fft_type == "RFFT":
        if x.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise VerifyError(f"jx.fft RFFT needs a float32 or float64 operand, got {x.dtype.name}")
        if tail != lengths:
            raise VerifyError(f"jx.fft RFFT: trailing axes {tail} must equal fft_lengths {lengths}")
        return ShapedType(lead + lengths[:-1] + (lengths[-1] // 2 + 1,), complex_dtype(x.dtype))
    if x.dtype.kind != "c":
        raise VerifyError(f"jx.fft {fft_type} needs a complex operand, got {x.dtype.name}")
    if fft_type == "IRFFT":
        if tail != lengths[:-1] + (lengths[-1] // 2 + 1,):
            raise VerifyError(f"jx.fft IRFFT: trailing axes {tail} must be fft_lengths {lengths} with n//2+1 last")
        return ShapedType(lead + lengths, real_dtype(x.dtype))
    if tail != lengths:
        raise VerifyError(f"jx.fft {fft_type}: trailing axes {tail} must equal fft_lengths {lengths}")
    return ShapedType(x.shape, x.dtype)


def _impl(x, fft_type, fft_lengths):
    k = len(fft_lengths)
    axes = tuple(range(x.ndim - k, x.ndim))
    if fft_type == "FFT":
        return np.fft.fftn(x, axes=axes).astype(x.dtype)
    if fft_type == "IFFT":
        return np.fft.ifftn(x, axes=axes).astype(x.dtype)
    if fft_type == "RFFT":
        return np.fft.rfftn(x, axes=axes).astype(complex_dtype(x.dtype))
    return np.fft.irfftn(x, s=tuple(fft_lengths), axes=axes).astype(real_dtype(x.dtype))


# ---- lowering: 1-D transforms along the last axis, moved there by transposes ----------


def _pow2(n: int) -> bool:
    return n & (n - 1) == 0


def _shaped(x, shape, dtype=None) -> ShapedType:
    return ShapedType(tuple(shape), np.dtype(dtype) if dtype is not None else aval(x).dtype)


def _hlo_fft(x, kind: str, n: int, out: ShapedType):
    attrs = {"fft_type": f"#stablehlo<fft_type {kind}>", "fft_length": hlo.i64s([n])}
    # the barrier keeps IREE 3.13 from fusing a computed-from-constants operand into the FFT
    # dispatch, where it gave wrong numbers (rfft of an iota) or failed to compile (a pad)
    (x,) = hlo.barrier([x])
    return hlo.op1("stablehlo.fft", [x], out, attrs)


def _times_last(x, vec: np.ndarray):
    """x * vec, vec a constant broadcast along x's last axis."""
    a = aval(x)
    c = hlo.broadcast(hlo.constant(vec.astype(a.dtype)), a.shape, [a.ndim - 1])
    return hlo.op1("stablehlo.multiply", [x, c], a)


def _slice_last(x, start: int, stop: int):
    return hlo.slice_axis(x, -1, start, stop)


def _pad_last(x, high: int):
    a = aval(x)
    if a.dtype.kind == "c":  # IREE 3.13 miscompiles some complex pads (stream.yield capture error)
        part = ShapedType(a.shape, real_dtype(a.dtype))
        re, im = (_pad_last(hlo.op1(f"stablehlo.{p}", [x], part), high) for p in ("real", "imag"))
        return hlo.op1("stablehlo.complex", [re, im], _shaped(x, a.shape[:-1] + (a.shape[-1] + high,)))
    return hlo.pad_axis(x, -1, 0, high)


def _conj(x):
    a = aval(x)
    part = ShapedType(a.shape, real_dtype(a.dtype))
    re, im = hlo.op1("stablehlo.real", [x], part), hlo.op1("stablehlo.imag", [x], part)
    return hlo.op1("stablehlo.complex", [re, hlo.op1("stablehlo.negate", [im], part)], a)


def _bluestein(x, n: int, inverse: bool):
    """A length-n (not a power of two) DFT as a convolution with a chirp, done by power-of-two FFTs."""
    a = aval(x)
    m = 1 << (2 * n - 2).bit_length()  # >= 2n - 1, so the circular convolution does not wrap
    k = np.arange(n, dtype=np.int64)
    sign = 1.0 if inverse else -1.0
    chirp = np.exp(sign * 1j * np.pi * ((k * k) % (2 * n)) / n)  # k*k mod 2n keeps the angle exact
    b = np.zeros(m, np.complex128)
    b[:n] = np.conj(chirp)
    b[m - n + 1 :] = np.conj(chirp[1:])[::-1]
    padded = _pad_last(_times_last(x, chirp), m - n)
    wide = _shaped(x, a.shape[:-1] + (m,))
    spec = _times_last(_hlo_fft(padded, "FFT", m, wide), np.fft.fft(b))
    conv = _hlo_fft(spec, "IFFT", m, wide)
    return _times_last(_slice_last(conv, 0, n), chirp / n if inverse else chirp)


def _matmul_last(x, w: np.ndarray):
    """x @ w over x's last axis (real operands; w a constant)."""
    a = aval(x)
    dims = f"#stablehlo.dot<lhs_contracting_dimensions = [{a.ndim - 1}], rhs_contracting_dimensions = [0]>"
    out = ShapedType(a.shape[:-1] + (w.shape[1],), a.dtype)
    return hlo.op1("stablehlo.dot_general", [x, hlo.constant(w.astype(a.dtype))], out, {"dot_dimension_numbers": dims})


def _dft(x, n: int, inverse: bool):
    """The length-n DFT as real matmuls: IREE 3.13's stablehlo.fft does not compile for complex128."""
    a = aval(x)
    k = np.arange(n, dtype=np.int64)
    angle = (2 * np.pi / n) * (np.outer(k, k) % n)  # jk mod n keeps the angle exact
    wr, wi = np.cos(angle), (1.0 if inverse else -1.0) * np.sin(angle)
    if inverse:
        wr, wi = wr / n, wi / n
    part = ShapedType(a.shape, real_dtype(a.dtype))
    re, im = hlo.op1("stablehlo.real", [x], part), hlo.op1("stablehlo.imag", [x], part)
    yr = hlo.op1("stablehlo.subtract", [_matmul_last(re, wr), _matmul_last(im, wi)], part)
    yi = hlo.op1("stablehlo.add", [_matmul_last(re, wi), _matmul_last(im, wr)], part)
    return hlo.op1("stablehlo.complex", [yr, yi], a)


# lower-stablehlo{fft-as-dft=true}, chosen for GPU targets: IREE 3.13's vulkan-spirv codegen cannot
# compile stablehlo.fft ("failed to legalize ... from ('i64') to ('vector<2xi32>')"), so every FFT
# there is a DFT as real matmuls (n x n constants: the frontend refuses lengths past 2048 there)
as_dft = contextvars.ContextVar("irjax_fft_as_dft", default=False)


def _complex_1d(x, n: int, inverse: bool):
    if aval(x).dtype == np.complex128 or as_dft.get():
        return _dft(x, n, inverse)
    if _pow2(n):
        return _hlo_fft(x, "IFFT" if inverse else "FFT", n, aval(x))
    return _bluestein(x, n, inverse)


def _rfft_1d(x, n: int):
    a = aval(x)
    out = ShapedType(a.shape[:-1] + (n // 2 + 1,), complex_dtype(a.dtype))
    if _pow2(n) and a.dtype == np.float32 and not as_dft.get():
        return _hlo_fft(x, "RFFT", n, out)
    zeros = hlo.splat(0, a.dtype, a.shape)
    z = hlo.op1("stablehlo.complex", [x, zeros], ShapedType(a.shape, out.dtype))
    return _slice_last(_complex_1d(z, n, False), 0, n // 2 + 1)


def _irfft_1d(x, n: int):
    a = aval(x)
    out = ShapedType(a.shape[:-1] + (n,), real_dtype(a.dtype))
    if _pow2(n) and a.dtype == np.complex64 and not as_dft.get():
        return _hlo_fft(x, "IRFFT", n, out)
    # the Hermitian half: bins n//2+1 .. n-1 are conj(x[n-k]); real() drops the imaginary
    # parts of bins 0 and n/2, as numpy's irfft does
    tail = n - (n // 2 + 1)
    last = {"dimensions": hlo.i64s([a.ndim - 1])}
    rev = hlo.op1("stablehlo.reverse", [_slice_last(x, 1, 1 + tail)], _shaped(x, a.shape[:-1] + (tail,)), last)
    dim = {"dimension": hlo.attr(f"{a.ndim - 1} : i64")}
    full = hlo.op1("stablehlo.concatenate", [x, _conj(rev)], _shaped(x, a.shape[:-1] + (n,)), dim)
    return hlo.op1("stablehlo.real", [_complex_1d(full, n, True)], out)


def _along(x, axis: int, fn):
    """fn (a last-axis transform) applied along `axis`."""
    nd = aval(x).ndim
    if axis == nd - 1:
        return fn(x)
    perm = [i for i in range(nd) if i != axis] + [axis]
    inv = list(np.argsort(perm))

    def tr(v, p):
        s = aval(v)
        return hlo.op1("stablehlo.transpose", [v], _shaped(v, [s.shape[i] for i in p]), {"permutation": hlo.i64s(p)})

    return tr(fn(tr(x, perm)), inv)


def _lower(ctx, x, fft_type, fft_lengths):
    lengths = tuple(fft_lengths)
    nd, k = aval(x).ndim, len(lengths)
    axes = list(range(nd - k, nd))
    if fft_type in ("FFT", "IFFT"):
        for ax, n in zip(axes, lengths):
            x = _along(x, ax, lambda v, n=n: _complex_1d(v, n, fft_type == "IFFT"))
        return x
    if fft_type == "RFFT":
        x = _rfft_1d(x, lengths[-1])
        for ax, n in zip(axes[:-1], lengths[:-1]):
            x = _along(x, ax, lambda v, n=n: _complex_1d(v, n, False))
        return x
    for ax, n in zip(axes[:-1], lengths[:-1]):
        x = _along(x, ax, lambda v, n=n: _complex_1d(v, n, True))
    return _irfft_1d(x, lengths[-1])


# ---- autodiff and batching: FFT is linear; transposes are JAX's --------------------------


def _jvp(primals, tangents, fft_type, fft_lengths):
    (x,), (t,) = primals, tangents
    out = jx.fft(x, fft_type=fft_type, fft_lengths=fft_lengths)
    return [out], [None if t is None else jx.fft(t, fft_type=fft_type, fft_lengths=fft_lengths)]


def _vjp(cts, primals, outs, fft_type, fft_lengths):
    ct = cts[0]
    lengths = tuple(fft_lengths)
    if fft_type in ("FFT", "IFFT"):  # the DFT matrix is symmetric
        return [jx.fft(ct, fft_type=fft_type, fft_lengths=lengths)]
    if fft_type == "RFFT":  # RFFT = keep n//2+1 bins of FFT(complex(x)): transpose each step
        n = lengths[-1]
        cfg = ((0, 0, 0),) * (ct.ndim - 1) + ((0, n - (n // 2 + 1), 0),)
        padded = jx.pad(ct, L.full((), 0, ct.dtype), padding_config=cfg)
        return [jx.real(jx.fft(padded, fft_type="FFT", fft_lengths=lengths))]
    x = jx.fft(ct, fft_type="RFFT", fft_lengths=lengths)
    m, odd = x.shape[-1], lengths[-1] % 2
    mask = np.concatenate([[1.0], np.full(m - 2 + odd, 2.0), np.ones(1 - odd)]) / float(np.prod(lengths))
    scale = L.broadcast_in_dim(L.Val(constant(mask.astype(x.dtype))), x.shape, (x.ndim - 1,))
    return [jx.conj(x * scale)]


def _batch(args, dims, fft_type, fft_lengths):
    (x,), (d,) = args, dims
    if d not in (None, 0):
        x = L.moveaxis(x, d, 0)
    return jx.fft(x, fft_type=fft_type, fft_lengths=fft_lengths), 0


fft = register(
    Primitive(
        "fft",
        _infer,
        impl=_impl,
        lower=_lower,
        jvp=_jvp,
        vjp=_vjp,
        batch=_batch,
        doc="FFT/IFFT/RFFT/IRFFT over the trailing fft_lengths axes (as jax.lax.fft)",
        family="fft",
    )
)
