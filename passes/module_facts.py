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
    tileable_dot_flops: float = 0.0  # the part of dot_flops whose M, N, K are all >= TILEABLE_MIN
    max_tileable_k: int = 0  # the largest contracted size K of those dot_generals
    max_tileable_mnk: float = 0.0  # the largest 2 * M * N * K of one of them (per batch element)
    conv_flops: float = 0.0  # 2 * |result| * window * input features per group, over convolutions
    dot_types: frozenset = frozenset()  # the dot_generals' operand element types, e.g. {"f32", "bf16"}
    batched_dots: bool = False  # a dot_general with batching dimensions
    # a dot_general result that reaches, through elementwise ops, anything but a dot_general, a
    # return or an elementwise op on scalars and same-shape values: a reduction, a reshape, an
    # array broadcast (x @ w + b), ... (what IREE 3.13's inner_tiled lowering may fail to fuse)
    dot_epilogues: bool = False
    conv_types: frozenset = frozenset()  # the convolutions' operand and result element types
    conv_channels_first: bool = False  # a convolution whose input's feature dim is not the last (NCHW)
    # the most elements one output of a stablehlo.reduce or dot_general sums (its reduced or
    # contracting extent; dynamic dims count as 0): long chains are what reassociation speeds up
    max_reduction: int = 0
    max_tensor_args: int = 0  # the most tensor arguments of one function
    source_constants: int = 0  # non-splat constants: each becomes a buffer of its own
    entry: str | None = None  # the first public function
    # functions declared without a body, which IREE imports from another module:
    # (name, argument ShapedTypes, result ShapedTypes)
    imports: tuple = ()
    # elements computed by transcendental ops (exp, log, tanh, sine, ...; see TRANSCENDENTAL),
    # static-shaped results summed, each op once: elementwise work worth a second core
    transcendental_elements: int = 0
    # transcendental ops whose result has the rank of the entry's highest-rank argument (in a
    # shape-generic module, those that work on whole inputs rather than on reduced values)
    transcendental_full_rank_ops: int = 0
    # the entry's results: bytes of the static-shaped ones, and bytes per element over those of
    # the rank of its highest-rank argument (in a shape-generic module: results as big as an input)
    result_bytes: int = 0
    result_itemsizes: int = 0
    entry_dynamic: bool = False  # an argument of the entry with a dynamic dim (shape-generic)
    # (operand elements, result elements, over leading axes only) of each static-shaped
    # stablehlo.reduce (of its first operand)
    reduces: tuple = ()
    max_result_rank: int = 0  # the highest rank of any op's (tensor) result: 0 for scalar-only modules

    def count(self, *names: str) -> int:
        return sum(self.op_counts.get(n, 0) for n in names)


TRANSCENDENTAL = frozenset(
    "stablehlo." + n
    for n in (
        "exponential exponential_minus_one log log_plus_one logistic tanh sine cosine tan power atan2 cbrt"
    ).split()
)

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


def _result_bytes(types, rank: int) -> tuple[int, int]:
    """(bytes of the static-shaped tensors among `types`, bytes per element summed over the
    tensors of at least `rank` dims)."""
    total = per_element = 0
    for t in types:
        if not isinstance(t, ir.RankedTensorType):
            continue
        try:
            itemsize = shape_dtype(t)[1].itemsize
        except (KeyError, TypeError, ValueError):  # (an element type NumPy has no name for)
            continue
        if t.rank >= rank:
            per_element += itemsize
        n = _static_size(t)
        total += 0 if n is None else n * itemsize
    return total, per_element


def _dot_mnk(op, dims: dict) -> tuple[int, int, int] | None:
    """(M, N, K) of a dot_general with dimension numbers `dims`: the lhs free, rhs free and
    contracted sizes (batch dims apart); None for dynamic shapes."""
    lhs, rhs = op.operands[0].type, op.operands[1].type
    if _static_size(lhs) is None or _static_size(rhs) is None:
        return None
    ls, rs = ir.RankedTensorType(lhs).shape, ir.RankedTensorType(rhs).shape

    def free(shape, side):
        used = set(dims.get(f"{side}_contracting_dimensions", [])) | set(dims.get(f"{side}_batching_dimensions", []))
        n = 1
        for i, d in enumerate(shape):
            n *= 1 if i in used else d
        return n

    return free(ls, "lhs"), free(rs, "rhs"), _contracted(ls, dims)


def _contracted(lhs_shape, dims: dict) -> int:
    k = 1
    for d in dims.get("lhs_contracting_dimensions", []):
        k *= lhs_shape[d]
    return k


