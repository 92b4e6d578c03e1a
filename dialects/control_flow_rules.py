"""jvp, vjp and batching rules of jx.cond / jx.while / jx.scan: each emits the same op over
transformed callees, asked of the transform context (calls.TransformCtx).

    jx.cond(i, x) {branches=[@f, @g]}  --jvp-->  jx.cond(i, x, t) {branches=[@f_jvpw, @g_jvpw]}
    jx.scan {body=@f}  --vjp-->  forward scan stacking carries + reverse scan over @f's vjp
    jx.while with a batched predicate  --batch-->  while any lane runs; finished lanes frozen
"""

from __future__ import annotations

import numpy as np

from .attrs import Symbol
from .calls import call, emit_op
from .collectives import uses_axis
from .control_flow_activity import active_outputs, carry_active, carry_live, live_inputs
from .func import body_ops, entry_block, find_func
from .lang import Val, broadcast_in_dim, full, is_float, jx, moveaxis, select, zeros
from .registry import ShapedType

WHILE_VJP_ERROR = (
    "Reverse-mode differentiation does not work for lax.while_loop or lax.fori_loop with dynamic "
    "start/stop values. Try using lax.scan, or using fori_loop with static start/stop."
)


def _unroll(unroll) -> dict:
    """The scan's unroll attribute, carried over to the scans a rule emits (absent stays absent:
    the lowering then picks one)."""
    return {} if unroll is None else {"unroll": unroll}


# ---- jvp ---------------------------------------------------------------------------------------


def _jvp_wrapper(ctx, fname, in_layout, out_layout) -> str:
    """@fname's jvp with its inputs/outputs rearranged: layouts list ('p', i) / ('t', i).
    Inputs the layout gives no tangent are inactive (the jvp differentiates nothing that
    depends on them alone); tangent outputs it leaves out are dropped."""
    ins, outs = ctx.signature(fname)
    in_avals = [ins[i] for _, i in in_layout]
    wrt = tuple(("t", i) in in_layout for i in range(len(ins)))

    def body(*args):
        prim, tan = [None] * len(ins), [None] * len(ins)
        for (kind, i), a in zip(in_layout, args):
            (prim if kind == "p" else tan)[i] = a
        res = call(ctx.jvp_of(fname, wrt), prim + [t for t, w in zip(tan, wrt) if w], outs + outs)
        return [res[j] if kind == "p" else res[len(outs) + j] for kind, j in out_layout]

    key = ("jvp_layout", fname, tuple(in_layout), tuple(out_layout))
    return ctx.derived(key, f"{fname}_jvpw", in_avals, body)


def _split_tangents(res, outs, fl_out):
    it = iter(res[len(outs) :])
    return res[: len(outs)], [next(it) if f else None for f in fl_out]


def cond_jvp(ctx, primals, tangents, *, branches):
    outs = ctx.out_avals
    ins = [x.aval for x in primals[1:]]
    act = [t is not None and is_float(a) for t, a in zip(tangents[1:], ins)]
    tin = [i for i in range(len(ins)) if act[i]]
    # tangents only for the outputs that some branch computes from an operand with one
    fl_out = [any(t) for t in zip(*[active_outputs(ctx.module, b, act) for b in branches])]
    lay_in = [("p", i) for i in range(len(ins))] + [("t", i) for i in tin]
    lay_out = [("p", j) for j in range(len(outs))] + [("t", j) for j in range(len(outs)) if fl_out[j]]
    bs = tuple(Symbol(_jvp_wrapper(ctx, b, lay_in, lay_out)) for b in branches)
    res = emit_op(
        "cond",
        list(primals) + [tangents[1 + i] for i in tin],
        {"branches": bs},
        outs + [a for a, f in zip(outs, fl_out) if f],
    )
    return _split_tangents(res, outs, fl_out)


