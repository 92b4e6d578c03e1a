"""Collectives over named axes (JAX's psum, all_gather, ppermute, ...): ops that exist only
until the batch pass of the vmap / shard_map / pmap binding their `axis_name` rewrites them.

    %s = "jx.psum"(%x) {axis_name = ["i"]} : (tensor<3xf32>) -> tensor<3xf32>
    --batch{axis-name=i}-->  %s = "jx.reduce_sum"(%xb) {axes = [0]} : (tensor<4x3xf32>) -> ...

Batching over another axis name keeps the op (its axes shifted past the batch dim); a
collective that reaches lower-stablehlo had no binding axis: JAX's NameError, unless the host
serves its axes (processes under irjax.distributed, `serve_on_host`): then it lowers to a call of
a host function (dialects/host_calls.py) that runs it on the collective engine while the program runs.
"""

from __future__ import annotations

import numpy as np

from . import hlo, host_calls
from .func import body_ops, callees_of, find_func, op_params
from .lang import Val, bind, broadcast_in_dim, jx, moveaxis, reduce_sum, reshape, zeros
from .registry import Primitive, ShapedType, VerifyError, infer_list, lookup, register

COLLECTIVE = "collective"  # the tag every record here carries (passes/batching.py reads it)


def is_collective(prim: Primitive) -> bool:
    return COLLECTIVE in prim.tags


def uses_axis(module, op, axis_name: str, seen: set | None = None) -> bool:
    """Does op (a collective, or a call-like op whose callees hold one) name `axis_name`? Then
    its results vary over the axis even when no operand does (axis_index, psum of a constant)."""
    prim = lookup(op.name)
    if prim is None:
        return False
    if is_collective(prim):
        return axis_name in _names(op_params(op)["axis_name"])
    seen = set() if seen is None else seen
    for fname in callees_of(op):
        f = find_func(module, fname)
        if fname in seen or f is None:
            continue
        seen.add(fname)
        if any(uses_axis(module, inner, axis_name, seen) for inner in body_ops(f)):
            return True
    return False


def _names(axis_name) -> tuple:
    return (axis_name,) if isinstance(axis_name, str) else tuple(axis_name)


def _check_names(axis_name) -> None:
    names = _names(axis_name)
    if not names or not all(isinstance(n, str) for n in names):
        raise VerifyError(f"axis_name must be one or more axis names, got {axis_name!r}")


def _axis(name, d, ndim, what="axis") -> None:
    if not 0 <= d < ndim:
        raise VerifyError(f"jx.{name}: {what} {d} out of range for an operand of rank {ndim}")


def _front(x: Val, d, size: int) -> Val:
    """x with its batch dim at 0 (broadcast when x is unbatched: the same value everywhere)."""
    return broadcast_in_dim(x, (size,) + x.shape, tuple(range(1, x.ndim + 1))) if d is None else x


def _rest(axis_name, current):
    return tuple(n for n in _names(axis_name) if n != current)


def _emit(name: str, x: Val | None, **params) -> Val:
    return bind(name, *([x] if x is not None else []), **params)


def _unbound_rule(name):
    """impl and lower of a collective that no binding axis removed: JAX's NameError."""

    def rule(*args, axis_name, **params):
        raise NameError(
            f"unbound axis name: {_names(axis_name)[0]} "
            f"(jx.{name} must run under a vmap, shard_map or pmap that binds its axis_name)"
        )

    return rule


# serve(op name, params, in_avals, out_avals) -> a host function number, or None when the host
# does not serve the op's axes; installed by the frontend (irjax's shard_map over processes)
_serve: list = [None]


def serve_on_host(serve) -> None:
    """Let `serve` claim collectives whose axes the host runtime serves: such an op lowers to a
    call of host function serve(...) (an IREE import, dialects/host_calls.py) instead of raising
    NameError, and its impl calls the same function."""
    _serve[0] = serve


def _host_number(name: str, params: dict, in_avals, out_avals):
    serve = _serve[0]
    return None if serve is None else serve(name, params, list(in_avals), list(out_avals))


