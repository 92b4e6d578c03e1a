"""ml_dtypes' narrow types under JAX's jnp names (int4, float8_e4m3fn, ...).

They name dtypes (jnp.dtype, finfo/iinfo); irjax cannot store or compute with them, and
creating or converting an array to one raises a TypeError that names the dtype.
"""

from __future__ import annotations

import ml_dtypes

_NAMES = (
    "int1 uint1 int2 uint2 int4 uint4 float4_e2m1fn float6_e2m3fn float6_e3m2fn float8_e3m4 float8_e4m3 "
    "float8_e4m3b11fnuz float8_e4m3fn float8_e4m3fnuz float8_e5m2 float8_e5m2fnuz float8_e8m0fnu"
).split()

__all__ = [n for n in _NAMES if hasattr(ml_dtypes, n)]
globals().update({n: getattr(ml_dtypes, n) for n in __all__})