def while_jvp(ctx, primals, tangents, *, cond_fn, body_fn, cond_nconsts, body_nconsts):
    nc, nb = cond_nconsts, body_nconsts
    outs = ctx.out_avals
    cc, bc, carry = primals[:nc], primals[nc : nc + nb], primals[nc + nb :]
    tb = [i for i in range(nb) if tangents[nc + i] is not None and is_float(bc[i])]
    # a carry gets a tangent if its initial value has one or the body makes it depend on one
    k0 = [t is not None and is_float(c) for t, c in zip(tangents[nc + nb :], carry)]
    ka, _ = carry_active(ctx.module, body_fn, [i in tb for i in range(nb)], k0, [])
    tk = [j for j in range(len(carry)) if ka[j]]
    lay_in = [("p", i) for i in range(nb)] + [("t", i) for i in tb]
    lay_in += [("p", nb + j) for j in range(len(carry))] + [("t", nb + j) for j in tk]
    lay_out = [("p", j) for j in range(len(carry))] + [("t", j) for j in tk]
    body = _jvp_wrapper(ctx, body_fn, lay_in, lay_out)
    cins, couts = ctx.signature(cond_fn)
    k_avals = [x.aval for x in carry]
    cond = ctx.derived(
        ("jvp_cond", cond_fn, tuple(tk)),
        f"{cond_fn}_jvpc",
        cins + [k_avals[j] for j in tk],
        lambda *a: call(cond_fn, a[: len(cins)], couts),
    )
    ctan = [tangents[nc + nb + j] if tangents[nc + nb + j] is not None else zeros(k_avals[j]) for j in tk]
    params = dict(
        cond_fn=Symbol(cond),
        body_fn=Symbol(body),
        cond_nconsts=nc,
        body_nconsts=nb + len(tb),
    )
    operands = list(cc) + list(bc) + [tangents[nc + i] for i in tb] + list(carry) + ctan
    res = emit_op("while", operands, params, k_avals + [k_avals[j] for j in tk])
    return _split_tangents(res, outs, ka)


def scan_jvp(ctx, primals, tangents, *, body, length, reverse, num_consts, num_carry, unroll=None):
    nc, nk = num_consts, num_carry
    outs = ctx.out_avals
    avals = [x.aval for x in primals]
    nx = len(avals) - nc - nk
    act = [t is not None and is_float(a) for t, a in zip(tangents, avals)]
    # a carry gets a tangent if its initial value has one or the body makes it depend on one
    ka, out_act = carry_active(ctx.module, body, act[:nc], act[nc : nc + nk], act[nc + nk :])
    tc = [i for i in range(nc) if act[i]]
    tk = [nc + j for j in range(nk) if ka[j]]
    tx = [nc + nk + i for i in range(nx) if act[nc + nk + i]]
    lay_in = [("p", i) for i in range(nc)] + [("t", i) for i in tc]
    lay_in += [("p", nc + j) for j in range(nk)] + [("t", i) for i in tk]
    lay_in += [("p", nc + nk + i) for i in range(nx)] + [("t", i) for i in tx]
    ny = len(outs) - nk
    ty = [nk + j for j in range(ny) if out_act[nk + j]]
    lay_out = [("p", j) for j in range(nk)] + [("t", i - nc) for i in tk]
    lay_out += [("p", nk + j) for j in range(ny)] + [("t", j) for j in ty]
    step = _jvp_wrapper(ctx, body, lay_in, lay_out)

    def t_of(i):
        return tangents[i] if tangents[i] is not None else zeros(avals[i])

    operands = list(primals[:nc]) + [t_of(i) for i in tc] + list(primals[nc : nc + nk]) + [t_of(i) for i in tk]
    operands += list(primals[nc + nk :]) + [t_of(i) for i in tx]
    params = dict(
        body=Symbol(step),
        length=length,
        reverse=reverse,
        num_consts=nc + len(tc),
        num_carry=nk + len(tk),
        **_unroll(unroll),
    )
    res_avals = outs[:nk] + [outs[i - nc] for i in tk] + outs[nk:] + [outs[j] for j in ty]
    res = emit_op("scan", operands, params, res_avals)
    n_t = len(tk)
    carry, ct, ys, yt = (
        res[:nk],
        res[nk : nk + n_t],
        res[nk + n_t : nk + n_t + ny],
        res[nk + n_t + ny :],
    )
    touts = [None] * len(outs)
    for i, t in zip(tk, ct):
        touts[i - nc] = t
    for j, t in zip(ty, yt):
        touts[j] = t
    return carry + ys, touts


# ---- vjp ---------------------------------------------------------------------------------------


def _active(ctx, avals) -> list[bool]:
    """Which operands lead back to a wanted argument (Ctx.active_operands; None: all), floats only."""
    act = ctx.active_operands
    return [(act is None or bool(act[i])) and is_float(a) for i, a in enumerate(avals)]


