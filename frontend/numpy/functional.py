"""Function-lifting helpers built on vmap: vectorize (with gufunc signatures),
apply_along_axis, apply_over_axes, piecewise."""

from __future__ import annotations

import functools
import re

import numpy as np
from irjax.api import vmap

from ._util import asarray_any, canonical_axis
from .creation import zeros
from .shape import broadcast_to, expand_dims, moveaxis
from .ufuncs import where

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
