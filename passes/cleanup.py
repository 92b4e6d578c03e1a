"""jx-aware cse, dce and inline (MLIR's own skip unregistered ops as side-effecting).

cse:    %1 = "jx.sin"(%0); %2 = "jx.sin"(%0)   ==>  %2 uses %1
dce:    an unused jx op is erased
inline: %r = "jx.call"(%x) {callee = @g}      ==>  g's body with %x for its argument
"""

from __future__ import annotations

from irjax.dialects.func import body_ops, find_func, func_names
from irjax.dialects.mlir import enter, ir

from .registry import register_pass


def _funcs(module, func=None):
    names = [func] if func else func_names(module)
    return [find_func(module, n) for n in names if find_func(module, n) is not None]


def _attr_key(op):
    attrs = op.attributes
    return tuple((k, str(attrs[k])) for k in sorted(attrs))


@register_pass("cse", "merge identical jx ops (same name, operands, attributes, result types)")
def cse(module, func: str | None = None):
    with enter():
        for f in _funcs(module, func):
            seen = {}
            for op in body_ops(f):
                if not op.name.startswith("jx.") or len(op.regions):
                    continue
                key = (op.name, tuple(op.operands), _attr_key(op), tuple(str(r.type) for r in op.results))
                prev = seen.get(key)
                if prev is None:
                    seen[key] = op
                    continue
                for old, new in zip(op.results, prev.results):
                    old.replace_all_uses_with(new)
                op.erase()


@register_pass("dce", "erase jx ops whose results are unused")
def dce(module, func: str | None = None):
    with enter():
        for f in _funcs(module, func):
            ops = body_ops(f)
            uses = {}
            for op in ops:
                for v in op.operands:
                    uses[v] = uses.get(v, 0) + 1
            for op in reversed(ops):
                if not op.name.startswith("jx."):
                    continue
                if all(uses.get(r, 0) == 0 for r in op.results):
                    for v in op.operands:
                        uses[v] -= 1
                    op.erase()


def inline_call(module, call_op) -> None:
    """Replace one jx.call by the callee's body."""
    callee = find_func(module, ir.FlatSymbolRefAttr(call_op.attributes["callee"]).value)
    block = callee.regions[0].blocks[0]
    env = dict(zip(list(block.arguments), list(call_op.operands)))
    with ir.InsertionPoint(call_op), call_op.location:
        for op in body_ops(callee):
            operands = [env.get(v, v) for v in op.operands]
            if op.name == "func.return":
                for old, new in zip(call_op.results, operands):
                    old.replace_all_uses_with(new)
                break
            clone = op.clone()
            for i, v in enumerate(operands):
                clone.operands[i] = v
            for old, new in zip(op.results, clone.results):
                env[old] = new
    call_op.erase()


@register_pass("inline", "inline every jx.call (repeats until none is left)")
def inline(module, func: str | None = None):
    with enter():
        for _ in range(64):
            calls = []
            for f in _funcs(module, func):
                calls += [op for op in body_ops(f) if op.name == "jx.call"]
            if not calls:
                return
            for c in calls:
                inline_call(module, c)
        raise RecursionError("inline: recursive jx.call chain")
