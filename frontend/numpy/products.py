"""Products: dot, matmul, vdot, inner, outer, tensordot, einsum."""

from __future__ import annotations

import string

import numpy as np
from irjax import dtypes, lax
from irjax.lax_conv import conv_general_dilated
from irjax.operands import moveaxis, reshape, squeeze, stack, transpose

from ._util import _result_type, asarray_any, broadcast_to, canonical_axis, convert, with_weak
from .creation import eye
from .indexing import where
from .reductions import any as _any
from .reductions import sum as _sum
from .shape import diff, flip
from .ufuncs import conj, imag, real


def _promote_pair(a, b):
    dt, weak = _result_type((a, b))  # (cached for arrays and scalars: dtypes.result_type took 3 us)
    return convert(asarray_any(a), dt), convert(asarray_any(b), dt), weak


def _dot_general(a, b, contract, batch=((), ())):
    ca, cb = tuple(a.shape[i] for i in contract[0]), tuple(b.shape[i] for i in contract[1])
    if ca != cb:  # JAX's error for mismatched contracting dims
        raise TypeError(f"dot_general requires contracting dimensions to have the same shape, got {ca} and {cb}.")
    return lax.dot_general(a, b, (contract, batch))


def _preferred(a, b, weak, preferred_element_type):
    """Operands widened to preferred_element_type when it is at least as wide (exact, and the product
    then accumulates in it, as JAX asks of dot_general); a narrower one is applied to the result."""
    if preferred_element_type is None:
        if a.dtype == np.bool_:  # JAX's product of bools is a bool, any(a & b): a count in int32, != 0 after
            return convert(a, np.int32), convert(b, np.int32), False, np.dtype(np.bool_)
        return a, b, weak, None

    pref = dtypes.canonicalize_dtype(preferred_element_type)
    if pref.itemsize >= a.dtype.itemsize:
        return convert(a, pref), convert(b, pref), False, None
    return a, b, False, pref


def _finish(out, weak, post):
    return with_weak(out, weak) if post is None else convert(out, post)


def dot(a, b, *, precision=None, preferred_element_type=None):
    a, b, weak, post = _preferred(*_promote_pair(a, b), preferred_element_type)
    if a.ndim == 0 or b.ndim == 0:
        return _finish(a * b, weak, post)
    if b.ndim == 1:
        return _finish(_dot_general(a, b, ((a.ndim - 1,), (0,))), weak, post)
    return _finish(_dot_general(a, b, ((a.ndim - 1,), (b.ndim - 2,))), weak, post)


def matmul(a, b, *, precision=None, preferred_element_type=None):
    a, b, weak, post = _preferred(*_promote_pair(a, b), preferred_element_type)
    for i, op in enumerate((a, b)):
        if op.ndim == 0:
            raise ValueError(f"matmul input operand {i} must have ndim at least 1, but it has ndim 0")
    va, vb = a.ndim == 1, b.ndim == 1
    if va:
        a = a.reshape((1,) + a.shape)
    if vb:
        b = b.reshape(b.shape + (1,))
    if a.shape[-1] != b.shape[-2]:
        raise TypeError(
            f"dot_general requires contracting dimensions to have the same shape, got {(a.shape[-1],)} and {(b.shape[-2],)}."
        )
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = broadcast_to(a, batch + a.shape[-2:])
    b = broadcast_to(b, batch + b.shape[-2:])
    nb = len(batch)
    out = _dot_general(a, b, ((nb + 1,), (nb,)), (tuple(range(nb)), tuple(range(nb))))
    if va:
        out = out.reshape(out.shape[:-2] + out.shape[-1:])
    if vb:
        out = out.reshape(out.shape[:-1])
    return _finish(out, weak, post)


def vdot(a, b, *, precision=None, preferred_element_type=None):
    return dot(conj(asarray_any(a)).ravel(), asarray_any(b).ravel(), preferred_element_type=preferred_element_type)


def inner(a, b, *, precision=None, preferred_element_type=None):
    a, b, weak, post = _preferred(*_promote_pair(a, b), preferred_element_type)
    if a.ndim == 0 or b.ndim == 0:
        return _finish(a * b, weak, post)
    return _finish(_dot_general(a, b, ((a.ndim - 1,), (b.ndim - 1,))), weak, post)


