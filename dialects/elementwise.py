"""Elementwise jx ops: unary and binary math, comparisons, bitwise ops, select, convert.

    %1 = "jx.sin"(%0) : (tensor<3xf32>) -> tensor<3xf32>
lowers to
    %1 = stablehlo.sine %0 : tensor<3xf32>
Operands of binary ops have equal shapes; the frontend broadcasts explicitly.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from . import hlo, hlo_math, low_precision
from . import lang as L
from .builder import aval
from .lang import jx
from .low_precision import kind
from .registry import Primitive, ShapedType, VerifyError, register

BOOL = np.dtype(np.bool_)


def _check_kind(name, dtype, kinds):
    if kind(dtype) not in kinds:
        raise VerifyError(f"jx.{name} does not accept dtype {dtype.name}")


# ---- family helpers -------------------------------------------------------------


def _same_shape(name, avals):
    s0 = avals[0].shape
    for a in avals[1:]:
        if a.shape != s0:
            raise VerifyError(f"jx.{name} needs operands of one shape, got " + ", ".join(x.str_short() for x in avals))


def batch_elementwise(prim_name, **fixed):
    """Batch rule: move every batched operand's batch dim to 0, broadcast the rest."""

    def rule(args, dims, **params):
        size = next(a.shape[d] for a, d in zip(args, dims) if d is not None)
        xs = []
        for a, d in zip(args, dims):
            if d is None:
                a = L.broadcast_in_dim(a, (size,) + a.shape, tuple(range(1, a.ndim + 1)))
            xs.append(a)
        out = L.bind(prim_name, *xs, **params)
        return (out, [0] * len(out)) if isinstance(out, list) else (out, 0)

    return rule


def unary(name, np_fn, hlo_name, deriv=None, kinds="f", out_dtype=None, doc="", nondiff=False, rules=None):
    """deriv(x, y) -> dy/dx as a Val expression (y is the op's output). nondiff: the output
    has a zero tangent (is_finite, bit ops) rather than no jvp rule. rules: (jvp, vjp) written
    by hand, in place of deriv's (abs, whose complex rule is not a product)."""

    def _out(dtype):
        if callable(out_dtype):  # a rule of the operand's dtype (abs: complex64 -> float32)
            return np.dtype(out_dtype(dtype))
        return np.dtype(out_dtype) if out_dtype else dtype

    def infer(x):
        _check_kind(name, x.dtype, kinds)
        return ShapedType(x.shape, _out(x.dtype))

    def impl(x):
        r = np_fn(x)
        return np.asarray(r, dtype=_out(x.dtype))

    def lower(ctx, x):
        if callable(hlo_name):
            return hlo_name(ctx, x)
        return hlo.op1(hlo_name, [x], ctx.out_avals[0])

    jvp, vjp = (_nondiff_jvp(name) if nondiff else None), None
    if deriv is not None:

        def jvp(primals, tangents):
            (x,), (t,) = primals, tangents
            y = L.bind(name, x)
            return [y], [None if t is None else t * deriv(x, y)]

        def vjp(cts, primals, outs):
            return [cts[0] * deriv(primals[0], outs[0])]

    return register(
        Primitive(
            name,
            infer,
            impl=impl,
            lower=lower,
            jvp=rules[0] if rules else jvp,
            vjp=rules[1] if rules else vjp,
            batch=batch_elementwise(name),
            doc=doc or f"elementwise {name}",
            family="unary",
        )
    )


def binary(name, np_fn, hlo_name, derivs=None, kinds="fiub", out_bool=False, doc="", nondiff=False):
    """derivs = (d/dx, d/dy), each f(x, y, out) -> Val, or None (no rule). nondiff: the output
    has a zero tangent (comparisons, bit ops)."""

    def infer(x, y):
        _same_shape(name, [x, y])
        if x.dtype != y.dtype:
            raise VerifyError(f"jx.{name} needs operands of one dtype, got {x.dtype.name} and {y.dtype.name}")
        _check_kind(name, x.dtype, kinds)
        return ShapedType(x.shape, BOOL if out_bool else x.dtype)

    def impl(x, y):
        with np.errstate(all="ignore"):
            r = np_fn(x, y)
        return np.asarray(r, dtype=BOOL if out_bool else x.dtype)

    def lower(ctx, x, y):
        if callable(hlo_name):
            return hlo_name(ctx, x, y)
        return hlo.op1(hlo_name, [x, y], ctx.out_avals[0])

    jvp, vjp = (_nondiff_jvp(name) if nondiff else None), None
    if derivs is not None:

        def jvp(primals, tangents):
            x, y = primals
            out = L.bind(name, x, y)
            terms = [t * d(x, y, out) for t, d in zip(tangents, derivs) if t is not None]
            tan = None
            for term in terms:
                tan = term if tan is None else tan + term
            return [out], [tan]

        def vjp(cts, primals, outs):
            x, y = primals
            return [cts[0] * d(x, y, outs[0]) for d in derivs]

    return register(
        Primitive(
            name,
            infer,
            impl=impl,
            lower=lower,
            jvp=jvp,
            vjp=vjp,
            batch=batch_elementwise(name),
            doc=doc or f"elementwise {name}",
            family="binary",
        )
    )


