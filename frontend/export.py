"""Ahead-of-time export: `irjax.export(jit(f), targets=[...])(*avals)` -> Exported -> one file.

The file loads with `irjax.runtime.load(path)`, which needs only iree.runtime and numpy.
Like `jax.export`, this module is also the namespace: `irjax.export.export`, `.save`, `.Exported`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import types
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
from irjax.dialects.func import parse_module
from irjax.dialects.mlir import enter
from irjax.passes.module_facts import facts_of_text
from irjax.passes.registry import run_pipeline
from irjax.runtime import artifact as _art
from irjax.runtime.compiler import check_target_cpu, compile_stablehlo, multithreaded, needs_input_copies, target_flags
from irjax.runtime.targets import lowering_options

from . import tree_util
from .api import Jitted, jit
from .core import Tracer, locked
from .dispatch import _keep_only

__all__ = ["export", "Exported", "save", "tree_to_json", "stablehlo_entry"]


# ---- pytree structure as JSON ------------------------------------------------------------------


def tree_to_json(td) -> dict:
    """A PyTreeDef as the manifest's JSON tree (rebuilt by irjax.runtime.artifact without the tracer)."""
    k, data, kids = td._kind, td._data, [tree_to_json(c) for c in td.children()]
    if k == tree_util._LEAF:
        return {"t": "leaf"}
    if k == tree_util._NONE:
        return {"t": "none"}
    if k == tree_util._TUPLE:
        return {"t": "tuple", "c": kids}
    if k == tree_util._LIST:
        return {"t": "list", "c": kids}
    if k in (tree_util._DICT, tree_util._DEFAULTDICT, tree_util._ORDEREDDICT):
        keys = list(data[1] if k == tree_util._DEFAULTDICT else data)
        for key in keys:
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise TypeError(
                    f"cannot export a pytree whose dict key {key!r} is a {type(key).__name__}; use str or int keys"
                )
        return {"t": "odict" if k == tree_util._ORDEREDDICT else "dict", "k": keys, "c": kids}
    if k == tree_util._NAMEDTUPLE:
        return {"t": "namedtuple", "name": data.__name__, "fields": list(data._fields), "c": kids}
    raise TypeError(
        f"cannot export a pytree node of custom type {data[0].__name__}: artifacts record tuple, list, "
        "dict, namedtuple and None nodes; return or take those instead"
    )


def _aval_json(a) -> dict:
    return {"shape": [int(d) for d in a.shape], "dtype": np.dtype(a.dtype).name}


# ---- lowering and compiling one entry ----------------------------------------------------------


@locked
def stablehlo_entry(module, fname: str, cpu_only: bool = True) -> str:
    """StableHLO text of a copy of `module` holding @fname (public) and what it calls, lowered
    with the same target options as jit's (runtime.targets.lowering_options): an export for CPU
    targets only gets the CPU's (scans stack in place), any other the GPUs' (FFTs as DFT
    matmuls, grouped convolutions split), which every target compiles."""
    with enter():
        text = str(module)
    m = parse_module(text)
    _keep_only(m, fname)
    run_pipeline(m, f"cse,dce,lower-stablehlo{{entry={fname} {lowering_options(gpu=not cpu_only)}}}")
    with enter():
        return str(m)


@contextlib.contextmanager
def _target_cpu(cpu: str | None):
    if cpu is None:
        yield
        return
    old = os.environ.get("IRJAX_CPU")
    os.environ["IRJAX_CPU"] = cpu
    try:
        yield
    finally:
        if old is None:
            del os.environ["IRJAX_CPU"]
        else:
            os.environ["IRJAX_CPU"] = old


