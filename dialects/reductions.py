"""Reductions, cumulative ops and dot_general.

    %1 = "jx.reduce_sum"(%0) {axes = array<i64: 0>} : (tensor<3x4xf32>) -> tensor<4xf32>
lowers to a `stablehlo.reduce` with an add body.
"""

from __future__ import annotations

import contextvars
import itertools

import numpy as np

from . import hlo
from . import lang as L
from .builder import aval
from .lang import jx
from .low_precision import kind as low_kind
from .registry import Primitive, ShapedType, VerifyError, register
from .structural import _linear_jvp, _moved_to_front

BOOL = np.dtype(np.bool_)
I32 = np.dtype(np.int32)


def _check_axes(x, axes):
    if len(set(axes)) != len(axes) or any(not 0 <= a < x.ndim for a in axes):
        raise VerifyError(f"bad reduction axes {axes} for {x.str_short()}")


def _reduced(x, axes):
    return tuple(d for i, d in enumerate(x.shape) if i not in axes)


def _expand_back(v, x, axes):
    """Broadcast a reduced value back to x's shape."""
    kept = tuple(i for i in range(x.ndim) if i not in axes)
    return L.broadcast_in_dim(v, x.shape, kept)


def _reduce_batch(name):
    def rule(args, dims, axes):
        (x,) = _moved_to_front(args, dims)
        return L.bind(name, x, axes=tuple(a + 1 for a in axes)), 0

    return rule


def _minmax_vjp(cts, primals, outs, axes):
    (x,) = primals
    y = _expand_back(outs[0], x, axes)
    hit = L.convert(L.eq(x, y), x.dtype)
    count = _expand_back(L.reduce_sum(hit, axes), x, axes)
    return [_expand_back(cts[0], x, axes) * hit / count]


def _minmax_jvp(name):
    def jvp(primals, tangents, axes):
        (x,), (t,) = primals, tangents
        out = L.bind(name, x, axes=axes)
        if t is None:
            return [out], [None]
        (g,) = _minmax_vjp([L.ones_like(out)], [x], [out], axes)
        return [out], [L.reduce_sum(t * g, axes)]

    return jvp


def _prod_vjp(cts, primals, outs, axes):
    """d prod / d x_i is the product of the other elements: exclusive products from the left
    and from the right (cumprods), exact where x holds zeros (x = [0, 2, 3] -> [6, 0, 0];
    y / x gave NaN there)."""
    (x,) = primals
    return [_expand_back(cts[0], x, axes) * _others_product(x, axes)]


def _others_product(x, axes):
    axes = sorted(axes)
    if not axes:
        return L.ones_like(x)
    kept = [d for d in range(x.ndim) if d not in axes]
    perm = kept + axes
    xt = L.transpose(x, perm)
    lead = xt.shape[: len(kept)]
    n = int(np.prod(xt.shape[len(kept) :], dtype=np.int64))
    flat = L.reshape(xt, lead + (n,))
    if n <= 1:
        others = L.ones_like(flat)
    else:
        one = L.full(lead + (1,), 1, x.dtype)
        last = len(lead)

        def cut(v, lo, hi):
            starts, limits = [0] * (last + 1), list(v.shape)
            starts[last], limits[last] = lo, hi
            return jx.slice(v, start_indices=tuple(starts), limit_indices=tuple(limits), strides=None)

        left = jx.concatenate(one, cut(jx.cumprod(flat, axis=last, reverse=False), 0, n - 1), dimension=last)
        right = jx.concatenate(cut(jx.cumprod(flat, axis=last, reverse=True), 1, n), one, dimension=last)
        others = left * right
    return L.transpose(L.reshape(others, xt.shape), tuple(int(i) for i in np.argsort(perm)))