def _nondiff_jvp(name):
    def jvp(primals, tangents):
        out = L.bind(name, *primals)
        return [out], [None]

    return jvp


# ---- unary -------------------------------------------------------------------------

_vec = np.vectorize


def _erfinv(y):
    y = np.asarray(y, np.float64)
    x = np.zeros_like(y)
    for _ in range(60):  # Newton on erf(x) = y
        err = _vec(math.erf)(x) - y if y.size else y
        x = x - err / (2 / math.sqrt(math.pi) * np.exp(-x * x))
    x = np.where(y >= 1, np.inf, np.where(y <= -1, -np.inf, x))
    return x


def _digamma(x):
    x = np.asarray(x, np.float64)

    def one(v):
        if v <= 0 and v == math.floor(v):
            return math.nan
        r = 0.0
        if v < 0:  # reflection
            return one(1 - v) - math.pi / math.tan(math.pi * v)
        while v < 6:
            r -= 1 / v
            v += 1
        f = 1 / (v * v)
        return r + math.log(v) - 0.5 / v - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))

    return _vec(one, otypes=[np.float64])(x) if x.size else x


def _complex_lowering(hlo_name, complex_fn):
    """Lower to `hlo_name` (an op name or a lowering), or to hlo_math's `complex_fn` where the
    operand is complex."""

    def lower(ctx, *xs):
        if aval(xs[0]).dtype.kind == "c":
            return complex_fn(*xs, ctx.out_avals[0])
        if callable(hlo_name):  # a lowering of its own for real operands (e.g. _f64_lower's)
            return hlo_name(ctx, *xs)
        return hlo.op1(hlo_name, list(xs), ctx.out_avals[0])

    return lower


def _lower_round(ctx, x):
    return hlo.op1("stablehlo.round_nearest_even", [x], ctx.out_avals[0])


def _lower_exp2(ctx, x):
    a = aval(x)
    ln2 = hlo.constant(np.log(2.0), a.dtype, a.shape)
    scaled = hlo.op1("stablehlo.multiply", [x, ln2], a)
    if a.dtype.kind == "c":
        return hlo_math.exp_complex(scaled, a)
    return hlo.op1("stablehlo.exponential", [scaled], a)


def _lower_not(ctx, x):
    return hlo.op1("stablehlo.not", [x], ctx.out_avals[0])


def _f64_lower(hlo_name, f64):
    """`hlo_name`, except in float64, where `f64(x)` builds it (IREE 3.13's llvm-cpu does not link
    libm's double tanh, atan2, fmod, and its chlo.asin/acos/atan expand into atan2)."""

    def lower(ctx, *xs):
        if ctx.out_avals[0].dtype == np.float64:
            return f64(*[hlo_math.H(x) for x in xs]).v
        return hlo.op1(hlo_name, list(xs), ctx.out_avals[0])

    return lower


def _own_lower(hlo_name, f):
    """`hlo_name` for complex (and other) types; `f(x)` in float32 and float64: IREE 3.13's own atan
    (behind its atan2, asin and acos) is up to 40 ulp off in float32 (measured on 1e5 points in
    [-1, 1]: 14% of arcsin's results more than 2 ulp off, JAX's none); fdlibm's algorithm built
    from plain ops is within 2 ulp in either width."""

    def lower(ctx, *xs):
        if ctx.out_avals[0].dtype in (np.float32, np.float64):
            return f(*[hlo_math.H(x) for x in xs]).v
        return hlo.op1(hlo_name, list(xs), ctx.out_avals[0])

    return lower


def _digamma_lower(ctx, x):
    if ctx.out_avals[0].dtype == np.float32 and hlo_math.wide_math.get():
        return hlo_math.digamma_f32(x, ctx.out_avals[0])
    return _f64_in_f32("chlo.digamma")(ctx, x)


