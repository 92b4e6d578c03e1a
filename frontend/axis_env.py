"""The trace-time axis environment: the axis names (and sizes) that the vmaps, shard_maps and
pmaps being traced bind, innermost last, and the mesh whose axes span processes while a
cross-process shard_map body runs. Collectives look their names up here."""

from __future__ import annotations

import contextlib
import threading

import numpy as np


class ProcessMesh:
    """The mesh of a shard_map whose members are processes (one device each), as seen by this
    process: axis names and sizes, this process's coordinates, and ranks[coords] = the MPI rank
    that holds the member at those coordinates."""

    def __init__(self, axis_names: tuple[str, ...], ranks: np.ndarray, coords: tuple[int, ...]):
        self.axis_names, self.ranks, self.coords = axis_names, ranks, coords
        self.sizes = dict(zip(axis_names, ranks.shape))

    def member_ranks(self, names: tuple[str, ...]) -> np.ndarray:
        """The ranks of the members along `names`, in JAX's member order (row-major over the
        names as given); the other mesh axes are at this process's coordinates."""
        order = [self.axis_names.index(n) for n in names]
        rest = [i for i in range(len(self.axis_names)) if i not in order]
        r = np.transpose(self.ranks, order + rest)
        idx = tuple(slice(None) for _ in order) + tuple(self.coords[i] for i in rest)
        return r[idx].reshape(-1)


class _AxisEnv(threading.local):
    def __init__(self):
        self.frames: list[tuple[str, int]] = []
        self.process_mesh: ProcessMesh | None = None


_env = _AxisEnv()


@contextlib.contextmanager
def axis_frame(name: str | None, size: int):
    """Bind `name` to an axis of `size` while tracing the body of a vmap / shard_map / pmap."""
    if name is None:
        yield
        return
    if not isinstance(name, str):
        raise TypeError(f"irjax axis names must be strings, got {name!r}")
    _env.frames.append((name, int(size)))
    try:
        yield
    finally:
        _env.frames.pop()


def axis_names(axis_name) -> tuple[str, ...]:
    names = (axis_name,) if isinstance(axis_name, str) else tuple(axis_name)
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"irjax axis names must be strings, got {n!r}")
    return names


def bound_size(name: str) -> int:
    for n, s in reversed(_env.frames):
        if n == name:
            return s
    raise NameError(f"unbound axis name: {name}")


def bound_axes() -> tuple:
    """The frames as a hashable key ((name, size), ...): part of jit's trace-cache key."""
    return tuple(_env.frames)


@contextlib.contextmanager
def process_mesh_frame(pm: ProcessMesh):
    """Bind every axis of `pm` while a cross-process shard_map body runs (eagerly) on this process."""
    if _env.process_mesh is not None:
        raise NotImplementedError("a shard_map over processes inside another one is not supported")
    _env.process_mesh = pm
    _env.frames.extend(pm.sizes.items())
    try:
        yield
    finally:
        del _env.frames[len(_env.frames) - len(pm.sizes) :]
        _env.process_mesh = None


def process_mesh_of(names: tuple[str, ...]) -> ProcessMesh | None:
    """The process mesh if any of `names` is one of its axes, else None."""
    pm = _env.process_mesh
    return pm if pm is not None and any(n in pm.sizes for n in names) else None
