"""The transformations users call: jit, grad, value_and_grad, jvp, vjp, linearize, vmap,
jacfwd, jacrev, jacobian, hessian, make_jaxpr. Each traces to jx and runs a pass."""

from __future__ import annotations

import functools
import inspect
import threading
import weakref

import numpy as np
from irjax.passes.autodiff import grad_function, jvp_function, vjp_function
from irjax.passes.batching import batch_function

from . import dtypes, placement, tiered, tree_util
from .array import Array
from .axis_env import axis_frame, bound_axes
from .core import ShapedArray, Tracer, aval_of, current_trace, ir_lock, jx
from .core import _state as _trace_state  # (hot path: .stack is empty outside any trace)
from .device_api import default_device
from .dispatch import run_exact, run_traced
from .operands import moveaxis, zeros_like
from .stages import JxModule, Lowered, ShapeDtypeStruct, TracedStage
from .trace_checks import checked_trace
from .tracing import Traced, call_function, trace_function

# ---- jit ------------------------------------------------------------------------------------


def _static_key(v):
    try:
        hash(v)
    except TypeError:
        raise ValueError(
            f"Non-hashable static arguments are not supported. An error occurred while trying to hash "
            f"an object of type {type(v)}, {v}. The error was:\nTypeError: unhashable type: '{type(v).__name__}'"
        ) from None
    return (type(v), v)


# One trace cache per (function, jit options), as JAX keys its cache: a second jit(f) of the same
# f does not retrace. Weak keys, so a dropped function takes its traces with it.
_shared_lock = threading.Lock()
_shared_traces: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _shared_cache(fun, options: tuple) -> tuple[dict, dict, dict] | None:
    """The (traces, fast, fast_x64) dicts every jit of `fun` with `options` shares; None when they
    cannot key one (a callable without weak references, unhashable options such as list shardings)."""
    try:
        hash(options)
        with _shared_lock:
            per_fun = _shared_traces.get(fun)
            if per_fun is None:
                per_fun = _shared_traces[fun] = {}
            return per_fun.setdefault(options, ({}, {}, {}))
    except TypeError:
        return None


