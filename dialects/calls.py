"""Call-like ops: the transform context their rules receive, and the records of jx.call and
the custom-derivative calls (jx.custom_jvp_call, jx.custom_vjp_call).

    %r = "jx.call"(%x) {callee = @f} : (tensor<3xf32>) -> tensor<3xf32>
    --jvp-->  %r, %t = "jx.call"(%x, %tx) {callee = @f_jvp}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from . import hlo
from .builder import emit, ir_type
from .func import CALL_OP, emit_custom_call
from .lang import Val, is_float, jx, reduce_sum, reshape, zeros, zeros_like
from .mlir import ir
from .registry import Primitive, ShapedType, VerifyError, register


class TransformCtx(Protocol):
    """What a call-like op's rules may ask of the pass transforming it (passes/transform.py)."""

    module: ir.Module
    out_avals: list[ShapedType]  # the op's result types
    axis_size: int  # batching only: the size of the mapped axis
    axis_name: str | None  # batching only: its name (collectives over it are resolved)
    active_operands: tuple | None  # reverse mode only: operands that need cotangents (None: all)

    def signature(self, fname: str) -> tuple[list[ShapedType], list[ShapedType]]:
        """(argument, result) types of @fname; VerifyError when the module lacks it."""

    def jvp_of(self, fname: str, wrt: Sequence[bool] | None = None) -> str:
        """@fname's jvp: (primals, tangents of the arguments where wrt (default all)) -> (outs,
        out tangents); what depends on no argument with a tangent is not differentiated."""

    def vjp_of(self, fname: str, mask: Sequence[bool] | None = None, wrt: Sequence[bool] | None = None) -> str:
        """@fname's vjp: (primals, cts of the outputs where mask) -> (outs, in cts); in cts only
        for the arguments where wrt (default all)."""

    def batched(self, fname: str, dims: Sequence, size: int, out_batched=None) -> str:
        """@fname batched over dims (0 / None); results at axis 0 except where out_batched
        is False (left unbatched)."""

    def batched_results(self, fname: str) -> tuple | None:
        """Per result of a batched @fname: did it vary over the axis (else: broadcast)?"""

    def derived(self, key: tuple, base: str, in_avals: Sequence[ShapedType], body: Callable) -> str:
        """A helper @base(in_avals) { body(*args) }, memoized per module under `key`."""


def batched_aval(a: ShapedType, d, size: int) -> ShapedType:
    if d is None:
        return a
    shape = list(a.shape)
    shape.insert(d, size)
    return ShapedType(tuple(shape), a.dtype)


def _raw(x):
    return x.v if isinstance(x, Val) else x


def call(fname: str, operands: Sequence, out_avals: Sequence[ShapedType]) -> list[Val]:
    """`jx.call @fname(operands)` at the insertion point (Vals or ir.Values in, Vals out)."""
    op = ir.Operation.create(
        CALL_OP,
        results=[ir_type(a) for a in out_avals],
        operands=[_raw(x) for x in operands],
        attributes={"callee": ir.FlatSymbolRefAttr.get(fname)},
    )
    return [Val(r) for r in op.results]


def emit_op(name: str, operands: Sequence, params: dict, out_avals: Sequence[ShapedType]) -> list[Val]:
    """A call-like `jx.<name>` (result types given, as they come from the callees)."""
    return [Val(r) for r in emit(name, [_raw(x) for x in operands], params, [ir_type(a) for a in out_avals])]


def func_call(fname: str, operands: Sequence, out_avals: Sequence[ShapedType]) -> list:
    """`func.call @fname` (the lowering of a call; MLIR's inliner and IREE know it)."""
    op = ir.Operation.create(
        "func.call",
        results=[hlo._type(a) for a in out_avals],
        operands=list(operands),
        attributes={"callee": ir.FlatSymbolRefAttr.get(fname)},
    )
    return list(op.results)


def fill_zeros(cts: Sequence, like: Sequence[Val]) -> list[Val]:
    return [c if c is not None else zeros_like(o) for c, o in zip(cts, like)]


def no_infer(*avals, **params):
    raise VerifyError("a call-like op's result types come from its callees; emit it with result types")


def verify_call(ctx, in_avals, out_avals, *, callee, **params):
    if ctx.signature(callee) != (in_avals, out_avals):
        raise VerifyError(f"call signature does not match @{callee}")
    for k in ("jvp_callee", "fwd_callee", "bwd_callee"):
        if k in params:
            ctx.signature(params[k])  # it must exist


