"""irjax.experimental.checkify: JAX's functionalized runtime checks. `check(pred, msg)` inside
`checkify(f)` makes f return an Error value with its outputs, which works under jit and vmap.

JAX's automatic checks (errors=nan_checks, div_checks, index_checks, float_checks, ...) watch the
primitives bound directly in the checkified function's trace (core.Trace.observer): a NaN out of
one of JAX's NaN-generating primitives, a division by zero, an out-of-bounds gather, scatter or
dynamic slice start, with JAX's messages. Primitives inside a nested jit, vmap, grad or control-flow
body are not watched (JAX's are)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from irjax import dtypes, tree_util
from irjax import numpy as jnp
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
    """JAX's automatic NaN check: a NaN out of a NaN-generating primitive (nan_checks)."""


class DivisionByZeroError(Exception):
    """JAX's automatic division-by-zero check (div_checks)."""


class OOBError(Exception):
    """JAX's automatic out-of-bounds index check (index_checks)."""


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

    def __init__(self, errors: frozenset = frozenset()):
        self.trace = current_trace()
        self.errors = errors  # the automatic checks wanted (NaNError, DivisionByZeroError, OOBError)
        # (failed: bool array, msg, payload leaves, payload treedef, made by `check`)
        self.checks: list = []

    def add(self, failed, msg: str, payload=((), {}), user: bool = False) -> None:
        leaves, tree = tree_util.tree_flatten(payload)
        self.checks.append((failed, msg, [jnp.asarray(x) for x in leaves], tree, user))

    def observe(self, name: str, operands, results, params) -> None:
        """Trace.observer: the automatic checks of one primitive just bound in self.trace."""
        trace = self.trace
        trace.observer = None  # (the checks bind primitives of their own)
        try:
            _automatic_checks(self, name, operands, results, params)
        finally:
            trace.observer = self.observe


class _State(threading.local):
    def __init__(self):
        self.stack: list[_Collector] = []


_state = _State()


def _format(msg: str, leaves, tree, index=(), user: bool = True) -> str:
    args, kwargs = tree_util.tree_unflatten(tree, [np.asarray(x)[index] for x in leaves])
    return msg.format(*args, **kwargs) + (" (`check` failed)" if user else "")


# ---- automatic checks (JAX's jax._src.checkify rules, by primitive name) ---------------------------

# the primitives JAX checks for a NaN output (its nan_primitives, and div, scatter)
_NAN_PRIMITIVES = frozenset(
    {
        "acos", "acosh", "add", "asin", "asinh", "atan2", "atan", "atanh", "bessel_i0e", "bessel_i1e",
        "cbrt", "conv_general_dilated", "cos", "cosh", "cumlogsumexp", "cummax", "cummin", "cumprod",
        "cumsum", "digamma", "dot_general", "erf_inv", "erf", "erfc", "exp", "expm1", "fft",
        "igamma_grad_a", "igamma", "igammac", "integer_pow", "lgamma", "linear_solve", "log1p", "log",
        "logistic", "mul", "pad", "pow", "psum", "reduce", "reduce_prod", "reduce_sum", "reduce_window",
        "reduce_window_sum", "regularized_incomplete_beta", "rem", "rng_uniform", "rsqrt", "sin",
        "sinh", "sqrt", "sub", "tan", "tanh", "div", "scatter",
    }
)  # fmt: skip
_SCATTER_NAMES = {
    "set": "scatter",
    "add": "scatter-add",
    "mul": "scatter-mul",
    "min": "scatter-min",
    "max": "scatter-max",
}
_OOB_MSG = (
    "out-of-bounds indexing for array of shape {shape}: index {{}} is out of bounds for axis {{}} with size {{}}. "
)


def _oob_payload(mask, indices, dims_map, operand_shape):
    """(index, axis, axis size) of the first out-of-bounds start, as int32 (JAX's oob_payload)."""
    flat = jnp.argmin(jnp.logical_not(mask).ravel())
    last = flat % indices.shape[-1] if indices.ndim else 0
    axis = jnp.asarray(np.asarray(dims_map, np.int32))[last]
    size = jnp.asarray(np.asarray(operand_shape, np.int32))[axis]
    index = indices.ravel()[flat].astype(np.int32)
    return (index, axis, size), {}


def _oob(col, mask, indices, dims_map, shape) -> None:
    col.add(jnp.any(mask), _OOB_MSG.format(shape=tuple(shape)), _oob_payload(mask, indices, dims_map, shape))


