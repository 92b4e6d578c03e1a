"""Indexing at the edges against JAX: out-of-range indices and gather/scatter modes, negative
dynamic_slice starts (eager, jit, grad, vmap), and eager indexing that reuses one executable
for every Python-int index. Values and dtypes are compared with JAX's."""

import irjax
import irjax.numpy as jnp
import jax
import jax.numpy as jnp_ref
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from irjax import lax
from irjax.runtime import compiler

jax.config.update("jax_platforms", "cpu")

X = np.arange(3.0, dtype=np.float32)
I = np.array([0, 5, -1, -7], np.int32)
M = np.arange(6.0, dtype=np.float32).reshape(2, 3)

# (name, f(jnp, x)) run with irjax and with JAX on the same NumPy inputs
CASES = [
    ("static_oob_int", lambda np_, x: x[5]),
    ("static_negative_oob_int", lambda np_, x: x[-5]),
    ("static_negative_int", lambda np_, x: x[-1]),
    ("array_index_default", lambda np_, x: x[np_.asarray(I)]),
    ("numpy_index_default", lambda np_, x: x[I]),
    ("get_fill", lambda np_, x: x.at[I].get(mode="fill")),
    ("get_fill_value", lambda np_, x: x.at[I].get(mode="fill", fill_value=-1)),
    ("get_drop", lambda np_, x: x.at[I].get(mode="drop")),
    ("get_clip", lambda np_, x: x.at[I].get(mode="clip")),
    ("get_promise", lambda np_, x: x.at[np.array([0, 2])].get(mode="promise_in_bounds")),
    ("get_static_fill", lambda np_, x: x.at[5].get(mode="fill")),
    ("get_static_default", lambda np_, x: x.at[5].get()),
    ("get_fill_int", lambda np_, x: x.astype(np_.int32).at[I].get(mode="fill")),
    ("get_fill_uint8", lambda np_, x: x.astype(np_.uint8).at[I].get(mode="fill")),
    ("get_fill_bool", lambda np_, x: (x > 0).at[I].get(mode="fill")),
    ("get_fill_2d_row", lambda np_, x: np_.reshape(np_.arange(6.0), (2, 3)).at[np.array([0, 2])].get(mode="fill")),
    ("get_fill_2d_point", lambda np_, x: np_.reshape(np_.arange(6.0), (2, 3)).at[np.array([0, 2]), 1].get(mode="fill")),
    ("set_default", lambda np_, x: x.at[I].set(9.0)),
    ("set_drop", lambda np_, x: x.at[I].set(9.0, mode="drop")),
    ("set_fill", lambda np_, x: x.at[I].set(9.0, mode="fill")),
    ("set_clip", lambda np_, x: x.at[I].set(np_.asarray([9.0, 8.0, 7.0, 6.0]), mode="clip")),
    ("set_promise", lambda np_, x: x.at[np.array([0, 1])].set(9.0, mode="promise_in_bounds")),
    ("add_static_oob", lambda np_, x: x.at[5].add(1.0)),
    ("set_static_negative", lambda np_, x: x.at[-1].set(7.0)),
    ("set_static_negative_oob", lambda np_, x: x.at[-5].set(7.0)),
    ("set_static_clip", lambda np_, x: x.at[7].set(7.0, mode="clip")),
    ("mul_clip", lambda np_, x: x.at[np.array([5])].mul(2.0, mode="clip")),
    ("min_drop", lambda np_, x: x.at[np.array([5, 0])].min(-1.0, mode="drop")),
    ("max_clip", lambda np_, x: x.at[np.array([-9, 9])].max(10.0, mode="clip")),
    ("slice_oob_set", lambda np_, x: x.at[5:7].set(1.0)),
    ("slice_oob_get", lambda np_, x: x[5:10]),
    ("take_default", lambda np_, x: np_.take(x, I)),
    ("take_clip", lambda np_, x: np_.take(x, I, mode="clip")),
    ("take_wrap", lambda np_, x: np_.take(x, I, mode="wrap")),
    ("take_fill", lambda np_, x: np_.take(x, I, mode="fill")),
    ("take_fill_value", lambda np_, x: np_.take(x, I, mode="fill", fill_value=3.0)),
    ("take_int_default", lambda np_, x: np_.take(x.astype(np_.int32), I)),
    ("take_2d_axis1", lambda np_, x: np_.take(np_.reshape(np_.arange(6.0), (2, 3)), I, axis=1)),
    ("take_along_default", lambda np_, x: np_.take_along_axis(x, I, axis=0)),
    ("take_along_clip", lambda np_, x: np_.take_along_axis(x, I, axis=0, mode="clip")),
    ("take_along_fill", lambda np_, x: np_.take_along_axis(x, I, axis=0, mode="fill")),
]


