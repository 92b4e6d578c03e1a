"""Differential tests of irjax.numpy against NumPy (values) and JAX (dtypes, weak types).

Each case is `f(xp, *args)`, run with xp = irjax.numpy eagerly and under irjax.jit, and with
xp = numpy for the values. Result dtypes are compared with jax.numpy's where jax is
importable, else with NumPy's dtype canonicalized to 32 bits (JAX's default, x64 off).
"""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import errors

try:
    import jax
    import jax.numpy as jjnp

    jax.config.update("jax_platforms", "cpu")
except ImportError:  # the dtype oracle falls back to canonicalized numpy dtypes
    jax = jjnp = None

_CANON = {
    np.dtype("float64"): np.dtype("float32"),
    np.dtype("int64"): np.dtype("int32"),
    np.dtype("uint64"): np.dtype("uint32"),
    np.dtype("complex128"): np.dtype("complex64"),
}


def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [v for e in x for v in _leaves(e)]
    return [x]


def _expected_dtypes(f, args, np_out):
    if jjnp is not None:
        out = f(jjnp, *[jjnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args])
        return [(np.dtype(o.dtype), bool(getattr(o, "weak_type", False))) for o in _leaves(out)]
    return [(_CANON.get(np.asarray(o).dtype, np.asarray(o).dtype), None) for o in _leaves(np_out)]


def check(f, *args, jit=True, rtol=1e-5, atol=1e-6, np_f=None):
    """f(xp, *args) with irjax.numpy (eager and jitted) vs numpy values and JAX dtypes."""
    want = (np_f or f)(np, *args)
    expected = _expected_dtypes(f, args, want)
    got = f(jnp, *[jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args])
    results = [("eager", got)]
    if jit:
        arr_pos = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]

        def g(*arrs):
            full = list(args)
            for i, a in zip(arr_pos, arrs):
                full[i] = a
            return f(jnp, *full)

        results.append(("jit", irjax.jit(g)(*[args[i] for i in arr_pos])))
    for mode, out in results:
        gl, wl = _leaves(out), _leaves(want)
        assert len(gl) == len(wl), f"{mode}: {len(gl)} results, numpy gives {len(wl)}"
        for k, (g, w, (dt, weak)) in enumerate(zip(gl, wl, expected)):
            assert isinstance(g, irjax.Array), f"{mode}: result {k} is a {type(g).__name__}, not an Array"
            assert g.dtype == dt, f"{mode}: result {k} dtype {g.dtype}, JAX gives {dt}"
            if weak is not None:
                assert g.weak_type == weak, f"{mode}: result {k} weak_type {g.weak_type}, JAX gives {weak}"
            gv, wv = np.asarray(g), np.asarray(w)
            assert gv.shape == wv.shape, f"{mode}: result {k} shape {gv.shape}, numpy gives {wv.shape}"
            if dt.kind in "fc":
                np.testing.assert_allclose(gv, wv.astype(dt), rtol=rtol, atol=atol, equal_nan=True, err_msg=mode)
            else:
                np.testing.assert_array_equal(gv, wv.astype(dt), err_msg=mode)
    return got


rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4)).astype(np.float32)
Bm = rng.standard_normal((4, 5)).astype(np.float32)
V = rng.standard_normal(4).astype(np.float32)
POS = rng.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
I = rng.integers(-5, 6, (3, 4)).astype(np.int32)
U = rng.integers(0, 9, (3, 4)).astype(np.uint32)
I8 = rng.integers(-5, 6, (3, 4)).astype(np.int8)
BL = rng.random((3, 4)) < 0.5
T3 = rng.standard_normal((2, 3, 4)).astype(np.float32)


def case(id_, f, *args, **kw):
    return pytest.param(f, args, kw, id=id_)


def run_cases(cases):
    return pytest.mark.parametrize("f,args,kw", cases)


# ---- creation ---------------------------------------------------------------------------------------

