"""irjax.dlpack (`jax.dlpack`): from_dlpack and is_supported_dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .numpy.array_api import from_dlpack

__all__ = ["from_dlpack", "is_supported_dtype"]

# the dtypes DLPack exchanges with irjax (JAX's set: no narrow floats, no float0)
_SUPPORTED = frozenset(
    np.dtype(t)
    for t in (
        "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 complex64 complex128".split()
    )
) | {dtypes.bfloat16}


def is_supported_dtype(dtype: Any) -> bool:
    """Whether arrays of `dtype` can cross DLPack to or from irjax."""
    return np.dtype(dtype) in _SUPPORTED
