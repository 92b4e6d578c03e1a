"""Structured control flow: jx.cond, jx.while, jx.scan. Their bodies are functions named by
symbol (as jx.call's callee), so every pass transforms them as functions.

    %r = "jx.cond"(%i, %x) {branches = [@f, @g]} : (tensor<i1>, tensor<3xf32>) -> tensor<3xf32>
    %c = "jx.while"(%k, %x) {cond_fn = @c, body_fn = @b, cond_nconsts = 1, body_nconsts = 0}
    %c, %ys = "jx.scan"(%w, %h, %xs) {body = @f, length = 5, reverse = false, num_consts = 1,
                                      num_carry = 1} : (...) -> (tensor<4xf32>, tensor<5x4xf32>)

cond: a bool predicate picks branches [false, true]; an int index is clamped into range.
while: cond_fn(cconsts..., carry...) -> i1, body_fn(bconsts..., carry...) -> carry.
scan: body(consts..., carry..., x slices...) -> (carry..., y slices...); ys stacked on axis 0.
Result types come from the callees, so emit these ops with result_types (like jx.call).
"""

from __future__ import annotations

import contextvars

import numpy as np

from . import control_flow_rules as R
from . import hlo
from .builder import aval
from .calls import func_call as _call
from .mlir import ir
from .registry import Primitive, ShapedType, VerifyError, register

_I32 = np.dtype(np.int32)
_BOOL = np.dtype(np.bool_)


def _infer(*avals, **params):
    raise VerifyError("control-flow result types come from the callee functions; emit with result_types")


# ---- NumPy reference: `_call(fname, args) -> list` evaluates a callee (see interpret.py) ----------


def _branch_index(index, n) -> int:
    i = np.asarray(index)
    return int(bool(i)) if i.dtype == _BOOL else int(np.clip(int(i), 0, n - 1))


def _cond_impl(index, *ops, branches, _call):
    return _call(branches[_branch_index(index, len(branches))], list(ops))


def _while_impl(*args, cond_fn, body_fn, cond_nconsts, body_nconsts, _call):
    cc, bc = list(args[:cond_nconsts]), list(args[cond_nconsts : cond_nconsts + body_nconsts])
    carry = list(args[cond_nconsts + body_nconsts :])
    while bool(_call(cond_fn, cc + carry)[0]):
        carry = _call(body_fn, bc + carry)
    return carry


def _scan_impl(*args, body, length, reverse, num_consts, num_carry, _call):
    consts = list(args[:num_consts])
    carry = list(args[num_consts : num_consts + num_carry])
    xs = list(args[num_consts + num_carry :])
    ys = None
    for k in range(length):
        i = length - 1 - k if reverse else k
        outs = _call(body, consts + carry + [x[i] for x in xs])
        carry, y = outs[:num_carry], outs[num_carry:]
        if ys is None:
            ys = [np.zeros((length,) + np.shape(v), np.asarray(v).dtype) for v in y]
        for buf, v in zip(ys, y):
            buf[i] = v
    return carry + (ys or [])


# ---- StableHLO lowering: regions that func.call the bodies -------------------------------------


def _region_op(name, operands, results, attrs, regions) -> list:
    """`name` with one single-block region per (arg_types, body) in `regions`."""
    o = ir.Operation.create(
        name,
        results=[hlo._type(t) for t in results],
        operands=list(operands),
        attributes=attrs or {},
        regions=len(regions),
    )
    for r, (arg_types, body) in zip(o.regions, regions):
        block = r.blocks.append(*[hlo._type(t) for t in arg_types])
        with ir.InsertionPoint(block):
            ir.Operation.create("stablehlo.return", operands=list(body(*block.arguments)))
    return list(o.results)


def _scalar(v, dtype):
    return hlo.constant(np.array(v, dtype))


def _cond_lower(ctx, index, *ops, branches):
    n = len(branches)
    s32 = ShapedType((), _I32)
    ia = aval(index)
    if ia.dtype != _I32:
        index = hlo.op1("stablehlo.convert", [index], s32)
    if ia.dtype != _BOOL:  # stablehlo.case runs the last branch for any out-of-range index
        index = hlo.op1("stablehlo.clamp", [_scalar(0, _I32), index, _scalar(n - 1, _I32)], s32)
    outs = ctx.out_avals
    regions = [([], (lambda b=b: _call(b, ops, outs))) for b in branches]
    return _region_op("stablehlo.case", [index], outs, {}, regions)


