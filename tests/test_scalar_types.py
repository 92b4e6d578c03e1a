"""jnp.float32 and friends are JAX's scalar types: dtype-likes whose call returns an Array."""

import pickle
import warnings

import irjax
import irjax.numpy as jnp
import jax
import jax.numpy as jjnp
import numpy as np
import pytest

# every scalar-type name jax.numpy exports that irjax can hold values of
NAMES = (
    "bool_ bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 "
    "complex64 complex128 bfloat16 single double csingle cdouble int_ float_ uint complex_"
).split()
NARROW = "int4 uint4 float8_e4m3fn float8_e5m2".split()


def _same(got, want):
    assert isinstance(got, irjax.Array), type(got)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    assert got.weak_type == want.weak_type
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize("name", NAMES + NARROW)
def test_type_is_a_dtype_like_as_in_jax(name):
    t, jt = getattr(jnp, name), getattr(jjnp, name)
    assert t.dtype == jt.dtype
    assert np.dtype(t) == np.dtype(jt) == jnp.dtype(t)
    assert t.__name__ == jt.__name__ and repr(t) == repr(jt).replace("jax.", "irjax.")
    # compares and hashes as NumPy's scalar type, like JAX's
    assert (t == jt.dtype.type) and (t == np.dtype(jt)) and not (t != jt.dtype.type)
    assert hash(t) == hash(jt) == hash(jt.dtype.type)
    assert {jt.dtype.type: 1}.get(t) == 1
    assert (t == "float32") == (jt == "float32")
    assert isinstance(np.zeros(1, jt.dtype.type)[0], t) == isinstance(np.zeros(1, jt.dtype.type)[0], jt)
    assert pickle.loads(pickle.dumps(t)) is t
    if name in NARROW:
        return  # irjax.dtypes.issubdtype knows bfloat16 but not ml_dtypes narrow kinds (a dtypes.py gap)
    for kind in (jnp.floating, jnp.integer, jnp.inexact, jnp.number, jnp.complexfloating, jnp.signedinteger):
        assert jnp.issubdtype(t, kind) == jjnp.issubdtype(jt, kind), kind


def test_names_match_jax():
    for name in NAMES + NARROW:
        assert type(getattr(jjnp, name)).__name__ == "_ScalarMeta"
        assert type(getattr(jnp, name)).__name__ == "ScalarMeta"
    assert jnp.single is jnp.float32 and jnp.int_ is jnp.int64 and jnp.bool is jnp.bool_


CALLS = [
    ("float32", 1.5),
    ("float32", 1),
    ("float16", 0.1),
    ("bfloat16", 1),
    ("int32", 2.7),
    ("int32", "3"),
    ("float32", "1.5"),
    ("int8", -5),
    ("uint8", 200),
    ("bool_", 2),
    ("bool_", [0, 2]),
    ("complex64", 1 + 2j),
    ("float32", [1, 2]),
    ("float32", np.float64(2.0)),
    ("int16", np.arange(3.0)),
    ("uint32", True),
]


@pytest.mark.parametrize("name,x", CALLS)
def test_call_matches_jax(name, x):
    _same(getattr(jnp, name)(x), getattr(jjnp, name)(x))


def test_call_on_arrays_converts():
    _same(jnp.int32(jnp.array([1.7, 2.2])), jjnp.int32(jjnp.array([1.7, 2.2])))
    _same(jnp.float32(jnp.asarray(1.0)), jjnp.float32(jjnp.asarray(1.0)))  # weak in, strong out
    _same(jnp.float32(jnp.bfloat16(1.5)), jjnp.float32(jjnp.bfloat16(1.5)))
    assert isinstance(jnp.float32(1), jnp.ndarray) and isinstance(jjnp.float32(1), jjnp.ndarray)
    assert not isinstance(jnp.float32(1), jnp.float32) and not isinstance(jjnp.float32(1), jjnp.float32)


@pytest.mark.parametrize("name", ["float64", "int64", "float_", "uint", "complex128"])
def test_64_bit_types_truncate_with_a_warning_when_x64_is_off(name):
    assert not jax.config.jax_enable_x64 and not irjax.config.jax_enable_x64
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        got = getattr(jnp, name)(3)
    with warnings.catch_warnings(record=True) as jw:
        warnings.simplefilter("always")
        want = getattr(jjnp, name)(3)
    _same(got, want)
    assert len(w) == len(jw) == 1 and w[0].category is jw[0].category is UserWarning
    assert "truncated to dtype" in str(w[0].message) and "jax_enable_x64" in str(w[0].message)


