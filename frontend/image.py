"""irjax.image (`jax.image`): resize and scale_and_translate.

Each resized axis is one matrix product with a weight matrix (input size x output size): output
sample j sits at input coordinate (j + 0.5 - translation) / scale - 0.5 (half-pixel centres),
and takes kernel((i - that) / kernel_scale) of input pixel i, the row normalized to sum to one.
Downsampling with antialias widens the kernel by 1 / scale (kernel_scale), so every input pixel
contributes. Samples that fall outside the input (below -0.5 or above size - 0.5) are zero, as
JAX's: there is no edge extension. 'nearest' picks pixel floor((j + 0.5) * in / out) instead;
AREA weighs input pixels by their overlap with the output pixel's span; CUBIC_PYTORCH without
antialias is PyTorch's bicubic (a = -0.75, edge padding), with it CUBIC.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence

import numpy as np

from . import dtypes
from . import numpy as jnp
from .core import Tracer

__all__ = ["ResizeMethod", "resize", "scale_and_translate"]


class ResizeMethod(enum.Enum):
    """Image resize methods (the strings resize accepts name them too)."""

    NEAREST = 0
    LINEAR = 1
    LANCZOS3 = 2
    LANCZOS5 = 3
    CUBIC = 4
    CUBIC_PYTORCH = 5
    AREA = 6

    @staticmethod
    def from_string(s: str) -> ResizeMethod:
        method = _NAMES.get(s)
        if method is None:
            raise ValueError(f'Unknown resize method "{s}"')
        return method


_NAMES = {
    "nearest": ResizeMethod.NEAREST,
    "linear": ResizeMethod.LINEAR,
    "bilinear": ResizeMethod.LINEAR,
    "trilinear": ResizeMethod.LINEAR,
    "triangle": ResizeMethod.LINEAR,
    "lanczos3": ResizeMethod.LANCZOS3,
    "lanczos5": ResizeMethod.LANCZOS5,
    "cubic": ResizeMethod.CUBIC,
    "bicubic": ResizeMethod.CUBIC,
    "tricubic": ResizeMethod.CUBIC,
    "cubic-pytorch": ResizeMethod.CUBIC_PYTORCH,
    "bicubic-pytorch": ResizeMethod.CUBIC_PYTORCH,
    "area": ResizeMethod.AREA,
}


def _method(method) -> ResizeMethod:
    if isinstance(method, ResizeMethod):
        return method
    if isinstance(method, str):
        return ResizeMethod.from_string(method)
    raise TypeError(f"resize method must be a ResizeMethod or one of {sorted(_NAMES)}, got {method!r}")


# ---- kernels: weight as a function of the distance |x| in (scaled) pixels --------------------------


def _triangle(xp, x):
    return xp.maximum(0.0, 1.0 - x)


def _keys_cubic(a: float) -> Callable:
    """Keys' cubic convolution kernel with parameter a (-0.5: Keys; -0.75: PyTorch's bicubic)."""

    def kernel(xp, x):
        near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
        far = ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
        return xp.where(x < 1.0, near, xp.where(x < 2.0, far, 0.0))

    return kernel


def _lanczos(radius: float) -> Callable:
    def kernel(xp, x):
        # sinc(x) sinc(x / radius) inside the radius (sinc(0) = 1)
        y = radius * xp.sin(np.pi * x) * xp.sin(np.pi * x / radius)
        safe = xp.where(x > 1e-3, x, 1.0)
        return xp.where(x > radius, 0.0, xp.where(x > 1e-3, y / (np.pi**2 * safe * safe), 1.0))

    return kernel


_KERNELS = {
    ResizeMethod.LINEAR: _triangle,
    ResizeMethod.CUBIC: _keys_cubic(-0.5),
    ResizeMethod.LANCZOS3: _lanczos(3.0),
    ResizeMethod.LANCZOS5: _lanczos(5.0),
}


def _weights(xp, method, in_size: int, out_size: int, scale, translation, antialias: bool, dtype):
    """The (in_size, out_size) weight matrix of one axis (module docstring)."""
    if method == ResizeMethod.AREA:
        return _area_weights(xp, in_size, out_size, scale, translation, dtype)
    if method == ResizeMethod.CUBIC_PYTORCH and not antialias:
        return _pytorch_cubic_weights(xp, in_size, out_size, scale, translation, dtype)
    kernel = _KERNELS[ResizeMethod.CUBIC if method == ResizeMethod.CUBIC_PYTORCH else method]
    inv = 1.0 / scale
    kernel_scale = xp.maximum(inv, 1.0) if antialias else 1.0
    sample = (xp.arange(out_size, dtype=dtype) + 0.5 - translation) * inv - 0.5
    dist = xp.abs(sample[None, :] - xp.arange(in_size, dtype=dtype)[:, None]) / kernel_scale
    w = _normalized(xp, kernel(xp, dist).astype(dtype))
    inside = (sample >= -0.5) & (sample <= in_size - 0.5)
    return xp.where(inside[None, :], w, 0.0).astype(dtype)


def _normalized(xp, w):
    """Each column over its sum; a column that sums to (nearly) nothing is all zero."""
    total = xp.sum(w, axis=0, keepdims=True)
    eps = 1000.0 * float(np.finfo(np.float32).eps)
    return xp.where(xp.abs(total) > eps, w / xp.where(total != 0, total, 1.0), 0.0)


def _area_weights(xp, in_size, out_size, scale, translation, dtype):
    """AREA (TensorFlow's): output pixel j covers input span [(j - t) / s, (j + 1 - t) / s); each
    input pixel weighs the length it shares with that span, over the length inside the input;
    a span whose centre lies outside the input is zero (as the other kernels' samples)."""
    j = xp.arange(out_size, dtype=dtype)[None, :]
    i = xp.arange(in_size, dtype=dtype)[:, None]
    lo, hi = (j - translation) / scale, (j + 1.0 - translation) / scale
    overlap = xp.maximum(0.0, xp.minimum(hi, i + 1.0) - xp.maximum(lo, i))
    w = _normalized(xp, overlap)  # (over the span's length inside the input)
    centre = (lo + hi) / 2.0 - 0.5
    return xp.where((centre >= -0.5) & (centre <= in_size - 0.5), w, 0.0).astype(dtype)


def _pytorch_cubic_weights(xp, in_size, out_size, scale, translation, dtype):
    """PyTorch's bicubic without antialias: Keys' kernel with a = -0.75 over the 4 pixels around
    each sample, indices clamped to the edge (edge padding)."""
    kernel = _keys_cubic(-0.75)
    sample = (xp.arange(out_size, dtype=dtype) + 0.5 - translation) / scale - 0.5
    base = xp.floor(sample)
    rows = xp.arange(in_size)[:, None]
    w = xp.zeros((in_size, out_size), dtype)
    for k in (-1, 0, 1, 2):
        tap = base + k
        idx = xp.clip(tap, 0, in_size - 1).astype(np.int32)
        w = w + xp.where(rows == idx[None, :], kernel(xp, xp.abs(sample - tap))[None, :], 0.0)
    return w.astype(dtype)


def _apply(x, axis: int, w, precision):
    """Contract axis of x with the weight matrix's input axis, the result back in place."""
    out = jnp.tensordot(x, w, axes=((axis,), (0,)), precision=precision)
    return jnp.moveaxis(out, -1, axis)


def _compute_dtype(image):
    dt = dtypes.dtype_of(image)
    return dt if jnp.issubdtype(dt, jnp.inexact) else np.dtype(np.float32)


def _check_shape(image, shape) -> tuple[int, ...]:
    shape = tuple(int(s) for s in shape)
    if len(shape) != np.ndim(image):
        raise ValueError(
            f"shape must have length equal to the number of dimensions of x;  {shape} vs {tuple(np.shape(image))}"
        )
    if any(s < 0 for s in shape):
        raise ValueError(f"resize shape must be non-negative, got {shape}")
    return shape


def _concrete(*values) -> bool:
    return not any(isinstance(v, Tracer) for v in values)


def scale_and_translate(
    image,
    shape: Sequence[int],
    spatial_dims: Sequence[int],
    scale,
    translation,
    method="linear",
    antialias: bool = True,
    precision=None,
):
    """Resample image to shape along spatial_dims: output pixel j of axis spatial_dims[k] samples
    input coordinate (j + 0.5 - translation[k]) / scale[k] - 0.5 with the method's kernel."""
    method = _method(method)
    if method == ResizeMethod.NEAREST:
        raise ValueError("Nearest neighbor resampling is not currently supported for scale_and_translate.")
    image = jnp.asarray(image)
    shape = _check_shape(image, shape)
    spatial_dims = tuple(int(d) % max(image.ndim, 1) for d in spatial_dims)
    dt = _compute_dtype(image)
    x = image.astype(dt)
    scale = jnp.asarray(scale, dt) if not _concrete(scale) else np.asarray(scale, np.float64)
    translation = jnp.asarray(translation, dt) if not _concrete(translation) else np.asarray(translation, np.float64)
    if np.shape(scale) != (len(spatial_dims),) or np.shape(translation) != (len(spatial_dims),):
        raise ValueError(
            f"scale and translation need one entry per spatial dimension ({len(spatial_dims)}), got shapes "
            f"{np.shape(scale)} and {np.shape(translation)}"
        )
    for k, d in enumerate(spatial_dims):
        s, t = scale[k], translation[k]
        if method == ResizeMethod.CUBIC_PYTORCH and not antialias:
            _check_pytorch_samples(image.shape[d], shape[d], s, t)
        if _concrete(s, t):  # (a constant matrix, computed once on the host)
            w = _weights(np, method, image.shape[d], shape[d], s, t, antialias, np.float64).astype(dt)
        else:
            w = _weights(jnp, method, image.shape[d], shape[d], s, t, antialias, dt)
        x = _apply(x, d, w, precision)
    return x


def _check_pytorch_samples(in_size: int, out_size: int, scale, translation) -> None:
    """CUBIC_PYTORCH without antialias is checked against JAX for samples inside the input
    ([-0.5, size - 0.5], always so for resize); JAX zeroes some samples beyond the edge by a rule
    irjax does not reproduce, so those are refused rather than answered differently."""
    if not _concrete(scale, translation):
        raise NotImplementedError(
            "scale_and_translate with CUBIC_PYTORCH and antialias=False needs a concrete scale and translation in irjax"
        )
    sample = (np.arange(out_size) + 0.5 - float(translation)) / float(scale) - 0.5
    if out_size and (sample.min() < -0.5 or sample.max() > in_size - 0.5):
        raise NotImplementedError(
            "scale_and_translate with CUBIC_PYTORCH and antialias=False samples outside the input here; "
            "irjax supports it only where every sample lies inside (as resize's do)"
        )


def _resize_nearest(x, shape):
    for axis, (n, m) in enumerate(zip(x.shape, shape)):
        if n == m:
            continue
        idx = np.floor((np.arange(m) + 0.5) * n / m).astype(np.int32)
        x = jnp.take(x, np.minimum(idx, n - 1), axis=axis)
    return x


def resize(image, shape: Sequence[int], method, antialias: bool = True, precision=None):
    """Resize image to shape (same rank): each axis whose size changes is resampled with method
    ('nearest', 'linear', 'cubic', 'lanczos3', 'lanczos5' or a ResizeMethod), half-pixel
    centred; antialias widens the kernel when downsampling (not for 'nearest')."""
    method = _method(method)
    image = jnp.asarray(image)
    shape = _check_shape(image, shape)
    if shape == image.shape:
        return image if method == ResizeMethod.NEAREST else image.astype(_compute_dtype(image))
    if method == ResizeMethod.NEAREST:
        if 0 in image.shape:
            raise ValueError(f"cannot resize an empty image of shape {image.shape} to {shape}")
        return _resize_nearest(image, shape)
    dims = [d for d in range(image.ndim) if image.shape[d] != shape[d]]
    scale = [shape[d] / image.shape[d] if image.shape[d] else 1.0 for d in dims]
    return scale_and_translate(image, shape, dims, scale, [0.0] * len(dims), method, antialias, precision)