def _f64_in_f32(hlo_name):
    """`hlo_name`, computed in float32 for float64 (no float64 version links): a warning says so."""

    def lower(ctx, x):
        out = ctx.out_avals[0]
        if out.dtype != np.float64:
            return hlo.op1(hlo_name, [x], out)
        warnings.warn(
            f"irjax: {hlo_name} of float64 is computed in float32 (IREE 3.13's llvm-cpu has no float64 "
            "version); expect float32 accuracy",
            RuntimeWarning,
            stacklevel=2,
        )
        f32 = ShapedType(out.shape, np.dtype(np.float32))
        y = hlo.op1(hlo_name, [hlo.op1("stablehlo.convert", [x], f32)], f32)
        return hlo.op1("stablehlo.convert", [y], out)

    return lower


def _asin_f64(x):
    return hlo_math.atan2_f64(x, ((1.0 - x) * (1.0 + x)).un("sqrt"))


def _acos_f64(x):
    root = ((1.0 - x) * (1.0 + x)).un("sqrt")
    return hlo_math.H(hlo_math.atan2_fixups(root, x, hlo_math.atan2_f64(root, x)))


def _sign_np(x):
    if x.dtype.kind == "c":  # JAX's complex sign is x / |x| (NumPy's is the sign of the real part)
        with np.errstate(all="ignore"):
            a = np.abs(x)
            return np.where(a == 0, 0, x / np.where(a == 0, 1, a))
    return np.sign(x)


neg = unary("neg", np.negative, "stablehlo.negate", lambda x, y: L.full_like(x, -1), kinds="fciu")
sign = unary("sign", _sign_np, "stablehlo.sign", lambda x, y: L.zeros_like(x), kinds="fci")
floor = unary("floor", np.floor, "stablehlo.floor", lambda x, y: L.zeros_like(x))
ceil = unary("ceil", np.ceil, "stablehlo.ceil", lambda x, y: L.zeros_like(x))
round_ = unary("round", np.round, _lower_round, lambda x, y: L.zeros_like(x), doc="round half to even")
is_finite = unary("is_finite", np.isfinite, "stablehlo.is_finite", out_dtype=BOOL, nondiff=True)
exp = unary("exp", np.exp, _complex_lowering("stablehlo.exponential", hlo_math.exp_complex), lambda x, y: y, kinds="fc")
exp2 = unary("exp2", np.exp2, _lower_exp2, lambda x, y: y * float(np.log(2.0)), kinds="fc")
log = unary("log", np.log, _complex_lowering("stablehlo.log", hlo_math.log_complex), lambda x, y: 1.0 / x, kinds="fc")
log1p = unary(
    "log1p",
    np.log1p,
    _complex_lowering(_f64_lower("stablehlo.log_plus_one", hlo_math.log1p_f64), hlo_math.log1p_complex),
    lambda x, y: 1.0 / (x + 1.0),
    kinds="fc",
)
expm1 = unary(
    "expm1",
    np.expm1,
    _complex_lowering(_f64_lower("stablehlo.exponential_minus_one", hlo_math.expm1_f64), hlo_math.expm1_complex),
    lambda x, y: y + 1.0,
    kinds="fc",
)
tanh = unary(
    "tanh",
    np.tanh,
    _complex_lowering(_f64_lower("stablehlo.tanh", hlo_math.tanh_f64), hlo_math.tanh_complex),
    lambda x, y: 1.0 - y * y,
    kinds="fc",
)
logistic = unary(
    "logistic",
    lambda x: 1 / (1 + np.exp(-x)),
    _complex_lowering("stablehlo.logistic", hlo_math.logistic_complex),
    lambda x, y: y * (1.0 - y),
    kinds="fc",
)


_COMPLEX_TRIG = {"sin": hlo_math.sin_complex, "cos": hlo_math.cos_complex, "tan": hlo_math.tan_complex}


def _lower_trig(fn):
    def lower(ctx, x):
        if aval(x).dtype.kind == "c":
            return _COMPLEX_TRIG[fn](x, ctx.out_avals[0])
        return hlo_math.trig(fn, x, ctx.out_avals[0])

    return lower


