"""Ahead-of-time stages: ShapeDtypeStruct, Lowered (.as_text, .compiler_ir, .compile), Compiled,
and their cost/memory analyses (counted on the StableHLO handed to IREE)."""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np
from irjax.dialects.func import parse_module
from irjax.dialects.mlir import enter, ir
from irjax.passes.registry import run_pipeline
from irjax.runtime.compiler import compile_stablehlo

from . import tree_util
from .core import ShapedArray, aval_of, ir_lock, locked
from .dispatch import _lower_text, compile_function, execute


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


class _Signature:
    """in_avals / out_avals of the traced function a stage holds (as `traced`)."""

    @property
    def in_avals(self):
        return list(self.traced.in_avals)

    @property
    def out_avals(self):
        return list(self.traced.out_avals)


class JxModule(_Signature):
    """What make_jaxpr returns (and a traced stage's .jaxpr): the jx IR of the traced function,
    printable, with JAX's ClosedJaxpr attributes that carry over (.jaxpr, .in_avals, .out_avals,
    .consts)."""

    def __init__(self, tr):
        self.traced = tr

    @property
    def text(self) -> str:
        with ir_lock, enter():
            return str(self.traced.module)

    @property
    def jaxpr(self):
        return self  # (one object: the IR with its signature)

    @property
    def consts(self):
        return list(self.traced.captured)

    def __str__(self):
        return self.text

    __repr__ = __str__


class TracedStage:
    """jit(f).trace(*args) (JAX's jax.stages.Traced): the traced function before lowering."""

    def __init__(self, traced):
        self.traced = traced

    @property
    def jaxpr(self) -> JxModule:
        return JxModule(self.traced)

    @property
    def out_info(self):
        outs = [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type) for a in self.traced.out_avals]
        return tree_util.tree_unflatten(self.traced.out_tree, outs)

    def lower(self):
        return Lowered(self.traced)


class Lowered(_Signature):
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

    @locked
    def compiler_ir(self, dialect: str | None = None) -> ir.Module:
        """The lowered module as an MLIR ir.Module: 'stablehlo' (the default) or 'jx'."""
        if dialect == "hlo":
            raise NotImplementedError(
                "compiler_ir(dialect='hlo') needs XLA; irjax lowers to StableHLO for IREE: use dialect='stablehlo'"
            )
        if dialect not in (None, "stablehlo", "jx"):
            raise ValueError(f"unknown dialect: {dialect}; expected 'stablehlo' or 'jx'")
        m = parse_module(self.as_text("jx" if dialect == "jx" else "stablehlo"))
        return m

    def cost_analysis(self) -> dict[str, float]:
        """Execution cost estimates of the unoptimised StableHLO, keyed as JAX's (see _cost)."""
        return _cost(self.compiler_ir("stablehlo"))

    def compile(self):
        return Compiled(self.traced, compile_function(self.traced.module, self.traced.fname), self)


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

    def cost_analysis(self) -> dict[str, float]:
        """Lowered.cost_analysis(): counted on the StableHLO before IREE's fusion, so 'bytes
        accessed' counts every op's operands and results (XLA's compiled count is after fusion)."""
        return (self._lowered or Lowered(self.traced)).cost_analysis()

    @locked
    def memory_analysis(self) -> CompiledMemoryStats:
        """Sizes in bytes, under JAX's attribute names (see CompiledMemoryStats)."""
        t = self.traced
        args = sum(_nbytes(a.shape, a.dtype) for a in t.in_avals) + sum(int(np.asarray(c).nbytes) for c in t.captured)
        outs = sum(_nbytes(a.shape, a.dtype) for a in t.out_avals)
        dev = self.executable.device
        hlo = _lower_text(str(t.module), t.fname, dev)
        code = len(compile_stablehlo(hlo, dev.target, dev.compile_flags))  # a cache hit
        temp = _intermediate_bytes(parse_module(hlo))
        return CompiledMemoryStats(
            generated_code_size_in_bytes=code,
            argument_size_in_bytes=args,
            output_size_in_bytes=outs,
            alias_size_in_bytes=0,
            temp_size_in_bytes=temp,
            host_generated_code_size_in_bytes=0,
            host_argument_size_in_bytes=0,
            host_output_size_in_bytes=0,
            host_alias_size_in_bytes=0,
            host_temp_size_in_bytes=0,
            peak_memory_in_bytes=args + outs + temp,
        )

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


class CompiledMemoryStats(NamedTuple):
    """Compiled.memory_analysis(), with the fields of JAX's CompiledMemoryStats.

    generated_code_size_in_bytes is the size of the IREE .vmfb (code plus its embedded
    constants); temp_size_in_bytes is an UPPER BOUND: the bytes of every intermediate value of
    the unfused StableHLO (IREE fuses and reuses most of them away). No buffers are donated,
    so alias_size_in_bytes is 0; the host_* sizes are 0 as JAX reports them on CPU.
    """

    generated_code_size_in_bytes: int
    argument_size_in_bytes: int
    output_size_in_bytes: int
    alias_size_in_bytes: int
    temp_size_in_bytes: int
    host_generated_code_size_in_bytes: int
    host_argument_size_in_bytes: int
    host_output_size_in_bytes: int
    host_alias_size_in_bytes: int
    host_temp_size_in_bytes: int
    peak_memory_in_bytes: int


