"""Eager-op fusion: outside any trace, primitives are recorded, not run, until a value is
observed (printed, converted, passed to a compiled function); then every pending op
reachable from it compiles and runs as ONE module.

    y = 2 * jnp.sin(x) * jnp.cos(x)    # three pending ops
    np.asarray(y)                      # one module: sin, cos, mul, mul

Modules are cached by the graph's structure (ops, params, input avals, live outputs), so a
Python loop that repeats the same computation compiles once. Intermediates that are no
longer referenced are never written out. IRJAX_EAGER_FUSION=0 runs each op on its own.
"""

from __future__ import annotations

import os
import sys
import weakref

import numpy as np
from irjax.dialects import builder, registry
from irjax.dialects.func import FuncBuilder, new_module
from irjax.dialects.registry import get as _prim

from .array import DELETED as _DELETED
from .array import Array as _Array
from .array import set_materialize
from .core import ShapedArray, locked

enabled = os.environ.get("IRJAX_EAGER_FUSION", "1") not in ("0", "false")
MAX_PENDING = 200  # a graph this large is run before more ops are added to it

_modules: dict = {}
_infer_cache: dict = {}
# IREE may update an operand of these in place even when the operand is also a module
# result (iree-org/iree#16168): they start a new graph on materialized, copied inputs
_TIED = registry.tagged(registry.IN_PLACE)


class Node:
    """One pending primitive application."""

    __slots__ = ("name", "params", "pkey", "inputs", "outputs", "size", "avals", "out_avals", "__weakref__")

    def __init__(self, name, params, pkey, inputs, size):
        self.name, self.params, self.pkey, self.inputs, self.size = name, params, pkey, inputs, size
        self.outputs = []


def record(name: str, arrays: list, params: dict, pkey, device, committed: bool) -> list:
    """Pending outputs of `name` applied to `arrays` (shapes are checked now)."""
    ikey = (name, pkey, tuple([a.aval for a in arrays]))
    hit = _infer_cache.get(ikey)
    if hit is None:
        avals = tuple(a.aval.shaped() for a in arrays)
        outs = builder.infer(name, list(avals), params)
        hit = _infer_cache[ikey] = (avals, [ShapedArray(o.shape, o.dtype, False) for o in outs])
    avals, out_avals = hit
    size = 1
    for a in arrays:
        if a._lazy is not None:
            if a._lazy is _DELETED:
                a._bv  # noqa: B018  (raises "Array has been deleted")
            size += a._lazy[0].size
    if size > MAX_PENDING or name in _TIED:
        for a in arrays:
            if a._lazy is not None:
                materialize(a)
        size = 1
    node = Node(name, params, pkey, list(arrays), size)
    node.avals, node.out_avals = avals, out_avals
    outs = []
    for i, o in enumerate(out_avals):
        arr = _Array(None, o, device, None, committed)
        arr._lazy = (node, i)
        outs.append(arr)
    node.outputs = [_ref(a) for a in outs]
    return outs


def forget_modules() -> None:
    """Drop the compiled graph modules (irjax.clear_caches); a graph seen again recompiles
    (from the on-disk cache)."""
    _modules.clear()


def _topo(root_node):
    """Pending nodes reachable from root_node, inputs before users."""
    order, index = [], {}
    stack = [(root_node, False)]
    while stack:
        n, done = stack.pop()
        if id(n) in index:
            continue
        if done:
            index[id(n)] = len(order)
            order.append(n)
            continue
        stack.append((n, True))
        for a in n.inputs:
            lz = a._lazy
            if lz is not None and lz is not _DELETED and id(lz[0]) not in index:
                stack.append((lz[0], False))
    return order, index


@locked
def materialize(root) -> None:
    """Compile (or reuse) and run the pending graph behind `root`; fills every live output."""
    lz = root._lazy
    if lz is None:
        return
    node = lz[0]
    device = root._device
    if all(a._lazy is None or a._lazy is _DELETED for a in node.inputs):
        if node.name not in _HOST_EXACT or not _run_on_host([node], {id(node): 0}, root, device):
            _run_single(node, device)
        return
    nodes, index = _topo(node)
    if _run_on_host(nodes, index, root, device):
        return
    live = _live_outputs(nodes, root)  # (before the loop below binds graph arrays to locals)
    leaves, leaf_index = [], {}
    parts = []
    for n in nodes:
        refs = []
        for a in n.inputs:
            lz = a._lazy
            if lz is not None and lz is not _DELETED:
                refs.append((index[id(lz[0])], lz[1]))
            else:
                k = leaf_index.get(id(a))
                if k is None:
                    k = leaf_index[id(a)] = len(leaves)
                    leaves.append(a)
                refs.append((-1, k))
        parts.append((n.name, n.pkey, tuple(refs)))
    key = (tuple(parts), tuple(a.aval.shaped() for a in leaves), tuple(live), device)
    exe = _modules.get(key)
    if exe is None:
        try:
            exe = _modules[key] = _compile(nodes, parts, leaves, live, device)
        except IndexError as e:
            if "binding count" not in str(e):
                raise
            # IREE fused the graph into a dispatch with more than 32 buffers (inputs and live
            # outputs) and refused it at load: run the graph op by op instead, in order
            for n in nodes:
                if any(w() is not None for w in n.outputs):
                    _run_single(n, device)
            return
    bvs = exe.call("main", [_leaf_buffer(a) for a in leaves], len(live))
    for (k, i), bv in zip(live, bvs):
        arr = nodes[k].outputs[i]()
        if arr is not None:
            arr._buf = bv
            arr._lazy = None


