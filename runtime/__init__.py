"""The IREE side of irjax: compile cache, devices, buffers, calls, AOT artifacts.

Light on purpose: `irjax.runtime.load(path)` imports only iree.runtime and numpy.
"""

from __future__ import annotations

from .lazy_names import lazy_attributes

_LAZY = {"load": "irjax.runtime.artifact", "loads": "irjax.runtime.artifact", "ArtifactError": "irjax.runtime.artifact"}


__getattr__, __dir__ = lazy_attributes("irjax.runtime", globals(), _LAZY)
