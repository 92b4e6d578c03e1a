"""Autodiff passes: jvp (forward mode), vjp (reverse mode) and grad, over jx functions.

jvp{func=f}:  adds @f_jvp(primals..., tangents...) -> (outs..., out_tangents...)
vjp{func=f}:  adds @f_vjp(primals..., out_cts...)  -> (outs..., in_cts...)
grad{func=f argnums=0}: adds @f_grad(args...) -> (outs..., grads of argnums...),
              seeding the first output (a float scalar) with 1.

Rules come from each op's record (dialects/); `jx.call` is differentiated by transforming
its callee, so transformations nest: the output functions are plain jx and can be
differentiated again. Reverse mode re-runs the forward sweep inside @f_vjp (no tape
across functions), which keeps each function self-contained.
"""

from __future__ import annotations

from irjax.dialects import registry
from irjax.dialects.control_flow import CONTROL_FLOW_OPS
from irjax.dialects.func import (
    lookup_func,
    body_ops,
    build_func,
    callee_of,
    emit_call,
    entry_block,
    find_func,
    op_params,
    reemit,
    signature,
)
from irjax.dialects.lang import Val, full, is_float, zeros, zeros_like
from irjax.dialects.mlir import enter

from . import control_flow
from .registry import register_pass


_float = is_float
_zeros = zeros
_lookup = lookup_func


def jvp_function(module, fname: str) -> str:
    """Forward mode: @f -> @f_jvp. Returns the new function's name (memoized by name)."""
    name = f"{fname}_jvp"
    if find_func(module, name) is not None:
        return name
    f = _lookup(module, fname)
    ins, outs = signature(f)
    src_args = list(entry_block(f).arguments)
    ops = body_ops(f)

    def body(*args):
        n = len(ins)
        env = {}
        for s, p, t, a in zip(src_args, args[:n], args[n:], ins):
            env[s] = (Val(p), Val(t) if _float(a) else None)
        for op in ops:
            if op.name == "func.return":
                rets = list(op.operands)
                break
            xs = [env[v] for v in op.operands]
            primals = [p for p, _ in xs]
            tangents = [t for _, t in xs]
            if all(t is None for t in tangents):
                outs_v = [Val(r) for r in reemit(op, [p.v for p in primals])]
                touts = [None] * len(outs_v)
            elif op.name == "jx.call":
                callee = callee_of(op)
                c_ins, c_outs = signature(_lookup(module, callee))
                cj = jvp_function(module, callee)
                tans = [t if t is not None else _zeros(a) for t, a in zip(tangents, c_ins)]
                res = emit_call(cj, [p.v for p in primals] + [t.v for t in tans], c_outs + c_outs)
                k = len(c_outs)
                outs_v = [Val(r) for r in res[:k]]
                touts = [Val(r) if _float(a) else None for r, a in zip(res[k:], c_outs)]
            elif op.name == "jx.custom_jvp_call":
                outs_v, touts = _custom_jvp_jvp(module, op, primals, tangents)
            elif op.name == "jx.custom_vjp_call":
                raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function.")
            elif op.name in CONTROL_FLOW_OPS:
                outs_v, touts = control_flow.jvp(module, op, primals, tangents)
            else:
                prim = registry.get(op.name)
                if prim.jvp is None:
                    raise NotImplementedError(f"forward-mode differentiation of {op.name} is not implemented")
                outs_v, touts = prim.jvp(primals, tangents, **op_params(op))
            for r, o, t in zip(op.results, outs_v, touts):
                env[r] = (o, t if (t is not None and _float(o.aval)) else None)
        prim_outs = [env[v][0].v for v in rets]
        tan_outs = [(env[v][1] if env[v][1] is not None else _zeros(a)).v for v, a in zip(rets, outs)]
        return prim_outs + tan_outs

    with enter():
        return build_func(module, name, ins + ins, body)


