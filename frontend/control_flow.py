"""lax.cond, switch, while_loop, fori_loop, scan and map: trace the bodies into functions of the
module being traced and emit jx.cond / jx.while / jx.scan naming them (always staged, as JAX;
outside a trace the call is traced into a small function and run). Under jax_disable_jit, as in
JAX, they run as Python control flow where the values that steer them are concrete."""

from __future__ import annotations

import operator

import numpy as np
from irjax.dialects import builder
from irjax.dialects.attrs import Symbol
from irjax.dialects.func import build_func, emit_call, find_func, signature
from irjax.dialects.mlir import enter

from . import tree_util
from .api import vmap
from .core import ShapedArray, Tracer, aval_of, current_trace, jx
from .core import _state as _trace_state
from .errors import ConcretizationTypeError
from .operands import asarray, asarray_any, concatenate, convert_element_type, stack
from .tracing import call_function, trace_function

# ---- helpers ------------------------------------------------------------------------------------


def run_staged(fun, args, name):
    """Outside a trace: trace fun(*args) into its own function and run it."""
    leaves, tree = tree_util.tree_flatten(tuple(args))
    tr = trace_function(lambda *a: fun(*a), [aval_of(x) for x in leaves], tree, name=name)
    outs = call_function(tr.module, tr.fname, list(leaves) + tr.captured, tr.out_avals)
    return tree_util.tree_unflatten(tr.out_tree, outs)


def _emit(trace, name, operands, params, out_avals):
    vals = [trace.to_value(x) for x in operands]
    types = [builder.ir_type(a.shaped()) for a in out_avals]
    with enter(), trace.builder.ip:
        res = builder.emit(name, [v.value for v in vals], params, types)
    return [Tracer(trace, r, a) for r, a in zip(res, out_avals)]


def _wrap(module, callee, in_avals, pick, name) -> str:
    """@name(in_avals) { return call @callee(pick(args)) }: reorders or adds arguments."""
    _, outs = signature(find_func(module, callee))
    with enter():
        return build_func(
            module,
            f"{callee}_{name}",
            [a.shaped() for a in in_avals],
            lambda *a: emit_call(callee, pick(list(a)), outs),
            private=True,
        )


def _trace(fun, avals, tree, name, module):
    return trace_function(fun, list(avals), tree, name=name, module=module)


def _avals(leaves):
    return [aval_of(x) for x in leaves]


def _same_types(xs, ys) -> bool:
    return len(xs) == len(ys) and all((a.shape, a.dtype) == (b.shape, b.dtype) for a, b in zip(xs, ys))


def _types_str(avals) -> str:
    return "[" + ", ".join(a.str_short() for a in avals) + "]"


def _fn_name(f, default):
    return getattr(f, "__name__", default)


def _promote_weak(init_avals, out_avals):
    """JAX promotes weakly typed initial carries to the dtype the body produces."""
    new, changed = [], False
    for a, o in zip(init_avals, out_avals):
        if a.weak_type and a.shape == o.shape and a.dtype != o.dtype:
            new.append(ShapedArray(a.shape, o.dtype, o.weak_type))
            changed = True
        else:
            new.append(a)
    return new, changed


def _carry_out(init_avals, out_avals):
    """The loop's final carries: the init's types, weak only where the body keeps them weak
    (JAX's loop results take the body's output types: scan(f, 0.0, xs) ends float32, not weak)."""
    return [ShapedArray(a.shape, a.dtype, a.weak_type and o.weak_type) for a, o in zip(init_avals, out_avals)]


def _cast(leaves, avals):
    out = []
    for x, a in zip(leaves, avals):
        if aval_of(x).dtype != a.dtype:
            x = convert_element_type(asarray_any(x), a.dtype)
        out.append(x)
    return out


# ---- cond / switch ----------------------------------------------------------------------------


