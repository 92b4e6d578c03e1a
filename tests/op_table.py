"""One row per jx primitive: operand generators, params and what each check expects.

`tests/test_ops.py` drives every check from these rows (reference vs NumPy, compiled vs
reference, jvp vs finite differences, vjp vs jvp, vmap vs a loop). Adding an op adds a row.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

F32, I32, U32, BOOL = np.dtype("float32"), np.dtype("int32"), np.dtype("uint32"), np.dtype("bool")


# ---- operand generators: each is (row dtype, rng) -> ndarray -----------------------------------


def _rand(rng, shape, dt, lo, hi, irange):
    dt = np.dtype(dt)
    if dt.kind == "f":
        return rng.uniform(lo, hi, shape).astype(dt)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    ilo, ihi = irange
    if dt.kind == "u":
        ilo = max(ilo, 0)
    return rng.integers(ilo, ihi + 1, shape).astype(dt)


def X(shape, lo=-2.0, hi=2.0, irange=(-20, 20)):
    """An operand of the row's dtype."""
    return lambda dt, rng: _rand(rng, shape, dt, lo, hi, irange)


def Xnz(shape, lo=0.5, hi=2.0, irange=(1, 9)):
    """Row dtype, away from zero (either sign for float/int)."""

    def gen(dt, rng):
        v = _rand(rng, shape, dt, lo, hi, irange)
        if np.dtype(dt).kind in "fi":
            v = (v * np.where(rng.random(shape) < 0.5, -1, 1).astype(dt)).astype(dt)
        return v

    return gen


def Xdistinct(shape, scale=1.0):
    """Row dtype, all values distinct (so max/min/sort/argmax have no ties)."""

    def gen(dt, rng):
        n = int(np.prod(shape))
        v = rng.permutation(n).reshape(shape)
        if np.dtype(dt).kind == "f":
            return ((v - n / 2) * scale / n * 4 + rng.uniform(-0.01, 0.01, shape)).astype(dt)
        if np.dtype(dt).kind == "b":
            return v % 2 == 0
        return v.astype(dt)

    return gen


def Xint(shape, lo=-2, hi=2):
    """Row dtype, small integer values (ties for comparisons, exact for floats)."""
    return lambda dt, rng: (
        rng.integers(max(lo, 0) if np.dtype(dt).kind == "u" else lo, hi + 1, shape).astype(dt)
        if np.dtype(dt).kind != "b"
        else rng.random(shape) < 0.5
    )


def Fixed(dtype, shape, lo, hi):
    """An operand of a fixed dtype (indices, predicates)."""
    dtype = np.dtype(dtype)
    return lambda dt, rng: _rand(rng, shape, dtype, lo, hi, (int(lo), int(hi)))


def Const(value):
    return lambda dt, rng: np.asarray(value)


def Scalar(lo=-1.0, hi=1.0):
    return X((), lo, hi)


def Bits(shape):
    """int32 bit patterns of normal float32 values (bitcast without NaN/denormals)."""
    return lambda dt, rng: rng.uniform(-4, 4, shape).astype(np.float32).view(np.int32)


def Unique(dtype, n, hi):
    """n distinct int indices in [0, hi), as an (n, 1) index array."""
    return lambda dt, rng: rng.permutation(hi)[:n].reshape(n, 1).astype(dtype)


# ---- rows --------------------------------------------------------------------------------------


@dataclass
class Row:
    """How to test one primitive (or one parameterization of it).

    diff: "yes" (jvp vs finite differences and vjp vs jvp on float operands),
          "zero" (the rule exists and gives a zero tangent), "jvp-only" (jvp checked,
          reverse mode must raise NotImplementedError), "raises" (both raise), "na" (no operands),
          "none" (not checked here; `why` says why).
    vmap: "yes", "na" (no operands), or a set of argument positions whose batching must raise.
    """

    name: str
    args: tuple
    params: dict | Callable = field(default_factory=dict)
    dtypes: tuple = (F32,)
    np_fn: Callable | None = None  # numpy's own function: np_fn(*args, **params)
    diff: str = "yes"
    vmap: object = "yes"
    why: str = ""  # reason, where diff or vmap is "none"
    tag: str = ""
    fd_tol: float = 2e-3
    rtol: float = 1e-5  # compiled vs reference, float results
    vmap_raises: frozenset = frozenset()

    @property
    def id(self) -> str:
        return self.name + (f"[{self.tag}]" if self.tag else "")

    def params_for(self, dt) -> dict:
        return self.params(np.dtype(dt)) if callable(self.params) else dict(self.params)

    def make(self, dt, seed=0) -> list:
        rng = np.random.default_rng(seed + 1000 * sum(map(ord, self.id)))
        return [g(np.dtype(dt), rng) for g in self.args]


