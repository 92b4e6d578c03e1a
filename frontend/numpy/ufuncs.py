"""Elementwise functions of irjax.numpy, with JAX's promotion and NumPy broadcasting."""

from __future__ import annotations

import numpy as np
from irjax import dtypes
from irjax import lax as _lax  # (as _lax: this module is star-exported)
from irjax.core import Tracer
from irjax.custom_derivatives import custom_jvp
from irjax.device_api import device_put as _device_put
from irjax.operands import broadcast_to as _broadcast_to  # not jnp.broadcast_to: this module is star-exported
from irjax.operands import zeros_like

from ._util import _copy_with_weak, asarray_any, check_arraylike, convert, is_array, promote, with_weak


def _unary(op, name, to_float=True):
    def f(x, /):
        a = getattr(x, "aval", None)
        if a is not None and (not to_float or a.dtype.kind in "fc"):  # an array with nothing to promote
            return with_weak(op(x), a.weak_type)
        check_arraylike(name, x)
        (x,), dt, weak = promote(x, to_float=to_float)
        return with_weak(op(x), weak)

    f.__name__ = name
    return f


def _binary(op, name, to_float=False):
    def f(x, y, /):
        a = getattr(x, "aval", None)
        if a is not None and a == getattr(y, "aval", None) and (not to_float or a.dtype.kind in "fc"):
            return with_weak(op(x, y), a.weak_type)  # arrays of one dtype and shape: nothing to promote
        check_arraylike(name, x, y)
        (x, y), dt, weak = promote(x, y, to_float=to_float, op_name=op.__name__)
        return with_weak(op(x, y), weak)

    f.__name__ = name
    return f


def _compare(op, name):
    def f(x, y, /):
        a = getattr(x, "aval", None)
        if a is not None and a == getattr(y, "aval", None) and a.dtype.kind != "c":
            return with_weak(op(x, y), a.weak_type)  # arrays of one dtype and shape: nothing to promote
        check_arraylike(name, x, y)
        (x, y), dt, weak = promote(x, y, op_name=op.__name__)
        # JAX keeps the promoted operands' weak flag on the bool result (`iarr < 0.5` is weak)
        if dt.kind == "c" and op in _STRICT:
            return with_weak(_complex_order(op, x, y), weak)
        return with_weak(op(x, y), weak)

    f.__name__ = name
    return f


# each order comparison -> the strict one that decides on unequal real parts
_STRICT = {_lax.lt: _lax.lt, _lax.le: _lax.lt, _lax.gt: _lax.gt, _lax.ge: _lax.gt}


def _complex_order(op, x, y):
    """x < y (or <=, >, >=) on complex values, ordered by real part, then imaginary part (as JAX)."""
    xr, yr, xi, yi = _lax.real(x), _lax.real(y), _lax.imag(x), _lax.imag(y)
    return _lax.bitwise_or(_STRICT[op](xr, yr), _lax.bitwise_and(_lax.eq(xr, yr), op(xi, yi)))


sin = _unary(_lax.sin, "sin")
cos = _unary(_lax.cos, "cos")
tan = _unary(_lax.tan, "tan")
arcsin = asin = _unary(_lax.asin, "arcsin")
arccos = acos = _unary(_lax.acos, "arccos")
arctan = atan = _unary(_lax.atan, "arctan")
sinh = _unary(_lax.sinh, "sinh")
cosh = _unary(_lax.cosh, "cosh")
tanh = _unary(_lax.tanh, "tanh")
arcsinh = asinh = _unary(_lax.asinh, "arcsinh")
arccosh = acosh = _unary(_lax.acosh, "arccosh")
arctanh = atanh = _unary(_lax.atanh, "arctanh")
exp = _unary(_lax.exp, "exp")
exp2 = _unary(_lax.exp2, "exp2")
log = _unary(_lax.log, "log")
log1p = _unary(_lax.log1p, "log1p")
expm1 = _unary(_lax.expm1, "expm1")
sqrt = _unary(_lax.sqrt, "sqrt")
cbrt = _unary(_lax.cbrt, "cbrt")


def _round_even(x):
    return _lax.round(x, _lax.RoundingMethod.TO_NEAREST_EVEN)


rint = _unary(_round_even, "rint")


