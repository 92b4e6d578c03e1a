"""irjax-opt: an mlir-opt-style driver running irjax (and MLIR) pass pipelines over .mlir files.

irjax-opt in.mlir -p 'grad{func=f},cse,lower-stablehlo' -o out.mlir
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import NamedTuple

from irjax.dialects.mlir import enter, ir, passmanager
from irjax.passes.registry import PipelineError, parse_pipeline, passes, run_pipeline
from irjax.passes.verify import verify_module

from .atomic import write_atomic
from .mlir_input import InputError, bytecode_to_text, check_text

_SPLIT = re.compile(r"^[ \t]*// -----[ \t]*$", re.M)
_EXPECTED = re.compile(r"//\s*expected-(error|warning|remark|note)\s*(@[+-]?\d+|@above|@below)?\s*\{\{(.*?)\}\}")
_LOC_LINE = re.compile(r"\s*loc\((.*?)\):\s+(.*)")
_FILE_LINE_COL = re.compile(r'"[^"]*":(\d+):(\d+)')
_BYTECODE_MAGIC = b"ML\xefR"


class Diag(NamedTuple):
    line: int | None
    col: int | None
    msg: str


def _from_loc(loc: str, msg: str) -> Diag:
    m = _FILE_LINE_COL.search(loc)
    if not m or m.group(1) == "0":  # bytecode errors point at 0:0, which names nothing
        return Diag(None, None, msg)
    return Diag(int(m.group(1)), int(m.group(2)), msg)


def _diags(exc: BaseException, where: str = "") -> list[Diag]:
    """An exception as diagnostics, with source lines where its message names them."""
    e = exc
    while e is not None:  # MLIR keeps structured diagnostics; a wrapper keeps them as __cause__
        if isinstance(e, ir.MLIRError) and e.error_diagnostics:
            return [_from_loc(str(d.location), d.message) for d in e.error_diagnostics]
        e = e.__cause__
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    out = []
    for line in str(text).splitlines():
        m = _LOC_LINE.match(line)
        d = _from_loc(m.group(1), m.group(2)) if m else Diag(None, None, line.strip())
        if d.msg:
            out.append(d if d.line is not None or not where else d._replace(msg=f"{where}: {d.msg}"))
    return out or [Diag(None, None, f"{where}: {type(exc).__name__}" if where else type(exc).__name__)]


def _format(name: str, d: Diag) -> str:
    at = f"{name}:{d.line}:{d.col}" if d.line is not None else name
    return f"{at}: error: {d.msg}"


def _check_pipeline(pipeline: str) -> None:
    """Reject unknown pass names before reading any IR (MLIR's own passes are allowed)."""
    known = passes()
    for name, opts in parse_pipeline(pipeline):
        if name in known:
            known[name].parse_options(opts)  # unknown or malformed options: before any IR is read
            continue
        spec = name + ("{" + " ".join(f"{k}={v}" for k, v in opts.items()) + "}" if opts else "")
        with enter():
            try:
                passmanager.PassManager.parse(f"builtin.module({name})")
            except Exception:  # noqa: BLE001  (MLIR raises a plain ValueError)
                raise PipelineError(f"unknown pass '{name}' (see irjax-opt --list-passes)") from None
            try:
                passmanager.PassManager.parse(f"builtin.module({spec})")
            except Exception as e:  # noqa: BLE001
                why = " ".join(str(e).split())
                raise PipelineError(f"bad options for MLIR pass '{name}': {why}") from None


def _asm(module, args) -> str:
    return module.operation.get_asm(print_generic_op_form=args.mlir_print_op_generic)


def _dump(when: str, pass_name: str, module, args) -> None:
    sys.stderr.write(f"// -----// IR Dump {when} {pass_name} //----- //\n{_asm(module, args)}\n")


def _process(data, args):
    """Parse and transform one input (chunk); returns (module or None, diagnostics)."""
    stage = {"where": ""}

    def before(name, module):
        stage["where"] = f"pass '{name}' failed"
        if args.print_ir_before_all:
            _dump("Before", name, module, args)

    def after(name, module):
        if args.verify_each:
            stage["where"] = f"verification failed after pass '{name}'"
            verify_module(module)
        if args.print_ir_after_all:
            _dump("After", name, module, args)

    with enter():
        try:
            module = ir.Module.parse(data)
        except Exception as e:  # noqa: BLE001
            return None, _diags(e)
        try:
            if args.pass_pipeline:
                run_pipeline(module, args.pass_pipeline, before_each=before, after_each=after)
                stage["where"] = "the output is not valid MLIR"
                module.operation.verify()  # as mlir-opt does: a pass must leave valid IR
        except Exception as e:  # noqa: BLE001  (any pass failure is reported, never a traceback)
            return None, _diags(e, stage["where"])
    return module, []


def _chunks(text: str, split: bool) -> list[str]:
    """Split on `// -----`; each chunk is padded with newlines so line numbers stay the file's."""
    if not split:
        return [text]
    out, start = [], 0
    for m in list(_SPLIT.finditer(text)) + [None]:
        end = m.start() if m else len(text)
        out.append("\n" * text.count("\n", 0, start) + text[start:end])
        start = m.end() if m else end
    return out


def _expected(text: str) -> list[list]:
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        for m in _EXPECTED.finditer(line):
            where = m.group(2)
            target = {None: i, "@above": i - 1, "@below": i + 1}.get(where)
            if target is None:
                target = i + int(where[1:])
            out.append([target, m.group(1), m.group(3), False])
    return out


def _check_diagnostics(name: str, text: str, diags: list[Diag]) -> list[str]:
    """Match produced errors with `expected-error` comments; returns the mismatches."""
    expected, problems = _expected(text), []
    for d in diags:
        for e in expected:
            if not e[3] and e[1] == "error" and e[2] in d.msg and (d.line is None or d.line == e[0]):
                e[3] = True
                break
        else:
            problems.append(_format(name, d._replace(msg=f"unexpected error: {d.msg}")))
    for line, kind, msg, seen in expected:
        if not seen:
            problems.append(f'{name}:{line}: error: expected {kind} "{msg}" was not produced')
    return problems


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="irjax-opt", description="Run irjax/MLIR pass pipelines over MLIR.")
    p.add_argument("input", nargs="?", default="-", help="input .mlir (text or bytecode); '-' = stdin")
    p.add_argument("-p", "--pass-pipeline", default="", help="e.g. 'grad{func=f},cse,lower-stablehlo'")
    p.add_argument("-o", dest="output", default="-", help="output file ('-' = stdout)")
    p.add_argument("--print-ir-after-all", action="store_true", help="print the IR after each pass (stderr)")
    p.add_argument("--print-ir-before-all", action="store_true", help="print the IR before each pass (stderr)")
    p.add_argument("--verify-each", action="store_true", help="run the jx verifier after each pass")
    p.add_argument("--split-input-file", action="store_true", help="process chunks split on '// -----'")
    p.add_argument("--verify-diagnostics", action="store_true", help="check errors against expected-error comments")
    p.add_argument("--mlir-print-op-generic", action="store_true", help="print every op in generic form")
    p.add_argument("--emit-bytecode", action="store_true", help="write MLIR bytecode instead of text")
    p.add_argument("--list-passes", action="store_true", help="list the irjax passes and exit")
    return p


