"""custom_jvp and custom_vjp: user derivative rules, recorded as `jx.custom_jvp_call` /
`jx.custom_vjp_call` ops whose symbol attributes name the traced primal and rule functions
(the autodiff passes call the rules, lowering calls the primal, batching batches them all)."""

from __future__ import annotations

import functools
import inspect
import threading

import numpy as np
from irjax.dialects.func import build_func, emit_call, emit_custom_call, find_func, signature
from irjax.dialects.mlir import enter

from . import dtypes, tree_util
from .core import ShapedArray, Tracer, aval_of, current_trace
from .operands import asarray, full
from .tracing import call_function, trace_function


def _resolve_kwargs(fun, args, kwargs):
    if not kwargs:
        return tuple(args)
    try:
        ba = inspect.signature(fun).bind(*args, **kwargs)
    except (TypeError, ValueError) as e:
        raise TypeError(f"could not resolve keyword arguments of {fun}: {e}") from None
    ba.apply_defaults()
    if ba.kwargs:
        raise TypeError("keyword-only arguments are not supported by custom_jvp / custom_vjp functions")
    return tuple(ba.args)


class _Split:
    """The call's arguments split into static nondiff ones and the dynamic (traced) rest."""

    def __init__(self, args, nondiff_argnums):
        n = len(args)
        self.args = args
        self.nd = tuple(sorted({i % n if i < 0 else i for i in nondiff_argnums}))
        for i in self.nd:
            if i >= n:
                raise ValueError(f"nondiff_argnums {nondiff_argnums} out of range for {n} arguments")
        self.nd_vals = [args[i] for i in self.nd]
        self.dyn = tuple(a for i, a in enumerate(args) if i not in self.nd)
        self.leaves, self.tree = tree_util.tree_flatten(self.dyn)
        self.avals = [aval_of(x) for x in self.leaves]

    def full(self, dyn):
        it = iter(dyn)
        return [self.args[i] if i in self.nd else next(it) for i in range(len(self.args))]


def _strong(a: ShapedArray) -> ShapedArray:
    return ShapedArray(a.shape, a.dtype, False)


def _wrapper(module, base: str, callee: str, arg_avals, pick) -> str:
    """@base_w(arg_avals...) { return call @callee(pick(args)) }: gives every function of one
    custom call the same trailing consts (each rule captured its own closed-over values)."""
    _, outs = signature(find_func(module, callee))

    def body(*args):
        return emit_call(callee, pick(list(args)), outs)

    with enter():
        return build_func(
            module, f"{base}_w", [a.shaped() if hasattr(a, "shaped") else a for a in arg_avals], body, private=True
        )


def _zeros(a):
    return full(a.shape, 0, a.dtype)  # jnp.zeros


def _emit(trace, name, operands, out_avals, out_tree, n_args, **callees):
    vals = [trace.to_value(x) for x in operands]
    with enter(), trace.builder.ip:
        res = emit_custom_call(name, [v.value for v in vals], [a.shaped() for a in out_avals], n_args, **callees)
    return tree_util.tree_unflatten(out_tree, [Tracer(trace, r, a) for r, a in zip(res, out_avals)])


def _key(sp):
    return (sp.tree, tuple(sp.avals), tuple(id(v) for v in sp.nd_vals))


def _plain_call(trace, active, sp):
    """A rule calling its own custom function: run the traced primal (as JAX, whose rules see
    the primal function, not the custom one), instead of tracing the rule again forever."""
    fname, consts, out_avals, out_tree = active
    outs = call_function(trace.module, fname, list(sp.leaves) + list(consts), out_avals)
    return tree_util.tree_unflatten(out_tree, outs)


class _CustomFunction:
    """What custom_jvp and custom_vjp share: the call protocol. Eagerly the plain function
    runs; under a trace, the primal is traced into the module and `_finish` emits the op.
    A rule that calls its own custom function, with any arguments (JAX's fixed_point calls it
    with another nondiff function, a Bessel jv rule with v - 1), gets the plain primal: the
    rules are traced when the call is, so a rule call would recurse without end. Differentiating
    that inner call again differentiates its primal."""

    _what = ""

    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self._rules = threading.local()  # .active: the calls whose rules this thread is tracing

    def __get__(self, obj, objtype=None):
        return self if obj is None else functools.partial(self, obj)

    def _has_rule(self) -> bool:
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        name = getattr(self.fun, "__name__", str(self.fun))
        if not self._has_rule():
            raise AttributeError(
                f"No {self._what} defined for custom_{self._what.lower()} function {name} using def{self._what.lower()}."
            )
        args = _resolve_kwargs(self.fun, args, kwargs)
        trace = current_trace()
        if trace is None:
            return self.fun(*args)
        sp = _Split(args, self.nondiff_argnums)
        key = _key(sp)
        active = self._rules.__dict__.setdefault("active", {})
        if key in active:
            return _plain_call(trace, active[key], sp)
        tp = trace_function(lambda *dyn: self.fun(*sp.full(dyn)), sp.avals, sp.tree, name=name, module=trace.module)
        entry = (tp.fname, tp.captured, tp.out_avals, tp.out_tree)
        if active:  # inside one of this function's own rules: no rule of its own (see above)
            return _plain_call(trace, entry, sp)
        active[key] = entry
        try:
            return self._finish(trace, sp, tp, name)
        finally:
            del active[key]