S = (3, 4)
FIU = (F32, I32, U32)
FIUB = (F32, I32, U32, BOOL)


def _unary(name, np_fn, lo=-2.0, hi=2.0, dtypes=(F32,), diff="yes", gen=None, **kw):
    return Row(name, (gen or X(S, lo, hi),), dtypes=dtypes, np_fn=np_fn, diff=diff, **kw)


def _binary(name, np_fn, gens=None, dtypes=(F32,), diff="yes", **kw):
    gens = gens or (X(S), X(S))
    return Row(name, tuple(gens), dtypes=dtypes, np_fn=np_fn, diff=diff, **kw)


def _lgamma(x):
    return np.vectorize(math.lgamma)(x.astype(np.float64)).astype(x.dtype)


def _erf(x):
    return np.vectorize(math.erf)(x.astype(np.float64)).astype(x.dtype)


def _scipy_special():
    import scipy.special  # test-only reference for erfinv / digamma

    return scipy.special


def _cum_np(fn):
    def f(x, axis, reverse):
        if reverse:
            return np.flip(fn(np.flip(x, axis), axis=axis), axis)
        return fn(x, axis=axis)

    return f


def _dot_np(a, b, lhs_contracting, rhs_contracting, lhs_batch, rhs_batch, preferred_element_type=None):
    letters = "abcdefghijklmnop"
    la = [None] * a.ndim
    lb = [None] * b.ndim
    it = iter(letters)
    for i, j in zip(lhs_batch, rhs_batch):
        la[i] = lb[j] = next(it)
    for i, j in zip(lhs_contracting, rhs_contracting):
        la[i] = lb[j] = next(it)
    for i in range(a.ndim):
        la[i] = la[i] or next(it)
    for j in range(b.ndim):
        lb[j] = lb[j] or next(it)
    out = [la[i] for i in lhs_batch]
    out += [la[i] for i in range(a.ndim) if i not in lhs_batch and i not in lhs_contracting]
    out += [lb[j] for j in range(b.ndim) if j not in rhs_batch and j not in rhs_contracting]
    spec = f"{''.join(la)},{''.join(lb)}->{''.join(out)}"
    acc = np.float64 if a.dtype.kind == "f" else a.dtype
    return np.einsum(spec, a.astype(acc), b.astype(acc)).astype(a.dtype)


def _dot(tag, sa, sb, lc, rc, lb=(), rb=(), dtypes=(F32, I32)):
    return Row(
        "dot_general",
        (X(sa, irange=(-5, 5)), X(sb, irange=(-5, 5))),
        dict(lhs_contracting=lc, rhs_contracting=rc, lhs_batch=lb, rhs_batch=rb),
        dtypes=dtypes,
        np_fn=_dot_np,
        tag=tag,
    )


def _scatter(kind, diff, idx):
    return Row(
        "scatter",
        (X((5, 4)), idx, X((3, 4), 0.5, 2.0)),
        dict(update_window_dims=(1,), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(0,), kind=kind),
        dtypes=(F32, I32),
        diff=diff,
        tag=kind,
    )


def _gather_np(x, idx, **p):
    return np.take(x, np.clip(idx[:, 0], 0, x.shape[0] - 1), axis=0)


def _shift_gen():
    return Fixed(I32, S, 0, 35)


