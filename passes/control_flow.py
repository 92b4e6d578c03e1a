"""jvp, vjp and batching rules of jx.cond / jx.while / jx.scan: each emits the same op over
transformed callee functions (jvp_function, vjp_function, batch_function of the bodies).

    jx.cond(i, x) {branches=[@f, @g]}  --jvp-->  jx.cond(i, x, t) {branches=[@f_jvp, @g_jvp]}
    jx.scan {body=@f}  --vjp-->  forward scan stacking carries + reverse scan over @f's vjp
    jx.while with a batched predicate  --batch-->  while any lane runs; finished lanes frozen
"""

from __future__ import annotations

import zlib

import numpy as np

from irjax.dialects import builder
from irjax.dialects.attrs import Symbol
from irjax.dialects.builder import ir_type
from irjax.dialects.func import body_ops, build_func, emit_call, entry_block, find_func, lookup_func, op_params, signature
from irjax.dialects.lang import Val, broadcast_in_dim, full, is_float, moveaxis, select, zeros
from irjax.dialects.lang import bind as L_bind
from irjax.dialects.mlir import enter
from irjax.dialects.registry import ShapedType

WHILE_VJP_ERROR = (
    "Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop with dynamic "
    "start/stop values. Try using lax.scan, or using fori_loop with static start/stop."
)


_float = is_float
_zeros = zeros


def _sig(module, name):
    return signature(lookup_func(module, name))


def _emit(name, operands, params, out_avals) -> list[Val]:
    vs = [o.v if isinstance(o, Val) else o for o in operands]
    return [Val(r) for r in builder.emit(name, vs, params, [ir_type(a) for a in out_avals])]


def _code(x) -> str:
    return f"{zlib.crc32(repr(x).encode()):08x}"


def _wrapper(module, name, in_avals, body) -> str:
    """Memoized helper function @name(in_avals) { body(*args) }."""
    if find_func(module, name) is None:
        with enter():
            build_func(module, name, in_avals, lambda *a: [x.v if isinstance(x, Val) else x for x in body(*a)])
    return name


# ---- jvp ---------------------------------------------------------------------------------------


def _jvp_wrapper(module, fname, in_layout, out_layout) -> str:
    """@fname's jvp with its inputs/outputs rearranged: layouts list ('p', i) / ('t', i).
    Tangent inputs the layout leaves out are zero; tangent outputs it leaves out are dropped."""
    from .autodiff import jvp_function

    ins, outs = _sig(module, fname)
    in_avals = [ins[i] for _, i in in_layout]

    def body(*args):
        prim, tan = [None] * len(ins), [None] * len(ins)
        for (kind, i), a in zip(in_layout, args):
            (prim if kind == "p" else tan)[i] = a
        tan = [t if t is not None else _zeros(a).v for t, a in zip(tan, ins)]
        res = emit_call(jvp_function(module, fname), prim + tan, outs + outs)
        return [res[j] if kind == "p" else res[len(outs) + j] for kind, j in out_layout]

    return _wrapper(module, f"{fname}_jvpw_{_code((in_layout, out_layout))}", in_avals, body)


