"""Functions and modules of jx IR: build `func.func`s, find them, walk their bodies.

Every transformation pass builds its output function with `FuncBuilder` and reads its
input with `body_ops`, so passes never iterate `block.operations` (superlinear).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from . import registry
from .attrs import decode_params
from .builder import aval, ir_type
from .mlir import enter, ir
from .registry import ShapedType

CALL_OP = "jx.call"  # the plain call: `inline` splices it, transformations go through its record


def new_module() -> ir.Module:
    with enter():
        return ir.Module.create()


def parse_module(text: str) -> ir.Module:
    with enter():
        return ir.Module.parse(text)


def find_func(module: ir.Module, name: str):
    """The `func.func @name` op, or None."""
    for op in _top_ops(module):
        if op.name == "func.func" and ir.StringAttr(op.attributes["sym_name"]).value == name:
            return op
    return None


def lookup_func(module: ir.Module, name: str):
    """The `func.func @name` op; KeyError naming the function if the module lacks it."""
    f = find_func(module, name)
    if f is None:
        raise KeyError(f"function @{name} not found in the module")
    return f


def func_names(module: ir.Module) -> list[str]:
    return [ir.StringAttr(op.attributes["sym_name"]).value for op in _top_ops(module) if op.name == "func.func"]


def top_funcs(module: ir.Module) -> dict:
    """{name: func.func op} of the module, in one walk."""
    return {ir.StringAttr(op.attributes["sym_name"]).value: op for op in _top_ops(module) if op.name == "func.func"}


def _top_ops(module):
    ops = []

    def cb(op):
        if op.name == "builtin.module":
            return ir.WalkResult.ADVANCE
        ops.append(op)
        return ir.WalkResult.SKIP

    module.operation.walk(cb, ir.WalkOrder.PRE_ORDER)
    return ops


def signature(func_op) -> tuple[list[ShapedType], list[ShapedType]]:
    ft = ir.FunctionType(ir.TypeAttr(func_op.attributes["function_type"]).value)
    return [aval(t) for t in ft.inputs], [aval(t) for t in ft.results]


def entry_block(func_op) -> ir.Block:
    return func_op.regions[0].blocks[0]


def body_ops(func_op) -> list:
    """The ops directly in the function's entry block, in order (return included)."""
    ops = []
    root = func_op.operation if hasattr(func_op, "operation") else func_op

    def cb(op):
        if op == root:
            return ir.WalkResult.ADVANCE
        ops.append(op)
        return ir.WalkResult.SKIP  # nested regions belong to their op

    root.walk(cb, ir.WalkOrder.PRE_ORDER)
    return ops


def op_params(op) -> dict:
    return decode_params(op)


def unique_name(module: ir.Module, base: str) -> str:
    """`base`, or `base_<k>` with the smallest k free (deterministic, for FileCheck)."""
    names = set(func_names(module))
    if base not in names:
        return base
    k = 0
    while f"{base}_{k}" in names:
        k += 1
    return f"{base}_{k}"


class FuncBuilder:
    """Builds `func.func @name(args)` at the end of `module`; ops go in at `ip`."""

    def __init__(self, module: ir.Module, name: str, arg_avals: Sequence[ShapedType], private=False):
        self.module = module
        self.name = name
        self._enter = enter()
        self._enter.__enter__()
        try:
            with ir.InsertionPoint(module.body):
                ftype = ir.FunctionType.get([ir_type(a) for a in arg_avals], [])
                attrs = {"sym_name": ir.StringAttr.get(name), "function_type": ir.TypeAttr.get(ftype)}
                if private:
                    attrs["sym_visibility"] = ir.StringAttr.get("private")
                self.op = ir.Operation.create("func.func", regions=1, attributes=attrs)
            self.block = self.op.regions[0].blocks.append(*[ir_type(a) for a in arg_avals])
        finally:
            self._enter.__exit__(None, None, None)
        self.args = list(self.block.arguments)
        self.ip = ir.InsertionPoint(self.block)

    def __enter__(self):
        self._enter.__enter__()
        self.ip.__enter__()
        return self

    def __exit__(self, *exc):
        self.ip.__exit__(*exc)
        self._enter.__exit__(*exc)
        return False

    def finish(self, results: Sequence) -> str:
        """Add `return results` and fix the function type; returns the name."""
        with enter(), ir.InsertionPoint(self.block):
            ir.Operation.create("func.return", operands=list(results))
            ftype = ir.FunctionType.get([a.type for a in self.args], [r.type for r in results])
            self.op.attributes["function_type"] = ir.TypeAttr.get(ftype)
        return self.name

    def abandon(self):
        """Drop a half-built function (a trace that raised)."""
        self.op.erase()


