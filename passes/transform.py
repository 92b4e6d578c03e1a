"""The generic function transformer behind jvp, vjp and batching, and the per-module memo of
derived functions.

A transformation walks a function's body once: `walk_forward` keeps an env (tangents, batch
dims) and calls a step per op; `walk_backward` replays a tape in reverse, accumulating
cotangents. Steps look rules up in the op's record; a call-like op's rules get a `Ctx`
(dialects/calls.TransformCtx) that derives the callee's jvp / vjp / batched version.
Derived functions are memoized by (function, transform, params) in a table per module,
never found by name: a user function called `f_jvp` is just a function.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

from irjax.dialects.func import (
    build_func,
    find_func,
    lookup_func,
    signature,
    unique_name,
)
from irjax.dialects.lang import Val
from irjax.dialects.mlir import enter, ir
from irjax.dialects.registry import ShapedType, VerifyError

from .registry import passes

# module -> {key: function name}; a module's table dies with the module
_MEMO: weakref.WeakKeyDictionary[ir.Module, dict] = weakref.WeakKeyDictionary()
# transform name -> fn(module, fname, *params) -> derived name; filled by autodiff / batching
TRANSFORMS: dict[str, Callable] = {}
# memo key (NATURAL, batched name): per result, was it batched before being put at axis 0
NATURAL = "natural_out_batched"
REVERSE_MODE = "jx.reverse_mode"  # unit attribute of functions derived by vjp / grad


def derived_functions(module: ir.Module) -> dict:
    """The module's memo: {(function, transform, params...): derived function name}."""
    return _MEMO.setdefault(module, {})


def derive(
    module: ir.Module,
    key: tuple,
    base: str,
    in_avals: Sequence[ShapedType],
    body: Callable,
) -> str:
    """The function memoized under `key`, else a new one named `base` (or base_<k> when a
    function of that name exists) built from body(*args) -> results (Vals or ir.Values)."""
    memo = derived_functions(module)
    name = memo.get(key)
    if name is not None and find_func(module, name) is not None:
        return name
    name = unique_name(module, base)

    def emit(*args):
        return [r.v if isinstance(r, Val) else r for r in body(*args)]

    with enter():
        build_func(module, name, in_avals, emit)
        if key[1:2] in (("vjp",), ("grad",)):
            # travels with copies of the function: shard_map(check_vma=True) refuses reverse mode
            find_func(module, name).attributes[REVERSE_MODE] = ir.UnitAttr.get()
    memo[key] = name
    return name


def _transform(name: str) -> Callable:
    if name not in TRANSFORMS:
        passes()  # loads every pass module; autodiff and batching register theirs
    return TRANSFORMS[name]


class Ctx:
    """`TransformCtx` for one op: what a call-like op's rules may ask of the walker."""

    def __init__(
        self,
        module: ir.Module,
        op=None,
        axis_size: int | None = None,
        axis_name: str | None = None,
        active_operands: tuple | None = None,
    ):
        self.module = module
        self.op = op
        self.axis_size = axis_size
        self.axis_name = axis_name  # batching: the name of the axis being mapped, if any
        # reverse mode: which operands lead back to a wanted argument (None: all of them)
        self.active_operands = active_operands

    @property
    def out_avals(self) -> list[ShapedType]:
        return [Val(r).aval for r in self.op.results]

    def signature(self, fname: str):
        f = find_func(self.module, fname)
        if f is None:
            raise VerifyError(f"callee @{fname} not found")
        return signature(f)

    def jvp_of(self, fname: str, wrt=None) -> str:
        return _transform("jvp")(self.module, fname, wrt)

    def vjp_of(self, fname: str, mask=None, wrt=None) -> str:
        return _transform("vjp")(self.module, fname, mask, replay=True, wrt=wrt)  # vjp_fwd ran the forward

    def batched(self, fname: str, dims, size: int, out_batched=None) -> str:
        return _transform("batch")(self.module, fname, dims, size, out_batched, axis_name=self.axis_name)

    def batched_results(self, fname: str) -> tuple | None:
        """Per result of @fname (made by `batched`): did it vary over the axis (else it was
        broadcast: a psum result, a value of unbatched inputs)? None when unknown."""
        return derived_functions(self.module).get((NATURAL, fname))

    def derived(self, key: tuple, base: str, in_avals, body) -> str:
        return derive(self.module, ("helper",) + tuple(key), base, in_avals, body)


def source(module: ir.Module, fname: str):
    """(func op, argument types, result types) of the function to transform."""
    f = lookup_func(module, fname)
    ins, outs = signature(f)
    return f, ins, outs


def walk_forward(ops: Sequence, env: dict, step: Callable) -> list:
    """env[result] = step(op, [env[operand]...]) for each op in order; returns the values the
    function returns (keys of env)."""
    for op in ops:
        if op.name == "func.return":
            return list(op.operands)
        outs = step(op, [env[v] for v in op.operands])
        for r, o in zip(op.results, outs):
            env[r] = o
    raise ValueError("function has no return")


def walk_backward(tape: Sequence, cts: dict, step: Callable) -> None:
    """Reverse walk: for each taped (op, ...) whose results have cotangents, step(entry,
    out_cts) -> operand cotangents (None: zero), accumulated into cts by operand value."""
    for entry in reversed(tape):
        op = entry[0]
        out_cts = [cts.get(r) for r in op.results]
        if all(c is None for c in out_cts):
            continue
        for v, c in zip(op.operands, step(entry, out_cts)):
            if c is not None:
                prev = cts.get(v)
                cts[v] = c if prev is None else prev + c
