"""The jax.lax names of lax_names.py, lax_types.py, lax_conv_shapes.py and lax_ragged.py against
jax.lax on the same inputs: values and dtypes under jit, grads, vmap against a loop, bad input."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import lax

jax = pytest.importorskip("jax")
jlax, jjnp = jax.lax, jax.numpy

RNG = np.random.default_rng(3)
X = RNG.standard_normal((2, 3)).astype(np.float32)


def _same(got, want, what="", tol=1e-6):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (what, got.shape, want.shape, got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)


def _tree_same(got, want, what="", tol=1e-6):
    gl, wl = jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)
    assert len(gl) == len(wl), (what, len(gl), len(wl))
    for g, w in zip(gl, wl):
        _same(g, w, what, tol)


def test_public_names_cover_jax_lax():
    """Every public jax.lax name irjax owes outside the special/random/collective owners' lists."""
    elsewhere = {"betainc", "igamma_grad_a", "polygamma", "random_gamma_grad", "zeta", "linalg"}
    elsewhere |= {"rng_uniform", "dce_sink", "stage", "scaled_dot"}
    elsewhere |= {"precv", "psend", "ragged_all_to_all"}
    missing = [n for n in dir(jlax) if not n.startswith("_") and not n.endswith("_p") and not hasattr(lax, n)]
    assert sorted(set(missing) - elsewhere) == []


def test_stack_unstack_broadcast_like_empty():
    def f(mod, x):
        return (
            mod.stack([x, x + 1], axis=1),
            mod.stack([x, 2 * x, x], axis=-1),
            mod.unstack(x, axis=1),
            mod.unstack(x, axis=-2),
            mod.broadcast_like(x[0], np.zeros((4, 2, 3), np.int32)),
            mod.empty((2, 3), np.int8),
        )

    _tree_same(irjax.jit(lambda x: f(lax, x))(X), f(jlax, X), "jit")
    g = irjax.grad(lambda x: (lax.stack(lax.unstack(x, 1), 0) ** 2).sum())(X)
    _same(g, jax.grad(lambda x: (jlax.stack(jlax.unstack(x, 1), 0) ** 2).sum())(X), "grad")
    _same(irjax.vmap(lambda r: lax.stack([r, -r]))(X), np.stack([np.stack([r, -r]) for r in X]), "vmap")
    with pytest.raises(ValueError, match="same shape"):
        lax.stack([X, X[:, :2]])
    with pytest.raises(TypeError, match="same dtypes"):
        lax.stack([X, X.astype(np.float16)])
    with pytest.raises(ValueError, match="out of bounds"):
        lax.stack([X, X], axis=3)
    with pytest.raises(ValueError, match="out of bounds"):
        lax.unstack(X, axis=2)


@pytest.mark.parametrize("dt", [np.int8, np.uint8, np.int16, np.int32, np.uint32])
def test_mulhi_matches_jax(dt):
    info = np.iinfo(dt)
    r = np.random.default_rng(1)
    a = r.integers(info.min, info.max, 40, endpoint=True).astype(dt)
    b = r.integers(info.min, info.max, 40, endpoint=True).astype(dt)
    a[:4], b[:4] = [info.min, info.max, info.min, 0], [info.min, info.max, info.max, info.min]
    _same(irjax.jit(lax.mulhi)(a, b), jlax.mulhi(a, b), "mulhi", 0)


def test_mulhi_and_reduce_xor_errors_and_values():
    with pytest.raises(TypeError, match="integer"):
        lax.mulhi(X, X)
    with pytest.raises(TypeError, match="same dtypes"):
        lax.mulhi(np.int32(1), np.int16(1))
    ints = np.arange(35, dtype=np.int32).reshape(5, 7) * 37
    big = np.random.default_rng(2).integers(-(2**31), 2**31 - 1, (3, 6)).astype(np.int32)
    got = irjax.vmap(lambda u: (lax.mulhi(u, big[0]), lax.reduce_xor(u, (0,))))(big)
    _tree_same(got, jax.vmap(lambda u: (jlax.mulhi(u, big[0]), jlax.reduce_xor(u, (0,))))(big), "vmap", 0)

    def f(mod, x):
        return (
            mod.reduce_xor(x, (1,)),
            mod.reduce_xor(x, (0, 1)),
            mod.reduce_xor(x.astype(np.uint8), (0,)),
            mod.reduce_xor(x % 3 == 0, (1,)),
        )

    _tree_same(irjax.jit(lambda x: f(lax, x))(ints), f(jlax, ints), "reduce_xor", 0)
    with pytest.raises(TypeError, match="bool or int"):
        lax.reduce_xor(X, (0,))


