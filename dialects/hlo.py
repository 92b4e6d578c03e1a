"""Helpers that build StableHLO ops by name (the bindings have no StableHLO builders)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .attrs import dense
from .builder import aval, ir_type
from .mlir import ir, tensor_type
from .registry import ShapedType

_attr_cache: dict = {}


def attr(text: str) -> ir.Attribute:
    a = _attr_cache.get(text)
    if a is None:
        a = _attr_cache[text] = ir.Attribute.parse(text)
    return a


def _type(t):
    return ir_type(t) if isinstance(t, ShapedType) else t


def op(name: str, operands: Sequence, results: Sequence, attrs: dict | None = None) -> list:
    """Create `name` at the insertion point; results are ShapedTypes or ir.Types."""
    attributes = {}
    for k, v in (attrs or {}).items():
        attributes[k] = attr(v) if isinstance(v, str) else v
    o = ir.Operation.create(name, results=[_type(t) for t in results], operands=list(operands), attributes=attributes)
    return list(o.results)


def op1(name, operands, result, attrs=None):
    return op(name, operands, [result], attrs)[0]


def barrier(xs: Sequence) -> list:
    """xs through one stablehlo.optimization_barrier: IREE fuses nothing across it."""
    return op("stablehlo.optimization_barrier", list(xs), [x.type for x in xs])


def with_region(
    name: str,
    operands: Sequence,
    results: Sequence,
    attrs: dict | None,
    arg_types: Sequence,
    body: Callable,
) -> list:
    """An op with one single-block region; `body(*block_args)` returns the values to yield."""
    attributes = {k: (attr(v) if isinstance(v, str) else v) for k, v in (attrs or {}).items()}
    o = ir.Operation.create(
        name,
        results=[_type(t) for t in results],
        operands=list(operands),
        attributes=attributes,
        regions=1,
    )
    block = o.regions[0].blocks.append(*[_type(t) for t in arg_types])
    with ir.InsertionPoint(block):
        outs = body(*block.arguments)
        ir.Operation.create("stablehlo.return", operands=list(outs))
    return list(o.results)


def scalar_type(dtype) -> ir.Type:
    return tensor_type((), dtype)


def constant(value, dtype=None, shape=None) -> ir.Value:
    arr = np.asarray(value, dtype=dtype)
    if shape is not None and arr.shape != tuple(shape):
        arr = np.broadcast_to(arr, shape)
    if arr.dtype.kind == "c":  # two real literals: see dialects/builder.constant
        re, im = constant(arr.real.copy()), constant(arr.imag.copy())
        return op1("stablehlo.complex", [re, im], tensor_type(arr.shape, arr.dtype))
    return op1("stablehlo.constant", [], tensor_type(arr.shape, arr.dtype), {"value": dense(arr)})


def broadcast(x, shape, dims) -> ir.Value:
    a = aval(x)
    return op1(
        "stablehlo.broadcast_in_dim",
        [x],
        ShapedType(tuple(shape), a.dtype),
        {"broadcast_dimensions": ir.DenseI64ArrayAttr.get(list(dims))},
    )


def splat(value, dtype, shape) -> ir.Value:
    """A `shape` tensor of `value`: a scalar constant broadcast (not a dense literal of the shape)."""
    return broadcast(constant(np.array(value, dtype)), shape, ())


def i64s(xs) -> ir.Attribute:
    return ir.DenseI64ArrayAttr.get([int(v) for v in xs])


def compare_type(dtype) -> str:
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":  # complex compares (EQ/NE only) are FLOAT, as in StableHLO's spec
        return "FLOAT"
    if dtype.kind == "u" or dtype.kind == "b":
        return "UNSIGNED"
    return "SIGNED"


def compare(a, b, direction: str) -> ir.Value:
    av = aval(a)
    return op1(
        "stablehlo.compare",
        [a, b],
        ShapedType(av.shape, np.dtype(np.bool_)),
        {
            "comparison_direction": f"#stablehlo<comparison_direction {direction}>",
            "compare_type": f"#stablehlo<comparison_type {compare_type(av.dtype)}>",
        },
    )


def reducer_identity(kind: str, dtype) -> object:
    dtype = np.dtype(dtype)
    if kind == "sum":
        return 0
    if kind == "prod":
        return 1
    if kind in ("max", "min"):
        if dtype.kind == "f":
            return -np.inf if kind == "max" else np.inf
        if dtype.kind == "b":
            return kind == "min"
        info = np.iinfo(dtype)
        return info.min if kind == "max" else info.max
    if kind == "and":
        return True if dtype.kind == "b" else -1
    if kind == "or":
        return False if dtype.kind == "b" else 0
    raise ValueError(kind)


REDUCER_OPS = {
    "sum": "stablehlo.add",
    "prod": "stablehlo.multiply",
    "max": "stablehlo.maximum",
    "min": "stablehlo.minimum",
    "and": "stablehlo.and",
    "or": "stablehlo.or",
}


def reduce(x, axes, kind: str) -> ir.Value:
    a = aval(x)
    if a.size == 0:
        # nothing to reduce: the identity (IREE 3.13 dies with SIGFPE on an empty reduce)
        out = ShapedType(tuple(d for i, d in enumerate(a.shape) if i not in axes), a.dtype)
        return splat(reducer_identity(kind, a.dtype), a.dtype, out.shape)
    if len(a.shape) > 1 and sorted(axes) == list(range(len(a.shape))):
        # IREE 3.13 fails to compile a full multi-axis reduce of x * broadcast(v) ('vector.contract'
        # op invalid accumulator/result vector shape); flattening first sidesteps it
        x = op1("stablehlo.reshape", [x], ShapedType((a.size,), a.dtype))
        a, axes = aval(x), (0,)
    out = ShapedType(tuple(d for i, d in enumerate(a.shape) if i not in axes), a.dtype)
    static = all(d >= 0 for d in a.shape)
    if kind in ("max", "min") and a.dtype in _ORDERED_INTS and static and a.size >= ORDERED_MIN:
        return _from_ordered(reduce(_to_ordered(x, kind), axes, kind), kind, out)
    k = len(axes)
    float_sum = kind == "sum" and a.dtype.kind == "f"
    if (float_sum or kind in ("max", "min")) and 0 < k < len(a.shape) and sorted(axes) == list(range(k)):
        rows = int(np.prod(a.shape[:k]))  # (negative for a dynamic dim: below every bound)
        if rows >= DOT_SUM_MIN_ROWS:
            cols = int(np.prod(a.shape[k:]))
            slabs = _slab_factors(rows) if cols >= SLAB_SUM_MIN_COLS else None
            if slabs:
                stages = []
                for s in slabs:
                    stages.append(((s, rows // s, cols), 0))
                    rows //= s
                return _leading_in_stages(x, a, k, stages, kind, out)
            b = _block_rows(rows)
            if b is not None and cols >= BLOCKED_SUM_MIN_COLS:
                return _leading_in_stages(x, a, k, [((rows // b, b, cols), 1)], kind, out)
            if float_sum:
                return _sum_leading_as_dot(x, a, k, out)
    n = _extent(a, axes) if static else 0  # (a dynamic dim: as short)
    if float_sum and n >= PLUS_ZERO_MIN and not _matvec_like(x):
        x = _plus_zero(x)
    trailing = sorted(axes) == list(range(a.ndim - k, a.ndim))
    if kind == "sum" and a.dtype.kind in "fc" and n >= TWO_LEVEL_MIN and trailing:
        return _sum_two_level(x, a, k, n, out)
    return _reduce_op(x, axes, kind, out)


# Float max and min of >= 2^14 elements reduce integers that order as the floats do: IREE's llvm-cpu
# code for a float maximum carries one accumulator through vmaxps and its NaN and signed-zero
# fix-ups, an integer max is one instruction (iree-benchmark-module, one thread, x.max(1) of
# 4096x1024 f32: 0.44 -> 0.30 ms; in irjax, medians of 2 rounds, float / ordered / JAX us: x.max(1)
# 4096x1024 445-455 / 291-336 / 152-176, x.min(1) 1024x1024 116 / 73 / 64, 32768x10 111 / 87 / 67-72,
# x.max() of 1M 120 / 68 / 58-66). The key of x is its bits, with the bits below the sign flipped for
# negative x (so -0.0 orders below +0.0, as stablehlo.maximum does); NaN takes the extreme key, so it
# wins, and comes back as the quiet NaN.
ORDERED_MIN = 1 << 14
_ORDERED_INTS = {np.dtype(np.float32): np.dtype(np.int32), np.dtype(np.float64): np.dtype(np.int64)}


def _flip_negative(i) -> ir.Value:
    """i ^ ((i >> (bits - 1)) & INT_MAX): the float-order key of float bits i, and its own inverse."""
    a = aval(i)
    sign = op1(
        "stablehlo.shift_right_arithmetic",
        [i, splat(a.dtype.itemsize * 8 - 1, a.dtype, a.shape)],
        a,
    )
    low = op1("stablehlo.and", [sign, splat(np.iinfo(a.dtype).max, a.dtype, a.shape)], a)
    return op1("stablehlo.xor", [i, low], a)


def _nan_key(kind: str, it: np.dtype) -> int:
    return np.iinfo(it).max if kind == "max" else np.iinfo(it).min


def _to_ordered(x, kind: str) -> ir.Value:
    a = aval(x)
    it = _ORDERED_INTS[a.dtype]
    key = _flip_negative(op1("stablehlo.bitcast_convert", [x], ShapedType(a.shape, it)))
    nan = compare(x, x, "NE")
    return op1("stablehlo.select", [nan, splat(_nan_key(kind, it), it, a.shape), key], aval(key))


def _from_ordered(r, kind: str, out: ShapedType) -> ir.Value:
    ra = aval(r)
    y = op1("stablehlo.bitcast_convert", [_flip_negative(r)], out)
    nan = compare(r, splat(_nan_key(kind, ra.dtype), ra.dtype, ra.shape), "EQ")
    return op1("stablehlo.select", [nan, splat(np.nan, out.dtype, out.shape), y], out)


def _reduce_op(x, axes, kind: str, out: ShapedType) -> ir.Value:
    a = aval(x)
    init = constant(np.array(reducer_identity(kind, a.dtype), a.dtype))
    st = scalar_type(a.dtype)
    return with_region(
        "stablehlo.reduce",
        [x, init],
        [out],
        {"dimensions": i64s(axes)},
        [st, st],
        lambda p, q: [op1(REDUCER_OPS[kind], [p, q], st)],
    )[0]


# IREE 3.13's CPU code scalarizes a long float sum whose fused body is a product of its inputs
# (x * x, x * 2: a "contraction") or a negation or subtraction (the combiner is then a subf):
# one scalar load, multiply and add per element, no vector lanes. Each element plus +0.0 first
# keeps the body a plain vector add (iree-benchmark-module, 1M f32, one thread: sum(x * x) 483 ->
# 88 us, sum(2 * x) 568 -> 68, sum(-x) 1080 -> 80; row sums of a 1024^2 x * x 511 -> 64 us; a
# plain sum 68 either way). Exact: t + 0.0 is t except that -0.0 becomes +0.0, and a sum starts
# from +0.0, to which -0.0 and +0.0 add alike. Sums shorter than the compiler's reassociation
# bound (runtime/compiler.py REASSOCIATE_MIN) are not vectorized anyway; matrix-vector products
# (x * broadcast(v)) keep IREE's matvec code (108-118 us against 135-150 with the +0.0).
PLUS_ZERO_MIN = 128


def _plus_zero(x) -> ir.Value:
    """x + 0.0 elementwise (see PLUS_ZERO_MIN)."""
    a = aval(x)
    return op1("stablehlo.add", [x, splat(0, a.dtype, a.shape)], a)


def slice_axis(x, axis: int, start: int, stop: int) -> ir.Value:
    """x[start:stop] along one axis."""
    a = aval(x)
    axis %= a.ndim
    starts, limits = [0] * a.ndim, list(a.shape)
    starts[axis], limits[axis] = start, stop
    attrs = {"start_indices": i64s(starts), "limit_indices": i64s(limits), "strides": i64s([1] * a.ndim)}
    shape = a.shape[:axis] + (stop - start,) + a.shape[axis + 1 :]
    return op1("stablehlo.slice", [x], ShapedType(shape, a.dtype), attrs)


def pad_axis(x, axis: int, low: int, high: int) -> ir.Value:
    """x with `low` zeros before and `high` zeros after it along one axis."""
    a = aval(x)
    axis %= a.ndim
    lo, hi = [0] * a.ndim, [0] * a.ndim
    lo[axis], hi[axis] = low, high
    attrs = {"edge_padding_low": i64s(lo), "edge_padding_high": i64s(hi), "interior_padding": i64s([0] * a.ndim)}
    shape = a.shape[:axis] + (a.shape[axis] + low + high,) + a.shape[axis + 1 :]
    return op1("stablehlo.pad", [x, constant(np.zeros((), a.dtype))], ShapedType(shape, a.dtype), attrs)


def _extent(a: ShapedType, axes) -> int:
    return int(np.prod([a.shape[i] for i in axes], dtype=np.int64))


def _matvec_like(x) -> bool:
    """x is a product with an operand broadcast from a vector or matrix (a matvec IREE codegens as one)."""
    owner = x.owner
    if not isinstance(owner, ir.OpView) or owner.operation.name != "stablehlo.multiply":
        return False
    for v in owner.operands:
        src = v.owner
        if isinstance(src, ir.OpView) and src.operation.name == "stablehlo.broadcast_in_dim":
            if ir.RankedTensorType(src.operands[0].type).rank >= 1:
                return True
    return False


# Floating-point sums over this many trailing elements run in two levels: blocks of ~sqrt(n)
# elements, then the block sums. One long chain per output (or one per vector lane, reassociated)
# gathers rounding error with its length: a 1M-float sum of normals was off by 2.2e-3 (in order
# 8.1e-3; NumPy's pairwise sum and JAX's ~5e-5).
TWO_LEVEL_MIN = 1 << 14


def _sum_two_level(x, a: ShapedType, k: int, n: int, out: ShapedType) -> ir.Value:
    """Sum x over its k trailing axes (n elements) as sums of blocks of b ~ sqrt(n) elements, then
    of the block sums; a remainder of n % b elements adds its own sum:

        sum(x[..., :n]) = sum(sum(x[..., :q*b].reshape(..., q, b), -1), -1) + sum(x[..., q*b:], -1)
    """
    outer = tuple(a.shape[: a.ndim - k])
    last = len(outer)
    b = 1 << round(np.log2(n) / 2)
    q, r = divmod(n, b)
    flat = x if k == 1 or r == 0 else op1("stablehlo.reshape", [x], ShapedType(outer + (n,), a.dtype))

    def part(start, stop):
        return slice_axis(flat, last, start, stop)

    head = x if r == 0 else part(0, q * b)
    blocks = (
        head
        if aval(head).shape == outer + (q, b)
        else op1("stablehlo.reshape", [head], ShapedType(outer + (q, b), a.dtype))
    )
    sums = _reduce_op(blocks, (last + 1,), "sum", ShapedType(outer + (q,), a.dtype))
    total = _reduce_op(sums, (last,), "sum", out)
    if r == 0:
        return total
    rest = _reduce_op(part(q * b, n), (last,), "sum", out)
    return op1("stablehlo.add", [total, rest], out)


# Leading-axis sums over fewer rows stay reduces: a batch's bias cotangent (128 rows) as a dot
# became, in a data-tiled module, a matmul-class dispatch plus a packed copy of its operand.
DOT_SUM_MIN_ROWS = 1024


# Leading-axis sums (and max, min) of wide rows (>= 128 columns) go in blocks of ~32 rows: IREE ran both
# the matvec and a plain column reduce over all rows at a fraction of the memory's speed
# (iree-benchmark-module, one thread, ms: 4096x1024 ones . x 3.0-3.35, reduce 2.58, blocks of 32
# 0.82-0.92; 16384x1024 17.6 / 18.1 / 5.9; 1024x4096 3.24 / 3.35 / 1.74; 2048x512 0.149 / 0.139 /
# 0.098; 4096x128 0.043 / 0.043 / 0.034), while narrow ones keep the matvec (100000x16: 0.093 vs
# 0.108 in blocks, 10000x10 0.011). Blocks of 8-64 rows ran alike, 128 and more like no blocks;
# the block divides the rows (a slice of the rest copied the whole head: 4100x1000 1.5 -> 2.5 ms),
# and rows with no divisor in 8..64 keep the matvec.
BLOCKED_SUM_MIN_COLS = 128


def _block_rows(r: int) -> int | None:
    """The divisor of r in 8..64 nearest 32, or None."""
    for d in sorted(range(8, 65), key=lambda d: (abs(d - 32), d)):
        if r % d == 0:
            return d
    return None


# Rows of >= 512 columns go in slabs instead (2026-12-07): x.reshape(k, R // k, C) reduced over its
# first axis, k <= 16, adds k far-apart row slabs element by element, which IREE's one thread ran
# about twice as fast as the blocks (iree-benchmark-module, local-sync, ms, blocks / slabs 16 then
# 16 or 4 or 8: 4096x1024 0.91-1.19 / 0.41-0.66, 16384x1024 8.7 / 3.3-3.9, 1024x4096 1.69 / 0.47-0.54,
# 1024x1024 0.162 / 0.091-0.101, 2048x512 0.099 / 0.087-0.094), but not at 128 or 256 columns (4096x128
# 0.033 / 0.042-0.052; in irjax 4096x256 78 / 92-124 us). They run on local-sync (compiler.py
# _parallel_reduce). JAX (2 threads) takes 0.27-0.37 ms for 4096x1024.
SLAB_SUM_MIN_COLS = 512
SLAB_ROWS_LEFT = 64  # rows left to a plain reduce after the slabs
SLAB_MAX = 16


def _slab_factors(r: int) -> list[int] | None:
    """Slab counts k1, k2, ... (each the largest divisor <= SLAB_MAX of the rows left) that bring r
    rows down to <= SLAB_ROWS_LEFT, or None if some level has no divisor >= 4."""
    ks = []
    while r > SLAB_ROWS_LEFT:
        k = next((d for d in range(SLAB_MAX, 3, -1) if r % d == 0), None)
        if k is None:
            return None
        ks.append(k)
        r //= k
    return ks


def _leading_in_stages(x, a: ShapedType, k: int, stages: list, kind: str, out: ShapedType) -> ir.Value:
    """Reduce the leading k axes (R rows of C columns) in stages, then over the rows left: each
    stage (shape, axis) reshapes the rows so far and reduces one axis of them. Slabs:
    ((k1, R // k1, C), 0), ((k2, R // k1 // k2, C), 0), ...; blocks of b rows: ((R // b, b, C), 1).
    Max and min are exact in any order; sums add +0.0 to each element first (as long sums,
    PLUS_ZERO_MIN: IREE scalarized the blocks' sums of x * x or -x, 4 ms against 0.6-1.1 for x at
    4096x1024)."""
    c = int(np.prod(a.shape[k:]))
    if kind == "sum":
        x = _plus_zero(x)
    for shape, axis in stages:
        x = op1("stablehlo.reshape", [x], ShapedType(shape, a.dtype))
        x = _reduce_op(x, (axis,), kind, ShapedType(shape[:axis] + shape[axis + 1 :], a.dtype))
    y = _reduce_op(x, (0,), kind, ShapedType((c,), a.dtype))
    return op1("stablehlo.reshape", [y], out) if out.shape != (c,) else y


def _sum_leading_as_dot(x, a: ShapedType, k: int, out: ShapedType) -> ir.Value:
    """Sum over the leading k axes as ones(R) . x.reshape(R, K): IREE vectorizes this
    matvec well, while its column reduce is ~6x slower (10000x10 f32, measured here)."""
    r = int(np.prod(a.shape[:k]))
    rest = int(np.prod(a.shape[k:]))
    x2 = x if a.shape == (r, rest) else op1("stablehlo.reshape", [x], ShapedType((r, rest), a.dtype))
    ones = constant(np.ones((r,), a.dtype))
    dn = "#stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [0]>"
    y = op1("stablehlo.dot_general", [ones, x2], ShapedType((rest,), a.dtype), {"dot_dimension_numbers": dn})
    return op1("stablehlo.reshape", [y], out) if out.shape != (rest,) else y