def _reduction(name, kind, np_fn, kinds, jvp=None, vjp=None):
    def infer(x, axes):
        _check_axes(x, axes)
        if low_kind(x.dtype) not in kinds:
            raise VerifyError(f"jx.{name} does not accept dtype {x.dtype.name}")
        return ShapedType(_reduced(x, axes), x.dtype)

    register(
        Primitive(
            name,
            infer,
            impl=lambda x, axes: np.asarray(np_fn(x, axis=tuple(axes)), x.dtype),
            lower=lambda ctx, x, axes: hlo.reduce(x, axes, kind),
            jvp=jvp,
            vjp=vjp,
            batch=_reduce_batch(name),
            doc=f"{kind}-reduce over axes",
            family="reduction",
        )
    )


_reduction(
    "reduce_sum",
    "sum",
    np.sum,
    "fciu",
    jvp=_linear_jvp("reduce_sum"),
    vjp=lambda cts, primals, outs, axes: [_expand_back(cts[0], primals[0], axes)],
)
_reduction("reduce_max", "max", np.max, "fiub", jvp=_minmax_jvp("reduce_max"), vjp=_minmax_vjp)
_reduction("reduce_min", "min", np.min, "fiub", jvp=_minmax_jvp("reduce_min"), vjp=_minmax_vjp)


def _prod_jvp(primals, tangents, axes):
    (x,), (t,) = primals, tangents
    out = jx.reduce_prod(x, axes=axes)
    if t is None:
        return [out], [None]
    (g,) = _prod_vjp([L.ones_like(out)], [x], [out], axes)
    return [out], [L.reduce_sum(t * g, axes)]


_reduction("reduce_prod", "prod", np.prod, "fciu", jvp=_prod_jvp, vjp=_prod_vjp)


def _nd(name):
    def jvp(primals, tangents, axes):
        return [L.bind(name, primals[0], axes=axes)], [None]

    return jvp


_reduction("reduce_and", "and", np.all, "b", jvp=_nd("reduce_and"))
_reduction("reduce_or", "or", np.any, "b", jvp=_nd("reduce_or"))

# ---- argmax / argmin -------------------------------------------------------------------


def _arg_infer(x, axis, index_dtype):
    _check_axes(x, (axis,))
    if x.shape[axis] == 0:
        raise VerifyError("jx.argmax/argmin of an empty axis")
    return ShapedType(_reduced(x, (axis,)), np.dtype(index_dtype))


def _arg_impl(np_fn):
    def impl(x, axis, index_dtype):
        return np.asarray(np_fn(x, axis=axis), np.dtype(index_dtype))

    return impl


def _arg_lower(direction):
    def lower(ctx, x, axis, index_dtype):
        a = aval(x)
        idt = np.dtype(index_dtype)
        iota = hlo.op1("stablehlo.iota", [], ShapedType(a.shape, idt), {"iota_dimension": hlo.attr(f"{axis} : i64")})
        init_v = hlo.constant(np.array(hlo.reducer_identity("max" if direction == "GT" else "min", a.dtype), a.dtype))
        init_i = hlo.constant(np.array(0, idt))
        sv, si = hlo.scalar_type(a.dtype), hlo.scalar_type(idt)
        out = ctx.out_avals[0]

        def body(v1, i1, v2, i2):
            # pick (v1, i1) if v1 beats v2, or ties with the smaller index; NaN wins (as numpy)
            better = hlo.compare(v1, v2, direction)
            eq = hlo.compare(v1, v2, "EQ")
            if a.dtype.kind == "f":
                nan1 = hlo.compare(v1, v1, "NE")
                better = hlo.op1("stablehlo.or", [better, nan1], ShapedType((), BOOL))
            lower_idx = hlo.compare(i1, i2, "LT")
            tie = hlo.op1("stablehlo.and", [eq, lower_idx], ShapedType((), BOOL))
            pick1 = hlo.op1("stablehlo.or", [better, tie], ShapedType((), BOOL))
            if a.dtype.kind == "f":
                nan2 = hlo.compare(v2, v2, "NE")
                not_nan2 = hlo.op1("stablehlo.not", [nan2], ShapedType((), BOOL))
                # if v2 is NaN and v1 is not, keep v2
                pick1 = hlo.op1(
                    "stablehlo.and",
                    [pick1, hlo.op1("stablehlo.or", [not_nan2, nan1], ShapedType((), BOOL))],
                    ShapedType((), BOOL),
                )
            return [
                hlo.op1("stablehlo.select", [pick1, v1, v2], ShapedType((), a.dtype)),
                hlo.op1("stablehlo.select", [pick1, i1, i2], ShapedType((), idt)),
            ]

        return hlo.with_region(
            "stablehlo.reduce",
            [x, iota, init_v, init_i],
            [ShapedType(out.shape, a.dtype), out],
            {"dimensions": hlo.i64s([axis])},
            [sv, si, sv, si],
            body,
        )[1]

    return lower


