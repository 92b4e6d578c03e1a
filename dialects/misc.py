"""constant, iota, sort and call.

%0 = "jx.constant"() {value = dense<1.0> : tensor<3xf32>} : () -> tensor<3xf32>
%1 = "jx.call"(%0) {callee = @f} : (tensor<3xf32>) -> tensor<3xf32>
"""

from __future__ import annotations

import numpy as np

from . import hlo
from . import lang as L
from .builder import aval
from .lang import jx
from .mlir import ir
from .registry import IN_PLACE, LOW_FLOAT_IN_F32, Primitive, ShapedType, VerifyError, register
from .structural import _moved_to_front

register(
    Primitive(
        "constant",
        lambda value: ShapedType(tuple(value.shape), value.dtype),
        impl=lambda value: np.array(value),
        lower=lambda ctx, value: hlo.constant(value),
        jvp=lambda primals, tangents, value: ([jx.constant(value=value)], [None]),
        vjp=lambda cts, primals, outs, value: [],
        batch=lambda args, dims, value: (jx.constant(value=value), None),
        doc="a dense literal",
        family="misc",
    )
)


def _iota_infer(dtype, shape, dimension):
    if not 0 <= dimension < len(shape):
        raise VerifyError(f"iota dimension {dimension} out of range for shape {shape}")
    return ShapedType(tuple(shape), np.dtype(dtype))


def _iota_impl(dtype, shape, dimension):
    ar = np.arange(shape[dimension], dtype=np.dtype(dtype))
    return np.broadcast_to(ar.reshape([-1 if i == dimension else 1 for i in range(len(shape))]), shape).copy()


register(
    Primitive(
        "iota",
        _iota_infer,
        impl=_iota_impl,
        lower=lambda ctx, dtype, shape, dimension: hlo.op1(
            "stablehlo.iota", [], ctx.out_avals[0], {"iota_dimension": hlo.attr(f"{dimension} : i64")}
        ),
        jvp=lambda primals, tangents, **p: ([jx.iota(**p)], [None]),
        vjp=lambda cts, primals, outs, **p: [],
        batch=lambda args, dims, **p: (jx.iota(**p), None),
        doc="0, 1, 2, ... along dimension",
        family="misc",
        tags=frozenset({LOW_FLOAT_IN_F32}),
    )
)

# ---- sort -----------------------------------------------------------------------------------


def _sort_infer(*xs, dimension, num_keys, is_stable=True):
    if not xs:
        raise VerifyError("jx.sort needs operands")
    for x in xs:
        if x.shape != xs[0].shape:
            raise VerifyError("jx.sort operands must share a shape")
    if not 1 <= num_keys <= len(xs):
        raise VerifyError("jx.sort num_keys out of range")
    return list(xs)


def _sort_impl(*xs, dimension, num_keys, is_stable=True):
    keys = [np.moveaxis(x, dimension, -1) for x in xs[:num_keys]]
    order = np.lexsort(tuple(reversed(keys)), axis=-1) if keys[0].ndim else np.zeros((), np.int64)
    outs = []
    for x in xs:
        xm = np.moveaxis(x, dimension, -1)
        outs.append(np.moveaxis(np.take_along_axis(xm, order, axis=-1), -1, dimension).copy())
    return outs


