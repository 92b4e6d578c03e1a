"""Device queries and transfers: devices(), default_backend(), device_put, device_get."""

from __future__ import annotations

import numpy as np

from irjax.runtime.device import cpu_device, default_device

from . import tree_util


def devices(backend: str | None = None):
    if backend not in (None, "cpu"):
        raise RuntimeError(f"Unknown backend {backend}; available: cpu")
    return [cpu_device()]


local_devices = devices


def device_count(backend=None) -> int:
    return len(devices(backend))


def default_backend() -> str:
    return default_device().platform


def device_put(x, device=None):
    from .array import Array, from_numpy

    def put(v):
        if isinstance(v, Array) and (device is None or v.device == device):
            return v
        if hasattr(v, "aval") and not isinstance(v, Array):
            return v
        return from_numpy(np.asarray(v), device=device)

    return tree_util.tree_map(put, x)


def device_get(x):
    return tree_util.tree_map(lambda v: np.asarray(v) if hasattr(v, "_bv") else v, x)
