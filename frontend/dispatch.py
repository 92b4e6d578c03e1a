"""Running jx functions on concrete arrays: lower, compile (cached), call.

Eager primitives run as one-op modules cached per (op, params, avals); a traced function
runs the same way once its module is lowered.
"""

from __future__ import annotations

import numpy as np
from irjax.dialects import builder, registry
from irjax.dialects.func import FuncBuilder, find_func, func_names, new_module, parse_module, reachable, signature
from irjax.dialects.mlir import enter, ir
from irjax.passes.generalize_shapes import generalize as generalize_shapes
from irjax.passes.registry import passes as _passes
from irjax.passes.registry import run_pipeline
from irjax.runtime.compiler import (
    NO_MULTI_USE_FUSION,
    compile_stablehlo,
    multithreaded,
    needs_input_copies,
    parallel_from_elements,
)
from irjax.runtime.device import default_device
from irjax.runtime.executable import BindingLimitError, Executable, LoadError
from irjax.runtime.targets import is_gpu_target, lowering_options

from . import config as _config
from . import dtypes, lazy
from .array import Array, from_numpy
from .core import ShapedArray, aval_of, locked, set_eager_apply
from .device_api import place as _place
from .device_api import transfer as _transfer
from .host_serving import host_imports

_passes()  # load every pass now, at import: threads racing into the registry's lazy load saw it half-filled
_eager_cache: dict = {}
_exe_cache: dict = {}


def _hashable(v):
    if isinstance(v, np.ndarray):
        return ("nd", v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, (list, tuple)):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, np.dtype):
        return ("dt", v.str)
    return v


def _params_key(params: dict):
    """A hashable key for an op's params. Most params (ints, tuples of ints, dtypes) hash as
    they are; arrays and lists go through _hashable (~10 us a call saved on dot_general)."""
    items = tuple(sorted(params.items()))
    for _, v in items:
        t = type(v)
        if t is tuple:
            if not _flat_ints(v):
                return _hashable(items)
        elif t is not int and t is not bool and v is not None and not isinstance(v, str):
            if isinstance(v, (np.ndarray, list, np.dtype)):
                return _hashable(items)
    return items


def _flat_ints(t: tuple) -> bool:
    for x in t:
        if type(x) is not int:
            return False
    return True


def _as_array(x) -> Array:
    if isinstance(x, Array):
        return x

    a = aval_of(x)
    return from_numpy(np.asarray(x, a.dtype), a.weak_type)


@locked
def compile_function(module, fname: str, device=None):
    """Lower a copy of `module` and compile it with @fname as the entry (exported as
    `exe.entry`). Symbols are renamed canonically first, so a re-traced identical
    function (fresh unique names) reuses the executable instead of recompiling."""
    device = device or default_device()
    text = str(module)
    key = (text, fname, device)
    exe = _exe_cache.get(key)
    if exe is None:
        exe = _executable(_lower_text(text, fname, device), device)
        _exe_cache[key] = exe
    return exe


def _lower_text(text: str, fname: str, device) -> str:
    """The StableHLO text of @fname (as @main) of a jx module's text."""
    lowered = parse_module(text)
    _keep_only(lowered, fname)
    _canonical_names(lowered, fname)
    gpu = is_gpu_target(device.target)
    run_pipeline(lowered, f"cse,dce,lower-stablehlo{{entry=main {lowering_options(gpu)}}}")
    with enter():
        return str(lowered)


@locked
def compile_shape_generic(module, fname: str, device):
    """@fname compiled for any shape of its ranks (passes/generalize_shapes.py), or None where
    the function cannot be generalized. Per-device runs of elementwise functions use it."""
    text = str(module)
    key = ("generic", text, fname, device)
    if key not in _exe_cache:
        generic = generalize_shapes(_lower_text(text, fname, device))
        _exe_cache[key] = None if generic is None else _executable(generic, device)
    return _exe_cache[key]


_hlo_cache: dict = {}


_shape_variants: dict = {}  # (generic text, device) -> static texts seen for it


