"""irjax.debug.print: formatted printing of array values."""

from __future__ import annotations

from . import tree_util
from .core import Tracer


def print(fmt: str, *args, **kwargs):  # noqa: A001
    """Print `fmt.format(*args, **kwargs)` with concrete values.

    Runtime printing from inside compiled code is not supported yet: under jit/grad/vmap
    this raises instead of printing something that is not the runtime value.
    """
    leaves = tree_util.tree_leaves((args, kwargs))
    if any(isinstance(x, Tracer) for x in leaves):
        raise NotImplementedError(
            "irjax.debug.print inside a transformed function is not supported yet; "
            "return the value and print it outside the transformation"
        )
    import builtins

    builtins.print(fmt.format(*args, **kwargs))
