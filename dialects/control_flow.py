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

import numpy as np

from . import hlo
from .builder import aval
from .func import find_func, signature
from .mlir import ir
from .registry import Primitive, ShapedType, VerifyError, register

CONTROL_FLOW_OPS = frozenset(("jx.cond", "jx.while", "jx.scan"))
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


def _call(fname: str, operands, results) -> list:
    op = ir.Operation.create(
        "func.call",
        results=[hlo._type(t) for t in results],
        operands=list(operands),
        attributes={"callee": ir.FlatSymbolRefAttr.get(fname)},
    )
    return list(op.results)


def _region_op(name, operands, results, attrs, regions) -> list:
    """`name` with one single-block region per (arg_types, body) in `regions`."""
    o = ir.Operation.create(
        name, results=[hlo._type(t) for t in results], operands=list(operands),
        attributes=attrs or {}, regions=len(regions),
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
    nc, nk = num_consts, num_carry
    types = [aval(a) for a in args]
    x_avals = types[nc + nk :]
    y_avals = [ShapedType(a.shape[1:], a.dtype) for a in ctx.out_avals[nk:]]
    s32 = ShapedType((), _I32)
    ys0 = [hlo.constant(np.zeros((), a.dtype), shape=(length,) + a.shape) for a in y_avals]
    # xs are read from above (not loop-carried: IREE would copy them every iteration)
    xs_outer = list(args[nc + nk :])
    state = [_scalar(0, _I32)] + list(args[: nc + nk]) + ys0
    st_types = [s32] + types[: nc + nk] + [ShapedType((length,) + a.shape, a.dtype) for a in y_avals]

    def cond(i, *_):
        return [hlo.compare(i, _scalar(length, _I32), "LT")]

    def step(i, *xs):
        consts, carry = list(xs[:nc]), list(xs[nc : nc + nk])
        xs_full, ys = xs_outer, list(xs[nc + nk :])
        idx = hlo.op1("stablehlo.subtract", [_scalar(length - 1, _I32), i], s32) if reverse else i
        zero = _scalar(0, _I32)
        slices = []
        for x, a in zip(xs_full, x_avals):
            sl = hlo.op1(
                "stablehlo.dynamic_slice", [x, idx] + [zero] * (a.ndim - 1),
                ShapedType((1,) + a.shape[1:], a.dtype), {"slice_sizes": hlo.i64s((1,) + a.shape[1:])},
            )
            slices.append(hlo.op1("stablehlo.reshape", [sl], ShapedType(a.shape[1:], a.dtype)))
        outs = _call(body, consts + carry + slices, types[nc : nc + nk] + y_avals)
        new_ys = []
        for buf, y, a in zip(ys, outs[nk:], y_avals):
            y1 = hlo.op1("stablehlo.reshape", [y], ShapedType((1,) + a.shape, a.dtype))
            new_ys.append(hlo.op1("stablehlo.dynamic_update_slice", [buf, y1, idx] + [zero] * a.ndim, aval(buf)))
        i1 = hlo.op1("stablehlo.add", [i, _scalar(1, _I32)], s32)
        return [i1] + consts + outs[:nk] + new_ys

    res = _region_op("stablehlo.while", state, st_types, {}, [(st_types, cond), (st_types, step)])
    return res[1 + nc : 1 + nc + nk] + res[1 + nc + nk :]


# ---- verification against the callees' signatures ----------------------------------------------


def verify_op(module, op, params, in_avals, out_avals) -> None:
    """Check a control-flow op's operands and results against its callee functions."""

    def sig(name):
        f = find_func(module, name)
        if f is None:
            raise VerifyError(f"callee @{name} not found")
        return signature(f)

    if op.name == "jx.cond":
        idx = in_avals[0]
        if idx.shape != () or idx.dtype.kind not in "biu":
            raise VerifyError(f"index must be a bool or integer scalar, got {idx.str_short()}")
        for b in params["branches"]:
            if sig(b) != (in_avals[1:], out_avals):
                raise VerifyError(f"branch @{b} signature does not match the op")
    elif op.name == "jx.while":
        nc, nb = params["cond_nconsts"], params["body_nconsts"]
        carry = in_avals[nc + nb :]
        if sig(params["cond_fn"]) != (in_avals[:nc] + carry, [ShapedType((), _BOOL)]):
            raise VerifyError(f"cond_fn @{params['cond_fn']} must map (cconsts, carry) to a bool scalar")
        if sig(params["body_fn"]) != (in_avals[nc:], carry) or out_avals != carry:
            raise VerifyError(f"body_fn @{params['body_fn']} must map (bconsts, carry) to the carry")
    else:
        nc, nk, n = params["num_consts"], params["num_carry"], params["length"]
        xs = in_avals[nc + nk :]
        if any(x.shape[:1] != (n,) for x in xs):
            raise VerifyError(f"scanned operands must have leading axis {n}")
        slices = [ShapedType(x.shape[1:], x.dtype) for x in xs]
        ins, outs = sig(params["body"])
        carry = in_avals[nc : nc + nk]
        ys = [ShapedType((n,) + y.shape, y.dtype) for y in outs[nk:]]
        if ins != in_avals[: nc + nk] + slices or outs[:nk] != carry or out_avals != carry + ys:
            raise VerifyError(f"body @{params['body']} signature does not match the scan")


_TAGS = frozenset(("calls",))

register(Primitive("cond", _infer, impl=_cond_impl, lower=_cond_lower, multiple_results=True, tags=_TAGS,
                   doc="run branches[index](operands) (bool index: [false, true]; int clamped)",
                   family="control_flow"))
register(Primitive("while", _infer, impl=_while_impl, lower=_while_lower, multiple_results=True, tags=_TAGS,
                   doc="carry = body_fn(carry) while cond_fn(carry)", family="control_flow"))
register(Primitive("scan", _infer, impl=_scan_impl, lower=_scan_lower, multiple_results=True, tags=_TAGS,
                   doc="carry, y[i] = body(consts, carry, x[i]) for i in range(length)",
                   family="control_flow"))