sin = unary("sin", np.sin, _lower_trig("sin"), lambda x, y: L.cos(x), kinds="fc")
cos = unary("cos", np.cos, _lower_trig("cos"), lambda x, y: -L.sin(x), kinds="fc")
tan = unary("tan", np.tan, _lower_trig("tan"), lambda x, y: 1.0 + y * y, kinds="fc")
asin = unary("asin", np.arcsin, _own_lower("chlo.asin", _asin_f64), lambda x, y: L.rsqrt(1.0 - x * x), kinds="fc")
acos = unary(
    "acos",
    np.arccos,
    _complex_lowering(_own_lower("chlo.acos", _acos_f64), hlo_math.acos_complex),
    lambda x, y: -L.rsqrt(1.0 - x * x),
    kinds="fc",
)
atan = unary(
    "atan", np.arctan, _own_lower("chlo.atan", hlo_math.atan_f64), lambda x, y: 1.0 / (1.0 + x * x), kinds="fc"
)
sinh = unary(
    "sinh",
    np.sinh,
    _complex_lowering(_f64_lower("chlo.sinh", hlo_math.sinh_f64), hlo_math.sinh_complex),
    lambda x, y: L.cosh(x),
    kinds="fc",
)
cosh = unary("cosh", np.cosh, _complex_lowering("chlo.cosh", hlo_math.cosh_complex), lambda x, y: L.sinh(x), kinds="fc")
asinh = unary(
    "asinh",
    np.arcsinh,
    _complex_lowering(_f64_lower("chlo.asinh", hlo_math.asinh_f64), hlo_math.asinh_complex),
    lambda x, y: L.rsqrt(x * x + 1.0),
    kinds="fc",
)
acosh = unary(
    "acosh",
    np.arccosh,
    _complex_lowering("chlo.acosh", hlo_math.acosh_complex),
    lambda x, y: L.rsqrt(x * x - 1.0),
    kinds="fc",
)
atanh = unary(
    "atanh",
    np.arctanh,
    _complex_lowering(_f64_lower("chlo.atanh", hlo_math.atanh_f64), hlo_math.atanh_complex),
    lambda x, y: 1.0 / (1.0 - x * x),
    kinds="fc",
)
sqrt = unary(
    "sqrt", np.sqrt, _complex_lowering("stablehlo.sqrt", hlo_math.sqrt_complex), lambda x, y: 0.5 / y, kinds="fc"
)
rsqrt = unary("rsqrt", lambda x: 1 / np.sqrt(x), "stablehlo.rsqrt", lambda x, y: -0.5 * y / x, kinds="fc")
cbrt = unary("cbrt", np.cbrt, lambda ctx, x: hlo_math.cbrt(x, ctx.out_avals[0]), lambda x, y: (1.0 / 3.0) / (y * y))


def _abs_real_deriv(x, y):
    # JAX's rule: +1 where x >= 0 (so 1 at 0 and -0), -1 elsewhere
    return L.select(L.ge(x, 0), L.ones_like(x), L.full_like(x, -1))


def _abs_unit(x, y):
    """conj(x) / |x| as a complex value, 0 where x = 0 (JAX's rule for complex abs)."""
    y_safe = L.select(L.eq(y, 0.0), L.ones_like(y), y)
    return jx.conj(x) / jx.complex(y_safe, L.zeros_like(y))


def _abs_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    y = jx.abs(x)
    if t is None:
        return [y], [None]
    if x.dtype.kind != "c":
        return [y], [t * _abs_real_deriv(x, y)]
    return [y], [jx.real(t * _abs_unit(x, y))]


def _abs_vjp(cts, primals, outs):
    x, y = primals[0], outs[0]
    if x.dtype.kind != "c":
        return [cts[0] * _abs_real_deriv(x, y)]
    # the transpose of t -> real(t * u) is ct -> complex(ct, 0) * u
    return [jx.complex(cts[0], L.zeros_like(cts[0])) * _abs_unit(x, y)]


abs_ = unary(
    "abs",
    np.abs,
    _complex_lowering("stablehlo.abs", hlo_math.abs_complex),
    kinds="fci",
    out_dtype=lambda dt: np.finfo(dt).dtype if dt.kind == "c" else dt,
    rules=(_abs_jvp, _abs_vjp),
)
erf = unary(
    "erf",
    lambda x: _vec(math.erf, otypes=[np.float64])(x) if np.size(x) else x,
    "chlo.erf",
    lambda x, y: float(2 / math.sqrt(math.pi)) * L.exp(-(x * x)),
)
erf_inv = unary("erf_inv", _erfinv, "chlo.erf_inv", lambda x, y: float(math.sqrt(math.pi) / 2) * L.exp(y * y))
lgamma = unary(
    "lgamma",
    lambda x: _vec(math.lgamma, otypes=[np.float64])(x) if np.size(x) else x,
    _f64_in_f32("chlo.lgamma"),
    lambda x, y: L.digamma(x),
)


