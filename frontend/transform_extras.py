"""custom_gradient, linear_transpose and closure_convert (JAX's top-level names), built on
custom_vjp and vjp."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import tree_util
from .api import vjp
from .custom_derivatives import custom_vjp
from .numpy._util import asarray_any
from .tree_util import tree_map

__all__ = ["closure_convert", "custom_gradient", "linear_transpose"]


def custom_gradient(fun: Callable) -> Callable:
    """fun(*args) returns (value, vjp_fn); reverse mode uses vjp_fn(ct) -> one cotangent per arg.

    The backward pass calls fun again to get vjp_fn (its closure cannot cross from the forward
    trace), so fun must be pure, as JAX requires anyway.
    """

    def primal(*args):
        return fun(*args)[0]

    f = custom_vjp(primal)

    def fwd(*args):
        return fun(*args)[0], args

    def bwd(args, ct):
        cts = fun(*args)[1](ct)
        if not isinstance(cts, tuple):
            if len(args) != 1:
                raise TypeError(f"custom_gradient: the vjp function must return a tuple of {len(args)} cotangents")
            cts = (cts,)
        if len(cts) != len(args):
            raise TypeError(f"custom_gradient: the vjp function returned {len(cts)} cotangents for {len(args)} args")
        return cts

    f.defvjp(fwd, bwd)
    return f


def _zeros_like_spec(x):
    return asarray_any(np.zeros(tuple(x.shape), np.dtype(x.dtype)))


def linear_transpose(fun: Callable, *primals: Any, reduce_axes=()) -> Callable:
    """The transpose of the linear function fun at primals' shapes: ct -> tuple of input cotangents."""
    if reduce_axes:
        raise NotImplementedError("linear_transpose(reduce_axes=...) is not supported (JAX removed it too)")
    points = tree_map(_zeros_like_spec, primals)
    _, pullback = vjp(fun, *points)  # the vjp of a linear map is its transpose at any point

    def transposed(*cts):
        ct = cts[0] if len(cts) == 1 else cts
        return tuple(pullback(ct))

    return transposed


def _as_operand(x: Any) -> Any:
    return asarray_any(x) if isinstance(x, (int, float, complex, bool, np.ndarray, np.generic)) else x


def closure_convert(fun: Callable, *example_args: Any) -> tuple[Callable, list]:
    """(converted, consts) with converted(*args, *consts) == fun(*args).

    irjax's custom_vjp traces closures directly, so no constants are hoisted: consts is empty.
    """
    n = len(example_args)

    def converted(*args):
        # JAX evaluates fun's traced program: computed outputs are Arrays (even from Python
        # scalars), and an output that is an input passes through as given
        given = tree_util.tree_leaves(args[:n])
        ins = tree_map(_as_operand, args[:n])
        back = {id(c): g for c, g in zip(tree_util.tree_leaves(ins), given)}
        return tree_map(lambda o: back.get(id(o), _as_operand(o)), fun(*ins))

    return converted, []
