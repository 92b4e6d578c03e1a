"""Host callbacks inside compiled code: jx.pure_callback and jx.debug_callback call a Python
function, by number, on the host while the program runs.

    %r = "jx.pure_callback"(%x) {callback = 3 : i64, result_shapes = [array<i64: 3>],
                                 result_dtypes = [f32]} : (tensor<3xf32>) -> tensor<3xf32>
    "jx.debug_callback"(%x) {callback = 4 : i64} : (tensor<3xf32>) -> ()
lower to a call of an IREE import that the runtime serves from Python:
    func.func private @irjax_host.cb3(tensor<3xf32>) -> tensor<3xf32>
    %r = func.call @irjax_host.cb3(%x) : (tensor<3xf32>) -> tensor<3xf32>

The registry below maps a callback's number to a `HostFunction` (NumPy arrays in, NumPy arrays
out). Equal keys get one number, so re-tracing the same function makes the same module text
(and hits the compile caches). vmap registers a derived host function (sequential: the host
loops over the batch, as JAX's vmap_method="sequential" does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from . import lang as L
from .lang import jx
from .mlir import ir, tensor_type
from .registry import EFFECT, Primitive, ShapedType, VerifyError, register

IMPORT_MODULE = "irjax_host"  # the IREE module name the imports live in
VMAP_METHODS = ("sequential", "sequential_unrolled", "expand_dims", "broadcast_all", "legacy_vectorized")


@dataclass(frozen=True)
class HostFunction:
    """fn(list of ndarrays) -> list of ndarrays shaped as `results` (checked by the caller)."""

    fn: Callable[[list], list]
    results: tuple  # ShapedTypes
    vmap_method: str | None = None


_lock = threading.Lock()
_by_key: dict = {}
_functions: list[HostFunction] = []


def register_host_function(key: Hashable, make: Callable[[], HostFunction]) -> int:
    """The number of the host function under `key`, made by `make()` the first time."""
    with _lock:
        n = _by_key.get(key)
        if n is None:
            n = _by_key[key] = len(_functions)
            _functions.append(make())
        return n


def host_function(n: int) -> HostFunction:
    try:
        return _functions[n]
    except IndexError:
        raise VerifyError(f"host callback {n} is not registered in this process") from None


def import_name(n: int) -> str:
    return f"{IMPORT_MODULE}.cb{n}"


def number_of_import(symbol: str) -> int | None:
    """The callback number of an import symbol `irjax_host.cb<n>`, else None."""
    prefix = IMPORT_MODULE + ".cb"
    if symbol.startswith(prefix) and symbol[len(prefix) :].isdigit():
        return int(symbol[len(prefix) :])
    return None


_WIDE = {
    np.dtype(w): np.dtype(n)
    for w, n in (("float64", "float32"), ("int64", "int32"), ("uint64", "uint32"), ("complex128", "complex64"))
}


def call_host(n: int, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Run host function n and check its results against its declared shapes and dtypes."""
    h = host_function(n)
    outs = list(h.fn(list(arrays)))
    if len(outs) != len(h.results):
        raise TypeError(f"host callback returned {len(outs)} arrays, its declaration has {len(h.results)}")
    checked = []
    for value, want in zip(outs, h.results):
        value = np.asarray(value)
        if value.dtype != want.dtype and _WIDE.get(value.dtype) == want.dtype:
            # a float64 (or Python float) result for a float32 declaration: JAX canonicalizes
            # the 64-bit dtypes (x64 off) before it compares, so it casts these
            value = value.astype(want.dtype)
        if value.shape != tuple(want.shape) or value.dtype != want.dtype:
            raise TypeError(
                f"callback returned {value.dtype.name}{list(value.shape)}, "
                f"result_shape_dtypes declares {want.str_short()}"
            )
        checked.append(value)
    return checked


# ---- records ---------------------------------------------------------------------------------


def _results(result_shapes=(), result_dtypes=()) -> list[ShapedType]:
    return [ShapedType(tuple(s), np.dtype(d)) for s, d in zip(result_shapes, result_dtypes)]


def _pure_infer(*avals, callback, result_shapes=(), result_dtypes=()):
    if len(result_shapes) != len(result_dtypes):
        raise VerifyError("pure_callback: result_shapes and result_dtypes differ in length")
    return _results(result_shapes, result_dtypes)


def _pure_impl(*xs, callback, **_):
    return call_host(callback, xs)


def _declare_import(op, n: int, in_types: list, out_types: list) -> str:
    """`func.func private @irjax_host.cb<n>` at the top of op's module (once)."""
    module_op = op.operation
    while module_op.name != "builtin.module":
        module_op = module_op.parent
    body = module_op.regions[0].blocks[0]
    name = import_name(n)
    for existing in body.operations:
        existing = existing.operation
        if existing.name == "func.func" and ir.StringAttr(existing.attributes["sym_name"]).value == name:
            return name
    with ir.InsertionPoint.at_block_begin(body):
        ir.Operation.create(
            "func.func",
            regions=1,
            attributes={
                "sym_name": ir.StringAttr.get(name),
                "function_type": ir.TypeAttr.get(ir.FunctionType.get(in_types, out_types)),
                "sym_visibility": ir.StringAttr.get("private"),
            },
        )
    return name


def _lower(ctx, *args, callback, **_):
    in_types = [a.type for a in args]
    out_types = [tensor_type(a.shape, a.dtype) for a in ctx.out_avals]
    name = _declare_import(ctx.op, callback, in_types, out_types)
    call = ir.Operation.create(
        "func.call",
        results=out_types,
        operands=list(args),
        attributes={"callee": ir.FlatSymbolRefAttr.get(name)},
    )
    return list(call.results)


