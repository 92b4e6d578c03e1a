"""Zero-size tensors never reach IREE: every lowering rule is wrapped so that an op whose
results are all zero-size lowers to constants, and an op that makes a non-empty result out
of a zero-size operand (a sum over an empty axis, a dot over an empty contraction) lowers
to what that result must be. IREE 3.13 dies with SIGFPE compiling such dispatches.
"""

from __future__ import annotations

import numpy as np

from . import hlo
from .registry import Primitive, _REGISTRY, register_hooks

_IDENTITY_KIND = {
    "reduce_sum": "sum",
    "reduce_prod": "prod",
    "reduce_max": "max",
    "reduce_min": "min",
    "reduce_and": "and",
    "reduce_or": "or",
}


def _fill(out, value):
    return hlo.broadcast(hlo.constant(np.array(value, out.dtype)), out.shape, ())


def _reduction(ctx, x, **params):
    out = ctx.out_avals[0]
    return _fill(out, hlo.reducer_identity(_IDENTITY_KIND[ctx.op.name[3:]], out.dtype))


def _dot_general(ctx, a, b, **params):
    return _fill(ctx.out_avals[0], 0)  # an empty contraction sums nothing


def _unchanged_operand(ctx, x, *rest, **params):
    return x  # scatter / dynamic_update_slice of nothing


def _concatenate(ctx, *xs, dimension):
    kept = [x for x, a in zip(xs, ctx.in_avals) if a.size]
    if len(kept) == 1:
        return kept[0]
    return hlo.op1("stablehlo.concatenate", kept, ctx.out_avals[0], {"dimension": hlo.attr(f"{dimension} : i64")})


def _pad(ctx, x, pv, padding_config):
    out = ctx.out_avals[0]
    return hlo.broadcast(pv, out.shape, ())  # nothing of x survives: all padding


# op -> rule for a non-empty result with a zero-size operand (operand index that matters)
_NONEMPTY_FROM_EMPTY = {
    **{name: (_reduction, (0,)) for name in _IDENTITY_KIND},
    "dot_general": (_dot_general, (0, 1)),
    "scatter": (_unchanged_operand, (1, 2)),
    "dynamic_update_slice": (_unchanged_operand, (1,)),
    "concatenate": (_concatenate, None),
    "pad": (_pad, (0,)),
}


def _guard(prim: Primitive) -> None:
    lower = prim.lower
    if lower is None or getattr(lower, "_zero_size_guarded", False):
        return
    special = _NONEMPTY_FROM_EMPTY.get(prim.name)

    def guarded(ctx, *operands, **params):
        outs = ctx.out_avals
        if outs and all(o.size == 0 for o in outs):
            vals = [hlo.constant(np.zeros(o.shape, o.dtype)) for o in outs]
            return vals if prim.multiple_results else vals[0]
        if special is not None:
            rule, which = special
            ins = ctx.in_avals if which is None else [ctx.in_avals[i] for i in which if i < len(ctx.in_avals)]
            if any(a.size == 0 for a in ins):
                return rule(ctx, *operands, **params)
        return lower(ctx, *operands, **params)

    guarded._zero_size_guarded = True
    prim.lower = guarded


for _prim in list(_REGISTRY.values()):
    _guard(_prim)
register_hooks.append(_guard)
