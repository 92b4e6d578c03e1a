"""reduce_precision: round floats to fewer exponent / mantissa bits, staying in their dtype.

    %1 = "jx.reduce_precision"(%0) {exponent_bits = 8, mantissa_bits = 7} : (tensor<4xf32>) -> tensor<4xf32>
lowers to `stablehlo.reduce_precision` (a bfloat16 round trip, here).
"""

from __future__ import annotations

import numpy as np

from . import hlo
from .lang import jx
from .registry import Primitive, ShapedType, VerifyError, register
from .structural import _moved_to_front


def _rp_infer(x, exponent_bits, mantissa_bits):
    if x.dtype.kind != "f":
        raise VerifyError(f"jx.reduce_precision needs a float operand, got {x.dtype.name}")
    if exponent_bits < 1 or mantissa_bits < 0:
        raise VerifyError(
            f"jx.reduce_precision needs exponent_bits >= 1 and mantissa_bits >= 0, "
            f"got {exponent_bits} and {mantissa_bits}"
        )
    return ShapedType(x.shape, x.dtype)


def _rp_impl(x, exponent_bits, mantissa_bits):
    """Round to nearest even on the bit pattern, then overflow to inf / flush to zero."""
    info = np.finfo(x.dtype)
    src_m, src_e = info.nmant, info.nexp
    ut = np.dtype(f"u{x.dtype.itemsize}")
    bits = x.view(ut).astype(np.uint64)
    one = np.uint64(1)
    mask = (one << np.uint64(8 * x.dtype.itemsize)) - one
    if mantissa_bits < src_m:
        drop = np.uint64(src_m - mantissa_bits)
        last = one << drop
        bias = ((bits & last) >> drop) + (last >> one) - one
        bits = ((bits + bias) & ~(last - one)) & mask
    if exponent_bits < src_e:
        sign = one << np.uint64(8 * x.dtype.itemsize - 1)
        exp_mask = ((one << np.uint64(src_e)) - one) << np.uint64(src_m)
        src_bias = (1 << (src_e - 1)) - 1
        red_bias = (1 << (exponent_bits - 1)) - 1
        e = bits & exp_mask
        over = e > (np.uint64(src_bias + red_bias) << np.uint64(src_m))
        under = e <= (np.uint64(src_bias - red_bias) << np.uint64(src_m))
        zero = bits & sign
        bits = np.where(over, zero | exp_mask, np.where(under, zero, bits))
    out = bits.astype(ut).view(x.dtype).reshape(x.shape)
    # rounding may carry a NaN's mantissa into its exponent and sign: NaN stays NaN (as XLA)
    out = np.where(np.isnan(x), x, out)
    return np.asarray(out, x.dtype)


register(
    Primitive(
        "reduce_precision",
        _rp_infer,
        impl=_rp_impl,
        lower=lambda ctx, x, exponent_bits, mantissa_bits: hlo.op1(
            "stablehlo.reduce_precision",
            [x],
            ctx.out_avals[0],
            {"exponent_bits": f"{exponent_bits} : i32", "mantissa_bits": f"{mantissa_bits} : i32"},
        ),
        # as JAX: treated as linear, so derivatives are rounded the same way
        jvp=lambda primals, tangents, **p: (
            [jx.reduce_precision(primals[0], **p)],
            [None if tangents[0] is None else jx.reduce_precision(tangents[0], **p)],
        ),
        vjp=lambda cts, primals, outs, **p: [jx.reduce_precision(cts[0], **p)],
        batch=lambda args, dims, **p: (jx.reduce_precision(_moved_to_front(args, dims)[0], **p), 0),
        doc="round to a float format with fewer exponent / mantissa bits",
        family="elementwise",
    )
)
