"""Eager ops with Python and NumPy scalar operands: promotion as JAX's, and the device buffers of
host scalars that frontend/numpy/_util.py shares between uses (no use can change another's)."""

import threading

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.numpy import _util

jax = pytest.importorskip("jax")
jjnp = pytest.importorskip("jax.numpy")

_SCALARS = [2, 2.5, True, 1 + 2j, np.float32(1.5), np.int32(3), np.float16(0.5), np.array(4.0), np.uint8(7)]
_ARRAYS = [np.arange(6, dtype=np.float32).reshape(2, 3), np.arange(6, dtype=np.int32), np.array([True, False])]


@pytest.mark.parametrize("s", _SCALARS, ids=repr)
@pytest.mark.parametrize("x", _ARRAYS, ids=lambda a: f"{a.dtype}{a.shape}")
def test_scalar_operands_promote_and_broadcast_as_jax(x, s):
    for op in (jnp.add, jnp.multiply, lambda a, b: jnp.where(a == a, b, a)):
        jop = {jnp.add: jjnp.add, jnp.multiply: jjnp.multiply}.get(op, lambda a, b: jjnp.where(a == a, b, a))
        for args, jargs in (((jnp.asarray(x), s), (jjnp.asarray(x), s)), ((s, jnp.asarray(x)), (s, jjnp.asarray(x)))):
            got, want = op(*args), jop(*jargs)
            assert got.dtype == want.dtype and got.shape == want.shape and got.weak_type == want.weak_type
            np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_the_promotion_memo_follows_x64():
    x = jnp.asarray(np.arange(3, dtype=np.int32))
    assert (x + 2.5).dtype == np.float32
    with irjax.enable_x64(True):
        assert (jnp.asarray(np.arange(3)) + 2.5).dtype == np.float64
        assert (np.float64(1.0) * jnp.ones(2)).dtype == np.float64
    assert (x + 2.5).dtype == np.float32 and (np.float64(1.0) * jnp.ones(2)).dtype == np.float32


