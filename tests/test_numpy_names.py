"""NumPy names added to irjax.numpy (set ops, polynomials, histograms, index helpers, vectorize,
windows, bit tricks, ...): each against jax.numpy on the same inputs, values and dtypes."""

import irjax
import irjax.numpy as inp
import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytestmark = pytest.mark.slow  # ~100 eager compiles: minutes on a loaded 2-core machine

R = np.random.RandomState(0)
F = R.randn(12).astype(np.float32)
M = R.randn(4, 5).astype(np.float32)
I = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], np.int32)
J = np.array([2, 7, 1, 8, 2, 8], np.int32)


def _leaves(x):
    return jax.tree_util.tree_leaves(x)


def same(got, want, rtol=1e-5, atol=1e-6):
    g, w = _leaves(got), _leaves(want)
    assert len(g) == len(w), (got, want)
    for a, b in zip(g, w):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape, (a.shape, b.shape)
        assert a.dtype == b.dtype, (a.dtype, b.dtype)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


CASES = [
    # (name, args, kwargs)
    ("union1d", (I, J), {}),
    ("intersect1d", (I, J), {}),
    ("intersect1d", (I, J), {"return_indices": True}),
    ("setdiff1d", (I, J), {}),
    ("setxor1d", (I, J), {}),
    ("unique_values", (I,), {}),
    ("unique_counts", (I,), {}),
    ("unique_inverse", (I.reshape(1, -1),), {}),
    ("unique_all", (np.array([3.0, np.nan, 1.0, np.nan, 3.0], np.float32),), {}),
    ("polyval", (np.array([1.0, -2.0, 3.0], np.float32), F), {}),
    ("polyval", (np.array([1, 2, 3], np.int32), I), {}),
    ("polyadd", (np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0, 5.0], np.float32)), {}),
    ("polysub", (np.array([1, 2], np.int32), np.array([3, 4, 5], np.int32)), {}),
    ("polymul", (np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0, 5.0], np.float32)), {}),
    ("polydiv", (np.array([1.0, 2.0, 3.0, 4.0], np.float32), np.array([2.0, 1.0], np.float32)), {}),
    ("polyder", (np.array([1.0, 2.0, 3.0, 4.0], np.float32), 2), {}),
    ("polyint", (np.array([1.0, 2.0, 3.0], np.float32), 2), {"k": 3.0}),
    ("poly", (np.array([1.0, 2.0, -0.5], np.float32),), {}),
    ("bincount", (np.array([0, 1, 1, 3, 7], np.int32),), {}),
    ("bincount", (np.array([0, 1, 1, 3, 7], np.int32),), {"length": 4}),
    ("bincount", (np.array([0, 1, 1, 3], np.int32), np.array([0.5, 1, 2, 3], np.float32)), {"minlength": 6}),
    ("digitize", (F, np.array([-1.0, 0.0, 1.0], np.float32)), {}),
    ("digitize", (F, np.array([1.0, 0.0, -1.0], np.float32)), {"right": True}),
    ("histogram", (F,), {}),
    ("histogram", (F,), {"bins": 4, "range": (-1.0, 1.0), "density": True}),
    ("histogram", (F, np.array([-2.0, 0.0, 0.5, 2.0], np.float32)), {"weights": np.abs(F)}),
    ("histogram_bin_edges", (I, 5), {}),
    ("histogram2d", (F, F[::-1].copy()), {"bins": (3, 4)}),
    ("histogramdd", (M[:, :3].copy(),), {"bins": 2}),
    ("interp", (F, np.array([-1.0, 0.0, 2.0], np.float32), np.array([1.0, 3.0, 2.0], np.float32)), {}),
    ("interp", (F, np.array([-1.0, 0.0, 2.0], np.float32), np.array([1, 3, 2], np.int32)), {"left": 0.0, "right": 9.0}),
    ("interp", (F, np.array([0.0, 1.0, 2.0], np.float32), np.array([1.0, 3.0, 2.0], np.float32)), {"period": 3.0}),
    ("unravel_index", (np.array([0, 5, 7, -1], np.int32), (2, 4)), {}),
    ("ravel_multi_index", ((np.array([0, 1, 1], np.int32), np.array([3, 0, 2], np.int32)), (2, 4)), {}),
    ("ravel_multi_index", ((np.array([0, 1, 5], np.int32), np.array([3, 0, 9], np.int32)), (2, 4)), {"mode": "clip"}),
    (
        "ravel_multi_index",
        ((np.array([0, 1, 5], np.int32), np.array([3, -1, 9], np.int32)), (2, 4)),
        {"mode": "wrap", "order": "F"},
    ),
    ("ix_", (np.array([0, 2], np.int32), np.array([1, 2, 3], np.int32)), {}),
    ("diagflat", (np.array([[1.0, 2.0], [3.0, 4.0]], np.float32), 1), {}),
    (
        "choose",
        (
            np.array([[0, 1], [2, 0]], np.int32),
            [np.ones((2, 2), np.float32), np.zeros(2, np.float32), M[:2, :2].copy()],
        ),
        {},
    ),
    ("choose", (np.array([0, 5, -1], np.int32), [F[:3], F[3:6], F[6:9]]), {"mode": "wrap"}),
    ("compress", (np.array([True, False, True]), M), {"axis": 0}),
    ("compress", (np.array([1, 0, 1, 1], np.int32), M), {"axis": 1}),
    ("extract", (M > 0, M), {}),
    ("place", (M, M > 0, np.array([7.0, 8.0], np.float32)), {"inplace": False}),
    ("put", (M, np.array([0, 3, 25], np.int32), np.array([1.0, 2.0, 3.0], np.float32)), {"inplace": False}),
    (
        "put",
        (M, np.array([0, 3, 25], np.int32), np.array([1.0, 2.0, 3.0], np.float32)),
        {"mode": "wrap", "inplace": False},
    ),
    ("put", (M, np.array([0, 3], np.int32), np.array([1.0, 2.0, 3.0], np.float32)), {"mode": "clip", "inplace": False}),
    ("put_along_axis", (M, np.array([[1], [0], [4], [2]], np.int32), 9.0, 1), {"inplace": False}),
    ("fill_diagonal", (M, 5.0), {"inplace": False}),
    ("fill_diagonal", (np.zeros((7, 3), np.float32), np.array([1.0, 2.0], np.float32)), {"inplace": False}),
    ("mask_indices", (4, np.triu, 1), {}),
    ("nextafter", (F, np.float32(0.5)), {}),
    ("nextafter", (np.array([0.0, 0.0, 1.0, -1.0], np.float32), np.array([1.0, -1.0, 1.0, 0.0], np.float32)), {}),
    ("spacing", (np.array([1.0, -2.0, 1e3], np.float32),), {}),
    ("frexp", (np.array([0.0, 3.0, -0.1, 1e30, np.inf], np.float32),), {}),
    ("bitwise_count", (np.array([-1, 7, 255, 0], np.int32),), {}),
    ("bitwise_count", (np.array([1, 255], np.uint8),), {}),
    ("packbits", (np.array([[1, 0, 1], [0, 1, 1]], np.int32),), {"axis": 1}),
    ("packbits", (np.array([1, 0, 1, 1, 0, 0, 0, 1, 1], np.int32),), {"bitorder": "little"}),
    ("unpackbits", (np.array([[5, 255], [0, 128]], np.uint8),), {"axis": 0}),
    ("unpackbits", (np.array([5, 255], np.uint8),), {"count": 11}),
    ("bartlett", (7,), {}),
    ("blackman", (6,), {}),
    ("hamming", (5,), {}),
    ("hanning", (5,), {}),
    ("kaiser", (6, 3.0), {}),
    ("i0", (np.array([0.0, 1.0, -2.5, 4.0, 9.0], np.float32),), {}),
    ("gradient", (F,), {}),
    ("gradient", (M, 2.0), {}),
    ("gradient", (F, np.cumsum(np.abs(F) + 0.1).astype(np.float32)), {}),
    ("gradient", (M,), {"axis": 1}),
    ("unwrap", (np.cumsum(np.abs(F)).astype(np.float32) * 2,), {}),
    ("resize", (np.array([1, 2, 3], np.int32), (2, 4)), {}),
    ("trim_zeros", (np.array([0, 0, 1, 2, 0, 3, 0], np.int32),), {}),
    ("trim_zeros", (np.array([0, 0, 1, 2, 0, 3, 0], np.int32),), {"trim": "b"}),
    ("block", ([[np.ones((2, 2), np.float32), np.zeros((2, 1), np.float32)], [np.ones((1, 3), np.float32)]],), {}),
    ("dsplit", (np.arange(24, dtype=np.float32).reshape(2, 3, 4), 2), {}),
    ("copy", (M,), {}),
    ("array_equiv", (M[0], np.broadcast_to(M[0], (3, 5)).copy()), {}),
    ("array_equiv", (M[0], M[:2, :2].copy()), {}),
    ("apply_over_axes", (jnp.sum, M, (0, 1)), {}),
    ("frombuffer", (np.arange(4, dtype=np.float32).tobytes(),), {"dtype": np.float32}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_name_matches_jax(name, args, kwargs):
    def conv(a, mod):
        if a is jnp.sum:
            return mod.sum
        return a

    got = getattr(inp, name)(*[conv(a, inp) for a in args], **kwargs)
    want = getattr(jnp, name)(*args, **kwargs)
    same(got, want, rtol=2e-5, atol=2e-6)


def test_fill_diagonal_wrap_matches_numpy():
    want = np.zeros((7, 3), np.float32)
    np.fill_diagonal(want, np.array([1.0, 2.0], np.float32), wrap=True)
    got = inp.fill_diagonal(np.zeros((7, 3), np.float32), np.array([1.0, 2.0], np.float32), wrap=True, inplace=False)
    same(got, want)


def test_nonzero_sized_under_jit():
    x = np.array([[0, 3, 0], [4, 0, 5]], np.int32)
    for kw in ({"size": 5}, {"size": 2}, {"size": 4, "fill_value": -1}):
        same(irjax.jit(lambda v, kw=kw: inp.nonzero(v, **kw))(x), jax.jit(lambda v, kw=kw: jnp.nonzero(v, **kw))(x))
    same(
        irjax.jit(lambda c, v: inp.compress(c, v, axis=1, size=3))(np.array([1, 0, 1, 1], np.int32), M),
        jax.jit(lambda c, v: jnp.compress(c, v, axis=1, size=3))(np.array([1, 0, 1, 1], np.int32), M),
    )


def test_mgrid_ogrid_r_c():
    same(inp.mgrid[0:3, 0:2], jnp.mgrid[0:3, 0:2])
    same(inp.mgrid[0:1:5j], jnp.mgrid[0:1:5j])
    same(inp.ogrid[0:3, 0:4], jnp.ogrid[0:3, 0:4])
    same(inp.r_[inp.asarray([1, 2]), 0, 4:6], jnp.r_[jnp.asarray([1, 2]), 0, 4:6])
    same(inp.r_["0,2", [1, 2], [3, 4]], jnp.r_["0,2", [1, 2], [3, 4]])
    same(
        inp.c_[inp.asarray([1.0, 2.0]), inp.asarray([3.0, 4.0])],
        jnp.c_[jnp.asarray([1.0, 2.0]), jnp.asarray([3.0, 4.0])],
    )
    assert inp.s_[1:3] == np.s_[1:3] and inp.index_exp[1] == np.index_exp[1]


def test_unique_sized_under_jit_and_vmap():
    x = np.array([[3, 1, 3, 2], [5, 5, 5, 1]], np.int32)
    for fn in ("unique_all", "unique_counts", "unique_inverse", "unique_values"):
        got = irjax.jit(lambda v, fn=fn: getattr(inp, fn)(v, size=6))(x)
        want = jax.jit(lambda v, fn=fn: getattr(jnp, fn)(v, size=6))(x)
        same(got, want)
    got = irjax.vmap(lambda r: inp.unique_counts(r, size=3))(x)
    want = jax.vmap(lambda r: jnp.unique_counts(r, size=3))(x)
    same(got, want)
    with pytest.raises(Exception, match="size"):
        irjax.jit(inp.unique_values)(x)


def test_unique_keywords_and_axis():
    x = np.array([[1.0, np.nan, 2.0], [np.nan, 1.0, 0.0]], np.float32)
    kw = {"return_index": True, "return_inverse": True, "return_counts": True}
    same(inp.unique(x, **kw), jnp.unique(x, **kw))
    same(irjax.jit(lambda v: inp.unique(v, size=5, **kw))(x), jax.jit(lambda v: jnp.unique(v, size=5, **kw))(x))
    rows = np.array([[1, 2], [1, 2], [0, 5]], np.int32)
    same(inp.unique(rows, axis=0, return_counts=True), jnp.unique(rows, axis=0, return_counts=True))


def test_set_ops_sized_under_jit():
    for fn in ("union1d", "setdiff1d", "setxor1d", "intersect1d"):
        got = irjax.jit(lambda a, b, fn=fn: getattr(inp, fn)(a, b, size=9))(I, J)
        want = jax.jit(lambda a, b, fn=fn: getattr(jnp, fn)(a, b, size=9))(I, J)
        same(got, want)


def test_histogram_interp_polyval_jit_grad_vmap():
    f_i = irjax.jit(lambda a: inp.histogram(a, bins=5, range=(-2.0, 2.0))[0])
    f_j = jax.jit(lambda a: jnp.histogram(a, bins=5, range=(-2.0, 2.0))[0])
    same(f_i(F), f_j(F))
    xp, fp = np.array([-1.0, 0.0, 2.0], np.float32), np.array([1.0, 3.0, 2.0], np.float32)
    gi = irjax.grad(lambda x: inp.sum(inp.interp(x, xp, fp) ** 2))(F)
    gj = jax.grad(lambda x: jnp.sum(jnp.interp(x, xp, fp) ** 2))(F)
    same(gi, gj)
    p = np.array([0.5, -1.0, 2.0], np.float32)
    same(irjax.grad(lambda x: inp.sum(inp.polyval(p, x)))(F), jax.grad(lambda x: jnp.sum(jnp.polyval(p, x)))(F))
    same(irjax.vmap(lambda q: inp.polyval(q, F[:3]))(M[:, :3]), jax.vmap(lambda q: jnp.polyval(q, F[:3]))(M[:, :3]))
    same(irjax.jit(lambda x: inp.bincount(x, length=10))(I), jax.jit(lambda x: jnp.bincount(x, length=10))(I))


def test_polyfit_matches_jax():
    x = np.linspace(0, 1, 9).astype(np.float32)
    y = (3 * x**2 - x + 0.5 + 0.01 * np.sin(20 * x)).astype(np.float32)
    same(inp.polyfit(x, y, 2), jnp.polyfit(x, y, 2), rtol=1e-4, atol=1e-5)
    same(inp.polyfit(x, y, 1, w=x + 1), jnp.polyfit(x, y, 1, w=x + 1), rtol=1e-4, atol=1e-5)
    same(inp.polyfit(x, y, 2, cov=True), jnp.polyfit(x, y, 2, cov=True), rtol=1e-3, atol=1e-6)


def test_vectorize_and_apply_along_axis():
    def f(a, b):
        return a * 2 + b

    same(inp.vectorize(f)(M, F[:5]), jnp.vectorize(f)(M, F[:5]))
    dot = lambda a, b: (a * b).sum()  # noqa: E731
    same(inp.vectorize(dot, signature="(n),(n)->()")(M, F[:5]), jnp.vectorize(dot, signature="(n),(n)->()")(M, F[:5]))
    outer = lambda a: a[:, None] * a[None, :]  # noqa: E731
    same(inp.vectorize(outer, signature="(n)->(n,n)")(M), jnp.vectorize(outer, signature="(n)->(n,n)")(M))
    same(
        inp.vectorize(lambda a, k: a**k, excluded={1})(F, 2),
        jnp.vectorize(lambda a, k: a**k, excluded={1})(F, 2),
    )
    x3 = R.randn(2, 3, 4).astype(np.float32)
    for axis in (0, 1, 2):
        same(inp.apply_along_axis(lambda v: v.sum(), axis, x3), jnp.apply_along_axis(lambda v: v.sum(), axis, x3))
        same(
            inp.apply_along_axis(lambda v: v[:, None] * v[:2], axis, x3),
            jnp.apply_along_axis(lambda v: v[:, None] * v[:2], axis, x3),
        )
    same(
        irjax.jit(lambda v: inp.apply_along_axis(inp.sort, 1, v))(M),
        jax.jit(lambda v: jnp.apply_along_axis(jnp.sort, 1, v))(M),
    )


def test_piecewise():
    x = np.linspace(-2, 2, 9).astype(np.float32)
    conds_i = lambda m: [x < 0, x > 1]  # noqa: E731
    got = inp.piecewise(x, conds_i(inp), [lambda v: -v, lambda v: v**2, 0.5])
    want = jnp.piecewise(x, [x < 0, x > 1], [lambda v: -v, lambda v: v**2, 0.5])
    same(got, want)
    same(inp.piecewise(x, [x < 0], [1.0]), jnp.piecewise(x, [x < 0], [1.0]))
    gi = irjax.grad(lambda v: inp.sum(inp.piecewise(v, [v < 0], [lambda t: t**2, lambda t: 3 * t])))(x)
    gj = jax.grad(lambda v: jnp.sum(jnp.piecewise(v, [v < 0], [lambda t: t**2, lambda t: 3 * t])))(x)
    same(gi, gj)


def test_misc_host_helpers(tmp_path):
    assert inp.iterable([1]) and not inp.iterable(3)
    assert inp.array_str(inp.arange(3)) == jnp.array_str(jnp.arange(3))
    assert inp.array_repr(inp.arange(3)).startswith("Array(")
    np.save(tmp_path / "a.npy", M)
    same(inp.load(tmp_path / "a.npy"), jnp.load(tmp_path / "a.npy"))
    same(inp.fromstring("1 2 3", dtype=np.int32, sep=" "), jnp.fromstring("1 2 3", dtype=np.int32, sep=" "))
    assert inp.einsum_path("ij,jk->ik", M, M.T)[0] == jnp.einsum_path("ij,jk->ik", M, M.T)[0]


def test_errors_name_what_was_expected():
    with pytest.raises(ValueError, match="inplace"):
        inp.put(M, 0, 1.0)
    with pytest.raises(TypeError, match="integer"):
        inp.bincount(F)
    with pytest.raises(ValueError, match="mode"):
        irjax.jit(lambda a: inp.ravel_multi_index((a, a), (3, 3)))(np.array([0, 1], np.int32))
    with pytest.raises(ValueError, match="invalid entry"):
        inp.ravel_multi_index((np.array([0, 3]), np.array([0, 1])), (3, 3))
    with pytest.raises(ValueError, match="signature"):
        inp.vectorize(lambda a: a, signature="(n->()")(F)


def test_convolve_correlate_through_conv_general_dilated():
    r = np.random.RandomState(1)
    pairs = [
        (np.array([1, 2, 3], np.int32), np.array([0, 1], np.int32)),  # ints give floats, as in JAX
        (r.randn(7).astype(np.float32), r.randn(4).astype(np.float32)),
        (r.randn(3).astype(np.float32), r.randn(6).astype(np.float32)),
    ]
    for a, b in pairs:
        for fn in ("convolve", "correlate"):
            for mode in ("full", "same", "valid"):
                same(getattr(inp, fn)(a, b, mode=mode), getattr(jnp, fn)(a, b, mode=mode), rtol=1e-5, atol=1e-5)
    a, b = pairs[1]
    gi = irjax.grad(lambda a, b: inp.convolve(a, b, mode="same").sum() ** 2, argnums=(0, 1))(a, b)
    gj = jax.grad(lambda a, b: jnp.convolve(a, b, mode="same").sum() ** 2, argnums=(0, 1))(a, b)
    same(gi, gj, rtol=1e-5, atol=1e-5)
    x = np.stack([a, 2 * a])
    same(irjax.vmap(lambda v: inp.correlate(v, b))(x), jax.vmap(lambda v: jnp.correlate(v, b))(x), rtol=1e-5, atol=1e-5)


def test_meshgrid_sparse_and_indexing():
    a, b, c = np.arange(2), np.arange(3.0), np.arange(4)
    for kw in ({}, {"indexing": "ij"}, {"sparse": True}, {"sparse": True, "indexing": "ij"}):
        same(inp.meshgrid(a, b, c, **kw), jnp.meshgrid(a, b, c, **kw))
    with pytest.raises(ValueError, match="indexing"):
        inp.meshgrid(a, b, indexing="yx")


def test_frompyfunc_ufunc_methods():
    def f(x, y):
        return x * y + 1

    a = np.arange(1, 7, dtype=np.float32).reshape(2, 3)
    for identity in (None, 1.0):
        ui, uj = inp.frompyfunc(f, 2, 1, identity=identity), jnp.frompyfunc(f, 2, 1, identity=identity)
        same(ui(a, 2.0), uj(a, 2.0))
        same(ui.outer(a[0], a[1]), uj.outer(a[0], a[1]))
        same(ui.reduce(a, axis=1), uj.reduce(a, axis=1))
        same(ui.reduce(a, axis=None, initial=2.0, keepdims=True), uj.reduce(a, axis=None, initial=2.0, keepdims=True))
        same(ui.accumulate(a, axis=1), uj.accumulate(a, axis=1))
        same(irjax.jit(lambda v, u=ui: u.reduce(v, axis=0))(a), jax.jit(lambda v, u=uj: u.reduce(v, axis=0))(a))
    idx, b = np.array([0, 2, 0]), np.array([1.0, 2.0, 3.0], np.float32)
    same(ui.at(np.zeros(4, np.float32), idx, b, inplace=False), uj.at(np.zeros(4, np.float32), idx, b, inplace=False))
    with pytest.raises(ValueError, match="binary"):
        inp.frompyfunc(lambda x: x, 1, 1).reduce(a)
