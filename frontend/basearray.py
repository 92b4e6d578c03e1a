"""irjax.Array (`jax.Array`), the public array type: an abstract base class that concrete arrays
(array.Array, sharded.ShardedArray), tracers (core.Tracer) and typed key arrays
(prng.PRNGKeyArray) register with, so `isinstance(x, jax.Array)` holds inside jit, vmap and grad
as in JAX. irjax's own code tests the concrete classes; `type(x)` is never this class."""

from __future__ import annotations

import abc

__all__ = ["Array"]


class Array(abc.ABC):  # noqa: B024  (no abstract methods: a type to test and annotate with)
    """The type of every irjax array value: `isinstance(x, irjax.Array)`, `x: irjax.Array`."""

    __slots__ = ()
