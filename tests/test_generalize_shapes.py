"""Shape-generic executables: an elementwise function met at many shapes compiles twice
(its first shape, then one generic module), and every shape gets the right numbers."""

from __future__ import annotations

import irjax as jax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import dispatch
from irjax.passes.generalize_shapes import generalize
from irjax.runtime import compiler

jax_ref = pytest.importorskip("jax")


def _hlo_of(f, *args) -> str:
    """The StableHLO text jit hands to IREE for f(*args)."""
    texts = []
    orig = dispatch._executable

    def spy(text, device):
        texts.append(text)
        return orig(text, device)

    dispatch._executable = spy
    try:
        jax.jit(f)(*args)
    finally:
        dispatch._executable = orig
    return texts[0]


def test_elementwise_module_becomes_dynamic():
    text = _hlo_of(
        lambda x, s: jnp.where(x > 0, jnp.tanh(x) * 2.0 + s, 1.0), np.ones((5, 3), np.float32), np.float32(2)
    )
    gen = generalize(text)
    assert gen is not None
    assert "tensor<5x3xf32>" not in gen
    assert "func.func @main(%arg0: tensor<?x?xf32>, %arg1: tensor<f32>)" in gen
    assert gen.count("stablehlo.get_dimension_size") == 2
    assert "stablehlo.dynamic_broadcast_in_dim" in gen and 'stablehlo.broadcast_in_dim"' not in gen


@pytest.mark.parametrize(
    "f, args",
    [
        (lambda x: x @ x.T, (np.ones((3, 3), np.float32),)),  # a matmul
        (lambda x: jnp.sum(x), (np.ones(4, np.float32),)),  # a reduction
        (lambda x, y: x + y, (np.ones((2, 3), np.float32), np.ones(3, np.float32))),  # two shapes
        (lambda s: jnp.full((4,), s), (np.float32(1),)),  # no argument of the result's shape
        (lambda x: jnp.cumsum(x), (np.ones(4, np.float32),)),  # a scan-like op
        (lambda x: x[::-1], (np.ones(4, np.float32),)),  # a reverse
    ],
)
def test_other_modules_stay_static(f, args):
    assert generalize(_hlo_of(f, *args)) is None


def _count_compiles(run) -> int:
    before = compiler.stats["compiles"] + compiler.stats["disk_hits"]
    run()
    return compiler.stats["compiles"] + compiler.stats["disk_hits"] - before


def test_many_shapes_two_compiles_right_values():
    f = jax.jit(lambda x, y, s: jnp.maximum(jnp.sin(x) * s + y / 3.0, -0.5) - (x > y))
    rng = np.random.default_rng(0)
    jf = jax_ref.jit(lambda x, y, s: jax_ref.numpy.maximum(jax_ref.numpy.sin(x) * s + y / 3.0, -0.5) - (x > y))
    shapes = [(7, 1), (2, 9), (1, 1), (5, 5), (3, 11), (12, 2)]
    data = [(rng.standard_normal(sh).astype(np.float32), rng.standard_normal(sh).astype(np.float32)) for sh in shapes]

    def run():
        for x, y in data:
            got = f(x, y, np.float32(1.5))
            want = jf(x, y, np.float32(1.5))
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=2e-6, atol=2e-6)

    assert _count_compiles(run) <= 2


def test_int_and_bool_outputs_and_scalar_results():
    f = jax.jit(lambda i, b: (i * 3 - 1, jnp.logical_not(b), i.astype(jnp.float32) / 2))
    for n in (3, 8, 1, 20):
        i = np.arange(n, dtype=np.int32)
        b = np.arange(n) % 2 == 0
        r0, r1, r2 = f(i, b)
        assert r0.dtype == np.int32 and r1.dtype == np.bool_ and r2.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(r0), i * 3 - 1)
        np.testing.assert_array_equal(np.asarray(r1), ~b)
        np.testing.assert_array_equal(np.asarray(r2), i / np.float32(2))


def test_eager_elementwise_on_new_shapes_reuses_one_module():
    def run():
        for n in range(30, 40):
            x = np.linspace(0, 1, n, dtype=np.float32)
            np.testing.assert_allclose(np.asarray(jnp.exp(jnp.asarray(x)) * 2.0), np.exp(x) * 2, rtol=1e-6)

    assert _count_compiles(run) <= 4


@pytest.mark.parametrize("dtype", [np.uint8, np.uint32])
def test_unsigned_elementwise_on_many_shapes(dtype):
    """IREE 3.13 cannot take get_dimension_size of an unsigned tensor (an illegal tensor.dim
    failed the compile of the generic module); such modules read their shape from a signed
    argument or stay static, and every shape still gets the right numbers."""
    f = jax.jit(lambda x: (jnp.maximum(x, dtype(2)), jnp.where(x > 2, x, dtype(0)), x * dtype(3)))
    for n in (3, 5, 8):
        x = np.arange(n, dtype=dtype)
        got = f(x)
        want = (np.maximum(x, dtype(2)), np.where(x > 2, x, dtype(0)), x * dtype(3))
        for g, w in zip(got, want):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(np.asarray(g), w)
    mixed = lambda i, u: jnp.maximum(u, dtype(2)) + (i > 0).astype(dtype)  # noqa: E731  (_hlo_of jits it)
    text = _hlo_of(mixed, np.arange(4, dtype=np.int32), np.arange(4, dtype=dtype))
    assert generalize(text) is not None  # the int32 argument carries the shape
    for n in (3, 6):
        np.testing.assert_array_equal(
            np.asarray(mixed(np.arange(n, dtype=np.int32), np.arange(n, dtype=dtype))),
            np.maximum(np.arange(n, dtype=dtype), 2) + (np.arange(n) > 0).astype(dtype),
        )