def cond(pred, true_fun, false_fun, *operands, operand=None, **kwargs):
    """pred ? true_fun(*operands) : false_fun(*operands), staged (both branches traced)."""
    if operand is not None:
        operands = operands + (operand,)
    if not callable(true_fun) or not callable(false_fun):
        raise TypeError("lax.cond: true_fun and false_fun arguments should be callable.")
    pa = aval_of(pred)
    if pa.shape != ():
        raise TypeError(f"Pred must be a scalar, got {pred} of shape {pa.shape}.")
    if pa.dtype != np.bool_ and not np.issubdtype(pa.dtype, np.number):
        raise TypeError(f"Pred type must be either boolean or number, got {pa.dtype}.")
    if _trace_state.jit_off and not isinstance(pred, Tracer):
        return true_fun(*operands) if pred else false_fun(*operands)
    if current_trace() is None:
        return run_staged(lambda p, *ops: cond(p, true_fun, false_fun, *ops), (pred,) + tuple(operands), "cond")
    if pa.dtype != np.bool_:
        pred = jx.ne(asarray_any(pred), asarray_any(np.zeros((), pa.dtype)))  # lax.ne(pred, 0)
    return _branches(pred, [false_fun, true_fun], operands, "true_fun and false_fun")


def switch(index, branches, *operands, operand=None):
    """branches[clamp(index, 0, len - 1)](*operands), staged."""
    if operand is not None:
        operands = operands + (operand,)
    branches = list(branches)
    if not branches:
        raise ValueError("Empty branch sequence")
    for b in branches:
        if not callable(b):
            raise TypeError("lax.switch: branches argument should be a sequence of callables.")
    ia = aval_of(index)
    if ia.shape != ():
        raise TypeError(f"Branch index must be scalar, got {index} of shape {ia.shape}.")
    if not np.issubdtype(ia.dtype, np.integer):
        raise TypeError(f"Index type must be an integer, got {index}.")
    if len(branches) == 1:
        return branches[0](*operands)
    if _trace_state.jit_off and not isinstance(index, Tracer):
        return branches[min(max(int(index), 0), len(branches) - 1)](*operands)
    if current_trace() is None:
        return run_staged(lambda i, *ops: switch(i, branches, *ops), (index,) + tuple(operands), "switch")
    index = convert_element_type(asarray_any(index), np.int32)
    return _branches(index, branches, operands, "branch 0 and {i}")


def _source(f) -> str:
    code = getattr(f, "__code__", None)
    where = f" at {code.co_filename}:{code.co_firstlineno}" if code is not None else ""
    return f"{getattr(f, '__name__', type(f).__name__)}{where}"


def _types_differ(what, funs, i, avals0, avals_i) -> str:
    """JAX's message for branches whose outputs differ in type (first line and first mismatch)."""
    if what.startswith("true_fun"):  # cond: funs are [false_fun, true_fun]
        kind, (na, fa, ta), (nb, fb, tb) = "cond", ("true_fun", funs[1], avals_i), ("false_fun", funs[0], avals0)
    else:
        kind, (na, fa, ta), (nb, fb, tb) = "switch", ("branch 0", funs[0], avals0), (f"branch{i}", funs[i], avals_i)
    k = next(j for j, (a, b) in enumerate(zip(ta, tb)) if (a.shape, a.dtype) != (b.shape, b.dtype))
    what_differs = "dtypes" if ta[k].dtype != tb[k].dtype else "shapes"
    return (
        f"{kind} branches must have equal output types but they differ.\n\n{na} is {_source(fa)}\n"
        f"{nb} is {_source(fb)}\n\nThe output of {na} has type {ta[k].str_short()} but the corresponding "
        f"output of {nb} has type {tb[k].str_short()}, so the {what_differs} do not match.\n\n"
        f"Revise {na} and/or {nb} so that all output types match."
    )


