"""Ahead-of-time artifacts: one file holding compiled modules plus a JSON manifest.

Writing and loading need only numpy and iree.runtime (never the compiler or the tracer).
Layout: header (magic, format version, manifest size and sha256) | manifest | sections.
"""

from __future__ import annotations

import collections
import collections.abc
import itertools
import hashlib
import json
import os
import struct
import tempfile
from typing import Any, Sequence

import numpy as np

MAGIC = b"\x89IRJAX\r\n\x1a\n"  # PNG-style: catches text-mode and truncation damage early
FORMAT_VERSION = 1
_HEADER = struct.Struct("<10sIIQ32s")  # magic, format version, flags, manifest size, sha256
_ALIGN = 64

TARGET_DRIVERS = {"llvm-cpu": "local-sync", "vulkan-spirv": "vulkan", "cuda": "cuda", "rocm": "hip"}
_DRIVER_PLATFORM = {"local-sync": "cpu", "local-task": "cpu", "vulkan": "vulkan", "cuda": "cuda", "hip": "rocm"}


class ArtifactError(ValueError):
    """The file is not a loadable irjax artifact (truncated, corrupt, wrong format version)."""


class EntryPointError(LookupError):
    """The artifact has no entry point of that name."""

    def __str__(self):  # LookupError would repr() the message like KeyError does not; keep plain
        return self.args[0] if self.args else ""


# ---- avals and pytrees as JSON ----------------------------------------------------------------


def dtype_from_name(name: str) -> np.dtype:
    try:
        return np.dtype(name)
    except TypeError:
        if name == "bfloat16":
            from ml_dtypes import bfloat16

            return np.dtype(bfloat16)
        raise ArtifactError(f"the manifest names dtype {name!r}, which numpy does not know") from None


_SHORT = {"float16": "f16", "bfloat16": "bf16", "float32": "f32", "float64": "f64", "bool": "bool", "complex64": "c64", "complex128": "c128"}


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


def tree_str(t: dict) -> str:
    """JAX's PyTreeDef text for tree `t`, e.g. `((*, *), {'a': *})`."""
    return _render(t, itertools.repeat("*"))


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
        raise TypeError(f"{path or 'input'}: expected a dict with keys {sorted(map(str, t['k']))}, got keys {sorted(map(str, x))}")
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
            raise ArtifactError(f"{name}: truncated artifact (the manifest needs {msize} bytes at offset {mstart}; the file has {n})")
        mtext = bytes(self.data[mstart : mstart + msize])
        if hashlib.sha256(mtext).digest() != digest:
            raise ArtifactError(f"{name}: checksum mismatch in the manifest (the file is corrupt)")
        try:
            self.manifest = json.loads(mtext)
        except ValueError as e:
            raise ArtifactError(f"{name}: the manifest is not valid JSON ({e})") from None
        if self.manifest.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(f"{name}: manifest format version {self.manifest.get('format_version')!r}, expected {FORMAT_VERSION}")
        self.base = mstart + msize + _pad(mstart + msize)
        for key in ("sections", "entry_points", "targets"):
            if key not in self.manifest:
                raise ArtifactError(f"{name}: the manifest has no {key!r} field")
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
    from . import device as devmod

    if device is not None and not isinstance(device, str):
        target = device.target
        if target not in targets:
            raise ArtifactError(f"the artifact holds code for {list(targets)}, not for {device} ({target})")
        return target, device
    wanted = targets
    if isinstance(device, str):
        names = {"cpu": "llvm-cpu", "gpu": "cuda", "vulkan": "vulkan-spirv", "hip": "rocm"}
        t = names.get(device, device)
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
            return t, devmod.Device(_DRIVER_PLATFORM[drv], drv, 0)
        except Exception as e:  # noqa: BLE001  (no such driver/device on this machine)
            errors.append(f"{t}: {e}")
    raise ArtifactError("no device on this machine can run this artifact: " + "; ".join(errors))


