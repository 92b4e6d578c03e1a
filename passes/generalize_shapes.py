"""generalize-shapes: an elementwise StableHLO @main over one static shape becomes the same
function over dynamic dimensions, so one IREE executable serves every shape of that rank.

IREE compiles a module in ~0.3 s, whatever its size; a jitted elementwise function called on
50 shapes paid 50 compiles. Shape-generic modules run about as fast (tanh(x)*2+1: 6.0 us
generic vs 5.6 us specialised at n=1000; DESIGN.md), so the runtime compiles the generic form
from a function's second shape on (frontend/dispatch.py). Only whole-function elementwise
code qualifies: every value has the one shape S or is a scalar, and the ops are elementwise
ones, scalar constants or splats, and broadcasts of scalars:

    func.func @main(%x: tensor<5x3xf32>) -> tensor<5x3xf32>
      %c = stablehlo.constant dense<2.0> : tensor<f32>
      %b = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<f32>) -> tensor<5x3xf32>
      %r = stablehlo.multiply %x, %b : tensor<5x3xf32>
becomes
    func.func @main(%x: tensor<?x?xf32>) -> tensor<?x?xf32>
      %d0 = stablehlo.get_dimension_size %x, dim 0 ; %d1 = ... ; %s = concatenate -> tensor<2xi32>
      %b = stablehlo.dynamic_broadcast_in_dim %c, %s, dims = [] : ... -> tensor<?x?xf32>
      %r = stablehlo.multiply %x, %b : tensor<?x?xf32>
"""

from __future__ import annotations

import threading

from irjax.dialects.mlir import enter, ir

from .registry import Example, register_pass

# StableHLO ops that map each element of same-shaped operands to the result's element.
ELEMENTWISE = frozenset(
    "stablehlo." + n
    for n in (
        # bitcast_convert keeps the shape only between equal widths; other widths fail the one-shape rule
        "abs add and atan2 bitcast_convert cbrt ceil clamp compare convert cosine count_leading_zeros divide "
        "exponential exponential_minus_one floor is_finite log log_plus_one logistic maximum "
        "minimum multiply negate not or popcnt power real imag remainder round_nearest_afz "
        "round_nearest_even rsqrt select shift_left shift_right_arithmetic shift_right_logical "
        "sign sine sqrt subtract tan tanh xor"
    ).split()
)
_CHLO_ELEMENTWISE = frozenset(
    "chlo." + n for n in "erf erfc erf_inv lgamma digamma tan sinh cosh asin acos atan".split()
)

_cache: dict[str, str | None] = {}
_lock = threading.Lock()


def generalize(text: str) -> str | None:
    """The shape-generic form of a StableHLO module, or None where it does not qualify
    (not elementwise, several functions, no argument of the common shape, ...)."""
    with _lock:
        if text in _cache:
            return _cache[text]
    try:
        out = _generalize(text)
    except (ValueError, TypeError, KeyError):
        out = None
    with _lock:
        _cache[text] = out
    return out


def _shape(t: ir.Type):
    return tuple(ir.RankedTensorType(t).shape)  # ValueError for anything else


def _complex(t: ir.Type) -> bool:
    return isinstance(ir.RankedTensorType(t).element_type, ir.ComplexType)


def _generalize(text: str) -> str | None:
    with enter():
        module = ir.Module.parse(text)
        funcs = [op for op in module.body.operations]
        if len(funcs) != 1 or funcs[0].operation.name != "func.func":
            return None
        func = funcs[0].operation
        if ir.StringAttr(func.attributes["sym_name"]).value != "main":
            return None
        block = func.regions[0].blocks[0]
        ops = _ops(func)
        shapes = {_shape(a.type) for a in block.arguments}
        for op in ops:
            shapes |= {_shape(r.type) for r in op.results}
        # IREE's complex expansions build static-shaped constants: not on tensor<?x>
        if any(_complex(a.type) for a in block.arguments) or any(_complex(r.type) for op in ops for r in op.results):
            return None
        big = {s for s in shapes if s != ()}
        if len(big) != 1:
            return None
        (common,) = big
        if any(d <= 0 for d in common):
            return None  # already dynamic (< 0), or zero-size (never reaches IREE's kernels)
        # the argument whose dimensions the broadcasts read: IREE 3.13 cannot lower
        # get_dimension_size of an unsigned tensor (an illegal tensor.dim is left), so never one
        anchor = next((a for a in block.arguments if _shape(a.type) == common and not _unsigned(a.type)), None)
        if anchor is None:
            return None
        for op in ops:
            if not _allowed(op, common):
                return None
        return _emit(block, ops, common, anchor)


def _ops(func) -> list:
    ops = []
    root = func

    def cb(op):
        if op == root:
            return ir.WalkResult.ADVANCE
        ops.append(op)
        return ir.WalkResult.SKIP

    root.walk(cb, ir.WalkOrder.PRE_ORDER)
    return ops


def _allowed(op, common) -> bool:
    name = op.name
    if name in ELEMENTWISE or name in _CHLO_ELEMENTWISE:
        return len(op.regions) == 0
    if name == "func.return":
        return True
    if name == "stablehlo.constant":
        shape = _shape(op.results[0].type)
        return shape == () or ir.DenseElementsAttr(op.attributes["value"]).is_splat
    if name == "stablehlo.broadcast_in_dim":
        return _shape(op.operands[0].type) == ()
    return False