def _sort_lower(ctx, *xs, dimension, num_keys, is_stable=True):
    n_out = len(xs)
    order = list(range(n_out))  # result i of the sort op below is operand order[i]
    if is_stable:
        # IREE 3.13's sort is not stable: break ties on the original position, as an extra
        # key. Reuse an operand that already is that position (jvp's and argsort's iota):
        # IREE fails to compile a sort fed by two iotas.
        pos_i = next((i for i in range(num_keys, n_out) if _is_position(xs[i], dimension)), None)
        if pos_i is not None:
            order = list(range(num_keys)) + [pos_i] + [i for i in range(num_keys, n_out) if i != pos_i]
            xs = tuple(xs[i] for i in order)
        else:
            shape = aval(xs[0]).shape
            pos = hlo.op1(
                "stablehlo.iota",
                [],
                ShapedType(shape, np.dtype(np.int32)),
                {"iota_dimension": hlo.attr(f"{dimension} : i64")},
            )
            xs = xs[:num_keys] + (pos,) + xs[num_keys:]
            order = list(range(num_keys)) + [None] + list(range(num_keys, n_out))
        num_keys += 1
    avals = [aval(x) for x in xs]
    types = []
    for a in avals:
        types += [hlo.scalar_type(a.dtype), hlo.scalar_type(a.dtype)]

    def less(a, b, dtype):
        if np.dtype(dtype).kind == "f":
            # total order: NaN sorts last (as numpy / JAX)
            nan_a = hlo.compare(a, a, "NE")
            nan_b = hlo.compare(b, b, "NE")
            lt = hlo.compare(a, b, "LT")
            not_nan_a = hlo.op1("stablehlo.not", [nan_a], ShapedType((), np.dtype(bool)))
            return hlo.op1(
                "stablehlo.or",
                [lt, hlo.op1("stablehlo.and", [nan_b, not_nan_a], ShapedType((), np.dtype(bool)))],
                ShapedType((), np.dtype(bool)),
            )
        return hlo.compare(a, b, "LT")

    def eq(a, b, dtype):
        if np.dtype(dtype).kind == "f":
            both_nan = hlo.op1(
                "stablehlo.and", [hlo.compare(a, a, "NE"), hlo.compare(b, b, "NE")], ShapedType((), np.dtype(bool))
            )
            return hlo.op1("stablehlo.or", [hlo.compare(a, b, "EQ"), both_nan], ShapedType((), np.dtype(bool)))
        return hlo.compare(a, b, "EQ")

    def body(*args):
        # lexicographic less-than over the key operands
        result = None
        for k in reversed(range(num_keys)):
            a, b, dt = args[2 * k], args[2 * k + 1], avals[k].dtype
            lt = less(a, b, dt)
            if result is None:
                result = lt
            else:
                e = eq(a, b, dt)
                result = hlo.op1(
                    "stablehlo.or",
                    [lt, hlo.op1("stablehlo.and", [e, result], ShapedType((), np.dtype(bool)))],
                    ShapedType((), np.dtype(bool)),
                )
        return [result]

    outs = hlo.with_region(
        "stablehlo.sort",
        list(xs),
        avals,
        {"dimension": hlo.attr(f"{dimension} : i64"), "is_stable": hlo.attr("true" if is_stable else "false")},
        types,
        body,
    )
    res = [None] * n_out
    for o, i in zip(outs, order):
        if i is not None:  # (None: the added position key)
            res[i] = o
    return res


def _is_position(v, dimension) -> bool:
    """v is an integer stablehlo.iota along `dimension` (0, 1, 2, ... along the sort axis), or
    a broadcast_in_dim of one that puts its iota axis there (vmap's batched argsort iota)."""
    try:
        op = v.owner
    except Exception:  # noqa: BLE001  (a block argument has no owner op)
        return False
    if aval(v).dtype.kind not in "iu":
        return False
    name = getattr(op, "name", None)
    if name == "stablehlo.broadcast_in_dim":
        dims = [int(d) for d in ir.DenseI64ArrayAttr(op.attributes["broadcast_dimensions"])]
        src = op.operands[0]
        src_shape = aval(src).shape
        # every operand axis lands in the result unchanged in size (a pure broadcast)
        for i, d in enumerate(dims):
            if src_shape[i] != aval(v).shape[d]:
                return False
        src_dim = next((i for i, d in enumerate(dims) if d == dimension), None)
        return src_dim is not None and _is_position(src, src_dim)
    if name != "stablehlo.iota":
        return False
    return str(op.attributes["iota_dimension"]).split(":")[0].strip() == str(dimension)


