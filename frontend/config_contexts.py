"""JAX's config context managers (irjax.default_matmul_precision, numpy_rank_promotion, ...).

Each sets its irjax.config flag for the body and restores it after; a value irjax cannot honour
raises NotImplementedError (from config.update, or here for flags config does not hold).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from . import config

__all__ = [
    "debug_infs",
    "debug_nans",
    "default_matmul_precision",
    "numpy_dtype_promotion",
    "numpy_rank_promotion",
    "transfer_guard",
    "transfer_guard_device_to_device",
    "transfer_guard_device_to_host",
    "transfer_guard_host_to_device",
]


@contextlib.contextmanager
def _flag(name: str, value) -> Iterator[None]:
    old = config.read(name)
    config.update(name, value)
    try:
        yield
    finally:
        config.update(name, old)


def default_matmul_precision(value):
    """Matmul precision for the body (IREE's CPU matmuls are float32 at every setting, as XLA's CPU)."""
    return _flag("jax_default_matmul_precision", value)


def numpy_rank_promotion(value):
    """Only 'allow' is supported; 'warn' and 'raise' raise NotImplementedError."""
    return _flag("jax_numpy_rank_promotion", value)


def debug_nans(value: bool = True):
    """Only False is supported (NaN checking of outputs is not implemented)."""
    return _flag("jax_debug_nans", value)


def debug_infs(value: bool = True):
    """Only False is supported (Inf checking of outputs is not implemented)."""
    return _flag("jax_debug_infs", value)


@contextlib.contextmanager
def numpy_dtype_promotion(value) -> Iterator[None]:
    """'standard' (irjax's promotion lattice, JAX's) is supported; 'strict' is not."""
    if value not in ("standard", "strict"):
        raise ValueError(f"jax_numpy_dtype_promotion must be 'standard' or 'strict', got {value!r}")
    if value == "strict":
        raise NotImplementedError("irjax does not support jax_numpy_dtype_promotion='strict' yet (only 'standard')")
    yield


_GUARD_LEVELS = ("allow", "log", "disallow", "log_explicit", "disallow_explicit")


def _guard(name: str):
    @contextlib.contextmanager
    def guard(value) -> Iterator[None]:
        if value not in _GUARD_LEVELS:
            raise ValueError(f"{name} must be one of {_GUARD_LEVELS}, got {value!r}")
        if value != "allow":  # irjax neither logs nor blocks transfers: refusing beats ignoring
            raise NotImplementedError(f"irjax does not support {name}({value!r}) yet (only 'allow')")
        yield

    guard.__name__ = name
    guard.__doc__ = f"JAX's {name}: only 'allow' (no transfer logging or blocking) is supported."
    return guard


transfer_guard = _guard("transfer_guard")
transfer_guard_host_to_device = _guard("transfer_guard_host_to_device")
transfer_guard_device_to_device = _guard("transfer_guard_device_to_device")
transfer_guard_device_to_host = _guard("transfer_guard_device_to_host")
