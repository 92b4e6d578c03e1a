"""Pass registry and text pipelines: "grad{func=f},cse,lower-stablehlo".

A pass is a `Pass` record: a function `fn(module, **options)` that rewrites the module in
place, its declared `Option`s (typed, parsed and checked before the pass runs: an unknown or
malformed option is a `PipelineError`), a one-line doc and a runnable before/after `Example`.
Names that are not irjax passes go to MLIR's own PassManager (canonicalize, symbol-dce, ...).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from irjax.dialects.mlir import enter, ir, passmanager
from irjax.dialects.registry import LoadOnce


class PipelineError(ValueError):
    """A pipeline names an unknown pass, or gives a pass an unknown or malformed option."""


_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_.$\-]*\Z")
_TRUE, _FALSE = ("true", "1", "on", "yes"), ("false", "0", "off", "no")


def _items(text: str) -> list[str]:
    return [p for p in str(text).strip().strip("[]()").replace(",", " ").split() if p]


def _parse_symbol(text):
    if not _SYMBOL.match(text):
        raise ValueError("a function name (letters, digits, _ . $ -)")
    return text


def _parse_bool(text):
    if text.lower() not in _TRUE + _FALSE:
        raise ValueError("true or false")
    return text.lower() in _TRUE


def _parse_int(text):
    try:
        return int(text)
    except ValueError:
        raise ValueError("an integer") from None


def _parse_ints(text):
    try:
        return tuple(int(p) for p in _items(text))
    except ValueError:
        raise ValueError("a comma-separated list of integers, e.g. 0,1") from None


def _parse_dims(text):
    """Batch dims: integers or none (n, -1) for an unbatched argument."""
    out = []
    for p in _items(text):
        if p.lower() in ("none", "n", "-1"):
            out.append(None)
            continue
        try:
            out.append(int(p))
        except ValueError:
            raise ValueError("a comma-separated list of axes or none, e.g. 0,none") from None
    return tuple(out)


_KINDS: dict[str, Callable] = {
    "symbol": _parse_symbol,
    "bool": _parse_bool,
    "int": _parse_int,
    "ints": _parse_ints,
    "dims": _parse_dims,
}
REQUIRED = object()


@dataclass(frozen=True)
class Option:
    """One declared pass option: `name` as spelled in pipelines (dashes), a kind from _KINDS."""

    name: str
    kind: str
    default: object = None
    doc: str = ""

    def parse(self, pass_name: str, text: str):
        try:
            return _KINDS[self.kind](text)
        except ValueError as e:
            raise PipelineError(f"pass '{pass_name}': option '{self.name}' expects {e}, got {text!r}") from None


@dataclass(frozen=True)
class Example:
    """A runnable example: `pipeline` over `before` prints IR containing `after` lines in order."""

    pipeline: str
    before: str
    after: tuple[str, ...]


@dataclass(frozen=True)
class Pass:
    """A registered pass; `register_pass` checks it is complete (example, options = keywords)."""

    name: str
    fn: Callable
    doc: str
    example: Example | None = None
    options: tuple[Option, ...] = field(default_factory=tuple)

    def parse_options(self, opts: dict[str, str]) -> dict:
        """Typed keyword arguments for `fn`; PipelineError on unknown, missing or bad options."""
        known = {o.name: o for o in self.options}
        for k in opts:
            if k.replace("_", "-") not in known:
                raise PipelineError(f"pass '{self.name}' has no option '{k}' (usage: {self.usage()})")
        kwargs = {}
        given = {k.replace("_", "-"): v for k, v in opts.items()}
        for o in self.options:
            if o.name in given:
                kwargs[o.name.replace("-", "_")] = o.parse(self.name, given[o.name])
            elif o.default is REQUIRED:
                raise PipelineError(f"pass '{self.name}' needs option '{o.name}' ({o.doc or o.kind})")
            else:
                kwargs[o.name.replace("-", "_")] = o.default
        return kwargs

    def usage(self) -> str:
        """`name{option=<kind> ...}`, required options first (for --list-passes and errors)."""
        opts = sorted(self.options, key=lambda o: o.default is not REQUIRED)
        inner = " ".join(f"{o.name}=<{o.kind}>" for o in opts)
        return f"{self.name}{{{inner}}}" if inner else self.name

    def run(self, module: ir.Module, opts: dict[str, str] | None = None) -> None:
        self.fn(module, **self.parse_options(dict(opts or {})))


_PASSES: dict[str, Pass] = {}


def register_pass(name: str, doc: str, example: Example | None = None, options=()):
    """Decorator: register `fn(module, **options)` as pass `name` with declared options."""

    def deco(fn):
        if name in _PASSES:
            raise ValueError(f"pass {name} registered twice")
        _check_declared(name, fn, example, tuple(options))
        _PASSES[name] = Pass(name, fn, doc, example, tuple(options))
        return fn

    return deco


def _check_declared(name: str, fn: Callable, example: Example | None, options: tuple) -> None:
    """A pass is registered complete: a runnable example, and its options declared exactly as
    `fn`'s keyword parameters (so the driver can check every option before a pass runs)."""
    if not isinstance(example, Example):
        raise ValueError(f"pass {name} needs an Example (pipeline, IR before, lines after)")
    for o in options:
        if not isinstance(o, Option) or o.kind not in _KINDS:
            raise ValueError(f"pass {name}: option {o!r} must be an Option of kind {', '.join(_KINDS)}")
    params = list(inspect.signature(fn).parameters)[1:]  # (the first is the module)
    declared = [o.name.replace("-", "_") for o in options]
    if sorted(params) != sorted(declared):
        raise ValueError(f"pass {name}: declared options {declared} differ from the function's keywords {params}")