def _executable(hlo_text: str, device):
    key = (hlo_text, device)
    exe = _hlo_cache.get(key)
    if exe is not None:
        return exe
    imports = host_imports(hlo_text, device)  # host callbacks' imports: never shape-generic
    if device.platform == "cpu" and imports is None:
        # the second shape of an elementwise function compiles its shape-generic form, which
        # serves every later shape of that rank (passes/generalize_shapes.py)
        generic = generalize_shapes(hlo_text)
        if generic is not None:
            seen = _shape_variants.setdefault((generic, device), set())
            seen.add(hlo_text)
            if len(seen) > 1:
                exe = _hlo_cache[key] = _executable(generic, device)
    if exe is None:
        cpu = device.platform == "cpu"
        options = {
            "copy_inputs": needs_input_copies(hlo_text),
            "parallel": cpu and multithreaded(hlo_text),
            "imports": imports,
            "parallel_from": parallel_from_elements(hlo_text) if cpu else 0,
        }
        try:
            exe = Executable(compile_stablehlo(hlo_text, device.target, device.compile_flags), device, **options)
        except BindingLimitError:
            # a dispatch with more buffers than the runtime binds: without multi-use fusion
            flags = list(device.compile_flags) + [NO_MULTI_USE_FUSION]
            exe = Executable(compile_stablehlo(hlo_text, device.target, flags), device, **options)
        except LoadError:
            # a cached .vmfb the runtime rejects (damaged on disk, another runtime's): recompile it
            exe = Executable(
                compile_stablehlo(hlo_text, device.target, device.compile_flags, fresh=True), device, **options
            )
        exe.entry = "main"
        _hlo_cache[key] = exe
    return exe


def _canonical_names(module, entry):
    """@entry -> @main, other functions -> @f1, @f2, ... in module order; every symbol
    reference is rewritten to match."""
    names = func_names(module)
    mapping, k = {}, 0
    for n in names:
        if n == entry:
            mapping[n] = "main"
        else:
            k += 1
            mapping[n] = f"f{k}"
    with enter():
        for n in names:
            f = find_func(module, n)
            f.attributes["sym_name"] = ir.StringAttr.get(mapping[n])

        def cb(op):
            attrs = op.attributes
            for a in list(attrs):
                v = attrs[a]
                if isinstance(v, ir.FlatSymbolRefAttr) and v.value in mapping:
                    attrs[a] = ir.FlatSymbolRefAttr.get(mapping[v.value])
                elif isinstance(v, ir.ArrayAttr) and len(v) and isinstance(v[0], ir.FlatSymbolRefAttr):
                    # jx.cond's branches = [@f, @g]
                    attrs[a] = ir.ArrayAttr.get([ir.FlatSymbolRefAttr.get(mapping.get(s.value, s.value)) for s in v])
            return ir.WalkResult.ADVANCE

        module.operation.walk(cb)


def _keep_only(module, fname):
    """Drop functions @fname does not reach (they would only cost compile time)."""
    keep = set(reachable(module, [fname]))
    for n in func_names(module):
        if n not in keep:
            find_func(module, n).erase()


def _check_finite(outs, what: str):
    """jax_debug_nans / jax_debug_infs: JAX's FloatingPointError for a NaN / Inf output (the
    outputs are read back to the host)."""
    for o in outs:
        if dtypes.issubdtype(o.aval.dtype, np.inexact):
            v = np.asarray(o)
            if _config.check_nans and np.isnan(v).any():
                raise FloatingPointError(f"invalid value (nan) encountered in {what}")
            if _config.check_infs and np.isinf(v).any():
                raise FloatingPointError(f"invalid value (inf) encountered in {what}")
    return outs


def execute(module, fname: str, args, out_avals=None) -> list[Array]:
    """Run @fname on concrete values; returns Arrays."""
    arrays = [_as_array(a) for a in args]
    dev, arrays, committed = _place(arrays, f"@{fname}")
    if committed and committed is not True:  # sharded inputs: see placement.Placement
        return committed.run(lambda a: execute(module, fname, a, out_avals), arrays)
    ins, outs = signature(find_func(module, fname))
    for i, (a, want) in enumerate(zip(arrays, ins)):
        if (a.aval.shape, a.aval.dtype) != (want.shape, want.dtype):
            raise TypeError(f"argument {i} of @{fname}: expected {want.str_short()}, got {a.aval.str_short()}")
    exe = compile_function(module, fname, dev)
    bvs = exe.call(exe.entry, [a._bv for a in arrays], len(outs))
    res = []
    for i, (bv, o) in enumerate(zip(bvs, outs)):
        weak = out_avals[i].weak_type if out_avals else False
        res.append(Array(bv, ShapedArray(o.shape, o.dtype, weak), dev, committed=committed))
    if _config.check_outputs:
        _check_finite(res, f"jit({fname})")
    return res