def _while_lower(ctx, *args, cond_fn, body_fn, cond_nconsts, body_nconsts):
    types = [aval(a) for a in args]
    nc, nb = cond_nconsts, body_nconsts

    def cond(*xs):
        return _call(cond_fn, list(xs[:nc]) + list(xs[nc + nb :]), [ShapedType((), _BOOL)])

    def body(*xs):
        new = _call(body_fn, list(xs[nc:]), types[nc + nb :])
        return list(xs[: nc + nb]) + new

    res = _region_op("stablehlo.while", args, types, {}, [(types, cond), (types, body)])
    return res[nc + nb :]


def _scan_lower(ctx, *args, body, length, reverse, num_consts, num_carry):
    """A stablehlo.while over the steps; each step's y slices go into stacked buffers.

    IREE 3.13 copies a loop-carried buffer on every dynamic_update_slice into it, so stacking
    straight into the (length, ...) buffers costs O(length^2): a 1000-step RNN scan spent
    70 ms copying, 70 us a step. From CHUNK_FROM steps on, the scan runs as chunks of
    K ~ sqrt(length) steps: an inner loop stacks into (K, ...) buffers, the outer loop writes
    each chunk into the full buffers once, O(length^1.5) copying (see _scan_chunked).
    """
    nc, nk = num_consts, num_carry
    y_avals = [ShapedType(a.shape[1:], a.dtype) for a in ctx.out_avals[nk:]]
    sc = _ScanParts(ctx, args, body, length, reverse, nc, nk, y_avals)
    if y_avals and length >= CHUNK_FROM and chunk_scans.get():
        return _scan_chunked(sc)
    s32 = ShapedType((), _I32)
    state = [_scalar(0, _I32)] + list(args[: nc + nk]) + sc.zero_ys(length)
    st_types = [s32] + sc.types[: nc + nk] + sc.ys_types(length)

    def cond(i, *_):
        return [hlo.compare(i, _scalar(length, _I32), "LT")]

    def step(i, *xs):
        consts, carry, ys = list(xs[:nc]), list(xs[nc : nc + nk]), list(xs[nc + nk :])
        idx = sc.data_index(i)
        new_carry, y_slices = sc.run_body(consts, carry, idx)
        new_ys = sc.put(ys, y_slices, idx)
        return [sc.inc(i)] + consts + new_carry + new_ys

    res = _region_op("stablehlo.while", state, st_types, {}, [(st_types, cond), (st_types, step)])
    return res[1 + nc : 1 + nc + nk] + res[1 + nc + nk :]


CHUNK_FROM = 64  # scans this long (with stacked outputs) run as chunks of ~sqrt(length) steps
# lower-stablehlo{chunk-scans=false} turns chunking off: the nested loops lost the Vulkan device
# (lavapipe) after a few such modules ran in one process, so only CPU modules are chunked.
chunk_scans = contextvars.ContextVar("irjax_chunk_scans", default=True)