def outer(a, b, out=None):
    a, b, weak = _promote_pair(a, b)
    a, b = a.ravel(), b.ravel()
    return a.reshape((a.shape[0], 1)) * b.reshape((1, b.shape[0]))


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
    a, b, weak, post = _preferred(*_promote_pair(a, b), preferred_element_type)
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        ca, cb = tuple(range(a.ndim - n, a.ndim)), tuple(range(n))
    else:
        ax_a, ax_b = axes
        ca = (ax_a,) if isinstance(ax_a, int) else tuple(ax_a)
        cb = (ax_b,) if isinstance(ax_b, int) else tuple(ax_b)
        ca = tuple(canonical_axis(x, a.ndim) for x in ca)
        cb = tuple(canonical_axis(x, b.ndim) for x in cb)
    return _finish(_dot_general(a, b, (ca, cb)), weak, post)


def _from_sublists(args):
    """(subscripts string, operands) of einsum's sublist form: operand, [axis labels], operand, ...,
    and optionally the output's labels last (ints, or Ellipsis for '...')."""
    ops, terms = list(args[0::2]), list(args[1::2])
    out = None
    if len(ops) > len(terms):  # an odd count: the last item is the output's sublist
        out = ops.pop()
    if len(ops) != len(terms) or not ops:
        raise ValueError("einsum: the sublist form takes operand, sublist pairs and an optional output sublist")

    def letters(sub):
        text = ""
        for label in sub:
            if label is Ellipsis:
                text += "..."
            elif isinstance(label, (int, np.integer)) and 0 <= int(label) < len(string.ascii_letters):
                text += string.ascii_letters[int(label)]
            else:
                raise ValueError(f"einsum: a sublist label must be an int in [0, 52) or Ellipsis, got {label!r}")
        return text

    spec = ",".join(letters(t) for t in terms) + ("" if out is None else "->" + letters(out))
    return spec, ops


def _parse_einsum(subscripts, ops):
    """Subscripts -> (terms, out) with each '...' spelled as fresh labels (right-aligned)."""
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
    terms = [
        t.replace("...", ell[n_ell - (op.ndim - (len(t) - 3)) :]) if "..." in t else t for t, op in zip(terms, ops)
    ]
    if arrow:
        out = out.replace("...", ell)
    else:  # implicit output: broadcast dims, then the labels seen once, alphabetically
        counts = {}
        for ch in "".join(terms):
            counts[ch] = counts.get(ch, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return terms, out


def einsum(subscripts, *operands, optimize=None, precision=None, preferred_element_type=None):
    """einsum by pairwise contraction (left to right) with dot_general. Subscripts are a string,
    or NumPy's sublist form: einsum(a, [0, 1], b, [1, 2], [0, 2])."""
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists((subscripts, *operands))

    ops = [asarray_any(o) for o in operands]
    terms, out = _parse_einsum(subscripts, ops)
    dt = dtypes.result_type(*ops)
    post = None
    if preferred_element_type is not None:  # (as dot: widen the operands, or convert the result)
        pref = dtypes.canonicalize_dtype(preferred_element_type)
        dt, post = (pref, None) if pref.itemsize >= dt.itemsize else (dt, pref)
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
            cur,
            op,
            (tuple(cur_t.index(c) for c in contract), tuple(t.index(c) for c in contract)),
            (tuple(cur_t.index(c) for c in batch), tuple(t.index(c) for c in batch)),
        )
        cur_t = (
            "".join(batch)
            + "".join(c for c in cur_t if c not in batch and c not in contract)
            + "".join(c for c in t if c not in batch and c not in contract)
        )
        cur = res
    cur, cur_t = _diag_and_sum(cur, cur_t, out, [])

    res = transpose(cur, tuple(cur_t.index(c) for c in out))
    return res if post is None else convert(res, post)


def _diag_and_sum(x, t, out, rest):
    """Take diagonals for labels repeated within t, then sum out labels used nowhere else."""
    while len(set(t)) != len(t):
        c = next(ch for ch in t if t.count(ch) > 1)
        i = t.index(c)
        j = t.index(c, i + 1)
        n = x.shape[i]
        mask = broadcast_to(lax.broadcast_in_dim(eye(n, dtype=bool), x.shape, (i, j)), x.shape)
        x = _sum(where(mask, x, 0), axis=j)
        t = t[:j] + t[j + 1 :]
    others = set(out) | set("".join(rest))
    drop = [i for i, c in enumerate(t) if c not in others]
    if drop:
        x = _sum(x, axis=tuple(drop))
        t = "".join(c for i, c in enumerate(t) if i not in drop)
    return x, t


# ---- more products ---------------------------------------------------------------------------------


