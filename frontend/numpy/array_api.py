"""The array API standard's namespace-level names: __array_namespace_info__, can_cast,
isdtype, from_dlpack, and `device=` on the creation functions (placed by device_put)."""

from __future__ import annotations

import functools
import inspect

import iree.runtime as ireert
import numpy as np
from irjax import dtypes
from irjax.array import Array, from_numpy
from irjax.core import ShapedArray
from irjax.device_api import _as_device, device_put
from irjax.device_api import devices as _devices
from irjax.runtime import device as _rt

__array_api_version__ = "2023.12"


def _dtype_of(x) -> np.dtype:
    if hasattr(x, "aval"):
        return x.aval.dtype
    if isinstance(x, np.ndarray):
        return x.dtype
    return np.dtype(x)


def can_cast(from_, to, casting: str = "safe") -> bool:
    """NumPy's casting rule between dtypes (an array stands for its dtype)."""
    return bool(np.can_cast(_dtype_of(from_), np.dtype(to), casting=casting))


_KINDS = {
    "bool": lambda d: d == np.bool_,
    "signed integer": lambda d: np.issubdtype(d, np.signedinteger),
    "unsigned integer": lambda d: np.issubdtype(d, np.unsignedinteger),
    "integral": lambda d: np.issubdtype(d, np.integer),
    "real floating": lambda d: dtypes.issubdtype(d, np.floating),
    "complex floating": lambda d: np.issubdtype(d, np.complexfloating),
    "numeric": lambda d: d != np.bool_ and (dtypes.issubdtype(d, np.number)),
}


def isdtype(dtype, kind) -> bool:
    """Whether `dtype` is of `kind`: a dtype, one of the standard's kind names, or a tuple."""
    d = np.dtype(dtype)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    for k in kinds:
        if isinstance(k, str):
            if k not in _KINDS:
                raise ValueError(f"Unrecognized {kind=!r}; expected one of {list(_KINDS)}")
            if _KINDS[k](d):
                return True
        elif d == np.dtype(k):
            return True
    return False


class ArrayNamespaceInfo:
    """What __array_namespace_info__() returns: capabilities, devices and dtypes."""

    def capabilities(self) -> dict:
        # traced code cannot take value-dependent shapes, as in JAX
        return {"boolean indexing": False, "data-dependent shapes": False, "max dimensions": 64}

    def default_device(self):
        return _rt.default_device()

    def devices(self) -> list:
        return list(_devices())

    def default_dtypes(self, *, device=None) -> dict:
        return {
            "real floating": dtypes.canonicalize_dtype(dtypes.default_float),
            "complex floating": dtypes.canonicalize_dtype(dtypes.default_complex),
            "integral": dtypes.canonicalize_dtype(dtypes.default_int),
            "indexing": dtypes.canonicalize_dtype(dtypes.default_int),
        }

    def dtypes(self, *, device=None, kind=None) -> dict:
        names = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
        names += ["float32", "float64", "complex64", "complex128"]
        out = {}
        for n in names:
            d = np.dtype(n)
            if dtypes.canonicalize_dtype(d) != d:
                continue  # 64-bit names are not dtypes of arrays with x64 off
            try:
                dtypes.check_supported(d)
            except (TypeError, ValueError):
                continue
            if kind is None or isdtype(d, kind):
                out[n] = d
        return out


def __array_namespace_info__() -> ArrayNamespaceInfo:  # noqa: N807
    return ArrayNamespaceInfo()


# ---- DLPack ------------------------------------------------------------------------------------


_IMPORT_ALIGNMENT = 64  # bytes: IREE's HAL buffer alignment (iree-org/iree#8506)


def from_dlpack(x, /, *, device=None, copy: bool | None = None) -> Array:
    """An Array over the memory of a DLPack producer (a NumPy array, ...). On the CPU the
    buffer is imported without a copy when its dtype is an irjax dtype and it is contiguous,
    writable and aligned to IREE's 64-byte HAL buffer alignment (the Array then aliases it:
    writes through the producer show, as with JAX's CPU import); copy=True always copies,
    copy=False raises where one is needed."""
    if not hasattr(x, "__dlpack__"):
        raise TypeError(f"from_dlpack expects an object with __dlpack__, got {type(x).__name__}")
    if isinstance(x, Array):
        host = x
        out = x if not copy else Array(x._device.copy(x._bv), x.aval, x._device, x._npy, x._committed)
        return device_put(out, device) if device is not None else out
    host = np.from_dlpack(x)
    dev = _as_device(device) or _rt.default_device()
    dt = dtypes.canonicalize_dtype(host.dtype)
    zero_copy = (
        not copy
        and dev._host_visible
        and dt == host.dtype
        and host.flags.c_contiguous
        and host.flags.writeable  # (IREE's import takes writable buffers only: a read-only one is copied)
        # IREE's compiled code assumes 64-byte aligned bindings (aligned vector loads): a less
        # aligned import crashed the process (NumPy's small arrays are only 16-byte aligned)
        and host.ctypes.data % _IMPORT_ALIGNMENT == 0
        and host.size > 0
    )
    if zero_copy:
        try:
            et = _rt._ET[host.dtype]
        except KeyError:
            raise TypeError(f"irjax arrays cannot hold dtype {host.dtype}") from None
        buf = dev.allocator.import_host_allocation(
            host, ireert.MemoryType.HOST_LOCAL | ireert.MemoryType.DEVICE_VISIBLE, ireert.BufferUsage.DEFAULT
        )
        bv = ireert.HalBufferView(buf, list(host.shape), et)
        return Array(bv, ShapedArray(host.shape, host.dtype), dev, None, committed=device is not None)
    if copy is False:
        raise BufferError(
            f"from_dlpack(copy=False): the buffer ({host.dtype}, contiguous={host.flags.c_contiguous}, "
            f"{_IMPORT_ALIGNMENT}-byte aligned={host.ctypes.data % _IMPORT_ALIGNMENT == 0}) "
            f"cannot be used without a copy on {dev}"
        )
    out = from_numpy(host, device=dev)
    return Array(out._bv, out.aval, dev, out._npy, committed=device is not None)


# ---- device= on the creation functions ----------------------------------------------------------


def with_device(fn):
    """`fn` with a keyword-only `device=`: the result is device_put there (committed, as JAX's
    creation functions commit to an explicit device). Inside a trace the placement is the
    traced function's, so device= changes nothing there."""
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    if "device" in sig.parameters:
        return fn
    kw = inspect.Parameter("device", inspect.Parameter.KEYWORD_ONLY, default=None)
    # keyword-only parameters go after positional ones and before **kwargs
    at = next((i for i, p in enumerate(params) if p.kind == inspect.Parameter.VAR_KEYWORD), len(params))
    params.insert(at, kw)

    @functools.wraps(fn)
    def placed(*args, device=None, **kwargs):
        out = fn(*args, **kwargs)
        if device is None:
            return out
        return device_put(out, device)

    placed.__signature__ = sig.replace(parameters=params)
    return placed