def _trigamma(x, y):
    """digamma's derivative, polygamma(1, x): the recurrence ψ1(z) = ψ1(z + 1) + 1/z² up to
    z >= 6, then the asymptotic series (next term 5/(66 z^11) < 3e-10); below 1/2 the reflection
    ψ1(x) = π² / sin²(πx) - ψ1(1 - x), sin of the exactly reduced x - round(x)."""
    low = L.lt(x, 0.5)
    z = L.select(low, 1.0 - x, x)
    acc = L.zeros_like(x)
    for _ in range(6):
        small = L.lt(z, 6.0)
        acc = acc + L.select(small, 1.0 / (z * z), L.zeros_like(z))
        z = L.select(small, z + 1.0, z)
    w = 1.0 / z
    w2 = w * w
    psi1 = acc + w + w2 * 0.5 + w * w2 * (1.0 / 6 - w2 * (1.0 / 30 - w2 * (1.0 / 42 - w2 * (1.0 / 30))))
    s = L.sin((x - L.round(x)) * math.pi)
    return L.select(low, (math.pi * math.pi) / (s * s) - psi1, psi1)


digamma = unary("digamma", _digamma, _digamma_lower, _trigamma)
not_ = unary(
    "not", lambda x: np.logical_not(x) if x.dtype == BOOL else np.invert(x), _lower_not, kinds="biu", nondiff=True
)
popcnt = unary(
    "popcnt",
    lambda x: _vec(lambda v: bin(int(v) & ((1 << (8 * x.dtype.itemsize)) - 1)).count("1"))(x) if x.size else x,
    "stablehlo.popcnt",
    kinds="iu",
    nondiff=True,
)
clz = unary(
    "clz",
    lambda x: (
        _vec(lambda v: 8 * x.dtype.itemsize - (int(v) & ((1 << (8 * x.dtype.itemsize)) - 1)).bit_length())(x)
        if x.size
        else x
    ),
    "stablehlo.count_leading_zeros",
    kinds="iu",
    nondiff=True,
)


def _integer_pow_infer(x, y):
    return ShapedType(x.shape, x.dtype)


def _integer_pow_lower(ctx, x, y):
    a = aval(x)
    if y == 0:
        return hlo.constant(1, a.dtype, a.shape)
    base, n, acc = x, abs(y), None
    while n:  # square-and-multiply
        if n & 1:
            acc = base if acc is None else hlo.op1("stablehlo.multiply", [acc, base], a)
        n >>= 1
        if n:
            base = hlo.op1("stablehlo.multiply", [base, base], a)
    if y < 0:
        acc = hlo.op1("stablehlo.divide", [hlo.constant(1, a.dtype, a.shape), acc], a)
    return acc


def _integer_pow_deriv(x, y):
    return L.zeros_like(x) if y == 0 else float(y) * (x ** (y - 1) if y != 1 else L.ones_like(x))


integer_pow = register(
    Primitive(
        "integer_pow",
        _integer_pow_infer,
        impl=lambda x, y: np.asarray(x**y if y >= 0 else 1 / x ** (-y), x.dtype),
        lower=_integer_pow_lower,
        jvp=lambda primals, tangents, y: (
            [jx.integer_pow(primals[0], y=y)],
            [None if tangents[0] is None else tangents[0] * _integer_pow_deriv(primals[0], y)],
        ),
        vjp=lambda cts, primals, outs, y: [cts[0] * _integer_pow_deriv(primals[0], y)],
        batch=batch_elementwise("integer_pow"),
        doc="x ** y for a static integer y",
        family="unary",
    )
)

# ---- binary ------------------------------------------------------------------------


def _int_div(x, y):
    if x.dtype.kind in "fc":
        return x / y
    with np.errstate(all="ignore"):
        q = np.trunc(x.astype(np.float64) / np.where(y == 0, 1, y))
    return q.astype(x.dtype)


def _one(x, y, out):
    return L.ones_like(x)


def _minus_one(x, y, out):
    return L.full_like(x, -1)


def _pow_dx(x, y, out):
    # JAX's rule for a float exponent: y * x^(y-1), so NaN at x = y = 0 as in JAX
    return y * L.pow(x, y - 1.0)


def _pow_dy(x, y, out):
    # JAX's rule: log(x) with x = 0 replaced by 1, times x**y
    return out * L.log(L.select(L.eq(x, 0.0), L.ones_like(x), x))


def _lower_pow(ctx, x, y):
    if aval(x).dtype.kind == "c":
        return hlo_math.pow_complex(x, y, ctx.out_avals[0])
    return hlo_math.pow_float(x, y, ctx.out_avals[0])


