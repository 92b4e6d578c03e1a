"""Imports run one way: no function-local imports outside scripts/import_graph.py's ALLOWED_LOCAL,
no import cycle beyond the frozen remainder below, and every module imports first in a fresh process."""

import ast
import importlib.util
import subprocess
import sys

import pytest
from conftest import REPO

_spec = importlib.util.spec_from_file_location("import_graph", REPO / "scripts" / "import_graph.py")
ig = sys.modules.setdefault("import_graph", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(ig)

GRAPH = ig.build()
LAYERED = ig.layered_edges(GRAPH)

# No cycle is left (irjax.numpy's modules import downward: ufuncs < reductions < creation <
# indexing < shape, products, ... < linalg < polynomial < the package); a new one fails this test.
REMAINING_CYCLES: set = set()


def _reach(edges, start):
    seen, todo = set(), [start]
    while todo:
        for t in edges.get(todo.pop(), ()):
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def test_graph_sees_the_package():
    # a blind graph would pass everything below: it must know the modules and their imports
    assert {"irjax.lax", "irjax.numpy", "irjax.numpy.ufuncs", "irjax.dialects.registry", "irjax.tools.opt"} <= set(
        GRAPH.files
    )
    assert "irjax.core" in GRAPH.top_edges["irjax.lax"] and "irjax.lax" in GRAPH.top_edges["irjax.numpy.linalg"]
    assert ("irjax.array_methods", "irjax.numpy") in {(li.module, t) for li in GRAPH.local_imports for t in li.targets}


def test_no_function_local_imports_outside_the_allow_list():
    bad = [f"{li.module}:{li.lineno}: {li.source}" for li in GRAPH.local_imports if not ig.allowed(li)]
    assert not bad, "function-local imports (move them to module level, or layer the modules):\n" + "\n".join(bad)


def test_allow_list_has_no_stale_entries():
    used = set()
    for li in GRAPH.local_imports:
        keys = [(li.module, k) for k in (*li.targets, *li.names)] + [(li.module, "*")]
        used.update(k for k in keys if k in ig.ALLOWED_LOCAL)
    assert set(ig.ALLOWED_LOCAL) - used == set()


def test_cycles_are_only_the_frozen_remainder():
    assert {frozenset(c) for c in ig.strongly_connected(LAYERED)} == REMAINING_CYCLES


def test_layers_run_one_way():
    frontend = {
        m for m in GRAPH.files if not m.startswith(("irjax.dialects", "irjax.passes", "irjax.runtime", "irjax.tools"))
    }
    for m, targets in GRAPH.edges.items():  # every import, function-local ones too
        if m.startswith(("irjax.dialects", "irjax.passes", "irjax.runtime")):
            assert not (targets & (frontend - {"irjax"})), f"{m} imports the frontend: {sorted(targets & frontend)}"
    assert not {t for t in _reach(LAYERED, "irjax.lax") if t.startswith("irjax.numpy")}, "lax must sit below numpy"
    # within irjax.numpy, as JAX layers it: ufuncs < reductions < creation < indexing < the rest
    below = {"irjax.numpy.ufuncs": set(), "irjax.numpy.reductions": {"ufuncs"}, "irjax.numpy.creation": {"ufuncs"}}
    below["irjax.numpy.indexing"] = {"ufuncs", "reductions", "creation"}
    for m, allowed in below.items():
        reached = {t.removeprefix("irjax.numpy.") for t in _reach(LAYERED, m) if t.startswith("irjax.numpy")}
        assert reached <= allowed | {"_util"}, f"{m} imports {sorted(reached - allowed - {'_util'})}"
    below_dispatch = ("irjax.core", "irjax.array", "irjax.lazy", "irjax.array_methods")
    for m in below_dispatch:
        assert "irjax.dispatch" not in _reach(LAYERED, m), f"{m} must not import dispatch (it registers itself)"


def _from_core(path, names=("bind",)):
    """The names of `names` that the module imports from irjax.core (or reads as core.<name>)."""
    tree = ast.parse(path.read_text())
    found = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.module in ("core", "irjax.core"):
            found.update(a.name for a in n.names if a.name in names)
        elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "core":
            found.update({n.attr} & set(names))
    return found


def test_modules_that_bind_load_dispatch():
    # core.bind runs eager ops through dispatch, which registers itself: every binder must load it
    binders = [m for m, f in GRAPH.files.items() if m != "irjax.dispatch" and _from_core(f)]
    assert "irjax.lax" in binders
    missing = [m for m in binders if "irjax.dispatch" not in _reach(GRAPH.top_edges, m)]
    assert not missing, f"these call core.bind without loading irjax.dispatch: {missing}"


def test_numpy_emits_through_lax():
    # irjax.lax is the one user-level op layer: irjax.numpy binds no op itself (no core.bind, no core.jx)
    assert _from_core(GRAPH.files["irjax.lax"], ("bind", "jx")) == {"bind", "jx"}  # the check sees them
    emitters = {m: _from_core(f, ("bind", "jx")) for m, f in GRAPH.files.items() if m.startswith("irjax.numpy")}
    assert {m: n for m, n in emitters.items() if n} == {}
    assert "irjax.lax" in GRAPH.top_edges["irjax.numpy.ufuncs"]


def _fresh(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


# import order must not matter: each of these first, alone, in a new process, then a computation
FIRST = {
    "irjax.lax": "import irjax.lax as lax; print(float(lax.round(2.5)), float(lax.add(1.0, 2.0) + 1))",
    "irjax.numpy.sorting": "import irjax.numpy.sorting as s; print(s.sort([2, 1]).tolist())",
    "irjax.runtime": "import sys, irjax.runtime; print(sorted(m for m in ('irjax.core', 'irjax.numpy') if m in sys.modules))",
}
EXPECTED = {
    "irjax.lax": "3.0 4.0",
    "irjax.numpy.sorting": "[1, 2]",
    "irjax.runtime": "[]",  # the runtime stays light: no tracer, no numpy API
}


@pytest.mark.parametrize("module", sorted(FIRST))
def test_module_imports_first_in_a_fresh_process(module):
    r = _fresh(FIRST[module])
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == EXPECTED[module]


# Each module of the package first: one process loads the third-party packages (numpy, IREE), then
# forks a child per module, whose irjax state is new (no irjax module loaded), and imports it.
_EACH_FIRST = """
import importlib, os, sys
import numpy, ml_dtypes, iree.runtime, iree.compiler.ir  # noqa: F401
assert not [m for m in sys.modules if m.startswith("irjax")]
for m in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(m)
            os._exit(0)
        except BaseException as e:
            print(m, repr(e)[:300], flush=True)
            os._exit(1)
    os.waitpid(pid, 0)
"""


@pytest.mark.slow
def test_every_module_imports_first_in_a_fresh_process():
    r = subprocess.run(
        [sys.executable, "-c", _EACH_FIRST, *sorted(GRAPH.files)], capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0 and not r.stdout.strip(), r.stdout + r.stderr[-2000:]
