"""Lowered.compiler_ir / cost_analysis and Compiled.cost_analysis / memory_analysis against
JAX's on the same functions: keys, types, and the counts where XLA's are exact."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.dialects.mlir import ir

jax = pytest.importorskip("jax")
jjnp = jax.numpy

A = np.ones((8, 16), np.float32)
B = np.ones((16, 4), np.float32)


def mlp(np_):
    return lambda a, b: np_.tanh(a @ b) + 1.0


@pytest.fixture(scope="module")
def stages():
    ours = irjax.jit(mlp(jnp)).lower(A, B)
    theirs = jax.jit(mlp(jjnp)).lower(A, B)
    return ours, ours.compile(), theirs, theirs.compile()


def test_compiler_ir(stages):
    lowered = stages[0]
    m = lowered.compiler_ir("stablehlo")
    assert isinstance(m, ir.Module) and isinstance(lowered.compiler_ir(), ir.Module)
    text = str(m)
    assert "stablehlo.dot_general" in text and "stablehlo.tanh" in text
    assert '"jx.' in str(lowered.compiler_ir("jx"))
    with pytest.raises(NotImplementedError, match="dialect='stablehlo'"):
        lowered.compiler_ir("hlo")
    for stage in (lowered, stages[2]):  # JAX's message for an unknown dialect
        with pytest.raises(ValueError, match="unknown dialect: foo"):
            stage.compiler_ir("foo")


def test_lowered_cost_analysis_matches_jax(stages):
    ours, theirs = stages[0].cost_analysis(), stages[2].cost_analysis()
    assert isinstance(ours, dict) and all(isinstance(v, float) for v in ours.values())
    # before fusion both count the same ops: 2*8*16*4 + 32 adds, 32 tanh, every op's bytes
    assert ours["flops"] == 2 * 8 * 16 * 4 + 8 * 4 == theirs["flops"]
    for key in ("transcendentals", "bytes accessed", "bytes accessed0{}", "bytes accessed1{}", "bytes accessedout{}"):
        assert ours[key] == theirs[key], key


@pytest.mark.parametrize("shapes", [((5, 7), (7, 3)), ((2, 5, 7), (2, 7, 3))], ids=["matmul", "batched"])
def test_matmul_flops_exact(shapes):
    a, b = (np.ones(s, np.float32) for s in shapes)
    m, k, n = shapes[0][-2], shapes[0][-1], shapes[1][-1]
    batch = shapes[0][0] if len(shapes[0]) == 3 else 1
    ours = irjax.jit(lambda a, b: a @ b).lower(a, b).compile().cost_analysis()
    theirs = jax.jit(lambda a, b: a @ b).lower(a, b).compile().cost_analysis()
    assert ours["flops"] == 2 * batch * m * n * k == theirs["flops"]
    assert ours["bytes accessed"] == 4 * (a.size + b.size + batch * m * n) == theirs["bytes accessed"]


def test_conv_flops():
    x, w = np.ones((1, 3, 10, 10), np.float32), np.ones((4, 3, 3, 3), np.float32)
    f = lambda np_, lax: lambda x, w: lax.conv(x, w, (1, 1), "VALID")  # noqa: E731
    ours = irjax.jit(f(jnp, irjax.lax)).lower(x, w).cost_analysis()
    theirs = jax.jit(f(jjnp, jax.lax)).lower(x, w).cost_analysis()
    # 2 * (1*4*8*8 outputs) * (3*3 window * 3 input features)
    assert ours["flops"] == 2 * 4 * 8 * 8 * 27 == theirs["flops"]


def test_compiled_cost_and_memory_analysis(stages):
    _, compiled, _, jcompiled = stages
    cost = compiled.cost_analysis()
    assert {"flops", "bytes accessed"} <= set(cost) and set(jcompiled.cost_analysis()) >= {"flops", "bytes accessed"}
    assert cost["flops"] == jcompiled.cost_analysis()["flops"]
    ours, theirs = compiled.memory_analysis(), jcompiled.memory_analysis()
    for name in ours._fields:
        assert isinstance(getattr(ours, name), int) and isinstance(getattr(theirs, name), int), name
    assert ours.argument_size_in_bytes == theirs.argument_size_in_bytes == A.nbytes + B.nbytes
    assert ours.output_size_in_bytes == theirs.output_size_in_bytes == 8 * 4 * 4
    assert ours.alias_size_in_bytes == theirs.alias_size_in_bytes == 0
    assert ours.generated_code_size_in_bytes > 1000  # the .vmfb
    # upper bound: dot, tanh, the broadcast constant and its broadcast
    assert ours.temp_size_in_bytes == 128 + 128 + 4 + 128
    assert ours.peak_memory_in_bytes == 768 + 128 + ours.temp_size_in_bytes
