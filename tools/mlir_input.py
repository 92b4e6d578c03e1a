"""Checks on user-supplied MLIR before the in-process parser sees it: the parser recurses once
per nesting level and crashes the process on deep input, and malformed bytecode can abort it."""

from __future__ import annotations

import re
import subprocess
import sys

BYTECODE_MAGIC = b"ML\xefR"
MAX_NESTING = 500  # brackets/regions/types; real IR stays far below, the parser crashed near 10^4
_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|->|[(\[{<]|[)\]}>]')
_OPEN = frozenset("([{<")


class InputError(ValueError):
    """The input cannot be handed to the MLIR parser safely."""


def nesting_depth(text: str) -> tuple[int, int]:
    """(deepest bracket nesting, line where it is reached) of MLIR text, skipping string
    literals, comments and the `->` arrow."""
    depth = best = 0
    at = 0
    for m in _TOKENS.finditer(text):
        tok = m.group()
        if len(tok) == 1:
            if tok in _OPEN:
                depth += 1
                if depth > best:
                    best, at = depth, m.start()
            elif depth:
                depth -= 1
    return best, text.count("\n", 0, at) + 1


def check_text(text: str, name: str) -> None:
    depth, line = nesting_depth(text)
    if depth > MAX_NESTING:
        raise InputError(
            f"{name}:{line}: error: nesting too deep ({depth} levels of brackets or regions; "
            f"irjax accepts at most {MAX_NESTING}): refused before parsing (it would crash the MLIR parser)"
        )


_CHILD = """
import sys
from iree.compiler import ir
ctx = ir.Context()
ctx.allow_unregistered_dialects = True
try:
    module = ir.Module.parse(sys.stdin.buffer.read(), ctx)
except Exception as e:
    diags = getattr(e, "error_diagnostics", None) or []
    msgs = [d.message for d in diags] or [str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__]
    sys.stderr.write("\\n".join(m.replace("\\n", " ") for m in msgs) + "\\n")
    sys.stderr.flush()
    sys.exit(2)


def touch(op):
    # every string later code may read: bytes that are not UTF-8 abort nanobind's conversion
    op = op.operation
    op.name, str(op.location)
    for i in range(len(op.attributes)):
        named = op.attributes[i]
        named.name, str(named.attr)
        a = named.attr.maybe_downcast() if hasattr(named.attr, "maybe_downcast") else named.attr
        if isinstance(a, (ir.StringAttr, ir.FlatSymbolRefAttr)):
            a.value
    for r in op.results:
        str(r.type)
    for region in op.regions:
        for block in region.blocks:
            for arg in block.arguments:
                str(arg.type)
    return ir.WalkResult.ADVANCE


module.operation.walk(touch)
sys.stdout.write(module.operation.get_asm(print_generic_op_form=True))
sys.stdout.flush()
"""


def bytecode_to_text(data: bytes, name: str) -> str:
    """MLIR bytecode as (generic) MLIR text, read in a child process: a damaged file can abort
    the bytecode reader, corrupt the heap on a failed read, or hold names that are not UTF-8
    (which abort the bindings later). The text goes on to the ordinary, checked text path."""
    try:
        p = subprocess.run([sys.executable, "-c", _CHILD], input=data, capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        raise InputError(f"{name}: error: the MLIR bytecode reader did not finish in 300 s") from None
    if p.returncode == 2:
        msgs = p.stderr.decode("utf-8", "replace").strip().splitlines() or ["cannot read the MLIR bytecode"]
        raise InputError("\n".join(f"{name}: error: {m}" for m in msgs))
    if p.returncode != 0:
        why = f"signal {-p.returncode}" if p.returncode < 0 else f"exit status {p.returncode}"
        raise InputError(f"{name}: error: malformed MLIR bytecode (the MLIR bytecode reader crashed on it: {why})")
    try:
        return p.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{name}: error: malformed MLIR bytecode (it holds names that are not UTF-8)") from None