def compile_targets(
    hlo_text: str,
    targets: Sequence[str],
    target_cpu: str | None = None,
    flags: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> tuple[dict, dict]:
    """{target: vmfb bytes} and {target: flags used}, through the compile cache."""
    if facts_of_text(hlo_text).imports:
        raise ValueError(
            "cannot export a function that calls host callbacks (pure_callback, debug.print, "
            "debug.callback): an artifact runs without Python, and these call back into it"
        )
    if target_cpu is not None and "llvm-cpu" in targets:
        check_target_cpu([f"--iree-llvmcpu-target-cpu={target_cpu}", *flags], source="target_cpu")
    vmfbs, used = {}, {}
    for t in targets:
        if t not in _art.TARGET_DRIVERS:
            raise ValueError(f"unknown target {t!r}; expected one of {sorted(_art.TARGET_DRIVERS)}")
        start = time.perf_counter()
        if progress:
            progress(f"compiling for {t}...")
        with _target_cpu(target_cpu):
            vmfbs[t] = compile_stablehlo(hlo_text, t, list(flags))
            used[t] = target_flags(t) + list(flags)
        if progress:
            progress(f"done in {time.perf_counter() - start:.2f} s ({len(vmfbs[t]) / 1024:.0f} KiB)")
    return vmfbs, used


def _versions() -> dict:
    out = {}
    for key, pkg in (
        ("irjax_version", "irjax"),
        ("iree_runtime_version", "iree-base-runtime"),
        ("iree_compiler_version", "iree-base-compiler"),
    ):
        try:
            out[key] = version(pkg)
        except PackageNotFoundError:
            out[key] = "unknown"
    return out


# ---- Exported ---------------------------------------------------------------------------------


class Exported:
    """A function lowered and compiled for one or more targets, ready to save as one file."""

    def __init__(
        self,
        name: str,
        in_avals,
        out_avals,
        in_tree,
        out_tree,
        in_tree_json,
        out_tree_json,
        hlo_text: str,
        vmfbs: dict,
        flags: dict,
        consts: list,
        copy_inputs: bool,
        function: str,
        parallel: bool = False,
    ):
        self.fun_name = name
        self.in_avals, self.out_avals = tuple(in_avals), tuple(out_avals)
        self.in_tree, self.out_tree = in_tree, out_tree
        self._in_tree_json, self._out_tree_json = in_tree_json, out_tree_json
        self._hlo = hlo_text
        self.vmfbs = vmfbs
        self.target_flags = flags
        self.consts = consts
        self.copy_inputs = copy_inputs
        self.function = function
        self.parallel = parallel  # matmul-heavy: run on the CPU's multi-threaded driver

    @property
    def targets(self) -> list[str]:
        return list(self.vmfbs)

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(self.vmfbs)

    def mlir_module(self) -> str:
        """The StableHLO text that was compiled."""
        return self._hlo

    def __repr__(self):
        ins = ", ".join(_art.aval_str(a.shape, a.dtype) for a in self.in_avals)
        outs = ", ".join(_art.aval_str(a.shape, a.dtype) for a in self.out_avals)
        return f"Exported({self.fun_name}({ins}) -> ({outs}), targets={self.targets})"

    def _entry_spec(self, name: str, sections: dict) -> dict:
        modules = {}
        for t, vmfb in self.vmfbs.items():
            sname = f"vmfb/{name}/{t}"
            sections[sname] = vmfb
            modules[t] = sname
        consts = []
        for i, c in enumerate(self.consts):
            sname = f"const/{name}/{i}"
            sections[sname] = np.ascontiguousarray(c).tobytes()
            consts.append({"shape": list(c.shape), "dtype": c.dtype.name, "section": sname})
        return {
            "function": self.function,
            "in_avals": [_aval_json(a) for a in self.in_avals],
            "out_avals": [_aval_json(a) for a in self.out_avals],
            "in_tree": self._in_tree_json,
            "out_tree": self._out_tree_json,
            "copy_inputs": self.copy_inputs,
            "parallel": self.parallel,
            "consts": consts,
            "modules": modules,
            "target_flags": self.target_flags,
        }

    @property
    def manifest(self) -> dict:
        return _art.with_sections(*build({"main": self}))

    def serialize(self, name: str = "main") -> bytes:
        manifest, sections = build({name: self})
        return _art.pack(manifest, sections)

    def save(self, path, name: str = "main") -> None:
        """Write the artifact: one entry point called `name`."""
        save(path, {name: self})

    def call(self, *args, **kwargs):
        """Run it in this process through the runtime-only loader (as a loaded file would)."""
        loaded = _art.loads(self.serialize())
        return loaded(*args, **kwargs)

    __call__ = call


def build(entries: dict[str, Exported]) -> tuple[dict, dict]:
    """The manifest and the sections for an artifact holding several entry points."""
    if not entries:
        raise ValueError("an artifact needs at least one entry point")
    targets = None
    for n, e in entries.items():
        if not isinstance(e, Exported):
            raise TypeError(f"entry point {n!r}: expected an Exported, got {type(e).__name__}")
        if not n or not isinstance(n, str):
            raise ValueError(f"entry point names must be non-empty strings, got {n!r}")
        if targets is None:
            targets = e.targets
        elif set(e.targets) != set(targets):
            raise ValueError(f"entry point {n!r} is compiled for {e.targets}, the others for {targets}")
    sections: dict = {}
    eps = {n: e._entry_spec(n, sections) for n, e in entries.items()}
    manifest = {
        "format": "irjax-artifact",
        "format_version": _art.FORMAT_VERSION,
        **_versions(),
        "targets": targets,
        "entry_points": eps,
    }
    return manifest, sections


def save(path, entries: dict[str, Exported] | Exported) -> None:
    """Write one artifact file holding one or more entry points: save(path, {"forward": e1, "step": e2})."""
    if isinstance(entries, Exported):
        entries = {"main": entries}
    manifest, sections = build(dict(entries))
    _art.write(os.fspath(path), manifest, sections)


def export(
    fun,
    targets: Sequence[str] = ("llvm-cpu",),
    *,
    target_cpu: str | None = None,
    flags: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
    **_ignored,
) -> Callable[..., Exported]:
    """export(jit(f), targets=["llvm-cpu"])(*args or ShapeDtypeStructs) -> Exported.

    target_cpu: the CPU the llvm-cpu code may assume ("host" by default; "generic" or a named CPU
    for artifacts that move between machines). Static arguments are fixed at export time.
    """
    if isinstance(targets, str):
        targets = [targets]
    targets = list(targets)
    if not targets:
        raise ValueError("export needs at least one target")
    jitted = fun if isinstance(fun, Jitted) else jit(fun)

    def do_export(*args, **kwargs) -> Exported:
        tr, _ = jitted._trace(args, kwargs)
        dyn_args, dyn_kw, *_ = jitted._split(args, kwargs)
        in_tree = tree_util.tree_structure((dyn_args, dyn_kw))
        if any(isinstance(c, Tracer) for c in tr.captured):
            raise TypeError("cannot export a function that closes over values of an enclosing trace")
        consts = [np.asarray(c) for c in tr.captured]
        hlo = stablehlo_entry(tr.module, tr.fname, cpu_only=all(t == "llvm-cpu" for t in targets))
        vmfbs, used = compile_targets(hlo, targets, target_cpu, flags, progress)
        name = getattr(jitted.fun, "__name__", tr.fname)
        return Exported(
            name,
            tr.in_avals,
            tr.out_avals,
            in_tree,
            tr.out_tree,
            tree_to_json(in_tree),
            tree_to_json(tr.out_tree),
            hlo,
            vmfbs,
            used,
            consts,
            needs_input_copies(hlo),
            tr.fname,
            parallel=multithreaded(hlo),
        )

    return do_export


class _CallableModule(types.ModuleType):
    """`irjax.export(...)` calls export(); `irjax.export.export(...)` works as in jax.export."""

    def __call__(self, fun, *args, **kwargs):
        return export(fun, *args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule


def deserialize(data: bytes) -> Any:
    """The loaded artifact (a callable) for artifact bytes, as irjax.runtime.loads."""
    return _art.loads(data)