def _lower_rule(name):
    unbound = _unbound_rule(name)

    def rule(ctx, *args, **params):
        in_avals = list(ctx.in_avals)
        if not args:  # (an import without arguments is not served: axis_index passes a dummy)
            args, in_avals = (hlo.constant(0, np.int32),), [ShapedType((), np.dtype(np.int32))]
        n = _host_number(name, params, in_avals, ctx.out_avals)
        if n is None:
            return unbound(*args, **params)
        return host_calls.lower_host_call(ctx, *args, callback=n)

    return rule


def _impl_rule(name):
    unbound = _unbound_rule(name)

    def rule(*xs, **params):
        xs = [np.asarray(x) for x in xs]
        avals = [ShapedType(x.shape, x.dtype) for x in xs]
        outs = infer_list(lookup("jx." + name), avals, params)
        if not xs:  # (as the lowering: axis_index passes a dummy)
            xs, avals = [np.zeros((), np.int32)], [ShapedType((), np.dtype(np.int32))]
        n = _host_number(name, params, avals, outs)
        if n is None:
            return unbound(*xs, **params)
        return host_calls.call_host(n, xs)[0]

    return rule


# ---- psum / pmax / pmin: reductions over the named axes -----------------------------------


def _register(name, infer, batch, jvp, vjp, doc):
    register(
        Primitive(
            name,
            infer,
            impl=_impl_rule(name),
            lower=_lower_rule(name),
            jvp=jvp,
            vjp=vjp,
            batch=batch,
            family="collectives",
            tags=frozenset({COLLECTIVE}),
            doc=doc,
        )
    )


def _reduction(name, reduce_name, jvp=None, vjp=None):
    def infer(x, axis_name):
        _check_names(axis_name)
        if name != "psum" and x.dtype == np.bool_:
            raise VerifyError(f"jx.{name} does not accept bool")
        return x

    def batch(ctx, vals, dims, *, axis_name):
        (x,), (d,) = vals, dims
        if ctx.axis_name not in _names(axis_name):
            return [(_emit(name, x, axis_name=axis_name), d)]
        if d is None:  # the same value on every member of the axis
            y = x * ctx.axis_size if name == "psum" else x
        else:
            y = bind(reduce_name, x, axes=(0,))
        rest = _rest(axis_name, ctx.axis_name)
        # the result is the same on every member: unbatched (JAX: invariant over the axis)
        return [(_emit(name, y, axis_name=rest) if rest else y, None)]

    _register(name, infer, batch, jvp, vjp, f"{reduce_name} over the members of the named axes")