def vjp_function(module, fname: str, ct_mask: tuple | None = None) -> str:
    """Reverse mode: @f -> @f_vjp taking cotangents for the outputs where ct_mask is True."""
    f = _lookup(module, fname)
    ins, outs = signature(f)
    mask = tuple(bool(m) for m in (ct_mask if ct_mask is not None else [True] * len(outs)))
    name = f"{fname}_vjp" if all(mask) else f"{fname}_vjp_" + "".join("1" if m else "0" for m in mask)
    if find_func(module, name) is not None:
        return name
    src_args = list(entry_block(f).arguments)
    ops = body_ops(f)
    ct_avals = [a for a, m in zip(outs, mask) if m]

    def body(*args):
        n = len(ins)
        env = {s: Val(a) for s, a in zip(src_args, args[:n])}
        tape = []
        for op in ops:
            if op.name == "func.return":
                rets = list(op.operands)
                break
            in_v = [env[v] for v in op.operands]
            if op.name == "jx.custom_vjp_call":
                # the user's fwd rule runs the primal and saves residuals for bwd
                res = emit_call(str(op_params(op)["fwd_callee"]), [x.v for x in in_v],
                                signature(_lookup(module, str(op_params(op)["fwd_callee"])))[1])
                out_v = [Val(r) for r in res[: len(op.results)]]
                in_v = in_v + [Val(r) for r in res[len(op.results):]]  # residuals ride along
            elif op.name == "jx.scan":
                # the forward scan also stacks each iteration's carry for the reverse scan
                out_v, stacked = control_flow.scan_forward(module, op, in_v)
                in_v = in_v + stacked
            else:
                out_v = [Val(r) for r in reemit(op, [x.v for x in in_v])]
            for r, o in zip(op.results, out_v):
                env[r] = o
            tape.append((op, in_v, out_v))
        cts = {}

        def add_ct(v, c):
            if c is None:
                return
            prev = cts.get(v)
            cts[v] = c if prev is None else prev + c

        cts_in = iter(args[n:])
        for v, a, m in zip(rets, outs, mask):
            if m:
                c = Val(next(cts_in))
                if _float(a):
                    add_ct(v, c)
        for op, in_v, out_v in reversed(tape):
            out_cts = [cts.get(r) for r in op.results]
            if all(c is None for c in out_cts):
                continue
            if op.name == "jx.call":
                callee = callee_of(op)
                c_ins, c_outs = signature(_lookup(module, callee))
                cmask = tuple(c is not None for c in out_cts)
                cv = vjp_function(module, callee, cmask)
                res = emit_call(cv, [x.v for x in in_v] + [c.v for c in out_cts if c is not None], c_outs + c_ins)
                in_cts = [Val(r) for r in res[len(c_outs):]]
            elif op.name == "jx.custom_jvp_call":
                in_cts = _custom_jvp_vjp(module, op, in_v, out_v, out_cts)
            elif op.name == "jx.custom_vjp_call":
                in_cts = _custom_vjp_bwd(module, op, in_v, out_v, out_cts)
            elif op.name in CONTROL_FLOW_OPS:
                in_cts = control_flow.vjp(module, op, in_v, out_v, out_cts)
            else:
                prim = registry.get(op.name)
                if prim.vjp is None:
                    raise NotImplementedError(f"reverse-mode differentiation of {op.name} is not implemented")
                full_cts = [c if c is not None else zeros_like(o) for c, o in zip(out_cts, out_v)]
                in_cts = prim.vjp(full_cts, in_v, out_v, **op_params(op))
            for v, x, c in zip(op.operands, in_v, in_cts):
                if c is not None and _float(x.aval):
                    if c.aval != x.aval:  # a wrong rule would otherwise surface as an IREE error
                        raise ValueError(
                            f"vjp rule of {op.name} returned a cotangent of type {c.aval.str_short()} "
                            f"for an operand of type {x.aval.str_short()}"
                        )
                    add_ct(v, c)
        grads = [(cts.get(s) if cts.get(s) is not None else _zeros(a)).v for s, a in zip(src_args, ins)]
        return [env[v].v for v in rets] + grads

    with enter():
        return build_func(module, name, ins + ct_avals, body)


def _custom_jvp_jvp(module, op, primals, tangents):
    """jvp of jx.custom_jvp_call: call the user's rule @jvp_callee(args, consts, arg tangents)."""
    p = op_params(op)
    n = p["num_args"]
    rule = str(p["jvp_callee"])
    ins, outs = signature(_lookup(module, rule))
    arg_avals = ins[:n]
    # closed-over values (consts) are constants to the rule: no tangents for them
    tans = [t if t is not None else _zeros(a) for t, a in zip(tangents[:n], arg_avals)]
    k = len(op.results)
    res = emit_call(rule, [x.v for x in primals] + [t.v for t in tans], outs)
    return [Val(r) for r in res[:k]], [Val(r) if _float(a) else None for r, a in zip(res[k:], outs[k:])]


