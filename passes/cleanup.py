"""jx-aware cse, dce and inline (MLIR's own skip unregistered ops as side-effecting).

cse:    %1 = "jx.sin"(%0); %2 = "jx.sin"(%0)   ==>  %2 uses %1
dce:    an unused jx op is erased
inline: %r = "jx.call"(%x) {callee = @g}      ==>  g's body with %x for its argument
"""

from __future__ import annotations

from irjax.dialects import registry
from irjax.dialects.func import CALL_OP, body_ops, callee_of, callees_of, entry_block, top_funcs
from irjax.dialects.mlir import enter, ir

from .registry import Example, Option, register_pass

_FUNC = Option("func", "symbol", None, "only this function (default: all)")
_F = """func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  %2 = "jx.add"(%0, %1) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %3 = "jx.cos"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %2 : tensor<3xf32>
}"""


def _funcs(module, func=None):
    funcs = top_funcs(module)
    if func is None:
        return list(funcs.values())
    if func not in funcs:
        raise KeyError(f"function @{func} not found in the module")
    return [funcs[func]]


def _attr_key(op):
    attrs = op.attributes
    return tuple((k, str(attrs[k])) for k in sorted(attrs))


class _Effects:
    """Which ops must stay and stay apart: EFFECT-tagged ones (registry.EFFECT), and calls of
    functions that contain one, directly or through their own calls (worked out on first ask)."""

    def __init__(self, module):
        self.module = module
        self.ops = frozenset("jx." + n for n in registry.tagged(registry.EFFECT))
        self._funcs = None

    def _effectful_funcs(self) -> set:
        calls, marked = {}, set()
        for name, f in top_funcs(self.module).items():
            calls[name] = set()
            for op in body_ops(f):
                if op.name in self.ops:
                    marked.add(name)
                calls[name].update(callees_of(op))
        changed = True
        while changed:
            changed = False
            for name, callees in calls.items():
                if name not in marked and callees & marked:
                    marked.add(name)
                    changed = True
        return marked

    def __call__(self, op) -> bool:
        if op.name in self.ops:
            return True
        callees = callees_of(op)
        if not callees:
            return False
        if self._funcs is None:
            self._funcs = self._effectful_funcs()
        return any(c in self._funcs for c in callees)


@register_pass(
    "cse",
    "merge identical jx ops (same name, operands, attributes, result types)",
    Example("cse", _F, ('%0 = "jx.sin"(%arg0)', '"jx.add"(%0, %0)')),
    options=(_FUNC,),
)
def cse(module, func: str | None = None):
    with enter():
        effect = _Effects(module)
        for f in _funcs(module, func):
            seen = {}
            for op in body_ops(f):
                if not op.name.startswith("jx.") or len(op.regions):
                    continue
                key = (
                    op.name,
                    tuple(op.operands),
                    _attr_key(op),
                    tuple(str(r.type) for r in op.results),
                )
                prev = seen.get(key)
                # (an identical op has the same effects: asked only of would-be merges, not every op)
                if prev is None or effect(op):
                    seen.setdefault(key, op)
                    continue
                for old, new in zip(op.results, prev.results):
                    old.replace_all_uses_with(new)
                op.erase()


@register_pass(
    "dce",
    "erase jx ops whose results are unused",
    Example("dce", _F, ('"jx.add"', "return")),
    options=(_FUNC,),
)
def dce(module, func: str | None = None):
    with enter():
        effect = _Effects(module)
        for f in _funcs(module, func):
            ops = body_ops(f)
            uses = {}
            for op in ops:
                for v in op.operands:
                    uses[v] = uses.get(v, 0) + 1
            for op in reversed(ops):
                if not op.name.startswith("jx."):
                    continue
                if all(uses.get(r, 0) == 0 for r in op.results) and not effect(op):
                    for v in op.operands:
                        uses[v] -= 1
                    op.erase()


class _Inliner:
    """Splices callee bodies at a call, expanding nested calls with an explicit stack (a chain
    of 800 calls is 800 frames deep). Each function's body is listed once (`body_walks`), so
    inlining costs one clone per op of the output: the old pass re-listed functions and
    re-inlined half-expanded bodies round after round (quadratic on call chains)."""

    def __init__(self, funcs: dict):
        self.funcs = funcs
        self.bodies: dict[str, list] = {}
        self.body_walks = 0

    def body(self, name):
        b = self.bodies.get(name)
        if b is None:
            if name not in self.funcs:
                raise KeyError(f"inline: callee @{name} not found in the module")
            b = self.bodies[name] = body_ops(self.funcs[name])
            self.body_walks += 1
        return b

    def splice(self, name: str, operands: list) -> list:
        """Clone @name's body (calls expanded) at the insertion point; returns its results."""
        args = list(entry_block(self.funcs[name]).arguments) if name in self.funcs else []
        frames = [(iter(self.body(name)), dict(zip(args, operands)), None)]
        while True:
            it, env, ret = frames[-1]
            op = next(it)
            operands = [env.get(v, v) for v in op.operands]
            if op.name == "func.return":
                frames.pop()
                if not frames:
                    return operands
                caller_env, call = ret
                caller_env.update(zip(call.results, operands))
            elif op.name == CALL_OP:
                if len(frames) > len(self.funcs):
                    raise RecursionError("inline: recursive jx.call chain")
                callee = callee_of(op)
                body = self.body(callee)
                c_args = entry_block(self.funcs[callee]).arguments
                frames.append((iter(body), dict(zip(c_args, operands)), (env, op)))
            else:
                clone = op.clone()
                for i, v in enumerate(operands):
                    clone.operands[i] = v
                env.update(zip(op.results, clone.results))

    def inline_into(self, name: str) -> None:
        for op in self.body(name):
            if op.name != CALL_OP:
                continue
            with ir.InsertionPoint(op), op.location:
                results = self.splice(callee_of(op), list(op.operands))
            for old, new in zip(op.results, results):
                old.replace_all_uses_with(new)
            op.erase()
        self.bodies.pop(name, None)


def _callees_first(inl: _Inliner, roots) -> list[str]:
    """Functions in post-order of the call graph (callees before callers), iteratively."""
    order, state = [], {}
    for root in roots:
        if root in state:
            continue
        state[root] = "open"
        stack = [(root, iter([op for op in inl.body(root) if op.name == CALL_OP]))]
        while stack:
            name, calls = stack[-1]
            op = next(calls, None)
            if op is None:
                stack.pop()
                state[name] = "done"
                order.append(name)
                continue
            c = callee_of(op)
            if state.get(c) == "open":
                raise RecursionError("inline: recursive jx.call chain")
            if c not in state:
                state[c] = "open"
                stack.append((c, iter([o for o in inl.body(c) if o.name == CALL_OP])))
    return order


_INLINE_EX = """func.func @g(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.exp"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.call"(%x) {callee = @g} : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}"""


@register_pass(
    "inline",
    "inline every jx.call, recursively (func=f: only into @f)",
    Example("inline{func=f}", _INLINE_EX, ("func.func @f(", '"jx.exp"(%arg0)', "return")),
    options=(_FUNC,),
)
def inline(module, func: str | None = None) -> _Inliner:
    """Callees are inlined before their callers, so every splice copies an already flat body."""
    with enter():
        funcs = top_funcs(module)
        inl = _Inliner(funcs)
        if func is not None:
            if func not in funcs:
                raise KeyError(f"function @{func} not found in the module")
            _callees_first(inl, [func])  # only to reject recursion before touching the IR
            inl.inline_into(func)
        else:
            for name in _callees_first(inl, list(funcs)):
                inl.inline_into(name)
    return inl