def test_batch_matmul():
    a = RNG.standard_normal((2, 3, 4)).astype(np.float32)
    b = RNG.standard_normal((2, 4, 5)).astype(np.float32)
    _same(irjax.jit(lax.batch_matmul)(a, b), jlax.batch_matmul(a, b), "batch_matmul", 1e-5)
    g = irjax.grad(lambda a, b: lax.batch_matmul(a, b).sum(), argnums=(0, 1))(a, b)
    _tree_same(g, jax.grad(lambda a, b: jlax.batch_matmul(a, b).sum(), argnums=(0, 1))(a, b), "grad", 1e-5)
    with pytest.raises(ValueError, match="at least 2D"):
        lax.batch_matmul(a[0, 0], b[0])
    with pytest.raises(TypeError, match="batch dimensions"):
        lax.batch_matmul(a, b[:1].repeat(3, 0))
    with pytest.raises(TypeError, match="contracting"):
        lax.batch_matmul(a, a)


def test_scatter_sub_and_apply():
    x = np.arange(5.0, dtype=np.float32)
    idx = np.array([[1], [1], [3]])
    dn, jdn = lax.ScatterDimensionNumbers((), (0,), (0,)), jlax.ScatterDimensionNumbers((), (0,), (0,))
    u = np.array([1.5, 2.0, -1.0], np.float32)
    _same(irjax.jit(lambda x, u: lax.scatter_sub(x, idx, u, dn))(x, u), jlax.scatter_sub(x, idx, u, jdn), "sub")
    gx = irjax.grad(lambda x, u: (lax.scatter_sub(x, idx, u, dn) ** 2).sum(), argnums=(0, 1))(x, u)
    want = jax.grad(lambda x, u: (jlax.scatter_sub(x, idx, u, jdn) ** 2).sum(), argnums=(0, 1))(x, u)
    _tree_same(gx, want, "grad sub")
    one = np.array([[1], [3]])
    got = irjax.jit(lambda x: lax.scatter_apply(x, idx, jnp.sin, dn, update_shape=(3,)))(x)
    _same(got, jlax.scatter_apply(x, idx, jjnp.sin, jdn, update_shape=(3,)), "apply, index 1 twice")
    twice = lax.scatter_apply(x, idx, lambda v: v * 10 + 1, dn, update_shape=(3,))
    _same(twice, jlax.scatter_apply(x, idx, lambda v: v * 10 + 1, jdn, update_shape=(3,)), "duplicates apply twice")
    batched = irjax.vmap(lambda r: lax.scatter_apply(r, one, jnp.exp, dn, update_shape=(2,)))(np.stack([x, -x]))
    _same(batched, np.stack([jlax.scatter_apply(r, one, jjnp.exp, jdn, update_shape=(2,)) for r in (x, -x)]), "vmap")
    g = irjax.grad(lambda x: lax.scatter_apply(x, one, jnp.sin, dn, update_shape=(2,), unique_indices=True).sum())(x)
    _same(g, np.where(np.isin(np.arange(5), [1, 3]), np.cos(x), 1).astype(np.float32), "grad apply")
    with pytest.raises(ValueError, match="Reverse-mode"):  # a while_loop, as JAX's has no JVP at all
        irjax.grad(lambda x: lax.scatter_apply(x, idx, jnp.sin, dn, update_shape=(3,)).sum())(x)


