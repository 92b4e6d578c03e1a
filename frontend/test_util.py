"""`irjax.test_util.check_grads`: autodiff (JVP, VJP, linearize) against central finite
differences along one random direction, to any order, as `jax.test_util` does."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import api
from .tree_util import tree_leaves, tree_map, tree_structure

__all__ = ["check_grads", "check_jvp", "check_vjp", "EPS", "default_gradient_tolerance"]

EPS = 1e-4
# per-dtype tolerances (JAX's defaults); atol/rtol are scaled by the array size
default_gradient_tolerance: dict[np.dtype, float] = {
    np.dtype(np.float16): 1e-2,
    np.dtype(np.float32): 2e-3,
    np.dtype(np.float64): 1e-5,
    np.dtype(np.complex64): 1e-3,
    np.dtype(np.complex128): 1e-5,
}


def _dtype(x: Any) -> np.dtype:
    if isinstance(x, (bool, int, float, complex)):
        return np.dtype(np.float32) if isinstance(x, float) else np.asarray(x).dtype
    return np.dtype(getattr(x, "dtype", None) or np.asarray(x).dtype)


def _tol(dtype: np.dtype, tol: Any) -> float:
    if tol is None:
        return default_gradient_tolerance.get(np.dtype(dtype), 0.0)
    if isinstance(tol, dict):
        tol = {np.dtype(k): v for k, v in tol.items()}
        return tol.get(np.dtype(dtype), default_gradient_tolerance.get(np.dtype(dtype), 0.0))
    return tol


def _check_close(xs: Any, ys: Any, atol: Any, rtol: Any, err_msg: str) -> None:
    if tree_structure(xs) != tree_structure(ys):
        raise AssertionError(f"{err_msg}: tree structures differ: {tree_structure(xs)} vs {tree_structure(ys)}")
    for x, y in zip(tree_leaves(xs), tree_leaves(ys)):
        x, y = np.asarray(x), np.asarray(y)
        a = max(_tol(x.dtype, atol), _tol(y.dtype, atol))
        r = max(_tol(x.dtype, rtol), _tol(y.dtype, rtol))
        wide = np.complex128 if np.iscomplexobj(x) or np.iscomplexobj(y) else np.float64
        np.testing.assert_allclose(x.astype(wide), y.astype(wide), atol=a * x.size, rtol=r * y.size, err_msg=err_msg)


def _check_dtypes_match(xs: Any, ys: Any) -> None:
    for x, y in zip(tree_leaves(xs), tree_leaves(ys)):
        if _dtype(x) != _dtype(y):
            raise AssertionError(f"dtypes differ: {_dtype(x)} vs {_dtype(y)}")


def _rand_like(rng: np.random.RandomState, x: Any) -> Any:
    dtype, shape = _dtype(x), np.shape(x)
    out = np.asarray(rng.randn(*shape), dtype=dtype)
    if np.issubdtype(dtype, np.complexfloating):
        out = out + dtype.type(1j) * np.asarray(rng.randn(*shape), dtype=dtype)
    return out.item() if isinstance(x, (int, float, complex)) else out


def _axpy(a: float, xs: Any, ys: Any) -> Any:
    """ys + a * xs, computed in each leaf's own dtype (as the arguments' type)."""

    def one(x, y):
        dt = _dtype(y)
        out = np.asarray(y, dt) + np.asarray(np.asarray(x, dt) * dt.type(a), dt)
        return out.item() if isinstance(y, (int, float, complex)) else out

    return tree_map(one, xs, ys)


def numerical_jvp(f: Callable, primals: Sequence, tangents: Sequence, eps: float = EPS) -> Any:
    """Central difference (f(x + eps t) - f(x - eps t)) / (2 eps)."""
    f_pos = f(*_axpy(eps, tangents, primals))
    f_neg = f(*_axpy(-eps, tangents, primals))

    def diff(p, n):
        dt = _dtype(p)
        return np.asarray((np.asarray(p, dt) - np.asarray(n, dt)) * dt.type(0.5 / eps), dt)

    return tree_map(diff, f_pos, f_neg)


def _inner_prod(xs: Any, ys: Any) -> Any:
    return sum(
        np.sum(
            np.asarray(x, np.complex128 if np.iscomplexobj(x) else np.float64)
            * np.asarray(y, np.complex128 if np.iscomplexobj(y) else np.float64)
        )
        for x, y in zip(tree_leaves(xs), tree_leaves(ys))
    )


def check_jvp(
    f: Callable,
    f_jvp: Callable,
    args: Sequence,
    atol: Any = None,
    rtol: Any = None,
    eps: float = EPS,
    err_msg: str = "",
) -> None:
    """f_jvp(args, tangents) against f's value and a central difference."""
    tangent = tree_map(functools.partial(_rand_like, np.random.RandomState(0)), args)
    v_out, t_out = f_jvp(args, tangent)
    _check_dtypes_match(v_out, t_out)
    v_expected = f(*args)
    _check_dtypes_match(v_out, v_expected)
    _check_close(v_out, v_expected, atol, rtol, f"{err_msg} primal" if err_msg else "primal")
    _check_close(
        t_out, numerical_jvp(f, args, tangent, eps), atol, rtol, f"{err_msg} tangent" if err_msg else "tangent"
    )


