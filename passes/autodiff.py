"""Autodiff passes: jvp (forward mode), vjp (reverse mode) and grad, over jx functions.

jvp{func=f}:  adds @f_jvp(primals..., tangents...) -> (outs..., out_tangents...)
vjp{func=f}:  adds @f_vjp(primals..., out_cts...)  -> (outs..., in_cts...)
grad{func=f argnums=0}: adds @f_grad_0(args...) -> (outs..., grads of argnums...),
              seeding the first output (a float scalar) with 1.

Each is a step function per op over the generic walker (transform.py), with rules from the
op's record; call-like ops transform their callees, so the outputs are plain jx and can be
transformed again. Reverse mode re-runs the forward sweep inside @f_vjp (no tape across
functions), which keeps each function self-contained.
"""

from __future__ import annotations

from irjax.dialects import registry
from irjax.dialects.calls import call
from irjax.dialects.func import body_ops, entry_block, op_params, reemit
from irjax.dialects.lang import Val, full, is_float, zeros, zeros_like

from .registry import REQUIRED, Example, Option, register_pass
from .transform import TRANSFORMS, Ctx, derive, source, walk_backward, walk_forward


def _rule(op, kind: str):
    prim = registry.get(op.name)
    rule = getattr(prim, kind)
    if rule is None:
        mode = "forward-mode" if kind == "jvp" else "reverse-mode"
        raise NotImplementedError(f"{mode} differentiation of {op.name} is not implemented")
    return prim, rule


def _jvp_step(module, op, ins):
    """[(primal, tangent or None)] of op's results from its operands'."""
    primals = [p for p, _ in ins]
    tangents = [t for _, t in ins]
    if all(t is None for t in tangents):
        return [(Val(r), None) for r in reemit(op, [p.v for p in primals])]
    prim, rule = _rule(op, "jvp")
    ctx = (Ctx(module, op),) if prim.calls else ()
    outs, touts = rule(*ctx, primals, tangents, **op_params(op))
    return [(o, t if (t is not None and is_float(o)) else None) for o, t in zip(outs, touts)]


def jvp_function(module, fname: str, wrt: tuple | None = None) -> str:
    """Forward mode: @f -> @f_jvp (memoized per module by (f, "jvp")); returns its name.
    wrt: which arguments have tangents (default all): @f_jvp then takes tangents for those
    only, and ops that depend on none of them are not differentiated (output tangents that
    depend on none are zeros)."""
    f, ins, outs = source(module, fname)
    wanted = tuple(bool(w) for w in wrt) if wrt is not None else (True,) * len(ins)
    t_avals = [a for a, w in zip(ins, wanted) if w]

    def body(*args):
        n = len(ins)
        tans = iter(args[n:])
        env = {}
        for s, p, a, w in zip(entry_block(f).arguments, args[:n], ins, wanted):
            t = next(tans) if w else None
            env[s] = (Val(p), Val(t) if t is not None and is_float(a) else None)
        rets = [env[v] for v in walk_forward(body_ops(f), env, lambda op, xs: _jvp_step(module, op, xs))]
        return [p for p, _ in rets] + [t if t is not None else zeros(a) for (_, t), a in zip(rets, outs)]

    key = (fname, "jvp") + (("wrt", wanted) if not all(wanted) else ())
    return derive(module, key, f"{fname}_jvp", ins + t_avals, body)


def _vjp_forward(module, op, in_v):
    """The forward sweep: (outs, residuals) from the record's vjp_fwd, or the op itself."""
    prim = registry.get(op.name)
    if prim.vjp_fwd is not None:
        return prim.vjp_fwd(Ctx(module, op), in_v, **op_params(op))
    return [Val(r) for r in reemit(op, [x.v for x in in_v])], []


def _vjp_step(module, entry, out_cts, active=None):
    op, in_v, out_v, residuals = entry
    prim, rule = _rule(op, "vjp")
    # call-like rules see which cotangents are zero (None) and which operands need cotangents
    if prim.calls:
        wanted = None if active is None else tuple(v in active for v in op.operands)
        in_cts = rule(Ctx(module, op, active_operands=wanted), out_cts, in_v, out_v, residuals, **op_params(op))
        if wanted is not None:
            in_cts = [c if w else None for c, w in zip(in_cts, wanted)]
    else:
        full_cts = [c if c is not None else zeros_like(o) for c, o in zip(out_cts, out_v)]
        in_cts = rule(full_cts, in_v, out_v, **op_params(op))
    out = []
    for x, c in zip(in_v, in_cts):
        if c is None or not is_float(x):
            out.append(None)
            continue
        if c.aval != x.aval:  # a wrong rule would otherwise surface as an IREE error
            raise ValueError(
                f"vjp rule of {op.name} returned a cotangent of type {c.aval.str_short()} "
                f"for an operand of type {x.aval.str_short()}"
            )
        out.append(c)
    return out