def jvp(module, op, primals, tangents):
    """(outs, out tangents) of a control-flow op; tangents of non-float values are dropped."""
    p = op_params(op)
    outs = [Val(r).aval for r in op.results]
    fl_out = [_float(a) for a in outs]
    if op.name == "jx.cond":
        ins = [x.aval for x in primals[1:]]
        tin = [i for i, (t, a) in enumerate(zip(tangents[1:], ins)) if t is not None and _float(a)]
        lay_in = [("p", i) for i in range(len(ins))] + [("t", i) for i in tin]
        lay_out = [("p", j) for j in range(len(outs))] + [("t", j) for j in range(len(outs)) if fl_out[j]]
        bs = tuple(Symbol(_jvp_wrapper(module, b, lay_in, lay_out)) for b in p["branches"])
        res = _emit("cond", list(primals) + [tangents[1 + i] for i in tin], {"branches": bs},
                    outs + [a for a, f in zip(outs, fl_out) if f])
        return _split_tangents(res, outs, fl_out)
    if op.name == "jx.while":
        nc, nb = p["cond_nconsts"], p["body_nconsts"]
        cc, bc, carry = primals[:nc], primals[nc : nc + nb], primals[nc + nb :]
        tb = [i for i in range(nb) if tangents[nc + i] is not None and _float(bc[i].aval)]
        tk = [j for j in range(len(carry)) if _float(carry[j].aval)]
        lay_in = [("p", i) for i in range(nb)] + [("t", i) for i in tb]
        lay_in += [("p", nb + j) for j in range(len(carry))] + [("t", nb + j) for j in tk]
        lay_out = [("p", j) for j in range(len(carry))] + [("t", j) for j in tk]
        body = _jvp_wrapper(module, p["body_fn"], lay_in, lay_out)
        cins, couts = _sig(module, p["cond_fn"])
        k_avals = [x.aval for x in carry]
        cond = _wrapper(
            module, f"{p['cond_fn']}_jvpc_{_code(tk)}", cins + [k_avals[j] for j in tk],
            lambda *a: emit_call(p["cond_fn"], list(a[: len(cins)]), couts),
        )
        ctan = [tangents[nc + nb + j] if tangents[nc + nb + j] is not None else _zeros(k_avals[j]) for j in tk]
        params = dict(cond_fn=Symbol(cond), body_fn=Symbol(body), cond_nconsts=nc, body_nconsts=nb + len(tb))
        operands = list(cc) + list(bc) + [tangents[nc + i] for i in tb] + list(carry) + ctan
        res = _emit("while", operands, params, k_avals + [k_avals[j] for j in tk])
        return _split_tangents(res, outs, fl_out)
    # scan
    nc, nk = p["num_consts"], p["num_carry"]
    avals = [x.aval for x in primals]
    nx = len(avals) - nc - nk
    tc = [i for i in range(nc) if tangents[i] is not None and _float(avals[i])]
    tk = [nc + j for j in range(nk) if _float(avals[nc + j])]
    tx = [nc + nk + i for i in range(nx) if tangents[nc + nk + i] is not None and _float(avals[nc + nk + i])]
    lay_in = [("p", i) for i in range(nc)] + [("t", i) for i in tc]
    lay_in += [("p", nc + j) for j in range(nk)] + [("t", i) for i in tk]
    lay_in += [("p", nc + nk + i) for i in range(nx)] + [("t", i) for i in tx]
    ny = len(outs) - nk
    ty = [nk + j for j in range(ny) if fl_out[nk + j]]
    lay_out = [("p", j) for j in range(nk)] + [("t", i - nc) for i in tk]
    lay_out += [("p", nk + j) for j in range(ny)] + [("t", j) for j in ty]
    body = _jvp_wrapper(module, p["body"], lay_in, lay_out)
    t_of = lambda i: tangents[i] if tangents[i] is not None else _zeros(avals[i])  # noqa: E731
    operands = list(primals[:nc]) + [t_of(i) for i in tc] + list(primals[nc : nc + nk]) + [t_of(i) for i in tk]
    operands += list(primals[nc + nk :]) + [t_of(i) for i in tx]
    params = dict(body=Symbol(body), length=p["length"], reverse=p["reverse"], num_consts=nc + len(tc),
                  num_carry=nk + len(tk))
    res_avals = outs[:nk] + [outs[i - nc] for i in tk] + outs[nk:] + [outs[j] for j in ty]
    res = _emit("scan", operands, params, res_avals)
    carry, ct, ys, yt = res[:nk], res[nk : nk + len(tk)], res[nk + len(tk) : nk + len(tk) + ny], res[nk + len(tk) + ny :]
    touts = [None] * len(outs)
    for i, t in zip(tk, ct):
        touts[i - nc] = t
    for j, t in zip(ty, yt):
        touts[j] = t
    return carry + ys, touts