def _check(got, want):
    assert np.asarray(got).dtype == np.asarray(want).dtype, (np.asarray(got).dtype, np.asarray(want).dtype)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


@pytest.mark.parametrize("name,f", CASES, ids=[c[0] for c in CASES])
def test_out_of_range_indexing_matches_jax(name, f):
    want = f(jnp_ref, jnp_ref.asarray(X))
    _check(f(jnp, jnp.asarray(X)), want)
    _check(irjax.jit(lambda x: f(jnp, x))(X), want)


@pytest.mark.parametrize(
    "call",
    [
        lambda np_, x: x.at[np.array([0])].get(mode="bogus"),
        lambda np_, x: x.at[np.array([0])].set(1.0, mode="bogus"),
        lambda np_, x: np_.take(x, np.array([0]), mode="bogus"),
    ],
)
def test_unknown_mode_is_a_value_error(call):
    with pytest.raises(ValueError) as want:
        call(jnp_ref, jnp_ref.asarray(X))
    with pytest.raises(ValueError) as got:
        call(jnp, jnp.asarray(X))
    assert "bogus" in str(got.value) and "mode" in str(got.value).lower(), (got.value, want.value)


def test_take_raise_mode_and_empty_axis_errors_match_jax():
    for mod in (jnp_ref, jnp):
        with pytest.raises(NotImplementedError):
            mod.take(mod.asarray(X), np.array([0]), mode="raise")
        with pytest.raises(IndexError, match="empty axis"):
            mod.take(mod.zeros((0,)), np.array([0, 1]))
        with pytest.raises(IndexError):
            mod.zeros((0,))[0]


def test_top_level_list_index_is_a_type_error_as_in_jax():
    for mod in (jnp_ref, jnp):
        x = mod.asarray(M)
        with pytest.raises(TypeError, match="non-tuple sequence"):
            x[[0, 1]]
        with pytest.raises(TypeError, match="non-tuple sequence"):
            x.at[[0, 1]].set(1.0)
    _check(jnp.asarray(M)[[0, 1], 1], jnp_ref.asarray(M)[[0, 1], 1])  # inside a tuple: an array
    _check(jnp.asarray(M)[:, [0, 2]], jnp_ref.asarray(M)[:, [0, 2]])


def test_traced_out_of_range_index_clamps_under_jit():
    for i in (10, -1, -10, 2):
        _check(irjax.jit(lambda x, i: x[i])(X, i), jax.jit(lambda x, i: x[i])(X, i))
        _check(irjax.jit(lambda x, i: x.at[i].set(5.0))(X, i), jax.jit(lambda x, i: x.at[i].set(5.0))(X, i))


@pytest.mark.parametrize(
    "f",
    [
        lambda np_, x: np_.sum(x.at[np.array([0, 5, 1])].get(mode="fill") ** 2),
        lambda np_, x: np_.sum(x.at[np.array([0, 5, 1])].get(mode="clip") ** 2),
        lambda np_, x: np_.sum(x.at[np.array([0, 5])].set(1.0, mode="drop") * x),
        lambda np_, x: np_.sum(x.at[np.array([0, 5])].set(1.0, mode="clip") * x),
        lambda np_, x: np_.sum(np_.take(x, np.array([-1, 4, 0])) * 3.0, where=np.array([True, False, True])),
    ],
)
def test_mode_gradients_match_jax(f):
    want = jax.grad(lambda x: f(jnp_ref, x))(X + 1)
    np.testing.assert_allclose(np.asarray(irjax.grad(lambda x: f(jnp, x))(X + 1)), np.asarray(want))
    np.testing.assert_allclose(np.asarray(irjax.jit(irjax.grad(lambda x: f(jnp, x)))(X + 1)), np.asarray(want))