def _branches(index, funs, operands, what):
    trace = current_trace()
    leaves, in_tree = tree_util.tree_flatten(tuple(operands))
    avals = _avals(leaves)
    trs = [_trace(f, avals, in_tree, _fn_name(f, "branch"), trace.module) for f in funs]
    t0 = trs[0]
    for i, t in enumerate(trs[1:], 1):
        if t.out_tree != t0.out_tree or not _same_types(t.out_avals, t0.out_avals):
            names = what.format(i=i)
            if t.out_tree != t0.out_tree:
                raise TypeError(f"{names} output must have same type structure, got {t0.out_tree} and {t.out_tree}.")
            raise TypeError(_types_differ(what, funs, i, t0.out_avals, t.out_avals))
    # every branch takes (operands, all captured values): wrap those that capture
    caps, pos = [], {}
    for t in trs:
        for c in t.captured:
            if id(c) not in pos:
                pos[id(c)] = len(caps)
                caps.append(c)
    n = len(leaves)
    all_avals = avals + _avals(caps)
    names = []
    for t in trs:
        idx = [pos[id(c)] for c in t.captured]
        if len(caps) == 0 or idx == list(range(len(caps))):
            names.append(Symbol(t.fname))
        else:
            names.append(
                Symbol(
                    _wrap(trace.module, t.fname, all_avals, lambda a, idx=idx: a[:n] + [a[n + j] for j in idx], "caps")
                )
            )
    out_avals = [
        ShapedArray(a.shape, a.dtype, all(t.out_avals[k].weak_type for t in trs)) for k, a in enumerate(t0.out_avals)
    ]
    res = _emit(trace, "cond", [index] + list(leaves) + caps, {"branches": tuple(names)}, out_avals)
    return tree_util.tree_unflatten(t0.out_tree, res)


# ---- while_loop / fori_loop ---------------------------------------------------------------------


def while_loop(cond_fun, body_fun, init_val):
    """while cond_fun(val): val = body_fun(val), staged as jx.while."""
    if _trace_state.jit_off:
        try:
            return _python_while(cond_fun, body_fun, init_val)
        except ConcretizationTypeError:
            pass  # (cond_fun needs a traced value, e.g. under vmap: stage it, as JAX)
    if current_trace() is None:
        return run_staged(lambda v: while_loop(cond_fun, body_fun, v), (init_val,), "while_loop")
    trace = current_trace()
    leaves, tree = tree_util.tree_flatten(init_val)
    avals = _avals(leaves)
    arg_tree = tree_util.tree_structure((init_val,))
    tc = _trace(cond_fun, avals, arg_tree, _fn_name(cond_fun, "cond_fun"), trace.module)
    ca = tc.out_avals
    if tc.out_tree != tree_util.tree_structure(0) or ca[0].shape != () or ca[0].dtype != np.bool_:
        raise TypeError(f"cond_fun must return a boolean scalar, but got output type(s) {_types_str(ca)}.")
    tb = _trace(body_fun, avals, arg_tree, _fn_name(body_fun, "body_fun"), trace.module)
    if tb.out_tree != tree:
        raise TypeError(f"body_fun output and input must have identical types, got\n{tb.out_tree}\nand\n{tree}.")
    if not _same_types(tb.out_avals, avals):
        new, changed = _promote_weak(avals, tb.out_avals)
        if changed:
            return while_loop(cond_fun, body_fun, tree_util.tree_unflatten(tree, _cast(leaves, new)))
        raise TypeError(
            "body_fun output and input must have identical types, got\n"
            f"{_types_str(tb.out_avals)}\nand\n{_types_str(avals)}."
        )
    k = len(leaves)
    cc, bc = list(tc.captured), list(tb.captured)
    # the bodies take (carry, captured); jx.while passes (consts, carry)
    cname = (
        tc.fname
        if not cc
        else _wrap(trace.module, tc.fname, _avals(cc) + avals, lambda a: a[len(cc) :] + a[: len(cc)], "cc")
    )
    bname = (
        tb.fname
        if not bc
        else _wrap(trace.module, tb.fname, _avals(bc) + avals, lambda a: a[len(bc) :] + a[: len(bc)], "cc")
    )
    params = dict(cond_fn=Symbol(cname), body_fn=Symbol(bname), cond_nconsts=len(cc), body_nconsts=len(bc))
    res = _emit(trace, "while", cc + bc + list(leaves), params, _carry_out(avals[:k], tb.out_avals))
    return tree_util.tree_unflatten(tree, res)


def _python_while(cond_fun, body_fun, init_val):
    """jax_disable_jit's while_loop: a Python loop over array-valued carries."""
    val = tree_util.tree_map(asarray_any, init_val)
    while cond_fun(val):
        val = tree_util.tree_map(asarray_any, body_fun(val))
    return val


