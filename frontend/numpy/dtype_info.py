"""jnp.finfo / jnp.iinfo: NumPy's, extended by ml_dtypes to bfloat16; arrays and dtype names name a dtype."""

from __future__ import annotations

from typing import Any

import numpy as np
from irjax import dtypes
from ml_dtypes import finfo as _finfo  # NumPy's finfo/iinfo, plus bfloat16 and the other ml_dtypes formats
from ml_dtypes import iinfo as _iinfo


def _dtype_arg(x: Any) -> Any:
    if hasattr(x, "dtype") and not isinstance(x, (np.dtype, type)):
        return np.dtype(x.dtype)
    if isinstance(x, str) and x == "bfloat16" and dtypes.bfloat16 is not None:
        return dtypes.bfloat16
    return x


def finfo(dtype: Any) -> np.finfo:
    """Machine limits of a floating dtype (float16, bfloat16, float32, ...), as ``jnp.finfo``."""
    return _finfo(_dtype_arg(dtype))


def iinfo(int_type: Any) -> np.iinfo:
    """Machine limits of an integer dtype, as ``jnp.iinfo``."""
    return _iinfo(_dtype_arg(int_type))
