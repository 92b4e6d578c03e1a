"""Functions reading many buffers: IREE's runtime refuses a dispatch with more than 32 bindings
("binding count 33 > 32"), so fused dispatches are split (passes/limit_bindings.py). Any arity
JAX handles must work; results are checked against NumPy."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.passes.limit_bindings import MAX_SOURCES, limit_text, may_exceed


@pytest.mark.parametrize("n", [32, 33, 100, 300])
def test_jit_sum_of_many_arguments(n):
    xs = [np.full((4,), float(i), np.float32) for i in range(n)]
    got = irjax.jit(lambda *a: sum(a))(*[jnp.full((4,), float(i)) for i in range(n)])
    assert np.asarray(got).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(got), sum(xs))


def _inputs(n):
    rng = np.random.default_rng(n)
    return [rng.standard_normal((3, 3)).astype(np.float32) for _ in range(n)]


CASES = {
    "stack-sum": (lambda *a: jnp.stack(a).sum(0), lambda *a: np.stack(a).sum(0)),
    "concatenate": (lambda *a: jnp.concatenate(a), lambda *a: np.concatenate(a)),
    "sum of matmuls": (lambda *a: sum(x @ x for x in a), lambda *a: sum(x @ x for x in a)),
    "where chain": (
        lambda *a: sum(jnp.where(x > 0, x, -2 * x) for x in a),
        lambda *a: sum(np.where(x > 0, x, -2 * x) for x in a),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_many_arguments_through_other_ops(case):
    f, ref = CASES[case]
    xs = _inputs(40)
    np.testing.assert_allclose(np.asarray(irjax.jit(f)(*[jnp.asarray(x) for x in xs])), ref(*xs), rtol=1e-5, atol=1e-5)


def test_eager_fusion_of_many_arrays():
    xs = _inputs(45)
    arrays = [jnp.asarray(x) for x in xs]
    total = arrays[0]
    for a in arrays[1:]:
        total = total + a  # pending: one fused eager module with 45 inputs
    np.testing.assert_allclose(np.asarray(total), sum(xs), rtol=1e-5, atol=1e-5)


def test_grad_and_vmap_of_many_arguments():
    xs = _inputs(40)
    arrays = [jnp.asarray(x) for x in xs]
    g = irjax.grad(lambda *a: sum(jnp.sum(jnp.sin(x) * k) for k, x in enumerate(a)), argnums=tuple(range(40)))(*arrays)
    np.testing.assert_allclose(
        np.stack([np.asarray(t) for t in g]), np.stack([np.cos(x) * k for k, x in enumerate(xs)]), rtol=1e-5, atol=1e-5
    )
    v = irjax.vmap(lambda *a: sum(a))(*arrays)
    np.testing.assert_allclose(np.asarray(v), sum(xs), rtol=1e-5, atol=1e-5)


def _chain(n: int) -> str:
    args = ", ".join(f"%a{i}: tensor<4xf32>" for i in range(n))
    lines, acc = [], "%a0"
    for i in range(1, n):
        lines.append(f"  %s{i} = stablehlo.add {acc}, %a{i} : tensor<4xf32>")
        acc = f"%s{i}"
    return f"func.func @main({args}) -> tensor<4xf32> {{\n" + "\n".join(lines) + f"\n  return {acc} : tensor<4xf32>\n}}"


def test_pass_leaves_small_modules_alone_and_splits_wide_ones():
    small = _chain(MAX_SOURCES)
    assert not may_exceed(small) and limit_text(small) == small
    wide = limit_text(_chain(100))
    # a barrier every ~24 arguments along the chain: 100 sources need at least 4 cuts
    assert 4 <= wide.count("stablehlo.optimization_barrier") <= 6, wide


def test_eager_graph_past_the_binding_limit_runs_op_by_op():
    """An eager graph that IREE fuses into a dispatch of > 32 buffers (hypot of two Python
    scalars: many scalar constants as inputs) falls back to running op by op."""
    import irjax.numpy as jnp

    assert float(jnp.hypot(3.0, 4.0)) == 5.0
    np.testing.assert_allclose(np.asarray(jnp.hypot(jnp.array([3e30, 0.0]), 4e30)), [5e30, 4e30], rtol=1e-6)