def passes() -> dict[str, Pass]:
    _ensure_loaded()
    return dict(_PASSES)


def _import_passes():
    from . import (  # noqa: F401  (each module registers its passes)
        autodiff,
        batching,
        cleanup,
        generalize_shapes,
        limit_bindings,
        lower_stablehlo,
        target_fixups,
        verify,
    )


_ensure_loaded = LoadOnce(_import_passes)


_NAME = re.compile(r"\s*([A-Za-z0-9_.\-]+)\s*")
_OPT_START = re.compile(r",\s*(?=[A-Za-z_][A-Za-z0-9_\-]*\s*=)")


def parse_pipeline(text: str) -> list[tuple[str, dict]]:
    """'a{x=1 y=f},b' -> [('a', {'x': '1', 'y': 'f'}), ('b', {})].

    Options are space-separated as in MLIR; a comma directly before `name=` also separates
    options (`grad{func=f,argnums=1}`), other commas separate list items (`in-axes=0,none`).
    """
    out, i, text = [], 0, text.strip()
    if text.startswith("builtin.module(") and text.endswith(")"):
        text = text[len("builtin.module(") : -1]
    while i < len(text):
        m = _NAME.match(text, i)
        if not m:
            raise PipelineError(f"bad pass pipeline near {text[i:]!r}")
        name, i = m.group(1), m.end()
        opts = {}
        if i < len(text) and text[i] == "{":
            j = _matching(text, i)
            for part in _split_opts(text[i + 1 : j]):
                for item in _OPT_START.split(part):
                    k, eq, v = item.partition("=")
                    opts[k.strip()] = v.strip() if eq else "true"
            i = j + 1
        out.append((name, opts))
        if i < len(text) and text[i] not in ", ":
            raise PipelineError(f"bad pass pipeline near {text[i:]!r}")
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
        if ch == " " and depth == 0:
            if cur.strip():
                parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def check_pipeline(pipeline: str) -> list[tuple[Pass | None, dict]]:
    """Parse and check every irjax pass's options before any runs (MLIR passes: None)."""
    _ensure_loaded()
    steps = []
    for name, opts in parse_pipeline(pipeline):
        p = _PASSES.get(name)
        if p is not None:
            p.parse_options(opts)
        steps.append((p, opts))
    return steps


def run_pipeline(
    module: ir.Module,
    pipeline: str,
    *,
    verify_each=False,
    after_each: Callable | None = None,
    before_each: Callable | None = None,
) -> None:
    steps = check_pipeline(pipeline)  # a bad option fails before the module is touched
    names = [n for n, _ in parse_pipeline(pipeline)]
    for name, (_, opts) in zip(names, steps):
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
        p.run(module, opts)
        return
    # fall back to MLIR's own passes
    spec = name + ("{" + " ".join(f"{k}={v}" for k, v in opts.items()) + "}" if opts else "")
    with enter():
        try:
            pm = passmanager.PassManager.parse(f"builtin.module({spec})")
        except Exception as e:
            raise PipelineError(f"unknown pass '{name}' (see irjax-opt --list-passes)") from e
        pm.run(module.operation)
