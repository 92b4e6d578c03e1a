"""Pass registry and text pipelines: "grad{func=f},cse,lower-stablehlo".

A pass is `fn(module, **options) -> None` that rewrites the module in place.
MLIR's own passes (canonicalize, cse-mlir → `cse` is ours) run through the PassManager
when a name is not an irjax pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from irjax.dialects.mlir import enter, ir, passmanager


@dataclass
class Pass:
    name: str
    fn: Callable
    doc: str
    example: str = ""


_PASSES: dict[str, Pass] = {}


def register_pass(name: str, doc: str, example: str = ""):
    def deco(fn):
        _PASSES[name] = Pass(name, fn, doc, example)
        return fn

    return deco


def passes() -> dict[str, Pass]:
    _ensure_loaded()
    return dict(_PASSES)


_loaded = False


def _ensure_loaded():
    global _loaded
    if not _loaded:
        _loaded = True
        from . import cleanup, lower_stablehlo, verify, autodiff, batching, target_fixups  # noqa: F401


class PipelineError(ValueError):
    pass


def parse_pipeline(text: str) -> list[tuple[str, dict]]:
    """'a{x=1 y=f},b' -> [('a', {'x': '1', 'y': 'f'}), ('b', {})]."""
    out, i, text = [], 0, text.strip()
    if text.startswith("builtin.module(") and text.endswith(")"):
        text = text[len("builtin.module(") : -1]
    while i < len(text):
        m = re.compile(r"\s*([A-Za-z0-9_.\-]+)\s*").match(text, i)
        if not m:
            raise PipelineError(f"bad pass pipeline near {text[i:]!r}")
        name, i = m.group(1), m.end()
        opts = {}
        if i < len(text) and text[i] == "{":
            j = _matching(text, i)
            for part in _split_opts(text[i + 1 : j]):
                if "=" not in part:
                    opts[part.strip()] = "true"
                else:
                    k, v = part.split("=", 1)
                    opts[k.strip()] = v.strip()
            i = j + 1
        out.append((name, opts))
        while i < len(text) and text[i] in ", ":
            i += 1
    return out


def _matching(text, i):
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1, "[": 1, "]": -1}.get(text[j], 0)
        if depth == 0:
            return j
    raise PipelineError(f"unbalanced braces in {text!r}")


def _split_opts(s):
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == " " and depth == 0:  # options are space-separated; commas separate list items
            if cur.strip():
                parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def run_pipeline(module: ir.Module, pipeline: str, *, verify_each=False, after_each: Callable | None = None, before_each: Callable | None = None) -> None:
    _ensure_loaded()
    for name, opts in parse_pipeline(pipeline):
        if before_each:
            before_each(name, module)
        run_pass(module, name, opts)
        if verify_each:
            from .verify import verify_module

            verify_module(module)
        if after_each:
            after_each(name, module)


def run_pass(module, name, opts=None):
    _ensure_loaded()
    opts = dict(opts or {})
    p = _PASSES.get(name)
    if p is not None:
        p.fn(module, **{k.replace("-", "_"): v for k, v in opts.items()})
        return
    # fall back to MLIR's own passes
    spec = name + ("{" + " ".join(f"{k}={v}" for k, v in opts.items()) + "}" if opts else "")
    with enter():
        try:
            pm = passmanager.PassManager.parse(f"builtin.module({spec})")
        except Exception as e:  # noqa: BLE001  (MLIR raises a plain error for unknown passes)
            raise PipelineError(f"unknown pass '{name}' (see irjax-opt --list-passes)") from e
        pm.run(module.operation)
