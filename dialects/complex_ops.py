"""Complex jx ops: real, imag, conj and complex (the elementwise math on complex lives in elementwise.py).

    %1 = "jx.real"(%0) : (tensor<3xcomplex<f32>>) -> tensor<3xf32>
lowers to stablehlo.real. Transposes follow JAX's pairing <ct, t> = Re(ct * t).
"""

from __future__ import annotations

import numpy as np

from . import hlo
from . import lang as L
from .elementwise import batch_elementwise
from .lang import jx
from .registry import Primitive, ShapedType, VerifyError, register

_REAL_OF = {np.dtype(np.complex64): np.dtype(np.float32), np.dtype(np.complex128): np.dtype(np.float64)}
_COMPLEX_OF = {v: k for k, v in _REAL_OF.items()}


def real_dtype(dtype) -> np.dtype:
    """complex64 -> float32, complex128 -> float64; other dtypes unchanged."""
    return _REAL_OF.get(np.dtype(dtype), np.dtype(dtype))


def complex_dtype(dtype) -> np.dtype:
    """float32 -> complex64, float64 -> complex128; complex dtypes unchanged."""
    dt = np.dtype(dtype)
    if dt.kind == "c":
        return dt
    if dt not in _COMPLEX_OF:
        raise TypeError(f"no complex dtype has parts of dtype {dt.name} (float32 or float64 expected)")
    return _COMPLEX_OF[dt]


def _complex_in(name):
    def infer(x):
        if x.dtype.kind != "c":
            raise VerifyError(f"jx.{name} needs a complex operand, got {x.dtype.name}")
        return ShapedType(x.shape, real_dtype(x.dtype) if name != "conj" else x.dtype)

    return infer


def _unary_linear(name, np_fn, lower, transpose):
    """A real-linear unary op on complex values: jvp applies the op, vjp is `transpose`."""

    def jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return [L.bind(name, x)], [None if t is None else L.bind(name, t)]

    return register(
        Primitive(
            name,
            _complex_in(name),
            impl=lambda x: np.asarray(np_fn(x)),
            lower=lower if callable(lower) else (lambda ctx, x: hlo.op1(lower, [x], ctx.out_avals[0])),
            jvp=jvp,
            vjp=lambda cts, primals, outs: [transpose(cts[0])],
            batch=batch_elementwise(name),
            doc=f"elementwise {name} of a complex tensor",
            family="complex",
        )
    )


def _make_complex(re: L.Val, im: L.Val) -> L.Val:
    return jx.complex(re, im)


# JAX's transposes: real -> complex(ct, 0), imag -> complex(0, -ct), conj -> conj(ct)
real = _unary_linear("real", np.real, "stablehlo.real", lambda ct: _make_complex(ct, L.zeros_like(ct)))
imag = _unary_linear("imag", np.imag, "stablehlo.imag", lambda ct: _make_complex(L.zeros_like(ct), -ct))


def _part(ctx) -> ShapedType:
    out = ctx.out_avals[0]
    return ShapedType(out.shape, real_dtype(out.dtype))


def _conj_lower(ctx, x):
    part = _part(ctx)
    re, im = hlo.op1("stablehlo.real", [x], part), hlo.op1("stablehlo.imag", [x], part)
    return hlo.op1("stablehlo.complex", [re, hlo.op1("stablehlo.negate", [im], part)], ctx.out_avals[0])


conj = _unary_linear("conj", np.conj, _conj_lower, lambda ct: jx.conj(ct))


def _complex_np(re, im):
    out = np.empty(re.shape, _COMPLEX_OF[re.dtype])
    out.real, out.imag = re, im  # not re + 1j * im: 1j * inf would make a NaN real part
    return out


def _complex_infer(re, im):
    if re.shape != im.shape or re.dtype != im.dtype:
        raise VerifyError(f"jx.complex needs parts of one shape and dtype, got {re.str_short()} and {im.str_short()}")
    if re.dtype not in _COMPLEX_OF:
        raise VerifyError(f"jx.complex needs float32 or float64 parts, got {re.dtype.name}")
    return ShapedType(re.shape, _COMPLEX_OF[re.dtype])


def _complex_jvp(primals, tangents):
    re, im = primals
    tr, ti = tangents
    out = _make_complex(re, im)
    if tr is None and ti is None:
        return [out], [None]
    tr = tr if tr is not None else L.zeros_like(re)
    ti = ti if ti is not None else L.zeros_like(im)
    return [out], [_make_complex(tr, ti)]


complex_ = register(
    Primitive(
        "complex",
        _complex_infer,
        impl=_complex_np,
        lower=lambda ctx, re, im: hlo.op1("stablehlo.complex", [re, im], ctx.out_avals[0]),
        jvp=_complex_jvp,
        # JAX's transpose: [real(ct), -imag(ct)]
        vjp=lambda cts, primals, outs: [jx.real(cts[0]), -jx.imag(cts[0])],
        batch=batch_elementwise("complex"),
        doc="complex(re, im), elementwise",
        family="complex",
    )
)
