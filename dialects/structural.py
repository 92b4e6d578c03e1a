"""Shape ops: broadcast_in_dim, reshape, transpose, concatenate, pad, rev.

%1 = "jx.transpose"(%0) {permutation = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
"""

from __future__ import annotations

import numpy as np

from . import hlo
from . import lang as L
from .lang import jx
from .mlir import ir
from .registry import Primitive, ShapedType, VerifyError, register


def _moved_to_front(args, dims):
    return [a if d in (None, 0) else L.moveaxis(a, d, 0) for a, d in zip(args, dims)]


# ---- broadcast_in_dim ---------------------------------------------------------------


def _bid_infer(x, shape, broadcast_dimensions):
    shape, bd = tuple(shape), tuple(broadcast_dimensions)
    if len(bd) != x.ndim:
        raise VerifyError(f"broadcast_dimensions {bd} must have one entry per operand axis ({x.ndim})")
    for i, d in enumerate(bd):
        if not 0 <= d < len(shape) or x.shape[i] not in (1, shape[d]):
            raise VerifyError(f"cannot broadcast {x.str_short()} to {shape} with dims {bd}")
    if list(bd) != sorted(set(bd)):
        raise VerifyError(f"broadcast_dimensions {bd} must be strictly increasing")
    return ShapedType(shape, x.dtype)


def _bid_impl(x, shape, broadcast_dimensions):
    expanded = np.reshape(
        x, [x.shape[broadcast_dimensions.index(i)] if i in broadcast_dimensions else 1 for i in range(len(shape))]
    )
    return np.broadcast_to(expanded, shape).copy()


def _bid_vjp(cts, primals, outs, shape, broadcast_dimensions):
    (x,) = primals
    ct = cts[0]
    bd = broadcast_dimensions
    summed = [i for i in range(len(shape)) if i not in bd]
    summed += [bd[i] for i in range(x.ndim) if x.shape[i] == 1 and shape[bd[i]] != 1]
    return [L.reshape(L.reduce_sum(ct, summed), x.shape)]


def _bid_batch(args, dims, shape, broadcast_dimensions):
    (x,) = _moved_to_front(args, dims)
    n = x.shape[0]
    return L.broadcast_in_dim(x, (n,) + tuple(shape), (0,) + tuple(d + 1 for d in broadcast_dimensions)), 0


def _linear_jvp(name):
    def jvp(primals, tangents, **params):
        out = L.bind(name, *primals, **params)
        if all(t is None for t in tangents):
            return [out], [None]
        ts = [t if t is not None else L.zeros_like(p) for p, t in zip(primals, tangents)]
        return [out], [L.bind(name, *ts, **params)]

    return jvp


register(
    Primitive(
        "broadcast_in_dim",
        _bid_infer,
        impl=_bid_impl,
        lower=lambda ctx, x, shape, broadcast_dimensions: hlo.broadcast(x, shape, broadcast_dimensions),
        jvp=_linear_jvp("broadcast_in_dim"),
        vjp=_bid_vjp,
        batch=_bid_batch,
        doc="broadcast to shape; operand axis i goes to result axis broadcast_dimensions[i]",
        family="shape",
    )
)

# ---- reshape --------------------------------------------------------------------------


def _reshape_infer(x, new_sizes):
    new_sizes = tuple(new_sizes)
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise VerifyError(f"cannot reshape {x.str_short()} to {new_sizes}")
    return ShapedType(new_sizes, x.dtype)


register(
    Primitive(
        "reshape",
        _reshape_infer,
        impl=lambda x, new_sizes: np.reshape(x, new_sizes),
        lower=lambda ctx, x, new_sizes: hlo.op1("stablehlo.reshape", [x], ctx.out_avals[0]),
        jvp=_linear_jvp("reshape"),
        vjp=lambda cts, primals, outs, new_sizes: [L.reshape(cts[0], primals[0].shape)],
        batch=lambda args, dims, new_sizes: (
            L.reshape(_moved_to_front(args, dims)[0], (args[0].shape[dims[0]],) + tuple(new_sizes)),
            0,
        ),
        doc="row-major reshape",
        family="shape",
    )
)

# ---- transpose ------------------------------------------------------------------------