def _list_passes() -> None:
    print("irjax passes (any other name is looked up among MLIR's passes, e.g. canonicalize):")
    for name, p in sorted(passes().items()):
        print(f"  {name:<16} {p.doc}")


def _read(path: str):
    data = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
    return data if data.startswith(_BYTECODE_MAGIC) else data.decode("utf-8")


def _write(path: str, modules: list, args) -> None:
    if args.emit_bytecode:

        def emit(out):
            for m in modules:
                m.operation.write_bytecode(out)
    else:
        text = "// -----\n".join(_asm(m, args) for m in modules)

        def emit(out):
            out.write(text)

    if path == "-":
        out = sys.stdout.buffer if args.emit_bytecode else sys.stdout
        emit(out)
        out.flush()
    else:
        write_atomic(path, emit, binary=args.emit_bytecode)  # a failed write keeps the old file


def _run(args) -> int:
    name = "<stdin>" if args.input == "-" else args.input
    try:
        data = _read(args.input)
    except OSError as e:
        print(f"irjax-opt: error: cannot read input file '{args.input}': {e.strerror}", file=sys.stderr)
        return 1
    except UnicodeDecodeError as e:
        print(f"{name}: error: input is neither UTF-8 text nor MLIR bytecode ({e.reason})", file=sys.stderr)
        return 1
    try:  # before any parsing: deep nesting or malformed bytecode would crash this process
        if not isinstance(data, str):
            data = bytecode_to_text(data, name)
        check_text(data, name)
    except InputError as e:
        print(e, file=sys.stderr)
        return 1
    try:
        _check_pipeline(args.pass_pipeline)
    except PipelineError as e:
        print(f"{name}: error: {e}", file=sys.stderr)
        return 1
    chunks = _chunks(data, args.split_input_file) if isinstance(data, str) else [data]
    if args.emit_bytecode and len(chunks) > 1:
        print(f"{name}: error: --emit-bytecode writes one module; drop --split-input-file", file=sys.stderr)
        return 1
    modules, ok = [], True
    for chunk in chunks:
        module, diags = _process(chunk, args)
        if args.verify_diagnostics:
            text = chunk if isinstance(chunk, str) else ""
            problems = _check_diagnostics(name, text, diags)
        else:
            problems = [_format(name, d) for d in diags]
        for line in problems:
            print(line, file=sys.stderr)
        ok = ok and not problems
        if module is not None:
            modules.append(module)
    if modules or ok:
        try:
            _write(args.output, modules, args)
        except OSError as e:
            print(f"irjax-opt: error: cannot write '{args.output}': {e.strerror}", file=sys.stderr)
            return 1
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.list_passes:
            _list_passes()
            return 0
        return _run(args)
    except BrokenPipeError:
        return 1
    except Exception as e:  # noqa: BLE001  (last resort: one line, no traceback)
        print(f"irjax-opt: internal error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
