"""Elementwise functions of irjax.numpy, with JAX's promotion and NumPy broadcasting."""

from __future__ import annotations

import numpy as np
from irjax import dtypes
from irjax import lax as _lax
from irjax.core import Tracer, bind, jx
from irjax.custom_derivatives import custom_jvp
from irjax.device_api import device_put as _device_put
from irjax.operands import broadcast_to as _broadcast_to  # not jnp.broadcast_to: this module is star-exported
from irjax.operands import zeros_like

from ._util import _copy_with_weak, asarray_any, check_arraylike, convert, is_array, promote, with_weak


def _unary(prim, name, to_float=True, kinds=None):
    def f(x, /):
        check_arraylike(name, x)
        (x,), dt, weak = promote(x, to_float=to_float)
        return with_weak(bind(prim, x), weak)

    f.__name__ = name
    return f


def _binary(prim, name, to_float=False):
    def f(x, y, /):
        check_arraylike(name, x, y)
        (x, y), dt, weak = promote(x, y, to_float=to_float)
        return with_weak(bind(prim, x, y), weak)

    f.__name__ = name
    return f


def _compare(prim, name):
    def f(x, y, /):
        check_arraylike(name, x, y)
        (x, y), dt, weak = promote(x, y)
        # JAX keeps the promoted operands' weak flag on the bool result (`iarr < 0.5` is weak)
        if dt.kind == "c" and prim not in ("eq", "ne"):
            return with_weak(_complex_order(prim, x, y), weak)
        return with_weak(bind(prim, x, y), weak)

    f.__name__ = name
    return f


def _complex_order(prim, x, y):
    """x < y (or <=, >, >=) on complex values, ordered by real part, then imaginary part (as JAX)."""
    xr, yr, xi, yi = jx.real(x), jx.real(y), jx.imag(x), jx.imag(y)
    strict = {"lt": "lt", "le": "lt", "gt": "gt", "ge": "gt"}[prim]
    return jx.or_(bind(strict, xr, yr), jx.and_(jx.eq(xr, yr), bind(prim, xi, yi)))


sin = _unary("sin", "sin")
cos = _unary("cos", "cos")
tan = _unary("tan", "tan")
arcsin = asin = _unary("asin", "arcsin")
arccos = acos = _unary("acos", "arccos")
arctan = atan = _unary("atan", "arctan")
sinh = _unary("sinh", "sinh")
cosh = _unary("cosh", "cosh")
tanh = _unary("tanh", "tanh")
arcsinh = asinh = _unary("asinh", "arcsinh")
arccosh = acosh = _unary("acosh", "arccosh")
arctanh = atanh = _unary("atanh", "arctanh")
exp = _unary("exp", "exp")
exp2 = _unary("exp2", "exp2")
log = _unary("log", "log")
log1p = _unary("log1p", "log1p")
expm1 = _unary("expm1", "expm1")
sqrt = _unary("sqrt", "sqrt")
cbrt = _unary("cbrt", "cbrt")
rint = _unary("round", "rint")


def _int_kept(prim, name):
    """floor/ceil: integer and bool inputs come back unchanged, with their dtype (as in JAX)."""

    def f(x, /):
        check_arraylike(name, x)
        x = asarray_any(x)
        if x.dtype.kind in "biu":
            return x
        (x,), dt, weak = promote(x, to_float=True)
        return with_weak(bind(prim, x), weak)

    f.__name__ = name
    return f


floor = _int_kept("floor", "floor")
ceil = _int_kept("ceil", "ceil")


def add(x, y, /):
    check_arraylike("add", x, y)
    (x, y), dt, weak = promote(x, y)
    return with_weak((jx.or_ if dt == np.bool_ else jx.add)(x, y), weak)  # bool + bool is or


def subtract(x, y, /):
    check_arraylike("subtract", x, y)
    (x, y), dt, weak = promote(x, y)
    if dt == np.bool_:
        raise TypeError("subtract does not accept dtype bool; use logical_xor or bitwise_xor.")
    return with_weak(jx.sub(x, y), weak)


multiply = _binary("mul", "multiply")


def _extremum(prim, name):
    def f(x, y, /):
        check_arraylike(name, x, y)
        (x, y), dt, weak = promote(x, y)
        if dt.kind == "c":  # lexicographic, as JAX orders complex values
            return with_weak(jx.select(_complex_order("gt" if prim == "max" else "lt", x, y), x, y), weak)
        return with_weak(bind(prim, x, y), weak)

    f.__name__ = name
    return f


