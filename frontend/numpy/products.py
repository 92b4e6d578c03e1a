"""Products: dot, matmul, vdot, inner, outer, tensordot, einsum."""

from __future__ import annotations

import numpy as np

from irjax.core import bind

from ._util import asarray_any, broadcast_to, canonical_axis, with_weak
from ._util import promote as _promote


def _promote_pair(a, b):
    from irjax import dtypes
    from ._util import convert

    dt, weak = dtypes.result_type(a, b, return_weak_type_flag=True)
    if dt == np.bool_:
        dt = np.dtype(np.int32)
    return convert(asarray_any(a), dt), convert(asarray_any(b), dt), weak


def _dot_general(a, b, contract, batch=((), ())):
    ca, cb = tuple(a.shape[i] for i in contract[0]), tuple(b.shape[i] for i in contract[1])
    if ca != cb:  # JAX's error for mismatched contracting dims
        raise TypeError(f"dot_general requires contracting dimensions to have the same shape, got {ca} and {cb}.")
    return bind(
        "dot_general", a, b,
        lhs_contracting=tuple(contract[0]), rhs_contracting=tuple(contract[1]),
        lhs_batch=tuple(batch[0]), rhs_batch=tuple(batch[1]),
    )


def dot(a, b, *, precision=None, preferred_element_type=None):
    a, b, weak = _promote_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim == 1:
        return with_weak(_dot_general(a, b, ((a.ndim - 1,), (0,))), weak)
    return with_weak(_dot_general(a, b, ((a.ndim - 1,), (b.ndim - 2,))), weak)


def matmul(a, b, *, precision=None, preferred_element_type=None):
    a, b, weak = _promote_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: inputs must have at least one dimension")
    va, vb = a.ndim == 1, b.ndim == 1
    if va:
        a = a.reshape((1,) + a.shape)
    if vb:
        b = b.reshape(b.shape + (1,))
    if a.shape[-1] != b.shape[-2]:
        raise TypeError(f"dot_general requires contracting dimensions to have the same shape, got {(a.shape[-1],)} and {(b.shape[-2],)}.")
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = broadcast_to(a, batch + a.shape[-2:])
    b = broadcast_to(b, batch + b.shape[-2:])
    nb = len(batch)
    out = _dot_general(a, b, ((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb))))
    if va:
        out = out.reshape(out.shape[:-2] + out.shape[-1:])
    if vb:
        out = out.reshape(out.shape[:-1])
    return with_weak(out, weak)


def vdot(a, b, *, precision=None):
    return dot(asarray_any(a).ravel(), asarray_any(b).ravel())


def inner(a, b, *, precision=None):
    a, b, weak = _promote_pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return with_weak(_dot_general(a, b, ((a.ndim - 1,), (b.ndim - 1,))), weak)


def outer(a, b, out=None):
    a, b, weak = _promote_pair(a, b)
    a, b = a.ravel(), b.ravel()
    return a.reshape((a.shape[0], 1)) * b.reshape((1, b.shape[0]))


def tensordot(a, b, axes=2, *, precision=None):
    a, b, weak = _promote_pair(a, b)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        ca, cb = tuple(range(a.ndim - n, a.ndim)), tuple(range(n))
    else:
        ax_a, ax_b = axes
        ca = (ax_a,) if isinstance(ax_a, int) else tuple(ax_a)
        cb = (ax_b,) if isinstance(ax_b, int) else tuple(ax_b)
        ca = tuple(canonical_axis(x, a.ndim) for x in ca)
        cb = tuple(canonical_axis(x, b.ndim) for x in cb)
    return with_weak(_dot_general(a, b, (ca, cb)), weak)