class Jitted:
    """jit(fun): traces once per (tree structure, avals, static args), compiles, caches."""

    def __init__(self, fun, static_argnums=(), static_argnames=(), donate_argnums=(), device=None, backend=None):
        if not callable(fun):
            raise TypeError(f"Expected a callable value, got {fun!r}")
        self.fun = fun
        self.static_argnums = tuple(_as_tuple(static_argnums))
        self.static_argnames = tuple(_as_tuple(static_argnames))
        try:
            sig = inspect.signature(fun)
            params = list(sig.parameters)
            for n in self.static_argnames:
                if n in params and params.index(n) not in self.static_argnums:
                    self.static_argnums += (params.index(n),)
            names = set(self.static_argnames)
            for i in self.static_argnums:
                if i < len(params):
                    names.add(params[i])
            self.static_argnames = tuple(names)
        except (TypeError, ValueError):
            pass
        self._cache: dict = {}
        self._fast: dict = {}
        self._fast_x64: dict = {}  # (x64 mode traces separately: Python scalars and defaults widen)
        self._device = device if device is not None else backend  # see _JittedOnDevice
        self._donate_nums: tuple = ()
        self._donate_names: tuple = ()
        self._donates = False
        # the name, doc and attributes of fun, but never over this object's own state (fun may
        # itself be a Jitted, or functools.wraps of one: its fun and caches are not ours)
        functools.update_wrapper(self, fun, updated=())
        for k, v in getattr(fun, "__dict__", {}).items():
            self.__dict__.setdefault(k, v)

    def _set_donation(self, donate_argnums, donate_argnames) -> None:
        """Record which arguments are donated; names and positions are resolved both ways."""
        nums, names = set(_as_tuple(donate_argnums)), set(_as_tuple(donate_argnames))
        try:
            params = [
                p.name
                for p in inspect.signature(self.fun).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
        except (TypeError, ValueError):
            params = []
        for n in list(names):
            if n in params:
                nums.add(params.index(n))
        for i in list(nums):
            if 0 <= i < len(params):
                names.add(params[i])
        self._donate_nums, self._donate_names = tuple(sorted(nums)), tuple(sorted(names))
        self._donates = bool(self._donate_nums or self._donate_names)

    def _share_traces(self, options: tuple) -> None:
        """Use the trace cache shared by every jit of self.fun with the same options."""
        # (donation is not in the key: it changes no trace, and JAX does not retrace for it either)
        shared = _shared_cache(
            self.fun, (type(self), self.static_argnums, tuple(sorted(self.static_argnames)), options)
        )
        if shared is not None:
            self._cache, self._fast, self._fast_x64 = shared

    def _delete_donated(self, args, kwargs) -> None:
        """After a call: donated Arrays are deleted (later use raises 'Array has been deleted')."""
        n = len(args)
        donated = [args[i % n if i < 0 else i] for i in self._donate_nums if -n <= i < n]
        donated += [v for k, v in kwargs.items() if k in self._donate_names]
        for leaf in tree_util.tree_leaves(donated):
            if isinstance(leaf, Array):  # (sharded arrays too: every shard is deleted)
                leaf.delete()

    def _split(self, args, kwargs):
        n = len(args)
        static_nums = tuple(sorted({i % n if i < 0 and n else i for i in self.static_argnums}))
        statics = tuple((i, _static_key(args[i])) for i in static_nums if i < n)
        dyn_args = tuple(a for i, a in enumerate(args) if i not in static_nums)
        skw = tuple(sorted((k, _static_key(v)) for k, v in kwargs.items() if k in self.static_argnames))
        dyn_kw = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        return dyn_args, dyn_kw, statics, skw, static_nums

    def _trace(self, args, kwargs):
        dyn_args, dyn_kw, statics, skw, static_nums = self._split(args, kwargs)
        leaves, in_tree = tree_util.tree_flatten((dyn_args, dyn_kw))
        avals = tuple(aval_of(x) for x in leaves)
        # the bound axis names and sizes shape collectives (all_gather's result, pmean's divisor);
        # x64 changes what a trace builds
        key = (in_tree, avals, statics, skw, bound_axes(), dtypes.x64_enabled())
        tr = self._cache.get(key)
        if tr is None:
            static_kw = {k: kwargs[k] for k, _ in skw}

            constraints = []

            def flat_fun(dargs, dkw):
                it = iter(dargs)
                full = [args[i] if i in static_nums else next(it) for i in range(len(args))]
                out = self.fun(*full, **dkw, **static_kw)
                constraints.append(placement.output_constraints(out))  # with_sharding_constraint
                return out

            debug = (_describe(self.fun), _arg_names(self.fun, args, dyn_kw, static_nums))
            with checked_trace(debug[0], self.fun, self._cache, key, debug[1]) as traced:
                tr = trace_function(flat_fun, list(avals), in_tree, name=_name(self.fun), debug=debug)
                tr.arg_names = debug[1]  # (a Compiled names mismatched arguments as JAX does)
                tr.in_tree = in_tree
                traced.append(tr)
            tr.out_shardings = constraints[0] if constraints else None
            if not tr.has_tracer_captures:
                self._cache[key] = tr
        return tr, leaves

    def __call__(self, *args, **kwargs):
        if _trace_state.jit_off:  # jax_disable_jit: fun runs as Python on what it is given, as JAX
            return self.fun(*args, **kwargs)
        fast = self._fast_x64 if dtypes._x64 else self._fast
        if not kwargs and fast and not self._donates and not _trace_state.stack:
            # fast path, inlined (one Python frame less a call): positional Arrays only, keyed
            # on their avals, no pytree flattening (_fast stays empty with static args)
            if len(args) == 1:  # (no comprehension frame for the commonest call)
                a = args[0]
                tr = fast.get((a.aval,)) if type(a) is Array else None
            else:
                key = tuple([a.aval for a in args if type(a) is Array])
                tr = fast.get(key) if len(key) == len(args) else None
            if tr is not None:
                outs = run_exact(tr, args)
                return outs[0] if tr.out_is_leaf else tree_util.tree_unflatten(tr.out_tree, outs)
        if self._donate_nums or self._donate_names:
            out = self._call(*args, **kwargs)
            if not _trace_state.stack:  # (inside a trace, donation has no meaning, as in JAX)
                self._delete_donated(args, kwargs)
            return out
        return self._call(*args, **kwargs)

    def _call(self, *args, **kwargs):
        if not kwargs and not _trace_state.stack and not self.static_argnums:
            key = tuple([a.aval for a in args if type(a) is Array])
            fast = self._fast_x64 if dtypes.x64_enabled() else self._fast
            tr = fast.get(key) if len(key) == len(args) else None
            if tr is not None:
                outs = run_exact(tr, args)
                return outs[0] if tr.out_is_leaf else tree_util.tree_unflatten(tr.out_tree, outs)
        tr, leaves = self._trace(args, kwargs)
        if current_trace() is None and not tr.captured_tracers:
            out_shardings = getattr(tr, "out_shardings", None)
            if (
                not kwargs
                and not self.static_argnums
                and len(leaves) == len(args)
                and all(type(a) is Array for a in args)
                and out_shardings is None
            ):
                tr.out_is_leaf = tr.out_tree == tree_util.tree_structure(0)
                (self._fast_x64 if dtypes.x64_enabled() else self._fast)[tuple(a.aval for a in args)] = tr
            if not tr.exes and out_shardings is None and tiered.enabled():
                tiered.prime(tr, leaves)  # (opt-in) interpret while IREE compiles in the background
            outs = run_traced(tr, leaves)
            if out_shardings is not None:
                outs = placement.place_outputs(outs, out_shardings)
            return tree_util.tree_unflatten(tr.out_tree, outs)
        outs = call_function(tr.module, tr.fname, list(leaves) + tr.captured, tr.out_avals)
        return tree_util.tree_unflatten(tr.out_tree, outs)

    def lower(self, *args, **kwargs):
        tr, _ = self._trace(args, kwargs)
        return Lowered(tr)

    def trace(self, *args, **kwargs):
        """JAX's jit(f).trace(...): the traced stage (.jaxpr, .out_info, .lower())."""
        tr, _ = self._trace(args, kwargs)
        return TracedStage(tr)

    def clear_cache(self):
        """Forget this function's traces (and so its compiled calls): the next call traces again."""
        self._cache.clear()
        self._fast.clear()
        self._fast_x64.clear()

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)