def _concrete_int(x):
    if isinstance(x, Tracer):
        return None
    try:
        a = np.asarray(x)
    except Exception:  # noqa: BLE001
        return None
    if a.shape != () or not np.issubdtype(a.dtype, np.integer):
        return None
    return int(a)


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """for i in range(lower, upper): val = body_fun(i, val). Static bounds become a scan (so
    reverse mode works, as JAX); traced bounds a while_loop."""
    for b in (lower, upper):
        if not np.issubdtype(aval_of(b).dtype, np.integer):
            raise TypeError(f"lower and upper arguments to fori_loop must have integer dtypes, got {aval_of(b).dtype}")
    lo, hi = _concrete_int(lower), _concrete_int(upper)
    dt = np.result_type(aval_of(lower).dtype, aval_of(upper).dtype)
    dt = np.dtype(np.int32) if dt == np.int64 else dt
    # weakly typed bounds (Python ints) give a weak counter, as JAX: `x + i` keeps x's weak type
    weak = aval_of(lower).weak_type and aval_of(upper).weak_type
    one = 1 if weak else np.array(1, dt)
    if lo is not None and hi is not None:

        def step(carry, _):
            i, x = carry
            return (i + one, body_fun(i, x)), None

        if _trace_state.jit_off:  # (as JAX: a Python loop, the counter a Python int)
            for i in range(lo, hi):
                init_val = body_fun(i, init_val)
            return init_val
        n = max(hi - lo, 0)
        i0 = lo if weak else np.array(lo, dt)
        (_, out), _ = scan(step, (i0, init_val), None, length=n, unroll=False if unroll is None else unroll)
        return out
    if unroll is not None and unroll is not False and unroll != 1:
        raise ValueError("Can only use `unroll` in `fori_loop` if the loop bounds are statically known.")

    def cond_fun(c):
        return c[0] < c[1]

    def body(c):
        i, u, x = c
        return i + one, u, body_fun(i, x)

    if not weak:
        lower = asarray(lower, dt)
        upper = asarray(upper, dt)
    return while_loop(cond_fun, body, (lower, upper, init_val))[2]


# ---- scan / map ------------------------------------------------------------------------------------


def _unroll_steps(unroll, length: int) -> int:
    """JAX's scan `unroll` as steps per loop iteration: True or 0 is the whole scan, False 1.
    It changes no value, only how the loop is compiled (dialects/control_flow.py)."""
    if isinstance(unroll, Tracer):
        raise TypeError("The `unroll` argument to `scan` expects a concrete `int` or `bool` value.")
    if isinstance(unroll, (bool, np.bool_)):
        return max(length, 1) if unroll else 1
    try:
        u = operator.index(unroll)
    except TypeError:
        raise TypeError(
            f"The `unroll` argument to `scan` expects a concrete `int` or `bool` value, got {unroll!r}."
        ) from None
    if u < 0:
        raise ValueError("`unroll` must be a `bool` or a non-negative `int`.")
    return max(1, min(u or length, length))


