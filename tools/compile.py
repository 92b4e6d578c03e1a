"""irjax-compile: a Python function or an .mlir file (jx or StableHLO) -> one .irjax artifact.

irjax-compile model:predict --shapes 'f32[10000,10]' 'f32[10]' -o model.irjax [--grad]
irjax-compile f.mlir -o f.irjax [--entry main] [--target llvm-cpu --target vulkan-spirv]
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import threading
import time
from collections.abc import Sequence

import irjax
from irjax.dialects.func import _top_ops, find_func, func_names, parse_module, signature
from irjax.dialects.mlir import enter, ir
from irjax.export import Exported, compile_targets, export, save
from irjax.passes.registry import run_pipeline
from irjax.runtime import artifact as art
from irjax.runtime.compiler import multithreaded, needs_input_copies
from irjax.tools.run import parse_spec

from .mlir_input import BYTECODE_MAGIC, InputError, bytecode_to_text, check_text


class UsageError(ValueError):
    pass


def _log(quiet: bool):
    def log(msg: str) -> None:
        if not quiet:
            print(msg, file=sys.stderr, flush=True)

    return log


class _Ticker:
    """Prints 'still compiling (N s)' every `every` seconds while a long compile runs."""

    def __init__(self, log, every: float = 10.0):
        self.log, self.every = log, every
        self._stop = threading.Event()

    def __enter__(self):
        start = time.perf_counter()

        def tick():
            while not self._stop.wait(self.every):
                self.log(f"  still compiling ({time.perf_counter() - start:.0f} s)")

        self._t = threading.Thread(target=tick, daemon=True)
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        return False


# ---- from a Python function ------------------------------------------------------------------


def _load_function(ref: str):
    mod_name, sep, attr = ref.rpartition(":")
    if not sep or not mod_name or not attr:
        raise UsageError(f"expected module:function or file.py:function or a .mlir file, got {ref!r}")
    if mod_name.endswith(".py") or os.sep in mod_name:
        if not os.path.isfile(mod_name):
            raise UsageError(f"no such file: {mod_name}")
        spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(mod_name))[0], mod_name)
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, os.path.dirname(os.path.abspath(mod_name)))
        spec.loader.exec_module(module)
    else:
        sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(mod_name)
        except ModuleNotFoundError as e:
            raise UsageError(f"cannot import module {mod_name!r}: {e}") from None
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"module {mod_name!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise UsageError(f"{ref} is a {type(obj).__name__}, not a function")
    return obj


def _export_function(args, log) -> dict:
    fun = _load_function(args.source)
    if not args.shapes:
        raise UsageError("a Python function needs example shapes: --shapes 'f32[10000,10]' ...")
    avals = [irjax.ShapeDtypeStruct(*parse_spec(s)) for s in args.shapes]
    args.name = args.name or "main"
    funs = {args.name: fun}
    if args.grad:
        funs[args.name + "_grad" if args.name != "main" else "grad"] = irjax.grad(fun, argnums=args.grad_argnums)
    entries = {}
    for name, f in funs.items():
        log(f"tracing {name}({', '.join(art.aval_str(a.shape, a.dtype) for a in avals)})...")
        with _Ticker(log):
            entries[name] = export(
                f, targets=args.target, target_cpu=args.target_cpu, flags=args.iree_flag, progress=log
            )(*avals)
    return entries


# ---- from an .mlir file ----------------------------------------------------------------------


def _public_funcs(module) -> list[str]:
    out = []
    for op in _top_ops(module):
        if op.name == "func.func":
            vis = op.attributes["sym_visibility"] if "sym_visibility" in op.attributes else None
            if vis is None or ir.StringAttr(vis).value == "public":
                out.append(ir.StringAttr(op.attributes["sym_name"]).value)
    return out


def _has_jx(module) -> bool:
    found = []

    def cb(op):
        if op.name.startswith("jx."):
            found.append(op)
            return ir.WalkResult.INTERRUPT
        return ir.WalkResult.ADVANCE

    module.operation.walk(cb)
    return bool(found)


def _compile_mlir(args, log) -> dict:
    try:
        with open(args.source, "rb") as f:
            data = f.read()
    except OSError as e:
        raise UsageError(f"cannot read {args.source}: {e.strerror}") from None

    try:  # before parsing: deep nesting or malformed bytecode would crash this process
        text = bytecode_to_text(data, args.source) if data.startswith(BYTECODE_MAGIC) else data.decode()
        check_text(text, args.source)
    except InputError as e:
        raise UsageError(str(e).replace(f"{args.source}: error: ", f"cannot parse {args.source}: ")) from None
    except UnicodeDecodeError:
        raise UsageError(f"{args.source} is neither MLIR text nor MLIR bytecode") from None
    try:
        module = parse_module(text)
    except ir.MLIRError as e:
        diags = "; ".join(f"{d.location}: {d.message}" for d in e.error_diagnostics) or str(e)
        raise UsageError(f"cannot parse {args.source}: {diags}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{args.source} is neither MLIR text nor MLIR bytecode") from None
    public = _public_funcs(module)
    entries = args.entry or (public if len(public) == 1 else ["main"])
    for e in entries:
        if find_func(module, e) is None:
            raise UsageError(
                f"{args.source} has no function @{e} (--entry); it has {', '.join('@' + n for n in func_names(module)) or 'none'}"
            )
    if _has_jx(module):
        log(f"lowering jx to StableHLO (entry points: {', '.join(entries)})...")
        chunk = "true" if all(t == "llvm-cpu" for t in args.target) else "false"  # (control_flow.py)
        pipeline = "verify,cse,dce," + ",".join(
            f"lower-stablehlo{{entry={e} chunk-scans={chunk}}}" for e in entries[:1]
        )
        run_pipeline(module, pipeline)
        with enter():
            for e in entries:  # lower-stablehlo makes callees private; entry points stay public
                f = find_func(module, e)
                if "sym_visibility" in f.attributes:
                    del f.attributes["sym_visibility"]
    with enter():
        hlo = str(module)
    vmfbs, used = compile_targets(hlo, args.target, args.target_cpu, args.iree_flag, log)
    out = {}
    for e in entries:
        ins, outs = signature(find_func(module, e))
        out[args.name if args.name and len(entries) == 1 else e] = Exported(
            e,
            ins,
            outs,
            None,
            None,
            art.flat_in_tree(len(ins)),
            art.flat_out_tree(len(outs)),
            hlo,
            vmfbs,
            used,
            [],
            needs_input_copies(hlo),
            e,
            parallel=multithreaded(hlo),
        )
    return out


# ---- driver ---------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="irjax-compile", description="Compile a function or an .mlir file to an irjax artifact."
    )
    p.add_argument("source", help="module:function, path/file.py:function, or a .mlir file (jx or StableHLO)")
    p.add_argument(
        "--shapes",
        "-s",
        nargs="+",
        action="extend",
        default=[],
        metavar="SPEC",
        help="example inputs of a Python function, in order: f32[10000,10] i32[] ...",
    )
    p.add_argument("-o", "--output", required=True, help="the artifact to write (.irjax)")
    p.add_argument(
        "--target",
        action="append",
        default=None,
        help=f"IREE target backend, repeatable: {', '.join(art.TARGET_DRIVERS)} (default llvm-cpu)",
    )
    p.add_argument("--target-cpu", default=None, help="CPU for llvm-cpu code (default host; 'generic' travels)")
    p.add_argument(
        "--entry",
        action="append",
        default=None,
        help="function(s) of an .mlir file to expose (default: its only public one, or main)",
    )
    p.add_argument(
        "--name", default=None, help="entry point name (default main; for an .mlir file, the function's name)"
    )
    p.add_argument("--grad", action="store_true", help="also export grad(function) as entry point 'grad'")
    p.add_argument("--grad-argnums", type=int, default=0, help="the argument --grad differentiates (default 0)")
    p.add_argument("--iree-flag", action="append", default=[], metavar="FLAG", help="an extra flag for iree-compile")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress messages")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.target = args.target or ["llvm-cpu"]
    log = _log(args.quiet)
    start = time.perf_counter()
    try:
        is_mlir = args.source.endswith((".mlir", ".mlirbc")) or (":" not in args.source and os.path.isfile(args.source))
        if is_mlir and args.shapes:
            raise UsageError("--shapes is for Python functions; an .mlir file carries its own types")
        entries = _compile_mlir(args, log) if is_mlir else _export_function(args, log)
        save(args.output, entries)
    except BrokenPipeError:
        return 1
    except Exception as e:  # noqa: BLE001  (one line, no traceback: IRJAX_TRACEBACK=1 shows it)
        if os.environ.get("IRJAX_TRACEBACK"):
            raise
        kind = "" if isinstance(e, (UsageError, ValueError, TypeError, OSError)) else f"{type(e).__name__}: "
        print(f"irjax-compile: error: {kind}{e}", file=sys.stderr)
        return 1
    size = os.path.getsize(args.output)
    sigs = "; ".join(
        f"{n}({', '.join(art.aval_str(a.shape, a.dtype) for a in e.in_avals)})" for n, e in entries.items()
    )
    log(
        f"wrote {args.output} ({size / 1024:.0f} KiB; {sigs}; targets {', '.join(args.target)}) in {time.perf_counter() - start:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
