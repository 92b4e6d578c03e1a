"""lower-stablehlo: every jx op becomes StableHLO through its record's lowering rule.

    %1 = "jx.sin"(%0) : (tensor<3xf32>) -> tensor<3xf32>
becomes
    %1 = stablehlo.sine %0 : tensor<3xf32>
and `jx.call @g` becomes `func.call @g`; called functions turn private.
"""

from __future__ import annotations

import itertools

import numpy as np
from irjax.dialects import (
    builder,
    control_flow,
    convolution,
    fft,
    hlo_math,
    low_precision,
    reductions,
    registry,
    zero_size,
)
from irjax.dialects.builder import aval
from irjax.dialects.func import callees_of, entry_block, find_func, func_names, op_params
from irjax.dialects.mlir import enter, ir

from .registry import Example, Option, register_pass
from .transform import REVERSE_MODE


class LowerCtx:
    """What a lowering rule may look at besides its operands."""

    __slots__ = ("in_avals", "op", "out_avals")

    def __init__(self, op):
        self.op = op
        self.in_avals = [aval(v) for v in op.operands]
        self.out_avals = [aval(v) for v in op.results]


class LoweringError(ValueError):
    pass


_rules: dict = {}  # record -> its lowering as applied (records are immutable: built once)


def lowering_rule(prim: registry.Primitive):
    """The lowering lower-stablehlo applies for `prim`: the record's own rule, run in float32
    for low-precision floats (dialects/low_precision.py) and behind the zero-size guard
    (dialects/zero_size.py), outermost. None when the record has no lowering."""
    rule = _rules.get(prim)
    if rule is None and prim.lower is not None:
        rule = _rules[prim] = zero_size.guard(prim, low_precision.upcast(prim, prim.lower))
    return rule


def _jx_ops(module):
    ops = []

    def cb(op):
        if op.name.startswith("jx."):
            ops.append(op)
        return ir.WalkResult.ADVANCE

    module.operation.walk(cb, ir.WalkOrder.PRE_ORDER)
    return ops


_EX = """func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.exp"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}"""


@register_pass(
    "lower-stablehlo",
    "lower every jx op to StableHLO (jx.call -> func.call)",
    Example(
        "lower-stablehlo{entry=f}",
        _EX,
        ("func.func @f(", "stablehlo.exponential %arg0 : tensor<3xf32>"),
    ),
    options=(
        Option(
            "entry",
            "symbol",
            None,
            "the public entry function (others it calls turn private)",
        ),
        Option("chunk-scans", "bool", True, "long scans as chunked loops (CPU only)"),
        Option("place-stacks", "bool", False, "scans stack their outputs in place, one loop (IREE CPU)"),
        Option("split-conv-groups", "bool", False, "grouped convolutions as one per group (GPU targets)"),
        Option("channels-last-convs", "bool", False, "convolutions transposed to NHWC / HWIO (CPU targets)"),
        Option("fft-as-dft", "bool", False, "FFTs as DFT matmuls (GPU targets: no stablehlo.fft there)"),
        Option("split-f64-batched-dots", "bool", False, "f64 batched dot_generals as one 2-D dot per batch (CPU)"),
        Option("wide-math", "bool", True, "float32 pow / sin / cos / tan / digamma through float64 (not for GPU)"),
    ),
)
def lower_stablehlo(
    module,
    entry: str | None = None,
    chunk_scans: bool = True,
    place_stacks: bool = False,
    split_conv_groups: bool = False,
    fft_as_dft: bool = False,
    channels_last_convs: bool = False,
    split_f64_batched_dots: bool = False,
    wide_math: bool = True,
):
    """chunk-scans=false: long scans stay one loop (GPU targets; see dialects/control_flow.py).
    place-stacks=true: scans update their stacked outputs in place, in one loop (CPU modules
    for IREE; the output then holds flow.tensor.transfer ops, see dialects/control_flow.py).
    split-conv-groups=true: a grouped convolution becomes one per group (GPU targets; see
    dialects/convolution.py). fft-as-dft=true: every FFT is a DFT as matmuls (GPU targets; see
    dialects/fft.py). channels-last-convs=true: convolutions in other layouts run as NHWC / HWIO
    ones between transposes (CPU targets; see dialects/convolution.py). split-f64-batched-dots=true:
    a large float64 dot_general with a few batch elements becomes one 2-D dot per element (CPU
    targets; see dialects/reductions.py). wide-math=false: float32 pow, sin/cos/tan and digamma
    in IREE's float32 kernels (GPU targets; see dialects/hlo_math.py)."""
    if entry is not None and find_func(module, entry) is None:
        raise LoweringError(f"lower-stablehlo: entry function @{entry} not found in the module")
    token = control_flow.chunk_scans.set(chunk_scans)
    token1 = control_flow.place_stacks.set(itertools.count(1) if place_stacks else None)
    token2 = convolution.split_groups.set(split_conv_groups)
    token3 = fft.as_dft.set(fft_as_dft)
    token4 = convolution.channels_last.set(channels_last_convs)
    token5 = reductions.split_f64_batches.set(split_f64_batched_dots)
    token6 = hlo_math.wide_math.set(bool(wide_math))
    try:
        _lower(module, entry)
    finally:
        hlo_math.wide_math.reset(token6)
        reductions.split_f64_batches.reset(token5)
        convolution.channels_last.reset(token4)
        fft.as_dft.reset(token3)
        convolution.split_groups.reset(token2)
        control_flow.place_stacks.reset(token1)
        control_flow.chunk_scans.reset(token)


