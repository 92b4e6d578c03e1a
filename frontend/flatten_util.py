"""irjax.flatten_util (`jax.flatten_util`): ravel_pytree, a pytree of arrays as one flat vector
and the function that rebuilds the tree from such a vector (optimizers over flat parameters,
scipy.optimize.minimize, Hessians of a whole model)."""

from __future__ import annotations

import warnings

import numpy as np

from . import dtypes, tree_util
from . import numpy as jnp
from .operands import convert_element_type

__all__ = ["ravel_pytree"]


def ravel_pytree(pytree):
    """(flat, unravel): the leaves raveled and concatenated in tree_flatten's order, promoted to
    their common dtype; unravel(flat) splits a vector of that shape and dtype back into the tree,
    each leaf in its own shape and dtype."""
    leaves, treedef = tree_util.tree_flatten(pytree)
    flat, unravel_leaves = _ravel_leaves(leaves)
    return flat, lambda vector: tree_util.tree_unflatten(treedef, unravel_leaves(vector))


def _ravel_leaves(leaves):
    if not leaves:
        return jnp.zeros(0, np.float32), lambda _: []
    from_dtypes = [dtypes.dtype_of(leaf) for leaf in leaves]
    to_dtype = dtypes.result_type(*from_dtypes)
    shapes = [np.shape(leaf) for leaf in leaves]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    flat = jnp.concatenate([jnp.ravel(convert_element_type(leaf, to_dtype)) for leaf in leaves])
    total = sum(sizes)
    mixed = any(d != to_dtype for d in from_dtypes)  # (as JAX: a one-dtype tree takes any vector as it is)

    def unravel(vector):
        shape, dtype = np.shape(vector), dtypes.dtype_of(vector)
        if shape != (total,):
            raise ValueError(f"The unravel function expected an array of shape {(total,)}, got shape {shape}.")
        if dtype != to_dtype and mixed:
            raise TypeError(f"unravel function given array of dtype {dtype}, but expected dtype {to_dtype}")
        out, start = [], 0
        for shape_i, size, from_dtype in zip(shapes, sizes, from_dtypes):
            piece = jnp.reshape(vector[start : start + size], shape_i)
            start += size
            if mixed and from_dtype != dtype:
                if jnp.issubdtype(to_dtype, jnp.complexfloating) and not jnp.issubdtype(
                    from_dtype, jnp.complexfloating
                ):
                    warnings.warn(
                        "Casting complex values to real discards the imaginary part", np.exceptions.ComplexWarning, 2
                    )
                    piece = jnp.real(piece)
                piece = convert_element_type(piece, from_dtype)
            out.append(piece)
        return out

    return flat, unravel