def _int_kept(op, name):
    """floor/ceil: integer and bool inputs come back unchanged, with their dtype (as in JAX)."""

    def f(x, /):
        check_arraylike(name, x)
        x = asarray_any(x)
        if x.dtype.kind in "biu":
            return x
        (x,), dt, weak = promote(x, to_float=True)
        return with_weak(op(x), weak)

    f.__name__ = name
    return f


floor = _int_kept(_lax.floor, "floor")
ceil = _int_kept(_lax.ceil, "ceil")


def add(x, y, /):
    check_arraylike("add", x, y)
    (x, y), dt, weak = promote(x, y, op_name="add")
    return with_weak((_lax.bitwise_or if dt == np.bool_ else _lax.add)(x, y), weak)  # bool + bool is or


def subtract(x, y, /):
    check_arraylike("subtract", x, y)
    (x, y), dt, weak = promote(x, y, op_name="sub")
    if dt == np.bool_:
        raise TypeError("subtract does not accept dtype bool; use logical_xor or bitwise_xor.")
    return with_weak(_lax.sub(x, y), weak)


multiply = _binary(_lax.mul, "multiply")


def _extremum(op, beats, name):
    """maximum/minimum: `op` (_lax.max or _lax.min), and `beats` (_lax.gt or _lax.lt) for complex values."""

    def f(x, y, /):
        check_arraylike(name, x, y)
        (x, y), dt, weak = promote(x, y, op_name=op.__name__)
        if dt.kind == "c":  # lexicographic, as JAX orders complex values
            return with_weak(_lax.select(_complex_order(beats, x, y), x, y), weak)
        return with_weak(op(x, y), weak)

    f.__name__ = name
    return f


maximum = _extremum(_lax.max, _lax.gt, "maximum")
minimum = _extremum(_lax.min, _lax.lt, "minimum")
arctan2 = atan2 = _binary(_lax.atan2, "arctan2", to_float=True)
equal = _compare(_lax.eq, "equal")
not_equal = _compare(_lax.ne, "not_equal")
less = _compare(_lax.lt, "less")
less_equal = _compare(_lax.le, "less_equal")
greater = _compare(_lax.gt, "greater")
greater_equal = _compare(_lax.ge, "greater_equal")


def _int_or_bool(op, name):
    def f(x, y, /):
        # lax's primitives are named and/or/xor (JAX's shape error names them so)
        (x, y), dt, weak = promote(x, y, op_name=op.__name__.removeprefix("bitwise_"))
        if dt.kind not in "biu":
            raise TypeError(f"{name} is only defined for integer and boolean inputs, got {dt.name}")
        return with_weak(op(x, y), weak)

    f.__name__ = name
    return f


bitwise_and = _int_or_bool(_lax.bitwise_and, "bitwise_and")
bitwise_or = _int_or_bool(_lax.bitwise_or, "bitwise_or")
bitwise_xor = _int_or_bool(_lax.bitwise_xor, "bitwise_xor")


def _bools_as_ints(x, y, dt):
    """JAX's arithmetic on two bools (//, %, **, <<, >>) counts them as int32 (True // False = -1)."""
    if dt != np.bool_:
        return x, y, dt
    i32 = np.dtype(np.int32)
    return convert(x, i32), convert(y, i32), i32


def left_shift(x, y, /):
    (x, y), dt, weak = promote(x, y, op_name="shift_left")
    x, y, dt = _bools_as_ints(x, y, dt)
    if dt.kind not in "iu":
        raise TypeError(f"left_shift is only defined for integer and boolean inputs, got {dt.name}")
    return with_weak(_lax.shift_left(x, y), weak)


def right_shift(x, y, /):
    (x, y), dt, weak = promote(x, y)
    x, y, dt = _bools_as_ints(x, y, dt)
    if dt.kind not in "iu":
        raise TypeError(f"right_shift is only defined for integer and boolean inputs, got {dt.name}")
    op = _lax.shift_right_logical if dt.kind == "u" else _lax.shift_right_arithmetic
    return with_weak(op(x, y), weak)


def logical_and(x, y, /):
    return bitwise_and(convert(asarray_any(x), bool), convert(asarray_any(y), bool))


def logical_or(x, y, /):
    return bitwise_or(convert(asarray_any(x), bool), convert(asarray_any(y), bool))


def logical_xor(x, y, /):
    return bitwise_xor(convert(asarray_any(x), bool), convert(asarray_any(y), bool))