def test_approx_max_min_k():
    x = RNG.permutation(48).astype(np.float32).reshape(6, 8)  # distinct values: CPU order is exact
    x[0, :3] = x[0, 5]  # ties on the last axis: lower index first, as JAX

    def f(mod, x):
        return (
            mod.approx_max_k(x, 3),
            mod.approx_min_k(x, 2),
            mod.approx_max_k(x[1:], 2, reduction_dimension=0),
            mod.approx_min_k(x, 3, aggregate_to_topk=False),
            mod.approx_max_k(x, 3, recall_target=0.5),
        )

    _tree_same(irjax.jit(lambda x: f(lax, x))(x), f(jlax, x), "approx k", 0)
    ties = (RNG.integers(0, 3, (6, 5))).astype(np.float32)  # XLA's CPU tie order: k == 1 keeps the last

    def g(mod, t):
        return [mod.approx_max_k(t, k, reduction_dimension=d) for k in (1, 2) for d in (0, 1)] + [
            mod.approx_min_k(t, k, reduction_dimension=d) for k in (1, 3) for d in (0, 1)
        ]

    _tree_same(irjax.jit(lambda t: g(lax, t))(ties), g(jlax, ties), "ties", 0)
    g = irjax.grad(lambda x: lax.approx_max_k(x, 2)[0].sum())(x)
    _same(g, jax.grad(lambda x: jlax.approx_max_k(x, 2)[0].sum())(x), "grad")
    with pytest.raises(ValueError, match="k must be smaller"):
        lax.approx_max_k(x, 9)
    with pytest.raises(ValueError, match="floating"):
        lax.approx_min_k(x.astype(np.int32), 2)


def test_dtype_shape_as_value_platform_composite_types():
    for v in (1.0, np.float64(1), np.ones(2, np.int64), True, np.dtype("int16"), 3, jnp.bfloat16):
        assert lax.dtype(v) == jlax.dtype(v), v
    np.testing.assert_array_equal(lax.shape_as_value((2, 3)), jlax.shape_as_value((2, 3)))
    assert lax.platform_dependent(2.0, cpu=lambda x: x + 1, default=lambda x: x) == 3.0
    assert lax.platform_dependent(2.0, tpu=lambda x: x + 1, default=lambda x: x) == 2.0
    with pytest.raises(NotImplementedError, match="no branch"):
        lax.platform_dependent(2.0, tpu=lambda x: x)
    scale = lax.composite(lambda x, *, c: x * c, name="my.scale")
    _same(irjax.grad(lambda x: scale(x, c=3.0).sum())(X), np.full_like(X, 3.0), "composite grad")
    assert lax.round(np.float32(2.5), lax.RoundingMethod.TO_NEAREST_EVEN) == 2.0
    assert lax.round(np.float32(2.5), lax.RoundingMethod.AWAY_FROM_ZERO) == 3.0
    assert lax.GatherScatterMode.from_any("clip") is lax.GatherScatterMode.CLIP
    assert lax.GatherScatterMode.from_any(None) is lax.GatherScatterMode.FILL_OR_DROP
    with pytest.raises(ValueError, match="Unknown gather mode"):
        lax.GatherScatterMode.from_any("bad")
    for enum_name in ("GatherScatterMode", "RoundingMethod", "RandomAlgorithm", "AccuracyMode", "DotAlgorithmPreset"):
        ours, theirs = getattr(lax, enum_name), getattr(jlax, enum_name)
        assert [(m.name, m.value) for m in ours] == [(m.name, m.value) for m in theirs], enum_name
    alg = lax.DotAlgorithm(np.float32, np.float32, np.float32)
    assert alg._fields == jlax.DotAlgorithm(np.float32, np.float32, np.float32)._fields
    _same(lax.dot(X, X.T, precision=alg), X @ X.T, "dot with a DotAlgorithm", 1e-5)
    with pytest.raises(ValueError, match="non-negative"):
        lax.Tolerance(atol=-1.0)