def _max_dx(x, y, out):  # ties split evenly, as JAX does
    return L.select(L.gt(x, y), L.ones_like(x), L.select(L.eq(x, y), L.full_like(x, 0.5), L.zeros_like(x)))


def _max_dy(x, y, out):
    return _max_dx(y, x, out)


def _min_dx(x, y, out):
    return _max_dx(y, x, out)


def _min_dy(x, y, out):
    return _max_dx(x, y, out)


def _lower_compare(direction):
    def lower(ctx, x, y):
        return hlo.compare(x, y, direction)

    return lower


def _rem_np(x, y):
    return np.fmod(x, np.where(y == 0, 1, y)) if x.dtype.kind != "f" else np.fmod(x, y)


def _shift(fn, logical=False):
    def impl(x, y):
        bits = 8 * x.dtype.itemsize
        big = (y < 0) | (y >= bits)
        ysafe = np.where(big, 0, y).astype(x.dtype)
        if logical:
            ux = x.view(np.dtype(f"u{x.dtype.itemsize}"))
            r = (ux >> ysafe.view(ux.dtype)).view(x.dtype)
            return np.where(big, 0, r)
        r = fn(x, ysafe)
        if fn is np.right_shift:
            return np.where(big, np.where(x < 0, -1, 0) if x.dtype.kind == "i" else 0, r)
        return np.where(big, 0, r)

    return impl


add = binary("add", np.add, "stablehlo.add", (_one, _one), kinds="fciu")
sub = binary("sub", np.subtract, "stablehlo.subtract", (_one, _minus_one), kinds="fciu")
# mul's transpose is ct * y with no conjugate: JAX pairs cotangents with tangents by Re(ct * t)
mul = binary("mul", np.multiply, "stablehlo.multiply", (lambda x, y, o: y, lambda x, y, o: x), kinds="fciub")
div = binary(
    "div",
    _int_div,
    _complex_lowering("stablehlo.divide", hlo_math.div_complex),
    (lambda x, y, o: 1.0 / y, lambda x, y, o: -o / y),
    kinds="fciu",
)
rem = binary(
    "rem",
    _rem_np,
    _f64_lower("stablehlo.remainder", hlo_math.rem_f64),
    (_one, lambda x, y, o: -_trunc(x / y)),
    kinds="fiu",
)
pow_ = binary(
    "pow",
    np.power,
    _lower_pow,
    (_pow_dx, _pow_dy),
    kinds="fc",
)
max_ = binary("max", np.maximum, "stablehlo.maximum", (_max_dx, _max_dy))
min_ = binary("min", np.minimum, "stablehlo.minimum", (_min_dx, _min_dy))
atan2 = binary(
    "atan2",
    np.arctan2,
    lambda ctx, y, x: hlo_math.atan2(y, x, ctx.out_avals[0]),
    (lambda x, y, o: y / (x * x + y * y), lambda x, y, o: -x / (x * x + y * y)),
    kinds="f",
)
and_ = binary("and", np.bitwise_and, "stablehlo.and", kinds="biu", nondiff=True)
or_ = binary("or", np.bitwise_or, "stablehlo.or", kinds="biu", nondiff=True)
xor = binary("xor", np.bitwise_xor, "stablehlo.xor", kinds="biu", nondiff=True)
shift_left = binary("shift_left", _shift(np.left_shift), "stablehlo.shift_left", kinds="iu", nondiff=True)
shift_right_logical = binary(
    "shift_right_logical", _shift(None, logical=True), "stablehlo.shift_right_logical", kinds="iu", nondiff=True
)
shift_right_arithmetic = binary(
    "shift_right_arithmetic", _shift(np.right_shift), "stablehlo.shift_right_arithmetic", kinds="iu", nondiff=True
)
_COMPARES = {
    "eq": ("EQ", np.equal),
    "ne": ("NE", np.not_equal),
    "lt": ("LT", np.less),
    "le": ("LE", np.less_equal),
    "gt": ("GT", np.greater),
    "ge": ("GE", np.greater_equal),
}
for _name, (_dir, _fn) in _COMPARES.items():
    # complex values have no order: only eq and ne take them (jnp orders them lexicographically)
    _kinds = "fciub" if _name in ("eq", "ne") else "fiub"
    binary(_name, _fn, _lower_compare(_dir), kinds=_kinds, out_bool=True, doc=f"comparison {_dir}", nondiff=True)


def _trunc(v):
    return L.sign(v) * L.floor(L.abs(v))


# ---- select, clamp, convert ----------------------------------------------------------