class custom_jvp(_CustomFunction):
    """Set up a JAX-transformable function for a custom JVP rule definition (as jax.custom_jvp)."""

    _what = "JVP"

    def __init__(self, fun, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.jvp = None

    def _has_rule(self) -> bool:
        return self.jvp is not None

    def defjvp(self, jvp, symbolic_zeros=False):
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps):
        """One rule per argument: jvps[i](tangent_i, primal_out, *primals) -> tangent contribution."""
        fun = self.fun

        def jvp(primals, tangents):
            out = fun(*primals)
            acc = None
            for rule, t in zip(jvps, tangents):
                if rule is None:
                    continue
                c = rule(t, out, *primals)
                acc = c if acc is None else tree_util.tree_map(lambda a, b: a + b, acc, c)
            return out, acc if acc is not None else tree_util.tree_map(lambda o: o * 0, out)

        self.defjvp(jvp)

    def _finish(self, trace, sp, tp, name):
        rule = self.jvp
        module = trace.module
        n = len(sp.leaves)
        out_avals = tp.out_avals

        def jvp_flat(primals, tangents):
            res = rule(*sp.nd_vals, tuple(primals), tuple(tangents))
            if not isinstance(res, (tuple, list)) or len(res) != 2:
                raise TypeError(
                    "Custom JVP rule must produce a pair (list or tuple of length two) representing "
                    f"primal and tangent outputs, but got {res}."
                )
            p_leaves, p_tree = tree_util.tree_flatten(res[0])
            t_leaves, t_tree = tree_util.tree_flatten(res[1])
            if p_tree != tp.out_tree or t_tree != tp.out_tree:
                raise TypeError(
                    "Custom JVP rule must produce primal and tangent outputs with equal container (pytree) "
                    f"structures, but got {p_tree} and {t_tree} respectively (the function returns {tp.out_tree})."
                )
            for p, t, want in zip(p_leaves, t_leaves, out_avals):
                pa, ta = aval_of(p), aval_of(t)
                if pa.shape != want.shape or ta.shape != want.shape:
                    raise TypeError(
                        "Custom JVP rule must produce primal and tangent outputs with corresponding shapes "
                        f"and dtypes, but got {pa.str_short()} and {ta.str_short()} for an output of type "
                        f"{want.str_short()}."
                    )
            p_leaves = [asarray(p, dtype=a.dtype) for p, a in zip(p_leaves, out_avals)]
            t_leaves = [asarray(t, dtype=a.dtype) for t, a in zip(t_leaves, out_avals)]
            return p_leaves + t_leaves

        dyn_tree = tree_util.tree_structure((sp.dyn, sp.dyn))
        tan_avals = [_strong(a) for a in sp.avals]
        tj = trace_function(jvp_flat, sp.avals + tan_avals, dyn_tree, name=f"{name}_jvp_rule", module=module)
        c1, c2 = list(tp.captured), list(tj.captured)
        a_args = [_strong(a) for a in sp.avals]
        a_c1, a_c2 = [_strong(aval_of(c)) for c in c1], [_strong(aval_of(c)) for c in c2]
        m1 = len(c1)
        pw = _wrapper(module, tp.fname, tp.fname, a_args + a_c1 + a_c2, lambda a: a[: n + m1])
        jw = _wrapper(
            module,
            tj.fname,
            tj.fname,
            a_args + a_c1 + a_c2 + tan_avals,
            lambda a: a[:n] + a[len(a) - n :] + a[n + m1 : len(a) - n],
        )
        return _emit(trace, "custom_jvp_call", sp.leaves + c1 + c2, out_avals, tp.out_tree, n, callee=pw, jvp_callee=jw)


