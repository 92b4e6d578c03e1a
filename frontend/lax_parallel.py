"""irjax.lax collectives over named axes (psum, all_gather, ppermute, axis_index, ...) and the
trace-time axis environment that vmap / shard_map / pmap bind names in.

Each call emits one jx collective (dialects/collectives.py); the batch pass of the binding
vmap rewrites it. A name no enclosing vmap binds is JAX's NameError, raised at trace time.
"""

from __future__ import annotations

import math

import numpy as np

from . import dtypes, tree_util
from . import process_collectives as _pc
from .axis_env import axis_names as _names
from .axis_env import bound_size as _size
from .axis_env import process_mesh_of as _process_mesh
from .core import Tracer, bind, jx
from .dispatch import apply_primitive as _eager  # noqa: F401  (loads dispatch: it registers eager bind)

__all__ = [
    "all_gather",
    "all_to_all",
    "axis_index",
    "axis_size",
    "pmax",
    "pmean",
    "pmin",
    "ppermute",
    "psum",
    "psum_scatter",
    "pvary",
]


def axis_size(axis_name) -> int:
    """The number of members of the named axis (the product over a tuple of names)."""
    return math.prod(_size(n) for n in _names(axis_name))


def _groups(axis_index_groups):
    if axis_index_groups is not None:
        raise NotImplementedError("axis_index_groups is not supported in irjax collectives")


def _operand(x):
    # collectives are only bound while tracing (an axis frame is open): constants stay NumPy
    if isinstance(x, Tracer) or hasattr(x, "aval"):
        return x
    x = np.asarray(x)
    return x.astype(dtypes.canonicalize_dtype(x.dtype))


def _reduce(name: str, x, axis_name, axis_index_groups):
    _groups(axis_index_groups)
    names = _names(axis_name)
    n = axis_size(names)
    if not names:
        return x

    def const(leaf):
        # a Python or NumPy constant is the same on every member (JAX: psum(1, 'i') == size)
        return leaf * n if name == "psum" else leaf

    def is_const(leaf) -> bool:
        return not isinstance(leaf, Tracer) and not hasattr(leaf, "aval")

    pm = _process_mesh(names)
    if pm is not None:  # the members are processes: MPI, now, the whole pytree at once
        leaves, tree = tree_util.tree_flatten(x)
        arrays = [i for i, leaf in enumerate(leaves) if not is_const(leaf)]
        ins = [_bool_in(name, _operand(leaves[i])) for i in arrays]
        outs = _pc.reduce(name[1:], [v for v, _ in ins], pm, names)
        reduced = dict(zip(arrays, (back(r) for (_, back), r in zip(ins, outs))))
        return tree_util.tree_unflatten(tree, [reduced[i] if i in reduced else const(v) for i, v in enumerate(leaves)])

    def one(leaf):
        if is_const(leaf):
            return const(leaf)
        v, back = _bool_in(name, _operand(leaf))
        return back(bind(name, v, axis_name=names))

    return tree_util.tree_map(one, x)


def _bool_in(name: str, v):
    """(operand, undo) for a bool operand, as JAX: psum counts the Trues in int32; pmax and pmin
    are any and all (reduced as uint8, then bool again)."""
    if v.dtype != np.bool_:
        return v, lambda r: r
    if name == "psum":
        return jx.convert_element_type(v, new_dtype=np.dtype(np.int32)), lambda r: r
    u8 = jx.convert_element_type(v, new_dtype=np.dtype(np.uint8))
    return u8, lambda r: jx.convert_element_type(r, new_dtype=np.dtype(np.bool_))


def psum(x, axis_name, *, axis_index_groups=None):
    """Sum of x (a pytree) over the members of the named axes; every member gets the sum."""
    return _reduce("psum", x, axis_name, axis_index_groups)


def pmax(x, axis_name, *, axis_index_groups=None):
    return _reduce("pmax", x, axis_name, axis_index_groups)


def pmin(x, axis_name, *, axis_index_groups=None):
    return _reduce("pmin", x, axis_name, axis_index_groups)


def pmean(x, axis_name, *, axis_index_groups=None):
    """psum / axis size (integers give floats, as JAX's true division)."""
    n = axis_size(axis_name)
    return tree_util.tree_map(lambda s: s / n, psum(x, axis_name, axis_index_groups=axis_index_groups))


def pvary(x, axis_name):
    """JAX's pvary marks a value as varying over axes; irjax does not type that: identity."""
    axis_size(axis_name)
    return x


def _single(fn: str, axis_name, axis_index_groups=None) -> tuple[str, int]:
    """The checks every one-axis collective makes: (name, size) of its one bound axis."""
    _groups(axis_index_groups)
    names = _names(axis_name)
    if len(names) != 1:
        raise NotImplementedError(f"irjax's {fn} takes one axis name, got {axis_name!r}")
    return names[0], _size(names[0])


