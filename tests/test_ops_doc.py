"""docs/ops.md is generated from the registry and must match it (regenerate: python -m irjax.tools.ops_doc)."""

from conftest import REPO
from irjax.dialects import registry
from irjax.tools import ops_doc


def test_ops_md_is_current():
    on_disk = (REPO / "docs" / "ops.md").read_text()
    assert on_disk == ops_doc.render(), "docs/ops.md is stale: run python -m irjax.tools.ops_doc"


def test_every_op_listed_once_with_its_rules():
    text = ops_doc.render()
    prims = registry.all_primitives()
    for name, p in prims.items():
        rows = [ln for ln in text.splitlines() if ln.startswith(f"| `jx.{name}` |")]
        assert len(rows) == 1, name
        cells = [c.strip() for c in rows[0].split("|")[2 : 2 + len(ops_doc.RULES)]]
        assert cells == ["x" if getattr(p, r) is not None else "" for r in ops_doc.RULES], name


def test_probe_matches_infer():
    add = registry.get("add")
    assert "float32" in ops_doc.accepted_dtypes(add) and "bool" not in ops_doc.accepted_dtypes(add)
    assert "bool" in ops_doc.accepted_dtypes(registry.get("and"))
    assert "float32" not in ops_doc.accepted_dtypes(registry.get("and"))
    assert ops_doc.accepted_dtypes(registry.get("dot_general")) is None
