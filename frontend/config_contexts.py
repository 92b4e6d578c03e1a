"""JAX's config context managers (irjax.default_matmul_precision, numpy_rank_promotion, ...).

Each sets its irjax.config flag for the body and restores it after; a value irjax cannot honour
raises NotImplementedError (from config.update, or here for flags config does not hold).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from . import config

__all__ = [
    "check_tracer_leaks",
    "checking_leaks",
    "debug_infs",
    "debug_key_reuse",
    "debug_nans",
    "default_matmul_precision",
    "default_prng_impl",
    "enable_checks",
    "explain_cache_misses",
    "log_compiles",
    "no_tracing",
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


def log_compiles(value: bool = True):
    """Print one line per IREE compile in the body (a compile-cache hit compiles nothing)."""
    return _flag("jax_log_compiles", value)


def explain_cache_misses(value: bool = True):
    """Log (logger 'irjax', WARNING) why each jit trace in the body missed the trace cache."""
    return _flag("jax_explain_cache_misses", value)


def check_tracer_leaks(value: bool = True):
    """jit raises when a tracer outlives its trace (stored in a global, a closure, ...)."""
    return _flag("jax_check_tracer_leaks", value)


def checking_leaks():
    """check_tracer_leaks(True), JAX's older spelling."""
    return check_tracer_leaks(True)


def enable_checks(value: bool = True):
    """Verify the jx IR of every new jit trace in the body (a malformed one raises)."""
    return _flag("jax_enable_checks", value)


def no_tracing(value: bool = True):
    """A jit cache miss (a new trace) in the body raises RuntimeError; eager ops are not jit traces here."""
    return _flag("jax_no_tracing", value)


def debug_key_reuse(value: bool = True):
    """Only False is supported (irjax.random does not track which keys were consumed)."""
    return _flag("jax_debug_key_reuse", value)


def default_prng_impl(value):
    """Only 'threefry2x32' is implemented; other names raise NotImplementedError."""
    return _flag("jax_default_prng_impl", value)


def numpy_dtype_promotion(value):
    """'standard' (irjax's promotion lattice, JAX's) is supported; 'strict' is not."""
    return _flag("jax_numpy_dtype_promotion", value)


def _guard(name: str):
    def guard(value):
        return _flag(f"jax_{name}", value)

    guard.__name__ = name
    guard.__doc__ = f"JAX's {name}: only 'allow' (no transfer logging or blocking) is supported."
    return guard


transfer_guard = _guard("transfer_guard")
transfer_guard_host_to_device = _guard("transfer_guard_host_to_device")
transfer_guard_device_to_device = _guard("transfer_guard_device_to_device")
transfer_guard_device_to_host = _guard("transfer_guard_device_to_host")