for _name, _fn, _dir in (("argmax", np.argmax, "GT"), ("argmin", np.argmin, "LT")):
    register(
        Primitive(
            _name,
            _arg_infer,
            impl=_arg_impl(_fn),
            lower=_arg_lower(_dir),
            jvp=(
                lambda n: (
                    lambda primals, tangents, axis, index_dtype: (
                        [L.bind(n, primals[0], axis=axis, index_dtype=index_dtype)],
                        [None],
                    )
                )
            )(_name),
            vjp=lambda cts, primals, outs, axis, index_dtype: [None],
            batch=(
                lambda n: (
                    lambda args, dims, axis, index_dtype: (
                        L.bind(n, _moved_to_front(args, dims)[0], axis=axis + 1, index_dtype=index_dtype),
                        0,
                    )
                )
            )(_name),
            doc="index of the first extreme value along axis",
            family="reduction",
        )
    )

# ---- cumulative ops ----------------------------------------------------------------------

_CUM_NP = {
    "cumsum": np.cumsum,
    "cumprod": np.cumprod,
    "cummax": np.maximum.accumulate,
    "cummin": np.minimum.accumulate,
}
_CUM_KIND = {"cumsum": "sum", "cumprod": "prod", "cummax": "max", "cummin": "min"}


def _cum_impl(name):
    def impl(x, axis, reverse):
        f = _CUM_NP[name]
        if reverse:
            return np.flip(f(np.flip(x, axis), axis=axis), axis).astype(x.dtype)
        return np.asarray(f(x, axis=axis), x.dtype)

    return impl


def _cum_lower(name):
    def lower(ctx, x, axis, reverse):
        a = aval(x)
        kind = _CUM_KIND[name]
        if kind == "sum" and a.dtype.kind in "fc" and a.shape[axis] >= SCAN_TWO_LEVEL_MIN and min(a.shape) >= 0:
            return _scan_two_level(x, axis, reverse)
        if a.dtype.kind != "u":
            return _scan(x, axis, reverse, kind)
        # IREE 3.13 cannot compile an unsigned reduce_window: scan in the signed type of one
        # width (add/multiply wrap the same; flipping the top bit keeps the order for max/min)
        signed = ShapedType(a.shape, np.dtype(f"i{a.dtype.itemsize}"))
        top = hlo.constant(np.array(1 << (8 * a.dtype.itemsize - 1), a.dtype), shape=a.shape)
        flip = kind in ("max", "min")
        if flip:
            x = hlo.op1("stablehlo.xor", [x, top], a)
        y = _scan(hlo.op1("stablehlo.bitcast_convert", [x], signed), axis, reverse, kind)
        y = hlo.op1("stablehlo.bitcast_convert", [y], a)
        return hlo.op1("stablehlo.xor", [y, top], a) if flip else y

    return lower


# Float cumulative sums along an axis this long scan in two levels (below). One sequential scan
# of 1M normal f32 values was off by 1.4e-2 from the float64 sums (JAX's log-depth scan: 4.8e-4);
# blocks of 1024 and then their totals: 9.2e-4, at 4.3 instead of 3.6 ms (JAX 5.8 ms).
SCAN_TWO_LEVEL_MIN = 1 << 14