class _ScanParts:
    """What both scan lowerings share: the step body call, x slicing and y stacking."""

    def __init__(self, ctx, args, body, length, reverse, nc, nk, y_avals):
        self.args, self.body, self.length, self.reverse = list(args), body, length, reverse
        self.nc, self.nk, self.y_avals = nc, nk, y_avals
        self.types = [aval(a) for a in args]
        self.x_avals = self.types[nc + nk :]
        # xs are read from above (not loop-carried: IREE would copy them every iteration)
        self.xs = list(args[nc + nk :])

    def zero_ys(self, n):
        return [hlo.constant(np.zeros((), a.dtype), shape=(n,) + a.shape) for a in self.y_avals]

    def ys_types(self, n):
        return [ShapedType((n,) + a.shape, a.dtype) for a in self.y_avals]

    @staticmethod
    def inc(i, by=1):
        return hlo.op1("stablehlo.add", [i, _scalar(by, _I32)], ShapedType((), _I32))

    def data_index(self, g):
        """The row of xs (and of the final ys) that global step g reads and writes."""
        if not self.reverse:
            return g
        return hlo.op1("stablehlo.subtract", [_scalar(self.length - 1, _I32), g], ShapedType((), _I32))

    def run_body(self, consts, carry, idx):
        zero = _scalar(0, _I32)
        slices = []
        for x, a in zip(self.xs, self.x_avals):
            sl = hlo.op1(
                "stablehlo.dynamic_slice",
                [x, idx] + [zero] * (a.ndim - 1),
                ShapedType((1,) + a.shape[1:], a.dtype),
                {"slice_sizes": hlo.i64s((1,) + a.shape[1:])},
            )
            slices.append(hlo.op1("stablehlo.reshape", [sl], ShapedType(a.shape[1:], a.dtype)))
        nk = self.nk
        outs = _call(self.body, consts + carry + slices, self.types[self.nc : self.nc + nk] + self.y_avals)
        return outs[:nk], outs[nk:]

    def put(self, bufs, ys, row):
        """bufs with ys written (as one row, or as blocks when ys have a leading axis) at row."""
        zero = _scalar(0, _I32)
        out = []
        for buf, y in zip(bufs, ys):
            b, a = aval(buf), aval(y)
            if len(a.shape) < len(b.shape):
                y = hlo.op1("stablehlo.reshape", [y], ShapedType((1,) + a.shape, a.dtype))
            out.append(hlo.op1("stablehlo.dynamic_update_slice", [buf, y, row] + [zero] * (len(b.shape) - 1), b))
        return out


def _scan_chunked(sc: _ScanParts):
    """The scan as length // K chunks of K = ceil(sqrt(length)) steps, then a tail chunk of the
    remaining length % K steps.

    Chunk steps g = base + j (j < its size L) write their y into row j of (L, ...) chunk
    buffers (reversed: row L-1-j); each chunk then goes into the full buffers once, at base
    (reversed: length - base - L), so step g's y lands in row g (reversed: length-1-g).
    Every loop bound is a constant: a bound computed in the outer loop lost the (lavapipe)
    Vulkan device.

        %r:N = stablehlo.while(%c = 0, consts, carry, ys (length, ...))   c < length // K
          %s:M = stablehlo.while(%j = 0, c*K, consts, carry, chunk ys (K, ...))   j < K
            body(consts, carry, xs[g]) ; chunk ys[j] = y
          ys[c*K] = chunk ys
        tail: the same inner loop over length % K steps from base (length // K) * K
    """
    n, nc, nk = sc.length, sc.nc, sc.nk
    k = int(np.ceil(np.sqrt(n)))
    full, rem = divmod(n, k)
    s32 = ShapedType((), _I32)
    outer_types = [s32] + sc.types[: nc + nk] + sc.ys_types(n)

    def chunk(base, consts, carry, ys, size):
        """Run `size` steps from global step `base`; returns (carry, ys with the chunk in)."""
        inner_types = [s32, s32] + sc.types[: nc + nk] + sc.ys_types(size)

        def cond(j, *_):
            return [hlo.compare(j, _scalar(size, _I32), "LT")]

        def step(j, b, *xs):
            consts, carry, bufs = list(xs[:nc]), list(xs[nc : nc + nk]), list(xs[nc + nk :])
            g = hlo.op1("stablehlo.add", [b, j], s32)
            new_carry, y_slices = sc.run_body(consts, carry, sc.data_index(g))
            row = hlo.op1("stablehlo.subtract", [_scalar(size - 1, _I32), j], s32) if sc.reverse else j
            new_bufs = sc.put(bufs, y_slices, row)
            return [sc.inc(j), b] + consts + new_carry + new_bufs

        state = [_scalar(0, _I32), base] + consts + carry + sc.zero_ys(size)
        res = _region_op("stablehlo.while", state, inner_types, {}, [(inner_types, cond), (inner_types, step)])
        at = base
        if sc.reverse:
            at = hlo.op1("stablehlo.subtract", [_scalar(n - size, _I32), base], s32)
        return res[2 + nc : 2 + nc + nk], sc.put(ys, res[2 + nc + nk :], at)

    def outer_cond(c, *_):
        return [hlo.compare(c, _scalar(full, _I32), "LT")]

    def outer_step(c, *xs):
        consts, carry, ys = list(xs[:nc]), list(xs[nc : nc + nk]), list(xs[nc + nk :])
        base = hlo.op1("stablehlo.multiply", [c, _scalar(k, _I32)], s32)
        new_carry, new_ys = chunk(base, consts, carry, ys, k)
        return [sc.inc(c)] + consts + new_carry + new_ys

    state = [_scalar(0, _I32)] + sc.args[: nc + nk] + sc.zero_ys(n)
    res = _region_op("stablehlo.while", state, outer_types, {}, [(outer_types, outer_cond), (outer_types, outer_step)])
    carry, ys = res[1 + nc : 1 + nc + nk], res[1 + nc + nk :]
    if rem:
        carry, ys = chunk(_scalar(full * k, _I32), sc.args[:nc], carry, ys, rem)
    return carry + ys