def vjp_function(
    module, fname: str, ct_mask: tuple | None = None, replay: bool = False, wrt: tuple | None = None
) -> str:
    """Reverse mode: @f -> @f_vjp taking cotangents for the outputs where ct_mask is True.
    replay=True: the forward sweep inside re-runs a forward that already ran (a call-like op's
    vjp_fwd, the user's vjp), so effects (registry.EFFECT: debug prints) are left out of it
    and happen once, as in JAX. Calls inside it still run their callees' effects again.
    wrt: which arguments need cotangents (default all): @f_vjp returns cotangents for those
    only, and ops that do not depend on a wanted argument are not differentiated (a
    custom_jvp rule's coefficient digamma(x) needs no derivative when only the rule's
    tangents are transposed)."""
    f, ins, outs = source(module, fname)
    mask = tuple(bool(m) for m in (ct_mask if ct_mask is not None else [True] * len(outs)))
    base = f"{fname}_vjp" if all(mask) else f"{fname}_vjp_" + "".join("1" if m else "0" for m in mask)
    effects = registry.tagged(registry.EFFECT) if replay else frozenset()
    wanted = tuple(bool(w) for w in wrt) if wrt is not None else (True,) * len(ins)
    src_args = list(entry_block(f).arguments)

    def body(*args):
        n = len(ins)
        tape = []  # the ops that depend on a wanted argument (the only ones differentiated)
        active = {s for s, w in zip(src_args, wanted) if w}

        def forward(op, in_v):
            if not len(op.results) and op.name.startswith("jx.") and op.name[3:] in effects:
                return []  # a debug callback: it ran in the forward that this one replays
            if not any(v in active for v in op.operands):
                # depends on no wanted argument: run as is (no residuals: a scan stacks no carries)
                return [Val(r) for r in reemit(op, [x.v for x in in_v])]
            active.update(op.results)
            out_v, residuals = _vjp_forward(module, op, in_v)
            tape.append((op, in_v, out_v, residuals))
            return out_v

        env = {s: Val(a) for s, a in zip(src_args, args[:n])}
        rets = walk_forward(body_ops(f), env, forward)
        cts = {}
        seeds = iter(args[n:])
        for v, a, m in zip(rets, outs, mask):
            c = Val(next(seeds)) if m else None
            if c is not None and is_float(a):
                cts[v] = c if cts.get(v) is None else cts[v] + c

        walk_backward(tape, cts, lambda e, c: _vjp_step(module, e, c, active))
        grads = [cts.get(s) if cts.get(s) is not None else zeros(a) for s, a, w in zip(src_args, ins, wanted) if w]
        return [env[v] for v in rets] + grads

    ct_avals = [a for a, m in zip(outs, mask) if m]
    key = (fname, "vjp", mask) + (("replay",) if replay else ()) + (("wrt", wanted) if not all(wanted) else ())
    return derive(module, key, base, ins + ct_avals, body)


def grad_function(module, fname: str, argnums=(0,)) -> str:
    """@f_grad(args) -> (outs..., d out0 / d args[argnums]...); out0 must be a float scalar."""
    argnums = tuple(argnums)
    _, ins, outs = source(module, fname)
    if not outs or outs[0].shape != () or not is_float(outs[0]):
        got = outs[0].str_short() if outs else "nothing"
        raise TypeError(f"Gradient only defined for scalar-output functions. Output had shape: {got}")
    for i in argnums:
        if not 0 <= i < len(ins):
            raise ValueError(f"grad: argnum {i} out of range for @{fname} with {len(ins)} arguments")
    wrt = tuple(i in argnums for i in range(len(ins)))  # the other arguments get no cotangents
    vname = vjp_function(module, fname, (True,) + (False,) * (len(outs) - 1), wrt=wrt)

    def body(*args):
        res = call(vname, list(args) + [full((), 1, outs[0].dtype)], outs + [a for a, w in zip(ins, wrt) if w])
        k = len(outs)
        at = {i: k + j for j, i in enumerate(sorted(set(argnums)))}
        return res[:k] + [res[at[i]] for i in argnums]

    base = f"{fname}_grad_" + "_".join(map(str, argnums))
    return derive(module, (fname, "grad", argnums), base, ins, body)


TRANSFORMS["jvp"] = jvp_function
TRANSFORMS["vjp"] = vjp_function

_FUNC = Option("func", "symbol", REQUIRED, "the function to transform")
_SIN = """func.func @f(%x: tensor<3xf32>) -> tensor<f32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.reduce_sum"(%0) {axes = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  return %1 : tensor<f32>
}"""


@register_pass(
    "jvp",
    "forward mode: add @f_jvp(primals, tangents) -> (outs, out_tangents)",
    Example(
        "jvp{func=f}",
        _SIN,
        (
            "func.func @f_jvp(%arg0: tensor<3xf32>, %arg1: tensor<3xf32>)",
            '"jx.cos"(%arg0)',
            '"jx.mul"(%arg1,',
        ),
    ),
    options=(_FUNC,),
)
def jvp_pass(module, func: str):
    jvp_function(module, func)


@register_pass(
    "vjp",
    "reverse mode: add @f_vjp(primals, out_cts) -> (outs, in_cts)",
    Example(
        "vjp{func=f}",
        _SIN,
        (
            "func.func @f_vjp(%arg0: tensor<3xf32>, %arg1: tensor<f32>)",
            '"jx.cos"(%arg0)',
        ),
    ),
    options=(_FUNC,),
)
def vjp_pass(module, func: str):
    vjp_function(module, func)


@register_pass(
    "grad",
    "add @f_grad_<argnums>(args) -> (outs, grads of argnums), seeding output 0 with 1",
    Example(
        "grad{func=f}",
        _SIN,
        (
            "func.func @f_grad_0(%arg0: tensor<3xf32>) -> (tensor<f32>, tensor<3xf32>)",
            "{callee = @f_vjp}",
        ),
    ),
    options=(
        _FUNC,
        Option("argnums", "ints", (0,), "which arguments to differentiate"),
    ),
)
def grad_pass(module, func: str, argnums=(0,)):
    grad_function(module, func, argnums)
