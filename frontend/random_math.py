"""XLA:CPU's log, log1p, erf and erf_inv on any float dtype, for irjax.random's samplers.

float32 uses irjax.xla_math's bit-exact emulations (with the primitives' derivatives); narrower
floats run them in float32 and round once, as XLA:CPU does; other dtypes use the lax primitives.
"""

from __future__ import annotations

import numpy as np

from . import lax, xla_math

F32 = np.dtype(np.float32)


def math_fn(name: str, x):
    """lax.<name>(x) with XLA:CPU's float32 algorithm where irjax.xla_math has one."""
    dt = np.dtype(x.dtype)
    if name not in xla_math.XLA_F32 or not (dt.kind == "f" or dt.kind == "V"):
        return getattr(lax, name)(x)
    if dt == F32:
        return xla_math.exact_value_primitive_gradient(name, xla_math.XLA_F32[name], x)
    if dt.itemsize < 4:
        return lax.convert_element_type(math_fn(name, lax.convert_element_type(x, F32)), dt)
    return getattr(lax, name)(x)


def log(x):
    return math_fn("log", x)


def log1p(x):
    return math_fn("log1p", x)


def erf(x):
    return math_fn("erf", x)


def erf_inv(x):
    return math_fn("erf_inv", x)