def _sort_jvp(primals, tangents, dimension, num_keys, is_stable=True):
    # sort an iota alongside to learn the permutation, then gather the tangents with it
    x0 = primals[0]
    iota = jx.iota(dtype=np.dtype(np.int32), shape=x0.shape, dimension=dimension)
    outs = jx.sort(*primals, iota, dimension=dimension, num_keys=num_keys, is_stable=is_stable)
    perm = outs[-1]
    tans = [None if t is None else _take_along(t, perm, dimension) for t in tangents]
    return outs[:-1], tans


def _take_along(x, perm, dimension):
    # x[..., perm[...], ...] along `dimension` as a gather with full index tuples
    nd = x.ndim
    cols = []
    for d in range(nd):
        c = perm if d == dimension else jx.iota(dtype=np.dtype(np.int32), shape=x.shape, dimension=d)
        cols.append(L.reshape(c, x.shape + (1,)))
    idx = jx.concatenate(*cols, dimension=nd)
    return jx.gather(
        x,
        idx,
        offset_dims=(),
        collapsed_slice_dims=tuple(range(nd)),
        start_index_map=tuple(range(nd)),
        slice_sizes=(1,) * nd,
    )


def _sort_vjp(cts, primals, outs, dimension, num_keys, is_stable=True):
    # the transpose of "gather along the permutation": scatter-add the cotangents back
    x0 = primals[0]
    iota = jx.iota(dtype=np.dtype(np.int32), shape=x0.shape, dimension=dimension)
    perm = jx.sort(*primals, iota, dimension=dimension, num_keys=num_keys, is_stable=is_stable)[-1]
    idx = _full_index(perm, dimension)
    nd = x0.ndim
    res = []
    for c, x in zip(cts, primals):
        if not L.is_float(x):
            res.append(None)
            continue
        res.append(
            jx.scatter(
                L.zeros_like(x),
                idx,
                c,
                update_window_dims=(),
                inserted_window_dims=tuple(range(nd)),
                scatter_dims_to_operand_dims=tuple(range(nd)),
                kind="add",
            )
        )
    return res


def _full_index(perm, dimension):
    # index tuples (..., perm, ...) for every element: iota along the other axes
    nd = perm.ndim
    cols = []
    for d in range(nd):
        c = perm if d == dimension else jx.iota(dtype=np.dtype(np.int32), shape=perm.shape, dimension=d)
        cols.append(L.reshape(c, perm.shape + (1,)))
    return jx.concatenate(*cols, dimension=nd)


def _sort_batch(args, dims, dimension, num_keys, is_stable=True):
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    xs = []
    for a, d in zip(args, dims):
        xs.append(
            L.broadcast_in_dim(a, (size,) + a.shape, tuple(range(1, a.ndim + 1)))
            if d is None
            else _moved_to_front([a], [d])[0]
        )
    outs = jx.sort(*xs, dimension=dimension + 1, num_keys=num_keys, is_stable=is_stable)
    return outs, [0] * len(outs)


register(
    Primitive(
        "sort",
        _sort_infer,
        impl=_sort_impl,
        lower=_sort_lower,
        jvp=_sort_jvp,
        vjp=_sort_vjp,
        batch=_sort_batch,
        multiple_results=True,
        doc="stable multi-operand sort along dimension, lexicographic over the first num_keys",
        family="misc",
        tags=frozenset({IN_PLACE, LOW_FLOAT_IN_F32}),
    )
)

# jx.call and the custom-derivative calls are call-like records: see calls.py.

# ---- stop_gradient ---------------------------------------------------------------------------
# An identity whose derivative is zero; lowering forwards the operand.

register(
    Primitive(
        "stop_gradient",
        lambda x: x,
        impl=lambda x: x.copy(),
        lower=lambda ctx, x: x,
        jvp=lambda primals, tangents: ([jx.stop_gradient(primals[0])], [None]),
        vjp=lambda cts, primals, outs: [None],
        batch=lambda args, dims: (jx.stop_gradient(args[0]), dims[0]),
        doc="identity with a zero derivative",
        family="misc",
    )
)