def _reduced_extent(op) -> int:
    """Elements a stablehlo.reduce folds into each output (0 with a dynamic reduced dim)."""
    shape = ir.RankedTensorType(op.operands[0].type).shape
    n = 1
    for d in ir.DenseI64ArrayAttr(op.attributes["dimensions"]):
        if shape[d] < 0:
            return 0
        n *= shape[d]
    return n


def _dot_flops(op, dims: dict) -> float:
    lhs, out = op.operands[0].type, op.results[0].type
    if _static_size(lhs) is None or _static_size(out) is None:
        return 0.0  # dynamic shapes: unknown, as small
    return 2.0 * _static_size(out) * _contracted(ir.RankedTensorType(lhs).shape, dims)


# a dot_general whose M, N and K all reach this is worth data tiling (IREE's f32 tiles are 8x8 on
# AVX2: an N of 10 pads to 16, a matvec's N of 1 to 8)
TILEABLE_MIN = 16


# elementwise ops IREE fuses into the dispatch of the matmul that produces their operand
_ELEMENTWISE = frozenset(
    "stablehlo." + n
    for n in (
        "add subtract multiply divide maximum minimum negate abs exponential log tanh logistic "
        "sqrt rsqrt convert select clamp compare power sine cosine floor ceil sign"
    ).split()
)


def _defining_op_name(value) -> str | None:
    owner = value.owner
    return owner.name if isinstance(owner, ir.OpView) else None


def _is_array_broadcast(value) -> bool:
    if _defining_op_name(value) != "stablehlo.broadcast_in_dim":
        return False
    src = value.owner.operands[0].type
    return isinstance(src, ir.ShapedType) and ir.ShapedType(src).rank > 0


def _is_tileable_dot(op) -> bool:
    mnk = _dot_mnk(op, dot_dimension_numbers(op))
    return mnk is not None and min(mnk) >= TILEABLE_MIN


def _has_epilogue(dot, calls: dict) -> bool:
    """Whether the dot_general's result reaches, through elementwise ops on it and on scalars or
    same-shape values (and out of the functions that return it, `calls`: callee name -> its
    func.call ops), any other op than a tileable dot_general or the entry's return
    (ModuleFacts.dot_epilogues)."""
    stack, seen = [dot.results[0]], set()
    while stack:
        for use in stack.pop().uses:
            user = use.owner
            if user.name == "func.return":
                callee = ir.StringAttr(user.parent.attributes["sym_name"]).value
                stack.extend(call.results[use.operand_number] for call in calls.get(callee, ()))
                continue
            if user.name == "stablehlo.dot_general" and _is_tileable_dot(user):
                continue
            if user.name not in _ELEMENTWISE or any(_is_array_broadcast(v) for v in user.operands):
                return True
            if user.operation not in seen:  # (Operations compare and hash by the op itself;
                seen.add(user.operation)  # each `owner` is a new wrapper, whose id() may recur)
                stack.extend(user.results)
    return False


def _conv_layouts(op) -> tuple[list[str], list[str], list[str]] | None:
    """The lhs, rhs and result layouts of a convolution, e.g. (['b', 'f', '0', '1'], ...)."""
    m = re.search(r"\[([^\]]*)\]x\[([^\]]*)\]->\[([^\]]*)\]", str(op.attributes["dimension_numbers"]))
    return None if m is None else tuple([c.strip() for c in g.split(",")] for g in m.groups())


def _conv_flops(op, layouts) -> float:
    """2 * |result| * (kernel window * input features per group) of a convolution with
    `layouts` (_conv_layouts)."""
    rhs, out = op.operands[1].type, op.results[0].type
    if _static_size(rhs) is None or _static_size(out) is None or layouts is None:
        return 0.0
    shape = ir.RankedTensorType(rhs).shape
    kernel = layouts[1]
    per_out = 1
    for i, c in enumerate(kernel):
        per_out *= shape[i] if c != "o" else 1
    return 2.0 * _static_size(out) * per_out