class _JittedSharded(Jitted):
    """jit(f, in_shardings=..., out_shardings=...): positional inputs are placed by in_shardings
    (committed ones must match), outputs laid out by out_shardings (pytree prefixes; None =
    unspecified, then placement.output_sharding's rule applies)."""

    def __init__(self, fun, in_shardings, out_shardings, *a):
        super().__init__(fun, *a)
        self._in_shardings, self._out_shardings = in_shardings, out_shardings

    def _call(self, *args, **kwargs):
        if _trace_state.stack:  # inside another trace: placement has no meaning here
            return super()._call(*args, **kwargs)
        if self._in_shardings is not None:
            names = _arg_names(self.fun, args, {}, ())
            args = placement.place_inputs(args, self._in_shardings, names)
        out = super()._call(*args, **kwargs)
        if self._out_shardings is None:
            return out
        leaves, tree = tree_util.tree_flatten(out)
        shs = placement.broadcast_shardings(self._out_shardings, out, "jit's out_shardings")
        return tree_util.tree_unflatten(tree, placement.place_outputs(leaves, shs))


class _JittedOnDevice(Jitted):
    """jit(f, device=d) / jit(f, backend='vulkan'): runs with `d` as the default device."""

    def __call__(self, *args, **kwargs):
        with default_device(self._device):
            return super().__call__(*args, **kwargs)


def jit(
    fun=None,
    *,
    in_shardings=None,
    out_shardings=None,
    static_argnums=(),
    static_argnames=(),
    donate_argnums=(),
    donate_argnames=(),
    keep_unused=False,
    device=None,
    backend=None,
    inline=False,
    compiler_options=None,
    abstracted_axes=None,
):
    """JAX's jit. in_shardings/out_shardings place inputs and outputs (docs/sharding.md); keep_unused,
    inline, compiler_options and abstracted_axes are accepted for compatibility and have no effect;
    any other keyword is a TypeError, as in JAX. Donated arguments (donate_argnums/donate_argnames)
    are deleted after the call, as JAX does."""
    cls = Jitted if device is None and backend is None else _JittedOnDevice
    if in_shardings is not None or out_shardings is not None:
        if cls is _JittedOnDevice:
            raise ValueError("can't specify device or backend together with in_shardings or out_shardings")

        def cls(*a):
            return _JittedSharded(a[0], in_shardings, out_shardings, *a[1:])

    def make(f):
        j = cls(f, static_argnums, static_argnames, donate_argnums, device, backend)
        j._set_donation(donate_argnums, donate_argnames)
        j._share_traces((device, backend, in_shardings, out_shardings))
        return j

    if fun is None:
        return make
    return make(fun)


def _as_tuple(x):
    if x is None:
        return ()
    if isinstance(x, (int, str)):
        return (x,)
    return tuple(x)


def _name(fun):
    return getattr(fun, "__name__", None) or type(fun).__name__


def _describe(fun) -> str:
    """'f at /path/a.py:3', as JAX names a function in its tracer errors."""
    code = getattr(inspect.unwrap(fun), "__code__", None)
    where = f" at {code.co_filename}:{code.co_firstlineno}" if code is not None else ""
    return f"{_name(fun)}{where}"


def _arg_names(fun, args, dyn_kw, static_nums) -> list[str]:
    """A name per flat (leaf) argument of a jit trace: the parameter's name, with the pytree
    path for structured arguments (params['w'])."""
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), None)
    names = []
    for i, a in enumerate(args):
        if i in static_nums:
            continue
        if i < len(positional):
            base = positional[i].name
        else:
            base = f"{var}[{i - len(positional)}]" if var else f"args[{i}]"
        names += _leaf_names(base, a)
    for k in sorted(dyn_kw):  # (flattening sorts dict keys)
        names += _leaf_names(k, dyn_kw[k])
    return names


def _leaf_names(base: str, x) -> list[str]:
    leaves = tree_util.tree_leaves(x)
    if len(leaves) == 1 and leaves[0] is x:
        return [base]
    if isinstance(x, dict):
        return [n for k in sorted(x, key=str) for n in _leaf_names(f"{base}[{k!r}]", x[k])]
    if isinstance(x, (list, tuple)) and not hasattr(x, "_fields"):
        return [n for i, v in enumerate(x) for n in _leaf_names(f"{base}[{i}]", v)]
    return [base] * len(leaves)


# ---- helpers for the autodiff / vmap wrappers ------------------------------------------------


def _trace_args(fun, args, kwargs=None, name=None, known=False) -> tuple[Traced, list]:
    """known: autodiff of concrete arguments, where (as in JAX) Python may branch on values."""
    leaves, in_tree = tree_util.tree_flatten(tuple(args))
    kwargs = kwargs or {}
    tr = trace_function(
        lambda *a: fun(*a, **kwargs),
        [aval_of(x) for x in leaves],
        in_tree,
        name=name or _name(fun),
        arg_values=list(leaves) if known else None,
    )
    return tr, leaves