maximum = _extremum("max", "maximum")
minimum = _extremum("min", "minimum")
arctan2 = atan2 = _binary("atan2", "arctan2", to_float=True)
equal = _compare("eq", "equal")
not_equal = _compare("ne", "not_equal")
less = _compare("lt", "less")
less_equal = _compare("le", "less_equal")
greater = _compare("gt", "greater")
greater_equal = _compare("ge", "greater_equal")


def _int_or_bool(name, prim):
    def f(x, y, /):
        (x, y), dt, weak = promote(x, y)
        if dt.kind not in "biu":
            raise TypeError(f"{name} is only defined for integer and boolean inputs, got {dt.name}")
        return with_weak(bind(prim, x, y), weak)

    f.__name__ = name
    return f


bitwise_and = _int_or_bool("bitwise_and", "and")
bitwise_or = _int_or_bool("bitwise_or", "or")
bitwise_xor = _int_or_bool("bitwise_xor", "xor")
left_shift = _int_or_bool("left_shift", "shift_left")


def right_shift(x, y, /):
    (x, y), dt, weak = promote(x, y)
    prim = "shift_right_logical" if dt.kind == "u" else "shift_right_arithmetic"
    return with_weak(bind(prim, x, y), weak)


def logical_and(x, y, /):
    return bitwise_and(convert(asarray_any(x), bool), convert(asarray_any(y), bool))


def logical_or(x, y, /):
    return bitwise_or(convert(asarray_any(x), bool), convert(asarray_any(y), bool))


def logical_xor(x, y, /):
    return bitwise_xor(convert(asarray_any(x), bool), convert(asarray_any(y), bool))


def logical_not(x, /):
    return jx.not_(convert(asarray_any(x), bool))


def invert(x, /):
    x = asarray_any(x)
    if x.dtype.kind not in "biu":
        raise TypeError(f"invert is only defined for integer and boolean inputs, got {x.dtype.name}")
    return with_weak(jx.not_(x), x.aval.weak_type)


bitwise_not = invert


def negative(x, /):
    (x,), dt, weak = promote(x)
    if dt == np.bool_:
        raise TypeError("negative does not accept dtype bool.")
    return with_weak(jx.neg(x), weak)


def positive(x, /):
    return asarray_any(x)


def abs(x, /):  # noqa: A001
    (x,), dt, weak = promote(x)  # complex64 -> float32 (the "abs" op's rule)
    if dt.kind in "ub":
        return x
    return with_weak(jx.abs(x), weak)


absolute = abs


def fabs(x, /):
    (x,), dt, weak = promote(x, to_float=True)
    return with_weak(jx.abs(x), weak)


def _nan_ignoring(prim, name):
    """`prim` (max or min) that ignores a NaN operand and returns the other one."""

    def f(x1, x2, /):
        (x, y), dt, weak = promote(x1, x2)
        if dtypes.kind(dt) != "f":
            return with_weak(bind(prim, x, y), weak)
        # JAX's rule: x where x beats y or y is NaN, else y (so fmax(0., -0.) is -0.)
        beats = (jx.gt if prim == "max" else jx.lt)(x, y)
        return with_weak(jx.select(jx.or_(beats, jx.ne(y, y)), x, y), weak)

    f.__name__ = name
    return f


fmax = _nan_ignoring("max", "fmax")
fmin = _nan_ignoring("min", "fmin")


def sign(x, /):
    (x,), dt, weak = promote(x)
    if dt.kind == "u":
        return with_weak(convert(jx.ne(x, _zeros(x)), dt), weak)
    if dt.kind == "b":
        return x
    return with_weak(jx.sign(x), weak)


def _zeros(x):
    return zeros_like(x)


def true_divide(x, y, /):
    check_arraylike("true_divide", x, y)
    (x, y), dt, weak = promote(x, y, to_float=True)
    return with_weak(jx.div(x, y), weak)


divide = true_divide


