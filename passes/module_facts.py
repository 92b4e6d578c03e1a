"""What a StableHLO module holds, read by walking its parsed IR: op counts, float64 values,
dot_general FLOPs, function arguments and non-splat constants. The compiler's decisions (flags,
input copies, driver, dispatch splitting) are taken on these facts, not on the printed text."""

from __future__ import annotations

import functools
import re
import types
from collections import Counter
from dataclasses import dataclass, field

from irjax.dialects.mlir import enter, ir, shape_dtype
from irjax.dialects.registry import ShapedType


@dataclass(frozen=True)
class ModuleFacts:
    """parsed=False: the text did not parse (IREE reports why); every count is then zero."""

    parsed: bool = False
    op_counts: types.MappingProxyType = field(default_factory=lambda: types.MappingProxyType({}))
    has_f64: bool = False  # a float64 (or complex<f64>) value or argument anywhere
    dot_flops: float = 0.0  # 2 * |result| * |contracted| summed over static-shaped dot_generals
    dot_types: frozenset = frozenset()  # the dot_generals' operand element types, e.g. {"f32", "bf16"}
    max_tensor_args: int = 0  # the most tensor arguments of one function
    source_constants: int = 0  # non-splat constants: each becomes a buffer of its own
    entry: str | None = None  # the first public function
    # functions declared without a body, which IREE imports from another module:
    # (name, argument ShapedTypes, result ShapedTypes)
    imports: tuple = ()

    def count(self, *names: str) -> int:
        return sum(self.op_counts.get(n, 0) for n in names)


# The bindings have no Python class for #stablehlo.dot: its printed form is the only accessor.
_DOT_FIELD = re.compile(r"(\w+) = \[([0-9, ]*)\]")


def dot_dimension_numbers(op) -> dict[str, list[int]]:
    """The fields of a dot_general's #stablehlo.dot attribute, e.g. {"lhs_contracting_dimensions": [1], ...}
    (a field that is absent is an empty list)."""
    text = str(op.attributes["dot_dimension_numbers"])
    return {k: [int(v) for v in vals.split(",") if v.strip()] for k, vals in _DOT_FIELD.findall(text)}


def _is_f64(t) -> bool:
    if isinstance(t, ir.ShapedType):
        t = t.element_type
    if isinstance(t, ir.ComplexType):
        t = t.element_type
    return isinstance(t, ir.F64Type)


def _static_size(t) -> int | None:
    if not isinstance(t, ir.RankedTensorType) or not t.has_static_shape:
        return None
    n = 1
    for d in t.shape:
        n *= d
    return n


def _dot_flops(op) -> float:
    lhs, out = op.operands[0].type, op.results[0].type
    if _static_size(lhs) is None or _static_size(out) is None:
        return 0.0  # dynamic shapes: unknown, as small
    shape = ir.RankedTensorType(lhs).shape
    k = 1
    for d in dot_dimension_numbers(op).get("lhs_contracting_dimensions", []):
        k *= shape[d]
    return 2.0 * _static_size(out) * k


def facts(module: ir.Module) -> ModuleFacts:
    """Walk `module` (already parsed, its context current) once."""
    counts: Counter = Counter()
    state = {"f64": False, "flops": 0.0, "args": 0, "consts": 0, "entry": None}
    dot_types: set = set()
    imports = []

    def cb(op):
        name = op.name
        counts[name] += 1
        if not state["f64"]:
            state["f64"] = any(_is_f64(v.type) for v in (*op.operands, *op.results))
        if name == "func.func":
            args = op.regions[0].blocks[0].arguments if len(op.regions[0].blocks) else []
            if not len(op.regions[0].blocks):
                ftype = ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)
                imports.append(
                    (
                        ir.StringAttr(op.attributes["sym_name"]).value,
                        tuple(ShapedType(*shape_dtype(t)) for t in ftype.inputs),
                        tuple(ShapedType(*shape_dtype(t)) for t in ftype.results),
                    )
                )
            state["args"] = max(state["args"], sum(isinstance(a.type, ir.ShapedType) for a in args))
            state["f64"] = state["f64"] or any(_is_f64(a.type) for a in args)
            public = "sym_visibility" not in op.attributes or op.attributes["sym_visibility"].value == "public"
            if public and state["entry"] is None:
                state["entry"] = ir.StringAttr(op.attributes["sym_name"]).value
        elif name == "stablehlo.constant":
            v = op.attributes["value"]
            state["consts"] += not (isinstance(v, ir.DenseElementsAttr) and v.is_splat)
        elif name == "stablehlo.dot_general":
            state["flops"] += _dot_flops(op)
            dot_types.update(str(ir.ShapedType(v.type).element_type) for v in op.operands)
        else:
            for region in op.regions:  # (loop and branch bodies: their arguments)
                for block in region.blocks:
                    if not state["f64"]:
                        state["f64"] = any(_is_f64(a.type) for a in block.arguments)
        return ir.WalkResult.ADVANCE

    module.operation.walk(cb, ir.WalkOrder.PRE_ORDER)
    return ModuleFacts(
        True,
        types.MappingProxyType(dict(counts)),
        state["f64"],
        state["flops"],
        frozenset(dot_types),
        state["args"],
        state["consts"],
        state["entry"],
        tuple(imports),
    )


@functools.lru_cache(maxsize=32)
def facts_of_text(text: str) -> ModuleFacts:
    """facts() of a module's text, parsed in the shared context (cached: the compiler asks several
    questions of one text). Text that does not parse gives ModuleFacts() (IREE then says why)."""
    with enter():
        try:
            module = ir.Module.parse(text)
        except ir.MLIRError:
            return ModuleFacts()
        return facts(module)
