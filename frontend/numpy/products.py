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


def einsum(subscripts, *operands, optimize=None, precision=None, preferred_element_type=None):
    """einsum by pairwise contraction (left to right) with dot_general."""
    if not isinstance(subscripts, str):
        raise TypeError("irjax.numpy.einsum needs a subscripts string")
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        ins, out = subscripts.split("->")
    else:
        ins = subscripts
        counts = {}
        for ch in ins.replace(",", ""):
            counts[ch] = counts.get(ch, 0) + 1
        out = "".join(sorted(c for c, n in counts.items() if n == 1))
    terms = ins.split(",")
    if len(terms) != len(operands):
        raise ValueError("einsum: number of operands does not match the subscripts")
    if "." in subscripts:
        raise NotImplementedError("einsum with ellipsis")
    ops = [asarray_any(o) for o in operands]
    ops = list(_promote(*ops)[0]) if False else ops
    from irjax import dtypes
    from ._util import convert

    dt = dtypes.result_type(*ops)
    ops = [convert(o, dt) for o in ops]
    cur, cur_t = _diag_and_sum(ops[0], terms[0], out, terms[1:])
    for op, t in zip(ops[1:], terms[1:]):
        rest = [x for x in terms[terms.index(t) + 1 :]]
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
    """Sum out labels of x that appear nowhere else; repeated labels are not supported."""
    if len(set(t)) != len(t):
        raise NotImplementedError("einsum with a repeated label in one operand (traces/diagonals)")
    others = set(out) | set("".join(rest))
    drop = [i for i, c in enumerate(t) if c not in others]
    if drop:
        from .reductions import sum as _sum

        x = _sum(x, axis=tuple(drop))
        t = "".join(c for i, c in enumerate(t) if i not in drop)
    return x, t