def _custom_jvp_vjp(module, op, in_v, out_v, out_cts):
    """vjp of jx.custom_jvp_call: transpose the rule, linear in its tangents (JAX's linearize +
    transpose), by reverse-differentiating @jvp_callee with respect to its tangent inputs."""
    p = op_params(op)
    n = p["num_args"]
    rule = str(p["jvp_callee"])
    ins, outs = signature(_lookup(module, rule))
    k = len(op.results)
    cv = vjp_function(module, rule, (False,) * k + (True,) * k)
    tans = [_zeros(a) for a in ins[len(in_v):]]
    cts = [c if c is not None else zeros_like(o) for c, o in zip(out_cts, out_v)]
    res = emit_call(cv, [x.v for x in in_v] + [t.v for t in tans] + [c.v for c in cts], outs + ins)
    t_cts = res[len(outs) + len(in_v):]
    return [Val(r) for r in t_cts] + [None] * (len(in_v) - n)


def _custom_vjp_bwd(module, op, in_v, out_v, out_cts):
    """vjp of jx.custom_vjp_call: @bwd_callee(residuals, out cts, consts) -> arg cts."""
    p = op_params(op)
    n = p["num_args"]
    bwd = str(p["bwd_callee"])
    n_ops = len(op.operands)
    args_consts, residuals = in_v[:n_ops], in_v[n_ops:]
    _, outs = signature(_lookup(module, bwd))
    cts = [c if c is not None else zeros_like(o) for c, o in zip(out_cts, out_v)]
    res = emit_call(bwd, [r.v for r in residuals] + [c.v for c in cts] + [x.v for x in args_consts[n:]], outs)
    return [Val(r) for r in res] + [None] * (n_ops - n)


def grad_function(module, fname: str, argnums=(0,)) -> str:
    """@f_grad(args) -> (outs..., d out0 / d args[argnums]...); out0 must be a float scalar."""
    argnums = tuple(argnums)
    f = _lookup(module, fname)
    ins, outs = signature(f)
    if not outs or outs[0].shape != () or not _float(outs[0]):
        got = outs[0].str_short() if outs else "nothing"
        raise TypeError(f"Gradient only defined for scalar-output functions. Output had shape: {got}")
    name = f"{fname}_grad_" + "_".join(map(str, argnums))
    if find_func(module, name) is not None:
        return name
    mask = (True,) + (False,) * (len(outs) - 1)
    vname = vjp_function(module, fname, mask)

    def body(*args):
        one = full((), 1, outs[0].dtype)
        res = emit_call(vname, list(args) + [one.v], outs + ins)
        k = len(outs)
        return res[:k] + [res[k + i] for i in argnums]

    with enter():
        return build_func(module, name, ins, body)


def _ints(s) -> tuple:
    if isinstance(s, (tuple, list)):
        return tuple(int(v) for v in s)
    return tuple(int(v) for v in str(s).strip("[]()").replace(",", " ").split())


@register_pass("jvp", "forward mode: add @f_jvp(primals, tangents) -> (outs, out_tangents)",
               '@f(x) { sin x }  ==>  @f_jvp(x, t) { (sin x, t * cos x) }')
def jvp_pass(module, func: str):
    jvp_function(module, func)


@register_pass("vjp", "reverse mode: add @f_vjp(primals, out_cts) -> (outs, in_cts)",
               '@f(x) { sin x }  ==>  @f_vjp(x, ct) { (sin x, ct * cos x) }')
def vjp_pass(module, func: str):
    vjp_function(module, func)


@register_pass("grad", "add @f_grad(args) -> (outs, grads of argnums), seeding output 0 with 1",
               '@f(x) { sum(sin x) }  ==>  @f_grad(x) { (sum(sin x), cos x) }')
def grad_pass(module, func: str, argnums="0"):
    grad_function(module, func, _ints(argnums))