CONV_SHAPES = [
    ("conv_general_permutations", (("NHWC", "WHIO", "NWHC"),)),
    ("conv_general_permutations", (("NCHW", "OIHW", "NCHW"),)),
    ("conv_general_shape_tuple", ((1, 8, 8, 3), (3, 3, 3, 16), (2, 2), "SAME", ("NHWC", "HWIO", "NHWC"))),
    ("conv_general_shape_tuple", ((1, 3, 8, 8), (16, 3, 3, 3), (1, 1), [(1, 1), (0, 0)], ("NCHW", "OIHW", "NCHW"))),
    ("conv_general_shape_tuple", ((1, 8, 8, 3), (3, 2, 3, 16), (2, 1), "VALID", ("NHWC", "HWIO", "NCHW"))),
    ("conv_shape_tuple", ((1, 3, 8, 8), (16, 3, 3, 3), (2, 1), [(1, 1), (0, 0)])),
    ("conv_shape_tuple", ((4, 3, 8, 8), (16, 3, 3, 3), (1, 1), "VALID", 2)),
    ("conv_transpose_shape_tuple", ((1, 8, 8, 3), (3, 3, 3, 16), (2, 2), "SAME", ("NHWC", "HWIO", "NHWC"))),
    ("conv_transpose_shape_tuple", ((1, 8, 8, 3), (3, 3, 3, 16), (2, 2), "VALID", ("NHWC", "HWIO", "NHWC"))),
    ("conv_transpose_shape_tuple", ((1, 8, 7, 3), (3, 2, 3, 16), (2, 3), [(1, 0), (0, 2)], ("NHWC", "HWIO", "NHWC"))),
    ("reduce_window_shape_tuple", ((4, 9), (2, 3), (1, 2), [(0, 0), (1, 1)])),
    ("reduce_window_shape_tuple", ((4, 9), (2, 3), (1, 2), [(0, 0), (1, 1)], (2, 1), (1, 2))),
]


@pytest.mark.parametrize("name,args", CONV_SHAPES)
def test_conv_shape_helpers_match_jax(name, args):
    got, want = getattr(lax, name)(*args), getattr(jlax, name)(*args)
    assert got == tuple(tuple(int(a) for a in w) if isinstance(w, tuple) else int(w) for w in want)


def test_conv_shape_helpers_bad_input():
    with pytest.raises(TypeError, match="'N' and 'C'"):
        lax.conv_general_permutations(("NHWX", "HWIO", "NHWC"))
    with pytest.raises(ValueError, match="strides"):
        lax.conv_shape_tuple((1, 3, 8, 8), (16, 3, 3, 3), (2,), "VALID")
    with pytest.raises(TypeError, match="padding pairs"):
        lax.reduce_window_shape_tuple((4, 9), (2, 3), (1, 2), "VALID")


@pytest.mark.slow  # five convolutions and a conv grad compile in ~12 s of CPU
def test_conv_patches_and_local_match_jax():
    x = RNG.standard_normal((2, 3, 5, 4)).astype(np.float32)
    xh = x.transpose(0, 2, 3, 1)
    w = RNG.standard_normal((7, 3 * 2 * 2, 4, 3)).astype(np.float32)
    wh = RNG.standard_normal((3, 2, 3 * 2 * 2, 7)).astype(np.float32)
    nhwc = ("NHWC", "HWIO", "NHWC")

    def f(mod, x, xh, w, wh):
        return (
            mod.conv_general_dilated_patches(x, (2, 3), (1, 1), "VALID"),
            mod.conv_general_dilated_patches(x, (2, 3), (1, 2), "SAME", dimension_numbers=("NCHW", "OIHW", "NHWC")),
            mod.conv_general_dilated_patches(xh, (2, 3), (2, 1), "SAME", rhs_dilation=(1, 2),
                                             dimension_numbers=("NHWC", "WHIO", "NHWC")),
            mod.conv_general_dilated_local(x, w, (1, 1), "VALID", (2, 2)),
            mod.conv_general_dilated_local(xh, wh, (2, 2), "SAME", (2, 2), dimension_numbers=nhwc),
        )  # fmt: skip

    _tree_same(irjax.jit(lambda *a: f(lax, *a))(x, xh, w, wh), f(jlax, x, xh, w, wh), "patches/local", 2e-5)
    ints = x.astype(np.int32)
    _same(lax.conv_general_dilated_patches(ints, (2, 3), (1, 1), "VALID"),
          jlax.conv_general_dilated_patches(ints, (2, 3), (1, 1), "VALID"), "int patches", 0)  # fmt: skip

    def loss(mod):
        return lambda x, w: (mod.conv_general_dilated_local(x, w, (1, 1), "VALID", (2, 2)) ** 2).sum()

    got = irjax.grad(loss(lax), argnums=(0, 1))(x, w)
    _tree_same(got, jax.grad(loss(jlax), argnums=(0, 1))(x, w), "grad local", 1e-4)
    with pytest.raises(ValueError, match="filter_shape"):
        lax.conv_general_dilated_patches(x, (2,), (1, 1), "VALID")
    with pytest.raises(ValueError, match="I dim"):
        lax.conv_general_dilated_local(x, w[:, :5], (1, 1), "VALID", (2, 2))


