"""jx.remat: a call whose forward pass is recomputed, not saved, under reverse mode (JAX's
checkpoint / remat; frontend/checkpoint.py).

    %r = "jx.remat"(%x) {callee = @f, prevent_cse = true} : (tensor<3xf32>) -> tensor<3xf32>
    --vjp-->  forward: jx.remat @f(x); backward: jx.remat @f_vjp(x, ct) recomputes @f's body
    --lower-->  [stablehlo.optimization_barrier on the operands when prevent_cse]; func.call @f

Every @f_vjp already re-runs the forward sweep from its primals (passes/autodiff.py), so
recomputation is the IR's shape; what prevent_cse adds is the barrier that keeps XLA-style
CSE (IREE's, after it inlines the calls) from merging the recomputation into the forward.
"""

from __future__ import annotations

from .attrs import Symbol
from .calls import batched_aval, call_impl, emit_op, func_call, no_infer, verify_call
from .lang import zeros
from .mlir import ir
from .registry import Primitive, register


def _params(callee, prevent_cse):
    return {"callee": Symbol(callee), "prevent_cse": bool(prevent_cse)}


def remat_jvp(ctx, primals, tangents, *, callee, prevent_cse):
    ins, outs = ctx.signature(callee)
    tans = [t if t is not None else zeros(a) for t, a in zip(tangents, ins)]
    res = emit_op("remat", primals + tans, _params(ctx.jvp_of(callee), prevent_cse), outs + outs)
    return res[: len(outs)], res[len(outs) :]


def remat_vjp(ctx, cts, primals, outs_v, residuals, *, callee, prevent_cse):
    """The backward pass calls @callee's vjp, which recomputes @callee from the primals."""
    ins, outs = ctx.signature(callee)
    vjp = ctx.vjp_of(callee, tuple(c is not None for c in cts))
    res = emit_op(
        "remat",
        primals + [c for c in cts if c is not None],
        _params(vjp, prevent_cse),
        outs + ins,
    )
    return res[len(outs) :]


def remat_batch(ctx, args, dims, *, callee, prevent_cse):
    size = ctx.axis_size
    _, outs = ctx.signature(callee)
    res = emit_op(
        "remat",
        args,
        _params(ctx.batched(callee, dims, size), prevent_cse),
        [batched_aval(a, 0, size) for a in outs],
    )
    return [(r, 0) for r in res]


def remat_lower(lctx, *args, callee, prevent_cse):
    # as JAX: the recomputation must not be merged with the forward
    if prevent_cse and args:
        barrier = ir.Operation.create(
            "stablehlo.optimization_barrier",
            results=[a.type for a in args],
            operands=list(args),
        )
        args = list(barrier.results)
    return func_call(callee, args, lctx.out_avals)


register(
    Primitive(
        "remat",
        no_infer,
        impl=call_impl,
        lower=remat_lower,
        jvp=remat_jvp,
        vjp=remat_vjp,
        batch=remat_batch,
        verify=verify_call,
        multiple_results=True,
        callee_attrs=("callee",),
        family="calls",
        doc="call @callee, recomputing it in the backward pass (checkpoint / remat)",
    )
)