CREATION = [
    case("array_list", lambda xp: xp.array([[1, 2], [3, 4]])),
    case("array_float_list", lambda xp: xp.array([1.0, 2.5])),
    case("array_dtype", lambda xp: xp.array([1, 2], dtype=xp.float32)),
    case("array_bool", lambda xp: xp.array([True, False])),
    case("array_f64_input", lambda xp: xp.array(np.arange(3.0))),
    case("array_scalar", lambda xp: xp.array(3)),
    case("asarray", lambda xp, a: xp.asarray(a), A),
    case("asarray_dtype", lambda xp, a: xp.asarray(a, dtype=xp.int32), I),
    case("zeros", lambda xp: xp.zeros((2, 3))),
    case("zeros_int", lambda xp: xp.zeros(4, xp.int32)),
    case("ones", lambda xp: xp.ones((2, 3), dtype=xp.bool_)),
    case("full", lambda xp: xp.full((2, 2), 7)),
    case("full_float", lambda xp: xp.full((2, 2), 1.5, xp.float32)),
    case("zeros_like", lambda xp, a: xp.zeros_like(a), I),
    case("ones_like", lambda xp, a: xp.ones_like(a, dtype=xp.float32), I),
    case("full_like", lambda xp, a: xp.full_like(a, 3), A),
    case("full_like_shape", lambda xp, a: xp.full_like(a, 2, shape=(2,)), U),
    case("arange", lambda xp: xp.arange(5)),
    case("arange_start_stop_step", lambda xp: xp.arange(2, 11, 3)),
    case("arange_float", lambda xp: xp.arange(0.0, 1.0, 0.25)),
    case("arange_neg_step", lambda xp: xp.arange(5, 0, -2)),
    case("arange_dtype", lambda xp: xp.arange(4, dtype=xp.float32)),
    case("linspace", lambda xp: xp.linspace(0, 1, 5)),
    case("linspace_noend", lambda xp: xp.linspace(-1.0, 1.0, 4, endpoint=False)),
    case("linspace_int_dtype", lambda xp: xp.linspace(0, 10, 6, dtype=xp.int32)),
    case("eye", lambda xp: xp.eye(3)),
    case("eye_rect_k", lambda xp: xp.eye(3, 4, k=1)),
    case("eye_neg_k", lambda xp: xp.eye(4, 3, k=-2, dtype=xp.int32)),
    case("identity", lambda xp: xp.identity(3, dtype=xp.int32)),
    case("tri", lambda xp: xp.tri(3, 4, k=1)),
    case("tril", lambda xp, a: xp.tril(a), A),
    case("triu_k", lambda xp, a: xp.triu(a, k=-1), A),
]


@run_cases(CREATION)
def test_creation(f, args, kw):
    check(f, *args, **kw)


# ---- elementwise math -----------------------------------------------------------------------------

UNARY = [
    "sin",
    "cos",
    "tan",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "exp",
    "exp2",
    "expm1",
    "negative",
    "abs",
    "sign",
    "floor",
    "ceil",
    "round",
    "square",
    "isfinite",
    "isnan",
    "isinf",
    "logical_not",
    "rint",
    "trunc",
    "fabs",
    "signbit",
    "reciprocal",
    "deg2rad",
    "rad2deg",
]
UNARY_POS = ["log", "log1p", "log2", "log10", "sqrt", "cbrt", "arccosh"]
UNARY_UNIT = ["arcsin", "arccos", "arctanh"]


@pytest.mark.parametrize("name", UNARY + UNARY_POS + UNARY_UNIT)
def test_unary_float(name):
    x = {**{n: A for n in UNARY}, **{n: POS + 1.0 for n in UNARY_POS}, **{n: np.tanh(A) * 0.9 for n in UNARY_UNIT}}[
        name
    ]
    check(lambda xp, a: getattr(xp, name)(a), x, rtol=2e-5)


INT_UNARY = ["negative", "abs", "sign", "square", "sqrt", "exp", "sin", "invert", "isfinite", "logical_not"]
BOOL_UNARY = ["sqrt", "exp", "sin", "invert", "isfinite", "logical_not"]


@pytest.mark.parametrize(
    "name,arr",
    [pytest.param(n, a, id=f"{n}-{a.dtype.name}") for a in (I, U) for n in INT_UNARY]
    + [pytest.param(n, BL, id=f"{n}-bool") for n in BOOL_UNARY],
)
def test_unary_int_bool(name, arr):
    if name == "sqrt":
        arr = np.abs(arr).astype(arr.dtype)
    # numpy computes float16 for bool inputs, JAX float32: take numpy's values in float32
    np_f = (
        (lambda xp, a: getattr(xp, name)(a.astype(np.float32)))
        if arr.dtype == bool and name in ("sqrt", "exp", "sin")
        else None
    )
    check(lambda xp, a: getattr(xp, name)(a), arr, rtol=2e-5, np_f=np_f)


BINARY = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "maximum",
    "minimum",
    "power",
    "arctan2",
    "hypot",
    "fmod",
    "remainder",
    "floor_divide",
    "mod",
    "copysign",
    "logaddexp",
    "equal",
    "not_equal",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "fmax",
    "fmin",
]


