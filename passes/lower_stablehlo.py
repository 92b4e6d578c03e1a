"""lower-stablehlo: every jx op becomes StableHLO through its record's lowering rule.

    %1 = "jx.sin"(%0) : (tensor<3xf32>) -> tensor<3xf32>
becomes
    %1 = stablehlo.sine %0 : tensor<3xf32>
and `jx.call @g` becomes `func.call @g`; called functions turn private.
"""

from __future__ import annotations

from irjax.dialects import control_flow, registry
from irjax.dialects.builder import aval
from irjax.dialects.func import callees_of, func_names, find_func, op_params
from irjax.dialects.mlir import enter, ir

from .registry import register_pass


class LowerCtx:
    """What a lowering rule may look at besides its operands."""

    __slots__ = ("in_avals", "out_avals", "op")

    def __init__(self, op):
        self.op = op
        self.in_avals = [aval(v) for v in op.operands]
        self.out_avals = [aval(v) for v in op.results]


class LoweringError(ValueError):
    pass


def _jx_ops(module):
    ops = []

    def cb(op):
        if op.name.startswith("jx."):
            ops.append(op)
        return ir.WalkResult.ADVANCE

    module.operation.walk(cb, ir.WalkOrder.PRE_ORDER)
    return ops


@register_pass(
    "lower-stablehlo",
    "lower every jx op to StableHLO (jx.call -> func.call)",
    '"jx.sin"(%0) : (tensor<3xf32>) -> tensor<3xf32>  ==>  stablehlo.sine %0 : tensor<3xf32>',
)
def lower_stablehlo(module, entry: str | None = None, chunk_scans: str = "true"):
    """chunk-scans=false: long scans stay one loop (GPU targets; see dialects/control_flow.py)."""
    token = control_flow.chunk_scans.set(chunk_scans not in ("false", "0"))
    try:
        _lower(module, entry)
    finally:
        control_flow.chunk_scans.reset(token)


def _lower(module, entry):
    called = set()
    with enter():
        for op in _jx_ops(module):
            name = op.name[3:]
            with ir.InsertionPoint(op), op.location:
                if name in ("call", "custom_jvp_call", "custom_vjp_call"):
                    # custom-derivative calls run their primal; their rule functions go private
                    # (and unused), so IREE drops them
                    callee, *rules = callees_of(op)
                    called.add(callee)
                    called.update(rules)
                    new = ir.Operation.create(
                        "func.call",
                        results=[r.type for r in op.results],
                        operands=list(op.operands),
                        attributes={"callee": ir.FlatSymbolRefAttr.get(callee)},
                    )
                    results = list(new.results)
                else:
                    called.update(callees_of(op))  # control flow calls its bodies
                    prim = registry.get(name)
                    if prim.lower is None:
                        raise LoweringError(f"jx.{name} has no StableHLO lowering")
                    out = prim.lower(LowerCtx(op), *op.operands, **op_params(op))
                    results = out if isinstance(out, (list, tuple)) else [out]
                for old, new_v in zip(op.results, results):
                    old.replace_all_uses_with(new_v)
            op.erase()
        names = set(func_names(module))
        for n in called:
            if n in names and n != entry:
                find_func(module, n).attributes["sym_visibility"] = ir.StringAttr.get("private")