def run_traced(tr, leaves) -> list[Array]:
    """Fast path for a cached jit trace called on concrete values (no trace active)."""
    arrays = [x if type(x) is Array else _as_array(x) for x in leaves]
    dev, arrays, committed = _place(arrays, tr.fname)
    if committed and committed is not True:  # sharded inputs: see placement.Placement
        local = committed.run_per_device(tr, arrays, compile_shape_generic)
        return local if local is not None else committed.run(lambda a: run_traced(tr, a), arrays)
    exe, captured, n_out = tr.exes.get(dev) or _prepare(tr, dev)
    bvs = []
    for a, want in zip(arrays, tr.in_avals):
        if a.aval.dtype != want.dtype:  # a weak Python scalar given for a strong dtype slot
            a = from_numpy(np.asarray(a, want.dtype), device=dev)
        bvs.append(a._bv)
    out = exe.call(exe.entry, bvs + captured, n_out)
    res = [Array(bv, a, dev, None, committed) for bv, a in zip(out, tr.out_avals)]
    return _check_finite(res, f"jit({tr.fname})") if _config.check_outputs else res


def run_exact(tr, args) -> list[Array]:
    """jit's fastest path: positional Arrays whose avals are exactly the trace's inputs."""
    hot = tr.__dict__.get("hot")  # the last call's (device, executable, entry function, captured)
    if hot is not None and _on_default(args, hot[0]):  # what _place would find, without its loops
        dev, committed = hot[0], False
    else:
        dev, args, committed = _place(args, tr.fname)
    if hot is None or hot[0] is not dev:  # (skips hashing the device on repeated calls)
        exe, captured, _ = tr.exes.get(dev) or _prepare(tr, dev)
        hot = tr.hot = (dev, exe, exe.lookup_entry(exe.entry), captured)
    _, exe, fn, captured = hot
    out_avals = tr.out_avals
    if len(args) == 1 and len(out_avals) == 1 and not captured:
        # (one array in, one out: no comprehensions, whose frames cost 0.3-0.6 us of a 6 us call)
        a = args[0]
        bv = exe.invoke(fn, [a._buf if a._buf is not None else a._bv], 1)[0]
        res = [Array(bv, out_avals[0], dev, None, committed)]
    else:
        bvs = [a._buf if a._buf is not None else a._bv for a in args]
        out = exe.invoke(fn, bvs + captured if captured else bvs, len(out_avals))
        res = [Array(bv, a, dev, None, committed) for bv, a in zip(out, out_avals)]
    return _check_finite(res, f"jit({tr.fname})") if _config.check_outputs else res


def _on_default(args, dev) -> bool:
    """All args uncommitted and on `dev`, the default device: _place would run on it as is."""
    for a in args:
        if a._committed or a._device is not dev:
            return False
    return dev is default_device()


def _prepare(tr, dev):
    """(executable, captured buffers, n_out) of a trace on `dev`, compiled once per device."""
    exe = compile_function(tr.module, tr.fname, dev)
    entry = tr.exes[dev] = (exe, [_transfer(_as_array(c), dev)._bv for c in tr.captured], len(tr.out_avals))
    return entry


_multi_cache: dict = {}


def _multi(name: str) -> bool:
    m = _multi_cache.get(name)
    if m is None:
        m = _multi_cache[name] = registry.get(name).multiple_results
    return m


@locked
def apply_primitive(name: str, args, params):
    """Eager mode: run one primitive on concrete values through a cached one-op module."""
    arrays = [_as_array(a) for a in args]
    dev, arrays, committed = _place(arrays, name)
    if committed and committed is not True:  # sharded inputs: see placement.Placement
        return committed.run(lambda a: apply_primitive(name, a, params), arrays)
    pkey = _params_key(params) if params else ()
    if lazy.enabled and not _config.check_outputs:  # (checked op by op)
        res = lazy.record(name, arrays, params, pkey, dev, committed)
        return res if _multi(name) else res[0]
    avals = tuple(a.aval.shaped() for a in arrays)
    key = (name, pkey, avals, dev)
    entry = _eager_cache.get(key)
    if entry is None:
        module = new_module()
        fb = FuncBuilder(module, "main", list(avals))
        try:
            with fb:
                outs = builder.emit(name, fb.args, params)
        except BaseException:
            fb.abandon()
            raise
        fb.finish(outs)
        exe = compile_function(module, "main", dev)
        entry = _eager_cache[key] = (exe, [builder.aval(o) for o in outs])
    exe, out_avals = entry
    bvs = exe.call("main", [a._bv for a in arrays], len(out_avals))
    res = [Array(bv, ShapedArray(o.shape, o.dtype, False), dev, committed=committed) for bv, o in zip(bvs, out_avals)]
    if _config.check_outputs:
        _check_finite(res, name)
    return res if registry.get(name).multiple_results else res[0]


# core (bind) and lazy (fused graphs) sit below this module: they run eager work through it
set_eager_apply(apply_primitive)
lazy.set_compile_function(compile_function)