def call_impl(*xs, callee, _call, **_):
    return _call(callee, list(xs))


def call_lower(lctx, *args, callee, **_):
    # custom-derivative calls run their primal; their rule functions go unused (and private)
    return func_call(callee, args, lctx.out_avals)


# ---- jx.call --------------------------------------------------------------------------------


def call_jvp(ctx, primals, tangents, *, callee):
    ins, outs = ctx.signature(callee)
    wrt = tuple(t is not None for t in tangents)  # zero tangents stay symbolic in the callee
    res = call(ctx.jvp_of(callee, wrt), primals + [t for t in tangents if t is not None], outs + outs)
    return res[: len(outs)], res[len(outs) :]


def call_vjp(ctx, cts, primals, outs, residuals, *, callee):
    ins, c_outs = ctx.signature(callee)
    mask = tuple(c is not None for c in cts)
    wrt = ctx.active_operands if ctx.active_operands is not None else (True,) * len(ins)
    res = call(
        ctx.vjp_of(callee, mask, wrt),
        primals + [c for c in cts if c is not None],
        c_outs + [a for a, w in zip(ins, wrt) if w],
    )
    in_cts = iter(res[len(c_outs) :])
    return [next(in_cts) if w else None for w in wrt]


def call_batch(ctx, args, dims, *, callee):
    _, outs = ctx.signature(callee)
    size = ctx.axis_size
    bname = ctx.batched(callee, dims, size)
    res = call(bname, args, [batched_aval(a, 0, size) for a in outs])
    natural = ctx.batched_results(bname) if ctx.axis_name is not None else None
    if natural is None:
        return [(r, 0) for r in res]
    # under a named axis, results the same on every member stay unbatched (psum results): what
    # shard_map's replication check reads
    return [(r, 0) if b else (_member0(r), None) for r, b in zip(res, natural)]


def _member0(x: Val) -> Val:
    row = jx.slice(x, start_indices=(0,) * x.ndim, limit_indices=(1,) + x.shape[1:], strides=None)
    return reshape(row, x.shape[1:])


register(
    Primitive(
        "call",
        no_infer,
        impl=call_impl,
        lower=call_lower,
        jvp=call_jvp,
        vjp=call_vjp,
        batch=call_batch,
        verify=verify_call,
        multiple_results=True,
        callee_attrs=("callee",),
        family="calls",
        doc="call another function in the module: jx.call @f(args)",
    )
)

# ---- custom derivatives ---------------------------------------------------------------------
# jx.custom_jvp_call {callee, jvp_callee, num_args} and jx.custom_vjp_call {callee, fwd_callee,
# bwd_callee, num_args}: operands are (args..., consts...). Lowering calls `callee`; autodiff
# calls the user's rule functions, batching batches every callee.
#   @jvp_callee(args, consts, tangents of args) -> (outs, out tangents)
#   @fwd_callee(args, consts) -> (outs, residuals);  @bwd_callee(residuals, out cts, consts) -> arg cts


def custom_jvp_jvp(ctx, primals, tangents, *, callee, jvp_callee, num_args):
    ins, outs = ctx.signature(jvp_callee)
    # closed-over values (consts) are constants to the rule: no tangents for them. One that is
    # being differentiated would lose its derivative silently (JAX raises too)
    if any(t is not None for t in tangents[num_args:]):
        raise _closure_error("custom_jvp")
    tans = [t if t is not None else zeros(a) for t, a in zip(tangents[:num_args], ins[:num_args])]
    k = len(ctx.out_avals)
    res = call(jvp_callee, primals + tans, outs)
    return res[:k], [r if is_float(r) else None for r in res[k:]]


def custom_jvp_vjp(ctx, cts, primals, outs, residuals, *, callee, jvp_callee, num_args):
    """Transpose the rule, linear in its tangents (JAX's linearize + transpose), by
    reverse-differentiating @jvp_callee with respect to its tangent inputs."""
    _check_consts_inactive(ctx, num_args, "custom_jvp")
    ins, r_outs = ctx.signature(jvp_callee)
    k = len(outs)
    n = len(primals)
    cv = ctx.vjp_of(jvp_callee, (False,) * k + (True,) * k, (False,) * n + (True,) * (len(ins) - n))
    tans = [zeros(a) for a in ins[len(primals) :]]
    res = call(cv, primals + tans + fill_zeros(cts, outs), r_outs + ins[n:])
    return res[len(r_outs) :] + [None] * (len(primals) - num_args)