def test_fill_mode_under_vmap_matches_loop():
    idx = np.array([[0, 5], [-1, 2], [-4, 1]], np.int32)
    f = lambda i: jnp.asarray(X).at[i].get(mode="fill", fill_value=-2.0)  # noqa: E731
    got = irjax.vmap(f)(idx)
    want = np.stack([np.asarray(f(i)) for i in idx])
    np.testing.assert_array_equal(np.asarray(got), want)


# ---- dynamic_slice with negative starts -------------------------------------------------------

DYN = [
    ("ds_neg", lambda l, x, i: l.dynamic_slice(x, (i, 0), (2, 2))),
    ("ds_in_dim", lambda l, x, i: l.dynamic_slice_in_dim(x, i, 2, axis=1)),
    ("index_in_dim", lambda l, x, i: l.dynamic_index_in_dim(x, i, axis=0, keepdims=False)),
    ("dus_neg", lambda l, x, i: l.dynamic_update_slice(x, x[:1, :2] * 10, (i, i))),
    ("dus_in_dim", lambda l, x, i: l.dynamic_update_slice_in_dim(x, x[:, :1] * 10, i, axis=1)),
]
STARTS = [-1, -2, -3, -4, -100, 0, 1, 7]


@pytest.mark.parametrize("name,f", DYN, ids=[d[0] for d in DYN])
def test_negative_dynamic_starts_wrap_then_clamp(name, f):
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    for i in STARTS:
        want = f(jax.lax, jnp_ref.asarray(x), i)
        _check(f(lax, jnp.asarray(x), i), want)  # Python-int start
        _check(irjax.jit(lambda x, i: f(lax, x, i))(x, np.int32(i)), want)  # traced start
        _check(f(lax, jnp.asarray(x), np.int8(i)), want)  # small int dtype


@pytest.mark.parametrize("name,f", DYN, ids=[d[0] for d in DYN])
def test_negative_dynamic_starts_grad_and_vmap(name, f):
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    for i in (-1, -3, 2):
        want = jax.grad(lambda x: jnp_ref.sum(f(jax.lax, x, i) ** 2))(x)
        got = irjax.grad(lambda x: jnp.sum(f(lax, x, i) ** 2))(x)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want))
    starts = np.array(STARTS, np.int32)
    got = irjax.vmap(lambda i: f(lax, jnp.asarray(x), i))(starts)  # batched starts
    want = np.stack([np.asarray(f(jax.lax, jnp_ref.asarray(x), int(i))) for i in starts])
    np.testing.assert_array_equal(np.asarray(got), want)
    xs = np.stack([x, x + 1])
    got = irjax.vmap(lambda x, i: f(lax, x, i))(xs, np.array([-1, -2], np.int32))  # both batched
    want = np.stack([np.asarray(f(jax.lax, jnp_ref.asarray(a), int(i))) for a, i in zip(xs, (-1, -2))])
    np.testing.assert_array_equal(np.asarray(got), want)


# ---- eager indexing: one executable for every index --------------------------------------------


@pytest.mark.parametrize(
    "index",
    [
        lambda l, np_, x, i: x[i],
        lambda l, np_, x, i: x[-i - 1],
        lambda l, np_, x, i: x[i : i + 3],
        lambda l, np_, x, i: x.at[i].set(1.0),
        lambda l, np_, x, i: l.dynamic_slice(x, (i,), (4,)),
        lambda l, np_, x, i: l.dynamic_update_slice(x, np_.ones(2), (i,)),
    ],
    ids=["x[i]", "x[-i-1]", "x[i:i+3]", "at_set", "dynamic_slice", "dynamic_update_slice"],
)
def test_eager_distinct_indices_compile_at_most_twice(index):
    """Python-int indices are runtime operands, not IR constants: 50 of them, at most 2 modules."""
    x, xr = jnp.arange(64.0), jnp_ref.arange(64.0)
    before = compiler.stats["compiles"] + compiler.stats["disk_hits"]
    outs = [np.asarray(index(lax, jnp, x, i)) for i in range(50)]
    loads = compiler.stats["compiles"] + compiler.stats["disk_hits"] - before
    assert loads <= 2, f"{loads} modules compiled or loaded for 50 distinct eager indices"
    for i in (0, 17, 49):
        _check(outs[i], index(jax.lax, jnp_ref, xr, i))