# ---- verification against the callees' signatures (ctx.signature: calls.TransformCtx) ----------


def _cond_verify(ctx, in_avals, out_avals, *, branches):
    idx = in_avals[0]
    if idx.shape != () or idx.dtype.kind not in "biu":
        raise VerifyError(f"index must be a bool or integer scalar, got {idx.str_short()}")
    for b in branches:
        if ctx.signature(b) != (in_avals[1:], out_avals):
            raise VerifyError(f"branch @{b} signature does not match the op")


def _while_verify(ctx, in_avals, out_avals, *, cond_fn, body_fn, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    carry = in_avals[nc + nb :]
    if ctx.signature(cond_fn) != (in_avals[:nc] + carry, [ShapedType((), _BOOL)]):
        raise VerifyError(f"cond_fn @{cond_fn} must map (cconsts, carry) to a bool scalar")
    if ctx.signature(body_fn) != (in_avals[nc:], carry) or out_avals != carry:
        raise VerifyError(f"body_fn @{body_fn} must map (bconsts, carry) to the carry")


def _scan_verify(ctx, in_avals, out_avals, *, body, length, reverse, num_consts, num_carry):
    nc, nk, n = num_consts, num_carry, length
    xs = in_avals[nc + nk :]
    if any(x.shape[:1] != (n,) for x in xs):
        raise VerifyError(f"scanned operands must have leading axis {n}")
    slices = [ShapedType(x.shape[1:], x.dtype) for x in xs]
    ins, outs = ctx.signature(body)
    carry = in_avals[nc : nc + nk]
    ys = [ShapedType((n,) + y.shape, y.dtype) for y in outs[nk:]]
    if ins != in_avals[: nc + nk] + slices or outs[:nk] != carry or out_avals != carry + ys:
        raise VerifyError(f"body @{body} signature does not match the scan")


_CF = dict(multiple_results=True, family="control_flow")
register(
    Primitive(
        "cond",
        _infer,
        impl=_cond_impl,
        lower=_cond_lower,
        verify=_cond_verify,
        jvp=R.cond_jvp,
        vjp=R.cond_vjp,
        batch=R.cond_batch,
        callee_attrs=("branches",),
        **_CF,
        doc="run branches[index](operands) (bool index: [false, true]; int clamped)",
    )
)
register(
    Primitive(
        "while",
        _infer,
        impl=_while_impl,
        lower=_while_lower,
        verify=_while_verify,
        jvp=R.while_jvp,
        vjp=R.while_vjp,
        batch=R.while_batch,
        callee_attrs=("cond_fn", "body_fn"),
        **_CF,
        doc="carry = body_fn(carry) while cond_fn(carry)",
    )
)
register(
    Primitive(
        "scan",
        _infer,
        impl=_scan_impl,
        lower=_scan_lower,
        verify=_scan_verify,
        jvp=R.scan_jvp,
        vjp=R.scan_vjp,
        vjp_fwd=R.scan_vjp_fwd,
        batch=R.scan_batch,
        callee_attrs=("body",),
        **_CF,
        doc="carry, y[i] = body(consts, carry, x[i]) for i in range(length)",
    )
)