def check_vjp(
    f: Callable,
    f_vjp: Callable,
    args: Sequence,
    atol: Any = None,
    rtol: Any = None,
    eps: float = EPS,
    err_msg: str = "",
) -> None:
    """<t, vjp(ct)> against <numerical jvp(t), ct> for random t and ct."""
    rand = functools.partial(_rand_like, np.random.RandomState(0))
    v_out, vjpfun = f_vjp(*args)
    _check_close(v_out, f(*args), atol, rtol, f"{err_msg} primal" if err_msg else "primal")
    tangent = tree_map(rand, args)
    tangent_out = numerical_jvp(f, args, tangent, eps)
    cotangent = tree_map(rand, v_out)
    cotangent_out = tree_map(np.conj, vjpfun(tree_map(np.conj, cotangent)))
    ip = _inner_prod(tangent, cotangent_out)
    ip_expected = _inner_prod(tangent_out, cotangent)
    dt = _dtype(tree_leaves(v_out)[0]) if tree_leaves(v_out) else np.dtype(np.float32)
    _check_close(
        np.asarray(ip, dt),
        np.asarray(ip_expected, dt),
        atol,
        rtol,
        f"{err_msg} cotangent projection" if err_msg else "cotangent projection",
    )


def _jvp_from_lin(f: Callable, primals: Sequence, tangents: Sequence) -> tuple[Any, Any]:
    out, f_lin = api.linearize(f, *primals)
    return out, f_lin(*tangents)


def check_grads(
    f: Callable,
    args: Sequence,
    order: int,
    modes: Sequence[str] = ("fwd", "rev"),
    atol: Any = None,
    rtol: Any = None,
    eps: float | None = None,
) -> None:
    """Checks f's derivatives up to `order` in `modes` ('fwd', 'rev', 'lin') at `args`
    against finite differences; raises AssertionError on a mismatch."""
    if order < 1:
        raise ValueError(f"check_grads: order must be at least 1, got {order}.")
    bad = set(modes) - {"fwd", "rev", "lin"}
    if bad:
        raise ValueError(f"check_grads: modes must be among 'fwd', 'rev', 'lin'; got {sorted(bad)}.")
    args, eps = tuple(args), eps or EPS

    def check(f, args, order, err_msg=""):
        if "fwd" in modes:
            msg = f"JVP of {err_msg}" if err_msg else "JVP"
            check_jvp(f, functools.partial(api.jvp, f), args, atol, rtol, eps, msg)
            if order > 1:
                check(functools.partial(api.jvp, f), (args, args), order - 1, msg)
        if "rev" in modes:
            msg = f"VJP of {err_msg}" if err_msg else "VJP"
            check_vjp(f, functools.partial(api.vjp, f), args, atol, rtol, eps, msg)
            if order > 1:

                def f_vjp(*a):
                    out, vjp_fn = api.vjp(f, *a)
                    return vjp_fn(out)

                check(f_vjp, args, order - 1, msg)
        if "lin" in modes:
            msg = f"LIN of {err_msg}" if err_msg else "LIN"
            check_jvp(f, functools.partial(_jvp_from_lin, f), args, atol, rtol, eps, msg)
            if order > 1:
                check(functools.partial(_jvp_from_lin, f), (args, args), order - 1, msg)

    check(f, args, order)
