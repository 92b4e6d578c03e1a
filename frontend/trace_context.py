"""Tracing helpers from JAX's top level: named_scope, named_call, typeof, ensure_compile_time_eval.

named_scope / named_call only name things in JAX's profiles; here they keep the function's
semantics and add nothing to the IR.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator

from .core import _state, aval_of

__all__ = ["ensure_compile_time_eval", "named_call", "named_scope", "typeof"]


@contextlib.contextmanager
def named_scope(name: str) -> Iterator[None]:
    """A name for the ops traced in the body (metadata only in JAX; nothing changes here)."""
    if not isinstance(name, str):
        raise TypeError(f"named_scope name argument must be a string, got {name!r}")
    yield


def named_call(fun: Callable, *, name: str | None = None) -> Callable:
    """fun, under a name (metadata only in JAX): same results, same transformations."""
    if not callable(fun):
        raise TypeError(f"named_call expects a callable, got {fun!r}")

    @functools.wraps(fun)
    def named(*args, **kwargs):
        with named_scope(name or getattr(fun, "__name__", "named_call")):
            return fun(*args, **kwargs)

    return named


def typeof(x):
    """The abstract value (shape, dtype, weak type) of an array, tracer or Python scalar."""
    return aval_of(x)


@contextlib.contextmanager
def ensure_compile_time_eval() -> Iterator[None]:
    """Inside jit, evaluate ops on concrete values now (eagerly), so Python can branch on them.

    Traced values (function arguments) cannot be used in the body: irjax raises for them
    rather than stage them as JAX does.
    """
    saved = list(_state.stack)
    _state.stack.clear()
    try:
        yield
    finally:
        _state.stack[:] = saved
