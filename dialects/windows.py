"""reduce_window: sum / max / min over strided, padded, dilated windows (pooling).

    %1 = "jx.reduce_window"(%0) {kind = "max", window_dimensions = array<i64: 2, 2>, ...}
       : (tensor<4x6xf32>) -> tensor<2x3xf32>
lowers to a `stablehlo.reduce_window` whose region adds / takes the max / the min.
"""

from __future__ import annotations

import itertools

import numpy as np

from . import hlo
from . import lang as L
from .builder import aval
from .convolution import dilate_shape
from .lang import jx
from .registry import Primitive, ShapedType, VerifyError, get, register
from .structural import _moved_to_front

KINDS = ("sum", "max", "min")


def _rw_infer(x, kind, window_dimensions, window_strides, padding, base_dilation, window_dilation):
    if kind not in KINDS:
        raise VerifyError(f"jx.reduce_window kind must be one of {KINDS}, got {kind!r}")
    kinds = "fiu" if kind == "sum" else "fiub"
    if x.dtype.kind not in kinds:
        raise VerifyError(f"jx.reduce_window ({kind}) does not accept dtype {x.dtype.name}")
    for nm, v in (
        ("window_dimensions", window_dimensions),
        ("window_strides", window_strides),
        ("padding", padding),
        ("base_dilation", base_dilation),
        ("window_dilation", window_dilation),
    ):
        if len(v) != x.ndim:
            raise VerifyError(f"jx.reduce_window {nm} needs {x.ndim} entries, got {v}")
    if min((*window_dimensions, *window_strides, *base_dilation, *window_dilation), default=1) < 1:
        raise VerifyError("jx.reduce_window window sizes, strides and dilations must be >= 1")
    out = []
    for n, k, (lo, hi), s in zip(
        dilate_shape(x.shape, base_dilation), dilate_shape(window_dimensions, window_dilation), padding, window_strides
    ):
        p = n + lo + hi
        out.append(0 if p < k else (p - k) // s + 1)
    return ShapedType(tuple(out), x.dtype)


def _padded_config(padding, base_dilation):
    return tuple((lo, hi, b - 1) for (lo, hi), b in zip(padding, base_dilation))


def _offsets(window_dimensions, window_dilation):
    """Start of each window element in the padded operand, one per element of the window."""
    for idx in itertools.product(*(range(k) for k in window_dimensions)):
        yield tuple(i * d for i, d in zip(idx, window_dilation))


def _np_pad(x, fill, config):
    return get("pad").impl(x, np.asarray(fill, x.dtype), config)


def _rw_impl(x, kind, window_dimensions, window_strides, padding, base_dilation, window_dilation):
    out = _rw_infer(
        ShapedType(x.shape, x.dtype), kind, window_dimensions, window_strides, padding, base_dilation, window_dilation
    )
    acc_t = np.float64 if x.dtype.kind == "f" else x.dtype
    ident = hlo.reducer_identity(kind, x.dtype)
    xp = _np_pad(x.astype(acc_t), ident, _padded_config(padding, base_dilation))
    res = np.full(out.shape, ident, acc_t)
    if res.size:
        fn = {"sum": np.add, "max": np.maximum, "min": np.minimum}[kind]
        for off in _offsets(window_dimensions, window_dilation):
            sl = tuple(slice(o, o + (n - 1) * s + 1, s) for o, n, s in zip(off, out.shape, window_strides))
            res = fn(res, xp[sl])
    return res.astype(x.dtype)


def _reduce_window(x, kind, window_dimensions, window_strides, padding, base_dilation, window_dilation, out):
    a = aval(x)
    st = hlo.scalar_type(a.dtype)
    init = hlo.constant(np.array(hlo.reducer_identity(kind, a.dtype), a.dtype))
    attrs = {
        "window_dimensions": hlo.i64s(window_dimensions),
        "window_strides": hlo.i64s(window_strides),
        "base_dilations": hlo.i64s(base_dilation),
        "window_dilations": hlo.i64s(window_dilation),
    }
    if a.ndim:
        attrs["padding"] = "dense<[" + ", ".join(f"[{lo}, {hi}]" for lo, hi in padding) + f"]> : tensor<{a.ndim}x2xi64>"
    return hlo.with_region(
        "stablehlo.reduce_window",
        [x, init],
        [out],
        attrs,
        [st, st],
        lambda p, q: [hlo.op1(hlo.REDUCER_OPS[kind], [p, q], st)],
    )[0]


def _rw_lower(ctx, x, kind, **p):
    a, out = aval(x), ctx.out_avals[0]
    if a.dtype.kind not in "ub":
        return _reduce_window(x, kind, out=out, **p)
    # IREE 3.13 cannot compile an unsigned (or i1) reduce_window: reduce in the signed type of
    # one width; add wraps the same, and flipping the top bit keeps the order for max / min
    usig = np.dtype(np.uint8) if a.dtype.kind == "b" else a.dtype
    bits = 8 * usig.itemsize
    sig = np.dtype(f"i{usig.itemsize}")
    if a.dtype.kind == "b":
        x = hlo.op1("stablehlo.convert", [x], ShapedType(a.shape, usig))
    flip = kind != "sum"
    top = np.array(1 << (bits - 1), usig)
    if flip:
        x = hlo.op1("stablehlo.xor", [x, hlo.constant(top, shape=a.shape)], ShapedType(a.shape, usig))
    y = _reduce_window(
        hlo.op1("stablehlo.bitcast_convert", [x], ShapedType(a.shape, sig)), kind, out=ShapedType(out.shape, sig), **p
    )
    y = hlo.op1("stablehlo.bitcast_convert", [y], ShapedType(out.shape, usig))
    if flip:
        y = hlo.op1("stablehlo.xor", [y, hlo.constant(top, shape=out.shape)], ShapedType(out.shape, usig))
    if a.dtype.kind == "b":
        y = hlo.op1("stablehlo.convert", [y], out)
    return y


# ---- autodiff ------------------------------------------------------------------------------


def _rw(x, **p):
    return jx.reduce_window(x, **p)


def _window_slices(x, fill, window_dimensions, window_strides, padding, base_dilation, window_dilation, out_shape):
    """The padded operand, and one strided slice of it per window element (each out-shaped)."""
    xp = jx.pad(x, L.full((), fill, x.dtype), padding_config=_padded_config(padding, base_dilation))
    slices = []
    for off in _offsets(window_dimensions, window_dilation):
        lim = tuple(o + (n - 1) * s + 1 for o, n, s in zip(off, out_shape, window_strides))
        slices.append((off, lim))
    return xp, slices


def _slice(xp, start, limit, strides):
    return jx.slice(xp, start_indices=start, limit_indices=limit, strides=strides)


def _argwindow_masks(x, out, kind, **p):
    """For max / min: a mask per window element, true where that element is the first to
    attain the result (so ties send the derivative to one element, as JAX does)."""
    p = dict(p)
    xp, slices = _window_slices(x, hlo.reducer_identity(kind, x.dtype), out_shape=out.shape, **p)
    masks, taken = [], None
    for start, lim in slices:
        hit = L.eq(_slice(xp, start, lim, p["window_strides"]), out)
        if taken is not None:
            hit = L.and_(hit, L.not_(taken))
        taken = hit if taken is None else L.or_(taken, hit)
        masks.append(hit)
    return masks, slices


def _rw_jvp(primals, tangents, kind, **p):
    (x,), (t,) = primals, tangents
    out = _rw(x, kind=kind, **p)
    if t is None:
        return [out], [None]
    if kind == "sum":
        return [out], [_rw(t, kind=kind, **p)]
    if out.aval.size == 0:
        return [out], [L.zeros_like(out)]
    masks, slices = _argwindow_masks(x, out, kind, **p)
    tp = jx.pad(t, L.full((), 0, t.dtype), padding_config=_padded_config(p["padding"], p["base_dilation"]))
    tan = None
    for m, (start, lim) in zip(masks, slices):
        term = L.select(m, _slice(tp, start, lim, p["window_strides"]), 0.0)
        tan = term if tan is None else tan + term
    return [out], [tan]


def _rw_vjp(cts, primals, outs, kind, window_dimensions, window_strides, padding, base_dilation, window_dilation):
    (x,) = primals
    ct = cts[0]
    if ct.aval.size == 0:
        return [L.zeros_like(x)]
    if kind == "sum":
        # the window sum's transpose: spread the stride-dilated cotangent with the same window,
        # padded so the result covers the base-dilated operand, strided by the base dilation
        in_d = dilate_shape(x.shape, base_dilation)
        k_d = dilate_shape(window_dimensions, window_dilation)
        out_d = dilate_shape(ct.shape, window_strides)
        cfg = []
        for n, k, o, (lo, _), s in zip(in_d, k_d, out_d, padding, window_strides):
            before = k - lo - 1
            cfg.append((before, n + k - 1 - o - before, s - 1))
        ctp = jx.pad(ct, L.full((), 0, ct.dtype), padding_config=tuple(cfg))
        return [
            _rw(
                ctp,
                kind="sum",
                window_dimensions=window_dimensions,
                window_strides=base_dilation,
                padding=((0, 0),) * x.ndim,
                base_dilation=(1,) * x.ndim,
                window_dilation=window_dilation,
            )
        ]
    p = dict(
        window_dimensions=window_dimensions,
        window_strides=window_strides,
        padding=padding,
        base_dilation=base_dilation,
        window_dilation=window_dilation,
    )
    masks, slices = _argwindow_masks(x, outs[0], kind, **p)
    cfg = _padded_config(padding, base_dilation)
    xp = jx.pad(x, L.full((), 0, x.dtype), padding_config=cfg)
    acc = None
    for m, (start, lim) in zip(masks, slices):
        (g,) = get("slice").vjp(
            [L.select(m, ct, 0.0)], [xp], [None], start_indices=start, limit_indices=lim, strides=window_strides
        )
        acc = g if acc is None else acc + g
    return [get("pad").vjp([acc], [x, L.full((), 0, x.dtype)], [None], padding_config=cfg)[0]]


def _rw_batch(args, dims, kind, window_dimensions, window_strides, padding, base_dilation, window_dilation):
    (x,) = _moved_to_front(args, dims)
    return _rw(
        x,
        kind=kind,
        window_dimensions=(1, *window_dimensions),
        window_strides=(1, *window_strides),
        padding=((0, 0), *padding),
        base_dilation=(1, *base_dilation),
        window_dilation=(1, *window_dilation),
    ), 0


register(
    Primitive(
        "reduce_window",
        _rw_infer,
        impl=_rw_impl,
        lower=_rw_lower,
        jvp=_rw_jvp,
        vjp=_rw_vjp,
        batch=_rw_batch,
        doc="sum / max / min over each window (pooling)",
        family="window",
    )
)