@pytest.mark.slow  # jit, grad, vmap and int8 modules: ~6 s of CPU
def test_ragged_dot_matches_jax():
    lhs = RNG.standard_normal((7, 4)).astype(np.float32)
    rhs = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    sizes = [np.array(s, np.int32) for s in ([2, 0, 3], [5, 5, 5], [0, 7, 0])]
    run = irjax.jit(lax.ragged_dot)
    for gs in sizes:
        _same(run(lhs, rhs, gs), jlax.ragged_dot(lhs, rhs, gs), f"ragged_dot {gs}", 1e-5)
    gs = sizes[0]
    got = irjax.grad(lambda a, b: (lax.ragged_dot(a, b, gs) ** 2).sum(), argnums=(0, 1))(lhs, rhs)
    want = jax.grad(lambda a, b: (jlax.ragged_dot(a, b, gs) ** 2).sum(), argnums=(0, 1))(lhs, rhs)
    _tree_same(got, want, "grad", 1e-5)
    batched = irjax.vmap(lambda a: lax.ragged_dot(a, rhs, gs))(np.stack([lhs, 2 * lhs]))
    _same(batched, np.stack([jlax.ragged_dot(a, rhs, gs) for a in (lhs, 2 * lhs)]), "vmap", 1e-5)
    i8 = lax.ragged_dot(lhs.astype(np.int8), rhs.astype(np.int8), gs, preferred_element_type=np.int32)
    _same(i8, jlax.ragged_dot(lhs.astype(np.int8), rhs.astype(np.int8), gs, preferred_element_type=np.int32), "i8", 0)
    with pytest.raises(TypeError, match="integer"):
        lax.ragged_dot(lhs, rhs, gs.astype(np.float32))
    with pytest.raises(TypeError, match="group dimension size"):
        lax.ragged_dot(lhs, rhs, gs[:2])


def test_ragged_dot_general_modes():
    gs = np.array([2, 0, 3], np.int32)
    contract = ((((0,), (0,)), ((), ())), (0,), ())  # ragged contracting dim: one output per group
    batched = ((((2,), (2,)), ((0,), (0,))), (1,), (1,))  # batch dim plus ragged rows
    a2, b2 = RNG.standard_normal((7, 4)).astype(np.float32), RNG.standard_normal((7, 5)).astype(np.float32)
    a3, b3 = RNG.standard_normal((2, 7, 4)).astype(np.float32), RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
    rhs3 = RNG.standard_normal((3, 4, 5)).astype(np.float32)
    sizes = np.array([[2, 0, 3], [1, 5, 1]], np.int32)  # vmap over the group sizes
    got = irjax.vmap(lambda g: lax.ragged_dot(a2, rhs3, g))(sizes)
    _same(got, np.stack([jlax.ragged_dot(a2, rhs3, g) for g in sizes]), "vmap group sizes", 1e-5)
    for dd, lhs, rhs in ((contract, a2, b2), (batched, a3, b3)):
        got = lax.ragged_dot_general(lhs, rhs, gs, lax.RaggedDotDimensionNumbers(*dd))
        _same(got, jlax.ragged_dot_general(lhs, rhs, gs, jlax.RaggedDotDimensionNumbers(*dd)), str(dd), 1e-5)


