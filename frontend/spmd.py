"""irjax.shard_map and irjax.pmap (this module is irjax.spmd): a function run per block of a mesh, with collectives over the
mesh axis names. Both are nested vmaps named by the mesh axes (dialects/collectives.py).

Inputs split per in_specs into blocks stacked along one new axis per mesh axis they name;
outputs reassemble per out_specs. Results are placed with NamedSharding where device_put can.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Sequence

from irjax.dialects.func import find_func, reachable
from irjax.passes.batching import batch_function
from irjax.passes.transform import REVERSE_MODE

from . import numpy as jnp
from . import spmd_processes, tree_util
from .api import _broadcast_prefix, vmap
from .axis_env import axis_frame
from .core import ShapedArray, aval_of, ir_lock
from .device_api import device_put, local_device_count
from .sharding import Mesh, NamedSharding, PartitionSpec, get_mesh, is_local
from .tracing import call_function, trace_function

__all__ = ["pmap", "shard_map"]


def _is_spec(x) -> bool:
    return x is None or isinstance(x, PartitionSpec)


def _spec_leaves(specs, tree_val, what: str, fname: str) -> list[PartitionSpec]:
    """One PartitionSpec per leaf of tree_val; specs is a tree prefix of it (None = P())."""
    spec_leaves, treedef = tree_util.tree_flatten(specs, is_leaf=_is_spec)
    try:
        subtrees = treedef.flatten_up_to(tree_val)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"shard_map applied to the function {fname!r}: {what} must be a tree prefix of the "
            f"{'arguments' if what == 'in_specs' else 'outputs'} ({e})"
        ) from None
    out = []
    for s, sub in zip(spec_leaves, subtrees):
        out += [s if s is not None else PartitionSpec()] * len(tree_util.tree_leaves(sub))
    return out


def _check_spec(spec: PartitionSpec, ndim: int, mesh: Mesh, what: str, fname: str) -> None:
    if len(spec) > ndim:
        raise ValueError(
            f"shard_map applied to the function {fname!r}: {what} entry {spec} has length {len(spec)}, "
            f"but the value has rank {ndim}"
        )
    used = spec.used_axes()
    for a in used:
        if a not in mesh.axis_names:
            raise ValueError(f"shard_map: {what} entry {spec} names axis {a!r}, not in the mesh {mesh.axis_names}")
    if len(set(used)) != len(used):
        raise ValueError(f"shard_map: {what} entry {spec} names a mesh axis twice")


def _to_blocks(x, spec: PartitionSpec, sizes: dict, order: Sequence[str], fname: str):
    """x split per spec: one leading axis per mesh axis spec names (mesh order), then the block."""
    x = jnp.asarray(x)
    shape, labels, new_shape = x.shape, [], []
    for d, n in enumerate(shape):
        names = spec.axes_of(d)
        k = math.prod(sizes[a] for a in names)
        if n % k:
            raise ValueError(
                f"shard_map applied to the function {fname!r} was given an argument of shape {shape} whose "
                f"dimension {d} (size {n}) is not evenly divisible by the mesh axes {names} (total size {k})"
            )
        for a in names:
            labels.append(a)
            new_shape.append(sizes[a])
        labels.append(("block", d))
        new_shape.append(n // k)
    lead = [a for a in order if a in labels]
    perm = [labels.index(a) for a in lead] + [labels.index(("block", d)) for d in range(len(shape))]
    return jnp.transpose(jnp.reshape(x, new_shape), perm)


def _from_blocks(o, spec: PartitionSpec, lead: Sequence[str], sizes: dict):
    """Inverse of _to_blocks: o has one leading axis per name in `lead`, then the block."""
    block = o.shape[len(lead) :]
    perm, shape = [], []
    for d, n in enumerate(block):
        names = spec.axes_of(d)
        perm += [lead.index(a) for a in names] + [len(lead) + d]
        shape.append(n * math.prod(sizes[a] for a in names))
    return jnp.reshape(jnp.transpose(o, perm), shape)


def _map_axis(
    fn: Callable, leaves: list, dims: list, size: int, name: str, out_batched: Callable, fname: str, vma: bool = False
):
    """vmap of the flat fn(*leaves) -> leaves over one named axis; out_batched() is called after
    tracing (the outputs are known then): None, or per output False where it must be unbatched
    (check_vma: replicated over this axis)."""
    avals = []
    for x, d in zip(leaves, dims):
        a = aval_of(x)
        avals.append(a if d is None else ShapedArray(a.shape[1:], a.dtype, a.weak_type))
    with axis_frame(name, size):
        tr = trace_function(
            lambda *a: list(fn(*a)), avals, tree_util.tree_structure(tuple(range(len(avals)))), name=fname
        )
    if vma and any(REVERSE_MODE in find_func(tr.module, n).attributes for n in reachable(tr.module, [tr.fname])):
        raise NotImplementedError(_REVERSE_MODE_MSG.format(fname=fname))
    ob = out_batched()
    try:
        with ir_lock:
            bname = batch_function(
                tr.module, tr.fname, list(dims) + [None] * len(tr.captured), size, out_batched=ob, axis_name=name
            )
    except ValueError as e:
        if "expected unbatched is batched" not in str(e):
            raise
        raise ValueError(
            f"shard_map applied to the function {fname!r} was given out_specs which require replication "
            f"which can't be statically inferred given the mesh: an output varies over mesh axis {name!r} but "
            f"its out_specs entry does not name it. Reduce it over {name!r} (psum, pmean, all_gather) or name "
            f"{name!r} in out_specs, or pass check_vma=False to take one member's value."
        ) from None
    out_avals = [
        ShapedArray(((size,) if ob is None or ob[i] else ()) + a.shape, a.dtype, a.weak_type)
        for i, a in enumerate(tr.out_avals)
    ]
    return call_function(tr.module, bname, list(leaves) + tr.captured, out_avals)


def _reverse_mode_check(f: Callable, mesh: Mesh, in_tree, fname: str) -> Callable:
    """check(block avals): NotImplementedError if the body takes a reverse-mode derivative, as the
    in-process path raises (with check_vma=True JAX's cotangents of replicated inputs are psummed,
    which irjax does not model). The body is traced once per block avals, nothing is compiled."""
    seen: dict = {}

    def check(avals: list) -> None:
        key = tuple((a.shape, a.dtype, a.weak_type) for a in avals)
        if key in seen:
            return
        with contextlib.ExitStack() as stack:
            for n, size in zip(mesh.axis_names, mesh.axis_sizes):
                stack.enter_context(axis_frame(n, size))
            tr = trace_function(
                lambda *a: tree_util.tree_leaves(f(*tree_util.tree_unflatten(in_tree, a))),
                avals,
                tree_util.tree_structure(tuple(range(len(avals)))),
                name=fname,
            )
        if any(REVERSE_MODE in find_func(tr.module, n).attributes for n in reachable(tr.module, [tr.fname])):
            raise NotImplementedError(_REVERSE_MODE_MSG.format(fname=fname))
        seen[key] = True

    return check


_REVERSE_MODE_MSG = (
    "shard_map applied to the function {fname!r} takes a reverse-mode derivative (grad, vjp) inside "
    "its body: with check_vma=True JAX types values as varying or replicated over the mesh (a "
    "psum's cotangent is not psummed again; a replicated input's cotangent is), which irjax does "
    "not model. Pass check_vma=False for per-member derivatives (JAX's check_vma=False and pmap "
    "semantics: psum or pmean the gradients yourself), or differentiate outside the shard_map."
)


def _place_outputs(outs, mesh: Mesh, specs: list[PartitionSpec]):
    """Each output placed per NamedSharding(mesh, spec); left as is inside a trace (placement is
    the caller's) and for an abstract mesh (axis names and sizes only)."""
    if not isinstance(mesh, Mesh):
        return list(outs)
    return [device_put(o, NamedSharding(mesh, s)) if hasattr(o, "_bv") else o for o, s in zip(outs, specs)]


def shard_map(
    f: Callable | None = None,
    /,
    *,
    mesh: Mesh | None = None,
    in_specs=None,
    out_specs=None,
    check_vma: bool = True,
    check_rep: bool | None = None,
    axis_names=frozenset(),
):
    """JAX's shard_map: f sees one block of each argument per in_specs and may use collectives
    over the mesh axis names; outputs are assembled per out_specs. check_vma (check_rep): an
    output whose out_specs entry omits a mesh axis must be provably the same on every member of
    that axis (the batch pass leaves it unbatched: a psum/pmean/all_gather result, or a value
    computed only from replicated inputs); else ValueError. With check_vma=False member 0's
    value is taken. Derivatives inside the body have per-member semantics (JAX's check_vma=False);
    reverse mode inside a check_vma=True body raises NotImplementedError (docs/decisions.md).
    `mesh` is a Mesh, or any object with `axis_names` and `axis_sizes` (an abstract mesh: then
    results are not placed)."""
    if f is None:
        return functools.partial(
            shard_map,
            mesh=mesh,
            in_specs=in_specs,
            out_specs=out_specs,
            check_vma=check_vma,
            check_rep=check_rep,
            axis_names=axis_names,
        )
    if not callable(f):
        raise TypeError(f"shard_map requires a callable, got {f!r}")
    if out_specs is None or in_specs is None:
        raise TypeError("shard_map requires in_specs and out_specs")
    if axis_names:
        raise NotImplementedError("shard_map(axis_names=...) (manual over some mesh axes only) is not supported")
    check = check_vma if check_rep is None else check_rep
    fname = getattr(f, "__name__", "f")
    reverse_checks: dict = {}  # (mesh, in_tree) -> the reverse-mode check of the cross-process path (caches traces)

    # (updated=(): f's __dict__ is not copied; a jitted f's `fun` and caches would make jit of this
    # function call f's own function, skipping the shard_map)
    @functools.wraps(f, updated=())
    def wrapped(*args):
        m = mesh if mesh is not None else get_mesh()
        if m is None:
            raise ValueError("shard_map requires a mesh: pass mesh= or call it under `with mesh:`")
        order, sizes = tuple(m.axis_names), dict(zip(m.axis_names, m.axis_sizes))
        leaves, in_tree = tree_util.tree_flatten(tuple(args))
        in_leaf_specs = _spec_leaves(in_specs, tuple(args), "in_specs", fname)
        for x, s in zip(leaves, in_leaf_specs):
            _check_spec(s, len(aval_of(x).shape), m, "in_specs", fname)
        if isinstance(m, Mesh) and not all(is_local(d) for d in m.devices.flat):

            def out_specs_of(out):
                specs = _spec_leaves(out_specs, out, "out_specs", fname)
                for o, s in zip(tree_util.tree_leaves(out), specs):
                    _check_spec(s, len(aval_of(o).shape), m, "out_specs", fname)
                return specs

            reverse = (
                reverse_checks.setdefault((m, in_tree), _reverse_mode_check(f, m, in_tree, fname)) if check else None
            )
            return spmd_processes.run(f, m, leaves, in_tree, in_leaf_specs, out_specs_of, check, fname, reverse)
        blocks = [_to_blocks(x, s, sizes, order, fname) for x, s in zip(leaves, in_leaf_specs)]
        used = [set(s.used_axes()) for s in in_leaf_specs]
        state: dict = {}

        def innermost(*ls):
            out = f(*tree_util.tree_unflatten(in_tree, ls))
            o_leaves, state["tree"] = tree_util.tree_flatten(out)
            state["specs"] = _spec_leaves(out_specs, out, "out_specs", fname)
            state["ndims"] = [len(aval_of(o).shape) for o in o_leaves]
            return o_leaves

        def level(k):
            if k == len(order):
                return innermost
            name = order[k]
            inner = level(k + 1)

            def run(*ls):
                dims = [0 if name in u else None for u in used]
                ob = (lambda: [name in s.used_axes() for s in state["specs"]]) if check else (lambda: None)
                return _map_axis(inner, list(ls), dims, sizes[name], name, ob, fname, vma=check and k == 0)

            return run

        outs = level(0)(*blocks)
        o_specs = state["specs"]
        results = []
        for o, s, nd in zip(outs, o_specs, state["ndims"]):
            _check_spec(s, nd, m, "out_specs", fname)
            lead = [a for a in order if a in s.used_axes()]
            if not check:  # every mesh axis is a leading dim: take member 0 where s omits it
                idx = tuple(slice(None) if a in lead else 0 for a in order)
                o = o[idx]
            results.append(_from_blocks(o, s, lead, sizes))
        results = _place_outputs(results, m, o_specs)
        return tree_util.tree_unflatten(state["tree"], results)

    return wrapped


def pmap(
    fun: Callable,
    axis_name: str | None = None,
    *,
    in_axes=0,
    out_axes=0,
    static_broadcasted_argnums=(),
    devices=None,
    backend=None,
    axis_size: int | None = None,
    donate_argnums=(),
    global_arg_shapes=None,
):
    """JAX's pmap: fun mapped over a leading axis, one member per device, collectives over
    axis_name. The mapped size may not exceed the devices given (or local_device_count()), as
    JAX; the members run as one vmap'd program."""
    if not callable(fun):
        raise TypeError(f"pmap requires a callable, got {fun!r}")
    statics = (
        (static_broadcasted_argnums,)
        if isinstance(static_broadcasted_argnums, int)
        else tuple(static_broadcasted_argnums)
    )

    @functools.wraps(fun)
    def mapped(*args, **kwargs):
        n = len(args)
        static_pos = {i % n for i in statics if -n <= i < n}
        dyn = [a for i, a in enumerate(args) if i not in static_pos]

        def f(*dargs):
            it = iter(dargs)
            return fun(*[args[i] if i in static_pos else next(it) for i in range(n)], **kwargs)

        axes = tuple(in_axes) if isinstance(in_axes, list) else in_axes
        if isinstance(axes, tuple) and static_pos:
            axes = tuple(a for i, a in enumerate(axes) if i not in static_pos)
        if isinstance(axes, tuple) and len(axes) != len(dyn):
            raise ValueError(f"pmap in_axes has {len(axes)} entries for {len(dyn)} mapped arguments")
        v = vmap(f, in_axes=axes, out_axes=out_axes, axis_name=axis_name, axis_size=axis_size)
        size = _mapped_size(dyn, axes, axis_size)
        available = len(devices) if devices is not None else local_device_count(backend)
        if size is not None and size > available:
            raise ValueError(
                f"compiling computation that requires {size} logical devices, but only {available} "
                f"XLA devices are available (num_replicas={size})"
            )
        return v(*dyn)

    return mapped


def _mapped_size(args, in_axes, axis_size):
    if axis_size is not None:
        return axis_size
    for x, d in zip(tree_util.tree_leaves(tuple(args)), _broadcast_prefix(in_axes, tuple(args), "in_axes")):
        if d is not None:
            return aval_of(x).shape[d]
    return None
