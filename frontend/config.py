"""irjax.config (`jax.config`): `update`, `read`, flag attributes and `config_with_absl`.

A flag irjax cannot honour refuses the value that would need it (NotImplementedError), never
ignores it silently; unknown names raise AttributeError as in JAX.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

from irjax.runtime import compiler as _compiler
from irjax.runtime import device as _device

from . import device_api
from . import dtypes as _dtypes
from .core import _state as _trace_state
from .core import _TraceState

_PRECISIONS = (
    None,
    "default",
    "high",
    "highest",
    "bfloat16",
    "tensorfloat32",
    "float32",
    "fastest",
    "bfloat16_3x",
    "tensorfloat32_3x",
    "ANY_PRECISION",
)


def _refuse_true(name: str, why: str) -> Callable[[Any], Any]:
    def check(value):
        if bool(value):
            raise NotImplementedError(f"irjax does not support {name}=True yet: {why}")
        return False

    return check


# read by dispatch after each execution: outputs are checked for NaN / Inf while these are on
check_nans = False
check_infs = False
check_outputs = False  # either of them (one load on the hot path)


def _nonfinite(name: str) -> Callable[[Any], bool]:
    def check(value):
        global check_nans, check_infs, check_outputs
        v = _bool(name)(value)
        if name == "jax_debug_nans":
            check_nans = v
        else:
            check_infs = v
        check_outputs = check_nans or check_infs
        return v

    return check


def _x64(value):
    if not isinstance(value, (bool, int)) or value not in (0, 1):
        raise ValueError(f"jax_enable_x64 must be a bool, got {value!r}")
    _dtypes.set_x64(bool(value))
    return bool(value)


def _platforms(value):
    value = "" if value is None else str(value)
    current = os.environ.get("IRJAX_PLATFORMS", "")
    if value == current:
        return value or None
    if _device._env_default is not None:  # the default backend is already chosen
        raise RuntimeError(
            f"jax_platforms={value!r} must be set before the first computation picks the default "
            f"backend (already {_device._env_default.platform!r}); set IRJAX_PLATFORMS or call "
            "config.update first"
        )
    if value:
        os.environ["IRJAX_PLATFORMS"] = value
    else:
        os.environ.pop("IRJAX_PLATFORMS", None)
    return value or None


def _default_device(value):
    device_api.set_default_device(value)
    return value


def _precision(value):
    name = getattr(value, "name", value)
    if name not in _PRECISIONS and str(name).lower() not in _PRECISIONS:
        raise ValueError(f"jax_default_matmul_precision must be one of {_PRECISIONS[1:]} or None, got {value!r}")
    return value  # accepted: IREE's CPU matmuls are float32 whatever the hint


def _rank_promotion(value):
    if value not in ("allow", "warn", "raise"):
        raise ValueError(f"jax_numpy_rank_promotion must be 'allow', 'warn' or 'raise', got {value!r}")
    if value != "allow":
        raise NotImplementedError(f"irjax does not support jax_numpy_rank_promotion={value!r} yet (only 'allow')")
    return value


def _prng_impl(value):
    if value != "threefry2x32":
        raise NotImplementedError(f"irjax implements only the threefry2x32 PRNG, got jax_default_prng_impl={value!r}")
    return value


def _bool(name: str) -> Callable[[Any], bool]:
    def check(value):
        if not isinstance(value, (bool, int)) or value not in (0, 1):
            raise ValueError(f"{name} must be a bool, got {value!r}")
        return bool(value)

    return check


def _disable_jit(value):
    # the process-wide value; a `with disable_jit():` in a thread overrides it there (core._TraceState)
    _TraceState.jit_off = _bool("jax_disable_jit")(value)
    return _TraceState.jit_off


def _cache_dir(value):
    if value is not None and not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"jax_compilation_cache_dir must be a path or None, got {value!r}")
    _compiler.cache_dir_override = None if value is None else os.fspath(value)
    return value


def _cache_enabled(value):
    _compiler.disk_cache_enabled = _bool("jax_enable_compilation_cache")(value)
    return _compiler.disk_cache_enabled


def _min_compile_time(value):
    # irjax's default writes every compile (0); JAX's skips compiles under 1 s
    _compiler.min_compile_seconds = float(value)
    return _compiler.min_compile_seconds


def _min_entry_size(value):
    # <= 0: no size floor (JAX: -1 none, 0 the filesystem's default, which irjax does not have)
    _compiler.min_entry_bytes = max(int(value), 0)
    return int(value)


def _one_of(name: str, allowed: tuple, supported: tuple | None = None) -> Callable[[Any], Any]:
    """A string flag: a value outside `allowed` is a ValueError (as JAX), one irjax cannot honour
    (outside `supported`) NotImplementedError."""

    def check(value):
        value = getattr(value, "value", value)  # (JAX's enum members)
        if value not in allowed:
            raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")
        if supported is not None and value not in supported:
            raise NotImplementedError(
                f"irjax does not support {name}={value!r} yet (only {', '.join(map(repr, supported))})"
            )
        return value

    return check


def _num_cpu_devices(value):
    n = int(value)
    if n == 0 or n < -1:
        raise ValueError(f"jax_num_cpu_devices must be a positive integer or -1, got {value!r}")
    _device.set_num_cpu_devices(n)
    return n


def _only(name: str, default, why: str) -> Callable[[Any], Any]:
    """A flag whose other values would change results irjax computes one way: those are refused."""

    def check(value):
        if value != default:
            raise NotImplementedError(f"irjax does not support {name}={value!r}: {why}")
        return default

    return check


_GUARD_LEVELS = ("allow", "log", "disallow", "log_explicit", "disallow_explicit")


def _log_compiles(value):
    # runtime/compiler.py prints one stderr line per IREE compile while this is on
    _compiler._LOG_COMPILES = _bool("jax_log_compiles")(value)
    return _compiler._LOG_COMPILES


# name -> (default, validator returning the stored value)
_FLAGS: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "jax_enable_x64": (False, _x64),
    "jax_platforms": (None, _platforms),
    "jax_platform_name": (None, _platforms),
    "jax_default_device": (None, _default_device),
    "jax_disable_jit": (False, _disable_jit),
    "jax_debug_nans": (False, _nonfinite("jax_debug_nans")),
    "jax_debug_infs": (False, _nonfinite("jax_debug_infs")),
    "jax_default_matmul_precision": (None, _precision),
    "jax_numpy_rank_promotion": ("allow", _rank_promotion),
    "jax_default_prng_impl": ("threefry2x32", _prng_impl),
    # read by jit when it traces (trace_checks.py)
    "jax_log_compiles": (False, _log_compiles),
    "jax_explain_cache_misses": (False, _bool("jax_explain_cache_misses")),
    "jax_check_tracer_leaks": (False, _bool("jax_check_tracer_leaks")),
    "jax_enable_checks": (False, _bool("jax_enable_checks")),
    "jax_no_tracing": (False, _bool("jax_no_tracing")),
    "jax_debug_key_reuse": (
        False,
        _refuse_true("jax_debug_key_reuse", "irjax.random does not track which keys were consumed"),
    ),
    "jax_numpy_dtype_promotion": (
        "standard",
        _one_of("jax_numpy_dtype_promotion", ("standard", "strict"), ("standard",)),
    ),
    # (irjax neither logs nor blocks transfers: only 'allow')
    **{
        name: (None, _one_of(name, (None,) + _GUARD_LEVELS, (None, "allow")))
        for name in (
            "jax_transfer_guard",
            "jax_transfer_guard_host_to_device",
            "jax_transfer_guard_device_to_device",
            "jax_transfer_guard_device_to_host",
        )
    },
    # the persistent compilation cache is irjax's disk cache (runtime/compiler.py)
    "jax_compilation_cache_dir": (None, _cache_dir),
    "jax_enable_compilation_cache": (True, _cache_enabled),
    "jax_persistent_cache_min_compile_time_secs": (0.0, _min_compile_time),
    "jax_persistent_cache_min_entry_size_bytes": (0, _min_entry_size),
    "jax_num_cpu_devices": (-1, _num_cpu_devices),
    # irjax keeps every frame of a traceback: each value is accepted and shows them all
    "jax_traceback_filtering": (
        "auto",
        _one_of("jax_traceback_filtering", ("off", "tracebackhide", "remove_frames", "quiet_remove_frames", "auto")),
    ),
    "jax_threefry_partitionable": (
        True,
        _only("jax_threefry_partitionable", True, "irjax.random draws JAX's default (partitionable) threefry bits"),
    ),
    "jax_random_seed_offset": (0, _only("jax_random_seed_offset", 0, "keys are made from the seed as given")),
    "jax_enable_custom_prng": (False, _only("jax_enable_custom_prng", False, "custom PRNG implementations")),
    "jax_legacy_prng_key": ("allow", _one_of("jax_legacy_prng_key", ("allow", "warn", "error"), ("allow",))),
    # irjax's own: a new jit trace runs on the NumPy reference while IREE compiles it (frontend/tiered.py)
    "irjax_tiered_compile": (
        os.environ.get("IRJAX_TIERED_COMPILE", "") not in ("", "0", "false"),
        _bool("irjax_tiered_compile"),
    ),
}
_values: dict[str, Any] = {name: default for name, (default, _) in _FLAGS.items()}
_values["jax_platforms"] = os.environ.get("IRJAX_PLATFORMS") or None
_values["jax_enable_x64"] = _dtypes.x64_enabled()  # (JAX_ENABLE_X64 / IRJAX_ENABLE_X64, read by dtypes)
_values["jax_platform_name"] = _values["jax_platforms"]
_values["jax_log_compiles"] = _compiler._LOG_COMPILES  # (IRJAX_LOG_COMPILES=1 turns it on at import)


def _known(name: str) -> None:
    if name not in _FLAGS:
        raise AttributeError(f"Unrecognized config option: {name}")


def update(name: str, value: Any) -> None:
    """Set flag `name` (raises for a value irjax cannot honour, AttributeError for unknown names)."""
    _known(name)
    stored = _FLAGS[name][1](value)
    _values[name] = stored
    if name in ("jax_platforms", "jax_platform_name"):
        _values["jax_platforms"] = _values["jax_platform_name"] = stored


def read(name: str) -> Any:
    _known(name)
    if name == "jax_disable_jit":
        return _trace_state.jit_off  # (this thread's value)
    return _values[name]


@contextlib.contextmanager
def enable_x64(new_val: bool = True):
    """`with enable_x64():` runs its body with jax_enable_x64 set, restoring the old value after."""
    old = _values["jax_enable_x64"]
    update("jax_enable_x64", new_val)
    try:
        yield
    finally:
        update("jax_enable_x64", old)


def config_with_absl() -> None:
    """JAX's absl-flag hook; irjax has no absl flags, so there is nothing to register."""


def parse_flags_with_absl() -> None:
    """JAX's absl-flag parsing hook; nothing to parse in irjax."""


@contextlib.contextmanager
def disable_jit(disable: bool = True):
    """`with irjax.disable_jit():` runs jitted functions as plain Python in this thread, as JAX:
    their bodies see the values they are called with (print shows numbers), and lax.cond /
    switch / while_loop / fori_loop / scan with concrete operands run as Python control flow.
    Each jnp operation still runs as its own compiled module (irjax's eager mode)."""
    had = "jit_off" in _trace_state.__dict__
    old = _trace_state.jit_off
    _trace_state.jit_off = bool(disable)
    try:
        yield
    finally:
        if had:
            _trace_state.jit_off = old
        else:
            del _trace_state.jit_off


def __getattr__(name: str) -> Any:
    if name in _FLAGS:
        return read(name)
    raise AttributeError(f"'Config' object has no attribute '{name}'")


config = sys.modules[__name__]  # `from irjax.config import config` (older JAX spelling)