RBG_KEYS = [
    np.array([1, 2, 3, 4], np.uint32),
    np.array([0xDEADBEEF, 7, 0xFFFFFFFF, 0xFFFFFFFF], np.uint32),  # the counter wraps into the key word
]
RBG_CASES = [  # (algorithm, shape, dtype): ThreeFry's layout depends on the shape's first even dim
    (lax.RandomAlgorithm.RNG_DEFAULT, (5,), np.uint32),
    (lax.RandomAlgorithm.RNG_PHILOX, (3, 2), np.uint8),
    (lax.RandomAlgorithm.RNG_THREE_FRY, (3, 3), np.uint32),
    (lax.RandomAlgorithm.RNG_THREE_FRY, (3, 2, 2), np.uint16),
    (lax.RandomAlgorithm.RNG_THREE_FRY, (), np.uint32),
]


@pytest.mark.slow  # six modules of ~300 uint32 ops each: ~10 s of CPU cold
def test_rng_bit_generator_matches_jax_bits():
    for alg, shape, dt in RBG_CASES:
        for key in RBG_KEYS:
            got = lax.rng_bit_generator(key, shape, dt, alg)
            want = jlax.rng_bit_generator(key, shape, dt, jlax.RandomAlgorithm(int(alg)))
            _tree_same(got, want, f"{alg.name} {shape} {np.dtype(dt).name} {key}", 0)
    keys = np.stack(RBG_KEYS)
    batched = irjax.vmap(lambda k: lax.rng_bit_generator(k, (4,))[1])(keys)
    _same(batched, np.stack([jlax.rng_bit_generator(k, (4,))[1] for k in RBG_KEYS]), "vmap over keys", 0)
    with pytest.raises(TypeError, match="uint32"):
        lax.rng_bit_generator(RBG_KEYS[0].astype(np.int32), (2,))
    with pytest.raises(TypeError, match="unsupported dtype"):
        lax.rng_bit_generator(RBG_KEYS[0], (2,), np.float32)


def test_pshuffle_pswapaxes_pbroadcast_pcast_under_named_vmap():
    x = np.arange(48, dtype=np.float32).reshape(4, 4, 3)

    def f(mod, v):
        return (
            mod.pshuffle(v, "i", [3, 0, 1, 2]),
            mod.pswapaxes(v, "i", 0),
            mod.pbroadcast(v, "i", 2),
        )

    got = irjax.vmap(lambda v: f(lax, v), axis_name="i")(x)
    _tree_same(got, jax.vmap(lambda v: f(jlax, v), axis_name="i")(x), "collectives", 0)
    _same(irjax.vmap(lambda v: lax.pcast(v, "i", to="varying"), axis_name="i")(x), x, "pcast", 0)

    def documented(v):  # jax.lax.pbroadcast's documented meaning (JAX's own grad of it fails)
        return jlax.psum(jjnp.where(jlax.axis_index("i") == 2, v, 0), "i")

    g = irjax.grad(lambda x: (irjax.vmap(lambda v: lax.pbroadcast(v, "i", 2), axis_name="i")(x) ** 2).sum())(x)
    _same(g, jax.grad(lambda x: (jax.vmap(documented, axis_name="i")(x) ** 2).sum())(x), "grad pbroadcast")
    with pytest.raises(ValueError, match="permutation"):
        irjax.vmap(lambda v: lax.pshuffle(v, "i", [3, 0, 1, 1]), axis_name="i")(x)
    with pytest.raises(ValueError, match="source"):
        irjax.vmap(lambda v: lax.pbroadcast(v, "i", 4), axis_name="i")(x)
    with pytest.raises(NotImplementedError, match="varying"):
        irjax.vmap(lambda v: lax.pcast(v, "i", to="unreduced"), axis_name="i")(x)


def test_tokens_pass_through_jit_and_vmap():
    token = lax.create_token()
    got_token, y = irjax.jit(lambda t, x: (lax.after_all(t, lax.create_token(x)), x * 2))(token, np.float32(3))
    assert type(got_token) is type(token) and float(y) == 6.0
    tokens, ys = irjax.vmap(lambda x: (lax.create_token(), x + 1))(np.ones(3, np.float32))
    assert type(tokens) is type(token)
    _same(ys, np.full(3, 2, np.float32), "vmap")
    with pytest.raises(TypeError, match="must be tokens"):
        lax.after_all(np.ones(2))
    with pytest.raises(TypeError, match="must be tokens"):
        jlax.after_all(np.ones(2))
