"""The trace-time axis environment: the axis names (and sizes) that the vmaps, shard_maps and
pmaps being traced bind, innermost last. Collectives look their names up here."""

from __future__ import annotations

import contextlib
import threading


class _AxisEnv(threading.local):
    def __init__(self):
        self.frames: list[tuple[str, int]] = []


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
