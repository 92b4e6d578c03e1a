"""Tests for irjax.dtypes: canonicalization and JAX's type promotion lattice."""

import warnings

import numpy as np
import pytest
from irjax import dtypes

bf16 = dtypes.bfloat16
D = np.dtype

ALL_DTYPES = [
    D(t)
    for t in (
        "bool",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "int8",
        "int16",
        "int32",
        "int64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
]
if bf16 is not None:
    ALL_DTYPES.append(bf16)


class FakeArray:
    """Stands in for an irjax array/tracer: has .dtype and .weak_type."""

    def __init__(self, dtype, weak_type=False):
        self.dtype = np.dtype(dtype)
        self.weak_type = weak_type


# ------------------------------------------------------------ canonicalize
@pytest.mark.parametrize(
    "inp,out",
    [
        (np.int64, "int32"),
        (np.uint64, "uint32"),
        (np.float64, "float32"),
        (np.complex128, "complex64"),
        ("float64", "float32"),
        ("int64", "int32"),
        (float, "float32"),
        (int, "int32"),
        (bool, "bool"),
        (complex, "complex64"),
        (np.float16, "float16"),
        (np.int8, "int8"),
        (np.uint32, "uint32"),
        ("bool", "bool"),
        (np.dtype("complex64"), "complex64"),
    ],
)
def test_canonicalize(inp, out):
    got = dtypes.canonicalize_dtype(inp)
    assert isinstance(got, np.dtype)
    assert got == np.dtype(out)


def test_canonicalize_bfloat16_and_float0():
    if bf16 is not None:
        assert dtypes.canonicalize_dtype(bf16) == bf16
        assert dtypes.canonicalize_dtype("bfloat16") == bf16
    assert dtypes.canonicalize_dtype(dtypes.float0) == dtypes.float0
    assert dtypes.float0 == np.dtype([("float0", np.void, 0)])
    assert dtypes.float0.itemsize == 0


# ------------------------------------------------------------ promote_types
@pytest.mark.parametrize(
    "a,b,out",
    [
        ("bool", "bool", "bool"),
        ("bool", "uint8", "uint8"),
        ("bool", "float16", "float16"),
        ("uint8", "int8", "int16"),
        ("uint16", "int16", "int32"),
        ("uint32", "int32", "int32"),
        ("uint8", "uint32", "uint32"),
        ("int8", "int32", "int32"),
        ("int32", "float16", "float16"),
        ("int8", "float32", "float32"),
        ("uint64", "int64", "float64"),  # (as jnp.promote_types: not canonicalized)
        ("int64", "float32", "float32"),
        ("float16", "float32", "float32"),
        ("float32", "float64", "float64"),
        ("float32", "complex64", "complex64"),
        ("float64", "complex64", "complex128"),
        ("int32", "complex64", "complex64"),
        ("float16", "complex64", "complex64"),
        ("uint8", "uint8", "uint8"),
        ("int64", "int64", "int64"),
    ],
)
def test_promote_types_table(a, b, out):
    assert dtypes.promote_types(a, b) == np.dtype(out)
    assert dtypes.promote_types(b, a) == np.dtype(out)


@pytest.mark.skipif(bf16 is None, reason="ml_dtypes not installed")
def test_promote_bfloat16():
    assert dtypes.promote_types(bf16, np.float16) == np.float32
    assert dtypes.promote_types(bf16, bf16) == bf16
    assert dtypes.promote_types(bf16, np.int8) == bf16
    assert dtypes.promote_types(bf16, np.uint32) == bf16
    assert dtypes.promote_types(bf16, np.float32) == np.float32
    assert dtypes.promote_types(bf16, np.complex64) == np.complex64


def test_promote_types_python_types_are_weak():
    assert dtypes.promote_types(int, np.int8) == np.int8
    assert dtypes.promote_types(float, np.float16) == np.float16
    assert dtypes.promote_types(int, float) == np.float64  # weak nodes read as 64-bit, as in JAX
    assert dtypes.promote_types(bool, np.uint8) == np.uint8


def test_promotion_is_commutative_and_associative():
    for a in ALL_DTYPES:
        for b in ALL_DTYPES:
            assert dtypes.promote_types(a, b) == dtypes.promote_types(b, a)
    # Over canonical (x64-off) dtypes, result_type is a join: associative.
    canon = sorted({dtypes.canonicalize_dtype(d) for d in ALL_DTYPES}, key=str)
    for a in canon:
        for b in canon:
            ab = dtypes.result_type(a, b)
            for c in canon:
                assert dtypes.result_type(ab, c) == dtypes.result_type(a, dtypes.result_type(b, c))
                assert dtypes.result_type(a, b, c) == dtypes.result_type(ab, c)


# ------------------------------------------------------------ result_type / weak types
@pytest.mark.parametrize(
    "args,out,weak",
    [
        ((1, np.uint8), "uint8", False),
        ((1.0, np.int32), "float32", True),  # i32 <= f* in the lattice: stays weak
        ((1.0, np.float16), "float16", False),
        ((1, 1.0), "float32", True),
        ((1, 2), "int32", True),
        ((1.0, 1j), "complex64", True),
        ((True, 1), "int32", True),
        ((True, False), "bool", False),
        ((True, np.int8), "int8", False),
        ((1j, np.float16), "complex64", False),
        ((1j, np.float64), "complex64", False),
        ((1, np.bool_), "int32", True),
        ((np.float32(1), 1), "float32", False),
        ((np.array([1], np.int8), 3), "int8", False),
        ((np.array([1], np.int8), np.array([1], np.uint8)), "int16", False),
        ((np.float64, np.int64), "float32", False),
        ((np.int64, np.uint64), "int32", False),  # inputs canonicalized first, as in JAX
        ((np.float16,), "float16", False),
        ((1.0,), "float32", True),
        ((float, np.int8), "float32", True),
        ((int, np.int8), "int8", False),
    ],
)
def test_result_type(args, out, weak):
    dt, w = dtypes.result_type(*args, return_weak_type_flag=True)
    assert dt == np.dtype(out)
    assert w is weak
    assert dtypes.result_type(*args) == np.dtype(out)


def test_result_type_weak_arrays():
    weak_f32 = FakeArray("float32", weak_type=True)
    weak_i32 = FakeArray("int32", weak_type=True)
    assert dtypes.result_type(weak_f32, np.float16) == np.float16
    assert dtypes.result_type(weak_i32, FakeArray("uint8")) == np.uint8
    assert dtypes.result_type(weak_i32, weak_f32, return_weak_type_flag=True) == (D("float32"), True)
    assert dtypes.result_type(FakeArray("float32"), weak_f32, return_weak_type_flag=True) == (D("float32"), False)
    assert dtypes.result_type(weak_f32, return_weak_type_flag=True) == (D("float32"), True)


def test_result_type_requires_args():
    with pytest.raises(ValueError):
        dtypes.result_type()


# ------------------------------------------------------------ helpers
def test_helpers():
    assert dtypes.is_weakly_typed(1) and dtypes.is_weakly_typed(1.0) and dtypes.is_weakly_typed(1j)
    assert not dtypes.is_weakly_typed(True)
    assert not dtypes.is_weakly_typed(np.float32(1))
    assert not dtypes.is_weakly_typed(np.ones(2))
    assert dtypes.is_weakly_typed(FakeArray("float32", True))
    assert dtypes.dtype_of(True) == np.bool_
    assert dtypes.dtype_of(3) == np.int32
    assert dtypes.dtype_of(3.0) == np.float32
    assert dtypes.dtype_of(3j) == np.complex64
    assert dtypes.dtype_of(np.ones(2)) == np.float32
    assert dtypes.dtype_of(np.ones(2, np.int16)) == np.int16
    assert dtypes.dtype_of(FakeArray("int64")) == np.int32
    assert dtypes.dtype_of([1.0, 2.0]) == np.float32
    assert dtypes.default_float == np.float32 and dtypes.default_int == np.int32
    assert dtypes.is_float(np.float16) and dtypes.is_float("float32") and dtypes.is_float(float)
    assert not dtypes.is_float(np.int32) and not dtypes.is_float(np.complex64)
    assert dtypes.is_int(np.uint8) and dtypes.is_int(np.int64) and dtypes.is_int(int)
    assert not dtypes.is_int(np.bool_) and not dtypes.is_int(np.float32)
    assert dtypes.issubdtype(np.float32, np.floating)
    assert not dtypes.issubdtype(np.int32, np.floating)
    if bf16 is not None:
        assert dtypes.is_float(bf16) and dtypes.issubdtype(bf16, np.floating)


# ------------------------------------------------------------ differential vs JAX
def test_matches_jax():
    jax = pytest.importorskip("jax")
    jnp = pytest.importorskip("jax.numpy")
    warnings.simplefilter("ignore")  # JAX warns about x64 truncation

    for a in ALL_DTYPES:
        for b in ALL_DTYPES:
            expect = jnp.promote_types(a, b)
            assert dtypes.promote_types(a, b) == expect, (a, b)
            expect = jax.dtypes.result_type(a, b, return_weak_type_flag=True)
            got = dtypes.result_type(a, b, return_weak_type_flag=True)
            assert got == (np.dtype(expect[0]), expect[1]), (a, b)

    weak_vals = [jnp.add(1, 1), jnp.add(1.0, 1.0), jnp.add(1j, 1j)]
    fake_weak = [FakeArray(v.dtype, True) for v in weak_vals]
    for scalar in (True, 1, 1.0, 1j, int, float, complex):
        for d in ALL_DTYPES:
            expect = jax.dtypes.result_type(d, scalar, return_weak_type_flag=True)
            got = dtypes.result_type(d, scalar, return_weak_type_flag=True)
            assert got == (np.dtype(expect[0]), expect[1]), (d, scalar)
            arr = np.zeros(2, d)
            expect = jnp.result_type(arr, scalar)
            assert dtypes.result_type(arr, scalar) == np.dtype(expect), (d, scalar)
        for v, fv in zip(weak_vals, fake_weak):
            expect = jax.dtypes.result_type(v, scalar, return_weak_type_flag=True)
            got = dtypes.result_type(fv, scalar, return_weak_type_flag=True)
            assert got == (np.dtype(expect[0]), expect[1]), (v.dtype, scalar)
    for v, fv in zip(weak_vals, fake_weak):
        for d in ALL_DTYPES:
            expect = jax.dtypes.result_type(v, d, return_weak_type_flag=True)
            got = dtypes.result_type(fv, d, return_weak_type_flag=True)
            assert got == (np.dtype(expect[0]), expect[1]), (v.dtype, d)
    for d in ALL_DTYPES:
        assert dtypes.canonicalize_dtype(d) == jax.dtypes.canonicalize_dtype(d), d


def test_matches_jax_multi_arg():
    jax = pytest.importorskip("jax")
    warnings.simplefilter("ignore")
    import itertools

    pool = [
        D("bool"),
        D("uint8"),
        D("int8"),
        D("uint32"),
        D("int32"),
        D("float16"),
        D("float32"),
        D("complex64"),
        True,
        1,
        1.0,
        1j,
    ]
    if bf16 is not None:
        pool.append(bf16)
    for args in itertools.combinations_with_replacement(pool, 3):
        expect = jax.dtypes.result_type(*args, return_weak_type_flag=True)
        got = dtypes.result_type(*args, return_weak_type_flag=True)
        assert got == (np.dtype(expect[0]), expect[1]), args
