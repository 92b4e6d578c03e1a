"""The irjax import graph: function-local imports and import cycles, read with `ast` (nothing is imported).

`python scripts/import_graph.py [-v]` prints the count of function-local imports and the strongly
connected components (size > 1) of the graph of module-level AND function-local imports.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parent.parent

# Function-local imports that stay, each with why: (module, what it imports) -> reason. Their edges are
# left out of the cycle check (LATE_BOUND marks the two that point up the layering on purpose).
ALLOWED_LOCAL = {
    # late-bound upward references (the package's lazy facades work the same way)
    (
        "irjax.array_methods",
        "irjax.numpy",
    ): "Array operators are irjax.numpy functions (as JAX's); numpy sits above Array",
    # optional at run time: a runtime-only install has no compiler, and cache hits never need it
    ("irjax.runtime.compiler", "iree"): "iree.compiler is needed on a compile-cache miss only",
    ("irjax.runtime.compile_worker", "iree"): "iree.compiler is needed on a compile-cache miss only",
    ("irjax.runtime.compiler", "irjax.passes.target_fixups"): "passes load iree.compiler's MLIR bindings",
    ("irjax.runtime.compiler", "irjax.passes.limit_bindings"): "passes load iree.compiler's MLIR bindings",
    ("irjax.runtime.host_collectives", "mpi4py"): "optional dependency (the mpi extra), for multi-process jobs",
    # dialects/ and passes/ belong to other steps of issue 13 (their registries load families on first use)
    ("irjax.dialects.registry", "*"): "dialects: the registry loads every op family on first use",
    ("irjax.passes.registry", "*"): "passes: the registry loads every pass module on first use",
}
LATE_BOUND = {("irjax.array_methods", "irjax.numpy"), ("irjax.sharding", "irjax.placement")}


@dataclass
class LocalImport:
    """One import statement inside a function body."""

    module: str  # the module that holds it
    lineno: int
    targets: tuple[str, ...]  # package modules it reaches (empty for outside packages)
    names: tuple[str, ...]  # top-level names it imports from outside the package (e.g. "jax")
    source: str


@dataclass
class Graph:
    files: dict[str, Path] = field(default_factory=dict)  # module name -> file
    edges: dict[str, set[str]] = field(default_factory=dict)  # module -> modules it imports (anywhere)
    top_edges: dict[str, set[str]] = field(default_factory=dict)  # the same, module-level imports only
    local_imports: list[LocalImport] = field(default_factory=list)


def package_dirs(repo: Path = REPO) -> dict[str, Path]:
    """pyproject's [tool.setuptools.package-dir]: package name -> folder."""
    data = tomllib.loads((repo / "pyproject.toml").read_text())
    return {pkg: repo / d for pkg, d in data["tool"]["setuptools"]["package-dir"].items()}


def module_files(repo: Path = REPO) -> dict[str, Path]:
    """Every module of the package, by dotted name (a package is its __init__.py)."""
    dirs = package_dirs(repo)
    out = {}
    for pkg, d in dirs.items():
        for f in sorted(d.glob("*.py")):
            out[pkg if f.stem == "__init__" else f"{pkg}.{f.stem}"] = f
    return out