def _norm_axis(axis: int, n: int, what: str) -> int:
    if not -n <= axis < n:
        raise ValueError(f"{what} {axis} is out of bounds for an operand of rank {n}")
    return axis % n


def _split_dim(fn: str, what: str, v, dim: int, n: int, tiled: bool) -> int:
    """The normalized dimension that a collective splits over the n members: its size must be n,
    or a multiple of n when tiled."""
    d = _norm_axis(dim, v.ndim, f"{fn} {what}")
    if (v.shape[d] % n) if tiled else (v.shape[d] != n):
        raise ValueError(
            f"{fn}: {what} {d} of an operand of shape {v.shape} must "
            + (f"be divisible by the axis size {n}" if tiled else f"equal the axis size {n}")
        )
    return d


def all_gather(x, axis_name, *, axis_index_groups=None, axis=0, tiled=False):
    """Every member's x stacked along a new `axis` (tiled: concatenated along `axis`)."""
    name, n = _single("all_gather", axis_name, axis_index_groups)

    pm = _process_mesh((name,))

    def one(leaf):
        v = _operand(leaf)
        ax = _norm_axis(axis, v.ndim if tiled else v.ndim + 1, "all_gather axis")
        if pm is not None:
            return _pc.all_gather(v, pm, name, ax, bool(tiled))
        return jx.all_gather(v, axis_name=(name,), axis=ax, tiled=bool(tiled), axis_size=n)

    return tree_util.tree_map(one, x)


def psum_scatter(x, axis_name, *, scatter_dimension=0, axis_index_groups=None, tiled=False):
    """psum, then member k keeps block k of `scatter_dimension`."""
    name, n = _single("psum_scatter", axis_name, axis_index_groups)
    pm = _process_mesh((name,))

    def one(leaf):
        v = _operand(leaf)
        sd = _split_dim("psum_scatter", "scatter_dimension", v, scatter_dimension, n, tiled)
        if pm is not None:
            return _pc.psum_scatter(v, pm, name, sd, bool(tiled))
        return jx.psum_scatter(v, axis_name=(name,), scatter_dimension=sd, tiled=bool(tiled), axis_size=n)

    return tree_util.tree_map(one, x)


def ppermute(x, axis_name, perm):
    """Member dst gets member src's x for each (src, dst) in perm; members no one sends to get
    zeros."""
    name, n = _single("ppermute", axis_name)
    perm = tuple((int(a), int(b)) for a, b in perm)
    srcs, dsts = [a for a, _ in perm], [b for _, b in perm]
    if len(set(srcs)) != len(srcs) or len(set(dsts)) != len(dsts):
        raise ValueError(f"ppermute sources and destinations must be unique, got {perm}")
    if any(not 0 <= i < n for i in srcs + dsts):
        raise ValueError(f"ppermute perm {perm} names members outside axis {name!r} of size {n}")
    pm = _process_mesh((name,))
    if pm is not None:
        return tree_util.tree_map(lambda leaf: _pc.ppermute(_operand(leaf), pm, name, perm), x)
    return tree_util.tree_map(lambda leaf: jx.ppermute(_operand(leaf), axis_name=(name,), perm=perm), x)


def all_to_all(x, axis_name, split_axis, concat_axis, *, axis_index_groups=None, tiled=False):
    """Member i gets block i of every member's split_axis, stacked (tiled: concatenated) along
    concat_axis."""
    name, n = _single("all_to_all", axis_name, axis_index_groups)
    pm = _process_mesh((name,))

    def one(leaf):
        v = _operand(leaf)
        sa = _split_dim("all_to_all", "split_axis", v, split_axis, n, tiled)
        ca = _norm_axis(concat_axis, v.ndim, "all_to_all concat_axis")
        if pm is not None:
            return _pc.all_to_all(v, pm, name, sa, ca, bool(tiled))
        params = dict(axis_name=(name,), split_axis=sa, concat_axis=ca, tiled=bool(tiled), axis_size=n)
        return jx.all_to_all(v, **params)

    return tree_util.tree_map(one, x)


def axis_index(axis_name):
    """This member's index along the named axis (int32); over several names, row-major."""
    names = _names(axis_name)
    pm = _process_mesh(names)
    if pm is not None:
        for name in names:
            _size(name)
        return _pc.axis_index(pm, names)
    idx = None
    for name in names:
        _size(name)
        i = jx.axis_index(axis_name=(name,))
        idx = i if idx is None else idx * np.int32(_size(name)) + i
    if idx is None:
        return np.int32(0)
    return idx
