"""Writes docs/ops.md from the op registry: every jx op, its family, which rules its record
has, the dtypes its result-type rule accepts (elementwise families, probed) and where it lowers.

python -m irjax.tools.ops_doc [docs/ops.md]      (tests/test_ops_doc.py checks the file is current)
"""

from __future__ import annotations

import sys
from pathlib import Path

import ml_dtypes
import numpy as np
from irjax.dialects import registry
from irjax.dialects.registry import ShapedType

from .atomic import write_atomic

RULES = ("impl", "lower", "jvp", "vjp", "batch", "verify")
PROBE_DTYPES = ("bool", "int8", "int16", "int32", "uint8", "uint16", "uint32", "float16", "bfloat16", "float32")
# families whose records take n operands of one shape and no required attributes
ARITY = {"unary": 1, "binary": 2}


def _dtype(name: str) -> np.dtype:
    return np.dtype(ml_dtypes.bfloat16) if name == "bfloat16" else np.dtype(name)


def accepted_dtypes(prim: registry.Primitive) -> list[str] | None:
    """Dtypes for which the op's infer rule accepts same-dtype operands; None when not probed."""
    n = ARITY.get(prim.family)
    if n is None:
        return None
    ok = []
    for name in PROBE_DTYPES:
        aval = ShapedType((2,), _dtype(name))
        try:
            prim.infer(*([aval] * n))
        except Exception:  # noqa: BLE001  (a refusal is what the probe looks for)
            continue
        ok.append(name)
    return ok


def _where(fn) -> str:
    if fn is None:
        return ""
    mod = getattr(fn, "__module__", "") or ""
    return mod.replace("irjax.", "").replace(".", "/") + ".py" if mod else ""


def render() -> str:
    prims = registry.all_primitives()
    lines = [
        "# jx ops",
        "",
        "Generated from the op registry by `python -m irjax.tools.ops_doc`; do not edit by hand",
        "(tests/test_ops_doc.py fails when this file is stale). One record per op",
        "(`dialects/registry.py: Primitive`): rules present, the dtypes its result-type rule",
        "accepts (probed for the unary and binary families), and the module of its lowering.",
        "",
        f"{len(prims)} ops.",
        "",
    ]
    by_family: dict[str, list] = {}
    for p in prims.values():
        by_family.setdefault(p.family or "other", []).append(p)
    for family in sorted(by_family):
        lines += [f"## {family}", "", "| op | " + " | ".join(RULES) + " | dtypes | lowering | what |"]
        lines.append("|---" * (len(RULES) + 4) + "|")
        for p in sorted(by_family[family], key=lambda p: p.name):
            marks = ["x" if getattr(p, r) is not None else "" for r in RULES]
            dts = accepted_dtypes(p)
            dts_s = "see record" if dts is None else (", ".join(dts) if dts else "none")
            what = (p.doc or "").replace("|", "\\|").splitlines()[0] if p.doc else ""
            extra = f" (calls: {', '.join(p.callee_attrs)})" if p.callee_attrs else ""
            lines.append(
                f"| `jx.{p.name}` | " + " | ".join(marks) + f" | {dts_s} | {_where(p.lower)} | {what}{extra} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "docs" / "ops.md"
    text = render()
    write_atomic(str(out), lambda f: f.write(text.encode()))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