def _leaf_ranges(args):
    """(start, stop) leaf indices of each positional argument."""
    out, i = [], 0
    for a in args:
        n = len(tree_util.tree_leaves(a))
        out.append((i, i + n))
        i += n
    return out


def _check_float_inputs(name, args, argnums):
    for i in argnums:
        for leaf in tree_util.tree_leaves(args[i]):
            dt = aval_of(leaf).dtype
            if not dtypes.issubdtype(dt, np.inexact):
                raise TypeError(
                    f"{name} requires real- or complex-valued inputs (input dtype that is a sub-dtype of "
                    f"np.inexact), but got {dt.name}. If you want to use Boolean- or integer-valued inputs, "
                    "use vjp or set allow_int to True."
                )


def _norm_argnums(argnums, nargs):
    nums = _as_tuple(argnums)
    for i in nums:
        if not -nargs <= i < nargs:
            raise TypeError(
                f"differentiating with respect to argnums={argnums} requires at least {i + 1} positional arguments"
            )
    return tuple(i % nargs for i in nums)


# ---- grad ----------------------------------------------------------------------------------------


def _check_holomorphic(name, holomorphic, args, argnums):
    """holomorphic=True needs complex inputs (JAX's TypeError)."""
    if not holomorphic:
        return
    nums = _norm_argnums(argnums, len(args))
    for i in nums:
        for leaf in tree_util.tree_leaves(args[i]):
            dt = np.dtype(aval_of(leaf).dtype)
            if dt.kind != "c":
                raise TypeError(f"{name} with holomorphic=True requires inputs with complex dtype, but got {dt.name}.")


def _check_reduce_axes(name, reduce_axes):
    if reduce_axes:
        raise NotImplementedError(f"reduce_axes argument to {name} is deprecated")


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False, reduce_axes=()):
    _check_reduce_axes("grad", reduce_axes)

    def vg(*args, **kwargs):
        _check_holomorphic("grad", holomorphic, args, argnums)
        nums = _norm_argnums(argnums, len(args))
        if not allow_int:
            _check_float_inputs("grad", args, nums)
        if len(set(nums)) == len(nums):
            # as JAX, only the differentiated arguments are traced: the others reach fun as
            # given (a function, a Python int that sizes a loop, ...)
            def dyn_fun(*dyn):
                full = list(args)
                for i, d in zip(nums, dyn):
                    full[i] = d
                return fun(*full, **kwargs)

            tr, leaves = _trace_args(dyn_fun, [args[i] for i in nums], name=_name(fun), known=True)
            diff_leaves = list(range(len(leaves)))
        else:
            tr, leaves = _trace_args(fun, args, kwargs, known=True)
            ranges = _leaf_ranges(args)
            diff_leaves = [j for i in nums for j in range(*ranges[i])]
        out_leaves_avals = tr.out_avals
        if has_aux:
            kids = tree_util.treedef_children(tr.out_tree) if hasattr(tree_util, "treedef_children") else None
            if tr.out_tree.num_leaves < 1 or kids is None or len(kids) != 2:
                raise TypeError("has_aux=True requires fun to return a (output, aux) pair")
        v = out_leaves_avals[0] if out_leaves_avals else None
        if (
            v is None
            or v.shape != ()
            or (has_aux and tree_util.treedef_children(tr.out_tree)[0].num_leaves != 1)
            or (not has_aux and tr.out_tree.num_leaves != 1)
        ):
            n_out = tree_util.treedef_children(tr.out_tree)[0].num_leaves if has_aux else tr.out_tree.num_leaves
            if v is not None and n_out == 1:
                raise TypeError(f"Gradient only defined for scalar-output functions. Output had shape: {v.shape}.")
            # a tuple/dict (or empty) output: JAX says what it was, not a misleading shape
            out_tree = tree_util.treedef_children(tr.out_tree)[0] if has_aux else tr.out_tree
            raise TypeError(
                f"Gradient only defined for scalar-output functions. Output was a pytree with {n_out} "
                f"leaves: {out_tree}."
            )
        if holomorphic and v.dtype.kind != "c":
            raise TypeError(f"grad with holomorphic=True requires outputs with complex dtype, but got {v.dtype.name}.")
        if not holomorphic and (v.dtype.kind == "c" or not dtypes.issubdtype(v.dtype, np.inexact)):
            raise TypeError(
                f"grad requires real-valued outputs (output dtype that is a sub-dtype of np.floating), but got {v.dtype.name}."
                + (
                    " For holomorphic differentiation, pass holomorphic=True. For differentiation of "
                    "non-holomorphic functions involving complex outputs, use jax.vjp directly."
                    if v.dtype.kind == "c"
                    else ""
                )
            )
        with ir_lock:
            gname = grad_function(tr.module, tr.fname, diff_leaves)
        n_out = len(tr.out_avals)
        g_avals = [_grad_aval(leaves[j], holomorphic) for j in diff_leaves]
        res = call_function(tr.module, gname, list(leaves) + tr.captured, list(tr.out_avals) + g_avals)
        outs, grads = res[:n_out], [_float0_if_int(gv, a) for gv, a in zip(res[n_out:], g_avals)]
        out = tree_util.tree_unflatten(tr.out_tree, outs)
        it = iter(grads)
        per_arg = []
        for i in nums:
            sub = tree_util.tree_structure(args[i])
            per_arg.append(tree_util.tree_unflatten(sub, [next(it) for _ in range(sub.num_leaves)]))
        g = per_arg[0] if isinstance(argnums, int) else tuple(per_arg)
        if has_aux:
            return (out[0], out[1]), g
        return out, g

    functools.update_wrapper(vg, fun, updated=())
    return vg


