"""Operators and methods shared by concrete Arrays and Tracers (they call irjax.numpy)."""

from __future__ import annotations

import numpy as np

_jnp = None


def _np():
    # Array's operators and methods are irjax.numpy functions (as JAX's), and irjax.numpy sits above
    # Array and Tracer: the one late-bound upward reference, so irjax.array and irjax.lax load alone
    # (kept after the first call: the import statement cost ~0.5 us on every operator)
    global _jnp
    if _jnp is None:
        from . import numpy as jnp

        _jnp = jnp
    return _jnp


def _binop(name, reflected=False):
    def op(self, other):
        jnp = _np()
        if not _is_operand(other):
            return NotImplemented
        f = getattr(jnp, name)
        return f(other, self) if reflected else f(self, other)

    return op


def _is_operand(x):
    return isinstance(x, (int, float, complex, bool, np.ndarray, np.generic)) or hasattr(x, "aval")


class ArrayMethods:
    __slots__ = ()

    @property
    def shape(self):
        return self.aval.shape

    @property
    def dtype(self):
        return self.aval.dtype

    @property
    def ndim(self):
        return len(self.aval.shape)

    @property
    def size(self):
        return self.aval.size

    @property
    def weak_type(self):
        return self.aval.weak_type

    def __len__(self):
        if not self.aval.shape:
            raise TypeError("len() of unsized object")
        return self.aval.shape[0]

    def __iter__(self):
        if not self.aval.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.aval.shape[0]))

    __add__ = _binop("add")
    __radd__ = _binop("add", True)
    __sub__ = _binop("subtract")
    __rsub__ = _binop("subtract", True)
    __mul__ = _binop("multiply")
    __rmul__ = _binop("multiply", True)
    __truediv__ = _binop("true_divide")
    __rtruediv__ = _binop("true_divide", True)
    __floordiv__ = _binop("floor_divide")
    __rfloordiv__ = _binop("floor_divide", True)
    __mod__ = _binop("remainder")
    __rmod__ = _binop("remainder", True)
    __pow__ = _binop("power")
    __rpow__ = _binop("power", True)
    __matmul__ = _binop("matmul")
    __rmatmul__ = _binop("matmul", True)
    __and__ = _binop("bitwise_and")
    __rand__ = _binop("bitwise_and", True)
    __or__ = _binop("bitwise_or")
    __ror__ = _binop("bitwise_or", True)
    __xor__ = _binop("bitwise_xor")
    __rxor__ = _binop("bitwise_xor", True)
    __lshift__ = _binop("left_shift")
    __rlshift__ = _binop("left_shift", True)
    __rshift__ = _binop("right_shift")
    __rrshift__ = _binop("right_shift", True)
    __lt__ = _binop("less")
    __le__ = _binop("less_equal")
    __gt__ = _binop("greater")
    __ge__ = _binop("greater_equal")

    def __eq__(self, other):
        if not _is_operand(other):
            return NotImplemented
        return _np().equal(self, other)

    def __ne__(self, other):
        if not _is_operand(other):
            return NotImplemented
        return _np().not_equal(self, other)

    def __divmod__(self, other):
        return _np().divmod(self, other)

    def __rdivmod__(self, other):
        if not _is_operand(other):
            return NotImplemented
        return _np().divmod(other, self)

    def __neg__(self):
        return _np().negative(self)

    def __pos__(self):
        return _np().positive(self)

    def __abs__(self):
        return _np().abs(self)

    def __invert__(self):
        return _np().invert(self)

    def __getitem__(self, idx):
        return _np().indexing.getitem(self, idx)

    def __setitem__(self, idx, value):
        raise TypeError(
            "JAX arrays are immutable and do not support in-place item assignment. Instead of "
            "x[idx] = y, use x = x.at[idx].set(y) or another .at[] method: "
            "https://docs.jax.dev/en/latest/_autosummary/jax.numpy.ndarray.at.html"
        )

    @property
    def at(self):
        return _np().indexing.IndexUpdateHelper(self)

    @property
    def T(self):
        return _np().transpose(self)

    @property
    def mT(self):
        return _np().swapaxes(self, -1, -2)

    def reshape(self, *shape, order="C", copy=None):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _np().reshape(self, shape, order=order, copy=copy)

    def astype(self, dtype, copy=False, device=None):
        return _np().astype(self, dtype, copy=copy, device=device)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _np().transpose(self, axes or None)

    def swapaxes(self, a, b):
        return _np().swapaxes(self, a, b)

    def ravel(self, order="C"):
        return _np().ravel(self, order=order)

    def flatten(self):
        return _np().ravel(self)

    def squeeze(self, axis=None):
        return _np().squeeze(self, axis)

    def dot(self, other):
        return _np().dot(self, other)

    def clip(self, min=None, max=None):
        return _np().clip(self, min, max)

    def round(self, decimals=0):
        return _np().round(self, decimals)

    def conj(self):
        return _np().conj(self)

    def conjugate(self):
        return _np().conj(self)

    @property
    def real(self):
        return _np().real(self)

    def sort(self, axis=-1):
        return _np().sort(self, axis)

    def argsort(self, axis=-1):
        return _np().argsort(self, axis)

    def cumsum(self, axis=None, dtype=None):
        return _np().cumsum(self, axis, dtype)

    def cumprod(self, axis=None, dtype=None):
        return _np().cumprod(self, axis, dtype)

    def take(
        self, indices, axis=None, out=None, mode=None, unique_indices=False, indices_are_sorted=False, fill_value=None
    ):
        return _np().take(self, indices, axis, mode=mode, fill_value=fill_value)

    def repeat(self, repeats, axis=None):
        return _np().repeat(self, repeats, axis)

    def nonzero(self):
        return _np().nonzero(self)

    @property
    def imag(self):
        return _np().imag(self)

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return _np().diagonal(self, offset, axis1, axis2)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None):
        return _np().trace(self, offset, axis1, axis2, dtype)

    def ptp(self, axis=None, keepdims=False):
        return _np().ptp(self, axis, keepdims=keepdims)

    def copy(self):
        return _np().array(self, copy=True)

    def argpartition(self, kth, axis=-1):
        return _np().argpartition(self, kth, axis)

    def searchsorted(self, v, side="left", sorter=None):
        return _np().searchsorted(self, v, side, sorter)

    def view(self, dtype=None, type=None):
        if type is not None:
            raise NotImplementedError("`type` argument of array.view() is not supported.")
        return _np().misc.array_view(self, dtype)

    def choose(self, choices, out=None, mode="raise"):
        return _np().choose(self, choices, out=out, mode=mode)

    def compress(self, condition, axis=None, *, out=None, size=None, fill_value=0):
        return _np().compress(condition, self, axis, out=out, size=size, fill_value=fill_value)

    def __round__(self, ndigits=None):
        # round(x) gives an integer Array (JAX's int default), round(x, n) a rounded float one
        if ndigits is None:
            return _np().round(self).astype(int)
        return _np().round(self, ndigits)


def _reduction_method(name):
    def method(self, axis=None, *args, **kwargs):
        return getattr(_np(), name)(self, axis, *args, **kwargs)

    method.__name__ = name
    return method


for _name in ("sum", "mean", "std", "var", "max", "min", "prod", "argmax", "argmin", "all", "any"):
    setattr(ArrayMethods, _name, _reduction_method(_name))
