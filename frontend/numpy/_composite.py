"""Eager calls of multi-primitive jnp functions run as one compiled module.

Outside any trace, `mean(x)` would otherwise compile and run each primitive it binds
(reduce, convert, div, ...) as its own module; wrapped, it is traced once per
(avals, static arguments) and runs as one executable, like any jitted function.
"""

from __future__ import annotations

import functools

from irjax.core import current_trace


def composite(fn, static_argnames=()):
    from irjax.api import jit

    jitted = jit(fn, static_argnames=tuple(static_argnames))

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if current_trace() is not None:
            return fn(*args, **kwargs)
        return jitted(*args, **kwargs)

    wrapper.__wrapped_eager__ = fn
    return wrapper