def _grad_aval(x, holomorphic=True):
    a = aval_of(x)
    # a complex input's non-holomorphic gradient comes from real parts: strongly typed in JAX
    weak = a.weak_type and (holomorphic or a.dtype.kind != "c")
    return ShapedArray(a.shape, a.dtype, weak)


def grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False, reduce_axes=()):
    vg = value_and_grad(fun, argnums, has_aux, holomorphic, allow_int, reduce_axes)

    def g(*args, **kwargs):
        if has_aux:
            (_, aux), gr = vg(*args, **kwargs)
            return gr, aux
        return vg(*args, **kwargs)[1]

    functools.update_wrapper(g, fun, updated=())
    return g


# ---- jvp / vjp / linearize -------------------------------------------------------------------------


def _zeros_like_value(x):
    return zeros_like(x)


def jvp(fun, primals, tangents, has_aux=False):
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            "primal and tangent arguments to jax.jvp must be tuples or lists; found "
            f"{type(primals).__name__} and {type(tangents).__name__}."
        )
    if len(primals) != len(tangents):
        raise TypeError("jvp called with different primal and tangent argument counts")
    tr, leaves = _trace_args(fun, primals, known=True)
    t_leaves, t_tree = tree_util.tree_flatten(tuple(tangents))
    if t_tree != tree_util.tree_structure(tuple(primals)):
        raise TypeError(
            f"primal and tangent arguments to jax.jvp must have the same tree structure; got {tree_util.tree_structure(tuple(primals))} and {t_tree}."
        )
    for p, t in zip(leaves, t_leaves):
        pa = aval_of(p)
        if getattr(t, "dtype", None) == dtypes.float0:  # JAX's tangent type for int/bool primals
            if dtypes.issubdtype(pa.dtype, np.inexact) or np.shape(t) != pa.shape:
                raise TypeError(
                    f"float0 tangent of shape {np.shape(t)} given for a {pa.str_short()} primal; "
                    "float0 tangents go with integer or boolean primals of the same shape"
                )
            continue
        ta = aval_of(t)
        if pa.shape != ta.shape:
            raise ValueError(
                f"jvp called with different primal and tangent shapes;Got primal shape {pa.shape} and tangent shape as {ta.shape}"
            )
        if dtypes.issubdtype(pa.dtype, np.inexact) and pa.dtype != ta.dtype:
            raise TypeError(
                "primal and tangent arguments to jax.jvp do not match; dtypes must be equal, or in case of "
                f"int/bool primal dtype the tangent dtype must be float0.Got primal dtype {pa.dtype.name} and "
                f"so expected tangent dtype {pa.dtype.name}, but got tangent dtype {ta.dtype.name} instead."
            )
    t_full = [
        t if dtypes.issubdtype(aval_of(p).dtype, np.inexact) else np.zeros(aval_of(p).shape, aval_of(p).dtype)
        for p, t in zip(leaves, t_leaves)
    ]
    with ir_lock:
        # closed-over constants have no tangents: what depends on them alone is not differentiated
        jname = jvp_function(tr.module, tr.fname, (True,) * len(leaves) + (False,) * len(tr.captured))
    n = len(tr.out_avals)
    res = call_function(
        tr.module,
        jname,
        list(leaves) + tr.captured + t_full,
        list(tr.out_avals) + [a.strip_weak() if False else a for a in tr.out_avals],
    )
    outs = tree_util.tree_unflatten(tr.out_tree, res[:n])
    touts = tree_util.tree_unflatten(tr.out_tree, [_float0_if_int(t, a) for t, a in zip(res[n:], tr.out_avals)])
    if has_aux:
        return outs[0], touts[0], outs[1]
    return outs, touts


def _zeros_for_float0(y, t):
    """jacfwd's column for an integer or boolean output: zeros of its dtype (as JAX's), not the
    float0 tangent (which has no array type to stack)."""
    if getattr(t, "dtype", None) == dtypes.float0:
        a = aval_of(y)
        return np.zeros(a.shape, a.dtype)
    return t


def _float0_if_int(t, a):
    """Integer and boolean values have float0 tangents/cotangents, as in JAX (host zeros)."""
    if dtypes.issubdtype(a.dtype, np.inexact):
        return t
    return np.zeros(a.shape, dtypes.float0)