def logical_not(x, /):
    return _lax.bitwise_not(convert(asarray_any(x), bool))


def invert(x, /):
    x = asarray_any(x)
    if x.dtype.kind not in "biu":
        raise TypeError(f"invert is only defined for integer and boolean inputs, got {x.dtype.name}")
    return with_weak(_lax.bitwise_not(x), x.aval.weak_type)


bitwise_not = invert


def negative(x, /):
    (x,), dt, weak = promote(x)
    if dt == np.bool_:
        raise TypeError("negative does not accept dtype bool.")
    return with_weak(_lax.neg(x), weak)


def positive(x, /):
    return asarray_any(x)


def abs(x, /):  # noqa: A001
    (x,), dt, weak = promote(x)  # complex64 -> float32 (the "abs" op's rule)
    if dt.kind in "ub":
        return x
    return with_weak(_lax.abs(x), weak)


absolute = abs


def fabs(x, /):
    (x,), dt, weak = promote(x, to_float=True)
    return with_weak(_lax.abs(x), weak)


def _nan_ignoring(op, beats, name):
    """`op` (_lax.max or _lax.min) that ignores a NaN operand and returns the other one; `beats`
    (_lax.gt or _lax.lt) says when x wins."""

    def f(x1, x2, /):
        (x, y), dt, weak = promote(x1, x2)
        if dtypes.kind(dt) != "f":
            return with_weak(op(x, y), weak)
        # JAX's rule: x where x beats y or y is NaN, else y (so fmax(0., -0.) is -0.)
        return with_weak(_lax.select(_lax.bitwise_or(beats(x, y), _lax.ne(y, y)), x, y), weak)

    f.__name__ = name
    return f


fmax = _nan_ignoring(_lax.max, _lax.gt, "fmax")
fmin = _nan_ignoring(_lax.min, _lax.lt, "fmin")


def sign(x, /):
    (x,), dt, weak = promote(x)
    if dt.kind == "u":
        return with_weak(convert(_lax.ne(x, _zeros(x)), dt), weak)
    if dt.kind == "b":
        return x
    return with_weak(_lax.sign(x), weak)


def _zeros(x):
    return zeros_like(x)


def true_divide(x, y, /):
    check_arraylike("true_divide", x, y)
    (x, y), dt, weak = promote(x, y, to_float=True, op_name="div")
    return with_weak(_lax.div(x, y), weak)


divide = true_divide


def floor_divide(x, y, /):
    check_arraylike("floor_divide", x, y)
    (x, y), dt, weak = promote(x, y, op_name="div")
    x, y, dt = _bools_as_ints(x, y, dt)
    if dtypes.kind(dt) == "f":
        return with_weak(_float_divmod(x, y)[0], weak)
    if dt.kind == "u":
        return with_weak(_lax.div(x, y), weak)
    # round toward -inf: truncated quotient minus one where the signs differ and a remainder
    # exists; signs by sign(), as JAX, so x // 0 = -1 - (x != 0) like XLA's division by zero
    q = _lax.div(x, y)
    r = _lax.rem(x, y)
    fix = _lax.bitwise_and(_lax.ne(r, _zeros(r)), _lax.ne(_lax.sign(x), _lax.sign(y)))
    return with_weak(_lax.select(fix, _lax.sub(q, _ones(q)), q), weak)


def _float_divmod(x, y):
    """Python's float divmod (CPython's float_divmod), as JAX: (inf // 2 is NaN, 1 // 0 is inf)."""
    mod = _lax.rem(x, y)
    div = _lax.div(_lax.select(_lax.eq(y, _zeros(y)), x, _lax.sub(x, mod)), y)
    fix = _lax.bitwise_and(_lax.ne(mod, _zeros(mod)), _lax.ne(_lax.sign(y), _lax.sign(mod)))
    mod = _lax.select(fix, _lax.add(mod, y), mod)
    div = _lax.select(fix, _lax.sub(div, _ones(div)), div)
    return _round_even(div), mod


def _ones(x):
    return _lax.full_like(x, 1)


