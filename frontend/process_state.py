"""Questions about the running process and waits on it: live_arrays, process_indices (and JAX's
renamed host_* aliases), effects_barrier and copy_to_host_async, as at JAX's top level."""

from __future__ import annotations

import gc
import warnings
from typing import Any

from . import tree_util
from .array import Array
from .device_api import process_count, process_index

__all__ = [
    "copy_to_host_async",
    "effects_barrier",
    "host_count",
    "host_id",
    "host_ids",
    "live_arrays",
    "process_indices",
]


def live_arrays(platform: str | None = None) -> list[Array]:
    """Every Array of this process not yet deleted (on `platform` only, when given).

    Pending eager ops run first (JAX would have dispatched them), so the intermediates only
    their pending graph held are gone. Found by walking the garbage collector's objects: slow,
    as befits a debugging aid."""
    out = _arrays()
    pending = [a for a in out if isinstance(a._lazy, tuple)]
    if pending:
        # roots first (arrays no pending op reads): one module runs each graph
        read = {id(x) for a in pending for x in a._lazy[0].inputs}
        for a in sorted(pending, key=lambda a: id(a) in read):
            if isinstance(a._lazy, tuple):
                a.block_until_ready()
        del out, pending, read, a
        out = _arrays()  # (the intermediates only the graphs held are gone now)
    if platform is not None:
        out = [a for a in out if any(d.platform == platform for d in a.devices())]
    return out


def _arrays() -> list[Array]:
    return [o for o in gc.get_objects() if isinstance(o, Array) and not o.is_deleted()]


def effects_barrier() -> None:
    """Wait until every dispatched computation (pending eager ops included) has finished, so their
    side effects (debug callbacks, ...) have happened."""
    for a in live_arrays():
        a.block_until_ready()


def copy_to_host_async(x: Any) -> Any:
    """Start the device-to-host copy of every Array leaf of x (a hint); returns x."""
    for leaf in tree_util.tree_leaves(x):
        start = getattr(leaf, "copy_to_host_async", None)
        if callable(start):
            start()
    return x


def process_indices(backend: str | None = None) -> list[int]:
    """The indices of all processes in the job: [0] without irjax.distributed."""
    return list(range(process_count()))


def _renamed(old: str, new: str) -> None:
    warnings.warn(
        f"jax.{old} has been renamed to jax.{new}. This alias will eventually be removed; please update your code.",
        UserWarning,
        stacklevel=3,
    )


def host_count(backend: str | None = None) -> int:
    """process_count(), under JAX's old name (warns as JAX does)."""
    _renamed("host_count", "process_count")
    return process_count()


def host_id(backend: str | None = None) -> int:
    """process_index(), under JAX's old name (warns as JAX does)."""
    _renamed("host_id", "process_index")
    return process_index()


def host_ids(backend: str | None = None) -> list[int]:
    """process_indices(), under JAX's old name (warns as JAX does)."""
    _renamed("host_ids", "process_indices")
    return process_indices(backend)