def linearize(fun, *primals):
    out, _ = jvp(fun, primals, tuple(_zeros_like_value(p) for p in primals))

    def f_jvp(*tangents):
        return jvp(fun, primals, tangents)[1]

    return out, f_jvp


def vjp(fun, *primals, has_aux=False):
    tr, leaves, vjp_fn = _pullback(fun, primals, has_aux, replay=True)
    outs = call_function(tr.module, tr.fname, list(leaves) + tr.captured, tr.out_avals)
    out = tree_util.tree_unflatten(tr.out_tree, outs)
    if has_aux:
        return out[0], vjp_fn, out[1]
    return out, vjp_fn


def _pullback(fun, primals, has_aux=False, replay=False):
    """(traced fun, its leaves, vjp_fn) without evaluating fun's outputs (replay: the caller
    evaluates them, so vjp_fn leaves fun's effects out)."""
    tr, leaves = _trace_args(fun, primals, known=True)
    n_out = len(tr.out_avals)
    if has_aux:
        main_tree = tree_util.treedef_children(tr.out_tree)[0]
        n_main = main_tree.num_leaves
        mask = (True,) * n_main + (False,) * (n_out - n_main)
    else:
        main_tree, n_main, mask = tr.out_tree, n_out, None
    with ir_lock:
        # closed-over constants need no cotangents: what depends on them alone is not differentiated
        wrt = (True,) * len(leaves) + (False,) * len(tr.captured)
        vname = vjp_function(tr.module, tr.fname, mask, replay=replay, wrt=wrt)
    in_tree = tree_util.tree_structure(tuple(primals))

    def vjp_fn(ct):
        ct_leaves, ct_tree = tree_util.tree_flatten(ct)
        if ct_tree != main_tree:
            raise ValueError(
                f"unexpected tree structure of argument to vjp function: got {ct_tree}, but expected to match {main_tree}"
            )
        for c, a in zip(ct_leaves, tr.out_avals):
            ca = aval_of(c)
            if ca.shape != a.shape:
                raise ValueError(
                    f"unexpected JAX type (e.g. shape/dtype) for argument to vjp function: got {ca.str_short()}, but expected {a.str_short()} because the corresponding output of the function had shape {a.shape}"
                )
        in_avals = [aval_of(x) for x in leaves]
        res = call_function(
            tr.module, vname, list(leaves) + tr.captured + list(ct_leaves), list(tr.out_avals) + in_avals
        )
        grads = res[n_out : n_out + len(leaves)]
        return tuple(tree_util.tree_unflatten(in_tree, grads))

    return tr, leaves, vjp_fn


# ---- vmap ------------------------------------------------------------------------------------------


def _broadcast_prefix(prefix, tree, name):
    """Per-leaf values of `prefix`, a pytree prefix of `tree` (ints/None at its leaves)."""
    if prefix is None or isinstance(prefix, int):
        return [prefix] * len(tree_util.tree_leaves(tree))
    if (
        isinstance(prefix, (tuple, list))
        and isinstance(tree, (tuple, list))
        and type(prefix) is not type(tree)
        and not hasattr(tree, "_fields")
    ):
        prefix = type(tree)(prefix)
    if isinstance(prefix, (tuple, list)):
        if not isinstance(tree, (tuple, list)) or len(prefix) != len(tree):
            raise ValueError(
                f"vmap {name} specification must be a tree prefix of the corresponding value, got specification {prefix} for value tree {tree_util.tree_structure(tree)}."
            )
        return [v for p, t in zip(prefix, tree) for v in _broadcast_prefix(p, t, name)]
    if isinstance(prefix, dict):
        if not isinstance(tree, dict) or set(prefix) != set(tree):
            raise ValueError(
                f"vmap {name} specification must be a tree prefix of the corresponding value, got specification {prefix} for value tree {tree_util.tree_structure(tree)}."
            )
        return [v for k in sorted(tree) for v in _broadcast_prefix(prefix[k], tree[k], name)]
    if type(prefix) is type(tree):  # another registered node (a custom class, a dataclass): its children
        try:
            (p_kids, p_aux), (t_kids, t_aux) = tree_util.flatten_one_level(prefix), tree_util.flatten_one_level(tree)
        except ValueError:
            p_kids = None
        if p_kids is not None and len(p_kids) == len(t_kids) and p_aux == t_aux:
            return [v for p, t in zip(p_kids, t_kids) for v in _broadcast_prefix(p, t, name)]
    raise ValueError(f"vmap {name} must be an int, None, or a tree prefix of the arguments; got {prefix!r}")