def _scan_two_level(x, axis, reverse):
    """Inclusive float sum scan along `axis` (n elements) in blocks of m ~ sqrt(n): scan within
    each block, scan the block totals, add each block the totals before it (after it, reversed):

        y = (scan(xb, within) + exclusive_scan(totals)).reshape(...)[:n],  xb = pad(x, m * b)
    """
    a = aval(x)
    n = a.shape[axis]
    m = 1 << round(np.log2(n) / 2)
    b = -(-n // m)
    pre, post = tuple(a.shape[:axis]), tuple(a.shape[axis + 1 :])

    def reshape(v, shape):
        return hlo.op1("stablehlo.reshape", [v], ShapedType(tuple(shape), a.dtype))

    pad, cut = hlo.pad_axis, hlo.slice_axis
    blocks = pre + (b, m) + post
    xb = reshape(pad(x, axis, 0, b * m - n) if b * m > n else x, blocks)
    inner = _scan(xb, axis + 1, reverse, "sum")
    edge = 0 if reverse else m - 1  # the element of each block that holds its total
    totals = reshape(cut(inner, axis + 1, edge, edge + 1), pre + (b,) + post)
    through = _scan(totals, axis, reverse, "sum")
    # exclusive: the sum of the blocks before (after) each block, zero for the first (last)
    before = cut(pad(through, axis, 0, 1), axis, 1, b + 1) if reverse else cut(pad(through, axis, 1, 0), axis, 0, b)
    dims = [d for d in range(len(blocks)) if d != axis + 1]
    y = hlo.op1("stablehlo.add", [inner, hlo.broadcast(before, blocks, dims)], ShapedType(blocks, a.dtype))
    y = reshape(y, pre + (b * m,) + post)
    return cut(y, axis, 0, n) if b * m > n else y


def _scan(x, axis, reverse, kind):
    """Inclusive scan as a reduce_window over a window the size of the axis."""
    a = aval(x)
    n = a.shape[axis]
    window = [1] * a.ndim
    window[axis] = max(n, 1)
    pad = [[0, 0] for _ in range(a.ndim)]
    pad[axis] = [0, n - 1] if reverse else [n - 1, 0]
    init = hlo.constant(np.array(hlo.reducer_identity(kind, a.dtype), a.dtype))
    st = hlo.scalar_type(a.dtype)
    pad_attr = (
        hlo.attr("dense<[" + ", ".join(f"[{p}, {q}]" for p, q in pad) + f"]> : tensor<{a.ndim}x2xi64>")
        if a.ndim
        else None
    )
    attrs = {"window_dimensions": hlo.i64s(window)}
    if pad_attr is not None:
        attrs["padding"] = pad_attr
    return hlo.with_region(
        "stablehlo.reduce_window",
        [x, init],
        [a],
        attrs,
        [st, st],
        lambda p, q: [hlo.op1(hlo.REDUCER_OPS[kind], [p, q], st)],
    )[0]


def _cumsum_vjp(cts, primals, outs, axis, reverse):
    return [jx.cumsum(cts[0], axis=axis, reverse=not reverse)]


def _cumprod_vjp(cts, primals, outs, axis, reverse):
    (x,) = primals
    return [jx.cumsum(cts[0] * outs[0], axis=axis, reverse=not reverse) / x]


def _cum_extreme_source(x, out, axis, reverse):
    """For cummax/cummin: the index along axis that each output element was taken from.

    Position j sets a new running extreme where x[j] == out[j]; output i comes from the
    nearest such j at or before i (at or after i when reverse)."""
    n = x.shape[axis]
    iota = jx.iota(dtype=I32, shape=x.shape, dimension=axis)
    hit = L.eq(x, out)
    if reverse:
        return jx.cummin(L.select(hit, iota, L.full_like(iota, n)), axis=axis, reverse=True)
    return jx.cummax(L.select(hit, iota, L.full_like(iota, -1)), axis=axis, reverse=False)


def _along_index(src, axis):
    """Full index tuples (shape + (ndim,)) naming src[...] along axis, iota elsewhere."""
    cols = [src if d == axis else jx.iota(dtype=I32, shape=src.shape, dimension=d) for d in range(src.ndim)]
    return jx.concatenate(*[L.reshape(c, src.shape + (1,)) for c in cols], dimension=src.ndim)


def _all_dims(nd):
    return tuple(range(nd))


def _cum_extreme_jvp(name):
    def jvp(primals, tangents, axis, reverse):
        (x,), (t,) = primals, tangents
        out = L.bind(name, x, axis=axis, reverse=reverse)
        if t is None:
            return [out], [None]
        idx = _along_index(_cum_extreme_source(x, out, axis, reverse), axis)
        tan = jx.gather(
            t,
            idx,
            offset_dims=(),
            collapsed_slice_dims=_all_dims(x.ndim),
            start_index_map=_all_dims(x.ndim),
            slice_sizes=(1,) * x.ndim,
        )
        return [out], [tan]

    return jvp


def _cum_extreme_vjp(cts, primals, outs, axis, reverse):
    (x,) = primals
    idx = _along_index(_cum_extreme_source(x, outs[0], axis, reverse), axis)
    nd = _all_dims(x.ndim)
    return [
        jx.scatter(
            L.zeros_like(x),
            idx,
            cts[0],
            update_window_dims=(),
            inserted_window_dims=nd,
            scatter_dims_to_operand_dims=nd,
            kind="add",
        )
    ]


def _cum_jvp(name):
    def jvp(primals, tangents, axis, reverse):
        (x,), (t,) = primals, tangents
        out = L.bind(name, x, axis=axis, reverse=reverse)
        if t is None:
            return [out], [None]
        if name == "cumsum":
            return [out], [jx.cumsum(t, axis=axis, reverse=reverse)]
        return [out], [out * jx.cumsum(t / x, axis=axis, reverse=reverse)]

    return jvp


for _name in _CUM_NP:
    _vjp = {"cumsum": _cumsum_vjp, "cumprod": _cumprod_vjp}.get(_name, _cum_extreme_vjp)
    register(
        Primitive(
            _name,
            (lambda n: lambda x, axis, reverse: (_check_axes(x, (axis,)), ShapedType(x.shape, x.dtype))[1])(_name),
            impl=_cum_impl(_name),
            lower=_cum_lower(_name),
            jvp=_cum_jvp(_name) if _name in ("cumsum", "cumprod") else _cum_extreme_jvp(_name),
            vjp=_vjp,
            batch=(
                lambda n: (
                    lambda args, dims, axis, reverse: (
                        L.bind(n, _moved_to_front(args, dims)[0], axis=axis + 1, reverse=reverse),
                        0,
                    )
                )
            )(_name),
            doc="inclusive scan along axis",
            family="cumulative",
        )
    )

# ---- dot_general ----------------------------------------------------------------------------


def _dot_infer(a, b, lhs_contracting, rhs_contracting, lhs_batch, rhs_batch, preferred_element_type=None):
    for i, j in zip(lhs_contracting, rhs_contracting):
        if a.shape[i] != b.shape[j]:
            raise VerifyError(f"dot_general contracting dims differ: {a.str_short()} vs {b.str_short()}")
    for i, j in zip(lhs_batch, rhs_batch):
        if a.shape[i] != b.shape[j]:
            raise VerifyError(f"dot_general batch dims differ: {a.str_short()} vs {b.str_short()}")
    if len(lhs_contracting) != len(rhs_contracting) or len(lhs_batch) != len(rhs_batch):
        raise VerifyError("dot_general needs matching numbers of contracting and batch dims")
    if a.dtype != b.dtype:
        raise VerifyError(f"dot_general needs one dtype, got {a.dtype.name} and {b.dtype.name}")
    batch = tuple(a.shape[i] for i in lhs_batch)
    lfree = tuple(d for i, d in enumerate(a.shape) if i not in lhs_contracting and i not in lhs_batch)
    rfree = tuple(d for i, d in enumerate(b.shape) if i not in rhs_contracting and i not in rhs_batch)
    dt = np.dtype(preferred_element_type) if preferred_element_type is not None else a.dtype
    return ShapedType(batch + lfree + rfree, dt)


def _dot_impl(a, b, lhs_contracting, rhs_contracting, lhs_batch, rhs_batch, preferred_element_type=None):
    lfree = [i for i in range(a.ndim) if i not in lhs_contracting and i not in lhs_batch]
    rfree = [i for i in range(b.ndim) if i not in rhs_contracting and i not in rhs_batch]
    at = np.transpose(a, list(lhs_batch) + lfree + list(lhs_contracting))
    bt = np.transpose(b, list(rhs_batch) + list(rhs_contracting) + rfree)
    nb = len(lhs_batch)
    bs = at.shape[:nb]
    m = int(np.prod(at.shape[nb : nb + len(lfree)], dtype=np.int64))
    k = int(np.prod(at.shape[nb + len(lfree) :], dtype=np.int64))
    n = int(np.prod(bt.shape[nb + len(rhs_contracting) :], dtype=np.int64))
    acc = np.float64 if a.dtype.kind == "f" else a.dtype
    r = np.matmul(at.reshape(bs + (m, k)).astype(acc), bt.reshape(bs + (k, n)).astype(acc))
    out = _dot_infer(
        ShapedType(a.shape, a.dtype),
        ShapedType(b.shape, b.dtype),
        lhs_contracting,
        rhs_contracting,
        lhs_batch,
        rhs_batch,
        preferred_element_type,
    )
    return r.reshape(out.shape).astype(out.dtype)


def _dot_lower(ctx, a, b, lhs_contracting, rhs_contracting, lhs_batch, rhs_batch, preferred_element_type=None):
    def lst(xs):
        return "[" + ", ".join(map(str, xs)) + "]"

    dn = (
        f"#stablehlo.dot<lhs_batching_dimensions = {lst(lhs_batch)}, rhs_batching_dimensions = {lst(rhs_batch)}, "
        f"lhs_contracting_dimensions = {lst(lhs_contracting)}, rhs_contracting_dimensions = {lst(rhs_contracting)}>"
    )
    a, b = _fence_bool_conversion(a), _fence_bool_conversion(b)
    out = ctx.out_avals[0]
    if lhs_batch and split_f64_batches.get() and _worth_splitting(aval(a), aval(b), out, lhs_contracting, lhs_batch):
        return _batches_as_dots(a, b, out, lhs_contracting, rhs_contracting, lhs_batch, rhs_batch)
    return hlo.op1("stablehlo.dot_general", [a, b], out, {"dot_dimension_numbers": dn})


# lower-stablehlo{split-f64-batched-dots=true}, chosen for CPU targets: a float64 dot_general with
# batch dimensions lowers as one 2-D dot_general per batch element, concatenated. IREE 3.13
# compiles an f64 matmul well only through inner_tiled, which takes no batched matmul; its default
# f64 code is ~5x slower. Measured on 2 cores (jit einsum bij,bjk->bik, medians): 8x512^3
# 112.6 -> 28.5 ms (JAX 22.3), 16x256^3 16.0 -> 11.1 ms (JAX 6.4), bit-identical; with small
# matrices (32x128x64x128: 1.2 -> 4.0 ms) or many batches (compile 0.3 -> 2.9 s at 64) it loses.
split_f64_batches = contextvars.ContextVar("irjax_split_f64_batched_dots", default=False)
_SPLIT_MAX_BATCHES = 16
_SPLIT_MIN_MNK = 1 << 24  # per batch element: 256^3 and up


def _worth_splitting(a: ShapedType, b: ShapedType, out: ShapedType, lhs_contracting, lhs_batch) -> bool:
    if not (np.dtype(a.dtype) == np.dtype(b.dtype) == np.dtype(out.dtype) == np.dtype(np.float64)):
        return False
    batches = int(np.prod([a.shape[d] for d in lhs_batch], dtype=np.int64))
    k = int(np.prod([a.shape[d] for d in lhs_contracting], dtype=np.int64))
    per_batch_out = int(np.prod(out.shape[len(lhs_batch) :], dtype=np.int64))
    return 2 <= batches <= _SPLIT_MAX_BATCHES and per_batch_out * k >= _SPLIT_MIN_MNK


def _batch_element(x, batch_dims, index) -> tuple:
    """x's slice at one batch index, reshaped without its batch dims: (value, old dim -> new dim)."""
    a = aval(x)
    start = [0] * a.ndim
    limit = list(a.shape)
    for d, i in zip(batch_dims, index):
        start[d], limit[d] = i, i + 1
    attrs = {"start_indices": hlo.i64s(start), "limit_indices": hlo.i64s(limit), "strides": hlo.i64s([1] * a.ndim)}
    piece = hlo.op1("stablehlo.slice", [x], ShapedType(tuple(h - s for s, h in zip(start, limit)), a.dtype), attrs)
    kept = [d for d in range(a.ndim) if d not in batch_dims]
    flat = hlo.op1("stablehlo.reshape", [piece], ShapedType(tuple(a.shape[d] for d in kept), a.dtype))
    return flat, {d: i for i, d in enumerate(kept)}


def _batches_as_dots(a, b, out, lhs_contracting, rhs_contracting, lhs_batch, rhs_batch):
    """dot_general(a, b) as one dot_general per batch element (see split_f64_batches): each one's
    (lhs free..., rhs free...) result gets a leading unit dim, they are concatenated in row-major
    batch order and reshaped to the batch dims."""
    nb = len(lhs_batch)
    free = out.shape[nb:]
    dims = [range(aval(a).shape[d]) for d in lhs_batch]
    parts = []
    for index in itertools.product(*dims):
        x, xmap = _batch_element(a, lhs_batch, index)
        y, ymap = _batch_element(b, rhs_batch, index)
        dn = (
            f"#stablehlo.dot<lhs_contracting_dimensions = [{', '.join(str(xmap[d]) for d in lhs_contracting)}], "
            f"rhs_contracting_dimensions = [{', '.join(str(ymap[d]) for d in rhs_contracting)}]>"
        )
        z = hlo.op1("stablehlo.dot_general", [x, y], ShapedType(free, out.dtype), {"dot_dimension_numbers": dn})
        parts.append(hlo.op1("stablehlo.reshape", [z], ShapedType((1, *free), out.dtype)))
    flat = ShapedType((len(parts), *free), out.dtype)
    cat = hlo.op1("stablehlo.concatenate", parts, flat, {"dimension": "0 : i64"})
    return cat if nb == 1 else hlo.op1("stablehlo.reshape", [cat], out)


# ops that only move or copy elements: a bool converted before one of them still reaches the dot
_MOVES = frozenset({"stablehlo.reshape", "stablehlo.transpose", "stablehlo.broadcast_in_dim", "stablehlo.slice"})


def _fence_bool_conversion(x):
    """x behind an optimization barrier when it is a bool array converted to a number (`mask.astype(
    jnp.float32) @ w`, random.bernoulli images into a Dense layer): IREE 3.13 folds the conversion
    into the matmul as an i1 x f32 one, which its data tiling cannot lower (a failed compile,
    then a retry without data tiling: JAX's mnist_vae spent 16.6 s on its training step's
    compile where one compile takes 7-9 s)."""
    v = x
    for _ in range(8):
        op = getattr(v, "owner", None)
        name = getattr(op, "name", None)
        if name == "stablehlo.convert":
            if aval(op.operands[0]).dtype == np.bool_:
                return hlo.barrier([x])[0]
            return x
        if name not in _MOVES:
            return x
        v = op.operands[0]
    return x


def _dot_vjp(cts, primals, outs, lhs_contracting, rhs_contracting, lhs_batch, rhs_batch, preferred_element_type=None):
    a, b = primals
    g = cts[0]
    nb = len(lhs_batch)
    lfree = [i for i in range(a.ndim) if i not in lhs_contracting and i not in lhs_batch]
    rfree = [i for i in range(b.ndim) if i not in rhs_contracting and i not in rhs_batch]
    nl, nr = len(lfree), len(rfree)
    g_batch = tuple(range(nb))
    g_l = tuple(range(nb, nb + nl))
    g_r = tuple(range(nb + nl, nb + nl + nr))
    # d a: contract g's rhs-free dims with b's free dims -> (batch, lfree, b's contracting in order)
    da = L.dot_general(g, b, ((g_r, tuple(rfree)), (g_batch, tuple(rhs_batch))))
    # da axes: batch..., lfree..., then b's remaining dims in order (rhs_contracting sorted by position)
    b_rest = [i for i in range(b.ndim) if i not in rfree and i not in rhs_batch]
    src_axes = list(lhs_batch) + lfree + [lhs_contracting[list(rhs_contracting).index(j)] for j in b_rest]
    da = L.transpose(da, tuple(int(i) for i in np.argsort(src_axes)))
    db = L.dot_general(g, a, ((g_l, tuple(lfree)), (g_batch, tuple(lhs_batch))))
    a_rest = [i for i in range(a.ndim) if i not in lfree and i not in lhs_batch]
    src_b = list(rhs_batch) + rfree + [rhs_contracting[list(lhs_contracting).index(i)] for i in a_rest]
    # db axes are batch, rfree, a_rest -> put in b's order
    db = L.transpose(db, tuple(int(i) for i in np.argsort(src_b)))
    return [L.convert(da, a.dtype), L.convert(db, b.dtype)]


def _dot_jvp(primals, tangents, **params):
    a, b = primals
    ta, tb = tangents
    out = jx.dot_general(a, b, **params)
    tan = None
    if ta is not None:
        tan = jx.dot_general(ta, b, **params)
    if tb is not None:
        t2 = jx.dot_general(a, tb, **params)
        tan = t2 if tan is None else tan + t2
    return [out], [tan]


def _dot_batch(args, dims, lhs_contracting, rhs_contracting, lhs_batch, rhs_batch, preferred_element_type=None):
    a, b = args
    da, db = dims

    def shift(xs):
        return tuple(x + 1 for x in xs)

    if da is not None and db is not None:
        a, b = _moved_to_front([a, b], [da, db])
        out = jx.dot_general(
            a,
            b,
            lhs_contracting=shift(lhs_contracting),
            rhs_contracting=shift(rhs_contracting),
            lhs_batch=(0,) + shift(lhs_batch),
            rhs_batch=(0,) + shift(rhs_batch),
            preferred_element_type=preferred_element_type,
        )
        return out, 0
    if da is not None:
        (a,) = _moved_to_front([a], [da])
        out = jx.dot_general(
            a,
            b,
            lhs_contracting=shift(lhs_contracting),
            rhs_contracting=rhs_contracting,
            lhs_batch=shift(lhs_batch),
            rhs_batch=rhs_batch,
            preferred_element_type=preferred_element_type,
        )
        # result: batch dims, then a's free dims (with the vmapped dim first among them)
        return out, len(lhs_batch)
    (b,) = _moved_to_front([b], [db])
    out = jx.dot_general(
        a,
        b,
        lhs_contracting=lhs_contracting,
        rhs_contracting=shift(rhs_contracting),
        lhs_batch=lhs_batch,
        rhs_batch=shift(rhs_batch),
        preferred_element_type=preferred_element_type,
    )
    nfree_a = a.ndim - len(lhs_contracting) - len(lhs_batch)
    return out, len(lhs_batch) + nfree_a


register(
    Primitive(
        "dot_general",
        _dot_infer,
        impl=_dot_impl,
        lower=_dot_lower,
        jvp=_dot_jvp,
        vjp=_dot_vjp,
        batch=_dot_batch,
        doc="generalized matrix product with contracting and batch dimensions",
        family="bilinear",
    )
)