def _select_infer(pred, on_true, on_false):
    if pred.dtype != BOOL:
        raise VerifyError(f"jx.select needs a bool predicate, got {pred.dtype.name}")
    _same_shape("select", [pred, on_true, on_false])
    if on_true.dtype != on_false.dtype:
        raise VerifyError("jx.select needs branches of one dtype")
    return on_true


def _select_jvp(primals, tangents):
    p, a, b = primals
    out = L.select(p, a, b)
    _, ta, tb = tangents
    if ta is None and tb is None:
        return [out], [None]
    ta = ta if ta is not None else L.zeros_like(a)
    tb = tb if tb is not None else L.zeros_like(b)
    return [out], [L.select(p, ta, tb)]


def _select_vjp(cts, primals, outs):
    p, a, b = primals
    ct = cts[0]
    z = L.zeros_like(ct)
    return [None, L.select(p, ct, z), L.select(p, z, ct)]


select = register(
    Primitive(
        "select",
        _select_infer,
        impl=lambda p, a, b: np.where(p, a, b),
        lower=lambda ctx, p, a, b: hlo.op1("stablehlo.select", [p, a, b], ctx.out_avals[0]),
        jvp=_select_jvp,
        vjp=_select_vjp,
        batch=batch_elementwise("select"),
        doc="select(pred, on_true, on_false), elementwise",
        family="select",
    )
)


def _clamp_infer(lo, x, hi):
    _same_shape("clamp", [lo, x, hi])
    return x


def _clamp_vjp(cts, primals, outs):
    lo, x, hi = primals
    ct = cts[0]
    z = L.zeros_like(ct)
    inside = L.and_(L.ge(x, lo), L.le(x, hi))
    return [L.select(L.lt(x, lo), ct, z), L.select(inside, ct, z), L.select(L.gt(x, hi), ct, z)]


def _clamp_jvp(primals, tangents):
    lo, x, hi = primals
    out = jx.clamp(lo, x, hi)
    cts = None
    for t, w in zip(tangents, _clamp_weights(lo, x, hi)):
        if t is not None:
            cts = t * w if cts is None else cts + t * w
    return [out], [cts]


def _clamp_weights(lo, x, hi):
    one, z = L.ones_like(x), L.zeros_like(x)
    inside = L.and_(L.ge(x, lo), L.le(x, hi))
    return [L.select(L.lt(x, lo), one, z), L.select(inside, one, z), L.select(L.gt(x, hi), one, z)]


clamp = register(
    Primitive(
        "clamp",
        _clamp_infer,
        impl=lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi),
        lower=lambda ctx, lo, x, hi: hlo.op1("stablehlo.clamp", [lo, x, hi], ctx.out_avals[0]),
        jvp=_clamp_jvp,
        vjp=_clamp_vjp,
        batch=batch_elementwise("clamp"),
        doc="clamp(lo, x, hi) elementwise",
        family="select",
    )
)


def _convert_impl(x, new_dtype):
    new_dtype = np.dtype(new_dtype)
    if x.dtype.kind == "c" and new_dtype.kind != "c":
        if new_dtype == BOOL:
            return x != 0
        x = np.real(x)  # complex -> real keeps the real part, as JAX does
    if new_dtype.kind in "iu" and kind(x.dtype) == "f":
        with np.errstate(all="ignore"):
            x = np.trunc(x)
            info = np.iinfo(new_dtype)
            x = np.where(np.isnan(x), 0, np.clip(x, info.min, info.max))
    if new_dtype == BOOL:
        return x != 0
    return x.astype(new_dtype)


def _convert_lower(ctx, x, new_dtype):
    src = aval(x).dtype
    out = ctx.out_avals[0]
    if np.dtype(new_dtype) == BOOL and src != BOOL:
        return hlo.compare(x, hlo.constant(0, src, aval(x).shape), "NE")
    if src.kind == "c" and np.dtype(new_dtype).kind != "c":  # the real part, then convert
        re = hlo.op1("stablehlo.real", [x], ShapedType(out.shape, np.finfo(src).dtype))
        return re if aval(re).dtype == out.dtype else _convert_lower(ctx, re, new_dtype)
    if kind(src) == "f" and out.dtype.kind in "iu":
        return _float_to_int_lower(x, out.dtype)
    if src.kind != "c" and out.dtype.kind == "c":
        # complex(real part, 0): IREE 3.13's streams refused a bare int -> complex convert of a
        # constant outside a dispatch ('streamable op expected to be in an execution region')
        part = ShapedType(out.shape, np.finfo(out.dtype).dtype)
        if src == part.dtype:
            re = x
        elif src == low_precision.BF16:
            re = low_precision.convert(x, part.dtype)
        else:
            re = hlo.op1("stablehlo.convert", [x], part)
        zero = hlo.constant(0.0, part.dtype, part.shape)
        return hlo.op1("stablehlo.complex", [re, zero], out)
    if low_precision.BF16 in (src, out.dtype):
        return low_precision.convert(x, out.dtype)
    return hlo.op1("stablehlo.convert", [x], out)


