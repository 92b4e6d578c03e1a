"""jax.flatten_util.ravel_pytree and jax.dtypes' key-dtype names (extended, prng_key, finfo,
iinfo, itemsize_bits, scalar_type_of) against JAX."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.flatten_util import ravel_pytree
from jax_diff import assert_matches_jax

jax = pytest.importorskip("jax")
from jax.flatten_util import ravel_pytree as jax_ravel_pytree  # noqa: E402

TREES = {
    "floats": lambda m: {"w": m.numpy.arange(6.0).reshape(2, 3), "b": m.numpy.ones(3), "s": 2.0},
    "mixed_dtypes": lambda m: (
        m.numpy.arange(3, dtype=m.numpy.int32),
        [m.numpy.ones(2, m.numpy.float16), m.numpy.array(True)],
        m.numpy.full((2, 2), 0.5, m.numpy.bfloat16),
    ),
    "complex": lambda m: [m.numpy.ones(2, m.numpy.complex64), m.numpy.arange(2.0)],
    "empty": lambda m: {"a": None, "b": ()},
}


@pytest.mark.parametrize("name", list(TREES))
def test_ravel_pytree_matches_jax(name):
    flat, unravel = ravel_pytree(TREES[name](irjax))
    jflat, junravel = jax_ravel_pytree(TREES[name](jax))
    assert_matches_jax(flat, jflat)
    back = unravel(flat * 2 if flat.size else flat)
    want = junravel(jflat * 2 if jflat.size else jflat)
    assert irjax.tree_util.tree_structure(back) == irjax.tree_util.tree_structure(TREES[name](irjax))
    assert_matches_jax(back, want)


def test_ravel_pytree_under_transformations():
    params = {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.ones(3)}
    flat, unravel = ravel_pytree(params)

    def loss(v):
        p = unravel(v)
        return jnp.sum(jnp.tanh(p["w"] @ p["b"]) ** 2)

    jparams = {"w": jax.numpy.arange(6.0).reshape(2, 3), "b": jax.numpy.ones(3)}
    jflat, junravel = jax_ravel_pytree(jparams)

    def jloss(v):
        p = junravel(v)
        return jax.numpy.sum(jax.numpy.tanh(p["w"] @ p["b"]) ** 2)

    assert_matches_jax(irjax.jit(irjax.grad(loss))(flat), jax.grad(jloss)(jflat), 1e-5)
    assert_matches_jax(irjax.hessian(loss)(flat), jax.hessian(jloss)(jflat), 1e-4)
    assert_matches_jax(irjax.jit(lambda p: ravel_pytree(p)[0])(params), jflat)


def test_unravel_checks_shape_and_dtype():
    _, unravel = ravel_pytree([jnp.ones(2), jnp.ones(3, jnp.float16)])
    _, junravel = jax_ravel_pytree([jax.numpy.ones(2), jax.numpy.ones(3, jax.numpy.float16)])
    with pytest.raises(ValueError, match=r"shape \(5,\), got shape \(4,\)"):
        unravel(np.ones(4, np.float32))
    with pytest.raises(ValueError):
        junravel(np.ones(4, np.float32))
    with pytest.raises(TypeError) as mine:
        unravel(np.ones(5, np.int32))
    with pytest.raises(TypeError) as theirs:
        junravel(np.ones(5, np.int32))
    assert str(mine.value) == str(theirs.value)


def test_unravel_of_one_dtype_trees_keeps_the_vector_dtype_as_jax():
    _, unravel = ravel_pytree([jnp.ones(2), jnp.ones(3)])
    _, junravel = jax_ravel_pytree([jax.numpy.ones(2), jax.numpy.ones(3)])
    v = np.arange(5, dtype=np.int32)
    assert_matches_jax(unravel(v), junravel(v))


def test_key_dtypes_file_under_extended_and_prng_key():
    key, jkey = irjax.random.key(0), jax.random.key(0)
    for mine, theirs in (
        (jnp.floating, jax.numpy.floating),
        (jnp.number, jax.numpy.number),
        (jnp.integer, jax.numpy.integer),
        (np.generic, np.generic),
        (np.uint32, np.uint32),
        (irjax.dtypes.extended, jax.dtypes.extended),
        (irjax.dtypes.prng_key, jax.dtypes.prng_key),
    ):
        assert jnp.issubdtype(key.dtype, mine) == jax.numpy.issubdtype(jkey.dtype, theirs), mine
    assert jnp.issubdtype(key.dtype, key.dtype)
    assert not jnp.issubdtype(np.float32, irjax.dtypes.extended)
    assert not jnp.issubdtype(np.float32, irjax.dtypes.prng_key)
    assert jnp.issubdtype(irjax.dtypes.prng_key, irjax.dtypes.extended)
    # the pattern optimizer libraries filter parameters with: no TypeError on a key leaf
    tree = {"k": key, "w": jnp.ones(2)}
    floats = [x for x in irjax.tree_util.tree_leaves(tree) if jnp.issubdtype(x.dtype, jnp.inexact)]
    assert len(floats) == 1


def test_dtype_helpers_match_jax():
    for dt in ("bfloat16", "float16", "float32", "int4", "uint8", "int32", "bool", "complex64"):
        assert irjax.dtypes.itemsize_bits(dt) == jax.dtypes.itemsize_bits(dt), dt
    for x in (True, 1, 1.0, 1j, np.int8(1), np.float16(1), np.ones(2, np.int32), np.ones(2, np.complex64)):
        assert irjax.dtypes.scalar_type_of(x) is jax.dtypes.scalar_type_of(x), x
    assert irjax.dtypes.finfo(jnp.bfloat16).eps == jax.dtypes.finfo(jax.numpy.bfloat16).eps
    assert irjax.dtypes.iinfo(jnp.int8).max == jax.dtypes.iinfo(jax.numpy.int8).max