def test_eager_int_index_values():
    x = jnp.arange(10.0)
    for i in (0, 3, 9, -1, -10, 12, -12):
        _check(x[i], jnp_ref.arange(10.0)[i])
        _check(x[i : i + 2], jnp_ref.arange(10.0)[i : i + 2])
    m = jnp.asarray(M)
    _check(m[1], jnp_ref.asarray(M)[1])
    _check(m[-1, 1:], jnp_ref.asarray(M)[-1, 1:])
    _check(m[:, 2], jnp_ref.asarray(M)[:, 2])
    _check(m[1:1], jnp_ref.asarray(M)[1:1])


# ---- property tests --------------------------------------------------------------------------

SHAPES = [(0,), (4,), (3, 0), (2, 3), (1, 4)]
DTYPES = ["float32", "int32", "uint8", "bool"]
EDGE = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.5, -2.0, 3.0]


@st.composite
def arrays(draw):
    shape = draw(st.sampled_from(SHAPES))
    dt = draw(st.sampled_from(DTYPES))
    n = int(np.prod(shape))
    if dt == "float32":
        vals = draw(st.lists(st.sampled_from(EDGE), min_size=n, max_size=n))
    else:
        vals = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    return np.array(vals, dtype=np.float64).astype(dt).reshape(shape)


def _same(got_fn, want_fn):
    try:
        want = want_fn()
    except Exception as ex:  # noqa: BLE001
        with pytest.raises(Exception) as got:  # noqa: PT011
            got_fn()
        assert type(got.value).__name__ in (type(ex).__name__, "VerifyError", "TypeError"), (got.value, ex)
        return
    got = got_fn()
    g, w = np.asarray(got), np.asarray(want)
    assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, w.dtype, g.shape, w.shape)
    np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-6, atol=1e-6, equal_nan=True)


REDS = ["sum", "prod", "max", "min", "mean", "argmax", "argmin", "cumsum", "all", "any"]

PROP = settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))


@PROP
@given(arrays(), st.sampled_from(REDS), st.integers(-1, 1))
def test_property_reductions_match_jax(x, name, axis):
    if name in ("all", "any") and x.dtype != np.bool_:
        x = x != 0
    ax = None if axis >= x.ndim else axis
    _same(lambda: getattr(jnp, name)(x, axis=ax), lambda: getattr(jnp_ref, name)(x, axis=ax))


@PROP
@given(
    arrays(),
    st.integers(-6, 6),
    st.integers(-6, 6),
    st.sampled_from([1, -1, 2, -2]),
    st.sampled_from(["clip", "fill", "wrap"]),
)
def test_property_indexing_matches_jax(x, i, j, step, mode):
    _same(lambda: jnp.asarray(x)[i:j:step], lambda: jnp_ref.asarray(x)[i:j:step])
    if x.shape[0]:
        _same(lambda: jnp.asarray(x)[i], lambda: jnp_ref.asarray(x)[i])
    idx = np.array([i, j, 0], np.int32)
    _same(lambda: jnp.take(x, idx, axis=0, mode=mode), lambda: jnp_ref.take(x, idx, axis=0, mode=mode))
    if x.shape[0] and x.dtype != np.bool_:
        _same(lambda: jnp.asarray(x).at[idx].add(1), lambda: jnp_ref.asarray(x).at[idx].add(1))
        _same(lambda: jnp.asarray(x).at[i].set(2, mode="clip"), lambda: jnp_ref.asarray(x).at[i].set(2, mode="clip"))
        _same(lambda: jnp.asarray(x).at[idx].get(mode="fill"), lambda: jnp_ref.asarray(x).at[idx].get(mode="fill"))