def cond_vjp(ctx, cts, primals, outs_v, residuals, *, branches):
    """A cond over the branches' vjps, each w.r.t. the active operands only, with cotangents
    for the outputs that have one and depend on an active operand in some branch."""
    ins, outs = ctx.signature(branches[0])
    act = _active(ctx, [x.aval for x in primals])[1:]
    out_act = [any(t) for t in zip(*[active_outputs(ctx.module, b, act) for b in branches])]
    mask = tuple(c is not None and a for c, a in zip(cts, out_act))
    wrt = [any(t) for t in zip(*[live_inputs(ctx.module, b, act, mask) for b in branches])]
    if not any(wrt):
        return [None] * len(primals)
    bs = tuple(Symbol(ctx.vjp_of(b, mask, tuple(wrt))) for b in branches)
    res = emit_op(
        "cond",
        list(primals) + [c for c, m in zip(cts, mask) if m],
        {"branches": bs},
        outs + [a for a, w in zip(ins, wrt) if w],
    )
    in_cts = iter(res[len(outs) :])
    return [None] + [next(in_cts) if w else None for w in wrt]


def while_vjp(ctx, cts, primals, outs_v, residuals, *, cond_fn, body_fn, cond_nconsts, body_nconsts):
    """JAX's error, unless no carry depends on a wanted argument (only the trip count does,
    through the cond's consts): then nothing in the loop is differentiated."""
    nc, nb = cond_nconsts, body_nconsts
    act = _active(ctx, [x.aval for x in primals])
    ka, _ = carry_active(ctx.module, body_fn, act[nc : nc + nb], act[nc + nb :], [])
    if any(ka):
        raise ValueError(WHILE_VJP_ERROR)
    return [None] * len(primals)


def scan_vjp_fwd(ctx, primals, *, body, length, reverse, num_consts, num_carry, unroll=None):
    """The forward sweep of a scan under reverse mode also stacks every iteration's input
    carry: the residuals of the reverse scan."""
    nc, nk = num_consts, num_carry
    ins, outs = ctx.signature(body)
    fwd = ctx.derived(
        ("scan_fwdres", body),
        f"{body}_fwdres",
        ins,
        lambda *a: call(body, a, outs) + list(a[nc : nc + nk]),
    )
    stacked = [ShapedType((length,) + a.shape, a.dtype) for a in ins[nc : nc + nk]]
    params = dict(body=Symbol(fwd), length=length, reverse=reverse, num_consts=nc, num_carry=nk, **_unroll(unroll))
    res = emit_op("scan", primals, params, list(ctx.out_avals) + stacked)
    return res[: len(ctx.out_avals)], res[len(ctx.out_avals) :]


def scan_vjp(ctx, cts, primals, outs_v, stacked, *, body, length, reverse, num_consts, num_carry, unroll=None):
    """A reverse scan over the body's vjp, w.r.t. the consts, carries and xs that are active
    (lead back to a wanted argument; carries: a fixpoint over the body) and live (reach an
    output with a cotangent; carries: a fixpoint the other way). The others pass through as
    primals: no cotangent is carried, accumulated or stacked for them."""
    nc, nk, n = num_consts, num_carry, length
    ins, outs = ctx.signature(body)
    nx, ny = len(ins) - nc - nk, len(outs) - nk
    consts, xs = primals[:nc], primals[nc + nk : nc + nk + nx]
    act = _active(ctx, ins)
    ka, out_act = carry_active(ctx.module, body, act[:nc], act[nc : nc + nk], act[nc + nk :])
    act = act[:nc] + ka + act[nc + nk :]
    wanted = [c is not None and a for c, a in zip(cts, out_act)]
    kl, live = carry_live(ctx.module, body, act, nc, nk, wanted)
    fc = [i for i in range(nc) if live[i]]
    fk = [j for j in range(nk) if kl[j]]
    fx = [i for i in range(nx) if live[nc + nk + i]]
    if not (fc or fk or fx):
        return [None] * (nc + nk + nx)
    cy = [j for j in range(ny) if wanted[nk + j]]
    mask = tuple(kl) + tuple(wanted[nk:])
    wrt = tuple(live[:nc]) + tuple(kl) + tuple(live[nc + nk :])
    vb = ctx.vjp_of(body, mask, wrt)
    c_avals, k_avals = [ins[i] for i in fc], [ins[nc + j] for j in fk]
    y_avals = [outs[nk + j] for j in cy]
    b_in = ins[:nc] + c_avals + k_avals + ins[nc : nc + nk] + ins[nc + nk :] + y_avals

    def step(*a):
        a = list(a)
        cs, acc = a[:nc], a[nc : nc + len(fc)]
        ct_k = a[nc + len(fc) : nc + len(fc) + len(fk)]
        rest = a[nc + len(fc) + len(fk) :]
        carry, x, cty = rest[:nk], rest[nk : nk + nx], rest[nk + nx :]
        got = iter(call(vb, cs + carry + x + ct_k + cty, outs + [a for a, w in zip(ins, wrt) if w])[len(outs) :])
        in_cts = [next(got) if w else None for w in wrt]
        new_acc = [Val(s) + in_cts[i] for s, i in zip(acc, fc)]
        return new_acc + [in_cts[nc + j] for j in fk] + [in_cts[nc + nk + i] for i in fx]

    bwd = ctx.derived(("scan_bwd", vb, tuple(fc), tuple(fx)), f"{vb}_bwdscan", b_in, step)
    ct_k0 = [cts[j] if cts[j] is not None else zeros(ins[nc + j]) for j in fk]
    operands = list(consts) + [zeros(a) for a in c_avals] + ct_k0 + list(stacked) + list(xs)
    operands += [cts[nk + j] for j in cy]
    params = dict(
        body=Symbol(bwd),
        length=n,
        reverse=not reverse,
        num_consts=nc,
        num_carry=len(fc) + len(fk),
        **_unroll(unroll),
    )
    x_avals = [ShapedType((n,) + ins[nc + nk + i].shape, ins[nc + nk + i].dtype) for i in fx]
    res = emit_op("scan", operands, params, c_avals + k_avals + x_avals)
    out = [None] * (nc + nk + nx)
    for i, r in zip(fc + [nc + j for j in fk] + [nc + nk + i for i in fx], res):
        out[i] = r
    return out


