"""conv_general_dilated: N-d convolution with strides, padding, dilations and groups.

    %2 = "jx.conv_general_dilated"(%0, %1) {dimension_numbers = [array<i64: 0, 1, 2>, ...], ...}
       : (tensor<1x2x5xf32>, tensor<3x2x2xf32>) -> tensor<1x3x4xf32>
lowers to one `stablehlo.convolution`. dimension_numbers = (lhs_spec, rhs_spec, out_spec) as
JAX's ConvDimensionNumbers: (batch, feature, spatial...), (out feature, in feature, spatial...).
"""

from __future__ import annotations

import contextvars
import itertools
from typing import NamedTuple

import numpy as np

from . import hlo
from . import lang as L
from .builder import aval
from .lang import jx
from .registry import Primitive, ShapedType, VerifyError, register


class ConvParams(NamedTuple):
    """The attributes of jx.conv_general_dilated, as every rule receives them."""

    window_strides: tuple
    padding: tuple
    lhs_dilation: tuple
    rhs_dilation: tuple
    dimension_numbers: tuple
    feature_group_count: int
    batch_group_count: int
    preferred_element_type: object = None

    def window(self) -> dict:
        """The attributes stablehlo.convolution takes besides the group counts."""
        return dict(
            window_strides=self.window_strides,
            padding=self.padding,
            lhs_dilation=self.lhs_dilation,
            rhs_dilation=self.rhs_dilation,
            dimension_numbers=self.dimension_numbers,
        )


def dilate_shape(shape, dilation):
    """Length of each axis after inserting dilation-1 holes between elements."""
    return tuple(0 if d == 0 else 1 + r * (d - 1) for d, r in zip(shape, dilation))


def _spatial(shape, spec):
    return tuple(shape[i] for i in spec[2:])


