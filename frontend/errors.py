"""JAX's error classes for tracer misuse, with messages that say what to do instead."""

from __future__ import annotations

_DOCS = "https://docs.jax.dev/en/latest/errors.html#jax.errors."


class JAXTypeError(TypeError):
    pass


class JAXIndexError(IndexError):
    pass


def _traced(tracer) -> str:
    """JAX's words for a tracer in an error: 'traced array with shape float32[3]' (no weak mark)."""
    aval = getattr(tracer, "aval", None)
    if aval is None or not hasattr(aval, "dtype"):
        return str(tracer)
    return f"traced array with shape {aval.dtype.name}[{','.join(map(str, aval.shape))}]"


class ConcretizationTypeError(JAXTypeError):
    def __init__(self, tracer, context: str = ""):
        super().__init__(
            f"Abstract tracer value encountered where concrete value is expected: {_traced(tracer)}\n{context}\n"
            "The problem arose with a traced value; use static_argnums/static_argnames for values "
            "that must be known at trace time, or irjax.lax.cond/while_loop for value-dependent "
            f"control flow.\nSee {_DOCS}ConcretizationTypeError"
        )


class TracerBoolConversionError(ConcretizationTypeError):
    def __init__(self, tracer):
        JAXTypeError.__init__(
            self,
            f"Attempted boolean conversion of {_traced(tracer)}.\n"
            "Python `if`/`while`/`and`/`or` on a traced value needs its concrete value; use "
            "irjax.lax.cond / irjax.lax.switch for branches, irjax.lax.while_loop / fori_loop / scan for "
            "loops, or jnp.where, instead; or mark the argument static.\n"
            f"See {_DOCS}TracerBoolConversionError",
        )


class TracerIntegerConversionError(JAXTypeError):
    def __init__(self, tracer):
        super().__init__(
            f"The __index__() method was called on {_traced(tracer)}\nSee {_DOCS}TracerIntegerConversionError"
        )


class TracerArrayConversionError(JAXTypeError):
    def __init__(self, tracer):
        super().__init__(
            f"The numpy.ndarray conversion method __array__() was called on {_traced(tracer)}\nSee {_DOCS}TracerArrayConversionError"
        )


class NonConcreteBooleanIndexError(JAXIndexError):
    def __init__(self, tracer):
        super().__init__(
            f"Array boolean indices must be concrete; got {tracer.aval.str_short()}\n\n"
            "The size of a boolean-masked result depends on the mask's values, so it cannot be "
            "traced: its shape must be static. Use jnp.where(mask, x, fill) instead.\n"
            f"See {_DOCS}NonConcreteBooleanIndexError"
        )


class UnexpectedTracerError(Exception):
    pass