def floor_divide(x, y, /):
    check_arraylike("floor_divide", x, y)
    (x, y), dt, weak = promote(x, y)
    if dt == np.bool_:
        raise TypeError("floor_divide does not accept dtype bool")
    if dtypes.kind(dt) == "f":
        return with_weak(_float_divmod(x, y)[0], weak)
    if dt.kind == "u":
        return with_weak(jx.div(x, y), weak)
    # round toward -inf: truncated quotient minus one where the signs differ and a remainder
    # exists; signs by sign(), as JAX, so x // 0 = -1 - (x != 0) like XLA's division by zero
    q = jx.div(x, y)
    r = jx.rem(x, y)
    fix = jx.and_(jx.ne(r, _zeros(r)), jx.ne(jx.sign(x), jx.sign(y)))
    return with_weak(jx.select(fix, jx.sub(q, _ones(q)), q), weak)


def _float_divmod(x, y):
    """Python's float divmod (CPython's float_divmod), as JAX: (inf // 2 is NaN, 1 // 0 is inf)."""
    mod = jx.rem(x, y)
    div = jx.div(jx.select(jx.eq(y, _zeros(y)), x, jx.sub(x, mod)), y)
    fix = jx.and_(jx.ne(mod, _zeros(mod)), jx.ne(jx.sign(y), jx.sign(mod)))
    mod = jx.select(fix, jx.add(mod, y), mod)
    div = jx.select(fix, jx.sub(div, _ones(div)), div)
    return jx.round(div), mod


def _ones(x):
    return ones_like(x)


def remainder(x, y, /):
    check_arraylike("remainder", x, y)
    (x, y), dt, weak = promote(x, y)
    if dt.kind in "iu":  # JAX: x % 0 is 0 for integers (XLA's rem by 0 would give x)
        y = jx.select(jx.eq(y, _zeros(y)), _ones(y), y)
    r = jx.rem(x, y)
    if dt.kind == "u":
        return with_weak(r, weak)
    z = _zeros(r)
    fix = jx.and_(jx.ne(r, z), jx.ne(jx.lt(r, z), jx.lt(y, _zeros(y))))
    return with_weak(jx.select(fix, jx.add(r, y), r), weak)


mod = remainder


def fmod(x, y, /):
    (x, y), dt, weak = promote(x, y)
    return with_weak(jx.rem(x, y), weak)


def divmod(x, y, /):  # noqa: A001
    return floor_divide(x, y), remainder(x, y)


def power(x, y, /):
    check_arraylike("power", x, y)
    if isinstance(y, (int, np.integer)) and not isinstance(y, (bool, np.bool_)):
        # a concrete integer exponent: square-and-multiply (integer_pow), as JAX does
        x = asarray_any(x)
        if x.dtype == np.bool_:
            x = convert(x, dtypes.default_int, x.aval.weak_type)
        if x.dtype.kind in "iu" and y < 0:
            raise TypeError(
                f"Integers cannot be raised to negative powers, got integer_pow({x.dtype.name}{list(x.shape)}, {int(y)})"
            )
        return with_weak(jx.integer_pow(x, y=int(y)), x.aval.weak_type)
    y_int = (is_array(y) or isinstance(y, np.ndarray)) and y.dtype.kind in "iub"
    (x, y), dt, weak = promote(x, y)
    if dt.kind in "iu":
        return _int_power(x, y, weak)
    if not y_int:
        return with_weak(jx.pow(x, y), weak)
    # JAX differentiates a float base with an integer exponent array as 0 where y == 0 (the
    # float rule would give 0 * 0**-1 = NaN at x = 0); the value there is 1 either way
    y_is_0 = jx.eq(y, _zeros(y))
    out = jx.pow(x, jx.select(y_is_0, _ones(y), y))
    return with_weak(jx.select(y_is_0, _ones(out), out), weak)


def _int_power(x, y, weak):
    # square-and-multiply over the (traced) integer exponent bits
    acc = _ones(x)
    base = x
    bits = 8 * x.dtype.itemsize
    for _ in range(bits - 1):
        one = jx.and_(y, _ones(y))
        acc = jx.select(jx.eq(one, _ones(one)), jx.mul(acc, base), acc)
        y = jx.shift_right_logical(y, _ones(y))
        base = jx.mul(base, base)
    return with_weak(acc, weak)


pow = power  # noqa: A001


def square(x, /):
    return power(x, 2)


def reciprocal(x, /):
    return true_divide(1.0, x)


def log2(x, /):
    return true_divide(log(x), float(np.log(2)))