class custom_vjp(_CustomFunction):
    """Set up a JAX-transformable function for a custom VJP rule definition (as jax.custom_vjp)."""

    _what = "VJP"

    def __init__(self, fun, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.fwd = None
        self.bwd = None

    def _has_rule(self) -> bool:
        return self.fwd is not None and self.bwd is not None

    def defvjp(self, fwd, bwd, symbolic_zeros=False, optimize_remat=False):
        self.fwd = fwd
        self.bwd = bwd

    def _finish(self, trace, sp, tp, name):
        module = trace.module
        n = len(sp.leaves)
        out_avals = tp.out_avals
        k = len(out_avals)
        res_tree = []

        def fwd_flat(*dyn):
            r = self.fwd(*sp.full(dyn))
            if not isinstance(r, (tuple, list)) or len(r) != 2:
                raise TypeError(
                    "Custom VJP fwd rule must produce a pair (list or tuple of length two) representing "
                    f"primal outputs and residuals (values stored from the forward pass for use on the "
                    f"backward pass), got {r}."
                )
            o_leaves, o_tree = tree_util.tree_flatten(r[0])
            if o_tree != tp.out_tree:
                raise TypeError(
                    "Custom VJP fwd rule must produce an output with the same container (pytree) structure "
                    f"as the primal function, got {o_tree} for the fwd rule and {tp.out_tree} for the primal."
                )
            r_leaves, rt = tree_util.tree_flatten(r[1])
            res_tree.append(rt)
            return list(o_leaves) + list(r_leaves)

        tf = trace_function(fwd_flat, sp.avals, sp.tree, name=f"{name}_fwd", module=module)
        res_avals = [_strong(a) for a in tf.out_avals[k:]]
        ct_avals = [_strong(a) for a in out_avals]
        n_dyn = len(sp.dyn)

        def bwd_flat(res, cts):
            r = self.bwd(
                *sp.nd_vals, tree_util.tree_unflatten(res_tree[0], res), tree_util.tree_unflatten(tp.out_tree, cts)
            )
            if not isinstance(r, (tuple, list)) or len(r) != n_dyn:
                raise TypeError(
                    "Custom VJP bwd rule must produce an output with the same container (pytree) structure "
                    "as the args tuple of the primal function, and in particular must produce a tuple of "
                    "length equal to the number of arguments to the primal function, but got bwd output "
                    f"structure {tree_util.tree_structure(r)} for primal input structure {sp.tree}."
                )
            out = []
            for ct, arg in zip(r, sp.dyn):
                a_leaves = tree_util.tree_leaves(arg)
                if ct is None:
                    out += [_zeros(_strong(aval_of(x))) for x in a_leaves]
                    continue
                c_leaves = tree_util.tree_leaves(ct, is_leaf=lambda v: v is None)
                if len(c_leaves) != len(a_leaves):
                    raise TypeError(
                        "Custom VJP bwd rule must produce an output with the same container (pytree) "
                        f"structure as the args tuple of the primal function, got {ct} for argument {arg}."
                    )
                for c, x in zip(c_leaves, a_leaves):
                    xa = _strong(aval_of(x))
                    if c is None or not dtypes.issubdtype(xa.dtype, np.inexact):
                        out.append(_zeros(xa))
                        continue
                    ca = aval_of(c)
                    if ca.shape != xa.shape:
                        raise ValueError(
                            f"Custom VJP bwd rule must produce an output with a shape matching the "
                            f"corresponding primal input: expected {xa.str_short()}, got {ca.str_short()}."
                        )
                    out.append(asarray(c, dtype=xa.dtype))
            return out

        b_tree = tree_util.tree_structure(([0] * len(res_avals), [0] * k))
        tb = trace_function(bwd_flat, res_avals + ct_avals, b_tree, name=f"{name}_bwd", module=module)
        c1, c2, c3 = list(tp.captured), list(tf.captured), list(tb.captured)
        a_args = [_strong(a) for a in sp.avals]
        a_c = [_strong(aval_of(c)) for c in c1 + c2 + c3]
        m1, m2 = len(c1), len(c2)
        nr = len(res_avals)
        pw = _wrapper(module, tp.fname, tp.fname, a_args + a_c, lambda a: a[: n + m1])
        fw = _wrapper(module, tf.fname, tf.fname, a_args + a_c, lambda a: a[:n] + a[n + m1 : n + m1 + m2])
        bw = _wrapper(
            module, tb.fname, tb.fname, res_avals + ct_avals + a_c, lambda a: a[: nr + k] + a[nr + k + m1 + m2 :]
        )
        return _emit(
            trace,
            "custom_vjp_call",
            sp.leaves + c1 + c2 + c3,
            out_avals,
            tp.out_tree,
            n,
            callee=pw,
            fwd_callee=fw,
            bwd_callee=bw,
        )