def build_func(module, name, arg_avals, body: Callable, private=False) -> str:
    """`body(*args) -> results` emits ops; returns the function's name."""
    fb = FuncBuilder(module, name, arg_avals, private=private)
    try:
        with fb:
            results = body(*fb.args)
    except BaseException:
        fb.abandon()
        raise
    return fb.finish(results)


def emit_call(callee: str, operands: Sequence, result_avals: Sequence[ShapedType]) -> list:
    op = ir.Operation.create(
        CALL_OP,
        results=[ir_type(a) for a in result_avals],
        operands=list(operands),
        attributes={"callee": ir.FlatSymbolRefAttr.get(callee)},
    )
    return list(op.results)


def reachable(module: ir.Module, names: Sequence[str]) -> list[str]:
    """`names` and every function they call, directly or not (callers before callees)."""
    order, seen, todo = [], set(), list(names)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        order.append(n)
        f = find_func(module, n)
        if f is None:
            raise KeyError(f"function @{n} not found")
        for op in body_ops(f):
            todo += callees_of(op)
    return order


def copy_funcs(src: ir.Module, dst: ir.Module, names: Sequence[str]) -> None:
    """Copy `names` and everything they call from src into dst (skipping ones dst has)."""
    have = set(func_names(dst))
    for n in reachable(src, names):
        if n not in have:
            with enter():
                find_func(src, n).clone(ir.InsertionPoint(dst.body))


def reemit(op, operands: Sequence) -> list:
    """A copy of region-free `op` at the insertion point, on new operands."""
    attrs = op.attributes
    new = ir.Operation.create(
        op.name,
        results=[r.type for r in op.results],
        operands=list(operands),
        attributes={k: attrs[k] for k in attrs},
    )
    return list(new.results)


def callee_of(op) -> str:
    return ir.FlatSymbolRefAttr(op.attributes["callee"]).value


def callees_of(op) -> list[str]:
    """Every function a call-like `op` names (its record's `callee_attrs`, callee first;
    arrays of symbols flattened); [] for any other op."""
    prim = registry.lookup(op.name)
    if prim is None or not prim.callee_attrs:
        return []
    attrs = op.attributes
    out = []
    for k in prim.callee_attrs:
        if k in attrs:
            a = attrs[k]
            if isinstance(a, ir.ArrayAttr):
                out += [ir.FlatSymbolRefAttr(s).value for s in a]
            else:
                out.append(ir.FlatSymbolRefAttr(a).value)
    return out


def emit_custom_call(
    name: str, operands: Sequence, result_avals: Sequence[ShapedType], num_args: int, **callees
) -> list:
    """`jx.custom_jvp_call` / `jx.custom_vjp_call`: operands are (args..., consts...)."""
    attrs = {k: ir.FlatSymbolRefAttr.get(v) for k, v in callees.items()}
    attrs["num_args"] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), int(num_args))
    op = ir.Operation.create(
        "jx." + name, results=[ir_type(a) for a in result_avals], operands=list(operands), attributes=attrs
    )
    return list(op.results)
