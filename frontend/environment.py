"""clear_caches and print_environment_info (JAX's top-level names)."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

import numpy as np
from irjax.runtime import compiler

from . import __version__, dispatch, lazy

__all__ = ["clear_caches", "print_environment_info"]


def clear_caches() -> None:
    """Drop the in-memory compiled modules and eager-op caches, the fused eager graphs' modules
    included (jit objects keep their traces, which do not change results; the on-disk compile
    cache stays)."""
    compiler.forget_memory_cache()
    lazy.forget_modules()
    for name in ("_eager_cache", "_exe_cache", "_hlo_cache", "_multi_cache", "_shape_variants"):
        cache = getattr(dispatch, name, None)
        if isinstance(cache, dict):
            cache.clear()


def _version(module: str) -> str:
    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return "not installed"


def print_environment_info(return_string: bool = False) -> str | None:
    """irjax, NumPy, IREE and Python versions and the platform, as jax.print_environment_info."""
    lines = [
        f"irjax:    {__version__}",
        f"numpy:    {np.__version__}",
        f"iree-base-compiler: {_version('iree-base-compiler')}",
        f"iree-base-runtime:  {_version('iree-base-runtime')}",
        f"python:   {sys.version}",
        f"platform: {platform.platform()}",
    ]
    text = "\n".join(lines)
    if return_string:
        return text
    print(text)
    return None
