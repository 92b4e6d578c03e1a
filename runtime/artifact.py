"""Ahead-of-time artifacts: one file holding compiled modules plus a JSON manifest.

Writing and loading need only numpy and iree.runtime (never the compiler or the tracer).
Layout: header (magic, format version, manifest size and sha256) | manifest | sections.
"""

from __future__ import annotations

import collections
import collections.abc
import hashlib
import json
import os
import re
import struct
import tempfile
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import iree.runtime as rt
import numpy as np
from ml_dtypes import bfloat16

from . import device as devmod
from .executable import Executable, LoadError
from .targets import DRIVER_PLATFORM, PLATFORM_TARGET, TARGET_DRIVERS

MAGIC = b"\x89IRJAX\r\n\x1a\n"  # PNG-style: catches text-mode and truncation damage early
FORMAT_VERSION = 1
_HEADER = struct.Struct("<10sIIQ32s")  # magic, format version, flags, manifest size, sha256
_ALIGN = 64


class ArtifactError(ValueError):
    """The file is not a loadable irjax artifact (truncated, corrupt, wrong format version)."""


class EntryPointError(LookupError):
    """The artifact has no entry point of that name."""

    def __str__(self):  # LookupError would repr() the message like KeyError does not; keep plain
        return self.args[0] if self.args else ""


# ---- avals and pytrees as JSON ----------------------------------------------------------------


# the dtypes an artifact may hold, with the MLIR element type IREE declares for each
ELEMENT_TYPES = {
    "bool": "i1",
    "int8": "i8",
    "int16": "i16",
    "int32": "i32",
    "int64": "i64",
    "uint8": "ui8",
    "uint16": "ui16",
    "uint32": "ui32",
    "uint64": "ui64",
    "float16": "f16",
    "bfloat16": "bf16",
    "float32": "f32",
    "float64": "f64",
}


def dtype_from_name(name: str) -> np.dtype:
    """The numpy dtype of an irjax dtype name; ArtifactError for anything else (a crafted
    manifest must not name e.g. 'V100000000', a 100 MB void type that would read past buffers)."""
    if not isinstance(name, str) or name not in ELEMENT_TYPES:
        raise ArtifactError(f"the manifest names dtype {name!r}; expected one of {', '.join(ELEMENT_TYPES)}")
    if name == "bfloat16":
        return np.dtype(bfloat16)
    return np.dtype(name)