def _swaps_free_dims(dot, transpose) -> bool:
    """`transpose` of dot_general(a, b) puts b's free dims before a's, batch dims staying first:
    it is dot_general(b, a)."""
    p = op_params(dot)
    nb = len(p["lhs_batch"])
    nl = aval(dot.operands[0]).ndim - nb - len(p["lhs_contracting"])
    nr = aval(dot.operands[1]).ndim - nb - len(p["rhs_contracting"])
    swap = [*range(nb), *range(nb + nl, nb + nl + nr), *range(nb, nb + nl)]
    return nl > 0 and nr > 0 and list(op_params(transpose)["permutation"]) == swap


def _fold_dot_transposes(module) -> None:
    """transpose(dot_general(a, b)) that puts b's free dims first -> dot_general(b, a).

    Reverse mode writes a weight's cotangent as dot_general(g, x) then a transpose; IREE fuses
    that transpose into the matmul's dispatch as one more loop nest over its result (more code
    to generate, a second pass over the output), where the swapped operands give it directly."""
    for op in _jx_ops(module):
        if op.name != "jx.transpose":
            continue
        src = op.operands[0]
        dot = getattr(src, "owner", None)  # (a block argument's owner is its block)
        if getattr(dot, "name", None) != "jx.dot_general" or len(list(src.uses)) != 1:
            continue
        if not _swaps_free_dims(dot, op):
            continue
        attrs = {k: dot.attributes[k] for k in dot.attributes}
        for k in ("batch", "contracting"):
            attrs["lhs_" + k], attrs["rhs_" + k] = attrs["rhs_" + k], attrs["lhs_" + k]
        with ir.InsertionPoint(op), op.location:
            new = ir.Operation.create(
                "jx.dot_general",
                results=[op.results[0].type],
                operands=[dot.operands[1], dot.operands[0]],
                attributes=attrs,
            )
        op.results[0].replace_all_uses_with(new.results[0])
        op.erase()
        dot.erase()