def log10(x, /):
    return true_divide(log(x), float(np.log(10)))


def logaddexp(x, y, /):
    check_arraylike("logaddexp", x, y)
    (x, y), dt, weak = promote(x, y, to_float=True)
    return with_weak(_logaddexp(x, y), weak)


def _replace_posinf(x):
    return where(isposinf(x), _zeros(x), x)


def _logaddexp_any(exp_fn, log1p_scale):
    """log(exp(x) + exp(y)) (or base 2) with JAX's special values and JVP: equal infinities give
    themselves (not inf - inf = NaN), and the tangent weights exp(x - out) treat +inf as 0."""

    @custom_jvp
    def f(x, y):
        delta = subtract(x, y)
        tail = log1p(exp_fn(negative(abs(delta))))
        if log1p_scale != 1.0:
            tail = multiply(tail, log1p_scale)
        return where(isnan(delta), add(x, y), add(maximum(x, y), tail))

    @f.defjvp
    def f_jvp(primals, tangents):
        x, y = primals
        tx, ty = tangents
        out = f(x, y)
        o = _replace_posinf(out)
        return out, add(
            multiply(tx, exp_fn(subtract(_replace_posinf(x), o))), multiply(ty, exp_fn(subtract(_replace_posinf(y), o)))
        )

    return f


_logaddexp = _logaddexp_any(lambda v: exp(v), 1.0)
_logaddexp2 = _logaddexp_any(lambda v: exp2(v), float(1 / np.log(2)))


def isfinite(x, /):
    x = asarray_any(x)
    if x.dtype.kind == "c":
        return logical_and(isfinite(real(x)), isfinite(imag(x)))
    if dtypes.kind(x.dtype) != "f":
        return jx.eq(x, x)
    return jx.is_finite(x)


def isnan(x, /):
    x = asarray_any(x)
    return jx.ne(x, x)


def isinf(x, /):
    x = asarray_any(x)
    if x.dtype.kind == "c":
        return logical_or(isinf(real(x)), isinf(imag(x)))
    if dtypes.kind(x.dtype) != "f":
        return jx.ne(x, x)
    return logical_and(logical_not(isfinite(x)), logical_not(isnan(x)))


def round(x, decimals=0):  # noqa: A001
    x = asarray_any(x)
    if x.dtype == np.bool_:
        raise ValueError("round: data type bool is not inexact")
    if x.dtype.kind == "c":  # each part on its own, as JAX
        return with_weak(jx.complex(round(real(x), decimals), round(imag(x), decimals)), x.aval.weak_type)
    if dtypes.kind(x.dtype) != "f":
        return x
    if decimals == 0:
        return with_weak(jx.round(x), x.aval.weak_type)
    f = 10.0**decimals
    return true_divide(with_weak(jx.round(multiply(x, f)), x.aval.weak_type), f)


around = round


def trunc(x, /):
    x = asarray_any(x)
    if dtypes.kind(x.dtype) != "f":
        return x
    return where(jx.lt(x, _zeros(x)), ceil(x), floor(x))


fix = trunc


def deg2rad(x, /):
    return multiply(x, float(np.pi / 180))


radians = deg2rad


def rad2deg(x, /):
    return multiply(x, float(180 / np.pi))


degrees = rad2deg


def hypot(x, y, /):
    """sqrt(x*x + y*y) without overflow, with JAX's gradient at 0 (scaled by the larger)."""
    check_arraylike("hypot", x, y)
    (x, y), dt, weak = promote(x, y, to_float=True)
    x, y = abs(x), abs(y)
    inf = logical_or(isposinf(x), isposinf(y))
    big, small = maximum(x, y), minimum(x, y)
    big_is_0 = equal(big, 0)
    ratio = true_divide(small, where(big_is_0, _ones(big), big))
    out = where(big_is_0, big, multiply(big, sqrt(add(1.0, power(ratio, 2)))))
    return with_weak(where(inf, np.inf, out), weak)


def sinc(x, /):
    """sin(pi x) / (pi x) with 1 at 0; derivatives at 0 from its Maclaurin series (as JAX)."""
    check_arraylike("sinc", x)
    (x,), dt, weak = promote(x, to_float=True)
    is_0 = equal(x, 0)
    px = multiply(x, float(np.pi))
    safe = where(is_0, _ones(px), px)
    return with_weak(where(is_0, _sinc_at_0(px), true_divide(sin(safe), safe)), weak)