def aval_from_json(a, where: str) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of a manifest aval {"shape": [...], "dtype": "..."}, checked."""
    if not isinstance(a, dict) or not isinstance(a.get("shape"), list):
        raise ArtifactError(f"{where}: expected {{'shape': [...], 'dtype': ...}} in the manifest, got {a!r}")
    shape = a["shape"]
    if not all(type(d) is int and 0 <= d < 2**40 for d in shape) or len(shape) > 64:
        raise ArtifactError(f"{where}: the manifest gives the invalid shape {shape!r}")
    return tuple(shape), dtype_from_name(a.get("dtype"))


_TENSOR = r"tensor<(?:[^<>]|<[^<>]*>)*>"
_DECL_ARG = re.compile(rf"%\w+: ({_TENSOR})(?: \{{iree\.abi\.encoding = ({_TENSOR})\}})?")


def declared_types(declaration: str) -> tuple[list[str], list[str]]:
    """Input and result types from IREE's `iree.abi.declaration` reflection string, e.g.
    'sync func @f(%input0: tensor<4xi8> {iree.abi.encoding = tensor<4xui8>}) -> (%output0: tensor<f32>)'
    gives (['tensor<4xui8>'], ['tensor<f32>'])."""
    head, arrow, tail = declaration.partition(") -> ")
    ins = [enc or t for t, enc in _DECL_ARG.findall(head)]
    outs = [enc or t for t, enc in _DECL_ARG.findall(tail)] if arrow else []
    if arrow and not outs:  # a single unnamed result: '-> tensor<3xf32>'
        outs = re.findall(_TENSOR, tail)
    return ins, outs


def tensor_type_str(shape: Sequence[int], dtype: np.dtype) -> str:
    return f"tensor<{''.join(f'{d}x' for d in shape)}{ELEMENT_TYPES[np.dtype(dtype).name]}>"


_SHORT = {
    "float16": "f16",
    "bfloat16": "bf16",
    "float32": "f32",
    "float64": "f64",
    "bool": "bool",
    "complex64": "c64",
    "complex128": "c128",
}


def aval_str(shape: Sequence[int], dtype) -> str:
    """(3, 4), float32 -> 'f32[3,4]' (JAX's short form)."""
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    short = _SHORT.get(name) or name.replace("uint", "u").replace("int", "i")
    return f"{short}[{','.join(str(int(d)) for d in shape)}]"


def leaf_tree() -> dict:
    return {"t": "leaf"}


def flat_in_tree(n: int) -> dict:
    """The (args, kwargs) tree of a function taking n positional arrays."""
    return {"t": "tuple", "c": [{"t": "tuple", "c": [leaf_tree()] * n}, {"t": "dict", "k": [], "c": []}]}


def flat_out_tree(n: int) -> dict:
    return leaf_tree() if n == 1 else {"t": "tuple", "c": [leaf_tree()] * n}


def tree_num_leaves(t: dict) -> int:
    return 1 if t["t"] == "leaf" else sum(tree_num_leaves(c) for c in t.get("c", ()))


def _render(t: dict, leaves) -> str:
    k, kids = t["t"], [_render(c, leaves) for c in t.get("c", ())]
    if k == "leaf":
        return next(leaves)
    if k == "none":
        return "None"
    if k in ("tuple", "namedtuple"):
        return "(" + kids[0] + ",)" if len(kids) == 1 else "(" + ", ".join(kids) + ")"
    if k == "list":
        return "[" + ", ".join(kids) + "]"
    return "{" + ", ".join(f"{key!r}: {v}" for key, v in zip(t["k"], kids)) + "}"


def tree_unflatten(t: dict, leaves: Sequence) -> Any:
    it = iter(leaves)
    out = _build(t, it)
    return out


def _build(t: dict, it) -> Any:
    k = t["t"]
    if k == "leaf":
        return next(it)
    if k == "none":
        return None
    kids = [_build(c, it) for c in t["c"]]
    if k == "tuple":
        return tuple(kids)
    if k == "list":
        return kids
    if k == "dict":
        return dict(zip(t["k"], kids))
    if k == "odict":
        return collections.OrderedDict(zip(t["k"], kids))
    if k == "namedtuple":
        return collections.namedtuple(t["name"], t["fields"])(*kids)
    raise ArtifactError(f"the manifest holds an unknown pytree node kind {k!r}")


def tree_flatten_as(t: dict, x: Any, path: str, out: list) -> None:
    """Leaves of `x` in the order of tree `t`; a clear TypeError where the structures differ."""
    k = t["t"]
    if k == "leaf":
        out.append((path, x))
        return
    if k == "none":
        if x is not None:
            raise TypeError(f"{path or 'input'}: expected None, got {type(x).__name__}")
        return
    if k in ("tuple", "list", "namedtuple"):
        if not isinstance(x, (tuple, list)):
            raise TypeError(f"{path or 'input'}: expected a {k} of {len(t['c'])} items, got {type(x).__name__}")
        if len(x) != len(t["c"]):
            raise TypeError(f"{path or 'input'}: expected a {k} of {len(t['c'])} items, got {len(x)}")
        for i, (c, v) in enumerate(zip(t["c"], x)):
            tree_flatten_as(c, v, f"{path}[{i}]", out)
        return
    if not isinstance(x, collections.abc.Mapping):
        raise TypeError(f"{path or 'input'}: expected a dict with keys {list(t['k'])}, got {type(x).__name__}")
    if set(x) != set(t["k"]):
        raise TypeError(
            f"{path or 'input'}: expected a dict with keys {sorted(map(str, t['k']))}, got keys {sorted(map(str, x))}"
        )
    for key, c in zip(t["k"], t["c"]):
        tree_flatten_as(c, x[key], f"{path}[{key!r}]", out)


# ---- the file format --------------------------------------------------------------------------


def _pad(n: int) -> int:
    return (-n) % _ALIGN


def with_sections(manifest: dict, sections: dict[str, bytes]) -> dict:
    """The manifest plus its section table: offset, size and sha256 of each section."""
    table, offset = {}, 0
    for name, data in sections.items():
        table[name] = {"offset": offset, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        offset += len(data) + _pad(len(data))
    return dict(manifest, format_version=FORMAT_VERSION, sections=table)


def pack(manifest: dict, sections: dict[str, bytes]) -> bytes:
    """The artifact bytes: header, manifest (with its section table), sections."""
    manifest = with_sections(manifest, sections)
    mtext = json.dumps(manifest, indent=1, sort_keys=False).encode()
    head = _HEADER.pack(MAGIC, FORMAT_VERSION, 0, len(mtext), hashlib.sha256(mtext).digest())
    parts = [head, mtext, b"\0" * _pad(len(head) + len(mtext))]
    for i, data in enumerate(sections.values()):
        parts += [data, b"\0" * (_pad(len(data)) if i < len(sections) - 1 else 0)]
    return b"".join(parts)  # no padding after the last section: the file size is exact


def write(path: str, manifest: dict, sections: dict[str, bytes]) -> None:
    """Write atomically: a reader sees the old file or the whole new one."""
    data = pack(manifest, sections)
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".irjax-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class ArtifactFile:
    """The parsed header and manifest of an artifact; sections are checked when read."""

    def __init__(self, data: bytes | memoryview, name: str = "<bytes>"):
        self.name = name
        self.data = memoryview(data)
        n = len(self.data)
        if n < len(MAGIC) or bytes(self.data[: len(MAGIC)]) != MAGIC:
            if n < len(MAGIC) and MAGIC.startswith(bytes(self.data)):
                raise ArtifactError(f"{name}: truncated artifact ({n} bytes; the header alone is {_HEADER.size})")
            raise ArtifactError(f"{name}: not an irjax artifact (expected the magic bytes {MAGIC!r} at the start)")
        if n < _HEADER.size:
            raise ArtifactError(f"{name}: truncated artifact ({n} bytes; the header alone is {_HEADER.size})")
        _, version, _flags, msize, digest = _HEADER.unpack_from(self.data, 0)
        if version != FORMAT_VERSION:
            raise ArtifactError(
                f"{name}: unsupported artifact format version {version}; this irjax reads version {FORMAT_VERSION}"
                + (" (written by a newer irjax: upgrade irjax)" if version > FORMAT_VERSION else " (re-export it)")
            )
        mstart = _HEADER.size
        if mstart + msize > n:
            raise ArtifactError(
                f"{name}: truncated artifact (the manifest needs {msize} bytes at offset {mstart}; the file has {n})"
            )
        mtext = bytes(self.data[mstart : mstart + msize])
        if hashlib.sha256(mtext).digest() != digest:
            raise ArtifactError(f"{name}: checksum mismatch in the manifest (the file is corrupt)")
        try:
            self.manifest = json.loads(mtext)
        except ValueError as e:
            raise ArtifactError(f"{name}: the manifest is not valid JSON ({e})") from None
        if not isinstance(self.manifest, dict):
            raise ArtifactError(f"{name}: the manifest is not a JSON object")
        if self.manifest.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(
                f"{name}: manifest format version {self.manifest.get('format_version')!r}, expected {FORMAT_VERSION}"
            )
        self.base = mstart + msize + _pad(mstart + msize)
        for key in ("sections", "entry_points", "targets"):
            if key not in self.manifest:
                raise ArtifactError(f"{name}: the manifest has no {key!r} field")
        secs, targets = self.manifest["sections"], self.manifest["targets"]
        if not isinstance(secs, dict) or not all(
            isinstance(s, dict)
            and type(s.get("offset")) is int
            and type(s.get("size")) is int
            and s["offset"] >= 0
            and s["size"] >= 0
            and isinstance(s.get("sha256"), str)
            for s in secs.values()
        ):
            raise ArtifactError(
                f"{name}: malformed section table in the manifest (each section needs offset, size >= 0 and sha256)"
            )
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise ArtifactError(f"{name}: the manifest's 'targets' must be a list of target names")
        for sname, s in self.manifest["sections"].items():
            if self.base + s["offset"] + s["size"] > n:
                raise ArtifactError(
                    f"{name}: truncated artifact (section {sname!r} needs bytes up to {self.base + s['offset'] + s['size']}; the file has {n})"
                )
        end = self.base + max((s["offset"] + s["size"] for s in self.manifest["sections"].values()), default=0)
        if n < end:
            raise ArtifactError(f"{name}: truncated artifact ({n} bytes; the manifest describes {end})")
        if n > end:
            raise ArtifactError(f"{name}: {n - end} unexpected bytes after the last section (the file is corrupt)")
        self._checked: set = set()

    @classmethod
    def open(cls, path: str) -> ArtifactFile:
        path = os.fspath(path)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise FileNotFoundError(f"no artifact at {path}") from None
        return cls(data, path)

    def section(self, sname: str) -> memoryview:
        s = self.manifest["sections"].get(sname)
        if s is None:
            raise ArtifactError(f"{self.name}: the manifest refers to a section {sname!r} that it does not list")
        start = self.base + s["offset"]
        view = self.data[start : start + s["size"]]
        if sname not in self._checked:
            if hashlib.sha256(view).hexdigest() != s["sha256"]:
                raise ArtifactError(f"{self.name}: checksum mismatch in section {sname!r} (the file is corrupt)")
            self._checked.add(sname)
        return view


# ---- loading and calling ----------------------------------------------------------------------


def _device_for(targets: Sequence[str], device):
    """(target, Device): the requested device, else the first target this machine can run."""
    if device is not None and not isinstance(device, str):
        target = device.target
        if target not in targets:
            raise ArtifactError(f"the artifact holds code for {list(targets)}, not for {device} ({target})")
        return target, device
    wanted = targets
    if isinstance(device, str):
        t = PLATFORM_TARGET.get(device, device)
        if t not in targets:
            raise ArtifactError(f"the artifact holds code for {list(targets)}; no {device!r} module in it")
        wanted = [t]
    errors = []
    for t in wanted:
        drv = TARGET_DRIVERS.get(t)
        if drv is None:
            errors.append(f"{t}: unknown target")
            continue
        if drv == "local-sync":
            return t, devmod.cpu_device()
        try:
            # the frontend's own device object: buffers pass between artifacts and jit as they are
            return t, devmod.backend_devices(DRIVER_PLATFORM[drv])[0]
        except Exception as e:  # noqa: BLE001  (no such driver/device on this machine)
            errors.append(f"{t}: {e}")
    raise ArtifactError("no device on this machine can run this artifact: " + "; ".join(errors))


class EntryPoint:
    """One callable function of an artifact: numpy (or __array__) in, numpy pytree out."""

    def __init__(self, artifact: LoadedArtifact, name: str, spec: dict):
        self.artifact, self.name, self.spec = artifact, name, spec
        where = f"{artifact.path}: entry point {name!r}"
        try:
            self.in_avals = [aval_from_json(a, f"{where}: input {i}") for i, a in enumerate(spec["in_avals"])]
            self.out_avals = [aval_from_json(a, f"{where}: output {i}") for i, a in enumerate(spec["out_avals"])]
            self.const_avals = [
                aval_from_json(c, f"{where}: constant {i}") for i, c in enumerate(spec.get("consts", ()))
            ]
            self.in_tree, self.out_tree = spec["in_tree"], spec["out_tree"]
            n_in, n_out = tree_num_leaves(self.in_tree), tree_num_leaves(self.out_tree)
            self.function = spec["function"]
            if not isinstance(self.function, str) or not isinstance(spec["modules"], dict):
                raise TypeError("'function' must be a name and 'modules' a table")
        except ArtifactError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ArtifactError(f"{where}: malformed manifest entry ({type(e).__name__}: {e})") from None
        if n_in != len(self.in_avals) or n_out != len(self.out_avals):
            raise ArtifactError(f"{where}: pytree and avals disagree in the manifest")
        self._exe = None
        self._consts = None

    def verify(self) -> None:
        """Check the manifest against what the compiled module itself declares (IREE's function
        reflection): the function exists, and every input, constant and result has the
        manifest's shape and dtype. A mismatch would make calls read or write past buffers."""
        exe = self._executable()
        where = f"{self.artifact.path}: entry point {self.name!r}"
        try:
            fn = exe.function(self.function)
        except KeyError:
            raise ArtifactError(f"{where}: the compiled module has no function {self.function!r}") from None
        decl = (fn.reflection or {}).get("iree.abi.declaration")
        if not decl:
            raise ArtifactError(f"{where}: the compiled module does not declare the signature of {self.function!r}")
        ins, outs = declared_types(decl)
        want_in = [tensor_type_str(s, d) for s, d in self.in_avals + self.const_avals]
        want_out = [tensor_type_str(s, d) for s, d in self.out_avals]
        if ins != want_in:
            raise ArtifactError(f"{where}: the manifest's inputs {want_in} do not match the compiled module's {ins}")
        if outs != want_out:
            raise ArtifactError(f"{where}: the manifest's results {want_out} do not match the compiled module's {outs}")

    def __repr__(self):
        return f"<entry point {self.signature()}>"

    def signature(self) -> str:
        """'main({'b': f32[3], 'w': f32[4,3]}, f32[5,4]) -> f32[5,3]': the pytrees, leaves as avals."""
        leaves = iter([aval_str(s, d) for s, d in self.in_avals])
        t = self.in_tree
        if t["t"] == "tuple" and len(t["c"]) == 2 and t["c"][0]["t"] == "tuple" and t["c"][1]["t"] == "dict":
            parts = [_render(c, leaves) for c in t["c"][0]["c"]]  # (args, kwargs), as jit records it
            parts += [f"{k}={_render(c, leaves)}" for k, c in zip(t["c"][1]["k"], t["c"][1]["c"])]
            ins = ", ".join(parts)
        else:
            ins = _render(t, leaves)
        outs = _render(self.out_tree, iter([aval_str(s, d) for s, d in self.out_avals]))
        return f"{self.name}({ins}) -> {outs}"

    def _executable(self):
        if self._exe is None:
            art = self.artifact
            sname = self.spec["modules"].get(art.target)
            if not isinstance(sname, str):
                raise ArtifactError(f"entry point {self.name!r} has no module for {art.target}")
            # Inputs are put into fresh buffers on every call; only the long-lived constants need
            # private copies when IREE may write into an input in place (iree-org/iree#16168).
            self._copy_consts = bool(self.spec.get("copy_inputs", False))
            self._exe = art._executable(sname, False, bool(self.spec.get("parallel", False)))
            consts = []
            for c, (shape, dtype) in zip(self.spec.get("consts", ()), self.const_avals):
                if not isinstance(c, dict) or not isinstance(c.get("section"), str):
                    raise ArtifactError(f"{art.path}: entry point {self.name!r}: a constant names no section")
                data = art.file.section(c["section"])
                need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                if len(data) != need:
                    raise ArtifactError(
                        f"{art.path}: constant section {c['section']!r} holds {len(data)} bytes; "
                        f"{aval_str(shape, dtype)} needs {need}"
                    )
                consts.append(art.device.put(np.frombuffer(data, dtype).reshape(shape)))
            self._consts = consts
        return self._exe

    def __call__(self, *args, **kwargs):
        pairs: list = []
        npos = len(self.in_tree["c"][0]["c"]) if self.in_tree["t"] == "tuple" and len(self.in_tree["c"]) == 2 else None
        if npos is not None and len(args) != npos:
            raise TypeError(
                f"entry point {self.name!r} takes {npos} positional argument(s) ({self.signature()}), got {len(args)}"
            )
        tree_flatten_as(self.in_tree, (tuple(args), dict(kwargs)), "", pairs)
        return tree_unflatten(self.out_tree, self.call_flat([v for _, v in pairs], [p for p, _ in pairs]))

    def call_flat(self, leaves: Sequence, paths: Sequence[str] | None = None, to_host: bool = True) -> list:
        """Call with the flat list of input arrays; returns the flat list of outputs.

        Inputs already on the artifact's device (an IREE buffer view, or an irjax Array there)
        are used as they are; host arrays are copied in. to_host=False returns the results as
        device buffer views (no read-back: feed them to the next call), else NumPy arrays."""
        if len(leaves) != len(self.in_avals):
            raise TypeError(
                f"entry point {self.name!r} takes {len(self.in_avals)} input array(s) ({self.signature()}), got {len(leaves)}"
            )
        exe = self._executable()
        dev = self.artifact.device
        bvs = []
        for i, (x, (shape, dtype)) in enumerate(zip(leaves, self.in_avals)):
            where = f"input {i}" + (f" ({_path_name(paths[i])})" if paths else "")
            resident = _resident_buffer(x, dev)
            if resident is not None:
                got = (tuple(resident.shape), np.dtype(_rt().HalElementType.map_to_dtype(resident.element_type)))
                if got[0] != shape or got[1].itemsize != dtype.itemsize or got[1].kind != _storage_kind(dtype):
                    raise TypeError(
                        f"{where} of entry point {self.name!r}: expected {aval_str(shape, dtype)}, "
                        f"got a device buffer {aval_str(*got)}"
                    )
                # a caller's live buffer: private copy where IREE may write into an input in place
                bvs.append(dev.copy(resident) if self._copy_consts else resident)
                continue
            weak = isinstance(x, (bool, int, float, complex))
            try:
                arr = np.asarray(x)
            except Exception as e:  # noqa: BLE001
                raise TypeError(
                    f"{where} of entry point {self.name!r}: expected an array {aval_str(shape, dtype)}, got {type(x).__name__} ({e})"
                ) from None
            if arr.dtype.kind in "OUSVMm":
                raise TypeError(
                    f"{where} of entry point {self.name!r}: expected an array {aval_str(shape, dtype)}, got {type(x).__name__}"
                )
            if weak and dtype.kind in "iub" and arr.dtype.kind in "fc":
                weak = False  # a Python float in an integer slot would be truncated silently
            if arr.shape != shape or (arr.dtype != dtype and not weak):
                raise TypeError(
                    f"{where} of entry point {self.name!r}: expected {aval_str(shape, dtype)}, got {aval_str(arr.shape, arr.dtype)}"
                )
            bvs.append(dev.put(arr.astype(dtype, copy=False)))
        consts = [dev.copy(c) for c in self._consts] if self._copy_consts else self._consts
        out = exe.call(self.function, bvs + consts, len(self.out_avals))
        for i, (bv, (shape, d)) in enumerate(zip(out, self.out_avals)):
            if tuple(bv.shape) != shape or _element_size(bv) != d.itemsize:  # (verify() makes this unreachable)
                raise ArtifactError(
                    f"entry point {self.name!r}: result {i} is {list(bv.shape)} with {_element_size(bv)}-byte "
                    f"elements, but the manifest says {aval_str(shape, d)}"
                )
        if not to_host:
            return out
        return [dev.get(bv, d) for bv, (_, d) in zip(out, self.out_avals)]


def _rt():
    return rt


def _element_size(bv) -> int:
    return np.dtype(_rt().HalElementType.map_to_dtype(bv.element_type)).itemsize


def _storage_kind(dtype: np.dtype) -> str:
    """The kind IREE reports for a buffer of `dtype` (bfloat16 buffers map to a 2-byte float)."""
    return "f" if dtype.name == "bfloat16" else dtype.kind


def _resident_buffer(x, device):
    """x's device buffer view if x already lives on `device` (a buffer view, or an irjax Array
    there: duck-typed, the runtime never imports the frontend), else None."""
    rt = _rt()
    if isinstance(x, rt.HalBufferView):
        return x
    if getattr(x, "device", None) is device and hasattr(x, "_bv"):
        return x._bv
    return None


def _path_name(path: str) -> str:
    """'[0][1]['w']' -> "args[1]['w']"; '[1]['lr']' -> "kwargs['lr']"."""
    if path.startswith("[0]"):
        return "args" + path[3:]
    if path.startswith("[1]"):
        return "kwargs" + path[3:]
    return path


class LoadedArtifact:
    """A loaded artifact. Calling it calls its only (or 'main') entry point."""

    def __init__(self, file: ArtifactFile, device=None):
        self.file = file
        self.path = file.name
        self.manifest = file.manifest
        self.target, self.device = _device_for(self.manifest["targets"], device)
        self._exes: dict = {}
        eps = self.manifest["entry_points"]
        if not isinstance(eps, dict) or not eps or not all(isinstance(s, dict) for s in eps.values()):
            raise ArtifactError(f"{self.path}: the manifest's 'entry_points' must be a non-empty table of entry points")
        self.entry_points = {n: EntryPoint(self, n, s) for n, s in eps.items()}
        for ep in self.entry_points.values():
            ep.verify()  # every entry point, before any call

    def __repr__(self):
        return f"<irjax artifact {self.path}: {', '.join(map(repr, self.entry_points.values()))} on {self.target}>"

    def _executable(self, sname: str, copy_inputs: bool, parallel: bool = False):
        key = (sname, copy_inputs, parallel)
        exe = self._exes.get(key)
        if exe is None:
            try:
                exe = Executable(
                    bytes(self.file.section(sname)), self.device, copy_inputs=copy_inputs, parallel=parallel
                )
            except LoadError as e:
                rt_ver = self.manifest.get("iree_runtime_version", "unknown")
                raise ArtifactError(
                    f"{self.path}: section {sname!r}: {e} (compiled for IREE {rt_ver}; installed: {_runtime_version()})"
                ) from None
            self._exes[key] = exe
        return exe

    def entry(self, name: str) -> EntryPoint:
        ep = self.entry_points.get(name)
        if ep is None:
            raise EntryPointError(f"{self.path} has no entry point {name!r}; it has {sorted(self.entry_points)}")
        return ep

    __getitem__ = entry

    def __getattr__(self, name):
        if name.startswith("_") or "entry_points" not in self.__dict__:
            raise AttributeError(name)
        if name in self.entry_points:
            return self.entry_points[name]
        raise AttributeError(
            f"{type(self).__name__} has no attribute {name!r} (entry points: {sorted(self.entry_points)})"
        )

    @property
    def default_entry(self) -> EntryPoint:
        if len(self.entry_points) == 1:
            return next(iter(self.entry_points.values()))
        if "main" in self.entry_points:
            return self.entry_points["main"]
        raise EntryPointError(
            f"{self.path} has several entry points {sorted(self.entry_points)}; pick one: artifact['name'](...)"
        )

    def __call__(self, *args, **kwargs):
        return self.default_entry(*args, **kwargs)


def _runtime_version() -> str:
    try:
        return version("iree-base-runtime")
    except Exception:  # noqa: BLE001
        return "unknown"


def load(path, device=None) -> LoadedArtifact:
    """Load an artifact written by `Exported.save` or irjax-compile. Needs only iree.runtime.

    device: None (the first target this machine runs), a name ('cpu', 'cuda', 'vulkan') or a Device.
    """
    f = path if isinstance(path, ArtifactFile) else ArtifactFile.open(path)
    return LoadedArtifact(f, device)


def loads(data: bytes, device=None) -> LoadedArtifact:
    return LoadedArtifact(ArtifactFile(data), device)
