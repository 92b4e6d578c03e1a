"""Tracing: avals, tracers, the trace stack and `bind`, the one entry for every primitive.

A primitive applied to concrete arrays runs as a compiled single-op module (eager mode);
applied to tracers it appends one jx op to the function being traced.
"""

from __future__ import annotations

import functools
import math
import threading
from typing import NamedTuple

import numpy as np
from irjax.dialects import builder, registry
from irjax.dialects.emitters import OpNamespace
from irjax.dialects.func import FuncBuilder, new_module
from irjax.dialects.interpret import evaluate_partial
from irjax.dialects.mlir import enter, ir
from irjax.dialects.registry import ShapedType

from . import basearray, dtypes
from .errors import (
    ConcretizationTypeError,
    TracerArrayConversionError,
    TracerBoolConversionError,
    TracerIntegerConversionError,
    UnexpectedTracerError,
)


class ShapedArray(NamedTuple):
    """An abstract value: shape, dtype and JAX's weak_type flag."""

    shape: tuple
    dtype: np.dtype
    weak_type: bool = False

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    def str_short(self):
        return f"{'~' if self.weak_type else ''}{self.dtype.name}[{','.join(map(str, self.shape))}]"

    def strip_weak(self):
        return ShapedArray(self.shape, self.dtype, False)

    def shaped(self) -> ShapedType:
        return ShapedType(self.shape, self.dtype)


def aval_of(x) -> ShapedArray:
    """Abstract value of an Array, Tracer, NumPy value or Python scalar."""
    a = getattr(x, "aval", None)
    if a is not None:
        return a
    if isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic):
        arr = np.asarray(x, dtypes.check_supported(dtypes.dtype_of(x)))
        return ShapedArray((), arr.dtype, not isinstance(x, bool))
    if isinstance(x, (np.ndarray, np.generic)):
        return ShapedArray(tuple(np.shape(x)), dtypes.check_supported(x.dtype), False)
    raise TypeError(f"Value {x!r} of type {type(x).__name__} is not a valid irjax type")


# ---- the trace stack -----------------------------------------------------------------------


class Trace:
    """One function being traced into jx: its builder and the values it captured."""

    # called as observer(name, operands, results, params) after each primitive bound directly in
    # this trace (checkify's automatic checks); None almost always
    observer = None

    def __init__(self, name: str, module=None):
        self.module = module if module is not None else new_module()
        self.builder = FuncBuilder(self.module, name, [])
        self.captured = []  # outer values (Array or outer Tracer) passed as trailing args
        self._capture_ids: dict = {}
        self.n_args = 0
        # for error messages: "tracing the function f at a.py:3 for jit", argument names per arg
        self.debug_fun: str | None = None
        self.debug_transform = "jit"
        self.debug_args: list[str] = []
        # the values of the leading arguments when they are known (eager grad/jvp/vjp): Python
        # may then branch on traced values, as JAX's autodiff tracers carry their primals
        self.arg_values: list | None = None

    def known_value(self, tracer: Tracer) -> np.ndarray | None:
        """tracer's value (NumPy, by the reference interpreter) when every input of this trace
        is known, else None."""
        if self.arg_values is None:
            return None
        vals = []
        for x in list(self.arg_values) + self.captured:
            if isinstance(x, Tracer):
                x = x._trace.known_value(x)
                if x is None:
                    return None
            vals.append(x)
        try:
            vals = [np.asarray(x) for x in vals]
            with enter():
                return evaluate_partial(self.module, self.builder.op, vals, tracer.value)
        except Exception:  # noqa: BLE001  (an op without a reference impl: stay abstract)
            return None

    def new_arg(self, aval: ShapedArray) -> Tracer:
        with enter():
            v = self.builder.block.add_argument(builder.ir_type(aval.shaped()), ir.Location.unknown())
        self.builder.args.append(v)
        self.n_args += 1
        return Tracer(self, v, aval)

    def capture(self, x) -> Tracer:
        """An outer value used inside: it becomes an extra argument of this function."""
        key = id(x)
        t = self._capture_ids.get(key)
        if t is None:
            t = self.new_arg(aval_of(x))
            self.captured.append(x)
            self._capture_ids[key] = t
            self._keepalive = getattr(self, "_keepalive", []) + [x]
        return t

    def to_value(self, x) -> Tracer:
        """x as a tracer of this trace (capturing or embedding constants as needed)."""
        if isinstance(x, Tracer):
            if x._trace is self:
                return x
            if x._trace not in _state.stack:
                raise UnexpectedTracerError(
                    f"Encountered an unexpected tracer {x!r}: a value from a function transformation "
                    "that has already finished leaked out (e.g. stored in a global or a closure)."
                )
            return self.capture(x)
        if hasattr(x, "_bv"):  # a concrete Array
            if x.aval.size <= 1:
                return self.constant(np.asarray(x), x.aval.weak_type)
            return self.capture(x)
        a = aval_of(x)
        return self.constant(np.asarray(x, a.dtype), a.weak_type)

    def constant(self, value: np.ndarray, weak=False) -> Tracer:
        with enter(), self.builder.ip:
            v = builder.constant(value)
        return Tracer(self, v, ShapedArray(value.shape, value.dtype, weak))