def _float_to_int_lower(x, dtype):
    """Truncation toward zero that saturates, as XLA's CPU convert does (JAX: inf -> INT_MAX, NaN -> 0,
    -5.0 -> uint 0); a bare stablehlo.convert gives the x86 'integer indefinite' value instead."""
    a = aval(x)
    if a.dtype != low_precision.F32 and a.dtype != low_precision.F64:
        x, a = low_precision.to_f32(x), ShapedType(a.shape, low_precision.F32)
    info = np.iinfo(dtype)
    out = ShapedType(a.shape, dtype)
    y = hlo.op1("stablehlo.convert", [x], out)
    hi = hlo.constant(float(info.max) + 1.0, a.dtype, a.shape)  # a power of two: exact in any float
    lo = hlo.constant(float(info.min), a.dtype, a.shape)
    y = hlo.op1("stablehlo.select", [hlo.compare(x, hi, "GE"), hlo.constant(info.max, dtype, a.shape), y], out)
    y = hlo.op1("stablehlo.select", [hlo.compare(x, lo, "LT"), hlo.constant(info.min, dtype, a.shape), y], out)
    return hlo.op1("stablehlo.select", [hlo.compare(x, x, "NE"), hlo.constant(0, dtype, a.shape), y], out)


def _convert_jvp(primals, tangents, new_dtype):
    (x,), (t,) = primals, tangents
    out = L.convert(x, new_dtype)
    if t is None or kind(new_dtype) not in "fc" or kind(x.dtype) not in "fc":
        return [out], [None]
    return [out], [L.convert(t, new_dtype)]


def _convert_vjp(cts, primals, outs, new_dtype):
    (x,) = primals
    if kind(x.dtype) not in "fc" or kind(new_dtype) not in "fc":
        return [None]
    return [L.convert(cts[0], x.dtype)]


convert_element_type = register(
    Primitive(
        "convert_element_type",
        lambda x, new_dtype: ShapedType(x.shape, np.dtype(new_dtype)),
        impl=_convert_impl,
        lower=_convert_lower,
        jvp=_convert_jvp,
        vjp=_convert_vjp,
        batch=batch_elementwise("convert_element_type"),
        doc="convert to new_dtype (float->int truncates toward zero)",
        family="convert",
    )
)


def _bitcast_infer(x, new_dtype):
    """Same width: the same shape. Narrower: a trailing axis of the pieces (little-endian order,
    as NumPy's view on this CPU); wider: the trailing axis of pieces consumed (as XLA's)."""
    new_dtype = np.dtype(new_dtype)
    old, new = x.dtype.itemsize, new_dtype.itemsize
    if new == old:
        return ShapedType(x.shape, new_dtype)
    if new < old:
        return ShapedType(tuple(x.shape) + (old // new,), new_dtype)
    if not x.shape or x.shape[-1] != new // old:
        raise VerifyError(
            f"jx.bitcast_convert_type from {x.dtype} to the wider {new_dtype} needs a last axis of "
            f"{new // old} pieces, got {x.str_short()}"
        )
    return ShapedType(tuple(x.shape[:-1]), new_dtype)


def _bitcast_impl(x, new_dtype):
    out = _bitcast_infer(ShapedType(x.shape, x.dtype), new_dtype)
    return np.ascontiguousarray(x).view(np.dtype(new_dtype)).reshape(out.shape)


bitcast_convert_type = register(
    Primitive(
        "bitcast_convert_type",
        _bitcast_infer,
        impl=_bitcast_impl,
        lower=lambda ctx, x, new_dtype: hlo.op1("stablehlo.bitcast_convert", [x], ctx.out_avals[0]),
        jvp=lambda primals, tangents, new_dtype: (
            [jx.bitcast_convert_type(primals[0], new_dtype=new_dtype)],
            [None],
        ),
        vjp=lambda cts, primals, outs, new_dtype: [None],
        batch=batch_elementwise("bitcast_convert_type"),
        doc="reinterpret the bits as new_dtype",
        family="convert",
    )
)
