"""Activity analysis of control-flow callees for autodiff: which results of a body depend on
differentiated inputs (forward), which inputs reach wanted results (backward), and the loop
fixpoints over carries. Only float values are active (integer results have zero derivative)."""

from __future__ import annotations

from collections.abc import Sequence

from .func import body_ops, entry_block, find_func, op_params
from .lang import Val, is_float


def _func(module, fname: str):
    f = find_func(module, fname)
    if f is None:
        raise KeyError(f"function @{fname} not found in the module")
    return f


def _op_outputs(module, op, act: list[bool]) -> list[bool]:
    """Per result of op: may it depend on an active operand? Calls and control flow are looked
    through (the frontend wraps every loop body in a call); other ops: any operand, any result."""
    name = op.name
    if name in ("jx.call", "jx.scan", "jx.while", "jx.cond"):
        p = op_params(op)
        if name == "jx.call":
            return active_outputs(module, p["callee"], act)
        if name == "jx.cond":
            return [any(t) for t in zip(*[active_outputs(module, b, act[1:]) for b in p["branches"]])]
        if name == "jx.scan":
            nc, nk = p["num_consts"], p["num_carry"]
            ka, out = carry_active(module, p["body"], act[:nc], act[nc : nc + nk], act[nc + nk :])
            return ka + out[nk:]
        nc, nb = p["cond_nconsts"], p["body_nconsts"]
        return carry_active(module, p["body_fn"], act[nc : nc + nb], act[nc + nb :], [])[0]
    return [any(act)] * len(op.results)


def _op_live(module, op, act: list[bool], wanted: list[bool]) -> list[bool]:
    """Per operand of op: is it active and does it reach a wanted result (looked through as
    in _op_outputs)?"""
    name = op.name
    if name in ("jx.call", "jx.scan", "jx.while", "jx.cond"):
        p = op_params(op)
        if name == "jx.call":
            return live_inputs(module, p["callee"], act, wanted)
        if name == "jx.cond":
            per = [live_inputs(module, b, act[1:], wanted) for b in p["branches"]]
            return [False] + [any(t) for t in zip(*per)]
        if name == "jx.scan":
            nc, nk = p["num_consts"], p["num_carry"]
            body = p["body"]
            ka, out = carry_active(module, body, act[:nc], act[nc : nc + nk], act[nc + nk :])
            act = act[:nc] + ka + act[nc + nk :]
            kl, live = carry_live(module, body, act, nc, nk, [w and a for w, a in zip(wanted, ka + out[nk:])])
            return live[:nc] + kl + live[nc + nk :]
        nc, nb = p["cond_nconsts"], p["body_nconsts"]
        ka, _ = carry_active(module, p["body_fn"], act[nc : nc + nb], act[nc + nb :], [])
        kl, live = carry_live(
            module, p["body_fn"], act[nc : nc + nb] + ka, nb, len(ka), [w and a for w, a in zip(wanted, ka)]
        )
        return [False] * nc + live[:nb] + kl
    return list(act) if any(wanted) else [False] * len(act)


def _forward(module, fname: str, in_active: Sequence[bool]):
    """(args, active values, ops with an active operand, returned values) of @fname."""
    f = _func(module, fname)
    args = list(entry_block(f).arguments)
    active = {a for a, m in zip(args, in_active) if m and is_float(Val(a))}
    ops = []
    for op in body_ops(f):
        if op.name == "func.return":
            return args, active, ops, list(op.operands)
        act = [v in active for v in op.operands]
        if any(act):
            outs = _op_outputs(module, op, act)
            active.update(r for r, o in zip(op.results, outs) if o and is_float(Val(r)))
            ops.append((op, act))
    raise ValueError(f"@{fname} has no return")


def active_outputs(module, fname: str, in_active: Sequence[bool]) -> list[bool]:
    """Per result of @fname: may it depend on an active (float) input through float values?"""
    _, active, _, rets = _forward(module, fname, in_active)
    return [v in active for v in rets]


def live_inputs(module, fname: str, in_active: Sequence[bool], out_wanted: Sequence[bool]) -> list[bool]:
    """Per argument of @fname: is it active and does it reach a wanted result through active
    values (so that its cotangent can be nonzero)?"""
    args, active, ops, rets = _forward(module, fname, in_active)
    live = {v for v, w in zip(rets, out_wanted) if w and v in active}
    for op, act in reversed(ops):
        wanted = [r in live for r in op.results]
        if any(wanted):
            live.update(v for v, m in zip(op.operands, _op_live(module, op, act, wanted)) if m)
    return [a in live for a in args]


def carry_active(module, fname: str, pre: list[bool], carry: list[bool], post: list[bool]) -> tuple[list, list]:
    """Forward fixpoint of a loop body @fname(pre..., carry..., post...) -> (carry..., rest...):
    a carry is active if its initial value is or the body makes it depend on an active input.
    Returns (carry mask, mask of all the body's results)."""
    carry = list(carry)
    while True:
        out = active_outputs(module, fname, list(pre) + carry + list(post))
        new = [a or b for a, b in zip(carry, out[: len(carry)])]
        if new == carry:
            return carry, out
        carry = new


def carry_live(
    module, fname: str, in_active: list[bool], n_pre: int, nk: int, out_wanted: list[bool]
) -> tuple[list, list]:
    """Backward fixpoint of a loop body @fname(n_pre values, nk carries, ...) -> (nk carries,
    ...): the carries that need cotangents grow from the wanted carry results by every carry
    whose input reaches a wanted result (its cotangent flows to the previous iteration's
    output). Returns (carry mask, live mask of the body's arguments)."""
    k = list(out_wanted[:nk])
    while True:
        live = live_inputs(module, fname, in_active, k + list(out_wanted[nk:]))
        new = [a or b for a, b in zip(k, live[n_pre : n_pre + nk])]
        if new == k:
            return k, live
        k = new
