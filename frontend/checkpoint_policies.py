"""irjax.checkpoint_policies: JAX's remat policy names, accepted by irjax.checkpoint(policy=).

A policy only decides which residuals are saved rather than recomputed; values and gradients do
not depend on it. irjax's checkpoint recomputes everything whatever the policy (nothing_saveable).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = [
    "checkpoint_dots",
    "checkpoint_dots_with_no_batch_dims",
    "dots_saveable",
    "dots_with_no_batch_dims_saveable",
    "everything_saveable",
    "nothing_saveable",
    "save_any_names_but_these",
    "save_anything_except_these_names",
    "save_from_both_policies",
    "save_only_these_names",
]


def _policy(name: str, saves: Callable[..., bool]) -> Callable[..., bool]:
    saves.__name__ = name
    saves.irjax_checkpoint_policy = True  # (irjax.checkpoint accepts these, see rematerialize.py)
    return saves


everything_saveable = _policy("everything_saveable", lambda *_, **__: True)
nothing_saveable = _policy("nothing_saveable", lambda *_, **__: False)
dots_saveable = _policy("dots_saveable", lambda prim, *_, **__: getattr(prim, "name", prim) == "dot_general")
checkpoint_dots = dots_saveable
dots_with_no_batch_dims_saveable = _policy(
    "dots_with_no_batch_dims_saveable",
    lambda prim, *_, **params: getattr(prim, "name", prim) == "dot_general" and not params.get("lhs_batch"),
)
checkpoint_dots_with_no_batch_dims = dots_with_no_batch_dims_saveable


def save_only_these_names(*names: str) -> Callable[..., bool]:
    """Save the values named by checkpoint_name in `names` (irjax recomputes them all the same)."""
    return _policy("save_only_these_names", lambda *_, **__: False)


def save_anything_except_these_names(*names: str) -> Callable[..., bool]:
    return _policy("save_anything_except_these_names", lambda *_, **__: True)


save_any_names_but_these = save_anything_except_these_names


def save_from_both_policies(policy_1: Callable, policy_2: Callable) -> Callable[..., bool]:
    return _policy("save_from_both_policies", lambda *a, **k: bool(policy_1(*a, **k) or policy_2(*a, **k)))
