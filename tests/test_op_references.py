"""Code names ops through their records (`jx.<op>`), never by a string passed to bind: a typo'd or
removed op is then caught here, statically, instead of at the first call that reaches it."""

import ast

import irjax.dispatch  # noqa: F401  (registers eager execution for core.bind / core.jx)
import irjax.lax as lax
import pytest
from conftest import REPO
from irjax.core import jx as frontend_jx
from irjax.dialects import lang, registry
from irjax.dialects.emitters import attr_name, op_name

SOURCES = sorted(p for d in ("frontend", "dialects", "passes", "runtime", "tools") for p in (REPO / d).rglob("*.py"))


def _trees():
    for path in SOURCES:
        yield path, ast.parse(path.read_text(), str(path))


def test_sources_found():
    assert len(SOURCES) > 50


def test_no_op_named_by_string_in_bind():
    found = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            first = node.args[0]
            if name == "bind" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(f"{path.relative_to(REPO)}:{node.lineno}: bind({first.value!r}, ...)")
    assert not found, "use jx.<op>(...) instead:\n" + "\n".join(found)


def test_every_jx_reference_is_a_registered_op():
    ops = registry.all_primitives()
    bad, seen = [], 0
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "jx":
                seen += 1
                if op_name(node.attr) not in ops:
                    bad.append(f"{path.relative_to(REPO)}:{node.lineno}: jx.{node.attr}")
    assert seen > 200  # the scan sees the code's op references (234 once irjax.numpy emitted through lax)
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("ns", [frontend_jx, lang.jx])
def test_namespace_covers_the_registry_and_rejects_unknown_names(ns):
    names = set(registry.all_primitives())
    assert set(dir(ns)) == {attr_name(n) for n in names}
    assert ns.and_.__name__ == "and_"
    with pytest.raises(AttributeError, match="no jx op named 'nonexistent_op'"):
        ns.nonexistent_op  # noqa: B018
    with pytest.raises(AttributeError):
        ns.and_x  # noqa: B018


def test_keyword_names_round_trip():
    for n in registry.all_primitives():
        assert op_name(attr_name(n)) == n


def test_frontend_namespace_runs_eagerly_and_traces():
    import irjax
    import numpy as np

    x = np.arange(4, dtype=np.float32)
    np.testing.assert_allclose(np.asarray(frontend_jx.add(x, x)), 2 * x)
    np.testing.assert_array_equal(np.asarray(frontend_jx.and_(x > 1, x < 3)), (x > 1) & (x < 3))
    np.testing.assert_allclose(np.asarray(irjax.jit(lambda v: frontend_jx.mul(v, v))(x)), x * x)


def test_lax_and_lang_wrappers_come_from_the_registry():
    renamed = {"popcnt": "population_count", "and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor"}
    for prim in registry.all_primitives().values():
        if prim.family in ("unary", "binary"):
            assert callable(getattr(lang, attr_name(prim.name)))
            if prim.name not in ("not", "round", "integer_pow"):  # lax has its own signatures for these
                assert getattr(lax, renamed.get(prim.name, prim.name)).__name__ == renamed.get(prim.name, prim.name)
    with pytest.raises(AttributeError):
        lang.reshape_nonexistent  # noqa: B018