def _split_tangents(res, outs, fl_out):
    n = len(outs)
    it = iter(res[n:])
    return res[:n], [next(it) if f else None for f in fl_out]


# ---- vjp ---------------------------------------------------------------------------------------


def scan_forward(module, op, in_v):
    """The forward sweep of a scan under reverse mode: also stack every iteration's input carry
    (the residuals of the reverse scan). Returns (outs, stacked carries)."""
    p = op_params(op)
    nc, nk, n = p["num_consts"], p["num_carry"], p["length"]
    ins, outs = _sig(module, p["body"])
    k_avals = ins[nc : nc + nk]

    def body(*a):
        res = emit_call(p["body"], list(a), outs)
        return res + list(a[nc : nc + nk])

    fwd = _wrapper(module, f"{p['body']}_fwdres", ins, body)
    out_avals = [Val(r).aval for r in op.results]
    stacked = [ShapedType((n,) + a.shape, a.dtype) for a in k_avals]
    res = _emit("scan", in_v, dict(p, body=Symbol(fwd)), out_avals + stacked)
    return res[: len(out_avals)], res[len(out_avals) :]


def vjp(module, op, in_v, out_v, out_cts):
    """Cotangents of a control-flow op's operands (None: zero or not differentiable)."""
    from .autodiff import vjp_function

    p = op_params(op)
    if op.name == "jx.while":
        raise ValueError(WHILE_VJP_ERROR)
    if op.name == "jx.cond":
        mask = tuple(c is not None for c in out_cts)
        ins, outs = _sig(module, p["branches"][0])
        bs = tuple(Symbol(vjp_function(module, b, mask)) for b in p["branches"])
        res = _emit("cond", [x for x in in_v[: 1 + len(ins)]] + [c for c in out_cts if c is not None],
                    {"branches": bs}, outs + ins)
        return [None] + res[len(outs) :]
    # scan: in_v = consts, carry, xs, then the stacked carries from scan_forward
    nc, nk, n = p["num_consts"], p["num_carry"], p["length"]
    ins, outs = _sig(module, p["body"])
    nx = len(ins) - nc - nk
    ny = len(outs) - nk
    consts, xs, stacked = in_v[:nc], in_v[nc + nk : nc + nk + nx], in_v[nc + nk + nx :]
    fc = [i for i in range(nc) if _float(ins[i])]
    fk = [j for j in range(nk) if _float(ins[nc + j])]
    fx = [i for i in range(nx) if _float(ins[nc + nk + i])]
    cy = [j for j in range(ny) if out_cts[nk + j] is not None]
    mask = tuple(j in fk for j in range(nk)) + tuple(j in cy for j in range(ny))
    vb = vjp_function(module, p["body"], mask)
    c_avals, k_avals = [ins[i] for i in fc], [ins[nc + j] for j in fk]
    y_avals = [outs[nk + j] for j in cy]
    b_in = ins[:nc] + c_avals + k_avals + ins[nc : nc + nk] + ins[nc + nk :] + y_avals

    def body(*a):
        a = list(a)
        cs, acc = a[:nc], a[nc : nc + len(fc)]
        ct_k = a[nc + len(fc) : nc + len(fc) + len(fk)]
        rest = a[nc + len(fc) + len(fk) :]
        carry, x, cty = rest[:nk], rest[nk : nk + nx], rest[nk + nx :]
        res = emit_call(vb, cs + carry + x + ct_k + cty, outs + ins)
        in_cts = res[len(outs) :]
        new_acc = [(Val(s) + Val(in_cts[i])).v for s, i in zip(acc, fc)]
        return new_acc + [in_cts[nc + j] for j in fk] + [in_cts[nc + nk + i] for i in fx]

    bwd = _wrapper(module, f"{vb}_bwdscan", b_in, body)
    ct_k0 = [out_cts[j] if out_cts[j] is not None else _zeros(ins[nc + j]) for j in fk]
    operands = list(consts) + [_zeros(a) for a in c_avals] + ct_k0 + list(stacked) + list(xs)
    operands += [out_cts[nk + j] for j in cy]
    params = dict(body=Symbol(bwd), length=n, reverse=not p["reverse"], num_consts=nc,
                  num_carry=len(fc) + len(fk))
    x_avals = [ShapedType((n,) + ins[nc + nk + i].shape, ins[nc + nk + i].dtype) for i in fx]
    res = _emit("scan", operands, params, c_avals + k_avals + x_avals)
    cts = [None] * (nc + nk + nx)
    for i, r in zip(fc + [nc + j for j in fk] + [nc + nk + i for i in fx], res):
        cts[i] = r
    return cts