@pytest.mark.parametrize("name", BINARY)
def test_binary_float(name):
    a, b = A, POS if name in ("power", "fmod", "remainder", "floor_divide", "mod") else A[::-1]
    if name == "power":
        a = POS
    check(lambda xp, x, y: getattr(xp, name)(x, y), a, b, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize(
    "name",
    [
        "add",
        "subtract",
        "multiply",
        "floor_divide",
        "remainder",
        "mod",
        "maximum",
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
        "left_shift",
        "right_shift",
        "equal",
        "less",
        "true_divide",
        "power",
        "logical_and",
        "logical_xor",
    ],
)
@pytest.mark.parametrize("dt", ["int32", "uint32"])
def test_binary_int(name, dt):
    a = (I if dt == "int32" else U).astype(dt)
    b = np.where(I == 0, 3, I).astype(dt) if dt == "int32" else (U % 5 + 1).astype(dt)
    if name in ("left_shift", "right_shift", "power"):
        b = (np.abs(I) % 4).astype(dt)
    check(lambda xp, x, y: getattr(xp, name)(x, y), a, b)


def test_mixed_promotion():
    check(lambda xp, a, b: a + b, I, A)
    check(lambda xp, a, b: a * b, I8, I)
    check(lambda xp, a, b: a - b, U, I)
    check(lambda xp, a, b: xp.logical_or(a, b), BL, I)
    check(lambda xp, a, b: a + b, BL, BL[::-1].copy())  # bool + bool is logical or
    check(lambda xp, a, b: a * b, BL, BL[::-1].copy())
    with pytest.raises(TypeError):
        jnp.asarray(BL) - jnp.asarray(BL)


# ---- operators, reflected ops, Python scalars (weak types) -------------------------------------------

OPERATORS = [
    case("mul_float_scalar_on_int", lambda xp: xp.arange(3) * 2.5),
    case("int8_plus_1", lambda xp: xp.ones(3, xp.int8) + 1),
    case("int8_times_int", lambda xp, a: a * 3, I8),
    case("uint32_plus_int", lambda xp, a: a + 2, U),
    case("f32_plus_int", lambda xp, a: a + 1, A),
    case("radd", lambda xp, a: 1.5 + a, A),
    case("rsub", lambda xp, a: 2 - a, I),
    case("rmul", lambda xp, a: 3 * a, A),
    case("rtruediv", lambda xp, a: 1.0 / a, POS),
    case("rtruediv_int", lambda xp, a: 1 / a, np.where(I == 0, 1, I).astype(np.int32)),
    case("truediv_int", lambda xp, a: a / 2, I),
    case("floordiv", lambda xp, a: a // 2, I),
    case("rfloordiv", lambda xp, a: 7 // a, np.where(I == 0, 1, I).astype(np.int32)),
    case("mod_neg", lambda xp, a: a % 3, I),
    case("rmod", lambda xp, a: 7.5 % a, POS),
    case("pow_int_scalar", lambda xp, a: a**2, A),
    case("pow_float_scalar", lambda xp, a: a**0.5, POS),
    case("rpow", lambda xp, a: 2.0**a, A),
    case("neg", lambda xp, a: -a, A),
    case("pos", lambda xp, a: +a, I),
    case("abs", lambda xp, a: abs(a), I),
    case("invert", lambda xp, a: ~a, I),
    case("invert_bool", lambda xp, a: ~a, BL),
    case("and", lambda xp, a, b: a & b, I, U.astype(np.int32)),
    case("or_scalar", lambda xp, a: a | 1, I),
    case("rxor", lambda xp, a: 5 ^ a, I),
    case("lshift", lambda xp, a: a << 2, I),
    case("rshift", lambda xp, a: a >> 1, I),
    case("matmul_op", lambda xp, a, b: a @ b, A, Bm),
    case("lt_scalar", lambda xp, a: a < 0.5, A),
    case("le_int_scalar", lambda xp, a: a <= 1, I),
    case("gt_rev_scalar", lambda xp, a: 0 > a, A),
    case("ge", lambda xp, a, b: a >= b, A, A.T.copy().T),
    case("eq_scalar", lambda xp, a: a == 2, I),
    case("ne_scalar", lambda xp, a: a != 2.0, I),
    case("eq_arrays", lambda xp, a, b: a == b, I, I[::-1].copy()),
    case("bool_plus_int", lambda xp, a: a + 1, BL),
    case("bool_times_float", lambda xp, a: a * 1.5, BL),
    case("float_scalar_array", lambda xp: xp.asarray(2.0) * 3),
    case("scalar_broadcast_row", lambda xp, a, v: a + v, A, V),
    case("divmod", lambda xp, a: divmod(a, 3), I),
]


@run_cases(OPERATORS)
def test_operators(f, args, kw):
    check(f, *args, **kw)


def test_weak_type_examples():
    assert jnp.arange(3) * 2.5 is not None and (jnp.arange(3) * 2.5).dtype == np.float32
    assert (jnp.ones(3, jnp.int8) + 1).dtype == np.int8
    assert jnp.asarray(1.0).weak_type is True  # as in JAX
    assert jnp.asarray(np.float32(1.0)).weak_type is False
    assert (jnp.asarray(1.0) + 1).dtype == np.float32


# ---- reductions ----------------------------------------------------------------------------------------

REDUCTIONS = []
for _name in ["sum", "mean", "std", "var", "max", "min", "prod", "all", "any"]:
    for _axis in [None, 0, 1, -1, (0, 1)]:
        for _kd in [False, True]:
            if _axis in (-1, (0, 1)) and _kd:
                continue
            _x = BL if _name in ("all", "any") else (POS if _name == "prod" else A)
            REDUCTIONS.append(
                case(
                    f"{_name}-axis={_axis}-keepdims={_kd}",
                    (lambda n, ax, kd: lambda xp, a: getattr(xp, n)(a, axis=ax, keepdims=kd))(_name, _axis, _kd),
                    _x,
                    rtol=1e-5,
                    atol=1e-5,
                )
            )
for _name in ["argmax", "argmin"]:
    for _axis in [None, 0, 1, -1]:
        REDUCTIONS.append(
            case(f"{_name}-axis={_axis}", (lambda n, ax: lambda xp, a: getattr(xp, n)(a, axis=ax))(_name, _axis), A)
        )
    REDUCTIONS.append(
        case(f"{_name}-keepdims", (lambda n: lambda xp, a: getattr(xp, n)(a, axis=1, keepdims=True))(_name), I)
    )
    REDUCTIONS.append(
        case(
            f"{_name}-ties",
            (lambda n: lambda xp, a: getattr(xp, n)(a, axis=0))(_name),
            np.array([[1, 3, 3], [3, 1, 3]], np.int32),
        )
    )
for _name in ["cumsum", "cumprod"]:
    for _axis in [None, 0, 1, -1]:
        REDUCTIONS.append(
            case(
                f"{_name}-axis={_axis}",
                (lambda n, ax: lambda xp, a: getattr(xp, n)(a, axis=ax))(_name, _axis),
                POS,
                rtol=1e-5,
                atol=1e-5,
            )
        )
REDUCTIONS += [
    case("sum_int", lambda xp, a: xp.sum(a, axis=0), I),
    case("sum_int8_promotes", lambda xp, a: xp.sum(a), I8),
    case("sum_uint32", lambda xp, a: xp.sum(a, axis=1), U),
    case("sum_bool", lambda xp, a: xp.sum(a, axis=1), BL),
    case("sum_dtype", lambda xp, a: xp.sum(a, dtype=xp.float32), I),
    case("mean_int", lambda xp, a: xp.mean(a, axis=1), I),
    case("max_int", lambda xp, a: xp.max(a, axis=0), I),
    case("min_uint", lambda xp, a: xp.min(a), U),
    case("prod_int", lambda xp, a: xp.prod(a, axis=1), I),
    case("var_ddof", lambda xp, a: xp.var(a, axis=0, ddof=1), A),
    case("std_int", lambda xp, a: xp.std(a), I),
    case("cumsum_int", lambda xp, a: xp.cumsum(a, axis=1), I),
    case("cumsum_bool", lambda xp, a: xp.cumsum(a), BL),
    case("method_sum", lambda xp, a: a.sum(axis=1), A),
    case("method_mean_kd", lambda xp, a: a.mean(0, keepdims=True), A),
    case("method_max", lambda xp, a: a.max(), A),
    case("method_argmax", lambda xp, a: a.argmax(axis=1), A),
    case("sum_3d_axes", lambda xp, a: xp.sum(a, axis=(0, 2)), T3, rtol=1e-5, atol=1e-5),
    case("max_3d_neg", lambda xp, a: xp.max(a, axis=(-1, 0), keepdims=True), T3),
]


@run_cases(REDUCTIONS)
def test_reductions(f, args, kw):
    check(f, *args, **kw)


# ---- products ------------------------------------------------------------------------------------------

M3 = rng.standard_normal((2, 3, 4)).astype(np.float32)
N3 = rng.standard_normal((2, 4, 5)).astype(np.float32)
PRODUCTS = [
    case("dot_mm", lambda xp, a, b: xp.dot(a, b), A, Bm),
    case("dot_mv", lambda xp, a, b: xp.dot(a, b), A, V),
    case("dot_vv", lambda xp, a, b: xp.dot(a, b), V, V[::-1].copy()),
    case("dot_scalar", lambda xp, a: xp.dot(a, 2.0), A),
    case("dot_int", lambda xp, a, b: xp.dot(a, b), I, I.T.copy()),
    case("dot_nd", lambda xp, a, b: xp.dot(a, b), M3, Bm),
    case("matmul", lambda xp, a, b: xp.matmul(a, b), A, Bm),
    case("matmul_batched", lambda xp, a, b: xp.matmul(a, b), M3, N3),
    case("matmul_broadcast", lambda xp, a, b: xp.matmul(a, b), M3, Bm),
    case("matmul_vec", lambda xp, a, b: xp.matmul(a, b), V, Bm),
    case("matmul_mat_vec", lambda xp, a, b: a @ b, A, V),
    case("vdot", lambda xp, a, b: xp.vdot(a, b), A, A[::-1].copy()),
    case("outer", lambda xp, a, b: xp.outer(a, b), V, V[:3].copy()),
    case("inner_vv", lambda xp, a, b: xp.inner(a, b), V, V),
    case("inner_mm", lambda xp, a, b: xp.inner(a, b), A, A),
    case("tensordot_2", lambda xp, a, b: xp.tensordot(a, b, axes=1), A, Bm),
    case(
        "tensordot_pairs",
        lambda xp, a, b: xp.tensordot(a, b, axes=([1, 2], [0, 1])),
        M3,
        rng.standard_normal((3, 4, 2)).astype(np.float32),
    ),
    case("tensordot_0", lambda xp, a, b: xp.tensordot(a, b, axes=0), V, V[:2].copy()),
    case("einsum_mm", lambda xp, a, b: xp.einsum("ij,jk->ik", a, b), A, Bm),
    case("einsum_batched", lambda xp, a, b: xp.einsum("bij,bjk->bik", a, b), M3, N3),
    case("einsum_transpose", lambda xp, a: xp.einsum("ij->ji", a), A),
    case("einsum_sum", lambda xp, a: xp.einsum("ij->", a), A),
    case("einsum_implicit", lambda xp, a, b: xp.einsum("ij,jk", a, b), A, Bm),
    case("einsum_outer", lambda xp, a, b: xp.einsum("i,j->ij", a, b), V, V),
    case(
        "einsum_three",
        lambda xp, a, b, c: xp.einsum("ij,jk,k->i", a, b, c),
        A,
        Bm,
        rng.standard_normal(5).astype(np.float32),
    ),
    case("einsum_trace", lambda xp, a: xp.einsum("ii->", a), A[:3, :3].copy()),
    case("einsum_diag", lambda xp, a: xp.einsum("ii->i", a), A[:3, :3].copy()),
    case("einsum_repeated_two", lambda xp, a, b: xp.einsum("ii,ij->j", a, b), A[:3, :3].copy(), A),
    case("einsum_ellipsis", lambda xp, a, b: xp.einsum("...ij,...jk->...ik", a, b), M3, N3),
    case("einsum_ellipsis_broadcast", lambda xp, a, b: xp.einsum("...j,jk->...k", a, b), M3, Bm),
    case("einsum_ellipsis_sum", lambda xp, a: xp.einsum("i...->...", a), M3),
]


@run_cases(PRODUCTS)
def test_products(f, args, kw):
    check(f, *args, rtol=1e-5, atol=1e-5, **kw)


# ---- shape ops -----------------------------------------------------------------------------------------

SHAPE = [
    case("reshape", lambda xp, a: xp.reshape(a, (4, 3)), A),
    case("reshape_neg1", lambda xp, a: xp.reshape(a, (2, -1)), A),
    case("method_reshape", lambda xp, a: a.reshape(6, 2), A),
    case("ravel", lambda xp, a: xp.ravel(a), T3),
    case("transpose", lambda xp, a: xp.transpose(a), T3),
    case("transpose_axes", lambda xp, a: xp.transpose(a, (1, 0, 2)), T3),
    case("T", lambda xp, a: a.T, A),
    case("swapaxes", lambda xp, a: xp.swapaxes(a, 0, 2), T3),
    case("moveaxis", lambda xp, a: xp.moveaxis(a, 0, -1), T3),
    case("moveaxis_multi", lambda xp, a: xp.moveaxis(a, (0, 1), (2, 0)), T3),
    case("expand_dims", lambda xp, a: xp.expand_dims(a, 1), A),
    case("expand_dims_multi", lambda xp, a: xp.expand_dims(a, (0, -1)), A),
    case("squeeze", lambda xp, a: xp.squeeze(a), A[:, :1].copy()),
    case("squeeze_axis", lambda xp, a: xp.squeeze(a, axis=1), A[:, :1].copy()),
    case("concatenate", lambda xp, a, b: xp.concatenate([a, b]), A, A[:2].copy()),
    case("concatenate_axis1_promote", lambda xp, a, b: xp.concatenate([a, b], axis=1), A, I),
    case("concatenate_none", lambda xp, a, b: xp.concatenate([a, b], axis=None), A, V),
    case("stack", lambda xp, a, b: xp.stack([a, b]), A, A[::-1].copy()),
    case("stack_axis", lambda xp, a, b: xp.stack([a, b], axis=-1), A, A[::-1].copy()),
    case("hstack", lambda xp, a, b: xp.hstack([a, b]), A, A),
    case("hstack_1d", lambda xp, a, b: xp.hstack([a, b]), V, V),
    case("vstack", lambda xp, a, b: xp.vstack([a, b]), A, A),
    case("vstack_1d", lambda xp, a, b: xp.vstack([a, b]), V, V),
    case("split", lambda xp, a: xp.split(a, 2, axis=1), A),
    case("split_indices", lambda xp, a: xp.split(a, [1, 3], axis=1), A),
    case("tile", lambda xp, a: xp.tile(a, (2, 1)), A),
    case("tile_int", lambda xp, a: xp.tile(a, 3), V),
    case("tile_more_dims", lambda xp, a: xp.tile(a, (2, 1, 2)), A),
    case("repeat", lambda xp, a: xp.repeat(a, 2), A),
    case("repeat_axis", lambda xp, a: xp.repeat(a, 2, axis=0), A),
    case("repeat_array", lambda xp, a: xp.repeat(a, np.array([1, 0, 2]), axis=0), A),
    case("broadcast_to", lambda xp, a: xp.broadcast_to(a, (2, 3, 4)), A),
    case("broadcast_to_ones", lambda xp, a: xp.broadcast_to(a, (3, 4)), A[:1].copy()),
    case("flip", lambda xp, a: xp.flip(a), A),
    case("flip_axis", lambda xp, a: xp.flip(a, 1), A),
    case("fliplr", lambda xp, a: xp.fliplr(a), A),
    case("roll", lambda xp, a: xp.roll(a, 2), A),
    case("roll_axis", lambda xp, a: xp.roll(a, -1, axis=1), A),
    case("roll_multi", lambda xp, a: xp.roll(a, (1, 2), axis=(0, 1)), A),
    case("where", lambda xp, c, a, b: xp.where(c, a, b), BL, A, I),
    case("where_scalar", lambda xp, c, a: xp.where(c, a, 0.0), BL, A),
    case("where_int_scalars", lambda xp, c: xp.where(c, 1, 2), BL),
    case("clip", lambda xp, a: xp.clip(a, -0.5, 0.5), A),
    case("clip_int", lambda xp, a: xp.clip(a, -2, 3), I),
    case("clip_min_only", lambda xp, a: xp.clip(a, 0, None), A),
    case("method_clip", lambda xp, a: a.clip(max=0.2), A),
    case("pad", lambda xp, a: xp.pad(a, 1), A),
    case("pad_widths", lambda xp, a: xp.pad(a, ((1, 0), (2, 3)), constant_values=-1), I),
    case("pad_edge", lambda xp, a: xp.pad(a, 2, mode="edge"), V),
    case("pad_reflect", lambda xp, a: xp.pad(a, (2, 1), mode="reflect"), V),
    case("pad_symmetric", lambda xp, a: xp.pad(a, (3, 2), mode="symmetric"), V),
    case("pad_wrap", lambda xp, a: xp.pad(a, (1, 5), mode="wrap"), V),
    case("diag_vec", lambda xp, a: xp.diag(a), V),
    case("diag_vec_k1", lambda xp, a: xp.diag(a, k=1), V),
    case("diag_vec_kneg2", lambda xp, a: xp.diag(a, k=-2), V),
    case("diag_mat", lambda xp, a: xp.diag(a), A),
    case("diag_mat_k", lambda xp, a: xp.diag(a, 1), A),
    case("diag_mat_kneg", lambda xp, a: xp.diag(a, -1), A),
    case("diagonal", lambda xp, a: xp.diagonal(a, 1, 0, 2), T3),
    case("trace", lambda xp, a: xp.trace(a), A),
    case("atleast_2d", lambda xp, a: xp.atleast_2d(a), V),
]


@run_cases(SHAPE)
def test_shape_ops(f, args, kw):
    check(f, *args, **kw)


# ---- sorting, isclose ------------------------------------------------------------------------------------

WITH_NAN = np.array([[3.0, np.nan, -1.0, 2.0], [0.5, 0.5, -np.inf, np.inf]], np.float32)
MISC = [
    case("sort", lambda xp, a: xp.sort(a), A),
    case("sort_axis0", lambda xp, a: xp.sort(a, axis=0), I),
    case("sort_none", lambda xp, a: xp.sort(a, axis=None), A),
    case("sort_nan", lambda xp, a: xp.sort(a), WITH_NAN),
    case("argsort", lambda xp, a: xp.argsort(a), A),
    case("argsort_ties_stable", lambda xp, a: xp.argsort(a, axis=1), np.array([[2, 1, 2, 1, 0]], np.int32)),
    case("argsort_axis0", lambda xp, a: xp.argsort(a, axis=0), A),
    case("method_sort", lambda xp, a: a.sort(), U, np_f=lambda xp, a: np.sort(a)),
    case("isclose", lambda xp, a, b: xp.isclose(a, b), A, A + np.float32(1e-6) * np.sign(A)),
    case("isclose_tol", lambda xp, a, b: xp.isclose(a, b, rtol=0.0, atol=0.1), A, A + 0.05),
    case("isclose_nan", lambda xp, a: xp.isclose(a, a, equal_nan=True), WITH_NAN),
    case("isclose_int", lambda xp, a, b: xp.isclose(a, b), I, I[::-1].copy()),
    case("allclose_true", lambda xp, a: xp.allclose(a, a + 1e-7), A),
    case("allclose_false", lambda xp, a: xp.allclose(a, a + 1.0), A),
    case("array_equal", lambda xp, a: xp.array_equal(a, a), I),
]


@run_cases(MISC)
def test_sort_and_isclose(f, args, kw):
    check(f, *args, **kw)


# ---- indexing ----------------------------------------------------------------------------------------------

X5 = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
IDX = [
    case("int", lambda xp, a: a[1], X5),
    case("neg_int", lambda xp, a: a[-1, 2], X5),
    case("slice", lambda xp, a: a[1:3], X5),
    case("slice_step", lambda xp, a: a[:, ::2], X5),
    case("slice_neg_step", lambda xp, a: a[::-1, 3:0:-2], X5),
    case("slice_neg_step_all", lambda xp, a: a[:, :, ::-3], X5),
    case("slice_neg_bounds", lambda xp, a: a[-2:, -3:-1], X5),
    case("slice_out_of_range", lambda xp, a: a[1:100, -100:2], X5),
    case("empty_slice", lambda xp, a: a[2:1], X5),
    case("none", lambda xp, a: a[None, 1, :, None], X5),
    case("ellipsis", lambda xp, a: a[..., 1], X5),
    case("ellipsis_mid", lambda xp, a: a[0, ..., None, 2], X5),
    case("int_array", lambda xp, a: a[np.array([2, 0, 2])], X5),
    case("int_array_neg", lambda xp, a: a[:, np.array([-1, 0])], X5),
    case("int_array_list", lambda xp, a: a[[0, 2], 1], X5),
    case("two_int_arrays", lambda xp, a: a[np.array([0, 2]), np.array([1, 3])], X5),
    case("int_arrays_broadcast", lambda xp, a: a[np.array([[0], [2]]), :, np.array([1, 4, 0])], X5),
    case("int_array_2d", lambda xp, a: a[np.array([[0, 1], [2, 2]])], X5),
    case("mixed_slice_array", lambda xp, a: a[1:, np.array([0, 3])], X5),
    case("scalar_array_index", lambda xp, a: a[np.int32(2)], X5),
    case("method_take", lambda xp, a: a.take(np.array([1, 0, 4]), axis=2), X5),
    case("take_along_axis", lambda xp, a, i: xp.take_along_axis(a, i, axis=1), A, np.argsort(A, axis=1)),
]


@run_cases(IDX)
def test_indexing(f, args, kw):
    check(f, *args, **kw)


def test_traced_index():
    f = irjax.jit(lambda a, i: a[i])
    np.testing.assert_array_equal(np.asarray(f(jnp.asarray(X5), 2)), X5[2])
    np.testing.assert_array_equal(np.asarray(f(jnp.asarray(X5), jnp.asarray(-1))), X5[-1])
    g = irjax.jit(lambda a, i: a[:, i, 1:])
    np.testing.assert_array_equal(np.asarray(g(jnp.asarray(X5), jnp.asarray(3))), X5[:, 3, 1:])


BOOL_IDX = [
    case("mask_full", lambda xp, a: a[a > 0], A),
    case("mask_rows", lambda xp, a: a[np.array([True, False, True])], X5),
    case("mask_with_slice", lambda xp, a: a[1:, np.array([True, False, True, True])], X5),
    case("mask_nd", lambda xp, a, m: a[m], X5, X5 % 3 == 0),
]


@run_cases(BOOL_IDX)
def test_boolean_mask_eager(f, args, kw):
    check(f, *args, jit=False)


AT = [
    case("set", lambda xp, a: a.at[1].set(0.0), A),
    case("set_slice", lambda xp, a: a.at[:, 1:3].set(7.0), A),
    case("set_neg_step", lambda xp, a: a.at[::-2].set(-1.0), A),
    case("set_array", lambda xp, a, v: a.at[0].set(v), A, V),
    case("set_int_array", lambda xp, a: a.at[np.array([0, 2]), np.array([1, 3])].set(5.0), A),
    case("add", lambda xp, a: a.at[1, 2].add(10.0), A),
    case("add_duplicates", lambda xp, a: a.at[np.array([0, 0, 2])].add(1.0), A),
    case("multiply", lambda xp, a: a.at[:, 0].multiply(3.0), A),
    case("divide", lambda xp, a: a.at[2].divide(2.0), A),
    case("min", lambda xp, a: a.at[:2].min(0.0), A),
    case("max", lambda xp, a: a.at[np.array([1, 1])].max(0.25), A),
    case("power", lambda xp, a: a.at[0].power(2), POS),
    case("get", lambda xp, a: a.at[1:, ::-1].get(), A),
    case("set_int_dtype", lambda xp, a: a.at[0].set(2.7), I),
    case("set_mask", lambda xp, a: a.at[a > 0].set(0.0), A),
]


def _np_at(expr):
    """NumPy twin of x.at[...]: apply the update to a copy."""
    return expr


@run_cases(AT)
def test_at(f, args, kw):
    def np_f(xp, *a):
        return _NumpyAt.run(f, *a)

    check(f, *args, np_f=np_f, jit=not _uses_mask(f))


def _uses_mask(f):
    return f is AT[-1].values[0]


class _NumpyAt:
    """Runs an `x.at[idx].op(v)` lambda on NumPy arrays through a tiny shim."""

    class Arr(np.ndarray):
        @property
        def at(self):
            return _NumpyAt.Indexer(self)

    class Indexer:
        def __init__(self, x):
            self.x = x

        def __getitem__(self, idx):
            return _NumpyAt.Ref(self.x, idx)

    class Ref:
        def __init__(self, x, idx):
            self.x, self.idx = np.asarray(x), idx

        def _apply(self, fn, v):
            out = self.x.copy()
            if fn is None:
                out[self.idx] = v
            else:
                fn.at(out, self.idx, np.asarray(v).astype(out.dtype) if np.ndim(v) else v)
            return out

        def set(self, v):
            return self._apply(None, np.asarray(v).astype(self.x.dtype))

        def add(self, v):
            return self._apply(np.add, v)

        def multiply(self, v):
            return self._apply(np.multiply, v)

        def divide(self, v):
            return self._apply(np.divide, v)

        def min(self, v):
            return self._apply(np.minimum, v)

        def max(self, v):
            return self._apply(np.maximum, v)

        def power(self, v):
            return self._apply(np.power, v)

        def get(self):
            return self.x[self.idx]

    @staticmethod
    def run(f, *args):
        return f(np, *[a.view(_NumpyAt.Arr) if isinstance(a, np.ndarray) and a.ndim >= 2 else a for a in args])


# ---- repr, immutability --------------------------------------------------------------------------------


def test_repr():
    assert repr(jnp.arange(3)) == "Array([0, 1, 2], dtype=int32)"
    assert repr(jnp.array([1.0, 2.5])) == "Array([1. , 2.5], dtype=float32)"
    assert repr(jnp.array(True)) == "Array(True, dtype=bool)"
    assert repr(jnp.asarray(2.0)) == "Array(2., dtype=float32, weak_type=True)" or repr(jnp.asarray(2.0)) == repr(
        jjnp.asarray(2.0)
    )
    if jjnp is not None:
        for v in (jnp.zeros((2, 3)), jnp.arange(4, dtype=jnp.uint32), jnp.ones(3) * 2, jnp.array(3)):
            assert repr(v) == repr(jjnp.asarray(np.asarray(v), dtype=v.dtype)) or (
                v.weak_type and "weak_type=True" in repr(v)
            )


def test_immutable():
    x = jnp.arange(3)
    with pytest.raises(TypeError):
        x[0] = 5
    np.testing.assert_array_equal(np.asarray(x), [0, 1, 2])
    with pytest.raises((ValueError, TypeError)):
        np.asarray(x)[0] = 5  # the host view is read-only


def test_iteration_gives_rows():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for src in (jnp.asarray(x), jnp.asarray(x) * 1.0):  # concrete, and a pending eager op
        rows = list(src)
        assert len(rows) == 2 and all(isinstance(r, irjax.Array) for r in rows)
        for r, want in zip(rows, x):
            assert r.shape == (3, 4) and r.dtype == np.float32
            np.testing.assert_array_equal(np.asarray(r), want)
        np.testing.assert_array_equal(np.asarray(jnp.stack([r * 2 for r in rows])), x * 2)
    scalars = list(jnp.array([1, 2, 3], dtype=jnp.uint8))
    assert [int(v) for v in scalars] == [1, 2, 3] and all(v.shape == () and v.dtype == np.uint8 for v in scalars)
    assert [r.weak_type for r in jnp.asarray([2.0, 3.0]) + 1] == [False, False]
    weak = jnp.broadcast_to(1.5, (2,))  # a weakly typed array has weak rows, as in JAX
    assert weak.weak_type and all(r.weak_type for r in weak)
    cpu = irjax.devices("cpu")[0]
    assert all(r._committed and r.devices() == {cpu} for r in irjax.device_put(x, cpu))
    with pytest.raises(TypeError, match="0-d"):
        list(jnp.asarray(1.0))


# ---- errors --------------------------------------------------------------------------------------------------


def test_dot_mismatched_shapes():
    with pytest.raises(TypeError, match="dot"):
        jnp.dot(jnp.ones((2, 3)), jnp.ones((4, 5)))
    with pytest.raises(TypeError):
        irjax.jit(jnp.matmul)(jnp.ones((2, 3)), jnp.ones((4, 5)))


def test_bad_reshape():
    with pytest.raises(TypeError, match="reshape"):
        jnp.reshape(jnp.ones((2, 3)), (4, 2))
    with pytest.raises(TypeError):
        irjax.jit(lambda x: x.reshape(5))(jnp.ones(6))
    for bad in ((-2, -5), (2, -5)):  # negative sizes other than one -1 (JAX: TypeError too)
        with pytest.raises(TypeError, match="reshape"):
            jnp.ones(10).reshape(bad)
    assert jnp.ones((2, 3)).reshape(np.int64(6)).shape == (6,)  # a NumPy integer as the shape


def test_boolean_mask_under_jit():
    with pytest.raises(errors.NonConcreteBooleanIndexError) as e:
        irjax.jit(lambda x: x[x > 0])(jnp.asarray(A))
    assert isinstance(e.value, IndexError)
    assert issubclass(errors.NonConcreteBooleanIndexError, IndexError)


def test_if_tracer_under_jit():
    def f(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(errors.TracerBoolConversionError):
        irjax.jit(f)(jnp.asarray(1.0))


def test_unhashable_static_arg():
    f = irjax.jit(lambda x, n: x * len(n), static_argnums=1)
    with pytest.raises(ValueError, match="hash"):
        f(jnp.ones(3), [1, 2])


def test_non_array_argument_to_jit():
    f = irjax.jit(lambda x: x)
    with pytest.raises(TypeError):
        f("a string")
    with pytest.raises(TypeError):
        f(object())


def test_broadcast_error():
    with pytest.raises(ValueError, match="[Ii]ncompatible shapes"):
        jnp.ones((2, 3)) + jnp.ones((4,))
