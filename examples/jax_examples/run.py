"""Run one of JAX's own example programs unchanged, on irjax or on JAX.

    python examples/jax_examples/run.py mnist_classifier --backend irjax \
        --set num_epochs=1 --set batch_size=64 [-- program flags]

The program file is read from ../shared/peer/jax-examples (or $IRJAX_JAX_EXAMPLES) and is
never edited or copied. Under --backend irjax an import hook serves `jax` and every
`jax.<sub>` as `irjax` / `irjax.<sub>`; `examples.datasets` is the synthetic MNIST in
datasets.py beside this file. --set NAME=VALUE replaces the value of a top-level or
`__main__`-block assignment `NAME = ...`, and --set FUNC.ARG=VALUE the default of ARG
in `def FUNC`, and --set 'range(N)=M' every literal `range(N)` loop bound, in the parsed
source before it runs (to shorten epochs and steps).
NumPy's global RNG is seeded with 0 first, so programs that draw from it are repeatable.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.abc
import importlib.util
import os
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DIR = HERE.parents[2] / "shared" / "peer" / "jax-examples"  # ../shared from the repo


class _JaxAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves `jax[.sub]` as the already-importable `irjax[.sub]` module object."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "jax" or fullname.startswith("jax."):
            target_name = "irjax" + fullname[3:]
            if importlib.util.find_spec(target_name) is None:
                return None  # -> ModuleNotFoundError: No module named 'jax.<sub>'
            return importlib.util.spec_from_loader(fullname, self, origin=target_name)
        return None

    def create_module(self, spec):
        return importlib.import_module(spec.origin)

    def exec_module(self, module):
        pass  # the irjax module is already executed


def install_jax_alias() -> None:
    if any(isinstance(f, _JaxAlias) for f in sys.meta_path):
        return
    for name in [n for n in sys.modules if n == "jax" or n.startswith("jax.")]:
        del sys.modules[name]
    sys.meta_path.insert(0, _JaxAlias())


def install_datasets() -> None:
    """`from examples import datasets` -> the synthetic MNIST module beside this file."""
    spec = importlib.util.spec_from_file_location("examples.datasets", HERE / "datasets.py")
    datasets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(datasets)
    pkg = types.ModuleType("examples")
    pkg.__path__ = []
    pkg.datasets = datasets
    sys.modules["examples"] = pkg
    sys.modules["examples.datasets"] = datasets


class _Patcher(ast.NodeTransformer):
    def __init__(self, patches: dict[str, object]):
        self.patches = patches
        self.used: set[str] = set()

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in self.patches:
                self.used.add(name)
                node.value = ast.copy_location(ast.Constant(self.patches[name]), node.value)
                return node
        self.generic_visit(node)  # a range(N) inside the assigned value
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        if (
            isinstance(node.func, ast.Name)
            and node.func.id == "range"
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Constant)
            and not node.keywords
        ):
            key = f"range({node.args[0].value!r})"
            if key in self.patches:
                self.used.add(key)
                node.args[0] = ast.copy_location(ast.Constant(self.patches[key]), node.args[0])
        self.generic_visit(node)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        args = node.args
        positional = args.posonlyargs + args.args
        defaults = dict(
            zip([a.arg for a in positional[len(positional) - len(args.defaults) :]], range(len(args.defaults)))
        )
        for key, value in self.patches.items():
            func, _, arg = key.partition(".")
            if func == node.name and arg in defaults:
                args.defaults[defaults[arg]] = ast.Constant(value)
                self.used.add(key)
        self.generic_visit(node)
        return node


def load_program(path: Path, patches: dict[str, object]):
    """Parse the program, apply the --set patches, compile; unknown patches are an error."""
    tree = ast.parse(path.read_text(), filename=str(path))
    patcher = _Patcher(patches)
    tree = ast.fix_missing_locations(patcher.visit(tree))
    unused = set(patches) - patcher.used
    if unused:
        raise SystemExit(f"--set names not found in {path.name}: {sorted(unused)}")
    return compile(tree, str(path), "exec")


def _parse_set(item: str) -> tuple[str, object]:
    name, sep, value = item.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--set expects NAME=VALUE, got {item!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    prog_args: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, prog_args = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("example", help="program name, e.g. mnist_classifier")
    ap.add_argument("--backend", choices=("irjax", "jax"), default="irjax")
    ap.add_argument("--set", dest="patches", action="append", type=_parse_set, default=[])
    ap.add_argument("--dir", default=os.environ.get("IRJAX_JAX_EXAMPLES", str(DEFAULT_DIR)))
    args = ap.parse_args(argv)

    path = Path(args.dir) / f"{args.example}.py"
    if not path.is_file():
        raise SystemExit(f"no example program {path}")
    os.environ.setdefault("MPLBACKEND", "Agg")  # the programs plot; nothing is shown
    if args.backend == "irjax":
        install_jax_alias()
    install_datasets()
    code = load_program(path, dict(args.patches))

    import numpy as np

    # the framework's own import-time work comes before the seed: `import jax` draws from
    # NumPy's global RNG, so seeding first gave the two backends different data
    importlib.import_module("jax")
    np.random.seed(0)
    sys.argv = [str(path)] + prog_args
    namespace = {"__name__": "__main__", "__file__": str(path), "__builtins__": __builtins__}
    exec(code, namespace)


if __name__ == "__main__":
    main()
