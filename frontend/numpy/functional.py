"""Function-lifting helpers built on vmap and scan: vectorize (with gufunc signatures),
apply_along_axis, apply_over_axes, piecewise, ufunc / frompyfunc."""

from __future__ import annotations

import functools
import re

import numpy as np
from irjax.api import vmap
from irjax.control_flow import scan

from ._util import asarray_any, canonical_axis
from .creation import arange, full, zeros
from .indexing import where
from .shape import broadcast_to, concatenate, expand_dims, moveaxis

_DIM = r"\w+"
_CORE = rf"\((?:{_DIM}(?:,{_DIM})*)?\)"
_ARGS = rf"{_CORE}(?:,{_CORE})*"
_SIG = rf"^{_ARGS}->{_ARGS}$"


def _parse_signature(sig: str):
    sig = sig.replace(" ", "")
    if not re.match(_SIG, sig):
        raise ValueError(f"not a valid gufunc signature: {sig}")
    ins, outs = sig.split("->")
    parse = lambda s: [tuple(re.findall(_DIM, c)) for c in re.findall(_CORE, s)]  # noqa: E731
    return parse(ins), parse(outs)


class vectorize:  # noqa: N801  (NumPy's and JAX's name)
    """Vectorize `pyfunc` over leading (broadcast) dimensions with vmap; `signature` names
    core dimensions ('(n),(n)->()'); `excluded` positions/names pass through unchanged."""

    def __init__(self, pyfunc, *, excluded=frozenset(), signature: str | None = None):
        self.pyfunc = pyfunc
        self.excluded = frozenset(excluded)
        self.signature = signature
        functools.update_wrapper(self, pyfunc)

    def __call__(self, *args, **kwargs):
        excl_pos = {i for i in self.excluded if isinstance(i, int)}
        static_kw = {k: v for k, v in kwargs.items() if k in self.excluded}
        dyn_kw = {k: v for k, v in kwargs.items() if k not in self.excluded}
        dyn_names = list(dyn_kw)
        dyn_pos = [i for i in range(len(args)) if i not in excl_pos]
        dyn = [asarray_any(args[i]) for i in dyn_pos] + [asarray_any(dyn_kw[k]) for k in dyn_names]

        def call(*vals):
            full = list(args)
            for i, v in zip(dyn_pos, vals):
                full[i] = v
            kw = dict(static_kw, **dict(zip(dyn_names, vals[len(dyn_pos) :])))
            return self.pyfunc(*full, **kw)

        if self.signature is None:
            cores = [()] * len(dyn)
            out_cores = None
        else:
            cores, out_cores = _parse_signature(self.signature)
            if len(cores) != len(dyn):
                raise TypeError(
                    f"wrong number of positional arguments: expected {len(cores)}, got {len(dyn)} (signature {self.signature})"
                )
        sizes: dict = {}
        loops = []
        for x, core in zip(dyn, cores):
            if x.ndim < len(core):
                raise ValueError(f"input with shape {x.shape} does not have enough dimensions for core dims {core}")
            for name, d in zip(core, x.shape[x.ndim - len(core) :]):
                if sizes.setdefault(name, d) != d:
                    raise ValueError(f"inconsistent size for core dimension {name!r}: {sizes[name]} vs {d}")
            loops.append(x.shape[: x.ndim - len(core)])
        loop = np.broadcast_shapes(*loops) if loops else ()
        dyn = [broadcast_to(x, loop + x.shape[x.ndim - len(c) :]) for x, c in zip(dyn, cores)]
        f = call
        for _ in loop:
            f = vmap(f)
        out = f(*dyn)
        if out_cores is not None and len(out_cores) == 1 and isinstance(out, tuple):
            raise ValueError("output must be a single array to match the signature's one output")
        return out


def apply_along_axis(func1d, axis: int, arr, *args, **kwargs):
    """func1d applied to each 1-d slice along `axis`; its output dims take that axis's place."""
    arr = asarray_any(arr)
    axis = canonical_axis(axis, arr.ndim)
    x = moveaxis(arr, axis, -1)
    lead = x.shape[:-1]
    f = lambda v: asarray_any(func1d(v, *args, **kwargs))  # noqa: E731
    for _ in lead:
        f = vmap(f)
    out = f(x)
    k = out.ndim - len(lead)  # the function's own output dims, now last
    if k == 0:
        return out
    return moveaxis(out, tuple(range(len(lead), out.ndim)), tuple(range(axis, axis + k)))


def apply_over_axes(func, a, axes):
    a = asarray_any(a)
    for ax in [axes] if isinstance(axes, int) else axes:
        b = asarray_any(func(a, ax))
        if b.ndim == a.ndim - 1:
            b = expand_dims(b, ax)
        elif b.ndim != a.ndim:
            raise ValueError("function is not returning an array of the correct shape")
        a = b
    return a