def vecdot(x1, x2, /, *, axis=-1, precision=None, preferred_element_type=None):
    """sum(conj(x1) * x2) along axis, with broadcasting."""
    x1, x2 = asarray_any(x1), asarray_any(x2)
    if x1.shape[axis] != x2.shape[axis]:
        raise ValueError(f"vecdot: axis {axis} has sizes {x1.shape[axis]} and {x2.shape[axis]}")
    prod = conj(x1) * x2
    if prod.dtype == np.bool_:  # JAX's dot of bools is a bool: any(x1 & x2)
        return _any(prod, axis=axis)
    # the product's dtype, not sum's widened one: JAX's vecdot of uint8 is uint8
    return _sum(prod, axis=axis, dtype=preferred_element_type or prod.dtype)


def matvec(x1, x2, /):
    """Matrix-vector product over the last two / last axis, batched."""
    return squeeze(matmul(x1, x2[..., None]), -1)


def vecmat(x1, x2, /):
    """Vector-matrix product: conj(x1) @ x2, batched."""
    return squeeze(matmul(conj(x1)[..., None, :], x2), -2)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 2- or 3-vectors along an axis (2-vectors give the z component)."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(asarray_any(a), axisa, -1), moveaxis(asarray_any(b), axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError("incompatible dimensions for cross product (dimension must be 2 or 3)")
    a0, a1 = a[..., 0], a[..., 1]
    b0, b1 = b[..., 0], b[..., 1]
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return a0 * b1 - a1 * b0
    a2 = a[..., 2] if a.shape[-1] == 3 else a0 * 0
    b2 = b[..., 2] if b.shape[-1] == 3 else b0 * 0
    c = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)
    return moveaxis(c, -1, axisc)


def kron(a, b):
    """Kronecker product."""
    a, b = asarray_any(a), asarray_any(b)
    nd = max(a.ndim, b.ndim)
    a = reshape(a, (1,) * (nd - a.ndim) + a.shape)
    b = reshape(b, (1,) * (nd - b.ndim) + b.shape)
    # a[i..., None at odd positions] * b[None at even positions, j...]
    ea = reshape(a, tuple(d for s in a.shape for d in (s, 1)))
    eb = reshape(b, tuple(d for s in b.shape for d in (1, s)))
    return reshape(ea * eb, tuple(x * y for x, y in zip(a.shape, b.shape)))


def convolve(a, v, mode="full", *, precision=None, preferred_element_type=None):
    """1-d discrete convolution (modes 'full', 'same', 'valid'), as numpy.convolve."""
    return _correlate(asarray_any(a), flip(asarray_any(v)), mode, "convolve")


def correlate(a, v, mode="valid", *, precision=None, preferred_element_type=None):
    """1-d cross-correlation (modes 'full', 'same', 'valid'), as numpy.correlate."""
    return _correlate(asarray_any(a), conj(asarray_any(v)), mode, "correlate")


def _correlate(a, v, mode, what):
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"{what}() only supports 1-dimensional inputs.")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError(f"{what}: inputs cannot be empty, got shapes {a.shape} and {v.shape}")
    swap = v.shape[0] > a.shape[0]
    if swap:  # numpy.convolve is symmetric; correlate(a, v) = reverse(correlate(v, a)) conj
        a, v = v, a
    m = v.shape[0]
    if mode == "valid":
        lo, hi = 0, 0
    elif mode == "same":
        lo = m // 2 if not swap else (m - 1) // 2
        hi = m - 1 - lo
    elif mode == "full":
        lo = hi = m - 1
    else:
        raise ValueError(f"mode must be one of ['full', 'same', 'valid'], got {mode!r}")
    # one (N=1, C=1, W) cross-correlation through lax.conv_general_dilated, in the operands'
    # inexact type (JAX returns floats for int inputs)
    dt = dtypes.result_type(a, v)
    if not dtypes.issubdtype(dt, np.inexact):
        dt = dtypes.default_float
    a, v = convert(a, dt), convert(v, dt)

    def conv(x, y):
        return conv_general_dilated(x[None, None, :], y[None, None, :], (1,), [(lo, hi)])[0, 0]

    if dtypes.kind(dt) == "c":  # four real correlations (the convolution op takes real types)
        ar, ai, vr, vi = real(a), imag(a), real(v), imag(v)
        out = lax.complex(conv(ar, vr) - conv(ai, vi), conv(ar, vi) + conv(ai, vr))
    else:
        out = conv(a, v)
    if swap:
        out = flip(out)
    return out


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of y(x) by the trapezoidal rule along axis."""
    y = moveaxis(asarray_any(y), axis, -1)
    if x is None:
        d = dx
    else:
        x = asarray_any(x)
        d = diff(x) if x.ndim == 1 else diff(moveaxis(x, axis, -1), axis=-1)
    return _sum(d * (y[..., 1:] + y[..., :-1]) / 2.0, axis=-1)