ROWS: list[Row] = [
    # -- unary --------------------------------------------------------------------------------
    _unary("neg", np.negative, dtypes=FIU),
    _unary("sign", np.sign, dtypes=(F32, I32), gen=Xint(S), diff="yes"),
    _unary("floor", np.floor),
    _unary("ceil", np.ceil),
    _unary(
        "round", np.round, gen=lambda dt, rng: (rng.integers(-6, 6, S) / 2 + rng.choice([0.1, -0.2, 0.3], S)).astype(dt)
    ),
    _unary(
        "is_finite",
        np.isfinite,
        gen=Const(np.array([[1.0, np.inf, -np.inf, np.nan], [0.0, -2.5, 3e38, 1e-3]], np.float32)),
        diff="zero",
    ),
    _unary("exp", np.exp),
    _unary("exp2", np.exp2),
    _unary("log", np.log, 0.2, 3.0),
    _unary("log1p", np.log1p, -0.5, 2.0),
    _unary("expm1", np.expm1),
    _unary("tanh", np.tanh),
    _unary("logistic", lambda x: 1 / (1 + np.exp(-x)), -4.0, 4.0),
    _unary("sin", np.sin),
    _unary("cos", np.cos),
    _unary("tan", np.tan, -1.2, 1.2),
    _unary("asin", np.arcsin, -0.9, 0.9),
    _unary("acos", np.arccos, -0.9, 0.9),
    _unary("atan", np.arctan),
    _unary("sinh", np.sinh),
    _unary("cosh", np.cosh),
    _unary("asinh", np.arcsinh),
    _unary("acosh", np.arccosh, 1.2, 3.0),
    _unary("atanh", np.arctanh, -0.9, 0.9),
    _unary("sqrt", np.sqrt, 0.2, 3.0),
    _unary("rsqrt", lambda x: 1 / np.sqrt(x), 0.2, 3.0),
    _unary("cbrt", np.cbrt, gen=Xnz(S, 0.3, 2.0)),
    _unary("abs", np.abs, dtypes=(F32, I32), gen=Xnz(S, 0.1, 2.0, (0, 9))),
    _unary("erf", _erf),
    _unary("erf_inv", lambda x: _scipy_special().erfinv(x.astype(np.float64)).astype(x.dtype), -0.8, 0.8),
    _unary("lgamma", _lgamma, 0.5, 4.0, rtol=2e-4),  # chlo.lgamma: ~1e-6 absolute near its zeros
    _unary("digamma", lambda x: _scipy_special().digamma(x.astype(np.float64)).astype(x.dtype), 0.5, 4.0),
    _unary(
        "not", lambda x: np.logical_not(x) if x.dtype == BOOL else np.invert(x), dtypes=(BOOL, I32, U32), diff="zero"
    ),
    _unary(
        "popcnt",
        lambda x: np.bitwise_count(x.view(f"u{x.dtype.itemsize}")).astype(x.dtype),
        dtypes=(I32, U32),
        gen=X(S, irange=(-(2**31), 2**31 - 1)),
        diff="zero",
    ),
    _unary("clz", None, dtypes=(I32, U32), gen=X(S, irange=(-(2**31), 2**31 - 1)), diff="zero"),
    Row("integer_pow", (X(S, irange=(-6, 6)),), dict(y=3), dtypes=(F32, I32), np_fn=lambda x, y: x**y, tag="3"),
    Row("integer_pow", (Xnz(S, 0.5, 2.0),), dict(y=-2), np_fn=lambda x, y: np.float32(1) / x ** (-y), tag="-2"),
    Row("integer_pow", (X(S),), dict(y=0), np_fn=lambda x, y: np.ones_like(x), tag="0"),
    # -- binary -------------------------------------------------------------------------------
    _binary("add", np.add, dtypes=FIU),
    _binary("sub", np.subtract, dtypes=FIU),
    _binary("mul", np.multiply, dtypes=FIUB),
    _binary("div", lambda x, y: x / y if x.dtype.kind == "f" else None, (X(S), Xnz(S)), dtypes=FIU),
    _binary("rem", np.fmod, (X(S, -4, 4, (-40, 40)), Xnz(S, 0.7, 1.9, (1, 9))), dtypes=FIU),
    _binary("pow", np.power, (X(S, 0.3, 2.0), X(S, -1.5, 1.5))),
    _binary("max", np.maximum, (Xdistinct(S), Xdistinct(S, 0.9)), dtypes=FIUB),
    _binary("min", np.minimum, (Xdistinct(S), Xdistinct(S, 0.9)), dtypes=FIUB),
    _binary("atan2", np.arctan2, (Xnz(S), Xnz(S))),
    _binary("and", np.bitwise_and, (X(S, irange=(-1000, 1000)),) * 2, dtypes=(BOOL, I32, U32), diff="zero"),
    _binary("or", np.bitwise_or, (X(S, irange=(-1000, 1000)),) * 2, dtypes=(BOOL, I32, U32), diff="zero"),
    _binary("xor", np.bitwise_xor, (X(S, irange=(-1000, 1000)),) * 2, dtypes=(BOOL, I32, U32), diff="zero"),
    _binary("shift_left", None, (X(S, irange=(-1000, 1000)), X(S, irange=(0, 35))), dtypes=(I32, U32), diff="zero"),
    _binary(
        "shift_right_logical", None, (X(S, irange=(-1000, 1000)), X(S, irange=(0, 35))), dtypes=(I32, U32), diff="zero"
    ),
    _binary(
        "shift_right_arithmetic",
        None,
        (X(S, irange=(-1000, 1000)), X(S, irange=(0, 35))),
        dtypes=(I32, U32),
        diff="zero",
    ),
    *[
        _binary(n, f, (Xint(S), Xint(S)), dtypes=FIUB, diff="zero")
        for n, f in (
            ("eq", np.equal),
            ("ne", np.not_equal),
            ("lt", np.less),
            ("le", np.less_equal),
            ("gt", np.greater),
            ("ge", np.greater_equal),
        )
    ],
    # -- select / clamp / convert ---------------------------------------------------------------
    Row("select", (Fixed(BOOL, S, 0, 1), X(S), X(S)), dtypes=(F32, I32, BOOL), np_fn=np.where),
    Row(
        "clamp",
        (X(S, -1.5, -0.5), X(S, -3, 3), X(S, 0.5, 1.5)),
        dtypes=(F32, I32),
        np_fn=lambda lo, x, hi: np.clip(x, lo, hi),
    ),
    Row(
        "convert_element_type",
        (X(S, -100, 100, (-100, 100)),),
        lambda dt: dict(new_dtype=I32),
        dtypes=(F32, U32, BOOL),
        np_fn=lambda x, new_dtype: x.astype(new_dtype) if x.dtype.kind != "f" else np.trunc(x).astype(new_dtype),
        diff="zero",
        tag="to_i32",
    ),
    Row(
        "convert_element_type",
        (X(S, irange=(-(2**24), 2**24)),),
        dict(new_dtype=F32),
        dtypes=(I32, U32, BOOL),
        np_fn=lambda x, new_dtype: x.astype(new_dtype),
        diff="zero",
        tag="to_f32",
    ),
    Row(
        "convert_element_type",
        (Xint(S, -1, 1),),
        dict(new_dtype=BOOL),
        dtypes=(F32, I32),
        np_fn=lambda x, new_dtype: x.astype(bool),
        diff="zero",
        tag="to_bool",
    ),
    Row("convert_element_type", (X(S),), dict(new_dtype=F32), np_fn=lambda x, new_dtype: x.copy(), tag="f32_to_f32"),
    Row(
        "bitcast_convert_type",
        (Bits(S),),
        dict(new_dtype=F32),
        dtypes=(I32,),
        np_fn=lambda x, new_dtype: x.view(new_dtype),
        diff="zero",
        tag="i32_to_f32",
    ),
    Row(
        "bitcast_convert_type",
        (X(S),),
        dict(new_dtype=I32),
        np_fn=lambda x, new_dtype: x.view(new_dtype),
        diff="zero",
        tag="f32_to_i32",
    ),
    # -- shape ops --------------------------------------------------------------------------------
    Row(
        "broadcast_in_dim",
        (X((3, 1)),),
        dict(shape=(2, 3, 4), broadcast_dimensions=(1, 2)),
        dtypes=(F32, I32, BOOL),
        np_fn=lambda x, shape, broadcast_dimensions: np.broadcast_to(x, shape),
    ),
    Row(
        "reshape",
        (X(S),),
        dict(new_sizes=(2, 6)),
        dtypes=(F32, I32, BOOL),
        np_fn=lambda x, new_sizes: np.reshape(x, new_sizes),
    ),
    Row(
        "transpose",
        (X((2, 3, 4)),),
        dict(permutation=(2, 0, 1)),
        dtypes=(F32, I32, BOOL),
        np_fn=lambda x, permutation: np.transpose(x, permutation),
    ),
    Row(
        "concatenate",
        (X((3, 2)), X((3, 1)), X(S)),
        dict(dimension=1),
        dtypes=(F32, I32, BOOL),
        np_fn=lambda *xs, dimension: np.concatenate(xs, axis=dimension),
    ),
    Row("pad", (X(S), Scalar()), dict(padding_config=((1, 2, 1), (0, -1, 0))), dtypes=(F32, I32), np_fn=None),
    Row(
        "pad",
        (X(S), Scalar()),
        dict(padding_config=((2, 1, 0), (1, 3, 0))),
        dtypes=(F32,),
        np_fn=lambda x, v, padding_config: np.pad(x, [(lo, hi) for lo, hi, _ in padding_config], constant_values=v),
        tag="edges",
    ),
    Row(
        "rev",
        (X((2, 3, 4)),),
        dict(dimensions=(0, 2)),
        dtypes=(F32, I32, BOOL),
        np_fn=lambda x, dimensions: np.flip(x, dimensions),
    ),
    # -- reductions ---------------------------------------------------------------------------------
    Row(
        "reduce_sum",
        (X((3, 4, 2)),),
        dict(axes=(0, 2)),
        dtypes=FIU,
        np_fn=lambda x, axes: np.sum(x, axis=axes, dtype=x.dtype),
    ),
    Row(
        "reduce_max",
        (Xdistinct((3, 4, 2)),),
        dict(axes=(0, 2)),
        dtypes=FIUB,
        np_fn=lambda x, axes: np.max(x, axis=axes),
    ),
    Row(
        "reduce_min", (Xdistinct((3, 4, 2)),), dict(axes=(1,)), dtypes=FIUB, np_fn=lambda x, axes: np.min(x, axis=axes)
    ),
    Row(
        "reduce_prod",
        (Xnz((3, 4, 2), 0.5, 1.5, (1, 3)),),
        dict(axes=(0, 2)),
        dtypes=(F32, I32),
        np_fn=lambda x, axes: np.prod(x, axis=axes, dtype=x.dtype),
    ),
    Row(
        "reduce_and", (X(S),), dict(axes=(1,)), dtypes=(BOOL,), np_fn=lambda x, axes: np.all(x, axis=axes), diff="zero"
    ),
    Row("reduce_or", (X(S),), dict(axes=(0,)), dtypes=(BOOL,), np_fn=lambda x, axes: np.any(x, axis=axes), diff="zero"),
    Row(
        "argmax",
        (Xint(S, -3, 3),),
        dict(axis=1, index_dtype=I32),
        dtypes=(F32, I32),
        np_fn=lambda x, axis, index_dtype: np.argmax(x, axis=axis).astype(index_dtype),
        diff="zero",
    ),
    Row(
        "argmin",
        (Xint(S, -3, 3),),
        dict(axis=0, index_dtype=I32),
        dtypes=(F32, I32),
        np_fn=lambda x, axis, index_dtype: np.argmin(x, axis=axis).astype(index_dtype),
        diff="zero",
    ),
    Row("cumsum", (X(S),), dict(axis=1, reverse=False), dtypes=FIU, np_fn=_cum_np(np.cumsum)),
    Row("cumsum", (X(S),), dict(axis=0, reverse=True), np_fn=_cum_np(np.cumsum), tag="reverse"),
    Row(
        "cumprod", (Xnz(S, 0.5, 1.5, (1, 3)),), dict(axis=1, reverse=True), dtypes=(F32, I32), np_fn=_cum_np(np.cumprod)
    ),
    Row("cummax", (Xdistinct(S),), dict(axis=1, reverse=False), dtypes=FIU, np_fn=_cum_np(np.maximum.accumulate)),
    Row("cummin", (Xdistinct(S),), dict(axis=1, reverse=True), dtypes=FIU, np_fn=_cum_np(np.minimum.accumulate)),
    _dot("matmul", (3, 4), (4, 5), (1,), (0,)),
    _dot("batched", (2, 3, 4), (2, 4, 5), (2,), (1,), (0,), (0,)),
    _dot("lead_contract", (4, 3), (5, 4), (0,), (1,), dtypes=(F32,)),
    _dot("mid_batch", (3, 2, 4), (4, 2, 5), (2,), (0,), (1,), (1,), dtypes=(F32,)),
    # -- indexing -------------------------------------------------------------------------------------
    Row(
        "slice",
        (X((5, 6)),),
        dict(start_indices=(1, 0), limit_indices=(4, 6), strides=(2, 3)),
        dtypes=(F32, I32, BOOL),
        np_fn=lambda x, start_indices, limit_indices, strides: x[1:4:2, 0:6:3],
    ),
    Row(
        "dynamic_slice",
        (X((5, 6)), Const(np.int32(1)), Const(np.int32(4))),
        dict(slice_sizes=(2, 3)),
        dtypes=(F32, I32),
        np_fn=lambda x, i, j, slice_sizes: x[1:3, 3:6],
    ),
    Row(
        "dynamic_update_slice",
        (X((5, 6)), X((2, 3)), Const(np.int32(4)), Const(np.int32(-1))),
        dtypes=(F32, I32),
        np_fn=None,
    ),
    Row(
        "gather",
        (X((5, 4)), Const(np.array([[2], [0], [7], [-1]], np.int32))),
        dict(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,), slice_sizes=(1, 4)),
        dtypes=(F32, I32, BOOL),
        np_fn=_gather_np,
        tag="rows",
    ),
    Row(
        "gather",
        (X(S), Const(np.array([[0, 3], [2, 1], [1, 1], [2, 0], [0, 0]], np.int32))),
        dict(offset_dims=(), collapsed_slice_dims=(0, 1), start_index_map=(0, 1), slice_sizes=(1, 1)),
        dtypes=(F32,),
        np_fn=lambda x, idx, **p: x[idx[:, 0], idx[:, 1]],
        tag="points",
    ),
    _scatter("add", "yes", Const(np.array([[1], [6], [1]], np.int32))),  # duplicate + out of range
    _scatter("set", "yes", Unique(np.int32, 3, 5)),
    _scatter("mul", "yes", Const(np.array([[1], [3], [1]], np.int32))),  # a repeated place
    _scatter("min", "yes", Unique(np.int32, 3, 5)),
    _scatter("max", "yes", Const(np.array([[4], [7], [0]], np.int32))),  # one dropped
    # -- misc -------------------------------------------------------------------------------------------
    Row("constant", (), dict(value=np.arange(6, dtype=np.float32).reshape(2, 3)), diff="na", vmap="na"),
    Row(
        "iota",
        (),
        lambda dt: dict(dtype=dt, shape=(3, 4), dimension=1),
        dtypes=(F32, I32, U32),
        np_fn=lambda dtype, shape, dimension: np.broadcast_to(np.arange(shape[1], dtype=dtype), shape),
        diff="na",
        vmap="na",
    ),
    Row(
        "sort",
        (Xdistinct(S),),
        dict(dimension=1, num_keys=1),
        dtypes=FIU,
        np_fn=lambda x, dimension, num_keys: [np.sort(x, axis=dimension)],
    ),
    Row(
        "sort",
        (Xdistinct(S), Xint(S, -9, 9)),
        dict(dimension=0, num_keys=1),
        dtypes=(F32, I32),
        np_fn=None,
        tag="key_value",
    ),
    Row(
        "sort",
        (Xint(S, -1, 1), Xdistinct(S)),
        dict(dimension=1, num_keys=1),
        dtypes=(F32, I32),
        np_fn=None,
        tag="stable_ties",
        diff="none",
        why="tied keys: finite differences would reorder",
    ),
    Row(
        "sort",
        (Xint(S, -1, 1), Xdistinct(S), X(S)),
        dict(dimension=1, num_keys=2),
        dtypes=(F32, I32),
        np_fn=None,
        tag="two_keys_ties",
        diff="none",
        why="tied keys: finite differences would reorder",
    ),
    Row(
        "sort",
        (
            Const(
                np.array([[3.0, np.nan, -1.0, 2.0], [np.nan, 0.5, -np.inf, np.inf], [1.0, 1.0, 0.0, -0.0]], np.float32)
            ),
        ),
        dict(dimension=1, num_keys=1),
        np_fn=lambda x, dimension, num_keys: [np.sort(x, axis=dimension)],
        tag="nan",
        diff="none",
        why="NaN/inf inputs have no finite differences",
    ),
    Row("stop_gradient", (X(S),), diff="zero", np_fn=lambda x: x),
]


