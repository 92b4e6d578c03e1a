"""irjax.lax convolutions: conv_general_dilated and its wrappers, dimension numbers, padding.

String paddings ('SAME', 'VALID', 'SAME_LOWER') and layout strings ('NHWC', 'HWIO', ...)
resolve here, so the jx.conv_general_dilated op only sees explicit pairs and permutations.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .core import jx
from .operands import asarray_any

__all__ = [
    "ConvDimensionNumbers",
    "Precision",
    "conv",
    "conv_dimension_numbers",
    "conv_general_dilated",
    "conv_transpose",
    "conv_with_general_padding",
    "padtype_to_pads",
]


class ConvDimensionNumbers(NamedTuple):
    """Axis permutations: lhs (batch, feature, spatial...), rhs (out feature, in feature,
    spatial...), out (batch, feature, spatial...)."""

    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple


class Precision(enum.Enum):
    """JAX's precision hint. Accepted and not acted on: IREE's CPU convolutions and dots
    accumulate in the operand dtype (or preferred_element_type)."""

    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2


def _arr(x):
    return asarray_any(x)


def padtype_to_pads(in_shape, window_shape, window_strides, padding) -> list[tuple[int, int]]:
    """Explicit (low, high) pairs for 'SAME', 'SAME_LOWER' or 'VALID' padding."""
    if not isinstance(padding, str):
        raise TypeError(f"padtype_to_pads expects a padding string, got {padding!r}")
    kind = padding.upper()
    if kind == "VALID":
        return [(0, 0)] * len(in_shape)
    if kind not in ("SAME", "SAME_LOWER"):
        raise ValueError(f"Unknown padding type: {padding!r}; expected 'SAME', 'SAME_LOWER' or 'VALID'")
    pads = []
    for n, k, s in zip(in_shape, window_shape, window_strides):
        out = -(-int(n) // int(s))  # ceil: SAME keeps ceil(n / stride) outputs
        total = max(0, (out - 1) * int(s) + int(k) - int(n))
        small, big = total // 2, total - total // 2
        pads.append((small, big) if kind == "SAME" else (big, small))
    return pads


def _layout_perms(lhs_spec: str, rhs_spec: str, out_spec: str) -> ConvDimensionNumbers:
    specs = (lhs_spec, rhs_spec, out_spec)
    pairs = (("N", "C"), ("O", "I"), ("N", "C"))
    for spec, (a, b) in zip(specs, pairs):
        if spec.count(a) != 1 or spec.count(b) != 1:
            raise TypeError(f"conv dimension spec {spec!r} must name '{a}' and '{b}' once each")
        if len(set(spec)) != len(spec):
            raise TypeError(f"conv dimension spec {spec!r} repeats a letter")
    spatial = [set(s) - set(p) for s, p in zip(specs, pairs)]
    if not spatial[0] == spatial[1] == spatial[2]:
        raise TypeError(f"conv dimension specs {specs} must name the same spatial letters")
    order = [c for c in rhs_spec if c not in "OI"]  # spatial dims follow the kernel's order

    def perm(spec, pair):
        return (spec.index(pair[0]), spec.index(pair[1])) + tuple(spec.index(c) for c in order)

    return ConvDimensionNumbers(*(perm(s, p) for s, p in zip(specs, pairs)))


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers) -> ConvDimensionNumbers:
    """ConvDimensionNumbers from None (NC..., OI..., NC...), layout strings or permutations."""
    nd = len(lhs_shape)
    if nd != len(rhs_shape):
        raise TypeError(f"convolution requires lhs and rhs ndim to be equal, got {nd} and {len(rhs_shape)}")
    if nd < 2:
        raise TypeError(f"convolution requires operands of rank >= 2, got {nd}")
    if dimension_numbers is None:
        return ConvDimensionNumbers(*(tuple(range(nd)),) * 3)
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        dn = dimension_numbers
    elif len(dimension_numbers) == 3 and all(isinstance(s, str) for s in dimension_numbers):
        for s in dimension_numbers:
            if len(s) != nd:
                raise TypeError(f"conv dimension spec {s!r} has {len(s)} letters for operands of rank {nd}")
        dn = _layout_perms(*dimension_numbers)
    elif len(dimension_numbers) == 3:
        dn = ConvDimensionNumbers(*(tuple(int(a) for a in s) for s in dimension_numbers))
    else:
        raise TypeError(
            f"conv dimension_numbers must be None, three layout strings or a ConvDimensionNumbers, "
            f"got {dimension_numbers!r}"
        )
    for s in dn:
        if sorted(s) != list(range(nd)):
            raise TypeError(f"conv dimension numbers {tuple(dn)} are not permutations of {nd} axes")
    return dn


def _ints(v, n, what):
    if v is None:
        return (1,) * n
    v = tuple(int(a) for a in v)
    if len(v) != n:
        raise ValueError(f"{what} needs {n} entries (one per spatial dim), got {v}")
    return v


def _dilate(d, r):
    return 0 if d == 0 else 1 + r * (d - 1)


def conv_general_dilated(
    lhs,
    rhs,
    window_strides,
    padding,
    lhs_dilation=None,
    rhs_dilation=None,
    dimension_numbers=None,
    feature_group_count=1,
    batch_group_count=1,
    precision=None,
    preferred_element_type=None,
):
    """General N-d convolution (cross-correlation), as jax.lax.conv_general_dilated."""
    lhs, rhs = _arr(lhs), _arr(rhs)
    if lhs.dtype != rhs.dtype:
        raise TypeError(
            f"lax.conv_general_dilated requires arguments to have the same dtypes, "
            f"got {lhs.dtype.name}, {rhs.dtype.name}"
        )
    dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    n = lhs.ndim - 2
    strides = _ints(window_strides, n, "window_strides")
    lhs_d, rhs_d = _ints(lhs_dilation, n, "lhs_dilation"), _ints(rhs_dilation, n, "rhs_dilation")
    if isinstance(padding, str):
        k = [_dilate(rhs.shape[a], r) for a, r in zip(dn.rhs_spec[2:], rhs_d)]
        pads = padtype_to_pads([lhs.shape[a] for a in dn.lhs_spec[2:]], k, strides, padding)
    else:
        pads = [tuple(int(v) for v in p) for p in padding]
        if len(pads) != n or any(len(p) != 2 for p in pads):
            raise ValueError(f"conv padding must be a string or {n} (low, high) pairs, got {padding!r}")
    return jx.conv_general_dilated(
        lhs,
        rhs,
        window_strides=strides,
        padding=tuple(pads),
        lhs_dilation=lhs_d,
        rhs_dilation=rhs_d,
        dimension_numbers=tuple(dn),
        feature_group_count=int(feature_group_count),
        batch_group_count=int(batch_group_count),
        preferred_element_type=None if preferred_element_type is None else np.dtype(preferred_element_type),
    )


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
    """conv_general_dilated in NC... / OI... layout without dilation."""
    return conv_general_dilated(
        lhs, rhs, window_strides, padding, precision=precision, preferred_element_type=preferred_element_type
    )


def conv_with_general_padding(
    lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation, precision=None, preferred_element_type=None
):
    """conv_general_dilated in NC... / OI... layout."""
    return conv_general_dilated(
        lhs,
        rhs,
        window_strides,
        padding,
        lhs_dilation,
        rhs_dilation,
        precision=precision,
        preferred_element_type=preferred_element_type,
    )


def _conv_transpose_pads(k: int, s: int, padding: str) -> tuple[int, int]:
    if padding == "SAME":
        total = k + s - 2
        lo = k - 1 if s > k - 1 else -(-total // 2)
    else:  # VALID: the full transposed output
        total = k + s - 2 + max(k - s, 0)
        lo = k - 1
    return lo, total - lo


_TRANSPOSE_LAYOUTS = {
    2: ("NC", "IO", "NC"),
    3: ("NHC", "HIO", "NHC"),
    4: ("NHWC", "HWIO", "NHWC"),
    5: ("NHWDC", "HWDIO", "NHWDC"),
}


def conv_transpose(
    lhs,
    rhs,
    strides: Sequence[int],
    padding,
    rhs_dilation=None,
    dimension_numbers=None,
    transpose_kernel: bool = False,
    precision=None,
    preferred_element_type=None,
):
    """Transposed convolution (gradient of a strided conv), as jax.lax.conv_transpose."""
    lhs, rhs = _arr(lhs), _arr(rhs)
    nd = lhs.ndim
    if nd != rhs.ndim or nd < 2:
        raise TypeError(f"conv_transpose requires lhs and rhs of one rank >= 2, got {lhs.shape} and {rhs.shape}")
    if dimension_numbers is None:
        if nd not in _TRANSPOSE_LAYOUTS:
            raise ValueError(f"No default dimension numbers for conv_transpose of rank {nd}")
        dimension_numbers = _TRANSPOSE_LAYOUTS[nd]
    dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    one = (1,) * (nd - 2)
    rhs_d = _ints(rhs_dilation, nd - 2, "rhs_dilation")
    strides = _ints(strides, nd - 2, "strides")
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"conv_transpose padding must be 'SAME', 'VALID' or (low, high) pairs, got {padding!r}")
        ks = [_dilate(rhs.shape[a], r) for a, r in zip(dn.rhs_spec[2:], rhs_d)]
        padding = [_conv_transpose_pads(k, s, padding) for k, s in zip(ks, strides)]
    if transpose_kernel:  # flip the window and swap the kernel's in/out feature axes
        rhs = jx.rev(rhs, dimensions=tuple(dn.rhs_spec[2:]))
        perm = list(range(nd))
        perm[dn.rhs_spec[0]], perm[dn.rhs_spec[1]] = perm[dn.rhs_spec[1]], perm[dn.rhs_spec[0]]
        rhs = jx.transpose(rhs, permutation=tuple(perm))
    return conv_general_dilated(
        lhs, rhs, one, padding, strides, rhs_d, dn, precision=precision, preferred_element_type=preferred_element_type
    )
