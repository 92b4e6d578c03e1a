"""checkpoint / remat (as jax.checkpoint): the same values and gradients as `fun`, but under
reverse mode its forward pass is recomputed in the backward pass instead of saved.
Traced as one `jx.remat` op naming the traced function (dialects/remat.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from irjax.dialects.attrs import Symbol
from irjax.dialects.calls import emit_op
from irjax.dialects.mlir import enter

from . import tree_util
from .core import Tracer, aval_of, current_trace
from .tracing import trace_function


def checkpoint(
    fun: Callable | None = None,
    *,
    prevent_cse: bool = True,
    policy=None,
    static_argnums=(),
):
    """Make `fun` recompute its forward pass under reverse-mode autodiff (jax.checkpoint).

    prevent_cse: keep the compiler from merging the recomputation into the forward pass.
    policy: None or an irjax.checkpoint_policies policy; every one recomputes everything.
    static_argnums: positional arguments that are static Python values, as in jit.
    """
    if fun is None:
        return functools.partial(
            checkpoint,
            prevent_cse=prevent_cse,
            policy=policy,
            static_argnums=static_argnums,
        )
    if not callable(fun):
        raise TypeError(f"checkpoint expects a callable, got {type(fun).__name__}")
    # irjax.checkpoint_policies' policies only choose what is saved: results do not depend on them
    if policy is not None and not getattr(policy, "irjax_checkpoint_policy", False):
        raise NotImplementedError(
            "irjax.checkpoint supports policy=None or an irjax.checkpoint_policies policy (all recompute "
            f"everything); got policy={policy!r}"
        )
    if isinstance(static_argnums, int):
        static_argnums = (static_argnums,)
    static_argnums = tuple(static_argnums)

    @functools.wraps(fun)
    def remat_fun(*args, **kwargs):
        trace = current_trace()
        if trace is None:  # eager: nothing to save or recompute
            return fun(*args, **kwargs)
        n = len(args)
        static = set()
        for i in static_argnums:
            if not -n <= i < n:
                raise ValueError(f"static_argnums {static_argnums} out of range for {n} positional arguments")
            static.add(i % n)
        for i in static:
            try:
                hash(args[i])
            except TypeError:
                raise ValueError(
                    f"Non-hashable static arguments are not supported: argument {i} of type {type(args[i]).__name__}"
                ) from None
        dyn = [a for i, a in enumerate(args) if i not in static]
        leaves, tree = tree_util.tree_flatten((tuple(dyn), kwargs))

        def flat_fun(*dyn_args, **dyn_kwargs):
            it = iter(dyn_args)
            full = [args[i] if i in static else next(it) for i in range(n)]
            return fun(*full, **dyn_kwargs)

        name = getattr(fun, "__name__", "remat")
        tp = trace_function(
            lambda d, kw: flat_fun(*d, **kw),
            [aval_of(x) for x in leaves],
            tree,
            name=name,
            module=trace.module,
        )
        vals = [trace.to_value(x) for x in list(leaves) + list(tp.captured)]
        with enter(), trace.builder.ip:
            res = emit_op(
                "remat",
                [v.value for v in vals],
                {"callee": Symbol(tp.fname), "prevent_cse": bool(prevent_cse)},
                [a.shaped() for a in tp.out_avals],
            )
        outs = [Tracer(trace, r.v, a) for r, a in zip(res, tp.out_avals)]
        return tree_util.tree_unflatten(tp.out_tree, outs)

    return remat_fun


remat = checkpoint