# -- convolution / windows / precision (issue 14) -------------------------------------------------


def _conv(tag, ls, rs, dtypes=(F32, I32), **kw):
    n = len(ls) - 2
    p = dict(
        window_strides=(1,) * n,
        padding=((0, 0),) * n,
        lhs_dilation=(1,) * n,
        rhs_dilation=(1,) * n,
        dimension_numbers=(tuple(range(n + 2)),) * 3,
        feature_group_count=1,
        batch_group_count=1,
    )
    p.update(kw)
    return Row("conv_general_dilated", (X(ls, irange=(-4, 4)), X(rs, irange=(-4, 4))), p, dtypes=dtypes, tag=tag)


def _window(kind, tag, shape, dtypes=(F32, I32), **kw):
    n = len(shape)
    p = dict(
        kind=kind,
        window_dimensions=(2,) * n,
        window_strides=(1,) * n,
        padding=((0, 0),) * n,
        base_dilation=(1,) * n,
        window_dilation=(1,) * n,
    )
    p.update(kw)
    gen = X(shape, irange=(-50, 50)) if kind == "sum" else Xdistinct(shape)
    return Row("reduce_window", (gen,), p, dtypes=dtypes, tag=tag)


ROWS += [
    _conv(
        "strided_dilated",
        (2, 3, 7, 6),
        (4, 3, 3, 2),
        window_strides=(2, 1),
        padding=((1, 2), (0, 1)),
        lhs_dilation=(1, 2),
        rhs_dilation=(2, 1),
    ),
    _conv(
        "nhwc",
        (2, 5, 6, 3),
        (3, 2, 3, 4),
        dtypes=(F32,),
        window_strides=(1, 2),
        padding=((1, 1), (0, 1)),
        dimension_numbers=((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2)),
    ),
    _conv(
        "feature_groups",
        (2, 6, 5),
        (6, 2, 3),
        dtypes=(F32,),
        window_strides=(2,),
        padding=((1, 1),),
        feature_group_count=3,
    ),
    _conv("batch_groups", (4, 3, 6), (6, 3, 2), dtypes=(F32,), padding=((0, 1),), batch_group_count=2),
    _window(
        "sum",
        "strided_padded",
        (4, 6, 5),
        dtypes=(F32, I32, U32),
        window_strides=(1, 2, 2),
        padding=((0, 1), (1, 0), (1, 1)),
    ),
    _window(
        "max",
        "dilated",
        (4, 6, 5),
        dtypes=(F32, I32, U32, BOOL),
        window_strides=(2, 1, 1),
        base_dilation=(1, 2, 1),
        window_dilation=(1, 1, 2),
        padding=((1, 0), (0, 1), (0, 0)),
    ),
    _window("min", "strided", (5, 6), window_dimensions=(3, 2), window_strides=(2, 2), padding=((1, 1), (0, 0))),
    Row(
        "reduce_precision",
        (X(S, -300.0, 300.0),),
        dict(exponent_bits=5, mantissa_bits=10),
        np_fn=lambda x, exponent_bits, mantissa_bits: x.astype(np.float16).astype(np.float32),
        tag="f16",
        diff="none",
        why="rounding is piecewise constant; its (rounded) jvp is checked in test_windows.py",
    ),
]


