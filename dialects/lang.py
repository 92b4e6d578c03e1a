"""The rule vocabulary: `Val` wraps an `ir.Value` so jvp/vjp/batch rules read like math.

    jvp=lambda x, t: t * cos(x)

Every call emits strict jx ops (same-shape operands, no promotion) at the current
insertion point, so rules nest inside any pass. Python scalars take the other operand's
dtype and shape.
"""

from __future__ import annotations

import numpy as np

from .builder import aval, constant, emit
from .emitters import OpNamespace, op_name
from .low_precision import BF16
from .registry import ShapedType, get, lookup


class Val:
    __slots__ = ("v", "aval")

    def __init__(self, v):
        self.v = v
        # read the type now: a Val may outlive its function (a trace that raised erases it),
        # and reading an erased value's type would crash the process
        self.aval: ShapedType = aval(v)

    @property
    def shape(self):
        return self.aval.shape

    @property
    def dtype(self):
        return self.aval.dtype

    @property
    def ndim(self):
        return len(self.aval.shape)

    def __add__(self, o):
        return jx.add(self, lift(o, self))

    def __radd__(self, o):
        return jx.add(lift(o, self), self)

    def __sub__(self, o):
        return jx.sub(self, lift(o, self))

    def __rsub__(self, o):
        return jx.sub(lift(o, self), self)

    def __mul__(self, o):
        return jx.mul(self, lift(o, self))

    def __rmul__(self, o):
        return jx.mul(lift(o, self), self)

    def __truediv__(self, o):
        return jx.div(self, lift(o, self))

    def __rtruediv__(self, o):
        return jx.div(lift(o, self), self)

    def __neg__(self):
        return jx.neg(self)

    def __pow__(self, o):
        if isinstance(o, int):
            return jx.integer_pow(self, y=o)
        return jx.pow(self, lift(o, self))

    def __repr__(self):
        return f"Val({self.aval.str_short()})"


def wrap(x):
    if isinstance(x, (list, tuple)):
        return [wrap(v) for v in x]
    return x if (x is None or isinstance(x, Val)) else Val(x)


def bind(name: str, *args, **params):
    """Emit jx.<name> on Vals; one Val, or a list for multi-result ops."""
    outs = emit(name, [a.v for a in args], params)
    if get(name).multiple_results:
        return [Val(o) for o in outs]
    return Val(outs[0])


# jx.pad(x, zero, padding_config=...): any op by its record, strict operands (dialects/emitters.py)
jx = OpNamespace(bind, "lang.jx")


def full(shape, value, dtype) -> Val:
    dtype = np.dtype(dtype)
    c = Val(constant(np.array(value, dtype)))
    return c if tuple(shape) == () else broadcast_in_dim(c, tuple(shape), ())


def full_like(x: Val, value) -> Val:
    return full(x.shape, value, x.dtype)


def zeros_like(x: Val) -> Val:
    return full_like(x, 0)


def ones_like(x: Val) -> Val:
    return full_like(x, 1)


def lift(o, like: Val) -> Val:
    return o if isinstance(o, Val) else full_like(like, o)


def _unary(name):
    def f(x, **params):
        return bind(name, x, **params)

    return f


def _binary(name):
    def f(x, y):
        if not isinstance(x, Val):
            x = lift(x, y)
        return bind(name, x, lift(y, x))

    return f


_FAMILY_WRAPPERS = {"unary": _unary, "binary": _binary}


def __getattr__(attr: str):
    """`sin(x)`, `add(x, 2.0)`, `and_(x, y)`: a wrapper for each record of the unary and binary
    families, made from the registry on first use (binary ones lift Python scalars)."""
    if attr.startswith("_"):  # dunder probes (import machinery, copy, pickle) never load the registry
        raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
    name = op_name(attr)
    prim = lookup("jx." + name)
    make = _FAMILY_WRAPPERS.get(prim.family) if prim is not None else None
    if make is None:
        raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
    f = make(name)
    f.__name__ = f.__qualname__ = attr
    globals()[attr] = f
    return f


def select(pred: Val, on_true, on_false) -> Val:
    ref = on_true if isinstance(on_true, Val) else on_false
    return jx.select(pred, lift(on_true, ref), lift(on_false, ref))


def convert(x: Val, dtype) -> Val:
    dtype = np.dtype(dtype)
    return x if x.dtype == dtype else jx.convert_element_type(x, new_dtype=dtype)


def broadcast_in_dim(x: Val, shape, broadcast_dimensions) -> Val:
    if tuple(shape) == x.shape and tuple(broadcast_dimensions) == tuple(range(x.ndim)):
        return x
    return jx.broadcast_in_dim(x, shape=tuple(shape), broadcast_dimensions=tuple(broadcast_dimensions))


def broadcast_to(x: Val, shape) -> Val:
    """NumPy-style broadcast (trailing axes aligned)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = len(shape) - x.ndim
    dims = tuple(range(lead, len(shape)))
    keep = [i for i, d in enumerate(x.shape) if d == shape[lead + i]]
    if len(keep) != x.ndim:  # squeeze the size-1 axes being broadcast
        x = reshape(x, tuple(x.shape[i] for i in keep))
        dims = tuple(lead + i for i in keep)
    return broadcast_in_dim(x, shape, dims)


def reshape(x: Val, shape) -> Val:
    shape = tuple(shape)
    return x if x.shape == shape else jx.reshape(x, new_sizes=shape)


def transpose(x: Val, permutation) -> Val:
    permutation = tuple(permutation)
    if permutation == tuple(range(x.ndim)):
        return x
    return jx.transpose(x, permutation=permutation)


def reduce_sum(x: Val, axes) -> Val:
    axes = tuple(sorted(axes))
    return x if not axes else jx.reduce_sum(x, axes=axes)


def dot_general(a: Val, b: Val, dimension_numbers, preferred_element_type=None) -> Val:
    (lc, rc), (lb, rb) = dimension_numbers
    return jx.dot_general(
        a,
        b,
        lhs_contracting=tuple(lc),
        rhs_contracting=tuple(rc),
        lhs_batch=tuple(lb),
        rhs_batch=tuple(rb),
        preferred_element_type=preferred_element_type,
    )


def moveaxis(x: Val, src: int, dst: int) -> Val:
    perm = [i for i in range(x.ndim) if i != src]
    perm.insert(dst, src)
    return transpose(x, perm)


def is_float(x) -> bool:
    """A Val or a ShapedType of inexact dtype (the values that carry derivatives)."""
    return np.issubdtype(x.dtype, np.inexact) or x.dtype == BF16


def zeros(a) -> Val:
    """Zeros of ShapedType `a`."""
    return full(a.shape, 0, a.dtype)
