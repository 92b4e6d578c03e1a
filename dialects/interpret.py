"""A reference interpreter: run a jx function on NumPy arrays with each op's `impl`.

    evaluate(module, "f", [np.ones(3, np.float32)]) -> [ndarray, ...]

Call-like ops (records with `callee_attrs`) get a `_call(fname, args)` hook to evaluate the
functions they name. The test oracle for the IR itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import registry
from .builder import aval
from .func import body_ops, entry_block, find_func, op_params


def _effects() -> frozenset:
    return frozenset("jx." + n for n in registry.tagged(registry.EFFECT))


def evaluate(module, fname: str, args: Sequence, quiet: bool = False) -> list[np.ndarray]:
    """quiet: leave out effect ops without results (a debug print), as a look-ahead must."""
    f = find_func(module, fname)
    if f is None:
        raise KeyError(f"function @{fname} not found in the module")
    env = {a: np.asarray(x, aval(a).dtype) for a, x in zip(entry_block(f).arguments, args)}
    out = _run(module, body_ops(f), env, quiet=quiet)
    if out is None:
        raise ValueError(f"@{fname} has no return")
    return out


def evaluate_partial(module, func_op, args: Sequence, want) -> np.ndarray:
    """The value of `want` in a function still being built (no return yet): runs its ops in
    order until `want` is computed. Lets eager grad branch in Python on values it knows; the
    program runs for real later, so its debug prints are left out here."""
    env = {a: np.asarray(x, aval(a).dtype) for a, x in zip(entry_block(func_op).arguments, args)}
    if want in env:
        return env[want]
    _run(module, body_ops(func_op), env, want, quiet=True)
    return env[want]


def _run(module, ops, env, want=None, quiet=False):
    def call(name, xs):
        return evaluate(module, name, xs, quiet)

    for op in ops:
        if quiet and not op.results and op.name in _effects():
            continue
        xs = [env[v] for v in op.operands]
        if op.name == "func.return":
            return [np.asarray(x) for x in xs]
        prim = registry.get(op.name)
        if prim.impl is None:
            raise NotImplementedError(f"{op.name} has no reference implementation")
        params = op_params(op)
        if prim.calls:
            params["_call"] = call
        out = prim.impl(*xs, **params)
        outs = list(out) if prim.multiple_results else [out]
        for r, o in zip(op.results, outs):
            env[r] = np.asarray(o, aval(r).dtype).reshape(aval(r).shape)
        if want is not None and want in env:
            return None
    return None