def _dyn_type(t: ir.Type, common) -> str:
    s = str(t)
    if _shape(t) != common:
        return s
    elem = str(ir.RankedTensorType(t).element_type)
    return "tensor<" + "?x" * len(common) + elem + ">"


def _unsigned(t) -> bool:
    e = ir.ShapedType(t).element_type
    return isinstance(e, ir.IntegerType) and e.is_unsigned


def _emit(block, ops, common, anchor) -> str:
    """The generic function as text (built as text: IREE is handed text, never Python-built ops)."""
    names: dict = {}
    lines = []
    counter = [0]

    def fresh() -> str:
        counter[0] += 1
        return f"%v{counter[0]}"

    args = []
    for i, a in enumerate(block.arguments):
        names[a] = f"%arg{i}"
        args.append(f"%arg{i}: {_dyn_type(a.type, common)}")
    rank = len(common)
    shape_lines: list[str] = []  # kept only if a broadcast needs the shape
    anchor_t = _dyn_type(anchor.type, common)
    parts = []
    for d in range(rank):
        size, row = fresh(), fresh()
        shape_lines.append(
            f'{size} = "stablehlo.get_dimension_size"({names[anchor]}) {{dimension = {d} : i64}} : '
            f"({anchor_t}) -> tensor<i32>"
        )
        shape_lines.append(f'{row} = "stablehlo.reshape"({size}) : (tensor<i32>) -> tensor<1xi32>')
        parts.append(row)
    shape = parts[0]
    if rank > 1:
        shape = fresh()
        shape_lines.append(
            f'{shape} = "stablehlo.concatenate"({", ".join(parts)}) {{dimension = 0 : i64}} : '
            f"({', '.join(['tensor<1xi32>'] * rank)}) -> tensor<{rank}xi32>"
        )
    shape_t = f"tensor<{rank}xi32>"
    results: list[str] = []
    for op in ops:
        if op.name == "func.return":
            results = [names[v] for v in op.operands]
            ret_types = [_dyn_type(v.type, common) for v in op.operands]
            lines.append(f'"func.return"({", ".join(results)}) : ({", ".join(ret_types)}) -> ()')
            break
        out = fresh()
        names[op.results[0]] = out
        rtype = _dyn_type(op.results[0].type, common)
        if op.name == "stablehlo.constant" and _shape(op.results[0].type) == common:
            splat = str(ir.DenseElementsAttr(op.attributes["value"]).get_splat_value())
            elem = str(ir.RankedTensorType(op.results[0].type).element_type)
            scalar = fresh()
            lines.append(
                f'{scalar} = "stablehlo.constant"() {{value = dense<{_literal(splat)}> : tensor<{elem}>}} : '
                f"() -> tensor<{elem}>"
            )
            lines.append(_dyn_broadcast(out, scalar, f"tensor<{elem}>", shape, shape_t, rtype))
        elif op.name == "stablehlo.broadcast_in_dim":
            src = op.operands[0]
            lines.append(_dyn_broadcast(out, names[src], str(src.type), shape, shape_t, rtype))
        else:
            attrs = ", ".join(f"{k} = {op.attributes[k]}" for k in op.attributes)
            operands = ", ".join(names[v] for v in op.operands)
            in_types = ", ".join(_dyn_type(v.type, common) for v in op.operands)
            lines.append(f'{out} = "{op.name}"({operands}) {{{attrs}}} : ({in_types}) -> {rtype}')
    if any("dynamic_broadcast_in_dim" in line for line in lines):
        lines = shape_lines + lines
    body = "\n    ".join(lines)
    fn_type = ", ".join(ret_types)
    return f"module {{\n  func.func @main({', '.join(args)}) -> ({fn_type}) {{\n    {body}\n  }}\n}}\n"


def _literal(splat_text: str) -> str:
    """`2.000000e+00 : f32` (an attribute's text) -> `2.000000e+00`."""
    return splat_text.rsplit(":", 1)[0].strip() if ":" in splat_text else splat_text


def _dyn_broadcast(out, src, src_t, shape, shape_t, rtype) -> str:
    return (
        f'{out} = "stablehlo.dynamic_broadcast_in_dim"({src}, {shape}) '
        f"{{broadcast_dimensions = array<i64>}} : ({src_t}, {shape_t}) -> {rtype}"
    )


_EXAMPLE = """func.func @main(%x: tensor<5x3xf32>) -> tensor<5x3xf32> {
  %c = stablehlo.constant dense<2.0> : tensor<f32>
  %b = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<f32>) -> tensor<5x3xf32>
  %r = stablehlo.multiply %x, %b : tensor<5x3xf32>
  return %r : tensor<5x3xf32>
}"""


@register_pass(
    "generalize-shapes",
    "an elementwise StableHLO @main over one shape -> the same over dynamic dims (else unchanged)",
    Example(
        "generalize-shapes",
        _EXAMPLE,
        ("stablehlo.get_dimension_size", "stablehlo.dynamic_broadcast_in_dim", "stablehlo.multiply", "tensor<?x?xf32>"),
    ),
)
def generalize_shapes_pass(module):
    generic = generalize(str(module))
    if generic is None:
        return
    with enter():
        new = ir.Module.parse(generic)
        for op in list(module.body.operations):
            op.erase()
        for op in list(new.body.operations):
            op.operation.clone(ir.InsertionPoint(module.body))