def _closure_error(kind: str) -> TypeError:
    return TypeError(
        f"a {kind} function closes over a value that is being differentiated (a tracer of an outer "
        "grad / jvp), and its rule cannot differentiate with respect to it; pass the value as an "
        "argument instead (or use jax.closure_convert), as JAX requires"
    )


def _check_consts_inactive(ctx, num_args: int, kind: str) -> None:
    """Reverse mode: a closed-over value on the path to a differentiated argument would get no
    cotangent from the rule (a silent zero): refuse it."""
    active = getattr(ctx, "active_operands", None)
    if active is not None and any(active[num_args:]):
        raise _closure_error(kind)


def custom_vjp_jvp(ctx, primals, tangents, **params):
    raise TypeError("can't apply forward-mode autodiff (jvp) to a custom_vjp function.")


def custom_vjp_fwd(ctx, primals, *, callee, fwd_callee, bwd_callee, num_args):
    """The user's fwd rule runs the primal and saves residuals for bwd."""
    res = call(fwd_callee, primals, ctx.signature(fwd_callee)[1])
    k = len(ctx.out_avals)
    return res[:k], res[k:]


def custom_vjp_vjp(ctx, cts, primals, outs, residuals, *, callee, fwd_callee, bwd_callee, num_args):
    # (no check of the consts here: a bwd may close over a differentiated value whose derivative
    # the surrounding code accounts for, as scipy.sparse.linalg's implicit solves do)
    _, b_outs = ctx.signature(bwd_callee)
    res = call(bwd_callee, residuals + fill_zeros(cts, outs) + primals[num_args:], b_outs)
    return res + [None] * (len(primals) - num_args)


def custom_batch(ctx, args, dims, *, num_args, **callees):
    """Batch a custom-derivative call by batching its primal and its rule functions."""
    n, size = num_args, ctx.axis_size
    dims = list(dims)
    arg_dims, const_dims = dims[:n], dims[n:]
    _, c_outs = ctx.signature(callees["callee"])
    outs_b = [batched_aval(a, 0, size) for a in c_outs]
    new = {"callee": ctx.batched(callees["callee"], dims, size)}
    if "jvp_callee" in callees:  # tangents are batched like their primals
        new["jvp_callee"] = ctx.batched(callees["jvp_callee"], dims + arg_dims, size)
        name = "custom_jvp_call"
    else:
        fwd, bwd = callees["fwd_callee"], callees["bwd_callee"]
        new["fwd_callee"] = ctx.batched(fwd, dims, size)
        n_res = len(ctx.signature(fwd)[1]) - len(c_outs)
        bb = ctx.batched(bwd, [0] * (n_res + len(c_outs)) + const_dims, size)
        new["bwd_callee"] = _unbatch_cts(ctx, bb, arg_dims)
        name = "custom_vjp_call"
    res = emit_custom_call(name, [_raw(a) for a in args], outs_b, n, **new)
    return [(Val(r), 0) for r in res]


def _unbatch_cts(ctx, bwd, arg_dims) -> str:
    """Wrap batched @bwd so unbatched arguments get their cotangents summed over the batch."""
    if all(d is not None for d in arg_dims):
        return bwd
    ins, outs = ctx.signature(bwd)

    def body(*args):
        res = call(bwd, args, outs)
        return [reduce_sum(r, (0,)) if d is None else r for r, d in zip(res, arg_dims)]

    code = "_".join("n" if d is None else str(d) for d in arg_dims)
    return ctx.derived(("unbatch_cts", bwd, tuple(arg_dims)), f"{bwd}_sum_{code}", ins, body)


register(
    Primitive(
        "custom_jvp_call",
        no_infer,
        impl=call_impl,
        lower=call_lower,
        jvp=custom_jvp_jvp,
        vjp=custom_jvp_vjp,
        batch=custom_batch,
        verify=verify_call,
        multiple_results=True,
        callee_attrs=("callee", "jvp_callee"),
        family="calls",
        doc="call @callee; forward mode uses @jvp_callee (a user's custom_jvp rule)",
    )
)
register(
    Primitive(
        "custom_vjp_call",
        no_infer,
        impl=call_impl,
        lower=call_lower,
        jvp=custom_vjp_jvp,
        vjp=custom_vjp_vjp,
        vjp_fwd=custom_vjp_fwd,
        batch=custom_batch,
        verify=verify_call,
        multiple_results=True,
        callee_attrs=("callee", "fwd_callee", "bwd_callee"),
        family="calls",
        doc="call @callee; reverse mode uses @fwd_callee / @bwd_callee (a user's custom_vjp rule)",
    )
)