def remainder(x, y, /):
    check_arraylike("remainder", x, y)
    (x, y), dt, weak = promote(x, y, op_name="rem")
    x, y, dt = _bools_as_ints(x, y, dt)
    if dt.kind in "iu":  # JAX: x % 0 is 0 for integers (XLA's rem by 0 would give x)
        y = _lax.select(_lax.eq(y, _zeros(y)), _ones(y), y)
    r = _lax.rem(x, y)
    if dt.kind == "u":
        return with_weak(r, weak)
    z = _zeros(r)
    fix = _lax.bitwise_and(_lax.ne(r, z), _lax.ne(_lax.lt(r, z), _lax.lt(y, _zeros(y))))
    return with_weak(_lax.select(fix, _lax.add(r, y), r), weak)


mod = remainder


def fmod(x, y, /):
    (x, y), dt, weak = promote(x, y)
    x, y, dt = _bools_as_ints(x, y, dt)
    if dt.kind in "iu":  # x fmod 0 is 0 for integers, as JAX (a divisor of 0 becomes 1)
        y = _lax.select(_lax.eq(y, _zeros(y)), _ones(y), y)
    return with_weak(_lax.rem(x, y), weak)


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
        return with_weak(_lax.integer_pow(x, int(y)), x.aval.weak_type)
    y_int = (is_array(y) or isinstance(y, np.ndarray)) and y.dtype.kind in "iub"
    (x, y), dt, weak = promote(x, y, op_name="pow")
    x, y, dt = _bools_as_ints(x, y, dt)
    if dt.kind in "iu":
        return _int_power(x, y, weak)
    if not y_int:
        return with_weak(_lax.pow(x, y), weak)
    # JAX differentiates a float base with an integer exponent array as 0 where y == 0 (the
    # float rule would give 0 * 0**-1 = NaN at x = 0); the value there is 1 either way
    y_is_0 = _lax.eq(y, _zeros(y))
    out = _lax.pow(x, _lax.select(y_is_0, _ones(y), y))
    return with_weak(_lax.select(y_is_0, _ones(out), out), weak)


def _int_power(x, y, weak):
    # square-and-multiply over the (traced) integer exponent bits
    acc = _ones(x)
    base = x
    bits = 8 * x.dtype.itemsize
    for _ in range(bits - 1):
        one = _lax.bitwise_and(y, _ones(y))
        acc = _lax.select(_lax.eq(one, _ones(one)), _lax.mul(acc, base), acc)
        y = _lax.shift_right_logical(y, _ones(y))
        base = _lax.mul(base, base)
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
    return _where(isposinf(x), _zeros(x), x)


def _logaddexp_any(exp_fn, log1p_scale):
    """log(exp(x) + exp(y)) (or base 2) with JAX's special values and JVP: equal infinities give
    themselves (not inf - inf = NaN), and the tangent weights exp(x - out) treat +inf as 0."""

    @custom_jvp
    def f(x, y):
        delta = subtract(x, y)
        tail = log1p(exp_fn(negative(abs(delta))))
        if log1p_scale != 1.0:
            tail = multiply(tail, log1p_scale)
        return _where(isnan(delta), add(x, y), add(maximum(x, y), tail))

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
        return _lax.eq(x, x)
    return _lax.is_finite(x)


def isnan(x, /):
    x = asarray_any(x)
    return _lax.ne(x, x)


def isinf(x, /):
    x = asarray_any(x)
    if x.dtype.kind == "c":
        return logical_or(isinf(real(x)), isinf(imag(x)))
    if dtypes.kind(x.dtype) != "f":
        return _lax.ne(x, x)
    return logical_and(logical_not(isfinite(x)), logical_not(isnan(x)))


def round(a, decimals=0, out=None):  # noqa: A001
    x = asarray_any(a)
    if x.dtype == np.bool_:
        raise ValueError("round: data type bool is not inexact")
    if x.dtype.kind == "c":  # each part on its own, as JAX
        return with_weak(_lax.complex(round(real(x), decimals), round(imag(x), decimals)), x.aval.weak_type)
    if dtypes.kind(x.dtype) != "f":
        return x
    if decimals == 0:
        return with_weak(_round_even(x), x.aval.weak_type)
    f = 10.0**decimals
    return true_divide(with_weak(_round_even(multiply(x, f)), x.aval.weak_type), f)


around = round


def trunc(x, /):
    x = asarray_any(x)
    if dtypes.kind(x.dtype) != "f":
        return x
    return _where(_lax.lt(x, _zeros(x)), ceil(x), floor(x))


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
    ratio = true_divide(small, _where(big_is_0, _ones(big), big))
    out = _where(big_is_0, big, multiply(big, sqrt(add(1.0, power(ratio, 2)))))
    return with_weak(_where(inf, np.inf, out), weak)


