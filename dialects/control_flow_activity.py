"""Activity analysis of control-flow callees for autodiff: which results of a body depend on
differentiated inputs (forward), which inputs reach wanted results (backward), and the loop
fixpoints over carries. Only float values are active (integer results have zero derivative)."""

from __future__ import annotations

from collections.abc import Sequence

from .func import body_ops, entry_block, find_func
from .lang import Val, is_float


def _forward(module, fname: str, in_active: Sequence[bool]):
    """(args, active values, ops with an active operand, returned values) of @fname. A call
    inside counts as depending on all its operands (conservative: a superset stays correct)."""
    f = find_func(module, fname)
    if f is None:
        raise KeyError(f"function @{fname} not found in the module")
    args = list(entry_block(f).arguments)
    active = {a for a, m in zip(args, in_active) if m and is_float(Val(a))}
    ops = []
    for op in body_ops(f):
        if op.name == "func.return":
            return args, active, ops, list(op.operands)
        if any(v in active for v in op.operands):
            active.update(r for r in op.results if is_float(Val(r)))
            ops.append(op)
    raise ValueError(f"@{fname} has no return")


def active_outputs(module, fname: str, in_active: Sequence[bool]) -> list[bool]:
    """Per result of @fname: does it depend on an active (float) input through float values?"""
    _, active, _, rets = _forward(module, fname, in_active)
    return [v in active for v in rets]


def live_inputs(module, fname: str, in_active: Sequence[bool], out_wanted: Sequence[bool]) -> list[bool]:
    """Per argument of @fname: is it active and does it reach a wanted result through active
    values (so that its cotangent can be nonzero)?"""
    args, active, ops, rets = _forward(module, fname, in_active)
    live = {v for v, w in zip(rets, out_wanted) if w and v in active}
    for op in reversed(ops):
        if any(r in live for r in op.results):
            live.update(v for v in op.operands if v in active)
    return [a in live for a in args]


def carry_active(module, fname: str, pre: list[bool], carry: list[bool], post: list[bool]) -> tuple[list, list]:
    """Forward fixpoint of a loop body @fname(pre..., carry..., post...) -> (carry..., rest...):
    a carry is active if its initial value is or the body makes it depend on an active input.
    Returns (carry mask, mask of all the body's results)."""
    carry = list(carry)
    while True:
        out = active_outputs(module, fname, pre + carry + post)
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