def test_bad_values_raise_like_jax():
    for bad, err in ((None, ValueError), ("a", ValueError), (300, OverflowError)):
        with pytest.raises(err):
            jjnp.int8(bad)
        with pytest.raises(err):
            jnp.int8(bad)
    with pytest.raises(TypeError):
        jnp.float32(1, 2)
    with pytest.raises(TypeError, match="int4"):
        jnp.int4(1)  # a name irjax knows but cannot store


def test_as_dtype_argument_everywhere():
    cases = [
        lambda m: m.zeros(3, m.float32),
        lambda m: m.ones((2,), dtype=m.int8),
        lambda m: m.arange(4).astype(m.float16),
        lambda m: m.asarray([1, 2], m.bfloat16),
        lambda m: m.full((2,), 7, m.uint8),
        lambda m: m.sum(m.arange(3), dtype=m.float32),
        lambda m: m.array([1.5, 2.5], dtype=m.complex64),
        lambda m: m.linspace(0, 1, 3, dtype=m.float32),
    ]
    for case in cases:
        _same(case(jnp), case(jjnp))
    assert jnp.promote_types(jnp.float16, jnp.int32) == jjnp.promote_types(jjnp.float16, jjnp.int32)
    assert jnp.result_type(jnp.bfloat16, jnp.float16) == jjnp.result_type(jjnp.bfloat16, jjnp.float16)
    assert jnp.finfo(jnp.bfloat16).eps == jjnp.finfo(jjnp.bfloat16).eps
    assert jnp.iinfo(jnp.uint16).max == jjnp.iinfo(jjnp.uint16).max
    assert jnp.can_cast(jnp.int8, jnp.float16) == jjnp.can_cast(jjnp.int8, jjnp.float16)
    assert jnp.isdtype(jnp.float32, "real floating") and not jnp.isdtype(jnp.int32, "real floating")
    assert np.zeros(2, jnp.int8).dtype == np.int8


def test_under_transformations():
    f = lambda x: jnp.float32(x) * 2 + jnp.int32(1.9)  # noqa: E731
    jf = lambda x: jjnp.float32(x) * 2 + jjnp.int32(1.9)  # noqa: E731
    seen = []
    irjax.jit(lambda x: seen.append(type(jnp.float32(x))) or x)(1.0)
    assert seen == [irjax.core.Tracer]
    _same(irjax.jit(f)(3), jax.jit(jf)(3))
    _same(irjax.jit(lambda: jnp.float32(1.5))(), jax.jit(lambda: jjnp.float32(1.5))())
    assert float(irjax.grad(f)(1.0)) == float(jax.grad(jf)(1.0)) == 2.0
    x = np.arange(3.0, dtype=np.float32)
    _same(irjax.vmap(lambda v: jnp.int32(v))(x), jax.vmap(lambda v: jjnp.int32(v))(x))


@pytest.mark.parametrize("x", [1.5, 1.0, 3, True, [1.0, 2.0], 2.5 - 1j])
def test_repr_of_scalar_arrays_matches_jax(x):
    assert repr(jnp.asarray(x)) == repr(jjnp.asarray(x))
    assert repr(jnp.float32(1.5)) == repr(jjnp.float32(1.5)) == "Array(1.5, dtype=float32)"


def test_as_dtype_in_lax_random_and_shape_structs():
    x = np.arange(4.0, dtype=np.float32)
    for m in (jnp, jjnp):
        assert m.asarray(x).dtype == m.float32 and m.float32 == m.asarray(x).dtype
        assert m.asarray(x).dtype in (m.float16, m.float32)
    _same(irjax.lax.convert_element_type(x, jnp.int8), jax.lax.convert_element_type(x, jjnp.int8))
    _same(irjax.lax.iota(jnp.int16, 5), jax.lax.iota(jjnp.int16, 5))
    _same(
        irjax.random.randint(irjax.random.PRNGKey(0), (4,), 0, 9, jnp.int8),
        jax.random.randint(jax.random.PRNGKey(0), (4,), 0, 9, jjnp.int8),
    )
    _same(
        irjax.random.bits(irjax.random.PRNGKey(1), (3,), jnp.uint8),
        jax.random.bits(jax.random.PRNGKey(1), (3,), jjnp.uint8),
    )
    got = irjax.eval_shape(lambda a: a.astype(jnp.float16), irjax.ShapeDtypeStruct((2,), jnp.float32))
    want = jax.eval_shape(lambda a: a.astype(jjnp.float16), jax.ShapeDtypeStruct((2,), jjnp.float32))
    assert (got.shape, got.dtype) == (want.shape, want.dtype)