# XLA counts these in 'transcendentals', every other elementwise op in 'flops' (one per element)
_TRANSCENDENTAL = {
    "exponential", "exponential_minus_one", "log", "log_plus_one", "logistic", "power", "rsqrt",
    "sqrt", "cbrt", "tanh", "sine", "cosine", "tan", "atan2", "erf",
}  # fmt: skip
_ELEMENTWISE = {
    "add", "subtract", "multiply", "divide", "remainder", "maximum", "minimum", "negate", "abs",
    "sign", "compare", "select", "clamp", "convert", "and", "or", "xor", "not", "floor", "ceil",
    "round_nearest_even", "round_nearest_afz", "is_finite", "real", "imag", "complex",
    "shift_left", "shift_right_arithmetic", "shift_right_logical", "popcnt", "count_leading_zeros",
}  # fmt: skip
# ops that move no data of their own: their regions are counted instead
_NO_BYTES = {
    "stablehlo.constant",
    "func.return",
    "stablehlo.return",
    "stablehlo.while",
    "stablehlo.if",
    "stablehlo.case",
}


def _itemsize(t) -> int:
    s = str(t)
    m = re.fullmatch(r"complex<[a-z]+(\d+)>", s)
    if m:
        return 2 * int(m.group(1)) // 8
    m = re.search(r"(\d+)", s)
    return max(1, int(m.group(1)) // 8) if m else 4  # i1 takes a byte, as XLA's PRED


def _nbytes(shape, dtype) -> int:
    return int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


def _value_bytes(v) -> int:
    try:
        t = ir.RankedTensorType(v.type)
    except ValueError:  # a token or other non-tensor value carries no data
        return 0
    return int(np.prod(t.shape, dtype=np.int64)) * _itemsize(t.element_type)


def _elems(v) -> int:
    return int(np.prod(ir.RankedTensorType(v.type).shape, dtype=np.int64))


def _dims(attr: str, key: str) -> list[int]:
    m = re.search(key + r" = \[([\d, ]*)\]", attr)
    return [int(d) for d in m.group(1).split(",") if d.strip()] if m else []


def _op_flops(op) -> tuple[int, int]:
    """(flops, transcendentals) of one op, XLA's HloCostAnalysis conventions."""
    name = op.name.removeprefix("stablehlo.")
    if name == "dot_general":
        # 2 * output elements * contracted size (a multiply and an add per term)
        lhs = ir.RankedTensorType(op.operands[0].type).shape
        dims = _dims(str(op.attributes["dot_dimension_numbers"]), "lhs_contracting_dimensions")
        return 2 * _elems(op.results[0]) * int(np.prod([lhs[d] for d in dims], dtype=np.int64)), 0
    if name == "convolution":
        # 2 * output elements * (kernel spatial size * input features per group)
        kernel = ir.RankedTensorType(op.operands[1].type).shape
        spec = str(op.attributes["dimension_numbers"]).split("x")[1].split("->")[0]
        o = [d.strip() for d in spec.strip("[] ").split(",")].index("o")
        per_out = int(np.prod(kernel, dtype=np.int64)) // max(1, kernel[o])
        return 2 * _elems(op.results[0]) * per_out, 0
    if name == "reduce":
        # each reduced element costs one run of the body's ops
        body = [o for o in op.regions[0].blocks[0].operations if o.name != "stablehlo.return"]
        return (_elems(op.operands[0]) - _elems(op.results[0])) * len(body), 0
    if name in _TRANSCENDENTAL:
        return 0, _elems(op.results[0])
    if name in _ELEMENTWISE:
        return _elems(op.results[0]), 0
    return 0, 0


def _walk(block, visit) -> None:
    for op in block.operations:
        op = op.operation
        visit(op)
        if op.name in ("stablehlo.while", "stablehlo.if", "stablehlo.case", "func.func"):
            # loop and branch bodies are counted once, as XLA does
            for region in op.regions:
                for b in region.blocks:
                    _walk(b, visit)


def _cost(module) -> dict[str, float]:
    """JAX's cost keys for a StableHLO module: 'flops' (dot_general and convolution count 2
    per multiply-add, elementwise ops and reductions one per element), 'transcendentals', and
    'bytes accessed' (every op's operand plus result bytes; constants and control flow none),
    split as 'bytes accessed{i}{}' per operand position and 'bytes accessedout{}'."""
    flops = trans = 0
    per: dict[str, float] = {}

    def visit(op):
        nonlocal flops, trans
        f, t = _op_flops(op)
        flops, trans = flops + f, trans + t
        if op.name in _NO_BYTES or op.name == "func.func":
            return
        for i, v in enumerate(op.operands):
            per[f"bytes accessed{i}{{}}"] = per.get(f"bytes accessed{i}{{}}", 0.0) + _value_bytes(v)
        per["bytes accessedout{}"] = per.get("bytes accessedout{}", 0.0) + sum(_value_bytes(r) for r in op.results)

    with enter():
        _walk(module.body, visit)
    return {"flops": float(flops), "transcendentals": float(trans), "bytes accessed": float(sum(per.values())), **per}


def _intermediate_bytes(module) -> int:
    """Bytes of the values computed in the module that are not its results."""
    total = 0

    def visit(op):
        nonlocal total
        if op.name in ("func.return", "stablehlo.return", "func.func"):
            if op.name == "func.return":
                total -= sum(_value_bytes(v) for v in op.operands)
            return
        total += sum(_value_bytes(r) for r in op.results)

    with enter():
        _walk(module.body, visit)
    return max(total, 0)
