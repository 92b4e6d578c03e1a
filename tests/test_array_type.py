"""What the second probe of everyday code found, against JAX: jax.Array as the type of every
array value (tracers and typed keys too), jnp.array of a range or a memoryview, products of
bools, and .at[].power on repeated indices."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from jax_diff import assert_matches_jax

jax = pytest.importorskip("jax")


def test_array_is_the_type_of_tracers_and_keys():
    def program(lib):
        seen = []

        def probe(where):
            def f(x):
                seen.append((where, isinstance(x, lib.Array), isinstance(x, lib.numpy.ndarray)))
                return x

            return f

        lib.jit(probe("jit"))(lib.numpy.ones(2))
        lib.vmap(probe("vmap"))(lib.numpy.ones(2))
        lib.grad(probe("grad"))(1.0)
        seen.append(("key", isinstance(lib.random.key(0), lib.Array), None))
        seen.append(("raw key", isinstance(lib.random.PRNGKey(0), lib.Array), None))
        seen.append(("numpy", isinstance(np.ones(2), lib.Array), isinstance(np.ones(2), lib.numpy.ndarray)))
        seen.append(("float", isinstance(1.0, lib.Array), isinstance(1.0, lib.numpy.ndarray)))
        return seen

    assert program(irjax) == program(jax)
    assert irjax.Array in irjax.typing.ArrayLike.__args__


def test_array_of_range_and_memoryview():
    for mine, theirs in (
        (jnp.array(range(3)), jax.numpy.array(range(3))),
        (jnp.asarray(range(2, 5), dtype=jnp.float32), jax.numpy.asarray(range(2, 5), dtype=jax.numpy.float32)),
        (
            jnp.array(memoryview(np.arange(3, dtype=np.int16))),
            jax.numpy.array(memoryview(np.arange(3, dtype=np.int16))),
        ),
    ):
        assert_matches_jax(mine, theirs, exact=True)


@pytest.mark.parametrize("name", ["dot", "matmul", "vdot", "inner", "tensordot", "outer"])
def test_products_of_bools_are_bools(name):
    a = np.array([[True, False], [True, True]])
    b = np.array([[False, True], [True, False]])
    call = (lambda m: m.tensordot(a, b, 1)) if name == "tensordot" else (lambda m: getattr(m, name)(a, b))
    assert_matches_jax(call(jnp), call(jax.numpy), exact=True)
    assert_matches_jax(
        jnp.dot(a, b, preferred_element_type=jnp.int32),
        jax.numpy.dot(a, b, preferred_element_type=jax.numpy.int32),
        exact=True,
    )


def test_at_power_applies_once_per_occurrence():
    for build in (
        lambda m: m.array([1.5, 2.0, 3.0]).at[np.array([0, 0])].power(2),
        lambda m: m.array([1.5, 2.0, 3.0]).at[np.array([0, 2, 0])].power(np.array([2.0, 3.0, 0.5])),
        lambda m: m.array([2, 3, 4]).at[np.array([1, 1, 5])].power(2, mode="drop"),
        lambda m: m.array([2, 3, 4]).at[1].power(3),
    ):
        assert_matches_jax(build(jnp), build(jax.numpy), tol=1e-6)


@pytest.mark.parametrize("op", ["floor_divide", "remainder", "power", "left_shift", "right_shift", "fmod"])
def test_arithmetic_on_two_bools_counts_them_as_int32(op):
    b = np.array([True, False])
    assert_matches_jax(getattr(jnp, op)(b, b), getattr(jax.numpy, op)(b, b), exact=True)
    with pytest.raises(TypeError, match="only defined for integer and boolean"):
        jnp.array([1.5]) >> 2


def test_rdivmod_and_lax_pow_with_an_integer_exponent():
    for a, b in ((17, np.arange(1, 4)), (np.arange(1, 4), np.arange(1, 4))):
        got = divmod(a, jnp.asarray(b))
        assert_matches_jax(got, divmod(a, jax.numpy.asarray(b)), exact=True)
    x, n = np.float32([2.0, 3.0]), np.int32([2, 3])
    assert_matches_jax(irjax.lax.pow(x, n), jax.lax.pow(x, n), exact=True)


@pytest.mark.parametrize(
    "idx",
    [
        (0, True),
        (Ellipsis, True),
        (True, 0),
        (slice(None), False, 1),
        (np.array([0, 2]), True),
        (np.True_, slice(1, 3)),
    ],
    ids=str,
)
def test_scalar_bools_among_other_indices(idx):
    # NumPy's rule: a new axis of length 1 (True) or 0 (False), indexed as an advanced index
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(np.asarray(jnp.asarray(x)[idx]), x[idx])
    if any(isinstance(i, slice) and i != slice(None) for i in idx):
        return  # (.at[] does not mix advanced indices with partial slices yet)
    want = x.copy()
    want[idx] = -1.0
    np.testing.assert_array_equal(np.asarray(jnp.asarray(x).at[idx].set(-1.0)), want)


KEY_PROGRAMS = {
    "stack": lambda m, k, ks: m.numpy.stack([k, k]),
    "stack_axis": lambda m, k, ks: m.numpy.stack([ks, ks], axis=-1),
    "concatenate": lambda m, k, ks: m.numpy.concatenate([ks, ks[:1]]),
    "where": lambda m, k, ks: m.numpy.where(m.numpy.array([True, False, True]), ks, ks[::-1]),
    "broadcast_to": lambda m, k, ks: m.numpy.broadcast_to(k, (2, 3)),
    "take": lambda m, k, ks: m.numpy.take(ks, m.numpy.array([0, 2])),
    "expand_dims": lambda m, k, ks: m.numpy.expand_dims(ks, -1),
    "swapaxes": lambda m, k, ks: m.numpy.swapaxes(ks.reshape(1, 3), 0, 1),
    "transpose": lambda m, k, ks: m.numpy.transpose(ks.reshape(1, 3)),
    "array_of_keys": lambda m, k, ks: m.numpy.array([k, k]),
    "asarray": lambda m, k, ks: m.numpy.asarray(ks),
    "none_index": lambda m, k, ks: k[None],
    "method_swapaxes": lambda m, k, ks: ks.reshape(1, 3).swapaxes(0, 1),
    "at_set": lambda m, k, ks: ks.at[1].set(k),
    "at_get": lambda m, k, ks: ks.at[0].get(),
    "split_of_stacked": lambda m, k, ks: m.random.split(m.numpy.stack([k, ks[1]])[1], 2),
}


@pytest.mark.parametrize("name", list(KEY_PROGRAMS))
def test_typed_keys_move_whole_through_jnp(name):
    def run(m):
        k = m.random.key(0)
        out = KEY_PROGRAMS[name](m, k, m.random.split(k, 3))
        assert m.numpy.issubdtype(out.dtype, m.dtypes.prng_key)
        return m.random.key_data(out)

    assert_matches_jax(run(irjax), run(jax), exact=True)


def test_lists_with_numpy_values_keep_their_dtypes():
    # NumPy scalars and arrays are strongly typed, Python numbers weak (JAX's rule)
    for items in (
        [np.float16(1), 2],
        [np.int16(1), 2],
        [np.float16(1), 2.5],
        [np.float32(1), 2],
        [np.float64(1), 2],
        [np.int8(1), 2.5],
        [np.int16(1), np.float16(2)],
        [[np.int8(1)], [3]],
        [np.bool_(True), 2],
        [np.array([1, 2], np.int16), [3, 4]],
    ):
        assert_matches_jax(jnp.array(items), jax.numpy.array(items), exact=True)
