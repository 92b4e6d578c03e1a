"""StableHLO rewrites for one target, each working around a measured IREE code-generation bug
(`for_target` applies them just before IREE compiles; see keep_sort_results for the second).

vulkan-spirv (IREE 3.13, checked on Mesa lavapipe): when a reduction over leading axes
(a "column" reduction: the kept axes are the innermost) is fused into one dispatch with its
consumer, only the first 8 lanes of the reduced result are computed; the rest are read
from whatever the buffer held. `x - x.sum(0)` on a 100x10 array got columns 8 and 9 wrong,
and so did the tutorial's `jit(norm)`. Row reductions are fine. An optimization barrier
between the reduction (or anything computed from it) and the broadcast that spreads it over
the larger iteration space keeps the two in separate dispatches:

    %s = stablehlo.reduce(%x init: %z) ... across dimensions = [0] : (tensor<100x10xf32>, tensor<f32>) -> tensor<10xf32>
    %b = stablehlo.broadcast_in_dim %s, dims = [1] : (tensor<10xf32>) -> tensor<100x10xf32>
becomes
    %s = stablehlo.reduce(%x init: %z) ... across dimensions = [0] : ...
    %0 = stablehlo.optimization_barrier %s : tensor<10xf32>
    %b = stablehlo.broadcast_in_dim %0, dims = [1] : (tensor<10xf32>) -> tensor<100x10xf32>

A dot_general that keeps an operand's innermost axis (the ones . x that a leading-axis sum
lowers to) counts as a column reduction. The barrier goes before the broadcast, not right
after the reduction: a barrier'd value that reaches a concatenate becomes a buffer copy, and
on Vulkan that gave wrong results on the second call while the first call's result was alive.
"""

from __future__ import annotations

from irjax.dialects.attrs import decode
from irjax.dialects.mlir import enter, ir

from .module_facts import dot_dimension_numbers
from .registry import Example, Option, register_pass


def _keeps_inner_axis(op) -> bool:
    """A reduce whose reduced axes leave the innermost axis in the result (column reduction)."""
    rank = len(ir.RankedTensorType(op.operands[0].type).shape)
    return rank >= 2 and (rank - 1) not in decode(op.attributes["dimensions"])


def _contracts_columns(op) -> bool:
    """A dot_general that keeps an operand's innermost axis (rank >= 2, size > 1), as in the
    ones . x that a leading-axis sum lowers to; mat . v (v as 10x1) contracts mat's."""
    dims = dot_dimension_numbers(op)
    for operand, key in (
        (op.operands[0], "lhs_contracting_dimensions"),
        (op.operands[1], "rhs_contracting_dimensions"),
    ):
        shape = ir.RankedTensorType(operand.type).shape
        if len(shape) >= 2 and shape[-1] > 1 and (len(shape) - 1) not in dims.get(key, []):
            return True
    return False


def _needs_barrier(op) -> bool:
    if op.name == "stablehlo.dot_general":
        return _contracts_columns(op)
    return op.name == "stablehlo.reduce" and _keeps_inner_axis(op)


def _column_reduction_values(func_op) -> set:
    """Values computed from a column reduction, following data flow through every op except
    broadcast_in_dim (whose results are where fusion must stop)."""
    tainted: set = set()

    def cb(op):
        if op.name == "stablehlo.broadcast_in_dim":
            return ir.WalkResult.ADVANCE
        if (op.name in ("stablehlo.reduce", "stablehlo.dot_general") and _needs_barrier(op)) or any(
            v in tainted for v in op.operands
        ):
            tainted.update(op.results)
        return ir.WalkResult.ADVANCE

    func_op.walk(cb, ir.WalkOrder.PRE_ORDER)
    return tainted