def C(shape, scale=2.0):
    """A complex64 operand (whatever the row dtype)."""
    return lambda dt, rng: (scale * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))).astype(np.complex64)


_COMPLEX_WHY = "complex autodiff (JAX's transposes) is checked against JAX in tests/test_complex.py"
ROWS += [
    Row("complex", (X(S), X(S)), np_fn=lambda re, im: re + 1j * im, diff="none", why=_COMPLEX_WHY),
    Row("real", (C(S),), np_fn=np.real, diff="none", why=_COMPLEX_WHY),
    Row("imag", (C(S),), np_fn=np.imag, diff="none", why=_COMPLEX_WHY),
    Row("conj", (C(S),), np_fn=np.conj, diff="none", why=_COMPLEX_WHY),
]

_FFT_WHY = "complex autodiff (JAX's transposes) is checked against JAX in tests/test_fft.py"
ROWS += [
    Row(
        "fft",
        (C((3, 8)),),
        dict(fft_type="FFT", fft_lengths=(8,)),
        np_fn=lambda x, **_: np.fft.fft(x),
        tag="pow2",
        diff="none",
        why=_FFT_WHY,
    ),
    Row(
        "fft",
        (C((2, 6, 5)),),
        dict(fft_type="IFFT", fft_lengths=(6, 5)),
        np_fn=lambda x, **_: np.fft.ifft2(x),
        tag="ifft2",
        diff="none",
        why=_FFT_WHY,
    ),
    Row(
        "fft",
        (X((3, 10)),),
        dict(fft_type="RFFT", fft_lengths=(10,)),
        np_fn=lambda x, **_: np.fft.rfft(x),
        tag="rfft",
        diff="none",
        why=_FFT_WHY,
    ),
    Row(
        "fft",
        (C((3, 5)),),
        dict(fft_type="IRFFT", fft_lengths=(9,)),
        np_fn=lambda x, **_: np.fft.irfft(x, 9),
        tag="irfft",
        diff="none",
        why=_FFT_WHY,
    ),
]