def _conv_infer(lhs, rhs, **params):
    c = ConvParams(**params)
    window_strides, padding, lhs_dilation, rhs_dilation = c.window_strides, c.padding, c.lhs_dilation, c.rhs_dilation
    dimension_numbers, preferred_element_type = c.dimension_numbers, c.preferred_element_type
    feature_group_count, batch_group_count = c.feature_group_count, c.batch_group_count
    lspec, rspec, ospec = dimension_numbers
    nd = lhs.ndim - 2
    if lhs.ndim != rhs.ndim or lhs.ndim < 2:
        raise VerifyError(
            f"conv_general_dilated needs lhs and rhs of one rank >= 2, got {lhs.str_short()} and {rhs.str_short()}"
        )
    for spec in (lspec, rspec, ospec):
        if sorted(spec) != list(range(lhs.ndim)):
            raise VerifyError(f"dimension_numbers {dimension_numbers} are not permutations of {lhs.ndim} axes")
    for nm, v in (
        ("window_strides", window_strides),
        ("padding", padding),
        ("lhs_dilation", lhs_dilation),
        ("rhs_dilation", rhs_dilation),
    ):
        if len(v) != nd:
            raise VerifyError(f"conv_general_dilated {nm} needs {nd} entries, got {v}")
    if min((*window_strides, *lhs_dilation, *rhs_dilation), default=1) < 1:
        raise VerifyError("conv_general_dilated strides and dilations must be >= 1")
    if lhs.dtype != rhs.dtype:
        raise VerifyError(f"conv_general_dilated needs one dtype, got {lhs.dtype.name} and {rhs.dtype.name}")
    if lhs.dtype.kind not in "fiu":
        raise VerifyError(f"conv_general_dilated does not accept dtype {lhs.dtype.name}")
    G, B = feature_group_count, batch_group_count
    if G < 1 or B < 1 or (G > 1 and B > 1):
        raise VerifyError(
            f"conv_general_dilated: feature_group_count={G}, batch_group_count={B}: both >= 1, one of them 1"
        )
    n, c = lhs.shape[lspec[0]], lhs.shape[lspec[1]]
    o, i = rhs.shape[rspec[0]], rhs.shape[rspec[1]]
    if c != i * G:
        raise VerifyError(
            f"conv_general_dilated: lhs features {c} must be rhs input features {i} x feature_group_count {G}"
        )
    if o % G or o % B or n % B:
        raise VerifyError(
            f"conv_general_dilated: rhs output features {o} / lhs batch {n} not divisible by the group counts"
        )
    in_d = dilate_shape(_spatial(lhs.shape, lspec), lhs_dilation)
    k_d = dilate_shape(_spatial(rhs.shape, rspec), rhs_dilation)
    spatial = []
    for x, k, (lo, hi), s in zip(in_d, k_d, padding, window_strides):
        p = x + lo + hi
        spatial.append(0 if p < k or k == 0 else (p - k) // s + 1)
    out = [0] * lhs.ndim
    out[ospec[0]], out[ospec[1]] = n // B, o
    for ax, d in zip(ospec[2:], spatial):
        out[ax] = d
    dt = np.dtype(preferred_element_type) if preferred_element_type is not None else lhs.dtype
    return ShapedType(tuple(out), dt)


# ---- NumPy reference -----------------------------------------------------------------------------


def _pad_dilate(x, lhs_dilation, padding):
    """x (N, C, spatial...) with holes inserted and edges padded (negative pads crop)."""
    nd = x.ndim - 2
    sp = dilate_shape(x.shape[2:], lhs_dilation)
    buf = np.zeros(x.shape[:2] + sp, x.dtype)
    buf[(slice(None), slice(None)) + tuple(slice(None, None, r) for r in lhs_dilation)] = x
    buf = np.pad(buf, [(0, 0), (0, 0)] + [(max(lo, 0), max(hi, 0)) for lo, hi in padding])
    crop = tuple(slice(-min(lo, 0), buf.shape[2 + k] + min(hi, 0)) for k, (lo, hi) in enumerate(padding))
    assert len(crop) == nd
    return buf[(slice(None), slice(None)) + crop]


def _conv_impl(lhs, rhs, **params):
    c = ConvParams(**params)
    out_t = _conv_infer(ShapedType(lhs.shape, lhs.dtype), ShapedType(rhs.shape, rhs.dtype), **params)
    window_strides, lhs_dilation, rhs_dilation = c.window_strides, c.lhs_dilation, c.rhs_dilation
    dimension_numbers, padding = c.dimension_numbers, c.padding
    lspec, rspec, ospec = dimension_numbers
    acc = np.float64 if lhs.dtype.kind == "f" else np.int64
    x = np.transpose(lhs, lspec).astype(acc)  # (N, C, spatial...)
    w = np.transpose(rhs, rspec).astype(acc)  # (O, I, spatial...)
    nd = x.ndim - 2
    x = _pad_dilate(x, lhs_dilation, padding)
    kd = dilate_shape(w.shape[2:], rhs_dilation)
    wd = np.zeros(w.shape[:2] + kd, acc)
    wd[(slice(None), slice(None)) + tuple(slice(None, None, r) for r in rhs_dilation)] = w
    G, B = c.feature_group_count, c.batch_group_count
    out_sp = tuple(out_t.shape[a] for a in ospec[2:])
    N, C, O = x.shape[0], x.shape[1], w.shape[0]
    res = np.zeros((N // B, O) + out_sp, acc)
    if all(d > 0 for d in out_sp) and res.size:
        # windows: (N, C, out spatial..., kernel spatial...), strided by window_strides
        win = np.lib.stride_tricks.sliding_window_view(x, kd, axis=tuple(range(2, 2 + nd)))
        win = win[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in window_strides)]
        win = win[(slice(None), slice(None)) + tuple(slice(0, d) for d in out_sp)]
        sp = "".join(chr(ord("p") + k) for k in range(nd))  # output spatial letters
        ks = "".join(chr(ord("h") + k) for k in range(nd))  # kernel spatial letters
        spec = f"nc{sp}{ks},oc{ks}->no{sp}"
        cg, og, ng = C // G, O // (G * B), N // B
        for b in range(B):
            for g in range(G):
                k = b * G + g  # output-feature block of this group
                res[:, k * og : (k + 1) * og] = np.einsum(
                    spec, win[b * ng : (b + 1) * ng, g * cg : (g + 1) * cg], wd[k * og : (k + 1) * og]
                )
    return np.transpose(res, np.argsort(ospec)).astype(out_t.dtype)


# ---- lowering ----------------------------------------------------------------------------------


def _lst(xs):
    return "[" + ", ".join(str(int(v)) for v in xs) + "]"


# lower-stablehlo{split-conv-groups=true}, chosen for GPU targets: IREE 3.13's vulkan-spirv code
# returned all zeros for convolutions with feature_group_count or batch_group_count > 1 (Mesa
# lavapipe), so there a grouped convolution lowers as one plain convolution per group.
split_groups = contextvars.ContextVar("irjax_split_conv_groups", default=False)


# lower-stablehlo{channels-last-convs=true}, chosen for CPU targets: a convolution in any other
# layout (NCHW / OIHW, lax.conv's default, and every input-gradient convolution reverse mode
# writes) is transposed to channels-last (NHWC / HWIO / NHWC) around one convolution there,
# with optimization barriers between: IREE 3.13 otherwise folds the transposes back into the
# convolution's dispatch, which then reads its operands across strides. Measured on 2 cores
# (iree-benchmark-module, 32x32x26x26 * 64x32x3x3 VALID, f32): direct NCHW 128 ms, im2col 18 ms,
# transposes folded into the conv 168 ms, channels-last with barriers 6.4 ms. In irjax (A/B in
# one process, with the one-feature rule below) a small CNN's value_and_grad step (benchmarks/
# run.py) in NCHW 66.0 -> 30.7 ms (JAX 29-30), in NHWC 30.4 -> 28.7 ms; values bit-identical.
channels_last = contextvars.ContextVar("irjax_channels_last_convs", default=False)


def _conv_lower(ctx, lhs, rhs, **params):
    c = ConvParams(**params)
    p = c.window()
    out = ctx.out_avals[0]
    groups = max(c.feature_group_count, c.batch_group_count)
    if groups == 1 and channels_last.get():
        p["dimension_numbers"] = tuple(tuple(int(d) for d in spec) for spec in c.dimension_numbers)
        if _one_feature_taps(rhs, out, p["dimension_numbers"]):
            return _taps_as_dot(lhs, rhs, out, **p)
        if _needs_channels_last(p["dimension_numbers"]):
            return _convolution_channels_last(lhs, rhs, out, **p)
    if groups == 1 or not split_groups.get():
        return _convolution(lhs, rhs, out, c.feature_group_count, c.batch_group_count, **p)
    lspec, rspec, ospec = c.dimension_numbers
    # feature groups split the lhs features, batch groups its batch; both split the kernel's
    # output features, and the results' feature blocks follow the groups in order
    l_axis = lspec[1] if c.feature_group_count > 1 else lspec[0]
    parts = []
    for g in range(groups):
        lhs_g = _block(lhs, l_axis, g, groups)
        rhs_g = _block(rhs, rspec[0], g, groups)
        shape = list(out.shape)
        shape[ospec[1]] //= groups
        parts.append(_convolution(lhs_g, rhs_g, ShapedType(tuple(shape), out.dtype), 1, 1, **p))
    return hlo.op1("stablehlo.concatenate", parts, out, {"dimension": f"{ospec[1]} : i64"})


def _channels_last_specs(nd: int) -> tuple:
    """(lhs, rhs, out) specs of the channels-last layout: (N, spatial..., C), (spatial..., I, O),
    (N, spatial..., C), each as (batch/out feature, feature/in feature, spatial...) positions."""
    lhs = (0, nd + 1, *range(1, nd + 1))
    return lhs, (nd + 1, nd, *range(nd)), lhs


def _needs_channels_last(dimension_numbers) -> bool:
    return dimension_numbers != _channels_last_specs(len(dimension_numbers[0]) - 2)


def _relayout(x, src_spec, dst_spec):
    """x laid out by src_spec, transposed so that its dims follow dst_spec (same roles)."""
    a = aval(x)
    perm = [0] * len(src_spec)
    for role, d in enumerate(dst_spec):
        perm[d] = src_spec[role]
    if perm == list(range(len(perm))):
        return x
    shape = tuple(a.shape[i] for i in perm)
    return hlo.op1("stablehlo.transpose", [x], ShapedType(shape, a.dtype), {"permutation": hlo.i64s(perm)})


def _convolution_channels_last(lhs, rhs, out, *, dimension_numbers, **window):
    """One convolution in the channels-last layout, its operands and result transposed to and
    from it (see `channels_last`)."""
    lspec, rspec, ospec = dimension_numbers
    cl = _channels_last_specs(len(lspec) - 2)
    x, w = hlo.barrier([_relayout(lhs, lspec, cl[0]), _relayout(rhs, rspec, cl[1])])
    shape = [0] * len(ospec)
    for role, d in enumerate(cl[2]):
        shape[d] = out.shape[ospec[role]]
    y = _convolution(x, w, ShapedType(tuple(shape), out.dtype), 1, 1, dimension_numbers=cl, **window)
    if cl[2] == ospec:
        return y
    (y,) = hlo.barrier([y])
    return _relayout(y, cl[2], ospec)


# A convolution with one input feature (a grayscale image's first layer) as a matmul of its
# taps: IREE 3.13 runs such a channels-last convolution ~8x slower than one with two features
# (32x28x28x1 * 3x3x1x32 VALID: direct 3.2-3.4 ms, as taps . kernel 0.40-0.44 ms, two input
# features direct 0.42 ms; same sums in the same order). Up to 64 taps: each is a slice.
_MAX_TAPS = 64


def _one_feature_taps(rhs, out, dimension_numbers) -> bool:
    _, rspec, _ = dimension_numbers
    w, o = aval(rhs), out
    taps = int(np.prod([w.shape[d] for d in rspec[2:]], dtype=np.int64))
    return (
        w.shape[rspec[1]] == 1
        and taps <= _MAX_TAPS
        and w.dtype == o.dtype
        and np.dtype(o.dtype).kind == "f"
        and all(n > 0 for n in o.shape)
    )


def _taps_as_dot(lhs, rhs, out, *, dimension_numbers, window_strides, padding, lhs_dilation, rhs_dilation):
    """A convolution with one input feature: every kernel tap's strided slice of the padded
    input (moved to (N, spatial..., 1)), concatenated along that last axis, times the kernel as
    a (taps, O) matrix. For a channels-first result the kernel comes first, (O, N, spatial...),
    so that the move to the result's layout shifts whole images (putting O last and moving it
    back took 4.6 ms where this takes 0.6 ms at 32x28x28 * 32x1x3x3)."""
    lspec, rspec, ospec = dimension_numbers
    nd = len(window_strides)
    cl = _channels_last_specs(nd)
    x, w = _relayout(lhs, lspec, cl[0]), _relayout(rhs, rspec, cl[1])
    a, k = aval(x), aval(w)
    lo, hi = zip(*padding) if nd else ((), ())
    interior = [d - 1 for d in lhs_dilation]
    if any(lo) or any(hi) or any(interior):
        shape = [a.shape[0]]
        for i in range(nd):
            n = a.shape[1 + i]
            shape.append(lo[i] + hi[i] + n + max(n - 1, 0) * interior[i])
        shape.append(1)
        attrs = {
            "edge_padding_low": hlo.i64s([0, *lo, 0]),
            "edge_padding_high": hlo.i64s([0, *hi, 0]),
            "interior_padding": hlo.i64s([0, *interior, 0]),
        }
        zero = hlo.constant(np.zeros((), a.dtype))
        x = hlo.op1("stablehlo.pad", [x, zero], ShapedType(tuple(shape), a.dtype), attrs)
    batch, outs = out.shape[ospec[0]], tuple(out.shape[d] for d in ospec[2:])
    features = out.shape[ospec[1]]
    piece = ShapedType((batch, *outs, 1), a.dtype)
    taps = []
    for tap in itertools.product(*[range(n) for n in k.shape[:nd]]):
        start = [0, *(t * d for t, d in zip(tap, rhs_dilation)), 0]
        limit = [batch, *(s + (n - 1) * st + 1 for s, n, st in zip(start[1:], outs, window_strides)), 1]
        attrs = {"start_indices": hlo.i64s(start), "limit_indices": hlo.i64s(limit)}
        attrs["strides"] = hlo.i64s([1, *window_strides, 1])
        taps.append(hlo.op1("stablehlo.slice", [x], piece, attrs))
    n = len(taps)
    patches = ShapedType((batch, *outs, n), a.dtype)
    p = taps[0] if n == 1 else hlo.op1("stablehlo.concatenate", taps, patches, {"dimension": f"{nd + 1} : i64"})
    w2 = hlo.op1("stablehlo.reshape", [w], ShapedType((n, features), k.dtype))
    if ospec[1] == nd + 1:  # features last: (N, spatial..., O)
        dn = f"#stablehlo.dot<lhs_contracting_dimensions = [{nd + 1}], rhs_contracting_dimensions = [0]>"
        y = hlo.op1(
            "stablehlo.dot_general",
            [p, w2],
            ShapedType((batch, *outs, features), out.dtype),
            {"dot_dimension_numbers": dn},
        )
        return _relayout(y, cl[2], ospec)
    dn = f"#stablehlo.dot<lhs_contracting_dimensions = [0], rhs_contracting_dimensions = [{nd + 1}]>"
    y = hlo.op1(
        "stablehlo.dot_general", [w2, p], ShapedType((features, batch, *outs), out.dtype), {"dot_dimension_numbers": dn}
    )
    return _relayout(y, (1, 0, *range(2, nd + 2)), ospec)


def _block(x, axis, g, n):
    """Block g of n equal blocks of x along axis."""
    a = aval(x)
    size = a.shape[axis] // n
    start = [0] * len(a.shape)
    limit = list(a.shape)
    start[axis], limit[axis] = g * size, (g + 1) * size
    shape = tuple(hi - lo for lo, hi in zip(start, limit))
    return hlo.op1(
        "stablehlo.slice",
        [x],
        ShapedType(shape, a.dtype),
        {"start_indices": hlo.i64s(start), "limit_indices": hlo.i64s(limit), "strides": hlo.i64s([1] * len(shape))},
    )


def _trim_single_window(lhs, rhs: ShapedType, out: ShapedType, padding, lhs_dilation, rhs_dilation, dimension_numbers):
    """(lhs, padding) without the input rows that no window reads, along spatial axes with one
    output position: the same convolution. IREE 3.13's FoldUnitExtentDims built an invalid
    linalg.generic for a grouped, strided, dilated convolution whose one window left padded rows
    unread (2x5x6x4 * 3x3x2x6, stride 2, pad (1, 0), rhs_dilation 2, 2 groups), and without the
    verifier that compiled into reads of uninitialized memory."""
    lspec, rspec, ospec = dimension_numbers
    padding = [tuple(p) for p in padding]
    shape = list(aval(lhs).shape)
    limit = list(shape)
    for i in range(len(padding)):
        if out.shape[ospec[2 + i]] != 1 or lhs_dilation[i] != 1:
            continue
        n, (lo, hi) = shape[lspec[2 + i]], padding[i]
        unread = n + lo + hi - ((rhs.shape[rspec[2 + i]] - 1) * rhs_dilation[i] + 1)
        if unread <= 0:
            continue
        hi -= unread
        if hi < 0:
            if n + hi < 1:  # (the window reads padding only: leave it)
                continue
            limit[lspec[2 + i]], hi = n + hi, 0
        padding[i] = (lo, hi)
    if limit == shape:
        return lhs, tuple(padding)
    a = aval(lhs)
    attrs = {
        "start_indices": hlo.i64s([0] * len(shape)),
        "limit_indices": hlo.i64s(limit),
        "strides": hlo.i64s([1] * len(shape)),
    }
    return hlo.op1("stablehlo.slice", [lhs], ShapedType(tuple(limit), a.dtype), attrs), tuple(padding)


def _convolution(
    lhs,
    rhs,
    out,
    feature_group_count,
    batch_group_count,
    *,
    window_strides,
    padding,
    lhs_dilation,
    rhs_dilation,
    dimension_numbers,
):
    lspec, rspec, ospec = dimension_numbers
    lhs, padding = _trim_single_window(lhs, aval(rhs), out, padding, lhs_dilation, rhs_dilation, dimension_numbers)
    dn = (
        f"#stablehlo.conv<raw input_batch_dimension = {lspec[0]}, input_feature_dimension = {lspec[1]}, "
        f"input_spatial_dimensions = {_lst(lspec[2:])}, kernel_input_feature_dimension = {rspec[1]}, "
        f"kernel_output_feature_dimension = {rspec[0]}, kernel_spatial_dimensions = {_lst(rspec[2:])}, "
        f"output_batch_dimension = {ospec[0]}, output_feature_dimension = {ospec[1]}, "
        f"output_spatial_dimensions = {_lst(ospec[2:])}>"
    )
    nd = len(window_strides)
    attrs = {
        "dimension_numbers": dn,
        "window_strides": hlo.i64s(window_strides),
        "lhs_dilation": hlo.i64s(lhs_dilation),
        "rhs_dilation": hlo.i64s(rhs_dilation),
        "feature_group_count": f"{feature_group_count} : i64",
        "batch_group_count": f"{batch_group_count} : i64",
    }
    if nd:
        attrs["padding"] = "dense<[" + ", ".join(f"[{lo}, {hi}]" for lo, hi in padding) + f"]> : tensor<{nd}x2xi64>"
    return hlo.op1("stablehlo.convolution", [lhs, rhs], out, attrs)


# ---- autodiff ----------------------------------------------------------------------------------


def _conv(lhs, rhs, **p):
    return jx.conv_general_dilated(lhs, rhs, **p)


def _conv_jvp(primals, tangents, **p):
    lhs, rhs = primals
    tl, tr = tangents
    out = _conv(lhs, rhs, **p)
    tan = None
    if tl is not None:
        tan = _conv(tl, rhs, **p)
    if tr is not None:
        t2 = _conv(lhs, tr, **p)
        tan = t2 if tan is None else tan + t2
    return [out], [tan]


def _split_axis(x, axis, n):
    """Split axis into (n, size // n), the n part major."""
    s = x.shape
    return L.reshape(x, s[:axis] + (n, s[axis] // n) + s[axis + 1 :])


def _merge_axis(x, src, dst):
    """Fold axis src into axis dst (dst counted once src is removed), src as the major part."""
    perm = [i for i in range(x.ndim) if i != src]
    perm.insert(dst, src)
    x = L.transpose(x, perm)
    s = x.shape
    return L.reshape(x, s[:dst] + (s[dst] * s[dst + 1],) + s[dst + 2 :])


def _swap01(spec):
    return (spec[1], spec[0]) + tuple(spec[2:])


def _conv_vjp(cts, primals, outs, **params):
    c = ConvParams(**params)
    window_strides, padding, lhs_dilation, rhs_dilation = c.window_strides, c.padding, c.lhs_dilation, c.rhs_dilation
    dimension_numbers = c.dimension_numbers
    lhs, rhs = primals
    g = L.convert(cts[0], lhs.dtype)
    if g.aval.size == 0:  # an empty output: nothing flows back
        return [L.zeros_like(lhs), L.zeros_like(rhs)]
    lspec, rspec, ospec = dimension_numbers
    in_d = dilate_shape(_spatial(lhs.shape, lspec), lhs_dilation)
    k_d = dilate_shape(_spatial(rhs.shape, rspec), rhs_dilation)
    out_d = dilate_shape(_spatial(g.shape, ospec), window_strides)
    G, B = c.feature_group_count, c.batch_group_count

    # d lhs: correlate the stride-dilated cotangent with the flipped kernel, in/out features
    # swapped; the padding makes the result cover exactly the (dilated) input.
    w = rhs
    groups = max(G, B)
    if groups > 1:  # move the group factor of the output features onto the input features
        w = _merge_axis(_split_axis(w, rspec[0], groups), rspec[0], rspec[1])
    w = jx.rev(w, dimensions=tuple(rspec[2:]))
    pad_l = []
    for x, k, o, (lo, _) in zip(in_d, k_d, out_d, padding):
        before = k - lo - 1
        pad_l.append((before, x + k - 1 - o - before))
    d_lhs = _conv(
        g,
        w,
        window_strides=tuple(lhs_dilation),
        padding=tuple(pad_l),
        lhs_dilation=tuple(window_strides),
        rhs_dilation=tuple(rhs_dilation),
        dimension_numbers=(ospec, _swap01(rspec), lspec),
        feature_group_count=groups,
        batch_group_count=1,
    )
    if B > 1:  # the batch groups came out as feature blocks: fold them back into the batch
        d_lhs = _merge_axis(_split_axis(d_lhs, lspec[1], B), lspec[1], lspec[0])

    if G == 1 and B == 1 and int(np.prod(_spatial(rhs.shape, rspec))) <= _MAX_DOT_TAPS:
        return [
            d_lhs,
            _rhs_grad_by_dots(lhs, g, rhs, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers),
        ]
    # d rhs: correlate the input with the cotangent as the kernel; the roles of batch and
    # features swap, so feature groups become batch groups and back.
    pad_r = [(lo, o - x + k - lo - 1) for x, k, o, (lo, _) in zip(in_d, k_d, out_d, padding)]
    d_rhs = _conv(
        lhs,
        g,
        window_strides=tuple(rhs_dilation),
        padding=tuple(pad_r),
        lhs_dilation=tuple(lhs_dilation),
        rhs_dilation=tuple(window_strides),
        dimension_numbers=(_swap01(lspec), _swap01(ospec), _swap01(rspec)),
        feature_group_count=B,
        batch_group_count=G,
    )
    return [d_lhs, d_rhs]


# IREE 3.13 runs the weight-gradient convolution (cotangent as a big kernel) slowly: 60 ms
# for 8x32x32x16 * 3x3x16x32 where one dot_general per kernel tap takes ~2 ms (measured here)
_MAX_DOT_TAPS = 64


def _rhs_grad_by_dots(lhs, g, rhs, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers):
    """d rhs as one matmul: the strided window of the padded input that each kernel tap saw
    (im2col, taps x features by batch x output positions) times the cotangent."""
    lspec, rspec, ospec = dimension_numbers
    x = L.transpose(lhs, (lspec[1], lspec[0]) + tuple(lspec[2:]))  # (C, N, spatial...)
    gt = L.transpose(g, (ospec[1], ospec[0]) + tuple(ospec[2:]))  # (O, N, out spatial...)
    nd = x.ndim - 2
    cfg = ((0, 0, 0), (0, 0, 0)) + tuple((lo, hi, d - 1) for (lo, hi), d in zip(padding, lhs_dilation))
    xp = jx.pad(x, L.full((), 0, x.dtype), padding_config=cfg)
    taps = _spatial(rhs.shape, rspec)
    m = int(np.prod(gt.shape[1:]))
    cols = []
    for idx in itertools.product(*(range(k) for k in taps)):
        start = (0, 0) + tuple(i * r for i, r in zip(idx, rhs_dilation))
        limit = xp.shape[:2] + tuple(
            s0 + (o - 1) * st + 1 for s0, o, st in zip(start[2:], gt.shape[2:], window_strides)
        )
        win = jx.slice(xp, start_indices=start, limit_indices=limit, strides=(1, 1) + tuple(window_strides))
        cols.append(L.reshape(win, (1, x.shape[0], m)))
    col = cols[0] if len(cols) == 1 else jx.concatenate(*cols, dimension=0)
    c = x.shape[0]
    w = L.dot_general(L.reshape(col, (len(cols) * c, m)), L.reshape(gt, (gt.shape[0], m)), (((1,), (1,)), ((), ())))
    w = L.reshape(w, tuple(taps) + (c, gt.shape[0]))  # (spatial..., I, O)
    w = L.transpose(w, (nd + 1, nd) + tuple(range(nd)))  # (O, I, spatial...)
    return L.transpose(w, tuple(int(a) for a in np.argsort(rspec)))


# ---- batching ----------------------------------------------------------------------------------


def _join(x, axis):
    """Merge axes axis and axis + 1 (the first major)."""
    s = x.shape
    return L.reshape(x, s[:axis] + (s[axis] * s[axis + 1],) + s[axis + 2 :])


def _conv_batch(args, dims, **params):
    """Fold the vmapped axis V into the conv's own batch, features or groups."""
    c = ConvParams(**params)
    lhs, rhs = args
    dl, dr = dims
    lspec, rspec, ospec = c.dimension_numbers
    G, B = c.feature_group_count, c.batch_group_count
    p = c._asdict()
    # with V moved to axis 0, the operand's own axis a sits at a + 1
    if dl is not None and dl != 0:
        lhs = L.moveaxis(lhs, dl, 0)
    if dr is not None and dr != 0:
        rhs = L.moveaxis(rhs, dr, 0)
    if dl is not None and dr is not None:
        V = lhs.shape[0]
        if B > 1:  # batch (B, N/B) -> (V*B, N/B): V times as many batch groups
            x = _join(_merge_axis(_split_axis(lhs, 1 + lspec[0], B), 0, lspec[0]), lspec[0])
            p["batch_group_count"] = B * V
        else:  # features (V*C): each (example, group) pair becomes a feature group
            x = _merge_axis(lhs, 0, lspec[1])
            p["feature_group_count"] = G * V
        out = _conv(x, _merge_axis(rhs, 0, rspec[0]), **p)
        return _split_axis(out, ospec[1], V), ospec[1]
    if dl is not None:
        V = lhs.shape[0]
        if B > 1:  # batch (B, N/B) -> (B, V*N/B): the batch groups stay major
            x = _join(_merge_axis(_split_axis(lhs, 1 + lspec[0], B), 0, lspec[0] + 1), lspec[0])
            out = _conv(x, rhs, **p)
        else:
            out = _conv(_merge_axis(lhs, 0, lspec[0]), rhs, **p)
        return _split_axis(out, ospec[0], V), ospec[0]
    V = rhs.shape[0]
    groups = max(G, B)
    if groups == 1:
        out = _conv(lhs, _merge_axis(rhs, 0, rspec[0]), **p)
        return _split_axis(out, ospec[1], V), ospec[1]
    # out features (groups, O/groups) -> (groups, V, O/groups): each group keeps its block
    w = _join(_merge_axis(_split_axis(rhs, 1 + rspec[0], groups), 0, rspec[0] + 1), rspec[0])
    out = _conv(lhs, w, **p)
    f = ospec[1]
    out = L.reshape(out, out.shape[:f] + (groups, V, out.shape[f] // (groups * V)) + out.shape[f + 1 :])
    return _join(L.moveaxis(out, f + 1, 0), f + 1), 0


register(
    Primitive(
        "conv_general_dilated",
        _conv_infer,
        impl=_conv_impl,
        lower=_conv_lower,
        jvp=_conv_jvp,
        vjp=_conv_vjp,
        batch=_conv_batch,
        doc="N-d convolution (cross-correlation) with strides, padding, dilations and groups",
        family="bilinear",
    )
)