_ENTRY = (Option("entry", "symbol", None, "unused; accepted so target pipelines can pass it"),)
_COLUMN = """func.func @main(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %z = stablehlo.constant dense<0.0> : tensor<f32>
  %s = stablehlo.reduce(%x init: %z) applies stablehlo.add across dimensions = [0] : (tensor<4x3xf32>, tensor<f32>) -> tensor<3xf32>
  %b = stablehlo.broadcast_in_dim %s, dims = [1] : (tensor<3xf32>) -> tensor<4x3xf32>
  return %b : tensor<4x3xf32>
}"""
_SORT = """func.func @main(%x: tensor<6xf32>) -> tensor<6xi32> {
  %i = stablehlo.iota dim = 0 : tensor<6xi32>
  %s:2 = "stablehlo.sort"(%x, %i) <{dimension = 0 : i64, is_stable = true}> ({
  ^bb0(%a: tensor<f32>, %b: tensor<f32>, %c: tensor<i32>, %d: tensor<i32>):
    %lt = stablehlo.compare LT, %a, %b, FLOAT : (tensor<f32>, tensor<f32>) -> tensor<i1>
    stablehlo.return %lt : tensor<i1>
  }) : (tensor<6xf32>, tensor<6xi32>) -> (tensor<6xf32>, tensor<6xi32>)
  return %s#1 : tensor<6xi32>
}"""


@register_pass(
    "isolate-column-reductions",
    "vulkan-spirv workaround: an optimization barrier between a column reduction and its broadcast",
    Example(
        "isolate-column-reductions",
        _COLUMN,
        ("stablehlo.reduce", "stablehlo.optimization_barrier", "stablehlo.broadcast_in_dim"),
    ),
    options=_ENTRY,
)
def isolate_column_reductions(module, entry: str | None = None):
    with enter():
        for func_op in module.body.operations:
            tainted = _column_reduction_values(func_op.operation)
            found = []

            def cb(op):
                if op.name == "stablehlo.broadcast_in_dim" and op.operands[0] in tainted:
                    found.append(op)
                return ir.WalkResult.ADVANCE

            func_op.operation.walk(cb, ir.WalkOrder.PRE_ORDER)
            for op in found:
                with ir.InsertionPoint(op), op.location:
                    barrier = ir.Operation.create(
                        "stablehlo.optimization_barrier", results=[op.operands[0].type], operands=[op.operands[0]]
                    )
                op.operands[0] = barrier.results[0]


@register_pass(
    "keep-sort-results",
    "vulkan-spirv workaround: a barrier over the results of every multi-operand sort",
    Example("keep-sort-results", _SORT, ('"stablehlo.sort"', "stablehlo.optimization_barrier %1#0, %1#1")),
    options=_ENTRY,
)
def keep_sort_results(module, entry: str | None = None):
    """IREE 3.13's vulkan-spirv code generation crashes (GPUDistributeSharedMemoryCopy, a
    segfault) on a sort dispatch that stores only some of its results, as in an argsort (values
    and iota sorted together, values dropped). That happens even when every result has a use
    (IREE may fuse the values into another dispatch), so every multi-operand sort gets a
    barrier over all of its results, which keeps them stored together:

        %s:2 = "stablehlo.sort"(%x, %iota) ...
        %r = stablehlo.reshape %s#1
    becomes
        %s:2 = "stablehlo.sort"(%x, %iota) ...
        %k:2 = stablehlo.optimization_barrier %s#0, %s#1 : tensor<6xf32>, tensor<6xi32>
        %r = stablehlo.reshape %k#1
    """
    found = []

    def cb(op):
        if op.name == "stablehlo.sort" and len(op.results) > 1:
            found.append(op)
        return ir.WalkResult.ADVANCE

    with enter():
        module.operation.walk(cb, ir.WalkOrder.POST_ORDER)
        for op in found:
            results = list(op.results)
            with ir.InsertionPoint.after(op), op.location:
                barrier = ir.Operation.create(
                    "stablehlo.optimization_barrier", results=[r.type for r in results], operands=results
                )
            for old, new in zip(results, barrier.results):
                old.replace_all_uses_except(new, barrier)


# target -> passes run on its StableHLO before IREE compiles it
TARGET_FIXUPS = {"vulkan-spirv": (isolate_column_reductions, keep_sort_results)}


def for_target(text: str, target: str) -> str:
    """The StableHLO text with `target`'s workarounds applied (unchanged for other targets)."""
    fixes = TARGET_FIXUPS.get(target)
    if not fixes:
        return text
    with enter() as ctx:
        module = ir.Module.parse(text, ctx)
        for fix in fixes:
            fix(module)
        return str(module)