class _TraceState(threading.local):
    """The trace stack, one per thread as in JAX: a thread's tracers never meet another's traces.

    `jit_off` is jax_disable_jit: the class attribute is the process-wide value
    (config.update), an instance attribute a thread's own (`with disable_jit():`)."""

    jit_off = False

    def __init__(self):
        self.stack: list[Trace] = []


_state = _TraceState()


def current_trace() -> Trace | None:
    stack = _state.stack
    return stack[-1] if stack else None


class trace_scope:
    def __init__(self, trace: Trace):
        self.trace = trace

    def __enter__(self):
        _state.stack.append(self.trace)
        return self.trace

    def __exit__(self, *exc):
        _state.stack.pop()
        return False


class _IRLock:
    """One re-entrant lock around IR work (tracing, passes, lowering, eager graphs): every thread
    builds IR in the one process-wide MLIR context (dialects/mlir.py), one at a time. Running
    compiled code does not take this lock."""

    def __init__(self):
        self._lock = threading.RLock()

    def __enter__(self):
        self._lock.acquire()
        return self

    def __exit__(self, *exc):
        self._lock.release()
        return False


ir_lock = _IRLock()


def locked(fn):
    """Run `fn` holding ir_lock."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with ir_lock:
            return fn(*args, **kwargs)

    return wrapper


# ---- tracers --------------------------------------------------------------------------------

from .array_methods import ArrayMethods  # noqa: E402  (needs ShapedArray above)


class Tracer(ArrayMethods):
    """A value inside a function being traced: an `ir.Value` plus its aval."""

    __slots__ = ("_trace", "value", "aval")  # (_trace: .trace() is the jnp.trace method)
    __array_priority__ = 1000

    def __init__(self, trace: Trace, value, aval: ShapedArray):
        self._trace = trace
        self.value = value
        self.aval = aval

    def __repr__(self):
        return f"JitTracer({self.aval.str_short()})"

    def _known(self):
        return self._trace.known_value(self)

    def __bool__(self):
        v = self._known()
        if v is not None:
            return bool(v)
        raise _explained(TracerBoolConversionError(self), self)

    def __int__(self):
        v = self._known()
        if v is not None:
            return int(v)
        raise _explained(ConcretizationTypeError(self, "The problem arose with the `int` function."), self)

    def __float__(self):
        v = self._known()
        if v is not None and v.dtype.kind in "iub":  # JAX: an inexact value carries a tangent
            return float(v)
        raise _explained(ConcretizationTypeError(self, "The problem arose with the `float` function."), self)

    def __complex__(self):
        v = self._known()
        if v is not None and v.dtype.kind in "iub":  # JAX: an inexact value carries a tangent
            return complex(v)
        raise _explained(ConcretizationTypeError(self, "The problem arose with the `complex` function."), self)

    def __index__(self):
        v = self._known()
        if v is not None:
            if v.dtype.kind in "iub":
                return int(v)
            raise TypeError("only integer scalar arrays can be converted to a scalar index")
        raise _explained(TracerIntegerConversionError(self), self)

    def __array__(self, dtype=None, copy=None):
        raise _explained(TracerArrayConversionError(self), self)

    def __hash__(self):
        raise TypeError(f"unhashable type: {type(self).__name__}")

    def item(self):
        v = self._known()
        if v is not None:
            return v.item()
        raise _explained(ConcretizationTypeError(self, "The problem arose with the `item` method."), self)

    def tolist(self):
        v = self._known()
        if v is not None and v.dtype.kind in "iub":  # JAX: an inexact value carries a tangent
            return v.tolist()
        raise _explained(ConcretizationTypeError(self, "The problem arose with the `tolist` method."), self)


def _arg_dependencies(tracer: Tracer, limit: int = 20000) -> list[int]:
    """Indices of the traced function's arguments that `tracer`'s value is computed from
    (a backward walk over the ops that define it)."""
    block = tracer._trace.builder.block
    found, seen, todo = set(), set(), [tracer.value]
    while todo and len(seen) < limit:
        v = todo.pop().maybe_downcast()
        if isinstance(v, ir.BlockArgument):
            if v.owner == block:
                found.add(v.arg_number)
            continue
        op = v.owner
        key = hash(op)
        if key in seen:
            continue
        seen.add(key)
        todo.extend(op.operands)
    return sorted(found)


def _explained(err: Exception, tracer: Tracer) -> Exception:
    """Add JAX's context to a tracer error: the function being traced and the arguments the
    value depends on ("... because it depends on the value of the argument x.")."""
    trace = tracer._trace
    if not trace.debug_fun:
        return err
    try:
        with enter():
            deps = _arg_dependencies(tracer)
    except Exception:  # noqa: BLE001  (context is a courtesy: never hide the real error)
        deps = []
    names = [trace.debug_args[i] for i in deps if i < len(trace.debug_args)]
    names = list(dict.fromkeys(names))
    extra = f"The error occurred while tracing the function {trace.debug_fun} for {trace.debug_transform}."
    if names:
        s = "s" if len(names) > 1 else ""
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        extra += f" This concrete value was not available in Python because it depends on the value{s} of the argument{s} {listed}."
    msg = str(err.args[0]) if err.args else ""
    head, sep, tail = msg.rpartition("\nSee https://")
    err.args = (f"{head}\n{extra}{sep}{tail}" if sep else f"{msg}\n{extra}",)
    return err


def is_tracer(x) -> bool:
    return isinstance(x, Tracer)


# ---- bind -----------------------------------------------------------------------------------


def _no_dispatch(name, args, params):
    raise RuntimeError(
        f"irjax.core.bind({name!r}) outside a trace: irjax.dispatch is not loaded (it registers eager execution)"
    )


# dispatch.apply_primitive, registered by irjax.dispatch when it loads (core sits below dispatch);
# every module that binds primitives imports dispatch, directly or through irjax.operands
_apply = _no_dispatch


def set_eager_apply(fn) -> None:
    global _apply
    _apply = fn


def bind(name: str, *args, **params):
    """Apply primitive `name`: emit a jx op when tracing, else run it eagerly.

    Inside a trace every primitive is staged, also on concrete operands (as jit does):
    running those eagerly would compile a module per op and capture the results.
    """
    stack = _state.stack
    if not stack:
        return _apply(name, args, params)
    trace = stack[-1]
    vals = [trace.to_value(a) for a in args]
    with enter(), trace.builder.ip:
        outs = builder.emit(name, [v.value for v in vals], params)
    prim = registry.get(name)
    res = [Tracer(trace, o, _aval_from_value(o)) for o in outs]
    if trace.observer is not None:  # checkify's automatic checks
        trace.observer(name, vals, res, params)
    return res if prim.multiple_results else res[0]


# jx.add(x, y): any op by its record, traced or run eagerly (dialects/emitters.py)
jx = OpNamespace(bind, "irjax.core.jx")


# Load every op record now, at import (serialized by Python's import lock): the registry loads
# itself on first use, and threads racing into that first use saw a half-filled registry
# (KeyError: unknown jx op 'jx.add').
registry.all_primitives()


def _aval_from_value(v) -> ShapedArray:
    a = builder.aval(v)
    return ShapedArray(a.shape, a.dtype, False)


basearray.Array.register(Tracer)  # (isinstance(tracer, irjax.Array) inside jit / vmap / grad, as JAX)
