"""bfloat16 and float16 lowering: arithmetic runs in float32 and rounds once, as XLA does on CPU,
and float32 -> bfloat16 rounding is emitted as integer ops (IREE 3.13's llvm-cpu can leave LLVM's
`__truncsfbf2` unresolved, e.g. for int -> bf16 or inside larger fusions)."""

from __future__ import annotations

import numpy as np

from . import hlo
from .builder import aval
from .registry import LOW_FLOAT_IN_F32, Primitive, ShapedType

try:  # ml_dtypes comes with iree-base-runtime's numpy stack
    from ml_dtypes import bfloat16 as _bf16

    BF16: np.dtype | None = np.dtype(_bf16)
except ImportError:  # pragma: no cover
    BF16 = None

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
U16, U32 = np.dtype(np.uint16), np.dtype(np.uint32)
LOW_FLOATS = frozenset(d for d in (F16, BF16) if d is not None)


def kind(dtype) -> str:
    """NumPy's dtype.kind, except 'f' for bfloat16 (ml_dtypes gives it kind 'V')."""
    dt = np.dtype(dtype)
    return "f" if dt == BF16 else dt.kind


# ---- conversions by hand ---------------------------------------------------------------


def _u32(v, shape):
    return hlo.constant(v, U32, shape)


def bf16_to_f32(x):
    """bfloat16 -> float32 exactly: the 16 bits become the high half of the float32 word."""
    a = aval(x)
    bits = hlo.op1("stablehlo.bitcast_convert", [x], ShapedType(a.shape, U16))
    wide = hlo.op1("stablehlo.convert", [bits], ShapedType(a.shape, U32))
    wide = hlo.op1("stablehlo.shift_left", [wide, _u32(16, a.shape)], ShapedType(a.shape, U32))
    return hlo.op1("stablehlo.bitcast_convert", [wide], ShapedType(a.shape, F32))


def f32_to_bf16(x):
    """float32 -> bfloat16, round to nearest even on the bits; NaN becomes the quiet NaN of its
    sign (0x7fc0 / 0xffc0, as ml_dtypes rounds). Subnormals round like normals (no flush)."""
    a = aval(x)
    ut = ShapedType(a.shape, U32)
    bits = hlo.op1("stablehlo.bitcast_convert", [x], ut)
    hi = hlo.op1("stablehlo.shift_right_logical", [bits, _u32(16, a.shape)], ut)
    lsb = hlo.op1("stablehlo.and", [hi, _u32(1, a.shape)], ut)
    bias = hlo.op1("stablehlo.add", [lsb, _u32(0x7FFF, a.shape)], ut)
    rounded = hlo.op1("stablehlo.add", [bits, bias], ut)  # carries into the exponent: inf on overflow
    rounded = hlo.op1("stablehlo.shift_right_logical", [rounded, _u32(16, a.shape)], ut)
    sign = hlo.op1("stablehlo.and", [hi, _u32(0x8000, a.shape)], ut)
    qnan = hlo.op1("stablehlo.or", [sign, _u32(0x7FC0, a.shape)], ut)
    isnan = hlo.compare(x, x, "NE")
    out = hlo.op1("stablehlo.select", [isnan, qnan, rounded], ut)
    out = hlo.op1("stablehlo.convert", [out], ShapedType(a.shape, U16))
    return hlo.op1("stablehlo.bitcast_convert", [out], ShapedType(a.shape, BF16))


