"""lax.reduce_window (sum / max / min pooling), cumlogsumexp, reduce_precision and select_n
against jax.lax: values, dtypes, grads, vmap and jit."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import lax
from irjax.dialects.registry import get

jax = pytest.importorskip("jax")
jlax = jax.lax

OPS = {"add": (lax.add, jlax.add, 0.0), "max": (lax.max, jlax.max, -np.inf), "min": (lax.min, jlax.min, np.inf)}

WINDOWS = [
    ("same", (2, 7, 6), dict(window_dimensions=(1, 3, 2), window_strides=(1, 2, 1), padding="SAME")),
    ("valid", (2, 7, 6), dict(window_dimensions=(1, 2, 2), window_strides=(1, 2, 2), padding="VALID")),
    (
        "dilated",
        (2, 7, 6),
        dict(
            window_dimensions=(2, 2, 3),
            window_strides=(1, 1, 2),
            padding=[(0, 1), (1, 2), (0, 0)],
            base_dilation=(1, 2, 1),
            window_dilation=(1, 1, 2),
        ),
    ),
    ("overlap", (9, 8), dict(window_dimensions=(3, 3), window_strides=(2, 1), padding=[(1, 1), (2, 0)])),
    ("neg_pad", (9, 8), dict(window_dimensions=(2, 2), window_strides=(1, 3), padding=[(-1, 1), (0, -2)])),
]
WIDS = [w[0] for w in WINDOWS]


def _distinct(shape, seed=0):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) / n * 4).reshape(shape).astype(np.float32)


def _close(got, want, tol=1e-5):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, f"{got.dtype}{got.shape} vs {want.dtype}{want.shape}"
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("win", WINDOWS, ids=WIDS)
def test_reduce_window_matches_jax(op, win):
    _, shape, kw = win
    x = _distinct(shape)
    mine, theirs, init = OPS[op]
    want = jlax.reduce_window(x, init, theirs, **kw)
    _close(lax.reduce_window(x, init, mine, **kw), want)
    _close(irjax.jit(lambda a: lax.reduce_window(a, init, mine, **kw))(x), want)
    # the reference interpreter agrees too
    prim_kw = dict(kw)
    pads = prim_kw.pop("padding")
    if isinstance(pads, str):
        pads = lax.padtype_to_pads(shape, kw["window_dimensions"], kw["window_strides"], pads)
    nd = len(shape)
    ref = get("reduce_window").impl(
        x,
        kind={"add": "sum"}.get(op, op),
        padding=tuple(map(tuple, pads)),
        window_dimensions=kw["window_dimensions"],
        window_strides=kw["window_strides"],
        base_dilation=kw.get("base_dilation", (1,) * nd),
        window_dilation=kw.get("window_dilation", (1,) * nd),
    )
    _close(ref, want)


@pytest.mark.parametrize(
    "op,dtype",
    [(op, dt) for op in OPS for dt in (np.int32, np.uint32, np.int8, np.bool_) if not (op == "add" and dt == np.bool_)],
)  # no boolean sum in jax either
def test_reduce_window_int_dtypes(op, dtype):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 200, (2, 7, 6)).astype(dtype) if dtype != np.bool_ else rng.random((2, 7, 6)) < 0.5
    mine, theirs, _ = OPS[op]
    init = {
        "add": 0,
        "max": np.iinfo(dtype).min if dtype != np.bool_ else False,
        "min": np.iinfo(dtype).max if dtype != np.bool_ else True,
    }[op]
    kw = WINDOWS[2][2]
    want = jlax.reduce_window(x, np.asarray(init, dtype), theirs, **kw)
    _close(lax.reduce_window(x, np.asarray(init, dtype), mine, **kw), want)


@pytest.mark.parametrize("op,init", [("add", 1.5), ("max", 0.3), ("min", -0.2)])
def test_reduce_window_non_identity_init(op, init):
    x = _distinct((2, 7, 6))
    mine, theirs, _ = OPS[op]
    kw = WINDOWS[2][2]
    _close(lax.reduce_window(x, init, mine, **kw), jlax.reduce_window(x, init, theirs, **kw))
    # a traced init value takes the same path
    _close(
        irjax.jit(lambda a, i: lax.reduce_window(a, i, mine, **kw))(x, np.float32(init)),
        jlax.reduce_window(x, init, theirs, **kw),
    )


def _ref(x, op, kw):
    kw = dict(kw)
    pads = kw.pop("padding")
    nd = x.ndim
    if isinstance(pads, str):
        pads = lax.padtype_to_pads(x.shape, kw["window_dimensions"], kw["window_strides"], pads)
    out = get("reduce_window").impl(
        x.astype(np.float64),
        kind={"add": "sum"}.get(op, op),
        padding=tuple(map(tuple, pads)),
        window_dimensions=kw["window_dimensions"],
        window_strides=kw["window_strides"],
        base_dilation=kw.get("base_dilation", (1,) * nd),
        window_dilation=kw.get("window_dilation", (1,) * nd),
    )
    return np.where(np.isfinite(out), out, 0.0)


def _numeric_grad(f, x, eps=1e-3):
    g = np.zeros(x.shape, np.float64)
    for i in np.ndindex(x.shape):
        e = np.zeros(x.shape, np.float64)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g.astype(np.float32)


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("win", WINDOWS, ids=WIDS)
def test_reduce_window_grad_matches_jax(op, win):
    _, shape, kw = win
    x = _distinct(shape, 1)
    mine, theirs, init = OPS[op]
    ct = (
        np.random.default_rng(2).standard_normal(np.shape(jlax.reduce_window(x, init, theirs, **kw))).astype(np.float32)
    )
    f = lambda a: jnp.sum(lax.reduce_window(a, init, mine, **kw) * ct)
    if op != "add" and win[0] in ("dilated", "neg_pad"):
        # jax refuses these max/min grads (window dilation, negative padding): central
        # differences of the reference instead (distinct values: the argmax stays put)
        want = _numeric_grad(lambda a: float(np.sum(_ref(a, op, kw) * ct)), x)
    else:
        want = jax.grad(lambda a: (jlax.reduce_window(a, init, theirs, **kw) * ct).sum())(x)
    _close(irjax.grad(f)(x), want, 1e-4)
    _close(irjax.jit(irjax.grad(f))(x), want, 1e-4)
    # forward mode agrees with reverse mode
    t = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    _, tout = irjax.jvp(lambda a: lax.reduce_window(a, init, mine, **kw), (x,), (t,))
    np.testing.assert_allclose(
        float(np.vdot(np.asarray(tout), ct)), float(np.vdot(np.asarray(want), t)), rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize("op", list(OPS))
def test_reduce_window_jvp_vs_finite_differences(op):
    _, shape, kw = WINDOWS[2]
    x = _distinct(shape, 5)
    mine, theirs, init = OPS[op]
    t = np.random.default_rng(6).standard_normal(shape).astype(np.float32)
    _, tout = irjax.jvp(lambda a: lax.reduce_window(a, init, mine, **kw), (x,), (t,))
    eps = 1e-3  # distinct values at least 4/84 apart: the argmax does not move
    f = lambda a: np.asarray(jlax.reduce_window(a.astype(np.float32), init, theirs, **kw), np.float64)
    hi, lo = f(x + eps * t), f(x - eps * t)
    with np.errstate(invalid="ignore"):  # all-padding windows stay -inf / inf: no derivative there
        fd = np.where(np.isfinite(hi), hi - lo, 0.0) / (2 * eps)
    np.testing.assert_allclose(np.asarray(tout), fd, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("op", list(OPS))
@pytest.mark.parametrize("axis", [0, 2])
def test_reduce_window_vmap_vs_loop(op, axis):
    _, shape, kw = WINDOWS[0]
    xs = [_distinct(shape, s) for s in range(3)]
    mine, theirs, init = OPS[op]
    got = irjax.vmap(lambda a: lax.reduce_window(a, init, mine, **kw), in_axes=axis)(np.stack(xs, axis))
    want = np.stack([np.asarray(jlax.reduce_window(x, init, theirs, **kw)) for x in xs])
    _close(got, want)
    g = irjax.vmap(irjax.grad(lambda a: jnp.sum(lax.reduce_window(a, init, mine, **kw) ** 2)))(np.stack(xs))
    gw = np.stack(
        [np.asarray(jax.grad(lambda a: (jlax.reduce_window(a, init, theirs, **kw) ** 2).sum())(x)) for x in xs]
    )
    _close(g, gw, 1e-4)


# ---- pooling as jax.example_libraries.stax does it ---------------------------------------------


def _stax_pool(mod, kind, x, window, strides, padding):
    dims, st = (1, *window, 1), (1, *strides, 1)
    if kind == "max":
        return mod.reduce_window(x, -np.inf, mod.max, dims, st, padding)
    out = mod.reduce_window(x, 0.0, mod.add, dims, st, padding)
    if kind == "sum":
        return out
    ones = np.ones(x.shape[1:-1], x.dtype)  # stax normalizes by the in-bounds window size
    sizes = mod.reduce_window(ones, 0.0, mod.add, window, strides, padding)
    return out / sizes[..., None]


@pytest.mark.parametrize("kind", ["max", "avg", "sum"])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_stax_pooling(kind, padding):
    from jax.example_libraries import stax

    x = _distinct((2, 7, 6, 3))
    layer = {"max": stax.MaxPool, "avg": stax.AvgPool, "sum": stax.SumPool}[kind]
    _, apply_fun = layer((3, 2), (2, 2), padding)
    want = apply_fun((), x)
    _close(irjax.jit(lambda a: _stax_pool(lax, kind, a, (3, 2), (2, 2), padding))(x), want)
    _close(_stax_pool(lax, kind, x, (3, 2), (2, 2), padding), want)
    g = irjax.grad(lambda a: jnp.sum(_stax_pool(lax, kind, a, (3, 2), (2, 2), padding) ** 2))(x)
    _close(g, jax.grad(lambda a: (apply_fun((), a) ** 2).sum())(x), 1e-4)


# ---- any other computation, and several operands: the window positions folded ------------------


def _argmax_pair(mod):
    def comp(a, b):
        (av, ai), (bv, bi) = a, b
        pick = bv > av
        return mod.numpy.where(pick, bv, av), mod.numpy.where(pick, bi, ai)

    return comp


GENERIC = {
    "mul": (lambda m: m.lax.mul, 1.0),
    "mul_init2": (lambda m: m.lax.mul, 2.0),
    # (1 + a)(1 + b) - 1: associative and commutative, as XLA requires (it does not fix the order)
    "shifted_product": (lambda m: lambda a, b: a + b + a * b, 0.0),
    "logaddexp": (lambda m: m.numpy.logaddexp, -np.inf),
}


@pytest.mark.parametrize("comp", list(GENERIC))
@pytest.mark.parametrize("win", WINDOWS, ids=WIDS)
def test_reduce_window_any_computation_matches_jax(comp, win):
    # padding and base-dilation holes take no part, init_value joins each window once (XLA's rule)
    _, shape, kw = win
    x = _distinct(shape, 3) / 2
    make, init = GENERIC[comp]
    want = jlax.reduce_window(x, init, make(jax), **kw)
    _close(lax.reduce_window(x, init, make(irjax), **kw), want, 1e-4)
    _close(irjax.jit(lambda a: lax.reduce_window(a, init, make(irjax), **kw))(x), want, 1e-4)


def test_reduce_window_several_operands_and_ints_match_jax():
    x = _distinct((5, 6))
    idx = np.arange(30, dtype=np.int32).reshape(5, 6)
    for kw in (dict(padding="VALID"), dict(padding="SAME"), dict(padding=[(1, 0), (0, 2)], window_dilation=(1, 2))):
        args = ((x, idx), (-np.inf, np.int32(0)))
        want = jlax.reduce_window(*args, _argmax_pair(jax), (2, 3), (1, 2), **kw)
        got = lax.reduce_window(*args, _argmax_pair(irjax), (2, 3), (1, 2), **kw)
        assert isinstance(got, tuple) and len(got) == 2
        for g, w in zip(got, want):
            _close(g, w)
    bits = np.array([[3, 1, 4, 8], [1, 5, 9, 2]], np.int32)
    _close(
        lax.reduce_window(bits, 0, lax.bitwise_or, (2, 2), (1, 1), "SAME"),
        jlax.reduce_window(bits, 0, jlax.bitwise_or, (2, 2), (1, 1), "SAME"),
    )
    empty = lax.reduce_window(np.ones((0, 3), np.float32), 1.0, lax.mul, (1, 2), (1, 1), "VALID")
    assert empty.shape == (0, 2)


def test_reduce_window_any_computation_grad_and_vmap():
    # JAX cannot differentiate a reduce_window of lax.mul; the fold is ordinary ops, so irjax can
    _, shape, kw = WINDOWS[3]
    x = (_distinct(shape, 4) / 2).astype(np.float64)
    f = lambda a: (lax.reduce_window(a, 1.0, lax.mul, **kw) ** 2).sum()
    g = np.asarray(irjax.grad(f)(x.astype(np.float32)), np.float64)
    ref = lambda a: float(
        (np.asarray(jlax.reduce_window(a.astype(np.float32), 1.0, jlax.mul, **kw), np.float64) ** 2).sum()
    )
    eps = 1e-3
    fd = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        fd[i] = (ref(x + e) - ref(x - e)) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=2e-2, atol=2e-2)
    xs = [_distinct(shape, s) for s in range(3)]
    got = irjax.vmap(lambda a: lax.reduce_window(a, 1.0, lax.mul, **kw))(np.stack(xs))
    _close(got, np.stack([np.asarray(jlax.reduce_window(a, 1.0, jlax.mul, **kw)) for a in xs]), 1e-4)


def test_reduce_window_bad_input():
    x = _distinct((4, 4))
    with pytest.raises(TypeError, match="same structure"):
        lax.reduce_window((x, x), 1.0, lax.mul, (2, 2), (1, 1), "VALID")
    with pytest.raises(ValueError, match="one shape"):
        lax.reduce_window((x, x[:2]), (1.0, 1.0), lambda a, b: a, (2, 2), (1, 1), "VALID")
    with pytest.raises(ValueError, match="window_dimensions needs 2"):
        lax.reduce_window(x, 0.0, lax.add, (2,), (1, 1), "VALID")
    with pytest.raises(ValueError, match="Unknown padding"):
        lax.reduce_window(x, 0.0, lax.add, (2, 2), (1, 1), "FULL")


# ---- cumlogsumexp / cumulative ops -----------------------------------------------------------


@pytest.mark.parametrize("axis,reverse", [(0, False), (1, True), (-1, False)])
def test_cumlogsumexp(axis, reverse):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((5, 9)) * 3).astype(np.float32)
    x[0, 0] = -200.0  # a value whose exp underflows: a naive log(cumsum(exp)) gives -inf
    want = jlax.cumlogsumexp(x, axis=axis % x.ndim, reverse=reverse)
    _close(lax.cumlogsumexp(x, axis=axis, reverse=reverse), want, 1e-5)
    _close(irjax.jit(lambda a: lax.cumlogsumexp(a, axis=axis, reverse=reverse))(x), want, 1e-5)
    ct = rng.standard_normal(x.shape).astype(np.float32)
    gw = jax.grad(lambda a: (jlax.cumlogsumexp(a, axis=axis % x.ndim, reverse=reverse) * ct).sum())(x)
    _close(irjax.grad(lambda a: jnp.sum(lax.cumlogsumexp(a, axis=axis, reverse=reverse) * ct))(x), gw, 1e-4)
    gv = irjax.vmap(lambda a: lax.cumlogsumexp(a, axis=0, reverse=reverse))(x)
    _close(gv, np.stack([np.asarray(jlax.cumlogsumexp(r, axis=0, reverse=reverse)) for r in x]), 1e-5)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin"])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumulative_match_jax(name, reverse):
    x = _distinct((4, 5)) + 2.5
    want = getattr(jlax, name)(x, axis=1, reverse=reverse)
    _close(getattr(lax, name)(x, axis=1, reverse=reverse), want, 1e-5)
    g = irjax.grad(lambda a: jnp.sum(getattr(lax, name)(a, axis=1, reverse=reverse) ** 2))(x)
    _close(g, jax.grad(lambda a: (getattr(jlax, name)(a, axis=1, reverse=reverse) ** 2).sum())(x), 1e-4)


# ---- reduce_precision --------------------------------------------------------------------------

SPECIAL = np.array(
    [
        0.0,
        -0.0,
        1.0,
        1.00390625,
        1.0039063,
        65504.0,
        65520.0,
        1e5,
        3e38,
        -3e38,
        6e-5,
        1e-6,
        1e-40,
        np.inf,
        -np.inf,
        np.nan,
        1 / 3,
        -2 / 3,
        1e-8,
    ],
    np.float32,
)


@pytest.mark.parametrize(
    "bits",
    [(8, 7), (5, 10), (4, 3), (8, 23), (11, 52), (3, 0)],
    ids=["bf16", "f16", "f8e4m3", "identity", "wider", "no_mantissa"],
)
def test_reduce_precision_matches_jax(bits):
    e, m = bits
    rng = np.random.default_rng(1)
    x = np.concatenate([SPECIAL, (rng.standard_normal(64) * 10.0 ** rng.integers(-8, 8, 64)).astype(np.float32)])
    want = np.asarray(jlax.reduce_precision(x, e, m))
    _close(lax.reduce_precision(x, e, m), want, 0)
    _close(get("reduce_precision").impl(x, exponent_bits=e, mantissa_bits=m), want, 0)
    _close(irjax.jit(lambda a: lax.reduce_precision(a, e, m))(x), want, 0)


def test_reduce_precision_is_bfloat16_and_float16_rounding():
    x = np.random.default_rng(2).standard_normal(100).astype(np.float32)
    _close(lax.reduce_precision(x, 5, 10), x.astype(np.float16).astype(np.float32), 0)
    g = irjax.grad(lambda a: jnp.sum(lax.reduce_precision(a, 8, 7) * 3.0))(x)
    _close(g, jax.grad(lambda a: (jlax.reduce_precision(a, 8, 7) * 3.0).sum())(x), 0)
    v = irjax.vmap(lambda a: lax.reduce_precision(a, 8, 7))(x.reshape(10, 10))
    _close(v, np.asarray(jlax.reduce_precision(x, 8, 7)).reshape(10, 10), 0)
    with pytest.raises(TypeError, match="floating-point"):
        lax.reduce_precision(np.arange(3), 8, 7)


# ---- select_n ----------------------------------------------------------------------------------


def test_select_n_matches_jax():
    rng = np.random.default_rng(0)
    cases = [rng.standard_normal((3, 4)).astype(np.float32) for _ in range(3)]
    which = rng.integers(0, 3, (3, 4)).astype(np.int32)
    _close(lax.select_n(which, *cases), jlax.select_n(which, *cases))
    pred = rng.random((3, 4)) < 0.5
    _close(lax.select_n(pred, *cases[:2]), jlax.select_n(pred, *cases[:2]))
    g = irjax.grad(lambda a: jnp.sum(lax.select_n(which, a, cases[1], a * 2.0)))(cases[0])
    _close(g, jax.grad(lambda a: jlax.select_n(which, a, cases[1], a * 2.0).sum())(cases[0]))
    v = irjax.vmap(lambda w, a: lax.select_n(w, a, cases[1][0], cases[2][0]))(which, cases[0])
    _close(v, jax.vmap(lambda w, a: jlax.select_n(w, a, cases[1][0], cases[2][0]))(which, cases[0]))


def test_unsigned_window_spanning_the_axis():
    # IREE 3.13 refuses this ui32 reduce_window outright ("failed to legalize unresolved target
    # materialization from ('ui32') to ('i32')"); the lowering reduces in the signed twin type
    x = np.array([7, 1, 4_000_000_000, 5, 2, 9, 3, 8], np.uint32)
    got = lax.reduce_window(x, np.uint32(0), lax.add, (8,), (1,), [(7, 0)])
    _close(got, np.cumsum(x, dtype=np.uint32))
    got = lax.reduce_window(x, np.uint32(0), lax.max, (8,), (1,), [(7, 0)])
    _close(got, np.maximum.accumulate(x))
    _close(got, jlax.reduce_window(x, np.uint32(0), jlax.max, (8,), (1,), [(7, 0)]))
