"""irjax.experimental.checkify: JAX's functionalized runtime checks. `check(pred, msg)` inside
`checkify(f)` makes f return an Error value with its outputs, which works under jit and vmap.
Only user checks (errors=user_checks) are implemented; JAX's automatic NaN/division/index
checks raise NotImplementedError."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from irjax import numpy as jnp
from irjax import tree_util
from irjax.api import jit
from irjax.core import Tracer, current_trace

__all__ = [
    "DivisionByZeroError",
    "Error",
    "FailedCheckError",
    "JaxRuntimeError",
    "NaNError",
    "OOBError",
    "all_checks",
    "automatic_checks",
    "check",
    "checkify",
    "div_checks",
    "float_checks",
    "index_checks",
    "nan_checks",
    "user_checks",
]


class JaxRuntimeError(ValueError):
    """A failed check: raised by Error.throw() and by a failing `check` outside checkify."""


class FailedCheckError(Exception):
    """The error class of checks made with `check` (the member of user_checks)."""


class NaNError(Exception):
    """JAX's automatic NaN check (not implemented by irjax)."""


class DivisionByZeroError(Exception):
    """JAX's automatic division-by-zero check (not implemented by irjax)."""


class OOBError(Exception):
    """JAX's automatic out-of-bounds index check (not implemented by irjax)."""


user_checks = frozenset({FailedCheckError})
nan_checks = frozenset({NaNError})
div_checks = frozenset({DivisionByZeroError})
index_checks = frozenset({OOBError})
float_checks = nan_checks | div_checks
automatic_checks = float_checks | index_checks
all_checks = automatic_checks | user_checks

_NOT_FUNCTIONALIZED = (
    "Cannot abstractly evaluate a checkify.check which was not functionalized. This probably means "
    "you tried to stage (jit/scan/pmap/...) a `check` without functionalizing it through "
    "`checkify.checkify`."
)


class _Collector:
    """The checks made while one checkified function runs, at the trace it runs in."""

    def __init__(self):
        self.trace = current_trace()
        self.checks: list = []  # (failed: bool array, msg, payload leaves, payload treedef)


class _State(threading.local):
    def __init__(self):
        self.stack: list[_Collector] = []


_state = _State()


def _format(msg: str, leaves, tree, index=()) -> str:
    args, kwargs = tree_util.tree_unflatten(tree, [np.asarray(x)[index] for x in leaves])
    return msg.format(*args, **kwargs) + " (`check` failed)"


def check(pred: Any, msg: str, *fmt_args: Any, **fmt_kwargs: Any) -> None:
    """Fail with `msg` (formatted with the args' values) where `pred` is False.

    Inside checkify(f) the failure is returned as f's Error; outside it a concrete False
    raises JaxRuntimeError at once, and a traced pred is JAX's ValueError."""
    stack = _state.stack
    payload = (tuple(fmt_args), dict(fmt_kwargs))
    for x in tree_util.tree_leaves(payload):
        if not (hasattr(x, "shape") and hasattr(x, "dtype")):
            raise TypeError(
                f"Formatting arguments to checkify.check need to be PyTrees of arrays, but got {x!r} of type {type(x)}."
            )
    if not stack:
        if isinstance(pred, Tracer):
            raise ValueError(_NOT_FUNCTIONALIZED)
        if not bool(np.all(np.asarray(pred))):
            leaves, tree = tree_util.tree_flatten(payload)
            raise JaxRuntimeError(_format(msg, leaves, tree))
        return
    col = stack[-1]
    if current_trace() is not col.trace:
        raise NotImplementedError(
            "irjax's checkify collects the checks traced directly in the checkified function; a check "
            "inside a jit, vmap, grad or control-flow body nested in it is not supported yet "
            "(apply jit or vmap outside: jit(checkify(f)))."
        )
    leaves, tree = tree_util.tree_flatten(payload)
    failed = jnp.logical_not(jnp.all(pred))
    col.checks.append((failed, msg, [jnp.asarray(x) for x in leaves], tree))


class Error:
    """The checks' outcome as a value (a pytree: the failing check's index and every check's
    format arguments). `get()` says what failed, `throw()` raises it."""

    def __init__(self, code, payloads: list, msgs: tuple, trees: tuple):
        self._code = code  # index of the first failed check, -1 if none (batched under vmap)
        self._payloads = payloads  # per check, the list of its format-argument arrays
        self._msgs = msgs
        self._trees = trees

    def _message(self, i: int, index=()) -> str:
        return _format(self._msgs[i], self._payloads[i], self._trees[i], index)

    def get(self) -> str | None:
        """The failure message, or None when every check passed."""
        code = np.asarray(self._code)
        if code.ndim == 0:
            return None if code < 0 else self._message(int(code))
        lines = []
        for idx in np.ndindex(code.shape):
            if code[idx] >= 0:
                where = idx[0] if len(idx) == 1 else idx
                lines.append(f"at mapped index {where}: {self._message(int(code[idx]), idx)}")
        return "\n".join(lines) if lines else None

    def get_exception(self) -> FailedCheckError | None:
        msg = self.get()
        return None if msg is None else FailedCheckError(msg)

    def throw(self) -> None:
        """Raise JaxRuntimeError if a check failed."""
        msg = self.get()
        if msg is not None:
            raise JaxRuntimeError(msg)

    def __repr__(self):
        return f"Error({self.get()})"

    __str__ = __repr__


def _flatten(e: Error):
    counts = tuple(len(p) for p in e._payloads)
    return [e._code, *[x for p in e._payloads for x in p]], (e._msgs, e._trees, counts)


def _unflatten(aux, children) -> Error:
    msgs, trees, counts = aux
    it = iter(children[1:])
    return Error(children[0], [[next(it) for _ in range(n)] for n in counts], msgs, trees)


tree_util.register_pytree_node(Error, _flatten, _unflatten)


def checkify(f: Callable, errors: frozenset = user_checks) -> Callable[..., tuple[Error, Any]]:
    """f -> a function returning (Error, f's outputs), the checks made by `check` functionalized."""
    extra = frozenset(errors) - user_checks
    if extra:
        names = ", ".join(sorted(e.__name__ for e in extra))
        raise NotImplementedError(
            f"irjax's checkify implements errors=checkify.user_checks (checks made with checkify.check); "
            f"JAX's automatic checks ({names}) are not implemented."
        )

    def run(*args, **kwargs):
        col = _Collector()
        _state.stack.append(col)
        try:
            out = f(*args, **kwargs)
        finally:
            _state.stack.pop()
        code = jnp.asarray(-1, jnp.int32)
        for i in reversed(range(len(col.checks))):  # the first failed check wins
            code = jnp.where(col.checks[i][0], jnp.int32(i), code)
        err = Error(
            code,
            [c[2] for c in col.checks],
            tuple(c[1] for c in col.checks),
            tuple(c[3] for c in col.checks),
        )
        return err, out

    staged = jit(run)

    @functools.wraps(f)
    def checked(*args, **kwargs):
        # as JAX, checkify traces f (its arguments become tracers) unless already inside a trace
        return (staged if current_trace() is None else run)(*args, **kwargs)

    return checked
