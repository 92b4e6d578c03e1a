"""Zero-size tensors kept from IREE 3.13, which dies with SIGFPE on some: every lowering is
wrapped (`guard`, applied by lower-stablehlo) so all-empty results become constants, and the ops that make a non-empty result from
an empty operand (reductions, dot_general, scatter, concatenate, pad, scan) lower to its value.
"""

from __future__ import annotations

import numpy as np

from . import hlo
from .registry import Primitive

_IDENTITY_KIND = {
    "reduce_sum": "sum",
    "reduce_prod": "prod",
    "reduce_max": "max",
    "reduce_min": "min",
    "reduce_and": "and",
    "reduce_or": "or",
}


def _fill(out, value):
    return hlo.splat(value, out.dtype, out.shape)


def _empty(ctx, *which):
    return any(ctx.in_avals[i].size == 0 for i in which if i < len(ctx.in_avals))


# Rules for a non-empty result that may come from a zero-size operand: each returns the
# lowered result(s), or None when its operands are not empty (the op's own rule runs).


def _reduction(ctx, x, **params):
    if not _empty(ctx, 0):
        return None
    out = ctx.out_avals[0]
    return _fill(out, hlo.reducer_identity(_IDENTITY_KIND[ctx.op.name[3:]], out.dtype))


def _dot_general(ctx, a, b, **params):
    return _fill(ctx.out_avals[0], 0) if _empty(ctx, 0, 1) else None  # sums nothing


def _scatter(ctx, x, idx, upd, **params):
    return x if _empty(ctx, 1, 2) else None  # no updates


def _dynamic_update_slice(ctx, x, upd, *starts):
    return x if _empty(ctx, 1) else None


def _concatenate(ctx, *xs, dimension):
    kept = [x for x, a in zip(xs, ctx.in_avals) if a.size]
    if len(kept) == len(xs):
        return None
    if len(kept) == 1:
        return kept[0]
    return hlo.op1("stablehlo.concatenate", kept, ctx.out_avals[0], {"dimension": hlo.attr(f"{dimension} : i64")})


def _pad(ctx, x, pv, padding_config):
    return hlo.broadcast(pv, ctx.out_avals[0].shape, ()) if _empty(ctx, 0) else None  # all padding


def _scan(ctx, *args, length, num_consts, num_carry, **params):
    if length != 0:
        return None
    # no steps: the carry comes out as it went in, the stacked ys are empty
    ys = [hlo.constant(np.zeros(o.shape, o.dtype)) for o in ctx.out_avals[num_carry:]]
    return list(args[num_consts : num_consts + num_carry]) + ys


_NONEMPTY_FROM_EMPTY = {
    **{name: _reduction for name in _IDENTITY_KIND},
    "dot_general": _dot_general,
    "scatter": _scatter,
    "dynamic_update_slice": _dynamic_update_slice,
    "concatenate": _concatenate,
    "pad": _pad,
    "scan": _scan,
}


def guard(prim: Primitive, lower):
    """`lower` (a lowering of `prim`) with the zero-size cases in front of it; None stays None.
    Applied where lowerings run (passes/lower_stablehlo.py), so the record itself is untouched."""
    if lower is None:
        return None
    special = _NONEMPTY_FROM_EMPTY.get(prim.name)

    def guarded(ctx, *operands, **params):
        outs = ctx.out_avals
        if outs and all(o.size == 0 for o in outs):
            vals = [hlo.constant(np.zeros(o.shape, o.dtype)) for o in outs]
            return vals if prim.multiple_results else vals[0]
        if special is not None:
            out = special(ctx, *operands, **params)
            if out is not None:
                return out
        return lower(ctx, *operands, **params)

    guarded._zero_size_guarded = True  # (tests check every applied lowering carries it)
    return guarded
