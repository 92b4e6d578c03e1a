"""Tracing: avals, tracers, the trace stack and `bind`, the one entry for every primitive.

A primitive applied to concrete arrays runs as a compiled single-op module (eager mode);
applied to tracers it appends one jx op to the function being traced.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from irjax.dialects import builder, registry
from irjax.dialects.func import FuncBuilder, new_module
from irjax.dialects.mlir import enter, ir
from irjax.dialects.registry import ShapedType

from . import dtypes
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
        return int(np.prod(self.shape, dtype=np.int64))

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

    def __init__(self, name: str, module=None):
        self.module = module if module is not None else new_module()
        self.builder = FuncBuilder(self.module, name, [])
        self.captured = []  # outer values (Array or outer Tracer) passed as trailing args
        self._capture_ids: dict = {}
        self.n_args = 0

    def new_arg(self, aval: ShapedArray) -> "Tracer":
        with enter():
            v = self.builder.block.add_argument(builder.ir_type(aval.shaped()), ir.Location.unknown())
        self.builder.args.append(v)
        self.n_args += 1
        return Tracer(self, v, aval)

    def capture(self, x) -> "Tracer":
        """An outer value used inside: it becomes an extra argument of this function."""
        key = id(x)
        t = self._capture_ids.get(key)
        if t is None:
            t = self.new_arg(aval_of(x))
            self.captured.append(x)
            self._capture_ids[key] = t
            self._keepalive = getattr(self, "_keepalive", []) + [x]
        return t

    def to_value(self, x) -> "Tracer":
        """x as a tracer of this trace (capturing or embedding constants as needed)."""
        if isinstance(x, Tracer):
            if x._trace is self:
                return x
            if x._trace not in _stack:
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

    def constant(self, value: np.ndarray, weak=False) -> "Tracer":
        with enter(), self.builder.ip:
            v = builder.constant(value)
        return Tracer(self, v, ShapedArray(value.shape, value.dtype, weak))


_stack: list[Trace] = []


def current_trace() -> Trace | None:
    return _stack[-1] if _stack else None


class trace_scope:
    def __init__(self, trace: Trace):
        self.trace = trace

    def __enter__(self):
        _stack.append(self.trace)
        return self.trace

    def __exit__(self, *exc):
        _stack.pop()
        return False


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

    def __bool__(self):
        raise TracerBoolConversionError(self)

    def __int__(self):
        raise ConcretizationTypeError(self, "The problem arose with the `int` function.")

    def __float__(self):
        raise ConcretizationTypeError(self, "The problem arose with the `float` function.")

    def __complex__(self):
        raise ConcretizationTypeError(self, "The problem arose with the `complex` function.")

    def __index__(self):
        raise TracerIntegerConversionError(self)

    def __array__(self, dtype=None, copy=None):
        raise TracerArrayConversionError(self)

    def __hash__(self):
        raise TypeError(f"unhashable type: {type(self).__name__}")

    def item(self):
        raise ConcretizationTypeError(self, "The problem arose with the `item` method.")

    def tolist(self):
        raise ConcretizationTypeError(self, "The problem arose with the `tolist` method.")


def is_tracer(x) -> bool:
    return isinstance(x, Tracer)


# ---- bind -----------------------------------------------------------------------------------


_apply = None  # dispatch.apply_primitive, imported on first eager use


def bind(name: str, *args, **params):
    """Apply primitive `name`: emit a jx op when tracing, else run it eagerly.

    Inside a trace every primitive is staged, also on concrete operands (as jit does):
    running those eagerly would compile a module per op and capture the results.
    """
    if not _stack:
        global _apply
        if _apply is None:
            from .dispatch import apply_primitive as _apply
        return _apply(name, args, params)
    trace = _stack[-1]
    vals = [trace.to_value(a) for a in args]
    with enter(), trace.builder.ip:
        outs = builder.emit(name, [v.value for v in vals], params)
    prim = registry.get(name)
    res = [Tracer(trace, o, _aval_from_value(o)) for o in outs]
    return res if prim.multiple_results else res[0]


def _aval_from_value(v) -> ShapedArray:
    a = builder.aval(v)
    return ShapedArray(a.shape, a.dtype, False)