def f64_to_f32_odd(x):
    """float64 -> float32 rounded to odd (toward zero, the last bit set if inexact): rounding that
    to bfloat16 then equals one correct rounding of the float64 (no double rounding)."""
    a = aval(x)
    ft, ut, dt = ShapedType(a.shape, F32), ShapedType(a.shape, U32), ShapedType(a.shape, F64)
    r = hlo.op1("stablehlo.convert", [x], ft)
    back = hlo.op1("stablehlo.convert", [r], dt)
    bits = hlo.op1("stablehlo.bitcast_convert", [r], ut)
    ax = hlo.op1("stablehlo.abs", [x], dt)
    aback = hlo.op1("stablehlo.abs", [back], dt)
    # rounded away from zero: step the magnitude back by one ulp (bits - 1 keeps the sign bit)
    away = hlo.compare(aback, ax, "GT")
    stepped = hlo.op1("stablehlo.subtract", [bits, _u32(1, a.shape)], ut)
    bits = hlo.op1("stablehlo.select", [away, stepped, bits], ut)
    inexact = hlo.op1(
        "stablehlo.and", [hlo.compare(back, x, "NE"), hlo.compare(x, x, "EQ")], ShapedType(a.shape, np.dtype(bool))
    )
    odd = hlo.op1("stablehlo.or", [bits, _u32(1, a.shape)], ut)
    bits = hlo.op1("stablehlo.select", [inexact, odd, bits], ut)
    return hlo.op1("stablehlo.bitcast_convert", [bits], ft)


def to_f32(x):
    """A float32 value of x (bfloat16 by hand, others by stablehlo.convert)."""
    dt = aval(x).dtype
    if dt == F32:
        return x
    if dt == BF16:
        return bf16_to_f32(x)
    return hlo.op1("stablehlo.convert", [x], ShapedType(aval(x).shape, F32))


def convert(x, dtype):
    """stablehlo.convert, except that conversions into bfloat16 round by hand (through float32;
    float64 first rounds to odd, so it still rounds once) and bfloat16 widens by hand."""
    a, dtype = aval(x), np.dtype(dtype)
    if dtype == a.dtype:
        return x
    if dtype == BF16:
        if a.dtype == F64:
            return f32_to_bf16(f64_to_f32_odd(x))
        return f32_to_bf16(to_f32(x))
    if a.dtype == BF16:
        w = bf16_to_f32(x)
        return w if dtype == F32 else hlo.op1("stablehlo.convert", [w], ShapedType(a.shape, dtype))
    return hlo.op1("stablehlo.convert", [x], ShapedType(a.shape, dtype))


# ---- running low-precision ops in float32 ----------------------------------------------

_UPCAST_FAMILIES = frozenset({"unary", "binary", "reduction", "cumulative", "window", "bilinear"})


class _F32Ctx:
    """The lowering context an op would have had with float32 in place of its low floats."""

    __slots__ = ("in_avals", "op", "out_avals")

    def __init__(self, ctx):
        self.op = ctx.op
        self.in_avals = [_widen(a) for a in ctx.in_avals]
        self.out_avals = [_widen(a) for a in ctx.out_avals]


def _widen(a: ShapedType) -> ShapedType:
    return ShapedType(a.shape, F32) if a.dtype in LOW_FLOATS else a


def _widen_params(params: dict) -> dict:
    return {k: (F32 if isinstance(v, np.dtype) and v in LOW_FLOATS else v) for k, v in params.items()}


def upcast(prim: Primitive, lower):
    """`lower` (a lowering of `prim`) run in float32 when its operands or results are low floats,
    for the families and ops that need it; otherwise `lower` itself. Applied where lowerings run
    (passes/lower_stablehlo.py), so the record itself is untouched."""
    if lower is None or (prim.family not in _UPCAST_FAMILIES and LOW_FLOAT_IN_F32 not in prim.tags):
        return lower

    def upcast_lower(ctx, *operands, **params):
        if not any(a.dtype in LOW_FLOATS for a in (*ctx.in_avals, *ctx.out_avals)):
            return lower(ctx, *operands, **params)
        wide = [to_f32(v) if aval(v).dtype in LOW_FLOATS else v for v in operands]
        out = lower(_F32Ctx(ctx), *wide, **_widen_params(params))
        outs = out if prim.multiple_results else [out]
        back = [convert(v, a.dtype) if a.dtype != aval(v).dtype else v for v, a in zip(outs, ctx.out_avals)]
        return back if prim.multiple_results else back[0]

    return upcast_lower