def _transpose_infer(x, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise VerifyError(f"permutation {permutation} is not a permutation of {x.ndim} axes")
    return ShapedType(tuple(x.shape[p] for p in permutation), x.dtype)


register(
    Primitive(
        "transpose",
        _transpose_infer,
        impl=lambda x, permutation: np.transpose(x, permutation).copy(),
        lower=lambda ctx, x, permutation: hlo.op1(
            "stablehlo.transpose", [x], ctx.out_avals[0], {"permutation": hlo.i64s(permutation)}
        ),
        jvp=_linear_jvp("transpose"),
        vjp=lambda cts, primals, outs, permutation: [L.transpose(cts[0], tuple(np.argsort(permutation)))],
        batch=lambda args, dims, permutation: (
            L.transpose(_moved_to_front(args, dims)[0], (0,) + tuple(p + 1 for p in permutation)),
            0,
        ),
        doc="permute axes",
        family="shape",
    )
)

# ---- concatenate ----------------------------------------------------------------------


def _concat_infer(*xs, dimension):
    if not xs:
        raise VerifyError("jx.concatenate needs at least one operand")
    x0 = xs[0]
    for x in xs:
        if (
            x.dtype != x0.dtype
            or x.ndim != x0.ndim
            or any(a != b for i, (a, b) in enumerate(zip(x.shape, x0.shape)) if i != dimension)
        ):
            raise VerifyError("jx.concatenate operands must agree except along the dimension")
    shape = list(x0.shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    return ShapedType(tuple(shape), x0.dtype)


def _concat_vjp(cts, primals, outs, dimension):
    out, start = [], 0
    for p in primals:
        n = p.shape[dimension]
        starts = [0] * p.ndim
        starts[dimension] = start
        limits = list(cts[0].shape)
        limits[dimension] = start + n
        out.append(jx.slice(cts[0], start_indices=tuple(starts), limit_indices=tuple(limits), strides=None))
        start += n
    return out


def _concat_batch(args, dims, dimension):
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    xs = []
    for a, d in zip(args, dims):
        if d is None:
            a = L.broadcast_in_dim(a, (size,) + a.shape, tuple(range(1, a.ndim + 1)))
        elif d != 0:
            a = L.moveaxis(a, d, 0)
        xs.append(a)
    return jx.concatenate(*xs, dimension=dimension + 1), 0


register(
    Primitive(
        "concatenate",
        _concat_infer,
        impl=lambda *xs, dimension: np.concatenate(xs, axis=dimension),
        lower=lambda ctx, *xs, dimension: hlo.op1(
            "stablehlo.concatenate", list(xs), ctx.out_avals[0], {"dimension": hlo.attr(f"{dimension} : i64")}
        ),
        jvp=_linear_jvp("concatenate"),
        vjp=_concat_vjp,
        batch=_concat_batch,
        doc="join operands along dimension",
        family="shape",
    )
)

# ---- pad --------------------------------------------------------------------------------


def _pad_infer(x, padding_value, padding_config):
    if padding_value.shape != () or padding_value.dtype != x.dtype:
        raise VerifyError("jx.pad's padding value must be a scalar of the operand's dtype")
    if len(padding_config) != x.ndim:
        raise VerifyError("jx.pad needs one (low, high, interior) triple per axis")
    shape = []
    for d, (lo, hi, interior) in zip(x.shape, padding_config):
        shape.append(lo + hi + d + max(d - 1, 0) * interior)
    return ShapedType(tuple(shape), x.dtype)


def _pad_impl(x, padding_value, padding_config):
    out_shape = _pad_infer(ShapedType(x.shape, x.dtype), ShapedType((), x.dtype), padding_config).shape
    # interior padding first, then edges (negative edges crop)
    shape_i = [d + max(d - 1, 0) * it for d, (_, _, it) in zip(x.shape, padding_config)]
    buf = np.full(shape_i, padding_value, x.dtype)
    buf[tuple(slice(None, None, it + 1) for (_, _, it) in padding_config)] = x
    pads = [(max(lo, 0), max(hi, 0)) for lo, hi, _ in padding_config]
    buf = np.pad(buf, pads, constant_values=padding_value)
    sl = tuple(slice(-min(lo, 0), buf.shape[i] + min(hi, 0)) for i, (lo, hi, _) in enumerate(padding_config))
    out = buf[sl]
    assert out.shape == out_shape
    return out


def _is_literal(v) -> bool:
    """v is a constant (complex constants are stablehlo.complex of two)."""
    owner = v.owner
    if not isinstance(owner, ir.OpView):
        return False
    name = owner.operation.name
    return name == "stablehlo.constant" or (name == "stablehlo.complex" and all(_is_literal(o) for o in owner.operands))


def _pad_lower(ctx, x, pv, padding_config):
    """stablehlo.pad, with a constant padding value. A value computed at run time (an eager
    graph's argument) pads with zeros and selects it into the padding through a padded mask:
    IREE 3.13's llvm-cpu rejected two pads in a row with run-time values after an elementwise
    op ("write affecting operations on global resources are restricted to workgroup distributed
    contexts"; jnp.fft.fft2 with s= on real input, eagerly)."""
    lo, hi, it = zip(*padding_config) if padding_config else ((), (), ())
    out = ctx.out_avals[0]
    attrs = {"edge_padding_low": hlo.i64s(lo), "edge_padding_high": hlo.i64s(hi), "interior_padding": hlo.i64s(it)}
    if _is_literal(pv):
        return hlo.op1("stablehlo.pad", [x, pv], out, attrs)
    padded = hlo.op1("stablehlo.pad", [x, hlo.constant(np.zeros((), out.dtype))], out, attrs)
    flags = ShapedType(out.shape, np.dtype(np.bool_))
    mask = hlo.op1(
        "stablehlo.pad", [hlo.splat(True, np.bool_, ctx.in_avals[0].shape), hlo.constant(False)], flags, attrs
    )
    return hlo.op1("stablehlo.select", [mask, padded, hlo.broadcast(pv, out.shape, ())], out)


def _pad_vjp(cts, primals, outs, padding_config):
    x, pv = primals
    ct = cts[0]
    # crop the edges back (negative pad), then take every (interior+1)-th element
    unpadded = jx.pad(ct, L.full((), 0, ct.dtype), padding_config=tuple((-lo, -hi, 0) for lo, hi, _ in padding_config))
    starts = tuple(0 for _ in padding_config)
    strides = tuple(it + 1 for _, _, it in padding_config)
    gx = jx.slice(unpadded, start_indices=starts, limit_indices=unpadded.shape, strides=strides)
    gpv = L.reduce_sum(ct, range(ct.ndim)) - L.reduce_sum(gx, range(gx.ndim))
    return [gx, gpv]


def _pad_batch(args, dims, padding_config):
    x, pv = args
    cfg = ((0, 0, 0),) + tuple(padding_config)
    if dims[1] is None:
        x = _moved_to_front([x], [dims[0]])[0]
        return jx.pad(x, pv, padding_config=cfg), 0
    # a batched padding value: pad with zeros, then fill the padding from a padded mask
    size = pv.shape[dims[1]]
    if dims[0] is None:
        x = L.broadcast_in_dim(x, (size,) + x.shape, tuple(range(1, x.ndim + 1)))
    else:
        x = _moved_to_front([x], [dims[0]])[0]
    padded = jx.pad(x, L.full((), 0, x.dtype), padding_config=cfg)
    mask = jx.pad(L.full(x.shape, True, np.bool_), L.full((), False, np.bool_), padding_config=cfg)
    fill = L.broadcast_in_dim(pv, padded.shape, (0,))
    return L.select(mask, padded, fill), 0


register(
    Primitive(
        "pad",
        _pad_infer,
        impl=_pad_impl,
        lower=_pad_lower,
        jvp=_linear_jvp("pad"),
        vjp=_pad_vjp,
        batch=_pad_batch,
        doc="pad with (low, high, interior) per axis; negative low/high crop",
        family="shape",
    )
)

# ---- rev --------------------------------------------------------------------------------


def _rev_lower(ctx, x, dimensions):
    out = ctx.out_avals[0]
    if out.dtype.kind != "u":
        return hlo.op1("stablehlo.reverse", [x], out, {"dimensions": hlo.i64s(dimensions)})
    # IREE 3.13 cannot compile an unsigned reverse: reverse the same bits as a signed type
    signed = ShapedType(out.shape, np.dtype(f"i{out.dtype.itemsize}"))
    y = hlo.op1("stablehlo.bitcast_convert", [x], signed)
    y = hlo.op1("stablehlo.reverse", [y], signed, {"dimensions": hlo.i64s(dimensions)})
    return hlo.op1("stablehlo.bitcast_convert", [y], out)


register(
    Primitive(
        "rev",
        lambda x, dimensions: ShapedType(x.shape, x.dtype),
        impl=lambda x, dimensions: np.flip(x, dimensions).copy() if dimensions else x.copy(),
        lower=_rev_lower,
        jvp=_linear_jvp("rev"),
        vjp=lambda cts, primals, outs, dimensions: [jx.rev(cts[0], dimensions=dimensions)],
        batch=lambda args, dims, dimensions: (
            jx.rev(_moved_to_front(args, dims)[0], dimensions=tuple(d + 1 for d in dimensions)),
            0,
        ),
        doc="reverse along dimensions",
        family="shape",
    )
)