def _live_outputs(nodes, root) -> list:
    """(node index, output index) of the outputs the graph must write: the root and every
    output referenced from outside this graph. The graph's own nodes hold their inputs, so an
    intermediate that nothing else holds is still alive as an object; writing it out cost the
    eager norm 16 outputs instead of one (5x its jit time). An output left unwritten keeps its
    pending node and recomputes from its inputs if it is ever read."""
    uses: dict = {}
    for n in nodes:
        for x in n.inputs:
            uses[id(x)] = uses.get(id(x), 0) + 1
    x = None
    live = []
    for k, n in enumerate(nodes):
        for i, w in enumerate(n.outputs):
            x = w()
            # references: the local x, getrefcount's argument, the graph's inputs lists
            if x is not None and (x is root or _refcount(x) - 2 > uses.get(id(x), 0)):
                live.append((k, i))
    return live


# Data movement whose NumPy reference is bit-exact. A pending graph made only of these, with
# small results, on a host-visible device runs in NumPy on mapped views of its inputs: no
# module to compile for an eager x[i] or x[a:b] (200 distinct x[i] cost one ~0.3 s compile).
_HOST_EXACT = frozenset({"dynamic_slice", "slice", "reshape", "broadcast_in_dim", "transpose", "rev", "concatenate"})
_HOST_MAX_ELEMENTS = 1 << 16


def _run_on_host(nodes, index, root, device) -> bool:
    """Run the graph in NumPy if it qualifies (see _HOST_EXACT); False leaves it to IREE."""
    if not device._host_visible:
        return False
    for n in nodes:
        if n.name not in _HOST_EXACT or any(a.aval.size == 0 for a in n.inputs):
            return False  # (a zero-size buffer cannot be mapped)
        if any(o.size > _HOST_MAX_ELEMENTS for o in n.out_avals):
            return False
    live = _live_outputs(nodes, root)
    maps, vals = [], []
    for n in nodes:
        args = []
        for a in n.inputs:
            lz = a._lazy
            if lz is not None and lz is not _DELETED:
                args.append(vals[index[id(lz[0])]][lz[1]])
            else:
                bv = _leaf_buffer(a)
                m = bv.map()
                maps.append(m)  # (the views below read this mapping until the results are put)
                args.append(m.asarray(tuple(bv.shape), a.aval.dtype))
        out = _prim(n.name).impl(*args, **n.params)
        vals.append(out if isinstance(out, list) else [out])
    results = []
    for k, i in live:
        arr = nodes[k].outputs[i]()
        v = np.asarray(vals[k][i])
        if arr is None:
            continue
        if v.dtype != arr.aval.dtype or v.shape != arr.aval.shape:
            return False  # (never expected: the reference disagrees with the op's type rule)
        results.append((arr, v))
    for arr, v in results:
        arr._buf = device.put(v)
        arr._lazy = None
    return True


def _run_single(node, device):
    """The common case, one pending op on concrete inputs: no graph walk."""
    outputs = node.outputs
    live = (0,) if len(outputs) == 1 else tuple(i for i, w in enumerate(outputs) if w() is not None)
    key = (node.name, node.pkey, node.avals, live, device)
    exe = _modules.get(key)
    if exe is None:
        parts = [(node.name, node.pkey, tuple((-1, j) for j in range(len(node.inputs))))]
        exe = _modules[key] = _compile([node], parts, node.inputs, [(0, i) for i in live], device)
    bvs = exe.call("main", [_leaf_buffer(a) for a in node.inputs], len(live))
    for i, bv in zip(live, bvs):
        arr = node.outputs[i]()
        if arr is not None:
            arr._buf = bv
            arr._lazy = None


def _leaf_buffer(a):
    """A graph input's buffer; a donated input recorded before its deletion still has one."""
    return a._donated if a._lazy is _DELETED else a._bv


def _no_compiler(module, fname, device=None):
    raise RuntimeError("irjax.lazy: irjax.dispatch registers the compiler (set_compile_function) when it loads")


# dispatch.compile_function, registered by irjax.dispatch (which imports this module): graphs are only
# recorded from dispatch, so it is always there when one runs
compile_function = _no_compiler


def set_compile_function(fn) -> None:
    global compile_function
    compile_function = fn


def _compile(nodes, parts, leaves, live, device):
    module = new_module()
    fb = FuncBuilder(module, "main", [a.aval.shaped() for a in leaves])
    try:
        with fb:
            vals = []
            for n, (_, _, refs) in zip(nodes, parts):
                operands = [fb.args[j] if k < 0 else vals[k][j] for k, j in refs]
                vals.append(builder.emit(n.name, operands, n.params))
    except BaseException:
        fb.abandon()
        raise
    fb.finish([vals[k][i] for k, i in live])
    return compile_function(module, "main", device)


_ref = weakref.ref
_refcount = sys.getrefcount


set_materialize(materialize)  # Array._bv runs pending ops through this module