def _parse_einsum(subscripts, ops):
    """Subscripts -> (terms, out) with each '...' spelled as fresh labels (right-aligned)."""
    import string

    subscripts = subscripts.replace(" ", "")
    ins, arrow, out = subscripts.partition("->")
    terms = ins.split(",")
    if len(terms) != len(ops):
        raise ValueError(f"einsum: {len(terms)} operand subscripts for {len(ops)} operands")
    used = set(subscripts) - set(".,->")
    free = [c for c in string.ascii_letters if c not in used]
    n_ell = 0
    for t, op in zip(terms, ops):
        if "..." in t:
            n_ell = max(n_ell, op.ndim - (len(t) - 3))
        elif len(t) != op.ndim:
            raise ValueError(f"einsum: subscripts {t!r} do not match an operand of rank {op.ndim}")
    ell = "".join(free[:n_ell])
    terms = [t.replace("...", ell[n_ell - (op.ndim - (len(t) - 3)):]) if "..." in t else t for t, op in zip(terms, ops)]
    if arrow:
        out = out.replace("...", ell)
    else:  # implicit output: broadcast dims, then the labels seen once, alphabetically
        counts = {}
        for ch in "".join(terms):
            counts[ch] = counts.get(ch, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return terms, out


def einsum(subscripts, *operands, optimize=None, precision=None, preferred_element_type=None):
    """einsum by pairwise contraction (left to right) with dot_general."""
    if not isinstance(subscripts, str):
        raise TypeError("irjax.numpy.einsum needs a subscripts string")
    from irjax import dtypes
    from ._util import convert

    ops = [asarray_any(o) for o in operands]
    terms, out = _parse_einsum(subscripts, ops)
    dt = dtypes.result_type(*ops)
    ops = [convert(o, dt) for o in ops]
    # broadcast size-1 axes against the other operands' sizes for the same label
    sizes = {}
    for t, op in zip(terms, ops):
        for c, d in zip(t, op.shape):
            if sizes.get(c, 1) not in (1, d) and d != 1:
                raise ValueError(f"einsum: label {c!r} has sizes {sizes[c]} and {d}")
            sizes[c] = max(sizes.get(c, 1), d)
    ops = [broadcast_to(op, tuple(sizes[c] for c in t)) for t, op in zip(terms, ops)]
    cur, cur_t = _diag_and_sum(ops[0], terms[0], out, terms[1:])
    for i, (op, t) in enumerate(zip(ops[1:], terms[1:])):
        rest = terms[i + 2 :]
        op, t = _diag_and_sum(op, t, out + cur_t, rest)
        keep = set(out) | set("".join(rest))
        batch = [c for c in cur_t if c in t and c in keep]
        contract = [c for c in cur_t if c in t and c not in keep]
        res = _dot_general(
            cur, op,
            (tuple(cur_t.index(c) for c in contract), tuple(t.index(c) for c in contract)),
            (tuple(cur_t.index(c) for c in batch), tuple(t.index(c) for c in batch)),
        )
        cur_t = "".join(batch) + "".join(c for c in cur_t if c not in batch and c not in contract) + "".join(
            c for c in t if c not in batch and c not in contract
        )
        cur = res
    cur, cur_t = _diag_and_sum(cur, cur_t, out, [])
    from .shape import transpose

    return transpose(cur, tuple(cur_t.index(c) for c in out))


def _diag_and_sum(x, t, out, rest):
    """Take diagonals for labels repeated within t, then sum out labels used nowhere else."""
    from .reductions import sum as _sum

    while len(set(t)) != len(t):
        c = next(ch for ch in t if t.count(ch) > 1)
        i = t.index(c)
        j = t.index(c, i + 1)
        from .creation import eye
        from .ufuncs import where

        n = x.shape[i]
        mask = broadcast_to(
            bind("broadcast_in_dim", eye(n, dtype=bool), shape=x.shape, broadcast_dimensions=(i, j)), x.shape
        )
        x = _sum(where(mask, x, 0), axis=j)
        t = t[:j] + t[j + 1 :]
    others = set(out) | set("".join(rest))
    drop = [i for i, c in enumerate(t) if c not in others]
    if drop:
        x = _sum(x, axis=tuple(drop))
        t = "".join(c for i, c in enumerate(t) if i not in drop)
    return x, t
