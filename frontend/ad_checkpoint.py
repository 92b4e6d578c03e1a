"""irjax.ad_checkpoint: JAX's module of the same name (checkpoint, checkpoint_name, policies)."""

from __future__ import annotations

from typing import Any

from . import checkpoint_policies, tree_util
from .rematerialize import checkpoint, remat

__all__ = ["checkpoint", "checkpoint_name", "checkpoint_policies", "remat"]


def checkpoint_name(x: Any, name: str) -> Any:
    """Name the arrays of pytree `x` for name-based checkpoint policies; returns them unchanged.

    irjax's checkpoint recomputes every residual whatever the policy, so the name changes no
    value and no gradient (see checkpoint_policies)."""
    if not isinstance(name, str):
        raise TypeError(f"checkpoint_name expects a str name, got {type(name).__name__}")
    return tree_util.tree_map(lambda v: v, x)