def _sinc_taylor(k, x):
    # the k-th derivative of sin(x)/x at 0 (the jvp supplies the monomial), as a function of x
    if k % 2:
        return multiply(x, 0.0)
    return add(multiply(x, 0.0), (-1) ** (k // 2) / (k + 1))


_SINC_ORDERS = 6  # exact derivatives of sinc at 0 up to this order; irjax traces each rule eagerly


def _sinc_level(k):
    if k >= _SINC_ORDERS:
        return lambda x: _sinc_taylor(k, x)
    f = custom_jvp(lambda x: _sinc_taylor(k, x))
    nxt = _sinc_level(k + 1)
    f.defjvp(lambda primals, tangents: (f(primals[0]), multiply(nxt(primals[0]), tangents[0])))
    return f


_sinc_at_0 = _sinc_level(0)


def heaviside(x1, x2, /):
    check_arraylike("heaviside", x1, x2)
    (x1, x2), dt, weak = promote(x1, x2, to_float=True)
    out = where(less(x1, 0), _zeros(x1), where(greater(x1, 0), _ones(x1), x2))
    return with_weak(where(isnan(x1), x1, out), weak)  # NaN in, NaN out (as JAX)


def copysign(x1, x2, /):
    return where(signbit(x2), negative(abs(x1)), abs(x1))


def signbit(x, /):
    x = asarray_any(x)
    if dtypes.kind(x.dtype) == "f":
        bits = jx.bitcast_convert_type(x, new_dtype=np.dtype(f"i{x.dtype.itemsize}"))
        return jx.lt(bits, _zeros(bits))
    return less(x, 0)


def float_power(x, y, /):
    return power(convert(asarray_any(x), dtypes.default_float), y)


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    if x is None and y is None:
        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise ValueError("Either both or neither of the x and y arguments should be provided to jax.numpy.where")
    c = convert(asarray_any(condition), bool)
    (xx, yy), dt, weak = promote(x, y)
    shape = np.broadcast_shapes(c.shape, xx.shape)

    c, xx, yy = _broadcast_to(c, shape), _broadcast_to(xx, shape), _broadcast_to(yy, shape)
    return with_weak(jx.select(c, xx, yy), weak)


def clip(arr=None, /, min=None, max=None, *, a=None, a_min=None, a_max=None):  # noqa: A002
    """JAX's (and the array API's) signature: arr, min, max; NumPy's a, a_min, a_max as keywords."""
    lo = min if min is not None else a_min
    hi = max if max is not None else a_max
    if arr is None and a is None:
        raise TypeError("clip: no array given (pass arr)")
    out = asarray_any(arr if arr is not None else a)
    if lo is not None:
        out = maximum(out, lo)
    if hi is not None:
        out = minimum(out, hi)
    return out


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    x = asarray_any(x)
    if dtypes.kind(x.dtype) != "f":
        return x
    info = np.finfo(x.dtype)
    x = where(isnan(x), nan, x)
    x = where(equal(x, np.inf), info.max if posinf is None else posinf, x)
    return where(equal(x, -np.inf), info.min if neginf is None else neginf, x)


def conj(x, /):
    x = asarray_any(x)
    return with_weak(jx.conj(x), x.aval.weak_type) if x.dtype.kind == "c" else x


conjugate = conj


def real(x, /):
    x = asarray_any(x)
    return with_weak(jx.real(x), x.aval.weak_type) if x.dtype.kind == "c" else x


def imag(x, /):
    x = asarray_any(x)
    return with_weak(jx.imag(x), x.aval.weak_type) if x.dtype.kind == "c" else _zeros(x)


def angle(z, deg=False):
    """The argument of z: arctan2(imag, real), in radians or degrees; float for real input."""
    check_arraylike("angle", z)
    z = asarray_any(z)
    if z.dtype.kind == "c":
        out = with_weak(jx.atan2(jx.imag(z), jx.real(z)), z.aval.weak_type)
    else:
        (z,), _, weak = promote(z, to_float=True)
        out = arctan2(_zeros(z), z)
    return rad2deg(out) if deg else out


def astype(x, dtype, /, *, copy=False, device=None):
    """x as dtype (a new Array where the dtype changes; copy=True always makes one); device=
    places the result there as device_put does."""
    x = asarray_any(x)
    out = convert(x, dtype)
    if copy and out is x and not isinstance(x, Tracer):
        out = _copy_with_weak(x, x.aval.weak_type)
    if device is not None:
        out = _device_put(out, device)
    return out


# ---- more elementwise functions, composed from the ones above ---------------------------------

bitwise_invert = invert
bitwise_left_shift = left_shift
bitwise_right_shift = right_shift


def logaddexp2(x, y, /):
    """log2(2**x + 2**y), stable for large arguments."""
    check_arraylike("logaddexp2", x, y)
    (x, y), dt, weak = promote(x, y, to_float=True)
    return with_weak(_logaddexp2(x, y), weak)


def ldexp(x1, x2, /):
    """x1 * 2**x2 for integer x2."""
    x2 = asarray_any(x2)
    if x2.dtype.kind not in "iub":
        raise TypeError(f"ldexp: the exponent must be an integer array, got {x2.dtype.name}")
    x1 = asarray_any(x1)
    dt = x1.dtype if dtypes.kind(x1.dtype) in "fc" else np.dtype(np.float32)
    return multiply(convert(x1, dt), exp2(convert(x2, dt)))


def modf(x, /, out=None):
    """(fractional part, integral part), both with the sign of x."""
    x = asarray_any(x)
    if dtypes.kind(x.dtype) not in "fc":
        x = convert(x, np.dtype(np.float32))
    whole = trunc(x)
    return x - whole, whole


def gcd(x1, x2, /):
    """Greatest common divisor of integer arrays (Euclid's algorithm in a while_loop)."""
    (a, b), dt, weak = promote(abs(asarray_any(x1)), abs(asarray_any(x2)))
    if dt.kind not in "iu":
        raise TypeError(f"gcd requires integer arguments, got {dt.name}")

    def cond(ab):
        return _any_nonzero(ab[1])

    def body(ab):
        a, b = ab
        safe = where(b == 0, np.asarray(1, dt), b)
        return where(b == 0, a, b), where(b == 0, b, remainder(a, safe))

    return _lax.while_loop(cond, body, (a, b))[0]


def _any_nonzero(x):
    return _any(x != 0)


def lcm(x1, x2, /):
    (a, b), dt, weak = promote(abs(asarray_any(x1)), abs(asarray_any(x2)))
    if dt.kind not in "iu":
        raise TypeError(f"lcm requires integer arguments, got {dt.name}")
    g = gcd(a, b)
    safe = where(g == 0, np.asarray(1, dt), g)
    return where(g == 0, np.asarray(0, dt), (a // safe) * b)


def isposinf(x, /, out=None):
    x = asarray_any(x)
    return logical_and(isinf(x), ~signbit(x)) if dtypes.kind(x.dtype) == "f" else not_equal(x, x)


def isneginf(x, /, out=None):
    x = asarray_any(x)
    return logical_and(isinf(x), signbit(x)) if dtypes.kind(x.dtype) == "f" else not_equal(x, x)


def isreal(x):
    x = asarray_any(x)
    return equal(x.imag, 0) if x.dtype.kind == "c" else equal(x, x) | _isnan_any(x)


def _isnan_any(x):
    return isnan(x) if dtypes.kind(x.dtype) in "fc" else not_equal(x, x)


def iscomplex(x):
    return logical_not(isreal(x))


def isrealobj(x):
    return asarray_any(x).dtype.kind != "c"


def iscomplexobj(x):
    return asarray_any(x).dtype.kind == "c"


def select(condlist, choicelist, default=0):
    """The first choice whose condition holds, elementwise (numpy.select)."""
    if len(condlist) != len(choicelist):
        raise ValueError("select: condlist and choicelist must have the same length")
    if not condlist:
        raise ValueError("select: condlist must not be empty")
    out = asarray_any(default)
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        cond = asarray_any(cond)
        if cond.dtype != np.bool_:
            raise TypeError(f"select: conditions must be boolean arrays, got {cond.dtype.name}")
        out = where(cond, choice, out)
    return out


# mutually recursive siblings (creation, ufuncs, indexing and reductions call each other):
# bound at the end, after every definition here, so any of them may be imported first
from .creation import ones_like  # noqa: E402
from .indexing import nonzero  # noqa: E402
from .reductions import any as _any  # noqa: E402
