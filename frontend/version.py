"""irjax.version (`jax.version`): the package version as a string and a tuple."""

from __future__ import annotations

from . import __version__

__all__ = ["__version__"]

_version = __version__
_version_as_tuple = tuple(int(p) for p in __version__.split(".") if p.isdigit())