# ---- batching ----------------------------------------------------------------------------------


def batched_outputs(module, fname, in_mask, axis_name=None) -> list[bool]:
    """Which results of @fname depend on a batched input, or on a collective over the axis
    being mapped (`axis_name`) (conservative through calls)."""
    f = find_func(module, fname)
    bat = {a for a, m in zip(entry_block(f).arguments, in_mask) if m}
    for op in body_ops(f):
        if op.name == "func.return":
            return [v in bat for v in op.operands]
        if any(v in bat for v in op.operands) or (axis_name is not None and uses_axis(module, op, axis_name)):
            bat.update(op.results)
    raise ValueError(f"@{fname} has no return")


def _front(v: Val, d, size) -> Val:
    return broadcast_in_dim(v, (size,) + v.shape, tuple(range(1, v.ndim + 1))) if d is None else v


def _bdims(mask):
    return [0 if m else None for m in mask]


def _bshape(a, size):
    return ShapedType((size,) + a.shape, a.dtype)


def _select(pred: Val, on_true: Val, on_false: Val) -> Val:
    """Lane-wise select: pred has shape (size,), the values (size, ...)."""
    if on_true.ndim > 1:
        pred = broadcast_in_dim(pred, on_true.shape, (0,))
    return select(pred, on_true, on_false)


def cond_batch(ctx, vals, dims, *, branches):
    size, outs = ctx.axis_size, ctx.out_avals
    bm = [d is not None for d in dims]
    if dims[0] is None:
        omask = [any(t) for t in zip(*[batched_outputs(ctx.module, b, bm[1:], ctx.axis_name) for b in branches])]
        bs = tuple(Symbol(ctx.batched(b, dims[1:], size, out_batched=omask)) for b in branches)
        o_avals = [_bshape(a, size) if m else a for a, m in zip(outs, omask)]
        res = emit_op("cond", vals, {"branches": bs}, o_avals)
        return [(r, 0 if m else None) for r, m in zip(res, omask)]
    # batched predicate: run every branch on all lanes, then select (as JAX)
    o_avals = [_bshape(a, size) for a in outs]
    per = [call(ctx.batched(b, dims[1:], size), vals[1:], o_avals) for b in branches]
    idx = vals[0]
    if idx.dtype == np.bool_:
        return [(_select(idx, t, f), 0) for f, t in zip(*per)]
    idx = jx.clamp(
        full((size,), 0, idx.dtype),
        idx,
        full((size,), len(branches) - 1, idx.dtype),
    )
    res = per[0]
    for i in range(1, len(branches)):
        hit = jx.eq(idx, full((size,), i, idx.dtype))
        res = [_select(hit, t, r) for r, t in zip(res, per[i])]
    return [(r, 0) for r in res]