def vmap(fun, in_axes=0, out_axes=0, axis_name=None, axis_size=None, spmd_axis_name=None):
    if not callable(fun):
        raise TypeError(f"vmap requires a callable, got {fun!r}")
    # spmd_axis_name only adds sharding constraints in JAX: nothing to do on one device
    if axis_name is not None and not isinstance(axis_name, str):
        raise TypeError(f"vmap axis_name must be a string in irjax, got {axis_name!r}")
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)

    def vmapped(*args, **kwargs):
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(
                f"vmap in_axes specification must be a tree prefix of the corresponding value, got specification "
                f"{in_axes} for value tree {tree_util.tree_structure(args)}."
            )
        spec = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
        # keyword arguments are always mapped over their leading axis, as in JAX
        dims = _broadcast_prefix(tuple(spec), tuple(args), "in_axes") + [0] * len(tree_util.tree_leaves(kwargs))
        leaves, in_tree = tree_util.tree_flatten((tuple(args), kwargs))
        # unmapped leaves reach fun as they are (a Python int stays an int, as in JAX: Python
        # control flow and jit's static arguments can use them); only mapped ones are traced
        mapped = [i for i, d in enumerate(dims) if d is not None]
        mapped_leaves = [leaves[i] for i in mapped]
        norm, sizes, avals = [], [], []
        for x, d in zip(mapped_leaves, [dims[i] for i in mapped]):
            a = aval_of(x)
            if not -a.ndim <= d < a.ndim:
                raise ValueError(
                    f"vmap was requested to map its argument along axis {d}, which implies that its rank should be at least {d + 1 if d >= 0 else -d}, but is only {a.ndim} (its shape is {a.shape})"
                )
            d = d % a.ndim
            norm.append(d)
            sizes.append(a.shape[d])
            avals.append(ShapedArray(a.shape[:d] + a.shape[d + 1 :], a.dtype, a.weak_type))
        size = axis_size
        if sizes:
            if len(set(sizes)) > 1:
                raise ValueError(
                    "vmap got inconsistent sizes for array axes to be mapped:\n"
                    + "\n".join(
                        f"  argument with shape {aval_of(leaves[i]).shape} mapped along axis {d} has size "
                        f"{aval_of(leaves[i]).shape[d]}"
                        for i, d in zip(mapped, norm)
                    )
                )
            if axis_size is not None and axis_size != sizes[0]:
                raise ValueError(f"vmap got axis_size={axis_size} but the mapped axes have size {sizes[0]}")
            size = sizes[0]
        elif size is None:
            raise ValueError("vmap must have at least one non-None value in in_axes")

        def with_mapped(*traced):
            full = list(leaves)
            for i, t in zip(mapped, traced):
                full[i] = t
            a, kw = tree_util.tree_unflatten(in_tree, full)
            return fun(*a, **kw)

        with axis_frame(axis_name, size):  # collectives in fun may name axis_name
            flat = tree_util.tree_structure(tuple(mapped))
            tr = trace_function(with_mapped, avals, flat, name=_name(fun))
        # (placeholder leaves: avals are NamedTuples, which tree_util would read as nodes)
        shape_tree = tree_util.tree_unflatten(tr.out_tree, [object() for _ in tr.out_avals])
        o_axes = _broadcast_prefix(out_axes, shape_tree, "out_axes")
        keep = [ax is not None for ax in o_axes]  # out_axes=None: the result must not vary (JAX's check)
        with ir_lock:
            try:
                bname = batch_function(
                    tr.module, tr.fname, norm + [None] * len(tr.captured), size, out_batched=keep, axis_name=axis_name
                )
            except ValueError as e:
                if "expected unbatched is batched" not in str(e):
                    raise
                raise ValueError("at vmap out_axes, got axis spec None but output was batched on axis 0") from None
        out_avals = [
            ShapedArray((size,) + a.shape if k else a.shape, a.dtype, a.weak_type) for a, k in zip(tr.out_avals, keep)
        ]
        outs = call_function(tr.module, bname, mapped_leaves + tr.captured, out_avals)

        moved = []
        for o, ax in zip(outs, o_axes):
            if ax is None:
                moved.append(o)
            else:
                moved.append(o if ax in (0, -o.ndim) else moveaxis(o, 0, ax))
        return tree_util.tree_unflatten(tr.out_tree, moved)

    functools.update_wrapper(vmapped, fun, updated=())
    return vmapped


# ---- jacobians ------------------------------------------------------------------------------------


def _flat_dyn(fun, args, argnums, has_aux):
    """fun as a function of the flat leaves of args[argnums]; plus those leaves and their tree."""
    nums = _norm_argnums(argnums, len(args))
    dyn = tuple(args[i] for i in nums)
    leaves, tree = tree_util.tree_flatten(dyn)
    for x in leaves:
        dt = aval_of(x).dtype
        if not dtypes.issubdtype(dt, np.inexact):
            raise TypeError(
                "jacobian requires real- or complex-valued inputs (input dtype that is a sub-dtype of "
                f"np.inexact), but got {dt.name}."
            )

    def f(*xs):
        a = list(args)
        for i, v in zip(nums, tree_util.tree_unflatten(tree, xs)):
            a[i] = v
        out = fun(*a)
        if has_aux:
            if not isinstance(out, (tuple, list)) or len(out) != 2:
                raise TypeError("has_aux=True requires fun to return a (output, aux) pair")
            return tuple(out)
        return out

    in_tree = tree if not isinstance(argnums, int) else tree_util.treedef_children(tree)[0]
    return f, leaves, in_tree