def facts(module: ir.Module) -> ModuleFacts:
    """Walk `module` (already parsed, its context current) once."""
    counts: Counter = Counter()
    state = {
        "f64": False,
        "flops": 0.0,
        "tileable": 0.0,
        "tileable_k": 0,
        "tileable_mnk": 0.0,
        "conv": 0.0,
        "nchw": False,
        "args": 0,
        "consts": 0,
        "entry": None,
        "batched": False,
        "epilogues": False,
        "reduction": 0,
        "transcendental": 0,
        "transcendental_full": 0,
        "entry_rank": 0,
        "result_bytes": 0,
        "result_itemsizes": 0,
        "entry_dynamic": False,
        "rank": 0,
    }
    dot_types: set = set()
    conv_types: set = set()
    imports, reduces = [], []
    dots, calls = [], {}  # (for dot_epilogues, once every call is seen)

    def cb(op):
        name = op.name
        counts[name] += 1
        if not state["f64"]:
            state["f64"] = any(_is_f64(v.type) for v in (*op.operands, *op.results))
        for v in op.results:
            t = v.type
            if isinstance(t, ir.ShapedType):
                if t.has_rank and t.rank > state["rank"]:
                    state["rank"] = t.rank
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
                ftype = ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)
                tensors = [t for t in ftype.inputs if isinstance(t, ir.RankedTensorType)]
                state["entry_rank"] = max((t.rank for t in tensors), default=0)
                state["entry_dynamic"] = any(not t.has_static_shape for t in tensors)
                state["result_bytes"], state["result_itemsizes"] = _result_bytes(ftype.results, state["entry_rank"])
        elif name == "stablehlo.constant":
            v = op.attributes["value"]
            state["consts"] += not (isinstance(v, ir.DenseElementsAttr) and v.is_splat)
        elif name == "stablehlo.dot_general":
            dims = dot_dimension_numbers(op)
            flops = _dot_flops(op, dims)
            state["flops"] += flops
            mnk = _dot_mnk(op, dims)
            if mnk is not None and min(mnk) >= TILEABLE_MIN:
                state["tileable"] += flops
                state["tileable_k"] = max(state["tileable_k"], mnk[2])
                state["tileable_mnk"] = max(state["tileable_mnk"], 2.0 * mnk[0] * mnk[1] * mnk[2])
            dot_types.update(str(ir.ShapedType(v.type).element_type) for v in op.operands)
            state["batched"] = state["batched"] or bool(dims.get("lhs_batching_dimensions"))
            lhs = ir.RankedTensorType(op.operands[0].type)
            if lhs.has_static_shape:
                state["reduction"] = max(state["reduction"], _contracted(lhs.shape, dims))
            dots.append(op)
        elif name == "stablehlo.reduce":
            state["reduction"] = max(state["reduction"], _reduced_extent(op))
            sizes = (_static_size(op.operands[0].type), _static_size(op.results[0].type))
            if None not in sizes:
                dims = sorted(ir.DenseI64ArrayAttr(op.attributes["dimensions"]))
                reduces.append((*sizes, dims == list(range(len(dims)))))
        elif name == "func.call":
            calls.setdefault(ir.FlatSymbolRefAttr(op.attributes["callee"]).value, []).append(op)
        elif name == "stablehlo.convolution":
            conv_types.update(str(ir.ShapedType(v.type).element_type) for v in (*op.operands, *op.results))
            layouts = _conv_layouts(op)
            state["conv"] += _conv_flops(op, layouts)
            state["nchw"] = state["nchw"] or (layouts is not None and layouts[0][-1] != "f")
        elif name in TRANSCENDENTAL:
            t = op.results[0].type
            state["transcendental"] += _static_size(t) or 0
            if isinstance(t, ir.RankedTensorType) and t.rank >= state["entry_rank"]:
                state["transcendental_full"] += 1
        else:
            for region in op.regions:  # (loop and branch bodies: their arguments)
                for block in region.blocks:
                    if not state["f64"]:
                        state["f64"] = any(_is_f64(a.type) for a in block.arguments)
        return ir.WalkResult.ADVANCE

    module.operation.walk(cb, ir.WalkOrder.PRE_ORDER)
    state["epilogues"] = any(_has_epilogue(d, calls) for d in dots)
    return ModuleFacts(
        True,
        types.MappingProxyType(dict(counts)),
        state["f64"],
        state["flops"],
        state["tileable"],
        state["tileable_k"],
        state["tileable_mnk"],
        state["conv"],
        frozenset(dot_types),
        state["batched"],
        state["epilogues"],
        frozenset(conv_types),
        state["nchw"],
        state["reduction"],
        state["args"],
        state["consts"],
        state["entry"],
        tuple(imports),
        state["transcendental"],
        state["transcendental_full"],
        state["result_bytes"],
        state["result_itemsizes"],
        state["entry_dynamic"],
        tuple(reduces),
        state["rank"],
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
