"""More jax.lax collectives written on lax_parallel's: pshuffle (a ppermute), pswapaxes (an
all_to_all), pbroadcast (one member's value everywhere) and pcast (to 'varying': pvary)."""

from __future__ import annotations

from collections.abc import Sequence

from . import tree_util
from .lax import dynamic_index_in_dim
from .lax_parallel import _single, all_gather, all_to_all, ppermute, pvary

__all__ = ["pbroadcast", "pcast", "pshuffle", "pswapaxes"]


def pshuffle(x, axis_name, perm: Sequence[int]):
    """Member i gets member perm[i]'s x; perm must be a permutation of the axis' members."""
    _, n = _single("pshuffle", axis_name)
    perm = [int(p) for p in perm]
    if sorted(perm) != list(range(n)):
        raise ValueError(f"`perm` does not represent a permutation of the {n} members: {perm}")
    return ppermute(x, axis_name, [(src, dst) for dst, src in enumerate(perm)])


def pswapaxes(x, axis_name, axis: int, *, axis_index_groups=None):
    """Swap the named axis with positional `axis` (whose size must be the axis size)."""
    return all_to_all(x, axis_name, axis, axis, axis_index_groups=axis_index_groups)


def pbroadcast(x, axis_name, source: int):
    """Every member gets member `source`'s x (JAX's where(axis_index == source, x, 0) summed),
    taken exactly from an all_gather."""
    _, n = _single("pbroadcast", axis_name)
    if not 0 <= int(source) < n:
        raise ValueError(f"pbroadcast source {source} is outside axis {axis_name!r} of size {n}")
    return tree_util.tree_map(
        lambda v: dynamic_index_in_dim(all_gather(v, axis_name), int(source), 0, keepdims=False), x
    )


def pcast(x, axis_name, *, to: str):
    """Change how x varies over the named axes; irjax types only 'varying' (pvary, an identity)."""
    if to != "varying":
        raise NotImplementedError(f"irjax's pcast supports to='varying' only, got to={to!r}")
    return pvary(x, axis_name)