def _basis(avals, dtype):
    """Rows of the identity over the concatenated leaves, split per leaf: [(n, *leaf.shape)]."""
    n = sum(a.size for a in avals)
    eye = np.eye(max(n, 1), dtype=dtype)[:n]  # built on the host: nothing to compile
    parts, k = [], 0
    for a in avals:
        parts.append(eye[:, k : k + a.size].reshape((n,) + tuple(a.shape)))
        k += a.size
    return parts


def _assemble(out_tree, in_tree, blocks):
    """blocks[i][j]: d out_leaf_i / d in_leaf_j -> the out tree of in trees (as JAX)."""
    return tree_util.tree_unflatten(out_tree, [tree_util.tree_unflatten(in_tree, row) for row in blocks])


def _dtype_of(avals):
    dts = [a.dtype for a in avals]
    return np.result_type(*dts) if dts else np.float32


def jacfwd(fun, argnums=0, has_aux=False, holomorphic=False):
    def jac(*args):
        _check_holomorphic("jacfwd", holomorphic, args, argnums)
        f, xs, in_tree = _flat_dyn(fun, args, argnums, has_aux)
        x_avals = [aval_of(x) for x in xs]
        basis = _basis(x_avals, _dtype_of(x_avals))

        def push(*ts):
            if has_aux:
                y, t_out, aux = jvp(f, tuple(xs), tuple(ts), has_aux=True)
                return tree_util.tree_map(_zeros_for_float0, y, t_out), aux
            y, t_out = jvp(f, tuple(xs), tuple(ts))
            return tree_util.tree_map(_zeros_for_float0, y, t_out)

        res = vmap(push, out_axes=(0, None) if has_aux else 0)(*basis)
        t_out, aux = res if has_aux else (res, None)
        o_leaves, o_tree = tree_util.tree_flatten(t_out)
        blocks = []
        for o in o_leaves:  # o: (n, *out.shape) -> out.shape + in_leaf.shape per input leaf
            o_shape = tuple(o.shape[1:])
            row, k = [], 0
            for a in x_avals:
                part = o[k : k + a.size]
                k += a.size
                nd = len(o_shape)
                part = part.transpose(tuple(range(1, nd + 1)) + (0,)) if nd else part
                row.append(part.reshape(o_shape + tuple(a.shape)))
            blocks.append(row)
        out = _assemble(o_tree, in_tree, blocks)
        return (out, aux) if has_aux else out

    return jac


def jacrev(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    def jac(*args):
        _check_holomorphic("jacrev", holomorphic, args, argnums)
        f, xs, in_tree = _flat_dyn(fun, args, argnums, has_aux)
        x_avals = [aval_of(x) for x in xs]
        if has_aux:
            y, pullback, aux = vjp(f, *xs, has_aux=True)
            y_leaves, y_tree = tree_util.tree_flatten(y)
            y_avals = [aval_of(v) for v in y_leaves]
        else:  # only the outputs' types are needed: do not run f itself
            tr, _, pullback = _pullback(f, xs)
            y_tree, y_avals = tr.out_tree, list(tr.out_avals)
        basis = _basis(y_avals, _dtype_of(y_avals))
        cts = vmap(lambda *c: pullback(tree_util.tree_unflatten(y_tree, c)))(*basis)  # per x leaf: (m, *x.shape)
        blocks = []
        k = 0
        for ya in y_avals:
            row = []
            for c, xa in zip(cts, x_avals):
                row.append(c[k : k + ya.size].reshape(tuple(ya.shape) + tuple(xa.shape)))
            k += ya.size
            blocks.append(row)
        out = _assemble(y_tree, in_tree, blocks)
        return (out, aux) if has_aux else out

    return jac


jacobian = jacrev


def hessian(fun, argnums=0, has_aux=False, holomorphic=False):
    return jacfwd(
        jacrev(fun, argnums, has_aux=has_aux, holomorphic=holomorphic),
        argnums,
        has_aux=has_aux,
        holomorphic=holomorphic,
    )


# ---- inspection -------------------------------------------------------------------------------------


def make_jaxpr(fun, static_argnums=()):
    def mk(*args, **kwargs):
        tr, _ = _trace_args(fun, args, kwargs)
        return JxModule(tr)

    return mk


def eval_shape(fun, *args, **kwargs):
    def to_aval(x):
        if isinstance(x, ShapeDtypeStruct):
            return ShapedArray(tuple(x.shape), dtypes.canonicalize_dtype(x.dtype), bool(x.weak_type))
        return aval_of(x)

    leaves, in_tree = tree_util.tree_flatten(tuple(args))
    tr = trace_function(lambda *a: fun(*a, **kwargs), [to_aval(x) for x in leaves], in_tree, name=_name(fun))
    return tree_util.tree_unflatten(
        tr.out_tree, [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type) for a in tr.out_avals]
    )


def block_until_ready(x):
    for leaf in tree_util.tree_leaves(x):
        if hasattr(leaf, "block_until_ready"):
            leaf.block_until_ready()
    return x


def stop_gradient(x):
    return tree_util.tree_map(lambda v: jx.stop_gradient(v) if isinstance(v, Tracer) else v, x)


def is_tracing() -> bool:
    return current_trace() is not None
