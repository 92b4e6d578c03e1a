"""JAX's scalar types (jnp.float32, jnp.int8, ...): dtype-like classes whose call makes a 0-d or
n-d irjax Array, as JAX represents scalars as zero-dimensional arrays."""

from __future__ import annotations

import warnings
from typing import Any

import ml_dtypes
import numpy as np
from irjax import dtypes
from irjax.operands import asarray

__all__ = [
    "bfloat16",
    "bool_",
    "complex64",
    "complex128",
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
]


class ScalarMeta(type):
    """Metaclass of the scalar types: each class stands for one dtype (``cls.dtype``).

    It hashes and compares as NumPy's scalar type of that dtype, so ``np.dtype(jnp.float32)``,
    ``jnp.float32 == np.float32`` and dict lookups keyed by NumPy types keep working."""

    dtype: np.dtype

    @property
    def __numpy_dtype__(cls) -> np.dtype:  # NumPy >= 2.4 asks this when given a non-NumPy type
        return cls.dtype

    def __hash__(cls) -> int:
        return hash(cls.dtype.type)

    def __eq__(cls, other: Any) -> bool:
        return cls is other or cls.dtype.type == other

    def __ne__(cls, other: Any) -> bool:
        return not cls == other

    def __instancecheck__(cls, instance: Any) -> bool:
        # isinstance(np.float32(1), jnp.float32) holds; irjax Arrays are jnp.ndarray, not these
        return isinstance(instance, cls.dtype.type)

    def __call__(cls, x: Any) -> Any:
        if x is None:
            raise ValueError(f"None is not a valid value for jnp.{cls.__name__}")
        if isinstance(x, (str, bytes, np.str_, np.bytes_)):
            x = np.asarray(x, cls.dtype)  # NumPy parses the text ('3' -> 3), as JAX does
        target = dtypes.canonicalize_dtype(cls.dtype)
        if target != cls.dtype:
            warnings.warn(
                f"Explicitly requested dtype {cls.dtype} requested in {cls.__name__} is not available, "
                f"and will be truncated to dtype {target}. To enable more dtypes, set the "
                "jax_enable_x64 configuration option or the JAX_ENABLE_X64 shell environment variable.",
                UserWarning,
                stacklevel=2,
            )
        return asarray(x, dtype=target)


def scalar_type(name: str, dtype: Any) -> ScalarMeta:
    """The scalar type class ``irjax.numpy.<name>`` for ``dtype``."""
    dt = np.dtype(dtype)
    doc = (
        f"An irjax scalar constructor of type {dt.name}.\n\n"
        "NumPy has a scalar type per dtype; irjax, like JAX, represents scalars as 0-d arrays,\n"
        f"so calling it returns ``irjax.numpy.asarray(x, dtype={dt.name})``."
    )
    cls = ScalarMeta(name, (), {"dtype": dt, "__module__": "irjax.numpy", "__doc__": doc})
    cls.__qualname__ = name
    return cls


# one class per dtype; the NumPy-style aliases (single, double, int_, ...) are the same objects
bool_ = scalar_type("bool", np.bool_)
int8, int16, int32, int64 = (scalar_type(f"int{b}", f"int{b}") for b in (8, 16, 32, 64))
uint8, uint16, uint32, uint64 = (scalar_type(f"uint{b}", f"uint{b}") for b in (8, 16, 32, 64))
float16, float32, float64 = (scalar_type(f"float{b}", f"float{b}") for b in (16, 32, 64))
complex64, complex128 = scalar_type("complex64", "complex64"), scalar_type("complex128", "complex128")
bfloat16 = scalar_type("bfloat16", ml_dtypes.bfloat16)
