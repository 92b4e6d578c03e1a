"""Ahead-of-time stages: ShapeDtypeStruct, Lowered (.as_text, .compile), Compiled."""

from __future__ import annotations

import numpy as np
from irjax.dialects.func import parse_module
from irjax.dialects.mlir import enter
from irjax.passes.registry import run_pipeline

from . import tree_util
from .core import ShapedArray, aval_of, locked
from .dispatch import compile_function, execute


class ShapeDtypeStruct:
    def __init__(self, shape, dtype, sharding=None, weak_type=False):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.weak_type = weak_type

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def aval(self):
        return ShapedArray(self.shape, self.dtype, self.weak_type)

    def __repr__(self):
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name})"

    def __eq__(self, other):
        return isinstance(other, ShapeDtypeStruct) and (self.shape, self.dtype) == (other.shape, other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))


class Lowered:
    def __init__(self, traced):
        self.traced = traced

    @locked
    def as_text(self, dialect: str = "jx") -> str:
        with enter():
            text = str(self.traced.module)
        if dialect in ("jx", None):
            return text
        if dialect == "stablehlo":
            m = parse_module(text)
            run_pipeline(m, f"cse,dce,lower-stablehlo{{entry={self.traced.fname}}}")
            with enter():
                return str(m)
        raise ValueError(f"unknown dialect {dialect!r}; expected 'jx' or 'stablehlo'")

    def compile(self):
        return Compiled(self.traced, compile_function(self.traced.module, self.traced.fname), self)

    @property
    def in_avals(self):
        return list(self.traced.in_avals)

    @property
    def out_avals(self):
        return list(self.traced.out_avals)


def _pytree_mismatch(in_tree, given, n_given: int) -> str:
    """JAX's message for a Compiled called with other argument pytrees (its first mismatch)."""
    n_seen = len(tree_util.treedef_children(tree_util.treedef_children(in_tree)[0]))
    if n_seen != n_given:
        why = f"at args, seen tuple of length {n_seen} but now given tuple of length {n_given}, so the lengths do not match"
    else:
        why = f"at args, seen {in_tree} but now given {given}"
    return (
        "Function compiled with input pytree does not match the input pytree it was called with. "
        f"There are 1 mismatches, including:\n    * {why}"
    )


def _short(a) -> str:
    return f"{a.dtype.name}[{','.join(str(d) for d in a.shape)}]"


class Compiled:
    def __init__(self, traced, exe, lowered=None):
        self.traced = traced
        self.executable = exe
        self._lowered = lowered

    @property
    def target(self) -> str:
        """The IREE target backend the module was compiled for, e.g. 'llvm-cpu'."""
        return self.executable.device.target

    @property
    def device(self):
        return self.executable.device

    def as_text(self) -> str:
        """The StableHLO module handed to IREE (IREE's compiled form is a binary .vmfb)."""
        return (self._lowered or Lowered(self.traced)).as_text("stablehlo")

    @property
    def in_tree(self):
        """The pytree of (args, kwargs) the function was compiled for (None for a bare module)."""
        return getattr(self.traced, "in_tree", None)

    def __repr__(self):
        ins = ", ".join(a.str_short() for a in self.traced.in_avals)
        return f"<Compiled @{self.traced.fname}({ins}) for {self.target}>"

    def __call__(self, *args):
        leaves = tree_util.tree_leaves(args)
        in_tree = self.in_tree
        if in_tree is not None and not tree_util.treedef_children(tree_util.treedef_children(in_tree)[1]):
            given = tree_util.tree_structure((args, {}))
            if given != in_tree:
                raise TypeError(_pytree_mismatch(in_tree, given, len(args)))
        elif len(leaves) != len(self.traced.in_avals):
            raise TypeError(
                "Function compiled with input pytree does not match the input pytree it was called with: "
                f"it takes {len(self.traced.in_avals)} array arguments, got {len(leaves)}."
            )
        names = getattr(self.traced, "arg_names", None) or []
        bad = []
        for i, (x, want) in enumerate(zip(leaves, self.traced.in_avals)):
            got = aval_of(x)
            if (got.shape, got.dtype) != (want.shape, want.dtype):
                name = names[i] if i < len(names) else f"args[{i}]"
                bad.append(f"Argument '{name}' compiled with {_short(want)} and called with {_short(got)}")
        if bad:
            raise TypeError(
                "Argument types differ from the types for which this computation was compiled. Perhaps you "
                "are calling the compiled executable with a different enable_x64 mode than when it was AOT "
                "compiled? The mismatches are:\n" + "\n".join(bad)
            )
        outs = execute(
            self.traced.module, self.traced.fname, list(leaves) + self.traced.captured, self.traced.out_avals
        )
        return tree_util.tree_unflatten(self.traced.out_tree, outs)