class EntryPoint:
    """One callable function of an artifact: numpy (or __array__) in, numpy pytree out."""

    def __init__(self, artifact: LoadedArtifact, name: str, spec: dict):
        self.artifact, self.name, self.spec = artifact, name, spec
        self.in_avals = [(tuple(a["shape"]), dtype_from_name(a["dtype"])) for a in spec["in_avals"]]
        self.out_avals = [(tuple(a["shape"]), dtype_from_name(a["dtype"])) for a in spec["out_avals"]]
        self.in_tree, self.out_tree = spec["in_tree"], spec["out_tree"]
        if tree_num_leaves(self.in_tree) != len(self.in_avals) or tree_num_leaves(self.out_tree) != len(self.out_avals):
            raise ArtifactError(f"{artifact.path}: entry point {name!r}: pytree and avals disagree in the manifest")
        self.function = spec["function"]
        self._exe = None
        self._consts = None

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
            if sname is None:
                raise ArtifactError(f"entry point {self.name!r} has no module for {art.target}")
            # Inputs are put into fresh buffers on every call; only the long-lived constants need
            # private copies when IREE may write into an input in place (iree-org/iree#16168).
            self._copy_consts = bool(self.spec.get("copy_inputs", False))
            self._exe = art._executable(sname, False, bool(self.spec.get("parallel", False)))
            self._consts = [
                art.device.put(np.frombuffer(art.file.section(c["section"]), dtype_from_name(c["dtype"])).reshape(c["shape"]))
                for c in self.spec.get("consts", ())
            ]
        return self._exe

    def __call__(self, *args, **kwargs):
        pairs: list = []
        npos = len(self.in_tree["c"][0]["c"]) if self.in_tree["t"] == "tuple" and len(self.in_tree["c"]) == 2 else None
        if npos is not None and len(args) != npos:
            raise TypeError(f"entry point {self.name!r} takes {npos} positional argument(s) ({self.signature()}), got {len(args)}")
        tree_flatten_as(self.in_tree, (tuple(args), dict(kwargs)), "", pairs)
        return tree_unflatten(self.out_tree, self.call_flat([v for _, v in pairs], [p for p, _ in pairs]))

    def call_flat(self, leaves: Sequence, paths: Sequence[str] | None = None) -> list[np.ndarray]:
        """Call with the flat list of input arrays; returns the flat list of outputs."""
        if len(leaves) != len(self.in_avals):
            raise TypeError(f"entry point {self.name!r} takes {len(self.in_avals)} input array(s) ({self.signature()}), got {len(leaves)}")
        exe = self._executable()
        dev = self.artifact.device
        bvs = []
        for i, (x, (shape, dtype)) in enumerate(zip(leaves, self.in_avals)):
            where = f"input {i}" + (f" ({_path_name(paths[i])})" if paths else "")
            weak = isinstance(x, (bool, int, float, complex))
            try:
                arr = np.asarray(x)
            except Exception as e:  # noqa: BLE001
                raise TypeError(f"{where} of entry point {self.name!r}: expected an array {aval_str(shape, dtype)}, got {type(x).__name__} ({e})") from None
            if arr.dtype.kind in "OUSVMm":
                raise TypeError(f"{where} of entry point {self.name!r}: expected an array {aval_str(shape, dtype)}, got {type(x).__name__}")
            if weak and dtype.kind in "iub" and arr.dtype.kind in "fc":
                weak = False  # a Python float in an integer slot would be truncated silently
            if arr.shape != shape or (arr.dtype != dtype and not weak):
                raise TypeError(
                    f"{where} of entry point {self.name!r}: expected {aval_str(shape, dtype)}, got {aval_str(arr.shape, arr.dtype)}"
                )
            bvs.append(dev.put(arr.astype(dtype, copy=False)))
        consts = [dev.copy(c) for c in self._consts] if self._copy_consts else self._consts
        out = exe.call(self.function, bvs + consts, len(self.out_avals))
        return [dev.get(bv, d) for bv, (_, d) in zip(out, self.out_avals)]


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
        self.entry_points = {n: EntryPoint(self, n, s) for n, s in self.manifest["entry_points"].items()}

    def __repr__(self):
        return f"<irjax artifact {self.path}: {', '.join(map(repr, self.entry_points.values()))} on {self.target}>"

    def _executable(self, sname: str, copy_inputs: bool, parallel: bool = False):
        key = (sname, copy_inputs, parallel)
        exe = self._exes.get(key)
        if exe is None:
            from .executable import Executable, LoadError

            try:
                exe = Executable(bytes(self.file.section(sname)), self.device, copy_inputs=copy_inputs, parallel=parallel)
            except LoadError as e:
                rt_ver = self.manifest.get("iree_runtime_version", "unknown")
                raise ArtifactError(f"{self.path}: section {sname!r}: {e} (compiled for IREE {rt_ver}; installed: {_runtime_version()})") from None
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
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r} (entry points: {sorted(self.entry_points)})")

    @property
    def default_entry(self) -> EntryPoint:
        if len(self.entry_points) == 1:
            return next(iter(self.entry_points.values()))
        if "main" in self.entry_points:
            return self.entry_points["main"]
        raise EntryPointError(f"{self.path} has several entry points {sorted(self.entry_points)}; pick one: artifact['name'](...)")

    def __call__(self, *args, **kwargs):
        return self.default_entry(*args, **kwargs)


def _runtime_version() -> str:
    try:
        from importlib.metadata import version

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
