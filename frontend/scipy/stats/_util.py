"""Shared argument handling for irjax.scipy.stats distributions."""

from __future__ import annotations

from ...numpy._util import promote


def promote_args_inexact(*args):
    """Broadcast to one shape and one inexact dtype (ints and bools become float32), as JAX."""
    out, _, _ = promote(*args, to_float=True)
    return out
