"""irjax.typing (`jax.typing`): the static annotations ArrayLike and DTypeLike."""

from __future__ import annotations

from typing import Any, Protocol, Union

import numpy as np

from .basearray import Array

__all__ = ["ArrayLike", "DTypeLike"]


class SupportsDType(Protocol):
    """Anything with a .dtype: irjax's scalar types (jnp.float32), NumPy arrays, ..."""

    @property
    def dtype(self) -> np.dtype: ...


# what irjax.numpy functions accept as an array argument: Arrays, NumPy arrays and scalars
ArrayLike = Union[Array, np.ndarray, np.bool_, np.number, bool, int, float, complex]  # noqa: UP007
# what they accept as dtype=: a name, a type (float, jnp.float32, np.int8), a dtype, or .dtype-havers
DTypeLike = Union[str, type[Any], np.dtype, SupportsDType]  # noqa: UP007