def piecewise(x, condlist, funclist, *args, **kw):
    """funclist[i] (a function of x, or a constant) where condlist[i]; later conditions win, as
    in NumPy; an extra last entry of funclist is the default. Every branch is evaluated."""
    x = asarray_any(x)
    if isinstance(condlist, (list, tuple)):
        conds = [asarray_any(c) for c in condlist]
    else:
        c = asarray_any(condlist)
        conds = [c] if c.ndim == x.ndim else [c[i] for i in range(c.shape[0])]
    n = len(conds)
    if len(funclist) not in (n, n + 1):
        raise ValueError(f"with {n} condition(s), either {n} or {n + 1} functions are expected")

    def value(f):
        v = f(x, *args, **kw) if callable(f) else f
        return broadcast_to(asarray_any(v).astype(x.dtype), x.shape)

    out = value(funclist[n]) if len(funclist) == n + 1 else zeros(x.shape, x.dtype)
    for c, f in zip(conds, funclist[:n]):
        out = where(c, value(f), out)
    return out


class ufunc:  # noqa: N801  (JAX's name)
    """A scalar function lifted to NumPy's ufunc interface: calls broadcast (vectorize), and
    for binary ufuncs outer, reduce and accumulate (a scan along the axis, in order) and at."""

    def __init__(self, func, /, nin: int, nout: int, *, name: str | None = None, nargs=None, identity=None):
        self.func, self.nin, self.nout = func, int(nin), int(nout)
        self.nargs = nargs if nargs is not None else self.nin
        self.identity = identity
        self.__name__ = name or getattr(func, "__name__", "ufunc")
        self._call = vectorize(func)

    def __repr__(self):
        return f"<jnp.ufunc '{self.__name__}'>"

    def __call__(self, *args, out=None, where=None):
        if out is not None:
            raise NotImplementedError(f"out argument of {self}")
        if where is not None:
            raise NotImplementedError(f"where argument of {self}")
        if len(args) != self.nin:
            raise TypeError(f"{self.__name__}() takes {self.nin} positional argument(s) but {len(args)} were given")
        return self._call(*args)

    def _binary(self, method):
        if self.nin != 2 or self.nout != 1:
            raise ValueError(
                f"{method} only supported for binary ufuncs with a single output; {self} has nin={self.nin}, nout={self.nout}"
            )

    def outer(self, A, B, /):
        self._binary("outer")
        A, B = asarray_any(A), asarray_any(B)
        return self._call(A.reshape(A.shape + (1,) * B.ndim), B)

    def reduce(self, a, axis=0, dtype=None, out=None, keepdims: bool = False, initial=None, where=None):
        self._binary("reduce")
        if out is not None or where is not None:
            raise NotImplementedError(f"out/where arguments of {self}.reduce")
        a = asarray_any(a)
        if dtype is not None:
            a = a.astype(dtype)
        if axis is None:
            x, axis_c = a.ravel(), 0
        else:
            axis_c = canonical_axis(axis, a.ndim)
            x = moveaxis(a, axis_c, 0)
        if initial is None:  # the fold starts from the identity where there is one (as JAX's)
            if self.identity is None and x.shape[0] == 0:
                raise ValueError(f"zero-size array to reduction operation {self.__name__} which has no identity")
            initial = self.identity
        if initial is None:
            init, rest = x[0], x[1:]
        else:
            init, rest = full(x.shape[1:], initial, dtype=x.dtype), x
        acc, _ = scan(lambda c, v: (asarray_any(self._call(c, v)).astype(x.dtype), None), init, rest)
        if keepdims:
            acc = expand_dims(acc, tuple(range(a.ndim)) if axis is None else axis_c)
        return acc

    def accumulate(self, a, axis: int = 0, dtype=None, out=None):
        self._binary("accumulate")
        if out is not None:
            raise NotImplementedError(f"out argument of {self}.accumulate")
        a = asarray_any(a)
        if dtype is not None:
            a = a.astype(dtype)
        axis_c = canonical_axis(axis, a.ndim)
        x = moveaxis(a, axis_c, 0)
        if x.shape[0] == 0:
            return a

        def step(c, v):
            c = asarray_any(self._call(c, v)).astype(x.dtype)
            return c, c

        _, ys = scan(step, x[0], x[1:])
        return moveaxis(concatenate([x[:1], ys], axis=0), 0, axis_c)

    def at(self, a, indices, b=None, /, *, inplace: bool = True):
        """a with func applied at `indices` one index at a time (repeated indices compose)."""
        if inplace:
            raise NotImplementedError(
                "jnp.ufunc.at cannot modify arrays in-place, because JAX arrays are immutable. Pass inplace=False."
            )
        a = asarray_any(a)
        idx = asarray_any(indices).ravel()
        if self.nin == 2:
            bv = broadcast_to(asarray_any(b).astype(a.dtype), idx.shape + a.shape[1:])
        elif self.nin != 1:
            raise ValueError(f"at is only supported for unary and binary ufuncs; {self} has nin={self.nin}")

        def step(arr, k):
            i = idx[k]
            cur = arr[i]
            new = self._call(cur, bv[k]) if self.nin == 2 else self._call(cur)
            return arr.at[i].set(asarray_any(new).astype(a.dtype)), None

        out, _ = scan(step, a, arange(idx.shape[0]))
        return out


def frompyfunc(func, /, nin: int, nout: int, *, identity=None) -> ufunc:
    return ufunc(func, nin, nout, identity=identity)
