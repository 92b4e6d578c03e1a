"""The jx op registry: one `Primitive` record per op.

A record holds everything MLIR cannot know about an unregistered `jx.<name>` op:
its result-type rule, verifier, NumPy reference, StableHLO lowering and the
jvp / vjp / batching rules used by the transformation passes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np


class ShapedType(NamedTuple):
    """Shape and dtype of a tensor value: what MLIR's tensor type says."""

    shape: tuple
    dtype: np.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def str_short(self) -> str:
        return f"{self.dtype.name}[{','.join(map(str, self.shape))}]"


class VerifyError(ValueError):
    """An op's operands or attributes break its rules."""


@dataclass(frozen=True, eq=False)
class Primitive:
    """One jx op, complete when it is built: a record is immutable (frozen), so what the
    registry holds is what its family file wrote. Lowering-time workarounds (zero-size
    tensors, low-precision floats) wrap the rule where it is applied (passes/lower_stablehlo.py).

    infer(*avals, **params) -> ShapedType | list[ShapedType]
    impl(*ndarrays, **params) -> ndarray | list          (NumPy reference)
    lower(ctx, *values, **params) -> value | list         (StableHLO, see lowering.py)
    jvp(primals, tangents, **params) -> (outs, tangent_outs)   tangents may be None (zero)
    vjp(cts, primals, outs, **params) -> list of cotangents (None = zero / not differentiable)
    batch(args, dims, **params) -> (outs, out_dims)       dims are 0 or None

    Call-like ops (jx.call, cond, while, scan, ...) name functions in the attributes listed
    in `callee_attrs`. Their rules get a transform context first (dialects/calls.py,
    `TransformCtx`: the module, the jvp / vjp / batched version of a callee, memoized helpers):
    jvp(ctx, primals, tangents, **params), vjp(ctx, cts, primals, outs, residuals, **params)
    with cts None where zero, batch(ctx, args, dims, **params) -> [(out, dim)],
    vjp_fwd(ctx, primals, **params) -> (outs, residuals) (the forward sweep under reverse
    mode; default: the op itself), verify(ctx, in_avals, out_avals, **params), and
    impl(*arrays, _call, **params) where _call(fname, arrays) evaluates a callee.
    """

    name: str
    infer: Callable
    impl: Callable | None = None
    lower: Callable | None = None
    jvp: Callable | None = None
    vjp: Callable | None = None
    batch: Callable | None = None
    verify: Callable | None = None
    multiple_results: bool = False
    doc: str = ""
    family: str = ""
    tags: frozenset = field(default_factory=frozenset)
    callee_attrs: tuple = ()
    vjp_fwd: Callable | None = None

    @property
    def calls(self) -> bool:
        """A call-like op: it names functions (`callee_attrs`) and its rules take a context."""
        return bool(self.callee_attrs)

    @property
    def op_name(self) -> str:
        return "jx." + self.name

    def __repr__(self):
        return f"<jx primitive {self.name}>"


# Tags a record may carry (`tags=frozenset({...})`).
# IN_PLACE: IREE may write the result into an operand's buffer (iree-org/iree#16168); eager
# fusion (frontend/lazy.py) starts a new graph at such ops.
IN_PLACE = "in_place"
# LOW_FLOAT_IN_F32: float16/bfloat16 lowered through float32 (low_precision.py), besides the
# elementwise, reduction and window families.
LOW_FLOAT_IN_F32 = "low_float_in_f32"
# EFFECT: the op acts on the world (a host callback that prints): cse never merges it and dce
# never removes it, nor a call of a function that contains one (passes/cleanup.py).
EFFECT = "effect"

_REGISTRY: dict[str, Primitive] = {}


def register(prim: Primitive) -> Primitive:
    if not isinstance(prim, Primitive):
        raise TypeError(f"register() takes a Primitive record, got {type(prim).__name__}")
    if prim.name in _REGISTRY:
        raise ValueError(f"jx op {prim.name} registered twice")
    _REGISTRY[prim.name] = prim
    return prim


def get(name: str) -> Primitive:
    """Record for `name` (with or without the `jx.` prefix)."""
    if name.startswith("jx."):
        name = name[3:]
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown jx op 'jx.{name}'") from None


def all_primitives() -> dict[str, Primitive]:
    _ensure_loaded()
    return dict(_REGISTRY)


def call_like() -> dict[str, Primitive]:
    """The call-like records by op name ("jx.call", ...): derived, never listed by hand."""
    _ensure_loaded()
    return {p.op_name: p for p in _REGISTRY.values() if p.calls}


def tagged(tag: str) -> frozenset[str]:
    """Names of the records that carry `tag`: derived, never listed by hand."""
    _ensure_loaded()
    return frozenset(n for n, p in _REGISTRY.items() if tag in p.tags)


def lookup(op_name: str) -> Primitive | None:
    """The record of an MLIR op name, or None when it is not a jx op."""
    if not op_name.startswith("jx."):
        return None
    _ensure_loaded()
    return _REGISTRY.get(op_name[3:])


class LoadOnce:
    """Calls `load` (which imports a package's family modules) once. Other threads wait until it
    has finished (a thread that saw a half-filled registry would report known names as unknown);
    the loading thread's own nested lookups return at once. passes/registry.py uses it too."""

    def __init__(self, load):
        self._load = load
        self._lock = threading.RLock()
        self._done = False
        self._running = False

    def __call__(self) -> None:
        if self._done:
            return
        with self._lock:
            if self._done or self._running:
                return
            self._running = True
            try:
                self._load()
                self._done = True
            finally:
                self._running = False


def _import_families():
    from . import (  # noqa: F401  (each module registers its family)
        calls,
        collectives,
        complex_ops,
        control_flow,
        convolution,
        elementwise,
        fft,
        host_calls,
        indexing,
        misc,
        precision,
        reductions,
        remat,
        structural,
        windows,
        zero_size,
    )


_ensure_loaded = LoadOnce(_import_families)


def infer_list(prim: Primitive, avals, params) -> list[ShapedType]:
    out = prim.infer(*avals, **params)
    return list(out) if prim.multiple_results else [out]