lower_host_call = _lower  # (ctx, *operands, callback=n): the import call, for other records' lowerings

_NO_JVP = "Pure callbacks do not support JVP. Please use `jax.custom_jvp` to use callbacks while taking gradients."


def _pure_jvp(primals, tangents, **params):
    if any(t is not None for t in tangents):
        raise ValueError(_NO_JVP)
    outs = jx.pure_callback(*primals, **params)
    return outs, [None] * len(outs)


def _pure_vjp(cts, primals, outs, **params):
    if any(c is not None for c in cts):
        raise ValueError(_NO_JVP)
    return [None] * len(primals)


def _batched_host(base: int, dims: tuple, size: int, method: str) -> int:
    """A host function that runs host function `base` over a batch (axis 0 of the operands
    whose dim is 0), the way `method` says."""

    def make() -> HostFunction:
        h = host_function(base)
        results = tuple(ShapedType((size,) + tuple(r.shape), r.dtype) for r in h.results)

        def sequential(arrays):
            per = [[a[i] if d is not None else a for a, d in zip(arrays, dims)] for i in range(size)]
            outs = [call_host(base, xs) for xs in per]
            return [np.stack([o[k] for o in outs]) for k in range(len(results))]

        def whole(arrays):
            if method == "broadcast_all":
                xs = [a if d is not None else np.broadcast_to(a, (size,) + a.shape) for a, d in zip(arrays, dims)]
            else:  # expand_dims, legacy_vectorized
                xs = [a if d is not None else a[None] for a, d in zip(arrays, dims)]
            outs = h.fn(xs)  # (checked against the batched shapes by call_host)
            return [np.broadcast_to(o, r.shape) for o, r in zip(outs, results)]

        fn = sequential if method.startswith("sequential") else whole
        return HostFunction(fn, results, h.vmap_method)

    return register_host_function(("batched", base, dims, size, method), make)


def _batch_with_results(op, method, args, dims, callback, result_shapes, result_dtypes, **params):
    """jx.<op> of a host function that runs `callback` over the batch (axis 0 of the batched
    operands) as `method` says; its results gain the batch axis in front."""
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    args = [L.moveaxis(a, d, 0) if d not in (None, 0) else a for a, d in zip(args, dims)]
    bdims = tuple(None if d is None else 0 for d in dims)
    outs = getattr(jx, op)(
        *args,
        callback=_batched_host(callback, bdims, size, method),
        result_shapes=tuple((size,) + tuple(s) for s in result_shapes),
        result_dtypes=tuple(result_dtypes),
        **params,
    )
    return outs, [0] * len(outs)


def _pure_batch(args, dims, *, callback, result_shapes=(), result_dtypes=()):
    method = host_function(callback).vmap_method
    if method not in VMAP_METHODS:
        raise NotImplementedError(
            "vmap is only supported for the pure_callback primitive when vmap_method is one of "
            f"{', '.join(repr(m) for m in VMAP_METHODS)}. Got vmap_method={method!r}."
        )
    return _batch_with_results("pure_callback", method, args, dims, callback, result_shapes, result_dtypes)


register(
    Primitive(
        "pure_callback",
        _pure_infer,
        impl=_pure_impl,
        lower=_lower,
        jvp=_pure_jvp,
        vjp=_pure_vjp,
        batch=_pure_batch,
        multiple_results=True,
        doc="call host function `callback` (a number, dialects/host_calls.py) on the operands",
        family="host_calls",
    )
)


def _io_jvp(primals, tangents, **params):
    raise ValueError("IO callbacks do not support JVP.")


def _io_batch(args, dims, *, callback, ordered=False, result_shapes=(), result_dtypes=()):
    if ordered:
        raise ValueError("Cannot `vmap` ordered IO callback.")
    return _batch_with_results(
        "io_callback", "sequential", args, dims, callback, result_shapes, result_dtypes, ordered=False
    )


register(
    Primitive(
        "io_callback",
        lambda *avals, callback, ordered=False, **res: _pure_infer(callback=callback, **res),
        impl=lambda *xs, callback, **_: call_host(callback, xs),
        lower=_lower,
        jvp=_io_jvp,
        vjp=lambda cts, primals, outs, **params: _io_jvp(primals, cts),
        batch=_io_batch,
        multiple_results=True,
        doc="call host function `callback` for its results and its effect: never removed or merged",
        family="host_calls",
        tags=frozenset({EFFECT}),
    )
)


def _debug_batch(args, dims, *, callback):
    size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
    args = [L.moveaxis(a, d, 0) if d not in (None, 0) else a for a, d in zip(args, dims)]
    bdims = tuple(None if d is None else 0 for d in dims)
    jx.debug_callback(*args, callback=_batched_host(callback, bdims, size, "sequential"))
    return [], []


register(
    Primitive(
        "debug_callback",
        lambda *avals, callback: [],
        impl=lambda *xs, callback: call_host(callback, xs),
        lower=_lower,
        # the callback sees the primal values; it has no results to differentiate
        jvp=lambda primals, tangents, callback: (jx.debug_callback(*primals, callback=callback), []),
        vjp=lambda cts, primals, outs, callback: [None] * len(primals),
        batch=_debug_batch,
        multiple_results=True,
        doc="call host function `callback` for its effect (printing); never removed or merged",
        family="host_calls",
        tags=frozenset({EFFECT}),
    )
)
