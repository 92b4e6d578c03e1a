"""Slicing and indexing ops: slice, dynamic_slice, dynamic_update_slice, gather, scatter.

Gather/scatter follow StableHLO's dimension numbers with the index vector in the last
axis of `indices`. Out-of-range gathers clamp; out-of-range scatter windows are dropped.

    %2 = "jx.gather"(%0, %1) {offset_dims = array<i64: 1>, collapsed_slice_dims = array<i64: 0>,
          start_index_map = array<i64: 0>, slice_sizes = array<i64: 1, 4>}
          : (tensor<5x4xf32>, tensor<3x1xi32>) -> tensor<3x4xf32>
"""

from __future__ import annotations

import numpy as np

from . import hlo
from . import lang as L
from .builder import aval, constant
from .lang import jx
from .registry import IN_PLACE, LOW_FLOAT_IN_F32, Primitive, ShapedType, VerifyError, register
from .structural import _linear_jvp, _moved_to_front

# ---- slice --------------------------------------------------------------------------------


def _slice_infer(x, start_indices, limit_indices, strides=None):
    strides = strides or (1,) * x.ndim
    if not (len(start_indices) == len(limit_indices) == len(strides) == x.ndim):
        raise VerifyError(f"jx.slice needs one start/limit/stride per axis of {x.str_short()}")
    shape = []
    for d, s, e, st in zip(x.shape, start_indices, limit_indices, strides):
        if not (0 <= s <= e <= d) or st < 1:
            raise VerifyError(f"bad slice [{s}:{e}:{st}] of an axis of size {d}")
        shape.append((e - s + st - 1) // st)
    return ShapedType(tuple(shape), x.dtype)


def _slice_vjp(cts, primals, outs, start_indices, limit_indices, strides=None):
    (x,) = primals
    strides = strides or (1,) * x.ndim
    ct = cts[0]
    cfg = []
    for d, s, st, n in zip(x.shape, start_indices, strides, ct.shape):
        used = s + (n - 1) * st + 1 if n else s
        cfg.append((s, d - used if n else d - s, st - 1 if n else 0))
    return [jx.pad(ct, L.full((), 0, ct.dtype), padding_config=tuple(cfg))]


register(
    Primitive(
        "slice",
        _slice_infer,
        impl=lambda x, start_indices, limit_indices, strides=None: x[
            tuple(slice(s, e, st) for s, e, st in zip(start_indices, limit_indices, strides or (1,) * x.ndim))
        ].copy(),
        lower=lambda ctx, x, start_indices, limit_indices, strides=None: hlo.op1(
            "stablehlo.slice",
            [x],
            ctx.out_avals[0],
            {
                "start_indices": hlo.i64s(start_indices),
                "limit_indices": hlo.i64s(limit_indices),
                "strides": hlo.i64s(strides or (1,) * len(start_indices)),
            },
        ),
        jvp=_linear_jvp("slice"),
        vjp=_slice_vjp,
        batch=lambda args, dims, start_indices, limit_indices, strides=None: (
            jx.slice(
                _moved_to_front(args, dims)[0],
                start_indices=(0,) + tuple(start_indices),
                limit_indices=(args[0].shape[dims[0]],) + tuple(limit_indices),
                strides=(1,) + tuple(strides or (1,) * len(start_indices)),
            ),
            0,
        ),
        doc="static strided slice",
        family="indexing",
    )
)

# ---- dynamic_slice / dynamic_update_slice ------------------------------------------------------


def _check_starts(name, x, starts):
    if len(starts) != x.ndim:
        raise VerifyError(f"jx.{name} needs {x.ndim} start indices, got {len(starts)}")
    for s in starts:
        if s.shape != () or s.dtype.kind not in "iu":
            raise VerifyError(f"jx.{name} start indices must be integer scalars")


def _ds_infer(x, *starts, slice_sizes):
    _check_starts("dynamic_slice", x, starts)
    if any(not 0 <= z <= d for z, d in zip(slice_sizes, x.shape)):
        raise VerifyError(f"slice_sizes {slice_sizes} do not fit {x.str_short()}")
    return ShapedType(tuple(slice_sizes), x.dtype)


def _clamped(starts, shape, sizes):
    return [int(np.clip(int(s), 0, d - z)) for s, d, z in zip(starts, shape, sizes)]


def _ds_impl(x, *starts, slice_sizes):
    st = _clamped(starts, x.shape, slice_sizes)
    return x[tuple(slice(s, s + z) for s, z in zip(st, slice_sizes))].copy()


def _ds_jvp(primals, tangents, slice_sizes):
    x, *starts = primals
    out = jx.dynamic_slice(x, *starts, slice_sizes=slice_sizes)
    t = tangents[0]
    return [out], [None if t is None else jx.dynamic_slice(t, *starts, slice_sizes=slice_sizes)]


def _ds_vjp(cts, primals, outs, slice_sizes):
    x, *starts = primals
    z = L.zeros_like(x)
    return [jx.dynamic_update_slice(z, cts[0], *starts)] + [None] * len(starts)


def _ds_batch(args, dims, slice_sizes):
    x, *starts = args
    if any(d is not None for d in dims[1:]):
        # batched starts: express as a gather with one index row per batch element
        size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
        x = (
            _moved_to_front([x], [dims[0]])[0]
            if dims[0] is not None
            else L.broadcast_in_dim(x, (size,) + x.shape, tuple(range(1, x.ndim + 1)))
        )
        cols = [jx.iota(dtype=np.dtype(np.int32), shape=(size, 1), dimension=0)]
        for s, d in zip(starts, dims[1:]):
            s = L.convert(s, np.int32)
            s = L.broadcast_in_dim(s, (size,), ()) if d is None else s
            cols.append(L.reshape(s, (size, 1)))
        idx = jx.concatenate(*cols, dimension=1)
        out = jx.gather(
            x,
            idx,
            offset_dims=tuple(range(1, x.ndim)),
            collapsed_slice_dims=(0,),
            start_index_map=tuple(range(x.ndim)),
            slice_sizes=(1,) + tuple(slice_sizes),
        )
        return out, 0
    x = _moved_to_front([x], [dims[0]])[0]
    zero = L.full((), 0, starts[0].dtype) if starts else L.full((), 0, np.int32)
    return jx.dynamic_slice(x, zero, *starts, slice_sizes=(x.shape[0],) + tuple(slice_sizes)), 0


register(
    Primitive(
        "dynamic_slice",
        _ds_infer,
        impl=_ds_impl,
        lower=lambda ctx, x, *starts, slice_sizes: hlo.op1(
            "stablehlo.dynamic_slice", [x, *starts], ctx.out_avals[0], {"slice_sizes": hlo.i64s(slice_sizes)}
        ),
        jvp=_ds_jvp,
        vjp=_ds_vjp,
        batch=_ds_batch,
        doc="slice of static size at traced start indices (clamped into range)",
        family="indexing",
    )
)


def _dus_infer(x, update, *starts):
    _check_starts("dynamic_update_slice", x, starts)
    if update.dtype != x.dtype or update.ndim != x.ndim or any(u > d for u, d in zip(update.shape, x.shape)):
        raise VerifyError(f"update {update.str_short()} does not fit operand {x.str_short()}")
    return x


def _dus_impl(x, update, *starts):
    st = _clamped(starts, x.shape, update.shape)
    out = x.copy()
    out[tuple(slice(s, s + z) for s, z in zip(st, update.shape))] = update
    return out


def _dus_jvp(primals, tangents):
    x, u, *starts = primals
    out = jx.dynamic_update_slice(x, u, *starts)
    tx, tu = tangents[0], tangents[1]
    if tx is None and tu is None:
        return [out], [None]
    tx = tx if tx is not None else L.zeros_like(x)
    tu = tu if tu is not None else L.zeros_like(u)
    return [out], [jx.dynamic_update_slice(tx, tu, *starts)]


def _dus_vjp(cts, primals, outs):
    x, u, *starts = primals
    ct = cts[0]
    return [
        jx.dynamic_update_slice(ct, L.zeros_like(u), *starts),
        jx.dynamic_slice(ct, *starts, slice_sizes=u.shape),
    ] + [None] * len(starts)


def _dus_batch(args, dims):
    x, u, *starts = args
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    xs = []
    for a, d in ((x, dims[0]), (u, dims[1])):
        a = (
            L.broadcast_in_dim(a, (size,) + a.shape, tuple(range(1, a.ndim + 1)))
            if d is None
            else _moved_to_front([a], [d])[0]
        )
        xs.append(a)
    if any(d is not None for d in dims[2:]):
        # batched starts: out = select(inside the update's window, update[pos - start], x),
        # with the starts clamped as dynamic_update_slice clamps them. (A scatter would be
        # shorter, but IREE 3.13 rejects a scatter whose index vector spans window dims.)
        xb, ub = xs
        i32 = np.dtype(np.int32)
        cols = [jx.iota(dtype=i32, shape=xb.shape, dimension=0)]
        inside = None
        for k, (s, d) in enumerate(zip(starts, dims[2:])):
            s = L.convert(s, i32)
            s = L.broadcast_in_dim(s, (size,), ()) if d is None else s
            s = jx.clamp(L.full_like(s, 0), s, L.full_like(s, xb.shape[k + 1] - ub.shape[k + 1]))
            off = jx.iota(dtype=i32, shape=xb.shape, dimension=k + 1) - L.broadcast_in_dim(s, xb.shape, (0,))
            ok = L.and_(L.ge(off, 0), L.lt(off, ub.shape[k + 1]))
            inside = ok if inside is None else L.and_(inside, ok)
            cols.append(jx.clamp(L.full_like(off, 0), off, L.full_like(off, ub.shape[k + 1] - 1)))
        idx = jx.concatenate(*[L.reshape(c, xb.shape + (1,)) for c in cols], dimension=xb.ndim)
        nd = tuple(range(xb.ndim))
        taken = jx.gather(
            ub, idx, offset_dims=(), collapsed_slice_dims=nd, start_index_map=nd, slice_sizes=(1,) * xb.ndim
        )
        return (taken if inside is None else L.select(inside, taken, xb)), 0
    zero = L.full((), 0, starts[0].dtype) if starts else L.full((), 0, np.int32)
    return jx.dynamic_update_slice(xs[0], xs[1], zero, *starts), 0


register(
    Primitive(
        "dynamic_update_slice",
        _dus_infer,
        impl=_dus_impl,
        lower=lambda ctx, x, u, *starts: hlo.op1("stablehlo.dynamic_update_slice", [x, u, *starts], ctx.out_avals[0]),
        jvp=_dus_jvp,
        vjp=_dus_vjp,
        batch=_dus_batch,
        doc="write update into operand at traced start indices (clamped)",
        family="indexing",
        tags=frozenset({IN_PLACE}),
    )
)

# ---- gather ----------------------------------------------------------------------------------


def _gather_infer(x, idx, offset_dims, collapsed_slice_dims, start_index_map, slice_sizes):
    if idx.dtype.kind not in "iu" or idx.ndim < 1:
        raise VerifyError("jx.gather indices must be an integer array with the index vector last")
    if idx.shape[-1] != len(start_index_map):
        raise VerifyError("jx.gather index vector length must equal len(start_index_map)")
    if len(slice_sizes) != x.ndim:
        raise VerifyError("jx.gather needs one slice size per operand axis")
    if any(not 0 <= z <= n for z, n in zip(slice_sizes, x.shape)):
        raise VerifyError(f"jx.gather slice_sizes {tuple(slice_sizes)} do not fit operand {x.str_short()}")
    for d in collapsed_slice_dims:
        if slice_sizes[d] > 1:
            raise VerifyError("jx.gather collapsed dims need slice size <= 1")
    batch = idx.shape[:-1]
    window = [slice_sizes[i] for i in range(x.ndim) if i not in collapsed_slice_dims]
    if len(window) != len(offset_dims):
        raise VerifyError("jx.gather offset_dims must name one output axis per uncollapsed operand axis")
    rank = len(batch) + len(offset_dims)
    out, bi, wi = [], iter(batch), iter(window)
    for i in range(rank):
        out.append(next(wi) if i in offset_dims else next(bi))
    return ShapedType(tuple(out), x.dtype)


def _gather_impl(x, idx, offset_dims, collapsed_slice_dims, start_index_map, slice_sizes):
    out = _gather_infer(
        ShapedType(x.shape, x.dtype),
        ShapedType(idx.shape, idx.dtype),
        offset_dims,
        collapsed_slice_dims,
        start_index_map,
        slice_sizes,
    )
    batch = idx.shape[:-1]
    keep = [i for i in range(x.ndim) if i not in collapsed_slice_dims]
    slabs = np.empty(batch + tuple(slice_sizes[i] for i in keep), x.dtype)
    for b in np.ndindex(*batch):
        start = [0] * x.ndim
        for k, d in enumerate(start_index_map):
            start[d] = int(np.clip(int(idx[b + (k,)]), 0, x.shape[d] - slice_sizes[d]))
        slab = x[tuple(slice(s, s + z) for s, z in zip(start, slice_sizes))]
        slabs[b] = slab.reshape([slice_sizes[i] for i in keep])
    # slabs axes: batch..., window...; place window axes at offset_dims
    nb = len(batch)
    batch_pos = [i for i in range(len(out.shape)) if i not in offset_dims]
    perm = [0] * len(out.shape)
    for j, p in enumerate(batch_pos):
        perm[p] = j
    for j, p in enumerate(offset_dims):
        perm[p] = nb + j
    return np.transpose(slabs, perm).copy()


def _lst(xs):
    return "[" + ", ".join(map(str, xs)) + "]"


def _index_bounds(idx, x_shape, dims, sizes):
    """(lo, hi) tensors shaped like idx: the in-range start indices for each index column."""
    ia = aval(idx)
    hi = np.array([x_shape[d] - sizes[d] for d in dims], ia.dtype)
    lo = hlo.constant(0, ia.dtype, ia.shape)
    return lo, hlo.broadcast(hlo.constant(hi), ia.shape, (len(ia.shape) - 1,))


def _gather_lower(ctx, x, idx, offset_dims, collapsed_slice_dims, start_index_map, slice_sizes):
    # StableHLO clamps out-of-range starts, but IREE 3.13 reads out of bounds: clamp here
    lo, hi = _index_bounds(idx, aval(x).shape, start_index_map, slice_sizes)
    idx = hlo.op1("stablehlo.clamp", [lo, idx, hi], aval(idx))
    dn = (
        f"#stablehlo.gather<offset_dims = {_lst(offset_dims)}, collapsed_slice_dims = {_lst(collapsed_slice_dims)}, "
        f"start_index_map = {_lst(start_index_map)}, index_vector_dim = {aval(idx).ndim - 1}>"
    )
    return hlo.op1(
        "stablehlo.gather",
        [x, idx],
        ctx.out_avals[0],
        {"dimension_numbers": dn, "slice_sizes": hlo.i64s(slice_sizes), "indices_are_sorted": hlo.attr("false")},
    )


def _gather_jvp(primals, tangents, **p):
    x, idx = primals
    out = jx.gather(x, idx, **p)
    t = tangents[0]
    return [out], [None if t is None else jx.gather(t, idx, **p)]


def _clamp_starts(idx, x_shape, dims, sizes):
    """idx with each index column clamped into [0, x_shape[d] - sizes[d]] (gather's rule)."""
    hi = L.Val(constant(np.array([x_shape[d] - sizes[d] for d in dims], idx.dtype)))
    hi = L.broadcast_in_dim(hi, idx.shape, (idx.ndim - 1,))
    return jx.clamp(L.zeros_like(idx), idx, hi)


def _gather_vjp(cts, primals, outs, offset_dims, collapsed_slice_dims, start_index_map, slice_sizes):
    x, idx = primals
    # gather clamps its starts, so its transpose scatters at the clamped starts (scatter
    # itself would drop out-of-range windows)
    idx = _clamp_starts(idx, x.shape, start_index_map, slice_sizes)
    z = L.zeros_like(x)
    ct = jx.scatter(
        z,
        idx,
        cts[0],
        update_window_dims=offset_dims,
        inserted_window_dims=collapsed_slice_dims,
        scatter_dims_to_operand_dims=start_index_map,
        kind="add",
    )
    return [ct, None]


def _gather_batch(args, dims, offset_dims, collapsed_slice_dims, start_index_map, slice_sizes):
    x, idx = args
    dx, di = dims
    if di is None:
        x = _moved_to_front([x], [dx])[0]
        out = jx.gather(
            x,
            idx,
            offset_dims=(0,) + tuple(d + 1 for d in offset_dims),
            collapsed_slice_dims=tuple(d + 1 for d in collapsed_slice_dims),
            start_index_map=tuple(d + 1 for d in start_index_map),
            slice_sizes=(x.shape[0],) + tuple(slice_sizes),
        )
        return out, 0
    size = idx.shape[di]
    idx = _moved_to_front([idx], [di])[0]
    if dx is None:
        out = jx.gather(
            x,
            idx,
            offset_dims=tuple(d + 1 for d in offset_dims),
            collapsed_slice_dims=collapsed_slice_dims,
            start_index_map=start_index_map,
            slice_sizes=slice_sizes,
        )
        return out, 0
    x = _moved_to_front([x], [dx])[0]
    iota = jx.iota(dtype=idx.dtype, shape=idx.shape[:-1] + (1,), dimension=0)
    idx2 = jx.concatenate(iota, idx, dimension=idx.ndim - 1)
    out = jx.gather(
        x,
        idx2,
        offset_dims=tuple(d + 1 for d in offset_dims),
        collapsed_slice_dims=(0,) + tuple(d + 1 for d in collapsed_slice_dims),
        start_index_map=(0,) + tuple(d + 1 for d in start_index_map),
        slice_sizes=(1,) + tuple(slice_sizes),
    )
    del size
    return out, 0


register(
    Primitive(
        "gather",
        _gather_infer,
        impl=_gather_impl,
        lower=_gather_lower,
        jvp=_gather_jvp,
        vjp=_gather_vjp,
        batch=_gather_batch,
        doc="StableHLO gather (index vector last; out-of-range starts clamp)",
        family="indexing",
    )
)

# ---- scatter ----------------------------------------------------------------------------------

_SCATTER_NP = {
    "set": lambda a, b: b,
    "add": np.add,
    "mul": np.multiply,
    "min": np.minimum,
    "max": np.maximum,
}
_SCATTER_HLO = {
    "add": "stablehlo.add",
    "mul": "stablehlo.multiply",
    "min": "stablehlo.minimum",
    "max": "stablehlo.maximum",
}


def _scatter_infer(x, idx, upd, update_window_dims, inserted_window_dims, scatter_dims_to_operand_dims, kind):
    if kind not in _SCATTER_NP:
        raise VerifyError(f"jx.scatter kind must be one of {sorted(_SCATTER_NP)}, got {kind!r}")
    if upd.dtype != x.dtype:
        raise VerifyError("jx.scatter updates must have the operand's dtype")
    if idx.dtype.kind not in "iu" or idx.shape[-1:] != (len(scatter_dims_to_operand_dims),):
        raise VerifyError("jx.scatter indices must be integers with the index vector last")
    nb = idx.ndim - 1
    if upd.ndim != nb + len(update_window_dims):
        raise VerifyError(f"jx.scatter updates {upd.str_short()} do not match indices {idx.str_short()}")
    if len(update_window_dims) + len(inserted_window_dims) != x.ndim:
        raise VerifyError("jx.scatter window dims + inserted dims must cover the operand")
    return x


def _scatter_impl(x, idx, upd, update_window_dims, inserted_window_dims, scatter_dims_to_operand_dims, kind):
    out = x.copy()
    f = _SCATTER_NP[kind]
    batch_pos = [i for i in range(upd.ndim) if i not in update_window_dims]
    u = np.transpose(upd, batch_pos + list(update_window_dims))
    nb = len(batch_pos)
    window_operand_dims = [i for i in range(x.ndim) if i not in inserted_window_dims]
    for b in np.ndindex(*u.shape[:nb]):
        win = u[b]
        start = [0] * x.ndim
        for k, d in enumerate(scatter_dims_to_operand_dims):
            start[d] = int(idx[b + (k,)])
        full = [1] * x.ndim
        for j, d in enumerate(window_operand_dims):
            full[d] = win.shape[j]
        if any(s < 0 or s + z > n for s, z, n in zip(start, full, x.shape)):
            continue  # out-of-range windows are dropped
        sl = tuple(slice(s, s + z) for s, z in zip(start, full))
        out[sl] = f(out[sl], win.reshape(full)).astype(x.dtype)
    return out


def _scatter_lower(ctx, x, idx, upd, update_window_dims, inserted_window_dims, scatter_dims_to_operand_dims, kind):
    # StableHLO drops out-of-range windows, but IREE 3.13 writes out of bounds (heap
    # corruption). So: pad the operand at the high end of each scatter dim by the window
    # size, send out-of-range windows into that padding, and slice it off afterwards.
    a, ia = aval(x), aval(idx)
    sizes = [1] * a.ndim
    for j, d in enumerate(i for i in range(a.ndim) if i not in inserted_window_dims):
        sizes[d] = aval(upd).shape[update_window_dims[j]]
    sdod = scatter_dims_to_operand_dims
    lo, hi = _index_bounds(idx, a.shape, sdod, sizes)
    ok = hlo.op1(
        "stablehlo.and", [hlo.compare(idx, lo, "GE"), hlo.compare(idx, hi, "LE")], ShapedType(ia.shape, np.dtype(bool))
    )
    row_ok = hlo.reduce(ok, (len(ia.shape) - 1,), "and") if ia.shape[-1] else None
    if row_ok is not None:
        far = hlo.broadcast(
            hlo.constant(np.array([a.shape[d] for d in sdod], ia.dtype)), ia.shape, (len(ia.shape) - 1,)
        )
        row_ok = hlo.broadcast(row_ok, ia.shape, tuple(range(len(ia.shape) - 1)))
        idx = hlo.op1("stablehlo.select", [row_ok, idx, far], ia)
    high = [sizes[d] if d in sdod else 0 for d in range(a.ndim)]
    padded = ShapedType(tuple(n + h for n, h in zip(a.shape, high)), a.dtype)
    zero = hlo.constant(np.array(0, a.dtype))
    xp = hlo.op1(
        "stablehlo.pad",
        [x, zero],
        padded,
        {
            "edge_padding_low": hlo.i64s([0] * a.ndim),
            "edge_padding_high": hlo.i64s(high),
            "interior_padding": hlo.i64s([0] * a.ndim),
        },
    )
    out = _scatter_lower_raw(xp, idx, upd, update_window_dims, inserted_window_dims, sdod, kind)
    return hlo.op1(
        "stablehlo.slice",
        [out],
        a,
        {
            "start_indices": hlo.i64s([0] * a.ndim),
            "limit_indices": hlo.i64s(a.shape),
            "strides": hlo.i64s([1] * a.ndim),
        },
    )


def _scatter_lower_raw(x, idx, upd, update_window_dims, inserted_window_dims, scatter_dims_to_operand_dims, kind):
    a = aval(x)
    sdod = list(scatter_dims_to_operand_dims)
    perm = sdod + [d for d in range(a.ndim) if d not in sdod]
    if perm != list(range(a.ndim)):
        return _scatter_indexed_dims_first(x, idx, upd, update_window_dims, inserted_window_dims, sdod, kind, perm)
    upd, update_window_dims = _window_dims_last(upd, update_window_dims)
    dn = (
        f"#stablehlo.scatter<update_window_dims = {_lst(update_window_dims)}, inserted_window_dims = {_lst(inserted_window_dims)}, "
        f"scatter_dims_to_operand_dims = {_lst(scatter_dims_to_operand_dims)}, index_vector_dim = {aval(idx).ndim - 1}>"
    )
    st = hlo.scalar_type(a.dtype)

    def body(old, new):
        if kind == "set":
            return [new]
        return [hlo.op1(_SCATTER_HLO[kind], [old, new], st)]

    return hlo.with_region(
        "stablehlo.scatter",
        [x, idx, upd],
        [a],
        {"scatter_dimension_numbers": dn, "indices_are_sorted": hlo.attr("false"), "unique_indices": hlo.attr("false")},
        [st, st],
        body,
    )[0]


def _transpose(v, perm):
    t = aval(v)
    return hlo.op1(
        "stablehlo.transpose",
        [v],
        ShapedType(tuple(t.shape[d] for d in perm), t.dtype),
        {"permutation": hlo.i64s(perm)},
    )


def _scatter_indexed_dims_first(x, idx, upd, uwd, iwd, sdod, kind, perm):
    """The scatter on an operand transposed so its indexed dims lead (scatter_dims_to_operand_dims
    = [0, 1, ...]), then transposed back. IREE 3.13 rejects other layouts ("expected indices
    to be equal to batch rank"), as in the transpose of a batched diagonal's gather:

        operand 2x3x3, scatter_dims_to_operand_dims = [1, 2], inserted_window_dims = [1, 2]
    becomes
        operand 3x3x2 (dims [1, 2, 0]), scatter_dims_to_operand_dims = [0, 1], inserted = [0, 1]
    """
    a = aval(x)
    inv = [perm.index(d) for d in range(a.ndim)]  # where operand dim d goes
    new_iwd = sorted(inv[d] for d in iwd)
    old_window = [d for d in range(a.ndim) if d not in iwd]  # operand dims, in uwd's order
    upd_axis = dict(zip(old_window, uwd))
    new_window = [perm[p] for p in range(a.ndim) if p not in new_iwd]  # old dims, in the new order
    u = aval(upd)
    scat = [d for d in range(u.ndim) if d not in uwd]
    updt = _transpose(upd, scat + [upd_axis[d] for d in new_window])
    new_uwd = tuple(range(len(scat), u.ndim))
    out = _scatter_lower_raw(_transpose(x, perm), idx, updt, new_uwd, tuple(new_iwd), tuple(range(len(sdod))), kind)
    return _transpose(out, inv)


def _window_dims_last(upd, update_window_dims):
    """updates transposed so its scatter dims lead and its window dims trail (in order).
    IREE 3.13 rejects a scatter whose window dims come first ("expected indices to be equal
    to batch rank"), as the transpose of a batched diagonal gather gives:

        updates tensor<2x3xf32>, update_window_dims = [0]
    becomes
        stablehlo.transpose %upd, dims = [1, 0] -> tensor<3x2xf32>, update_window_dims = [1]
    """
    u = aval(upd)
    window = list(update_window_dims)
    scatter = [d for d in range(u.ndim) if d not in window]
    perm = scatter + window
    if perm == list(range(u.ndim)):
        return upd, update_window_dims
    return _transpose(upd, perm), tuple(range(len(scatter), u.ndim))


def _at_updates(v, idx, p, upd):
    """(v read at each update's place, in the updates' shape; whether scatter wrote that update
    there, None when it always does): the gather that scatter's windows mirror."""
    sizes = _window_sizes(v, upd, p)
    sdod = p["scatter_dims_to_operand_dims"]
    g = jx.gather(
        v,
        idx,
        offset_dims=p["update_window_dims"],
        collapsed_slice_dims=p["inserted_window_dims"],
        start_index_map=sdod,
        slice_sizes=sizes,
    )
    if not sdod:
        return g, None
    ok = L.and_(L.ge(idx, 0), L.eq(_clamp_starts(idx, v.shape, sdod, sizes), idx))
    row_ok = jx.reduce_and(ok, axes=(idx.ndim - 1,))
    batch_pos = tuple(i for i in range(upd.ndim) if i not in p["update_window_dims"])
    return g, L.broadcast_in_dim(row_ok, upd.shape, batch_pos)


def _gather_of_scatter(ct, idx, p, upd):
    """The updates' cotangent: ct at each window, zero for windows scatter dropped."""
    g, ok = _at_updates(ct, idx, p, upd)
    return g if ok is None else L.select(ok, g, L.zeros_like(g))


def _scatter_as(kind, x, idx, upd, p):
    return jx.scatter(x, idx, upd, **{**p, "kind": kind})


def _mul_coefficients(x, idx, upd, p):
    """scatter kind='mul' as out = x * P (P: each place's product of the updates written there):
    (P, each update's product of the other updates at its place). The latter without dividing
    by a zero update: the product of the nonzero ones, with the count of zeros."""
    one = L.ones_like(x)
    prod = _scatter_as("mul", one, idx, upd, p)
    is_zero = L.eq(upd, L.zeros_like(upd))
    nonzero = _scatter_as("mul", one, idx, L.select(is_zero, L.ones_like(upd), upd), p)
    zeros = _scatter_as("add", L.zeros_like(x), idx, L.convert(is_zero, x.dtype), p)
    nz, _ = _at_updates(nonzero, idx, p, upd)
    nzeros, _ = _at_updates(zeros, idx, p, upd)
    safe = L.select(is_zero, L.ones_like(upd), upd)
    others = L.select(
        is_zero,
        L.select(L.eq(nzeros, L.ones_like(nzeros)), nz, L.zeros_like(nz)),
        L.select(L.eq(nzeros, L.zeros_like(nzeros)), L.div(nz, safe), L.zeros_like(nz)),
    )
    return prod, others


def _extremum_coefficients(x, idx, upd, out, p):
    """scatter kind='max'/'min': the derivative goes to the values equal to the result, split
    evenly between ties (as JAX's): (the operand's coefficient, each update's coefficient)."""
    at_out, ok = _at_updates(out, idx, p, upd)
    won = L.eq(upd, at_out)
    if ok is not None:
        won = L.and_(won, ok)
    kept = L.convert(L.eq(x, out), x.dtype)
    n = L.add(_scatter_as("add", L.zeros_like(x), idx, L.convert(won, x.dtype), p), kept)  # >= 1 where written
    x_coef = L.div(kept, L.select(L.eq(n, L.zeros_like(n)), L.ones_like(n), n))
    n_at, _ = _at_updates(n, idx, p, upd)
    upd_coef = L.select(won, L.div(L.ones_like(n_at), L.select(won, n_at, L.ones_like(n_at))), L.zeros_like(upd))
    return x_coef, upd_coef


def _window_sizes(x, upd, p):
    sizes = [1] * x.ndim
    window_operand_dims = [i for i in range(x.ndim) if i not in p["inserted_window_dims"]]
    for j, d in enumerate(window_operand_dims):
        sizes[d] = upd.shape[p["update_window_dims"][j]]
    return tuple(sizes)


def _scatter_jvp(primals, tangents, **p):
    x, idx, upd = primals
    out = jx.scatter(x, idx, upd, **p)
    tx, _, tu = tangents
    if tx is None and tu is None:
        return [out], [None]
    tx = tx if tx is not None else L.zeros_like(x)
    tu = tu if tu is not None else L.zeros_like(upd)
    if p["kind"] in ("set", "add"):
        return [out], [jx.scatter(tx, idx, tu, **p)]
    if p["kind"] == "mul":
        prod, others = _mul_coefficients(x, idx, upd, p)
        through_updates = _scatter_as("add", L.zeros_like(x), idx, L.mul(tu, others), p)
        return [out], [L.add(L.mul(tx, prod), L.mul(x, through_updates))]
    if p["kind"] in ("max", "min"):
        x_coef, upd_coef = _extremum_coefficients(x, idx, upd, out, p)
        return [out], [_scatter_as("add", L.mul(tx, x_coef), idx, L.mul(tu, upd_coef), p)]
    raise NotImplementedError(f"differentiation of scatter kind={p['kind']!r}")


def _scatter_vjp(cts, primals, outs, **p):
    x, idx, upd = primals
    ct = cts[0]
    if p["kind"] == "add":
        return [ct, None, _gather_of_scatter(ct, idx, p, upd)]
    if p["kind"] == "set":
        cleared = jx.scatter(ct, idx, L.zeros_like(upd), **p)
        # updates that were overwritten by a later duplicate get no cotangent (as in JAX when unique)
        return [cleared, None, _gather_of_scatter(ct, idx, p, upd)]
    if p["kind"] == "mul":
        prod, others = _mul_coefficients(x, idx, upd, p)
        return [L.mul(ct, prod), None, L.mul(_gather_of_scatter(L.mul(ct, x), idx, p, upd), others)]
    if p["kind"] in ("max", "min"):
        x_coef, upd_coef = _extremum_coefficients(x, idx, upd, outs[0], p)
        return [L.mul(ct, x_coef), None, L.mul(_gather_of_scatter(ct, idx, p, upd), upd_coef)]
    raise NotImplementedError(f"reverse-mode differentiation of scatter kind={p['kind']!r}")


def _scatter_batch(args, dims, update_window_dims, inserted_window_dims, scatter_dims_to_operand_dims, kind):
    x, idx, upd = args
    dx, di, du = dims
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)

    def front(a, d):
        return (
            L.broadcast_in_dim(a, (size,) + a.shape, tuple(range(1, a.ndim + 1)))
            if d is None
            else _moved_to_front([a], [d])[0]
        )

    x = front(x, dx)
    upd = front(upd, du)
    if di is None:
        # every batch member scatters at the same indices: the batch axis becomes the last
        # window dim of operand and updates (IREE wants window dims trailing)
        x = L.moveaxis(x, 0, x.ndim - 1)
        upd = L.moveaxis(upd, 0, upd.ndim - 1)
        out = jx.scatter(
            x,
            idx,
            upd,
            update_window_dims=tuple(update_window_dims) + (upd.ndim - 1,),
            inserted_window_dims=tuple(inserted_window_dims),
            scatter_dims_to_operand_dims=tuple(scatter_dims_to_operand_dims),
            kind=kind,
        )
        return L.moveaxis(out, x.ndim - 1, 0), 0
    idx = front(idx, di)
    iota = jx.iota(dtype=idx.dtype, shape=idx.shape[:-1] + (1,), dimension=0)
    idx2 = jx.concatenate(iota, idx, dimension=idx.ndim - 1)
    out = jx.scatter(
        x,
        idx2,
        upd,
        update_window_dims=tuple(d + 1 for d in update_window_dims),
        inserted_window_dims=(0,) + tuple(d + 1 for d in inserted_window_dims),
        scatter_dims_to_operand_dims=(0,) + tuple(d + 1 for d in scatter_dims_to_operand_dims),
        kind=kind,
    )
    return out, 0


register(
    Primitive(
        "scatter",
        _scatter_infer,
        impl=_scatter_impl,
        lower=_scatter_lower,
        jvp=_scatter_jvp,
        vjp=_scatter_vjp,
        batch=_scatter_batch,
        doc="StableHLO scatter with kind set/add/mul/min/max (out-of-range windows dropped)",
        family="indexing",
        tags=frozenset({IN_PLACE, LOW_FLOAT_IN_F32}),
    )
)
