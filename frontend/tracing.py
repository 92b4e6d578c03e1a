"""Tracing a Python function into a jx function, and calling a jx function from Python.

`trace_function` turns `fun` into `func.func @name` in a fresh module; `call_function`
either runs it (concrete operands) or emits `jx.call` into the enclosing trace.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from irjax.dialects.collectives import uses_axis
from irjax.dialects.func import body_ops, copy_funcs, emit_call, find_func, signature
from irjax.dialects.mlir import enter

from . import tree_util
from .axis_env import bound_axes
from .core import ShapedArray, Trace, Tracer, aval_of, current_trace, locked, trace_scope
from .dispatch import _as_array, execute

_names = itertools.count()


@dataclass
class Traced:
    module: object
    fname: str
    in_avals: list
    out_avals: list
    out_tree: object
    captured: list
    exes: dict = field(default_factory=dict)

    @property
    def has_tracer_captures(self) -> bool:
        return any(isinstance(c, Tracer) for c in self.captured)

    captured_tracers = has_tracer_captures


def _fun_name(fun, name=None) -> str:
    """A module-unique symbol: derived names (f_3_grad_0, f_3_vjp) must never collide."""
    n = name or getattr(fun, "__name__", "fn")
    n = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in n) or "fn"
    if n[0].isdigit():
        n = "f" + n
    return f"{n}_{next(_names)}"


@locked
def trace_function(
    fun,
    in_avals: list[ShapedArray],
    in_tree,
    name: str | None = None,
    module=None,
    debug: tuple[str, list[str]] | None = None,
    arg_values: list | None = None,
) -> Traced:
    """Trace fun(*unflatten(in_tree, tracers)) into a new module (or into `module`).

    debug: (description of the user's function, a name per flat argument) for tracer errors.
    arg_values: the arguments' values where known (eager autodiff), so Python can branch on them."""
    trace = Trace(_fun_name(fun, name), module)
    trace.arg_values = arg_values
    if debug is not None:
        trace.debug_fun, trace.debug_args = debug
    try:
        with trace_scope(trace):
            args = [trace.new_arg(a) for a in in_avals]
            out = fun(*tree_util.tree_unflatten(in_tree, args))
            out_leaves, out_tree = tree_util.tree_flatten(out)
            out_vals = []
            for o in out_leaves:
                if not (isinstance(o, Tracer) or hasattr(o, "aval") or _is_scalar_like(o)):
                    raise TypeError(
                        f"function {getattr(fun, '__name__', fun)} returned a value of type "
                        f"{type(o).__name__}, which is not a valid irjax type"
                    )
                out_vals.append(trace.to_value(o))
    except BaseException:
        trace.builder.abandon()
        raise
    fname = trace.builder.finish([v.value for v in out_vals])
    return Traced(trace.module, fname, list(in_avals), [v.aval for v in out_vals], out_tree, list(trace.captured))


def _is_scalar_like(x):
    return isinstance(x, (bool, int, float, complex, np.ndarray, np.generic))


@locked
def call_function(module, fname: str, operands, out_avals=None):
    """Call @fname: a jx.call inside an active trace, else compile and run."""
    f = find_func(module, fname)
    _, outs = signature(f)
    if out_avals is None:
        out_avals = [ShapedArray(o.shape, o.dtype, False) for o in outs]
    trace = current_trace()
    if trace is not None and (any(isinstance(x, Tracer) for x in operands) or _uses_bound_axis(module, f)):
        copy_funcs(module, trace.module, [fname])
        # NumPy operands become captured arguments rather than IR constants: the IR (and the
        # compile-cache key) must not depend on their data
        operands = [_device_array(x) for x in operands]
        vals = [trace.to_value(x) for x in operands]
        with enter(), trace.builder.ip:
            res = emit_call(fname, [v.value for v in vals], outs)
        return [Tracer(trace, r, a) for r, a in zip(res, out_avals)]

    return execute(module, fname, list(operands), out_avals)


def binary_op_of(computation, dtype) -> str | None:
    """The jx op `computation` is when its trace on two scalars of `dtype` is that one op applied to
    its two arguments (lambda a, b: a + b -> 'jx.add'), else None (lax.reduce and reduce_window
    map such computations to their reduce primitives)."""
    try:
        tr = trace_function(lambda a, b: computation(a, b), [ShapedArray((), np.dtype(dtype))] * 2, _PAIR)
    except Exception:  # noqa: BLE001  (not traceable on scalars: no single op)
        return None
    with enter():
        f = find_func(tr.module, tr.fname)
        ops = [op for op in body_ops(f) if op.name != "func.return"]
        args = list(f.regions[0].blocks[0].arguments)
        if len(ops) != 1 or len(tr.out_avals) != 1 or len(ops[0].operands) != 2:
            return None
        return ops[0].name if set(ops[0].operands) == set(args) and len(args) == 2 else None


_PAIR = tree_util.tree_structure((0, 0))


def _uses_bound_axis(module, f) -> bool:
    """Does @f name an axis that an enclosing vmap / shard_map binds (axis_index, a psum of a
    constant)? Then a call with only concrete operands still varies over it: it is staged into the
    trace for the batch pass, not run now (vmap passes unmapped operands in as they are)."""
    names = [name for name, _ in bound_axes() if name is not None]
    return bool(names) and any(uses_axis(module, op, n) for op in body_ops(f) for n in names)


def _device_array(x):
    if isinstance(x, np.ndarray) and x.size > 1:
        return _as_array(x)
    return x


def flatten_args(args, kwargs=None):
    leaves, tree = tree_util.tree_flatten((tuple(args), dict(kwargs or {})))
    return leaves, tree


def leaf_avals(leaves) -> list[ShapedArray]:
    return [aval_of(x) for x in leaves]
