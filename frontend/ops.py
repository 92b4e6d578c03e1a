"""irjax.ops: segment reductions (JAX's jax.ops): data rows combined by their segment id."""

from __future__ import annotations

import numpy as np

from . import dtypes
from . import numpy as jnp
from .core import Tracer
from .errors import ConcretizationTypeError

__all__ = ["segment_max", "segment_min", "segment_prod", "segment_sum"]


def _segments(name, data, segment_ids, num_segments, identity, update, mode):
    data = jnp.asarray(data)
    segment_ids = jnp.asarray(segment_ids)
    if not dtypes.issubdtype(segment_ids.dtype, np.integer):
        raise TypeError(f"{name}: segment_ids must have an integer dtype, got {segment_ids.dtype}")
    if data.shape[: segment_ids.ndim] != segment_ids.shape:
        raise ValueError(
            f"{name}: segment_ids of shape {segment_ids.shape} must match the leading dimensions of data {data.shape}"
        )
    if mode not in (None, "drop", "fill", "clip", "promise_in_bounds"):
        raise ValueError(f"{name}: unknown mode {mode!r}")
    if num_segments is None:
        if isinstance(segment_ids, Tracer):
            raise ConcretizationTypeError(
                f"{name}: num_segments must be given when segment_ids is traced (it sets the output shape)"
            )
        num_segments = int(np.max(np.asarray(segment_ids))) + 1 if segment_ids.size else 0
    num_segments = int(num_segments)
    out = jnp.full((num_segments,) + data.shape[segment_ids.ndim :], identity(data.dtype), data.dtype)
    if mode == "clip":
        ids = jnp.clip(segment_ids, 0, max(num_segments - 1, 0))
    else:  # out-of-range ids (negative ones too) are dropped, as by XLA's FILL_OR_DROP scatter
        ids = jnp.where(segment_ids < 0, num_segments, segment_ids)
    return update(out.at[ids], data)


def _lowest(dtype):
    return -np.inf if dtypes.issubdtype(dtype, np.inexact) else (False if dtype == np.bool_ else np.iinfo(dtype).min)


def _highest(dtype):
    return np.inf if dtypes.issubdtype(dtype, np.inexact) else (True if dtype == np.bool_ else np.iinfo(dtype).max)


def segment_sum(data, segment_ids, num_segments=None, indices_are_sorted=False, unique_indices=False,
                bucket_size=None, mode=None):  # fmt: skip
    """out[s] = sum of data[i] over the i with segment_ids[i] == s (bucket_size does not change results)."""
    return _segments(
        "segment_sum", data, segment_ids, num_segments, lambda d: 0, lambda at, d: at.add(d, mode="drop"), mode
    )


def segment_prod(data, segment_ids, num_segments=None, indices_are_sorted=False, unique_indices=False,
                 bucket_size=None, mode=None):  # fmt: skip
    """out[s] = product of data[i] over the i with segment_ids[i] == s (1 for empty segments)."""
    return _segments(
        "segment_prod", data, segment_ids, num_segments, lambda d: 1, lambda at, d: at.multiply(d, mode="drop"), mode
    )


def segment_max(data, segment_ids, num_segments=None, indices_are_sorted=False, unique_indices=False,
                bucket_size=None, mode=None):  # fmt: skip
    """out[s] = max of data[i] over the i with segment_ids[i] == s (the dtype's lowest for empty segments)."""
    return _segments(
        "segment_max", data, segment_ids, num_segments, _lowest, lambda at, d: at.max(d, mode="drop"), mode
    )


def segment_min(data, segment_ids, num_segments=None, indices_are_sorted=False, unique_indices=False,
                bucket_size=None, mode=None):  # fmt: skip
    """out[s] = min of data[i] over the i with segment_ids[i] == s (the dtype's highest for empty segments)."""
    return _segments(
        "segment_min", data, segment_ids, num_segments, _highest, lambda at, d: at.min(d, mode="drop"), mode
    )
