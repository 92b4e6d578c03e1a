"""jax.lax.ragged_dot and ragged_dot_general: dots whose lhs rows (or contracted entries) fall into
consecutive groups of group_sizes, written as masked dot_generals (differentiable, batchable)."""

from __future__ import annotations

from . import numpy as jnp
from .lax import broadcast_in_dim, convert_element_type, dot_general, reduce_sum, transpose
from .lax_types import RaggedDotDimensionNumbers
from .operands import asarray_any

__all__ = ["ragged_dot", "ragged_dot_general"]


def _group_mask(group_sizes, n: int):
    """(G, n) bool: entry i belongs to group g when sum(sizes[:g]) <= i < sum(sizes[:g+1])."""
    ends = jnp.cumsum(group_sizes)
    starts = ends - group_sizes
    pos = jnp.arange(n, dtype=ends.dtype)[None, :]
    return (pos >= starts[:, None]) & (pos < ends[:, None])


def _free(ndim: int, *used) -> list[int]:
    taken = {a for u in used for a in u}
    return [a for a in range(ndim) if a not in taken]


def ragged_dot_general(
    lhs,
    rhs,
    group_sizes,
    ragged_dot_dimension_numbers: RaggedDotDimensionNumbers,
    precision=None,
    preferred_element_type=None,
    group_offset=None,
    out_sharding=None,
):
    """A dot_general whose lhs ragged dim is split into groups: a non-contracting ragged dim picks
    rhs's group per row; a contracting one yields one output per group (leading dim)."""
    if group_offset is not None:
        raise NotImplementedError("ragged_dot_general: group_offset is not supported (as in JAX)")
    lhs, rhs, gs = asarray_any(lhs), asarray_any(rhs), asarray_any(group_sizes)
    if gs.dtype.kind not in "iu":
        raise TypeError("ragged_dot_general requires that group_sizes.dtype is subtype of np.integer.")
    if gs.ndim != 1:
        raise TypeError(f"ragged_dot_general: group_sizes must be 1-D, got shape {gs.shape}")
    (lc, rc), (lb, rb) = (tuple(map(tuple, p)) for p in ragged_dot_dimension_numbers.dot_dimension_numbers)
    ragged = tuple(ragged_dot_dimension_numbers.lhs_ragged_dimensions)
    groups = tuple(ragged_dot_dimension_numbers.rhs_group_dimensions)
    if len(ragged) != 1:
        raise TypeError(f"ragged_dot_general needs exactly one lhs ragged dimension, got {ragged}")
    r, g = ragged[0] % lhs.ndim, gs.shape[0]
    mask = _group_mask(gs, lhs.shape[r])
    if r in lb:
        raise NotImplementedError("ragged_dot_general: a ragged batch dimension is not supported")
    if r in lc:  # ragged contraction: one masked contraction per group, stacked in front
        if groups:
            raise TypeError("ragged_dot_general: a ragged contracting dim takes no rhs group dimension")
        m = convert_element_type(broadcast_in_dim(mask, (g, *lhs.shape), (0, r + 1)), lhs.dtype)
        lhs_g = m * broadcast_in_dim(lhs, (g, *lhs.shape), tuple(range(1, lhs.ndim + 1)))
        shift = tuple(a + 1 for a in lc), tuple(a + 1 for a in lb)
        out = dot_general(lhs_g, rhs, ((shift[0], rc), (shift[1], rb)), preferred_element_type=preferred_element_type)
        nb = len(lb)  # dot_general puts batch dims first: move the group dim (first lhs free dim) ahead
        return transpose(out, (nb, *range(nb), *range(nb + 1, out.ndim)))
    if len(groups) != 1:
        raise TypeError(f"ragged_dot_general needs exactly one rhs group dimension, got {groups}")
    gd = groups[0] % rhs.ndim
    if rhs.shape[gd] != g:
        raise TypeError(f"expected rhs group dimension size to be {g}, got {rhs.shape[gd]}.")
    out = dot_general(lhs, rhs, ((lc, rc), (lb, rb)), preferred_element_type=preferred_element_type)
    # out: batch, lhs free, rhs free (with the group dim); keep each row's own group
    lfree, rfree = _free(lhs.ndim, lc, lb), _free(rhs.ndim, rc, rb)
    row_axis = len(lb) + lfree.index(r)
    grp_axis = len(lb) + len(lfree) + rfree.index(gd)
    mask = convert_element_type(mask, out.dtype)  # before the transpose: IREE 3.13 cannot transpose i1
    if grp_axis > row_axis:  # broadcast_in_dim takes increasing dims
        mask, dims = transpose(mask, (1, 0)), (row_axis, grp_axis)
    else:
        dims = (grp_axis, row_axis)
    keep = broadcast_in_dim(mask, out.shape, dims)
    return reduce_sum(out * keep, (grp_axis,))


def ragged_dot(
    lhs,
    rhs,
    group_sizes,
    precision=None,
    preferred_element_type=None,
    group_offset=None,
    out_sharding=None,
):
    """lhs (m, k) rows split into consecutive groups; row i of group g is lhs[i] @ rhs[g] (rhs is
    (g, k, n)); rows past sum(group_sizes) are zero."""
    lhs, rhs = asarray_any(lhs), asarray_any(rhs)
    if lhs.ndim != 2 or rhs.ndim != 3:
        raise TypeError(f"ragged_dot expects lhs (m, k) and rhs (g, k, n), got {lhs.shape} and {rhs.shape}")
    dn = RaggedDotDimensionNumbers((((1,), (1,)), ((), ())), (0,), (0,))
    return ragged_dot_general(lhs, rhs, group_sizes, dn, precision, preferred_element_type, group_offset)