# Scalar float arithmetic that _fold_scalar_constants evaluates: exactly rounded in IEEE
# arithmetic, so NumPy gives the bits the compiled op would.
_EXACT_SCALAR_OPS = {
    "jx.add": np.add,
    "jx.sub": np.subtract,
    "jx.mul": np.multiply,
    "jx.div": np.divide,
    "jx.neg": np.negative,
}
_FOLD_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _scalar_constant(v):
    """The value of a rank-0 f32/f64 jx.constant `v`, else None."""
    op = getattr(v, "owner", None)  # (a block argument's owner is its block)
    if getattr(op, "name", None) != "jx.constant":
        return None
    a = aval(v)
    if a.shape != () or a.dtype not in _FOLD_DTYPES:
        return None
    return op_params(op)["value"]


def _constant_args_into_callees(module, entry) -> None:
    """A function called once, by a jx.call that passes it a scalar constant, gets that constant
    in its own body: reverse mode's seed cotangent (1.0) reaches the arithmetic it feeds. Only
    private functions and reverse mode's own (transform.REVERSE_MODE): a public one may be
    called from outside too (irjax-compile exports several entry points)."""
    calls, refs = [], {}
    for op in _jx_ops(module):
        for name in callees_of(op):
            refs[name] = refs.get(name, 0) + 1
        if op.name == "jx.call":
            calls.append(op)
    for call in calls:
        (name,) = callees_of(call)
        func = find_func(module, name) if name != entry and refs[name] == 1 else None
        if func is None or not (REVERSE_MODE in func.attributes or _is_private(func)):
            continue
        block = entry_block(func)
        for arg, v in zip(block.arguments, call.operands):
            value = _scalar_constant(v)
            if value is None or not list(arg.uses):
                continue
            with ir.InsertionPoint.at_block_begin(block), func.location:
                arg.replace_all_uses_with(builder.constant(value))


def _is_private(func) -> bool:
    vis = func.attributes["sym_visibility"] if "sym_visibility" in func.attributes else None
    return vis is not None and ir.StringAttr(vis).value == "private"


def _fold_scalar_constants(module) -> None:
    """Scalar float add/sub/mul/div/neg of constants -> their value. IREE hoists such a constant
    expression into an initializer that runs a dispatch of its own at load (const-eval is off),
    where a literal costs nothing: the MLP's loss scale -1/128 was one."""
    for op in _jx_ops(module):
        fn = _EXACT_SCALAR_OPS.get(op.name)
        if fn is None or aval(op.results[0]).dtype not in _FOLD_DTYPES:
            continue
        values = [_scalar_constant(v) for v in op.operands]
        if any(x is None for x in values):
            continue
        with np.errstate(all="ignore"):  # inf and nan fold as they compute
            value = np.asarray(fn(*values), aval(op.results[0]).dtype)
        with ir.InsertionPoint(op), op.location:
            op.results[0].replace_all_uses_with(builder.constant(value))
        inputs = {v.owner for v in op.operands}
        op.erase()
        for c in inputs:  # the folded constants, unless something else uses them
            if not list(c.results[0].uses):
                c.erase()


def _lower(module, entry):
    called = set()
    with enter():
        _fold_dot_transposes(module)
        _constant_args_into_callees(module, entry)
        _fold_scalar_constants(module)
        for op in _jx_ops(module):
            prim = registry.get(op.name)
            lower = lowering_rule(prim)
            if lower is None:
                raise LoweringError(f"{op.name} has no StableHLO lowering")
            called.update(callees_of(op))  # call-like ops: their callees turn private
            with ir.InsertionPoint(op), op.location:
                out = lower(LowerCtx(op), *op.operands, **op_params(op))
                results = out if isinstance(out, (list, tuple)) else [out]
                for old, new_v in zip(op.results, results):
                    old.replace_all_uses_with(new_v)
            op.erase()
        names = set(func_names(module))
        for n in called:
            if n in names and n != entry:
                find_func(module, n).attributes["sym_visibility"] = ir.StringAttr.get("private")
        for n in names:  # a jx-level mark (transform.py) that StableHLO has no use for
            attrs = find_func(module, n).attributes
            if REVERSE_MODE in attrs:
                del attrs[REVERSE_MODE]