def sinc(x, /):
    """sin(pi x) / (pi x) with 1 at 0; derivatives at 0 from its Maclaurin series (as JAX)."""
    check_arraylike("sinc", x)
    (x,), dt, weak = promote(x, to_float=True)
    is_0 = equal(x, 0)
    px = multiply(x, float(np.pi))
    safe = _where(is_0, _ones(px), px)
    return with_weak(_where(is_0, _sinc_at_0(px), true_divide(sin(safe), safe)), weak)


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
    out = _where(less(x1, 0), _zeros(x1), _where(greater(x1, 0), _ones(x1), x2))
    return with_weak(_where(isnan(x1), x1, out), weak)  # NaN in, NaN out (as JAX)


def copysign(x1, x2, /):
    return _where(signbit(x2), negative(abs(x1)), abs(x1))


def signbit(x, /):
    x = asarray_any(x)
    if dtypes.kind(x.dtype) == "f":
        bits = _lax.bitcast_convert_type(x, np.dtype(f"i{x.dtype.itemsize}"))
        return _lax.lt(bits, _zeros(bits))
    return less(x, 0)


def float_power(x, y, /):
    return power(convert(asarray_any(x), dtypes.default_float), y)


def _where(condition, x, y, /):
    """x where condition holds, else y: jnp.where's three-operand form (indexing.where, the
    public one, adds the one-operand form, nonzero, which sits above the ufuncs)."""
    c = convert(asarray_any(condition), bool)
    (xx, yy), dt, weak = promote(x, y)
    cs, xs = c.aval.shape, xx.aval.shape
    shape = xs if cs == xs else np.broadcast_shapes(cs, xs)  # (np.broadcast_shapes costs microseconds)
    c, xx, yy = _broadcast_to(c, shape), _broadcast_to(xx, shape), _broadcast_to(yy, shape)
    return with_weak(_lax.select(c, xx, yy), weak)


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
    x = _where(isnan(x), nan, x)
    x = _where(equal(x, np.inf), info.max if posinf is None else posinf, x)
    return _where(equal(x, -np.inf), info.min if neginf is None else neginf, x)


def conj(x, /):
    x = asarray_any(x)
    return with_weak(_lax.conj(x), x.aval.weak_type) if x.dtype.kind == "c" else x


conjugate = conj


def real(x, /):
    x = asarray_any(x)
    return with_weak(_lax.real(x), x.aval.weak_type) if x.dtype.kind == "c" else x


def imag(x, /):
    x = asarray_any(x)
    return with_weak(_lax.imag(x), x.aval.weak_type) if x.dtype.kind == "c" else _zeros(x)


def angle(z, deg=False):
    """The argument of z: arctan2(imag, real), in radians or degrees; float for real input."""
    check_arraylike("angle", z)
    z = asarray_any(z)
    if z.dtype.kind == "c":
        out = with_weak(_lax.atan2(_lax.imag(z), _lax.real(z)), z.aval.weak_type)
    else:
        (z,), _, weak = promote(z, to_float=True)
        out = arctan2(_zeros(z), z)
    return rad2deg(out) if deg else out


def astype(x, dtype, /, *, copy=False, device=None):
    """x as dtype (a new Array where the dtype changes; copy=True always makes one); device=
    places the result there as device_put does."""
    x = asarray_any(x)
    out = convert(x, dtypes.check_user_dtype(dtype, "astype"))
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
        safe = _where(b == 0, np.asarray(1, dt), b)
        return _where(b == 0, a, b), _where(b == 0, b, remainder(a, safe))

    return _lax.while_loop(cond, body, (a, b))[0]


def _any_nonzero(x):
    nz = not_equal(x, 0)
    return _lax.reduce_or(nz, tuple(range(nz.ndim))) if nz.ndim else nz


def lcm(x1, x2, /):
    (a, b), dt, weak = promote(abs(asarray_any(x1)), abs(asarray_any(x2)))
    if dt.kind not in "iu":
        raise TypeError(f"lcm requires integer arguments, got {dt.name}")
    g = gcd(a, b)
    safe = _where(g == 0, np.asarray(1, dt), g)
    return _where(g == 0, np.asarray(0, dt), (a // safe) * b)


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
        out = _where(cond, choice, out)
    return out
