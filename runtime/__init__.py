"""The IREE side of irjax: compile cache, devices, buffers, calls, AOT artifacts.

Light on purpose: `irjax.runtime.load(path)` imports only iree.runtime and numpy.
"""

from __future__ import annotations

import importlib

_LAZY = {"load": "irjax.runtime.artifact", "loads": "irjax.runtime.artifact", "ArtifactError": "irjax.runtime.artifact"}


def __getattr__(name):
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'irjax.runtime' has no attribute '{name}'")
    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value