def while_batch(ctx, vals, dims, *, cond_fn, body_fn, cond_nconsts, body_nconsts):
    size, module = ctx.axis_size, ctx.module
    nc, nb = cond_nconsts, body_nconsts
    bm = [d is not None for d in dims]
    cm, bmk, km = bm[:nc], bm[nc : nc + nb], bm[nc + nb :]
    while True:
        new = [a or b for a, b in zip(km, batched_outputs(module, body_fn, bmk + km, ctx.axis_name))]
        if new == km:
            break
        km = new
    pred_b = batched_outputs(module, cond_fn, cm + km, ctx.axis_name)[0]
    if pred_b:
        km = [True] * len(km)
    cc, bc = vals[:nc], vals[nc : nc + nb]
    carry = [_front(v, d, size) if m else v for v, d, m in zip(vals[nc + nb :], dims[nc + nb :], km)]
    k_avals = [c.aval for c in carry]
    cdims, bdims, kdims = list(dims[:nc]), list(dims[nc : nc + nb]), _bdims(km)
    if not pred_b:
        cond = ctx.batched(cond_fn, cdims + kdims, size, out_batched=[False])
        body = ctx.batched(body_fn, bdims + kdims, size, out_batched=km)
        params = dict(cond_fn=Symbol(cond), body_fn=Symbol(body), cond_nconsts=nc, body_nconsts=nb)
        res = emit_op("while", list(cc) + list(bc) + carry, params, k_avals)
        return [(r, 0 if m else None) for r, m in zip(res, km)]
    cond_b = ctx.batched(cond_fn, cdims + kdims, size)
    body_b = ctx.batched(body_fn, bdims + kdims, size)
    pa = [_bshape(ShapedType((), np.dtype(np.bool_)), size)]
    c_in, b_in = [v.aval for v in cc], [v.aval for v in bc]
    cond = ctx.derived(
        ("while_any", cond_b),
        f"{cond_b}_any",
        c_in + k_avals,
        lambda *a: [jx.reduce_or(call(cond_b, a, pa)[0], axes=(0,))],
    )

    def body(*a):
        a = list(a)
        pr = call(cond_b, a[:nc] + a[nc + nb :], pa)[0]
        new = call(body_b, a[nc:], k_avals)
        return [_select(pr, n, Val(o)) for n, o in zip(new, a[nc + nb :])]

    body_n = ctx.derived(("while_sel", cond_b, body_b), f"{body_b}_sel", c_in + b_in + k_avals, body)
    # the body reads the cond consts too (to freeze finished lanes): pass them twice
    params = dict(
        cond_fn=Symbol(cond),
        body_fn=Symbol(body_n),
        cond_nconsts=nc,
        body_nconsts=nc + nb,
    )
    res = emit_op("while", list(cc) + list(cc) + list(bc) + carry, params, k_avals)
    return [(r, 0) for r in res]


def scan_batch(ctx, vals, dims, *, body, length, reverse, num_consts, num_carry, unroll=None):
    """xs / ys carry the scan axis first, so a batched one has its batch axis at 1."""
    size, module, outs = ctx.axis_size, ctx.module, ctx.out_avals
    nc, nk, n = num_consts, num_carry, length
    bm = [d is not None for d in dims]
    cm, km, xm = bm[:nc], bm[nc : nc + nk], bm[nc + nk :]
    while True:
        new = [a or b for a, b in zip(km, batched_outputs(module, body, cm + km + xm, ctx.axis_name)[:nk])]
        if new == km:
            break
        km = new
    ym = batched_outputs(module, body, cm + km + xm, ctx.axis_name)[nk:]
    carry = [_front(v, d, size) if m else v for v, d, m in zip(vals[nc : nc + nk], dims[nc : nc + nk], km)]
    xs = [moveaxis(v, 0, 1) if m else v for v, m in zip(vals[nc + nk :], xm)]
    step = ctx.batched(body, list(dims[:nc]) + _bdims(km) + _bdims(xm), size, out_batched=km + ym)
    y_avals = [ShapedType((n, size) + a.shape[1:], a.dtype) if m else a for a, m in zip(outs[nk:], ym)]
    params = dict(body=Symbol(step), length=length, reverse=reverse, num_consts=nc, num_carry=nk, **_unroll(unroll))
    res = emit_op("scan", list(vals[:nc]) + carry + xs, params, [c.aval for c in carry] + y_avals)
    out = [(r, 0 if m else None) for r, m in zip(res[:nk], km)]
    return out + [((moveaxis(r, 1, 0), 0) if m else (r, None)) for r, m in zip(res[nk:], ym)]