def _linear_jvp(name):
    def jvp(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        return [_emit(name, x, **params)], [None if t is None else _emit(name, t, **params)]

    return jvp


# psum's transpose is psum (JAX's vmap semantics, and shard_map's with check_vma=False): every
# member's cotangent of the sum is the sum of the members' cotangents; docs/decisions.md
_reduction(
    "psum",
    "reduce_sum",
    jvp=_linear_jvp("psum"),
    vjp=lambda cts, primals, outs, axis_name: [_emit("psum", cts[0], axis_name=axis_name)],
)
# as in JAX, pmax and pmin have no differentiation rules
_reduction("pmax", "reduce_max")
_reduction("pmin", "reduce_min")


def _single(name, axis_name) -> str:
    names = _names(axis_name)
    if len(names) != 1:
        raise VerifyError(f"jx.{name} takes one axis name, got {axis_name!r}")
    return names[0]


# ---- all_gather <-> psum_scatter --------------------------------------------------------------


def _merge(x: Val, d: int) -> Val:
    """Merge axes d and d+1 (d major)."""
    s = x.shape
    return reshape(x, s[:d] + (s[d] * s[d + 1],) + s[d + 2 :])


def _split(x: Val, d: int, n: int) -> Val:
    """Split axis d into (n, size/n), n major."""
    s = x.shape
    return reshape(x, s[:d] + (n, s[d] // n) + s[d + 1 :])


def all_gather_infer(x, *, axis_name, axis, tiled, axis_size):
    _single("all_gather", axis_name)
    if tiled:
        _axis("all_gather", axis, x.ndim)
        return ShapedType(x.shape[:axis] + (x.shape[axis] * axis_size,) + x.shape[axis + 1 :], x.dtype)
    _axis("all_gather", axis, x.ndim + 1)
    return ShapedType(x.shape[:axis] + (axis_size,) + x.shape[axis:], x.dtype)


def all_gather_batch(ctx, vals, dims, *, axis_name, axis, tiled, axis_size):
    (x,), (d,) = vals, dims
    if ctx.axis_name != _single("all_gather", axis_name):
        return [(_emit("all_gather", x, axis_name=axis_name, axis=axis + 1, tiled=tiled, axis_size=axis_size), 0)]
    y = moveaxis(_front(x, d, ctx.axis_size), 0, axis)  # the batch dim becomes data
    return [(_merge(y, axis) if tiled else y, None)]


def psum_scatter_infer(x, *, axis_name, scatter_dimension, tiled, axis_size):
    _single("psum_scatter", axis_name)
    sd = scatter_dimension
    _axis("psum_scatter", sd, x.ndim, "scatter_dimension")
    n = x.shape[sd]
    if (tiled and n % axis_size) or (not tiled and n != axis_size):
        want = f"a multiple of {axis_size}" if tiled else f"{axis_size}"
        raise VerifyError(f"jx.psum_scatter: dimension {sd} has size {n}, expected {want} (the axis size)")
    if tiled:
        return ShapedType(x.shape[:sd] + (n // axis_size,) + x.shape[sd + 1 :], x.dtype)
    return ShapedType(x.shape[:sd] + x.shape[sd + 1 :], x.dtype)


def psum_scatter_batch(ctx, vals, dims, *, axis_name, scatter_dimension, tiled, axis_size):
    (x,), (d,) = vals, dims
    sd = scatter_dimension
    if ctx.axis_name != _single("psum_scatter", axis_name):
        y = _emit("psum_scatter", x, axis_name=axis_name, scatter_dimension=sd + 1, tiled=tiled, axis_size=axis_size)
        return [(y, 0)]
    s = x * ctx.axis_size if d is None else reduce_sum(x, (0,))
    if tiled:
        s = _split(s, sd, ctx.axis_size)
    return [(moveaxis(s, sd, 0), 0)]  # member k keeps block k of the sum


def all_gather_jvp(primals, tangents, **params):
    return _linear_jvp("all_gather")(primals, tangents, **params)


def all_gather_vjp(cts, primals, outs, *, axis_name, axis, tiled, axis_size):
    return [
        _emit("psum_scatter", cts[0], axis_name=axis_name, scatter_dimension=axis, tiled=tiled, axis_size=axis_size)
    ]


def psum_scatter_vjp(cts, primals, outs, *, axis_name, scatter_dimension, tiled, axis_size):
    return [_emit("all_gather", cts[0], axis_name=axis_name, axis=scatter_dimension, tiled=tiled, axis_size=axis_size)]


_register(
    "all_gather",
    all_gather_infer,
    all_gather_batch,
    all_gather_jvp,
    all_gather_vjp,
    "every member's operand, stacked (or concatenated when tiled) along `axis`",
)
_register(
    "psum_scatter",
    psum_scatter_infer,
    psum_scatter_batch,
    _linear_jvp("psum_scatter"),
    psum_scatter_vjp,
    "psum, then member k keeps block k along scatter_dimension",
)

# ---- ppermute ---------------------------------------------------------------------------------


def _check_perm(perm, axis_size=None):
    srcs, dsts = [p[0] for p in perm], [p[1] for p in perm]
    if len(set(srcs)) != len(srcs) or len(set(dsts)) != len(dsts):
        raise ValueError(f"ppermute sources and destinations must be unique, got perm={perm!r}")
    if axis_size is not None and any(not 0 <= i < axis_size for i in srcs + dsts):
        raise ValueError(f"ppermute perm={perm!r} names members outside an axis of size {axis_size}")


def ppermute_infer(x, *, axis_name, perm):
    _single("ppermute", axis_name)
    _check_perm(perm)
    return x


def ppermute_batch(ctx, vals, dims, *, axis_name, perm):
    (x,), (d,) = vals, dims
    if ctx.axis_name != _single("ppermute", axis_name):
        return [(_emit("ppermute", x, axis_name=axis_name, perm=perm), d)]
    n = ctx.axis_size
    _check_perm(perm, n)
    x = _front(x, d, n)
    src_of = {dst: src for src, dst in perm}
    # member dst receives member src's value; members nobody sends to get zeros (as JAX)
    zero = zeros(ShapedType((1,) + x.shape[1:], x.dtype))
    rows = [_row(x, src_of[k]) if k in src_of else zero for k in range(n)]
    return [(jx.concatenate(*rows, dimension=0) if n > 1 else rows[0], 0)]


def _row(x: Val, k: int) -> Val:
    return jx.slice(x, start_indices=(k,) + (0,) * (x.ndim - 1), limit_indices=(k + 1,) + x.shape[1:], strides=None)


def ppermute_vjp(cts, primals, outs, *, axis_name, perm):
    return [_emit("ppermute", cts[0], axis_name=axis_name, perm=tuple((b, a) for a, b in perm))]


_register(
    "ppermute",
    ppermute_infer,
    ppermute_batch,
    _linear_jvp("ppermute"),
    ppermute_vjp,
    "member dst receives member src's operand for each (src, dst) in perm; others zeros",
)

# ---- all_to_all -------------------------------------------------------------------------------


def all_to_all_infer(x, *, axis_name, split_axis, concat_axis, tiled, axis_size):
    _single("all_to_all", axis_name)
    _axis("all_to_all", split_axis, x.ndim, "split_axis")
    _axis("all_to_all", concat_axis, x.ndim, "concat_axis")
    n = x.shape[split_axis]
    if (tiled and n % axis_size) or (not tiled and n != axis_size):
        want = f"a multiple of {axis_size}" if tiled else f"{axis_size}"
        raise VerifyError(f"jx.all_to_all: split_axis {split_axis} has size {n}, expected {want} (the axis size)")
    s = list(x.shape)
    if tiled:
        s[split_axis] //= axis_size
        s[concat_axis] *= axis_size
        return ShapedType(tuple(s), x.dtype)
    del s[split_axis]
    s.insert(concat_axis, axis_size)
    return ShapedType(tuple(s), x.dtype)


def all_to_all_batch(ctx, vals, dims, *, axis_name, split_axis, concat_axis, tiled, axis_size):
    (x,), (d,) = vals, dims
    if ctx.axis_name != _single("all_to_all", axis_name):
        params = dict(axis_name=axis_name, split_axis=split_axis + 1, concat_axis=concat_axis + 1)
        return [(_emit("all_to_all", x, **params, tiled=tiled, axis_size=axis_size), 0)]
    n = ctx.axis_size
    x = _front(x, d, n)  # [j (sender), ...], dim split_axis + 1 indexes the receiver i
    if not tiled:
        y = moveaxis(x, split_axis + 1, 0)  # [i, j, rest]
        return [(moveaxis(y, 1, concat_axis + 1), 0)]
    y = moveaxis(_split(x, split_axis + 1, n), split_axis + 1, 0)  # [i, j, ..., block, ...]
    y = moveaxis(y, 1, concat_axis + 1)  # j just before the concat dim, major
    return [(_merge(y, concat_axis + 1), 0)]


def all_to_all_vjp(cts, primals, outs, *, axis_name, split_axis, concat_axis, tiled, axis_size):
    params = dict(axis_name=axis_name, split_axis=concat_axis, concat_axis=split_axis)
    return [_emit("all_to_all", cts[0], **params, tiled=tiled, axis_size=axis_size)]


_register(
    "all_to_all",
    all_to_all_infer,
    all_to_all_batch,
    _linear_jvp("all_to_all"),
    all_to_all_vjp,
    "member i gets block i of every member's split_axis, stacked along concat_axis",
)

# ---- axis_index -------------------------------------------------------------------------------


def axis_index_infer(*, axis_name):
    _single("axis_index", axis_name)
    return ShapedType((), np.dtype(np.int32))


def axis_index_batch(ctx, vals, dims, *, axis_name):
    if ctx.axis_name != _single("axis_index", axis_name):
        return [(_emit("axis_index", None, axis_name=axis_name), None)]
    return [(jx.iota(dtype=np.dtype(np.int32), shape=(ctx.axis_size,), dimension=0), 0)]


_register(
    "axis_index",
    axis_index_infer,
    axis_index_batch,
    lambda primals, tangents, **p: ([_emit("axis_index", None, **p)], [None]),
    None,
    "this member's index along the named axis (int32)",
)
