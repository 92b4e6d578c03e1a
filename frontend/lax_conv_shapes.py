"""jax.lax's convolution shape helpers (conv_*_shape_tuple, conv_general_permutations,
reduce_window_shape_tuple) and the convolutions built on conv_general_dilated: patches, local."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .lax import dot_general, transpose
from .lax_conv import (
    ConvDimensionNumbers,
    _conv_transpose_pads,
    _dilate,
    _layout_perms,
    conv_dimension_numbers,
    conv_general_dilated,
    padtype_to_pads,
)
from .operands import asarray_any

__all__ = [
    "conv_general_dilated_local",
    "conv_general_dilated_patches",
    "conv_general_permutations",
    "conv_general_shape_tuple",
    "conv_shape_tuple",
    "conv_transpose_shape_tuple",
    "reduce_window_shape_tuple",
]


def conv_general_permutations(dimension_numbers) -> tuple[tuple, tuple, tuple]:
    """(lhs, rhs, out) axis permutations of three layout strings such as ('NHWC', 'HWIO', 'NHWC')."""
    if not (isinstance(dimension_numbers, (tuple, list)) and len(dimension_numbers) == 3):
        raise TypeError(f"conv_general_permutations needs three layout strings, got {dimension_numbers!r}")
    lhs, rhs, out = dimension_numbers
    if not len(lhs) == len(rhs) == len(out):
        raise TypeError(f"convolution dimension_numbers {dimension_numbers!r} must have one length each")
    return tuple(_layout_perms(lhs, rhs, out))


def _pads(in_spatial, k_spatial, strides, padding) -> list[tuple[int, int]]:
    if isinstance(padding, str):
        return padtype_to_pads(in_spatial, k_spatial, strides, padding)
    pads = [tuple(int(v) for v in p) for p in padding]
    if len(pads) != len(in_spatial) or any(len(p) != 2 for p in pads):
        raise ValueError(f"padding must be a string or {len(in_spatial)} (low, high) pairs, got {padding!r}")
    return pads


def conv_shape_tuple(lhs_shape, rhs_shape, strides, pads, batch_group_count: int = 1) -> tuple[int, ...]:
    """The NC... output shape of an NC... / OI... convolution."""
    n = len(lhs_shape) - 2
    if len(rhs_shape) != len(lhs_shape) or n < 0:
        raise TypeError(f"conv_shape_tuple needs lhs and rhs of one rank >= 2, got {lhs_shape} and {rhs_shape}")
    if len(strides) != n:
        raise ValueError(f"conv_shape_tuple needs {n} strides (one per spatial dim), got {tuple(strides)}")
    pads = _pads(lhs_shape[2:], rhs_shape[2:], strides, pads)
    spatial = []
    for x, k, s, (lo, hi) in zip(lhs_shape[2:], rhs_shape[2:], strides, pads):
        size = int(x) + lo + hi - int(k)
        spatial.append(0 if size < 0 else size // int(s) + 1)
    return (int(lhs_shape[0]) // int(batch_group_count), int(rhs_shape[0]), *spatial)


def _dn(lhs_shape, rhs_shape, dimension_numbers) -> ConvDimensionNumbers:
    if dimension_numbers is None:
        raise TypeError("conv shape tuples need dimension_numbers (layout strings or a ConvDimensionNumbers)")
    return conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers)


def _out_in_layout(shape_nc, out_spec) -> tuple[int, ...]:
    out = [0] * len(shape_nc)
    for canon, axis in enumerate(out_spec):
        out[axis] = shape_nc[canon]
    return tuple(out)


def conv_general_shape_tuple(lhs_shape, rhs_shape, window_strides, padding, dimension_numbers) -> tuple[int, ...]:
    """The output shape of conv_general_dilated (no dilation) in the layout dimension_numbers name."""
    dn = _dn(lhs_shape, rhs_shape, dimension_numbers)
    lhs_nc = tuple(lhs_shape[a] for a in dn.lhs_spec)
    rhs_oi = tuple(rhs_shape[a] for a in dn.rhs_spec)
    return _out_in_layout(conv_shape_tuple(lhs_nc, rhs_oi, window_strides, padding), dn.out_spec)


def conv_transpose_shape_tuple(lhs_shape, rhs_shape, window_strides, padding, dimension_numbers) -> tuple[int, ...]:
    """The output shape of conv_transpose (no dilation) in the layout dimension_numbers name."""
    dn = _dn(lhs_shape, rhs_shape, dimension_numbers)
    lhs_nc = tuple(lhs_shape[a] for a in dn.lhs_spec)
    rhs_oi = tuple(rhs_shape[a] for a in dn.rhs_spec)
    ks, strides = rhs_oi[2:], tuple(int(s) for s in window_strides)
    if len(strides) != len(ks):
        raise ValueError(f"conv_transpose_shape_tuple needs {len(ks)} strides, got {strides}")
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"conv_transpose padding must be 'SAME', 'VALID' or (low, high) pairs, got {padding!r}")
        pads = [_conv_transpose_pads(k, s, padding) for k, s in zip(ks, strides)]
    else:
        pads = _pads(lhs_nc[2:], ks, strides, padding)
    spatial = [max(0, (x - 1) * s + 1 + lo + hi - k + 1) for x, k, s, (lo, hi) in zip(lhs_nc[2:], ks, strides, pads)]
    return _out_in_layout((lhs_nc[0], rhs_oi[0], *spatial), dn.out_spec)


def reduce_window_shape_tuple(
    operand_shape, window_dimensions, window_strides, padding, base_dilation=None, window_dilation=None
) -> tuple[int, ...]:
    """The output shape of reduce_window with explicit (low, high) padding pairs."""
    nd = len(operand_shape)
    base = (1,) * nd if base_dilation is None else tuple(base_dilation)
    wdil = (1,) * nd if window_dilation is None else tuple(window_dilation)
    if isinstance(padding, str) or len(padding) != nd:
        raise TypeError(f"reduce_window_shape_tuple needs {nd} (low, high) padding pairs, got {padding!r}")
    if not len(window_dimensions) == len(window_strides) == len(base) == len(wdil) == nd:
        raise ValueError(f"reduce_window_shape_tuple needs {nd} entries per window argument")
    out = []
    for x, k, s, (lo, hi), b, w in zip(operand_shape, window_dimensions, window_strides, padding, base, wdil):
        size = _dilate(int(x), int(b)) + int(lo) + int(hi) - _dilate(int(k), int(w))
        out.append(0 if size < 0 else size // int(s) + 1)
    return tuple(out)


def conv_general_dilated_patches(
    lhs,
    filter_shape: Sequence[int],
    window_strides: Sequence[int],
    padding,
    lhs_dilation=None,
    rhs_dilation=None,
    dimension_numbers=None,
    precision=None,
    preferred_element_type=None,
):
    """Every filter_shape patch of lhs, flattened into the feature dim (channel-major, then the
    filter's spatial dims in the rhs spec's order): a grouped convolution with one-hot kernels."""
    x = asarray_any(lhs)
    n = x.ndim - 2
    filter_shape = tuple(int(k) for k in filter_shape)
    if len(filter_shape) != n:
        raise ValueError(f"conv_general_dilated_patches: filter_shape needs {n} entries, got {filter_shape}")
    dn = conv_dimension_numbers(x.shape, (0, 0, *filter_shape), dimension_numbers)
    c = x.shape[dn.lhs_spec[1]]
    size = int(np.prod(filter_shape))
    # (C * size, 1, *filter) in O, I, spatial order: output channel c * size + j is tap j of channel c
    kernel = np.tile(np.eye(size, dtype=x.dtype).reshape(size, 1, *filter_shape), (c, 1) + (1,) * n)
    kernel = np.transpose(kernel, np.argsort(dn.rhs_spec))  # into the rhs layout dimension_numbers names
    return conv_general_dilated(
        x,
        asarray_any(kernel),
        window_strides,
        padding,
        lhs_dilation,
        rhs_dilation,
        dn,
        feature_group_count=c,
        preferred_element_type=preferred_element_type,
    )


def conv_general_dilated_local(
    lhs,
    rhs,
    window_strides: Sequence[int],
    padding,
    filter_shape: Sequence[int],
    lhs_dilation=None,
    rhs_dilation=None,
    dimension_numbers=None,
    precision=None,
):
    """Unshared convolution: a separate kernel per output position. rhs's spatial dims are the
    output's; its I dim holds (channel, filter taps) flattened as the patches' feature dim."""
    x, w = asarray_any(lhs), asarray_any(rhs)
    if w.ndim != x.ndim:
        raise TypeError(f"conv_general_dilated_local needs lhs and rhs of one rank, got {x.shape} and {w.shape}")
    patches = conv_general_dilated_patches(
        x, filter_shape, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers
    )
    dn = conv_dimension_numbers(x.shape, w.shape, dimension_numbers)
    p_sp, w_sp = tuple(dn.out_spec[2:]), tuple(dn.rhs_spec[2:])
    if tuple(patches.shape[a] for a in p_sp) != tuple(w.shape[a] for a in w_sp):
        raise ValueError(
            f"conv_general_dilated_local: rhs spatial dims {tuple(w.shape[a] for a in w_sp)} must equal the "
            f"output's {tuple(patches.shape[a] for a in p_sp)}"
        )
    if patches.shape[dn.out_spec[1]] != w.shape[dn.rhs_spec[1]]:
        raise ValueError(
            f"conv_general_dilated_local: rhs I dim is {w.shape[dn.rhs_spec[1]]}, expected channels x filter "
            f"taps = {patches.shape[dn.out_spec[1]]}"
        )
    # batch over output positions, contract the (channel, tap) dim: (spatial..., N, O)
    y = dot_general(patches, w, (((dn.out_spec[1],), (dn.rhs_spec[1],)), (p_sp, w_sp)))
    k = len(p_sp)
    canon = transpose(y, (k, k + 1, *range(k)))  # N, O, spatial...
    return transpose(canon, tuple(int(i) for i in np.argsort(dn.out_spec)))