def _indices_out(col, operand, idx, dims_map, sizes) -> None:
    """Gather/scatter: start rows of `idx` (last axis over dims_map) outside [0, size - slice]."""
    upper = np.asarray([operand.shape[d] - sizes[d] for d in dims_map], np.int64)
    mask = (idx < 0) | (idx > upper.astype(np.dtype(idx.dtype)))
    _oob(col, mask, idx, dims_map, operand.shape)


def _starts_out(col, operand, starts, sizes) -> None:
    starts = jnp.stack([jnp.asarray(s).astype(np.int32) for s in starts])
    dims = np.asarray(operand.shape, np.int32)
    mask = (starts < 0) | (starts + np.asarray(sizes, np.int32) > dims)
    _oob(col, mask, starts, range(operand.ndim), operand.shape)


def _automatic_checks(col, name, operands, results, params) -> None:
    errors = col.errors
    if DivisionByZeroError in errors and name == "div":
        col.add(jnp.any(jnp.equal(operands[1], 0)), "division by zero")
    if OOBError in errors:
        if name == "dynamic_slice":
            _starts_out(col, operands[0], operands[1:], params["slice_sizes"])
        elif name == "dynamic_update_slice":
            _starts_out(col, operands[0], operands[2:], operands[1].shape)
        elif name == "gather":
            _indices_out(col, operands[0], operands[1], params["start_index_map"], params["slice_sizes"])
        elif name == "scatter":
            x, idx, upd = operands
            window = iter(upd.shape[d] for d in params["update_window_dims"])
            sizes = [1 if d in params["inserted_window_dims"] else next(window) for d in range(x.ndim)]
            _indices_out(col, x, idx, params["scatter_dims_to_operand_dims"], sizes)
    if NaNError in errors and name in _NAN_PRIMITIVES:
        floats = [r for r in results if dtypes.issubdtype(r.dtype, np.inexact)]
        if floats:
            nan = jnp.any(jnp.stack([jnp.any(jnp.isnan(r)) for r in floats]))
            label = _SCATTER_NAMES.get(params.get("kind"), name) if name == "scatter" else name
            col.add(nan, f"nan generated by primitive: {label}.")


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
    col.add(jnp.logical_not(jnp.all(pred)), msg, payload, user=True)


class Error:
    """The checks' outcome as a value (a pytree: the failing check's index and every check's
    format arguments). `get()` says what failed, `throw()` raises it."""

    def __init__(self, code, payloads: list, msgs: tuple, trees: tuple, user: tuple | None = None):
        self._code = code  # index of the first failed check, -1 if none (batched under vmap)
        self._payloads = payloads  # per check, the list of its format-argument arrays
        self._msgs = msgs
        self._trees = trees
        self._user = user if user is not None else (True,) * len(msgs)  # made by `check`, not automatic

    def _message(self, i: int, index=()) -> str:
        return _format(self._msgs[i], self._payloads[i], self._trees[i], index, self._user[i])

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
    return [e._code, *[x for p in e._payloads for x in p]], (e._msgs, e._trees, counts, e._user)


def _unflatten(aux, children) -> Error:
    msgs, trees, counts, user = aux
    it = iter(children[1:])
    return Error(children[0], [[next(it) for _ in range(n)] for n in counts], msgs, trees, user)


tree_util.register_pytree_node(Error, _flatten, _unflatten)


def checkify(f: Callable, errors: frozenset = user_checks) -> Callable[..., tuple[Error, Any]]:
    """f -> a function returning (Error, f's outputs), the checks made by `check` functionalized."""
    errors = frozenset(errors)
    unknown = errors - all_checks
    if unknown:
        raise TypeError(
            f"checkify errors must be a set of checkify's error classes (all_checks), got {sorted(map(str, unknown))}"
        )
    automatic = errors & automatic_checks

    def run(*args, **kwargs):
        col = _Collector(automatic)
        _state.stack.append(col)
        watched = col.trace is not None and automatic
        if watched:
            outer, col.trace.observer = col.trace.observer, col.observe
        try:
            out = f(*args, **kwargs)
        finally:
            if watched:
                col.trace.observer = outer
            _state.stack.pop()
        code = jnp.asarray(-1, jnp.int32)
        for i in reversed(range(len(col.checks))):  # the first failed check wins
            code = jnp.where(col.checks[i][0], jnp.int32(i), code)
        err = Error(
            code,
            [c[2] for c in col.checks],
            tuple(c[1] for c in col.checks),
            tuple(c[3] for c in col.checks),
            tuple(c[4] for c in col.checks),
        )
        return err, out

    staged = jit(run)

    @functools.wraps(f)
    def checked(*args, **kwargs):
        # as JAX, checkify traces f (its arguments become tracers) unless already inside a trace
        return (staged if current_trace() is None else run)(*args, **kwargs)

    return checked