def test_shared_scalar_buffers_cannot_be_changed_through_one_use():
    x = jnp.ones(3, jnp.float32)
    y = x + 2.0  # caches the buffer of 2.0 filled to (3,)
    use = _util._host_scalar(2.0, np.dtype(np.float32), False, (3,))  # another use of that buffer
    assert any(bv is use._bv for bv in _util._scalar_buffers.values())  # the cached buffer itself
    np.from_dlpack(use)[0] = 99.0  # a DLPack export of a shared buffer is a copy
    irjax.jit(lambda a: a.at[0].set(-1.0), donate_argnums=0)(use)
    _util._host_scalar(2.0, np.dtype(np.float32), False, (3,)).delete()
    np.testing.assert_array_equal(np.asarray(y), [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(np.asarray(x + 2.0), [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(np.asarray(2.0 * x), [2.0, 2.0, 2.0])
    own = x * 3.0  # an ordinary result still exports without a copy (writes show, as JAX's CPU export)
    np.from_dlpack(own)[0] = 5.0
    assert float(own[0]) == 5.0


def test_scalar_cache_keys_keep_signed_zeros_and_nans_apart():
    x = jnp.ones(3, jnp.float32)
    np.testing.assert_array_equal(np.asarray(1.0 / (x * 0.0)), [np.inf] * 3)
    np.testing.assert_array_equal(np.asarray(1.0 / (x * -0.0)), [-np.inf] * 3)  # -0.0 == 0.0 as a dict key
    np.testing.assert_array_equal(np.asarray(1.0 / (x * 0.0)), [np.inf] * 3)
    before = len(_util._scalar_buffers)
    for _ in range(5):  # each float('nan') is a new object that equals nothing: one entry, by its bytes
        assert np.isnan(np.asarray(x + float("nan"))).all()
    assert len(_util._scalar_buffers) <= before + 1
    assert (x + True).dtype == np.float32 and float((x + True)[0]) == 2.0  # bool apart from int 1
    assert float((jnp.ones(3, jnp.int32) + True)[0]) == 2


def test_many_distinct_scalars_past_the_cache_and_large_shapes():
    x = jnp.asarray(np.arange(4, dtype=np.float32))
    n = _util._SCALAR_BUFFERS_MAX + 50
    got = [float((x + float(i))[1]) for i in range(n)]  # a cache that is full stops caching
    assert got == [1.0 + i for i in range(n)]
    assert len(_util._scalar_buffers) <= _util._SCALAR_BUFFERS_MAX
    big = jnp.zeros((300, 40), jnp.float32)  # over _SCALAR_FILL_MAX: a rank-0 buffer, broadcast
    np.testing.assert_array_equal(np.asarray(big - 1.25), np.full((300, 40), -1.25, np.float32))
    np.testing.assert_array_equal(np.asarray(jnp.zeros((2, 600)) + 1.25), np.full((2, 600), 1.25, np.float32))


def test_scalar_operands_from_threads():
    x = jnp.asarray(np.arange(8, dtype=np.float32))
    errors = []

    def work(k):
        try:
            for i in range(40):
                v = float(k * 100 + i % 7)
                np.testing.assert_array_equal(np.asarray(x * 2.0 + v), np.arange(8) * 2.0 + v)
        except Exception as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.parametrize("x64", [False, True])
def test_array_and_python_scalar_fast_path_is_the_full_rule(x64):
    """promote's shortcut for a strong array with a Python float or int (float/complex arrays)
    or a NumPy scalar of its own dtype gives what JAX's full promotion rule gives (dtype, weak
    type, shapes), operands in either order, eager and traced; pairs it does not cover (weak
    arrays, ints with Python scalars, bools, NumPy scalars of other dtypes) are left to the rule."""
    import ml_dtypes

    def check(arr, s, weak, seen):
        for args in ((arr, s), (s, arr)):
            want_dt, want_weak = irjax.dtypes.result_type(*args, return_weak_type_flag=True)
            fast = _util._array_and_scalar(args, False)
            if fast is None:
                numpy_other = isinstance(s, (np.ndarray, np.generic)) and s.dtype != arr.dtype
                assert weak or np.dtype(arr.dtype).kind == "i" or type(s) is bool or numpy_other
                continue
            seen.append(1)
            ops, fdt, fweak = fast
            assert (np.dtype(fdt), fweak) == (np.dtype(want_dt), want_weak)
            assert [(o.shape, np.dtype(o.dtype)) for o in ops] == [((2, 3), np.dtype(want_dt))] * 2

    old = irjax.config.read("jax_enable_x64")
    irjax.config.update("jax_enable_x64", x64)
    try:
        eager, traced = [], []
        for dt in (np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.complex64, np.complex128, np.int32):
            for weak in (False, True):
                arr = _util.with_weak(jnp.asarray(np.ones((2, 3), dt)), weak)
                if arr.dtype != np.dtype(dt):
                    continue  # (float64 without x64)
                own, other = np.asarray(2, dt), np.float16(2) if np.dtype(dt) != np.float16 else np.float32(2)
                for s in (2.5, 3, -7, True, own, own[()], other):
                    check(arr, s, weak, eager)
                    irjax.jit(lambda t, s=s, weak=weak: check(_util.with_weak(t, weak), s, weak, traced) or t)(arr)
        # 4 float dtypes (6 with x64) x 5 scalars x 2 orders, + int32 x 2 x 2
        assert len(eager) >= 44
        assert len(traced) == len(eager)
    finally:
        irjax.config.update("jax_enable_x64", old)


@pytest.mark.parametrize("s", [2, 2.5, np.int32(2), np.float32(2), np.array(2, np.int32)], ids=repr)
@pytest.mark.parametrize("dt", [np.int32, np.float32])
def test_scalar_operand_ops_match_jax(dt, s):
    """Ops through promote's shortcut and around it (true_divide of integers is a float; 3 / 0
    is inf, not an integer division's -1) give JAX's dtypes and values, in either order."""
    x = np.arange(-2, 3).astype(dt)
    for name in ("true_divide", "subtract", "multiply", "floor_divide", "power", "maximum"):
        op, jop = getattr(jnp, name), getattr(jjnp, name)
        for args, jargs in (((jnp.asarray(x), s), (jjnp.asarray(x), s)), ((s, jnp.asarray(x)), (s, jjnp.asarray(x)))):
            if name == "power" and np.dtype(dt).kind == "i" and args[0] is s:
                continue  # (integer powers with negative exponents: an error in both)
            got, want = op(*args), jop(*jargs)
            assert (got.dtype, got.weak_type) == (want.dtype, want.weak_type), (name, args)
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, err_msg=name)
