"""stax convolution and pooling layers (GeneralConv, ConvTranspose, MaxPool, AvgPool, ...),
built on lax.conv_general_dilated / conv_transpose / reduce_window; re-exported by stax.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .. import lax, random
from .. import numpy as jnp
from ..nn.initializers import glorot_normal, normal

Layer = tuple[Callable[..., Any], Callable[..., Any]]

__all__ = [
    "GeneralConv",
    "Conv",
    "GeneralConvTranspose",
    "Conv1DTranspose",
    "ConvTranspose",
    "MaxPool",
    "SumPool",
    "AvgPool",
]


def _specs(dimension_numbers) -> tuple[str, str, str]:
    if (
        not isinstance(dimension_numbers, (tuple, list))
        or len(dimension_numbers) != 3
        or not all(isinstance(s, str) for s in dimension_numbers)
    ):
        raise TypeError(
            "stax conv layers expect dimension_numbers as three layout strings "
            f"(lhs, rhs, out), e.g. ('NHWC', 'HWIO', 'NHWC'); got {dimension_numbers!r}"
        )
    return tuple(dimension_numbers)


def _stride_dim(d, k, s):
    # JAX clamps at 0, so an unknown (-1) batch size stays -1 only where it is passed through
    return max((d - k) // s + 1, 0)


def _canonical(shape, spec: tuple) -> np.ndarray:
    return np.take(np.asarray(shape, dtype=np.int64), spec)


def _conv_shape(input_shape, kernel_shape, strides, padding, dimension_numbers) -> tuple:
    """Output shape of conv_general_dilated (JAX's lax.conv_general_shape_tuple)."""
    dn = lax.conv_dimension_numbers(input_shape, kernel_shape, dimension_numbers)
    lhs, rhs = _canonical(input_shape, dn.lhs_spec), _canonical(kernel_shape, dn.rhs_spec)
    pads = (
        lax.padtype_to_pads(lhs[2:], rhs[2:], strides, padding)
        if isinstance(padding, str)
        else [tuple(p) for p in padding]
    )
    if len(pads) != len(lhs) - 2:
        raise TypeError(f"Wrong number of explicit pads for convolution: expected {len(lhs) - 2}, got {len(pads)}.")
    padded = [d + lo + hi for d, (lo, hi) in zip(lhs[2:], pads)]
    out = np.array([lhs[0], rhs[0]] + [_stride_dim(d, k, s) for d, k, s in zip(padded, rhs[2:], strides)])
    return tuple(np.take(out, np.argsort(dn.out_spec)))


def _conv_transpose_pad(k: int, s: int, padding: str) -> tuple[int, int]:
    if padding == "SAME":
        total = k + s - 2
        lo = k - 1 if s > k - 1 else -(-total // 2)
    elif padding == "VALID":
        total = k + s - 2 + max(k - s, 0)
        lo = k - 1
    else:
        raise ValueError(f"Invalid padding mode: {padding}")
    return lo, total - lo


def _conv_transpose_shape(input_shape, kernel_shape, strides, padding, dimension_numbers) -> tuple:
    """Output shape of conv_transpose (JAX's lax.conv_transpose_shape_tuple)."""
    dn = lax.conv_dimension_numbers(input_shape, kernel_shape, dimension_numbers)
    lhs, rhs = _canonical(input_shape, dn.lhs_spec), _canonical(kernel_shape, dn.rhs_spec)
    if isinstance(padding, str):
        padding = [_conv_transpose_pad(int(k), s, padding) for k, s in zip(rhs[2:], strides)]
    space = [(i - 1) * s - k + 2 + sum(p) for i, k, s, p in zip(lhs[2:], rhs[2:], strides, padding)]
    out = np.array([lhs[0], rhs[0]] + space)
    return tuple(np.take(out, np.argsort(dn.out_spec)))


def _kernel_shape(specs, out_chan, filter_shape, input_shape) -> list:
    lhs_spec, rhs_spec, _ = specs
    spatial = iter(filter_shape)
    return [out_chan if c == "O" else input_shape[lhs_spec.index("C")] if c == "I" else next(spatial) for c in rhs_spec]


def _conv_layer(
    shape_rule, apply_rule, dimension_numbers, out_chan, filter_shape, strides, padding, W_init, b_init
) -> Layer:
    specs = _specs(dimension_numbers)
    strides = strides or (1,) * len(filter_shape)
    W_init = W_init or glorot_normal(specs[1].index("I"), specs[1].index("O"))

    def init_fun(rng, input_shape):
        kernel_shape = _kernel_shape(specs, out_chan, filter_shape, input_shape)
        output_shape = shape_rule(input_shape, kernel_shape, strides, padding, specs)
        bias_shape = [out_chan if c == "C" else 1 for c in specs[2]]
        k1, k2 = random.split(rng)
        return output_shape, (W_init(k1, kernel_shape), b_init(k2, bias_shape))

    def apply_fun(params, inputs, **kwargs):
        W, b = params
        return apply_rule(inputs, W, strides, padding, specs) + b

    return init_fun, apply_fun


def _conv_apply(inputs, W, strides, padding, specs):
    one = (1,) * len(strides)
    return lax.conv_general_dilated(inputs, W, strides, padding, one, one, dimension_numbers=specs)


def _conv_transpose_apply(inputs, W, strides, padding, specs):
    return lax.conv_transpose(inputs, W, strides, padding, dimension_numbers=specs)


def GeneralConv(
    dimension_numbers: Sequence[str],
    out_chan: int,
    filter_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    padding: Any = "VALID",
    W_init: Callable | None = None,
    b_init: Callable = normal(1e-6),
) -> Layer:
    """Convolution with layouts (lhs, rhs, out), e.g. ('NHWC', 'HWIO', 'NHWC'), plus a bias."""
    return _conv_layer(
        _conv_shape, _conv_apply, dimension_numbers, out_chan, filter_shape, strides, padding, W_init, b_init
    )


Conv = functools.partial(GeneralConv, ("NHWC", "HWIO", "NHWC"))


def GeneralConvTranspose(
    dimension_numbers: Sequence[str],
    out_chan: int,
    filter_shape: Sequence[int],
    strides: Sequence[int] | None = None,
    padding: Any = "VALID",
    W_init: Callable | None = None,
    b_init: Callable = normal(1e-6),
) -> Layer:
    """Transposed convolution with layouts (lhs, rhs, out), plus a bias."""
    return _conv_layer(
        _conv_transpose_shape,
        _conv_transpose_apply,
        dimension_numbers,
        out_chan,
        filter_shape,
        strides,
        padding,
        W_init,
        b_init,
    )


Conv1DTranspose = functools.partial(GeneralConvTranspose, ("NHC", "HIO", "NHC"))
ConvTranspose = functools.partial(GeneralConvTranspose, ("NHWC", "HWIO", "NHWC"))


def _non_spatial_axes(spec: str | None, ndim: int) -> tuple[int, int]:
    # without a spec, pooling assumes N first and C last (NHWC-like)
    return (0, ndim - 1) if spec is None else (spec.index("N"), spec.index("C"))


def _pooling_layer(reducer: Callable, init_val: float, rescaler: Callable | None = None) -> Callable[..., Layer]:
    def PoolingLayer(
        window_shape: Sequence[int],
        strides: Sequence[int] | None = None,
        padding: str = "VALID",
        spec: str | None = None,
    ) -> Layer:
        """Pooling over the spatial axes of spec (default: all axes but the first and last)."""
        window_shape = tuple(window_shape)
        strides = tuple(strides or (1,) * len(window_shape))
        rescale = rescaler(window_shape, strides, padding) if rescaler else None
        dims, steps = window_shape, strides
        for i in sorted(_non_spatial_axes(spec, len(window_shape) + 2)):
            dims, steps = dims[:i] + (1,) + dims[i:], steps[:i] + (1,) + steps[i:]

        def init_fun(rng, input_shape):
            pads = lax.padtype_to_pads(input_shape, dims, steps, padding)
            return tuple(
                _stride_dim(d + lo + hi, k, s) for d, (lo, hi), k, s in zip(input_shape, pads, dims, steps)
            ), ()

        def apply_fun(params, inputs, **kwargs):
            out = lax.reduce_window(inputs, init_val, reducer, dims, steps, padding)
            return rescale(out, inputs, spec) if rescale else out

        return init_fun, apply_fun

    return PoolingLayer


MaxPool = _pooling_layer(lax.max, -jnp.inf)
SumPool = _pooling_layer(lax.add, 0.0)


def _normalize_by_window_size(dims: tuple, strides: tuple, padding: str) -> Callable:
    """Divides window sums by the number of input elements each window covers (padding
    cells are not counted, so 'SAME' borders average over fewer elements)."""

    def rescale(outputs, inputs, spec):
        non_spatial = _non_spatial_axes(spec, inputs.ndim)
        spatial_shape = tuple(d for i, d in enumerate(inputs.shape) if i not in non_spatial)
        counts = lax.reduce_window(jnp.ones(spatial_shape, dtype=inputs.dtype), 0.0, lax.add, dims, strides, padding)
        for i in sorted(non_spatial):
            counts = jnp.expand_dims(counts, i)
        return outputs / counts

    return rescale


AvgPool = _pooling_layer(lax.add, 0.0, _normalize_by_window_size)