def scan(f, init, xs=None, length=None, reverse=False, unroll=1, _split_transpose=False):
    """carry, ys = scan(f, init, xs): f(carry, x) -> (carry, y) over the leading axis of xs,
    staged as one jx.scan (a loop in the IR, however long)."""
    if not callable(f):
        raise TypeError(f"scan: f argument should be a callable, got {f!r}")
    x_leaves, x_tree = tree_util.tree_flatten(xs)
    lengths = set()
    for x in x_leaves:
        a = aval_of(x)
        if a.ndim == 0:
            raise ValueError(f"scan got value with no leading axis to scan over: {a.str_short()}.")
        lengths.add(a.shape[0])
    if length is not None:
        length = int(length)
        if lengths and lengths != {length}:
            raise ValueError(
                f"scan got `length` argument of {length} which disagrees with leading axis sizes {sorted(lengths)}."
            )
    elif len(lengths) > 1:
        raise ValueError(f"scan got values with different leading axis sizes: {', '.join(map(str, sorted(lengths)))}.")
    elif not lengths:
        raise ValueError("scan got no values to scan over and `length` not provided.")
    else:
        length = lengths.pop()
    unroll = _unroll_steps(unroll, length)
    if _trace_state.jit_off:
        return _python_scan(f, init, x_leaves, x_tree, length, reverse)
    if current_trace() is None:
        return run_staged(lambda c, x: scan(f, c, x, length, reverse, unroll), (init, xs), "scan")
    trace = current_trace()
    c_leaves, c_tree = tree_util.tree_flatten(init)
    c_avals = _avals(c_leaves)
    x_avals = [ShapedArray(aval_of(x).shape[1:], aval_of(x).dtype, aval_of(x).weak_type) for x in x_leaves]
    in_tree = tree_util.tree_structure((init, xs))

    def body(c, x):
        out = f(c, x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"scan body output must be a pair, got {type(out).__name__}.")
        return tuple(out)

    tb = _trace(body, c_avals + x_avals, in_tree, _fn_name(f, "scan_body"), trace.module)
    out_c_tree, y_tree = tree_util.treedef_children(tb.out_tree)
    k = len(c_leaves)
    if out_c_tree != c_tree:
        raise TypeError(
            "scan body function carry input and carry output must have the same pytree structure, "
            f"but they differ:\ninput {c_tree}\noutput {out_c_tree}"
        )
    if not _same_types(tb.out_avals[:k], c_avals):
        new, changed = _promote_weak(c_avals, tb.out_avals[:k])
        if changed:
            return scan(f, tree_util.tree_unflatten(c_tree, _cast(c_leaves, new)), xs, length, reverse, unroll)
        raise TypeError(
            "scan body function carry input and carry output must have equal types, got\n"
            f"input {_types_str(c_avals)}\noutput {_types_str(tb.out_avals[:k])}"
        )
    caps = list(tb.captured)
    name = (
        tb.fname
        if not caps
        else _wrap(
            trace.module, tb.fname, _avals(caps) + c_avals + x_avals, lambda a: a[len(caps) :] + a[: len(caps)], "cc"
        )
    )
    y_avals = [ShapedArray((length,) + a.shape, a.dtype, a.weak_type) for a in tb.out_avals[k:]]
    params = dict(body=Symbol(name), length=length, reverse=bool(reverse), num_consts=len(caps), num_carry=k)
    if unroll != 1:
        params["unroll"] = unroll
    res = _emit(
        trace, "scan", caps + list(c_leaves) + list(x_leaves), params, _carry_out(c_avals, tb.out_avals) + y_avals
    )
    return tree_util.tree_unflatten(c_tree, res[:k]), tree_util.tree_unflatten(y_tree, res[k:])


def _python_scan(f, init, x_leaves, x_tree, length, reverse):
    """jax_disable_jit's scan: a Python loop over the leading axis, the ys stacked after."""
    if length == 0:
        raise ValueError("zero-length scan is not supported in disable_jit() mode because the output type is unknown.")
    carry, ys = init, []
    for i in reversed(range(length)) if reverse else range(length):
        x = tree_util.tree_unflatten(x_tree, [leaf[i] for leaf in x_leaves])
        out = f(carry, x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"scan body output must be a pair, got {type(out).__name__}.")
        carry, y = out
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, tree_util.tree_map(lambda *leaves: stack(leaves), *ys)


def map(f, xs, *, batch_size=None):  # noqa: A001  (lax.map)
    """Map f over the leading axis of xs with a scan (ys stacked). With batch_size, as in JAX,
    the scan runs over chunks of batch_size elements with f vmapped over each chunk, and any
    remainder is one more vmapped call."""
    if batch_size is None:
        return scan(lambda _, x: ((), f(x)), (), xs)[1]
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    leaves = tree_util.tree_leaves(xs)
    if not leaves:
        raise ValueError("lax.map with batch_size needs at least one array in xs")
    n = int(np.shape(leaves[0])[0])
    bs = int(batch_size)
    full = n // bs
    vf = vmap(f)
    parts = []
    if full:
        chunks = tree_util.tree_map(lambda x: x[: full * bs].reshape((full, bs) + tuple(np.shape(x)[1:])), xs)
        ys = scan(lambda _, c: ((), vf(c)), (), chunks)[1]
        parts.append(tree_util.tree_map(lambda y: y.reshape((full * bs,) + tuple(y.shape[2:])), ys))
    if n - full * bs:
        parts.append(vf(tree_util.tree_map(lambda x: x[full * bs :], xs)))
    if len(parts) == 1:
        return parts[0]
    return tree_util.tree_map(lambda a, b: concatenate([a, b]), parts[0], parts[1])