# ---- batching ----------------------------------------------------------------------------------


def batched_outputs(module, fname, in_mask) -> list[bool]:
    """Which results of @fname depend on a batched input (conservative through calls)."""
    f = find_func(module, fname)
    bat = {a for a, m in zip(entry_block(f).arguments, in_mask) if m}
    for op in body_ops(f):
        if op.name == "func.return":
            return [v in bat for v in op.operands]
        if any(v in bat for v in op.operands):
            bat.update(op.results)
    raise ValueError(f"@{fname} has no return")


def _front(v: Val, d, size) -> Val:
    return broadcast_in_dim(v, (size,) + v.shape, tuple(range(1, v.ndim + 1))) if d is None else v


def _bdims(mask):
    return [0 if m else None for m in mask]


def _bshape(a, size):
    return ShapedType((size,) + a.shape, a.dtype)


def batch(module, op, vals, dims, size):
    """[(value, 0 or None)] for the results of a control-flow op with batched operands."""
    from .batching import batch_function

    p = op_params(op)
    outs = [Val(r).aval for r in op.results]
    bm = [d is not None for d in dims]
    if op.name == "jx.cond":
        branches = p["branches"]
        if dims[0] is None:
            omask = [any(t) for t in zip(*[batched_outputs(module, b, bm[1:]) for b in branches])]
            bs = tuple(Symbol(batch_function(module, b, dims[1:], size, out_batched=omask)) for b in branches)
            o_avals = [_bshape(a, size) if m else a for a, m in zip(outs, omask)]
            res = _emit("cond", vals, {"branches": bs}, o_avals)
            return [(r, 0 if m else None) for r, m in zip(res, omask)]
        # batched predicate: run every branch on all lanes, then select (as JAX)
        o_avals = [_bshape(a, size) for a in outs]
        per = [[Val(r) for r in emit_call(batch_function(module, b, dims[1:], size), [v.v for v in vals[1:]], o_avals)]
               for b in branches]
        idx = vals[0]
        if idx.dtype == np.bool_:
            return [(_select(idx, t, f), 0) for f, t in zip(*per)]
        idx = L_bind("clamp", full((size,), 0, idx.dtype), idx, full((size,), len(branches) - 1, idx.dtype))
        res = per[0]
        for i in range(1, len(branches)):
            hit = L_bind("eq", idx, full((size,), i, idx.dtype))
            res = [_select(hit, t, r) for r, t in zip(res, per[i])]
        return [(r, 0) for r in res]
    if op.name == "jx.while":
        nc, nb = p["cond_nconsts"], p["body_nconsts"]
        cm, bmk, km = bm[:nc], bm[nc : nc + nb], bm[nc + nb :]
        while True:
            new = [a or b for a, b in zip(km, batched_outputs(module, p["body_fn"], bmk + km))]
            if new == km:
                break
            km = new
        pred_b = batched_outputs(module, p["cond_fn"], cm + km)[0]
        if pred_b:
            km = [True] * len(km)
        cc, bc = vals[:nc], vals[nc : nc + nb]
        carry = [_front(v, d, size) if m else v for v, d, m in zip(vals[nc + nb :], dims[nc + nb :], km)]
        k_avals = [c.aval for c in carry]
        cdims, bdims, kdims = dims[:nc], dims[nc : nc + nb], _bdims(km)
        if not pred_b:
            cond = batch_function(module, p["cond_fn"], cdims + kdims, size, out_batched=[False])
            body = batch_function(module, p["body_fn"], bdims + kdims, size, out_batched=km)
            params = dict(cond_fn=Symbol(cond), body_fn=Symbol(body), cond_nconsts=nc, body_nconsts=nb)
            res = _emit("while", list(cc) + list(bc) + carry, params, k_avals)
            return [(r, 0 if m else None) for r, m in zip(res, km)]
        cond_b = batch_function(module, p["cond_fn"], cdims + kdims, size)
        body_b = batch_function(module, p["body_fn"], bdims + kdims, size)
        pa = [_bshape(ShapedType((), np.dtype(np.bool_)), size)]
        c_in = [v.aval for v in cc]
        b_in = [v.aval for v in bc]
        tag = _code((cdims, bdims, size))
        cond = _wrapper(
            module, f"{cond_b}_any_{tag}", c_in + k_avals,
            lambda *a: [L_bind("reduce_or", Val(emit_call(cond_b, list(a), pa)[0]), axes=(0,))],
        )

        def body(*a):
            a = list(a)
            pr = Val(emit_call(cond_b, a[:nc] + a[nc + nb :], pa)[0])
            new = emit_call(body_b, a[nc:], k_avals)
            return [_select(pr, Val(n), Val(o)) for n, o in zip(new, a[nc + nb :])]

        body_n = _wrapper(module, f"{body_b}_sel_{tag}", c_in + b_in + k_avals, body)
        # the body reads the cond consts too (to freeze finished lanes): pass them twice
        params = dict(cond_fn=Symbol(cond), body_fn=Symbol(body_n), cond_nconsts=nc, body_nconsts=nc + nb)
        res = _emit("while", list(cc) + list(cc) + list(bc) + carry, params, k_avals)
        return [(r, 0) for r in res]
    # scan: xs / ys carry the scan axis first, so a batched one has its batch axis at 1
    nc, nk, n = p["num_consts"], p["num_carry"], p["length"]
    cm, km, xm = bm[:nc], bm[nc : nc + nk], bm[nc + nk :]
    while True:
        new = [a or b for a, b in zip(km, batched_outputs(module, p["body"], cm + km + xm)[:nk])]
        if new == km:
            break
        km = new
    ym = batched_outputs(module, p["body"], cm + km + xm)[nk:]
    carry = [_front(v, d, size) if m else v for v, d, m in zip(vals[nc : nc + nk], dims[nc : nc + nk], km)]
    xs = [moveaxis(v, 0, 1) if m else v for v, m in zip(vals[nc + nk :], xm)]
    body = batch_function(module, p["body"], dims[:nc] + _bdims(km) + _bdims(xm), size, out_batched=km + ym)
    y_avals = [ShapedType((n, size) + a.shape[1:], a.dtype) if m else a for a, m in zip(outs[nk:], ym)]
    params = dict(p, body=Symbol(body))
    res = _emit("scan", list(vals[:nc]) + carry + xs, params, [c.aval for c in carry] + y_avals)
    out = [(r, 0 if m else None) for r, m in zip(res[:nk], km)]
    return out + [((moveaxis(r, 1, 0), 0) if m else (r, None)) for r, m in zip(res[nk:], ym)]


def _select(pred: Val, on_true: Val, on_false: Val) -> Val:
    """Lane-wise select: pred has shape (size,), the values (size, ...)."""
    if on_true.ndim > 1:
        pred = broadcast_in_dim(pred, on_true.shape, (0,))
    return select(pred, on_true, on_false)