def _lazy_table(tree: ast.Module) -> dict[str, str]:
    """A package's `_LAZY = {"name": "module"}` table (its module __getattr__ loads these)."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_LAZY" for t in node.targets):
            try:
                return dict(ast.literal_eval(node.value))
            except ValueError:
                return {}
    return {}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module):
    """Yield (node, inside_function) for each import (and importlib.import_module("const") call);
    imports under `if TYPE_CHECKING:` are skipped: they never run."""

    def walk(node, in_func):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.orelse:
                    yield from walk_one(sub, in_func)
                continue
            yield from walk_one(child, in_func)

    def walk_one(child, in_func):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, in_func
        elif (
            isinstance(child, ast.Call)
            and isinstance(child.func, ast.Attribute)
            and child.func.attr == "import_module"
            and child.args
            and isinstance(child.args[0], ast.Constant)
            and isinstance(child.args[0].value, str)
        ):
            yield child, in_func
        yield from walk(child, in_func or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    yield from walk(tree, False)


def build(repo: Path = REPO) -> Graph:
    files = module_files(repo)
    trees = {m: ast.parse(f.read_text(), str(f)) for m, f in files.items()}
    lazy = {m: _lazy_table(t) for m, t in trees.items() if files[m].name == "__init__.py"}
    roots = {m.split(".")[0] for m in files}
    g = Graph(files=files, edges={m: set() for m in files}, top_edges={m: set() for m in files})

    def ancestors(name):
        parts = name.split(".")
        return [".".join(parts[:i]) for i in range(1, len(parts))]

    def reach(importer, target, attrs=()):
        """Package modules that importing `target` (and `from target import attrs`) executes."""
        out = []
        # importing a.b.c runs a and a.b first; packages that enclose the importer are already running
        mine = set(ancestors(importer)) | {importer}
        if target in files:
            out += [a for a in ancestors(target) if a in files and a not in mine]
            if target not in mine:
                out.append(target)
        for a in attrs:
            sub = f"{target}.{a}"
            if sub in files:
                out.append(sub)
            elif a in lazy.get(target, {}):
                out.append(lazy[target][a])  # resolved by the package's lazy __getattr__
            elif target in files:
                out.append(target)  # a name the package itself defines
        return out

    for mod, tree in trees.items():
        is_pkg = files[mod].name == "__init__.py"
        for node, in_func in _imports(tree):
            targets, names = [], []
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in roots:
                        targets += reach(mod, alias.name)
                    else:
                        names.append(alias.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module
                if target.split(".")[0] in roots:
                    targets += reach(mod, target, [a.name for a in node.names])
                else:
                    names.append(target.split(".")[0])
            else:  # importlib.import_module("irjax.x")
                target = node.args[0].value
                if target.split(".")[0] in roots:
                    targets += reach(mod, target)
                else:
                    names.append(target.split(".")[0])
            g.edges[mod].update(t for t in targets if t != mod)
            if not in_func:
                g.top_edges[mod].update(t for t in targets if t != mod)
            if in_func:
                src = ast.get_source_segment(files[mod].read_text(), node) or ""
                g.local_imports.append(
                    LocalImport(mod, node.lineno, tuple(dict.fromkeys(targets)), tuple(names), src.split("\n")[0])
                )
    return g


def allowed(li: LocalImport) -> bool:
    """Whether a function-local import is on ALLOWED_LOCAL: every module it names (not the packages
    that enclose them, which importing it runs too) and every outside package it names."""
    enclosing = {".".join(t.split(".")[:i]) for t in li.targets for i in range(1, t.count(".") + 1)}
    keys = [t for t in li.targets if t not in enclosing] + list(li.names)
    return bool(keys) and all((li.module, k) in ALLOWED_LOCAL or (li.module, "*") in ALLOWED_LOCAL for k in keys)


def layered_edges(g: Graph) -> dict[str, set[str]]:
    """The import graph without the edges of allowed function-local imports."""
    edges = {m: set(e) for m, e in g.top_edges.items()}
    for li in g.local_imports:
        if not allowed(li):
            edges[li.module].update(t for t in li.targets if t != li.module)
    return edges


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative); components of size > 1, largest first, each sorted."""
    index, low, on, stack, comps = {}, {}, set(), [], []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in edges:
                    continue
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w]))))
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        comps.append(sorted(comp))
    return sorted(comps, key=lambda c: (-len(c), c))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="list each function-local import")
    args = ap.parse_args(argv)
    g = build()
    print(f"modules: {len(g.files)}")
    print(f"function-local imports: {len(g.local_imports)}")
    if args.verbose:
        for li in g.local_imports:
            print(f"  {li.module}:{li.lineno}: {li.source}")
    print(f"  of them not on ALLOWED_LOCAL: {sum(not allowed(li) for li in g.local_imports)}")
    for title, edges in (("all imports", g.edges), ("without ALLOWED_LOCAL's", layered_edges(g))):
        comps = strongly_connected(edges)
        print(f"import cycles, {title} (strongly connected components of size > 1): {len(comps)}")
        for c in comps:
            print(f"  [{len(c)}] " + " ".join(c))
    return 0


if __name__ == "__main__":
    sys.exit(main())
