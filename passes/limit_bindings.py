"""Keep every IREE dispatch under the runtime's 32 buffer bindings: `limit-dispatch-bindings`.

IREE fuses chains of elementwise ops into one dispatch, and its HAL refuses a dispatch that
binds more than 32 buffers at run time ("binding count 33 > 32"): `sum(args)` over 32 arrays
failed. This pass follows, per value, the buffers its fused computation may read (function
arguments, large constants, results of ops IREE never fuses into consumers). Where an op would
read more than MAX_SOURCES of them, optimization barriers on its widest operands end the
fusion there, so the dispatch is split:

    %s31 = stablehlo.add %s30, %a31    (sources: %a0 .. %a31)
becomes
    %b = stablehlo.optimization_barrier %s30
    %s31 = stablehlo.add %b, %a31      (sources: %b, %a31)
"""

from __future__ import annotations

from irjax.dialects.mlir import ir

from .module_facts import facts_of_text
from .registry import Example, Option, register_pass

MAX_SOURCES = 24  # of IREE's 32 bindings: room for a dispatch's results
# results of these are new buffers: IREE does not fuse them into their consumers' dispatches
_PRODUCERS = frozenset(
    {
        "stablehlo.dot_general",
        "stablehlo.dot",
        "stablehlo.convolution",
        "stablehlo.reduce",
        "stablehlo.reduce_window",
        "stablehlo.sort",
        "stablehlo.scatter",
        "stablehlo.gather",
        "stablehlo.while",
        "stablehlo.if",
        "stablehlo.case",
        "stablehlo.custom_call",
        "stablehlo.fft",
        "stablehlo.optimization_barrier",
        "func.call",
        "stablehlo.rng_bit_generator",
        "stablehlo.select_and_scatter",
    }
)
_TERMINATORS = frozenset({"func.return", "stablehlo.return"})


def _is_source_constant(op) -> bool:
    """A non-splat constant becomes a buffer of its own (splats are folded into the code)."""
    v = op.attributes["value"] if "value" in op.attributes else None
    return v is not None and not (isinstance(v, ir.DenseElementsAttr) and v.is_splat)


def may_exceed(text: str, limit: int = MAX_SOURCES) -> bool:
    """Can any dispatch of this module read more than `limit` buffers? No when its function
    arguments + non-splat constants + producer results are fewer (module_facts, cached)."""
    f = facts_of_text(text)
    return f.max_tensor_args + f.source_constants + f.count(*_PRODUCERS) > limit


def _barrier(value, before):
    with ir.InsertionPoint(before), before.location:
        return ir.Operation.create("stablehlo.optimization_barrier", results=[value.type], operands=[value]).results[0]


def _limit_block(block, limit: int) -> int:
    """Barriers in one block; returns how many were inserted."""
    sources: dict = {}
    counter = [0]

    def fresh():
        counter[0] += 1
        return frozenset((counter[0],))

    for arg in block.arguments:
        sources[arg] = fresh()
    added = 0
    for op in list(block.operations):
        name = op.operation.name
        if name == "stablehlo.constant":
            for r in op.results:
                sources[r] = fresh() if _is_source_constant(op) else frozenset()
            continue
        if name in _TERMINATORS:
            continue  # (returning values reads no buffers in a dispatch)
        operands = list(op.operands)
        sets = [sources.get(v, frozenset()) for v in operands]
        union = frozenset().union(*sets)
        while len(union) > limit:
            # cut the operand that brings the most sources (a barrier makes it one buffer)
            i = max(range(len(operands)), key=lambda k: len(sets[k]))
            if len(sets[i]) <= 1:
                break  # the op alone reads more than `limit` distinct buffers: nothing to split
            new = _barrier(operands[i], op.operation)
            added += 1
            for k, v in enumerate(operands):
                if v == operands[i]:
                    op.operation.operands[k] = new
            sources[new] = fresh()
            operands = list(op.operands)
            sets = [sources.get(v, frozenset()) for v in operands]
            union = frozenset().union(*sets)
        for region in op.operation.regions:  # (loop and branch bodies are functions of their own)
            for inner in region.blocks:
                added += _limit_block(inner, limit)
        for r in op.results:
            sources[r] = fresh() if name in _PRODUCERS else union
    return added


_EXAMPLE = """func.func @main(%a: tensor<4xf32>, %b: tensor<4xf32>, %c: tensor<4xf32>) -> tensor<4xf32> {
  %0 = stablehlo.add %a, %b : tensor<4xf32>
  %1 = stablehlo.add %0, %c : tensor<4xf32>
  return %1 : tensor<4xf32>
}"""


@register_pass(
    "limit-dispatch-bindings",
    "optimization barriers so that no fused dispatch reads more than 24 buffers (IREE's limit is 32 bindings)",
    Example(
        "limit-dispatch-bindings{limit=2}",
        _EXAMPLE,
        ("stablehlo.add", "stablehlo.optimization_barrier", "stablehlo.add"),
    ),
    options=(Option("limit", "int", MAX_SOURCES, "most buffers one fused dispatch may read"),),
)
def limit_dispatch_bindings(module, limit: int = MAX_SOURCES) -> int:
    """Insert the barriers in every function of a StableHLO module; returns how many."""
    limit = int(limit)
    added = 0
    for f in module.body.operations:
        for region in f.operation.regions:
            for block in region.blocks:
                added += _limit_block(block, limit)
    return added


def limit_text(text: str, limit: int = MAX_SOURCES) -> str:
    """The StableHLO text with barriers where a dispatch would read too many buffers (parsed in
    a private context: callable from any thread)."""
    if not may_exceed(text, limit):
        return text
    ctx = ir.Context()
    ctx.allow_unregistered_dialects = True
    with ctx, ir.Location.unknown(ctx):
        module = ir.Module.parse(text)
        if not limit_dispatch_bindings(module, limit):
            return text
        return str(module)
