"""StableHLO lowerings of elementwise math that IREE's own expansions get wrong: sin/cos/tan of
large arguments (Payne-Hanek reduction in f64), pow of negative bases and zero exponents, and
atan2 at signed zeros and infinities. They follow XLA's (and C99's) special-value semantics."""

from __future__ import annotations

import contextvars
import math

import numpy as np

from . import hlo
from .builder import aval
from .registry import ShapedType

# lower-stablehlo{wide-math=...}: float32 pow, sin/cos/tan and digamma's reflection computed in
# float64 and rounded once (CPU targets: correctly rounded, still faster than XLA's). Vulkan's
# SPIR-V has no float64 log and lavapipe's float64 vectors failed to compile, so GPU targets keep
# IREE's float32 kernels (docs/decisions.md).
wide_math = contextvars.ContextVar("irjax_wide_math", default=True)


class H:
    """An `ir.Value` with operators that emit StableHLO (same shape; scalars become constants)."""

    __slots__ = ("v", "a")

    def __init__(self, v):
        self.v = v
        self.a: ShapedType = aval(v)

    def _c(self, o):
        return o if isinstance(o, H) else H(hlo.constant(o, self.a.dtype, self.a.shape))

    def _op(self, name, *others, dtype=None):
        out = ShapedType(self.a.shape, np.dtype(dtype) if dtype is not None else self.a.dtype)
        return H(hlo.op1(name, [self.v] + [self._c(o).v for o in others], out))

    def __add__(self, o):
        return self._op("stablehlo.add", o)

    def __radd__(self, o):
        return self._c(o) + self

    def __sub__(self, o):
        return self._op("stablehlo.subtract", o)

    def __rsub__(self, o):
        return self._c(o) - self

    def __mul__(self, o):
        return self._op("stablehlo.multiply", o)

    def __rmul__(self, o):
        return self._c(o) * self

    def __truediv__(self, o):
        return self._op("stablehlo.divide", o)

    def __rtruediv__(self, o):
        return self._c(o) / self

    def __neg__(self):
        return self._op("stablehlo.negate")

    def __and__(self, o):
        return self._op("stablehlo.and", o)

    def __or__(self, o):
        return self._op("stablehlo.or", o)

    def __invert__(self):
        return self._op("stablehlo.not")

    def un(self, name):
        return self._op(f"stablehlo.{name}")

    def cmp(self, direction, o):
        return H(hlo.compare(self.v, self._c(o).v, direction))

    def eq(self, o):
        return self.cmp("EQ", o)

    def ne(self, o):
        return self.cmp("NE", o)

    def lt(self, o):
        return self.cmp("LT", o)

    def gt(self, o):
        return self.cmp("GT", o)

    def ge(self, o):
        return self.cmp("GE", o)

    def convert(self, dtype):
        dtype = np.dtype(dtype)
        return self if dtype == self.a.dtype else self._op("stablehlo.convert", dtype=dtype)

    def signbit(self):
        """True where the sign bit is set (also for -0.0 and negative NaNs)."""
        bits = self._op("stablehlo.bitcast_convert", dtype=np.dtype(f"i{self.a.dtype.itemsize}"))
        return bits.lt(0)


def select(pred: H, a, b, like: H | None = None) -> H:
    ref = a if isinstance(a, H) else b if isinstance(b, H) else like
    a, b = ref._c(a), ref._c(b)
    return H(hlo.op1("stablehlo.select", [pred.v, a.v, b.v], a.a))


# ---- sin, cos, tan --------------------------------------------------------------------------


def _two_over_pi_words(nbits: int) -> list[int]:
    """floor(2/pi * 2**nbits) as 32-bit words, least significant first."""
    one = 1 << (nbits + 64)  # fixed point with 64 guard bits

    def arctan_inv(k):
        total, term, n, sign = 0, one // k, 1, 1
        while term:
            total += sign * (term // n)
            term //= k * k
            n += 2
            sign = -sign
        return total

    pi = 4 * (4 * arctan_inv(5) - arctan_inv(239))  # Machin's formula
    p = (2 * one * one // pi) >> 64
    return [(p >> (32 * i)) & 0xFFFFFFFF for i in range(nbits // 32 + 1)]


_N = 224  # fraction bits of 2/pi kept: enough for |x| up to 2**128 (any f32)
_WORDS = _two_over_pi_words(_N)  # 8 words; the top one (the integer part) is 0
U64, I64, U32 = np.dtype(np.uint64), np.dtype(np.int64), np.dtype(np.uint32)


def _reduce_quarter_turns(ax: H):
    """(r, k) with |x| = (k + r) * pi/2, k in [0, 3], |r| <= 1/2 (r in f64), for f32 |x| >= pi/4.

    Payne-Hanek in 64-bit integers: V = floor(m * 2/pi * 2**(E+62)) mod 2**64 for |x| = m * 2**E,
    from the 96 bits of 2/pi that matter at this exponent (error < 2**-61 in quarter turns)."""
    bits = ax._op("stablehlo.bitcast_convert", dtype=np.int32)
    e = ((bits._op("stablehlo.shift_right_logical", 23)) & 0xFF) - 150
    m = ((bits & 0x7FFFFF) | 0x800000).convert(U64)
    b = (e * -1) + (_N - 94)  # window's lowest bit of 2/pi: in [26, 154] for normal |x| >= pi/4
    kw = b._op("stablehlo.shift_right_logical", 5)
    sh = (b & 31).convert(U64)
    words = []
    for c in range(4):  # word[kw + c] by a select chain (kw in [0, 4])
        w = H(hlo.constant(_WORDS[c], U64, ax.a.shape))
        for k in range(1, 5):
            w = select(kw.eq(k), _WORDS[k + c], w)
        words.append(w)

    def shl(v, n):
        return v._op("stablehlo.shift_left", n)

    def shr(v, n):
        return v._op("stablehlo.shift_right_logical", n)

    mask = 0xFFFFFFFF
    # window word j (j = 0 lowest) = bits [b + 32j, b + 32j + 32) of 2/pi
    win = [(shr(words[j], sh) | shl(words[j + 1], 32 - sh)) & mask for j in range(3)]
    v = shl(m * win[2], 32) + m * win[1] + shr(m * win[0], 32)  # wraps mod 2**64, as wanted
    k = shr(v + (1 << 61), 62)
    r = (v - shl(k, 62))._op("stablehlo.bitcast_convert", dtype=I64)
    # (53 of its 62 bits in float64, where the kernels run in float64; else float32)
    r = r.convert(np.float64 if wide_math.get() else np.float32) * (2.0**-62)
    return r, k.convert(np.int32)


def trig(fn: str, x_value, out: ShapedType):
    """sin/cos/tan of a float tensor, with exact argument reduction for large |x| (XLA's results)."""
    if out.dtype == np.float64:
        return trig_f64(fn, H(x_value)).v
    x = H(x_value).convert(np.float32)
    ax = x.un("abs")
    small = ax.cmp("LE", math.pi / 4)
    r, k = _reduce_quarter_turns(select(small, 1.0, ax))
    q = select(small, 0, k)
    if wide_math.get():
        # the reduced argument and fdlibm's kernels in float64, rounded once at the end: IREE's
        # float32 sine / cosine were up to 2.7 ulp off (XLA's 0.56)
        a = select(small, ax.convert(np.float64), r * (math.pi / 2))
        s, c = _sincos_kernels(a)
    else:
        a = select(small, ax, r * (math.pi / 2))
        # IREE's own sine is off by ~1e-4 relative for some small negative arguments, so it only
        # ever sees |a|
        abs_a = a.un("abs")
        s, c = abs_a.un("sine"), abs_a.un("cosine")
        s = select(a.signbit(), -s, s)
    q0, q1, q2 = q.eq(0), q.eq(1), q.eq(2)
    sin = select(q0, s, select(q1, c, select(q2, -s, -c)))
    cos = select(q0, c, select(q1, -s, select(q2, -c, s)))
    y = {"sin": lambda: sin, "cos": lambda: cos, "tan": lambda: sin / cos}[fn]()
    if fn != "cos":  # odd functions; x itself keeps the sign of zero: sin(-0.) = -0.
        y = select(x.signbit(), -y, y)
        y = select(x.eq(0), x.convert(y.a.dtype), y)
    y = select(x._op("stablehlo.is_finite", dtype=np.bool_), y, math.nan)
    return y.convert(out.dtype).v


def digamma_f32(x_value, out: ShapedType):
    """ψ(x) in float32: IREE's chlo.digamma for x >= 1/2, the reflection ψ(1 - x) - π / tan(π x)
    below, with tan of the exactly reduced r = x - round(x) in float64 (IREE's expansion was 4%
    off at x = -1e-6, and of the wrong sign at -1e-8). NaN at the poles 0, -1, -2, ..."""
    x = H(x_value)
    low = x.cmp("LT", 0.5)
    arg = select(low, 1.0 - x, x)
    psi = H(hlo.op1("chlo.digamma", [arg.v], arg.a))
    r = (x - x.un("round_nearest_even")).convert(np.float64)  # exact: |x| < 2**23 (else an integer)
    cot = 1.0 / trig_f64("tan", r * math.pi)
    refl = (psi.convert(np.float64) - cot * math.pi).convert(np.float32)
    y = select(low, refl, psi)
    pole = x.cmp("LE", 0.0) & x.un("floor").eq(x)
    return select(pole, math.nan, y).convert(out.dtype).v


# ---- pow, atan2 -------------------------------------------------------------------------------


def pow_float(x_value, y_value, out: ShapedType):
    """x ** y with C99 pow semantics (XLA's): (-2.)**3 = -8, x**0 = 1 (NaN too), 1**y = 1,
    (-x)**non-integer = NaN. IREE's expansion (exp(y log x)) is right only for x > 0."""
    x, y = H(x_value), H(y_value)
    if out.dtype == np.float32 and wide_math.get():
        # IREE's float32 power is exp(y log x) in float32: up to ~60 ulp off (mean 2.5) on
        # x in [0, 20), |y| < 12; in float64 it rounds correctly (XLA's libm powf) and still
        # runs faster than JAX's on the CPU (1M: 5.0 vs 6.1 ms)
        wide = ShapedType(out.shape, np.dtype(np.float64))
        r = H(hlo.op1("stablehlo.power", [x.un("abs").convert(np.float64).v, y.convert(np.float64).v], wide))
        r = r.convert(np.float32)
    else:
        r = H(hlo.op1("stablehlo.power", [x.un("abs").v, y.v], out))
    fy = y.un("floor")
    y_int = fy.eq(y)  # true for +-inf (even) and false for NaN
    half = y * 0.5
    odd = y_int & half.un("floor").ne(half)
    r = select(x.signbit() & odd, -r, r)
    finite_neg = x.lt(0) & x._op("stablehlo.is_finite", dtype=np.bool_)
    r = select(finite_neg & ~y_int & y.eq(y), math.nan, r)
    r = select(x.eq(1), 1.0, r)  # 1 ** nan = 1
    r = select(x.eq(-1) & y.un("abs").eq(math.inf), 1.0, r)
    return select(y.eq(0), 1.0, r).v


def atan2(y_value, x_value, out: ShapedType):
    """atan2 with C99 special values at signed zeros and both-infinite arguments."""
    y, x = H(y_value), H(x_value)
    if out.dtype in (np.float32, np.float64):
        # (IREE 3.13's llvm-cpu cannot link libm's double atan2, and its float32 one is up to 40 ulp off)
        return atan2_fixups(y, x, atan2_f64(y, x))
    return atan2_fixups(y, x, H(hlo.op1("stablehlo.atan2", [y.v, x.v], out)))


def atan2_fixups(y: H, x: H, r: H):
    """atan2's C99 special values applied over a computed `r`."""
    ysign = y.signbit()
    x_neg = x.signbit()  # -0. counts as negative: atan2(+-0, -0) = +-pi
    pi = select(ysign, -math.pi, math.pi, like=r)
    zero = select(ysign, -0.0, 0.0, like=r)
    r = select(y.eq(0) & x.eq(x), select(x_neg, pi, zero), r)
    # finite y, infinite x: IREE gives pi for (-1, -inf); C99 says -pi (and +-0 for x = +inf)
    y_fin = y._op("stablehlo.is_finite", dtype=np.bool_)
    r = select(y_fin & x.eq(-math.inf), pi, select(y_fin & x.eq(math.inf), zero, r))
    # the result has y's sign (IREE gives +pi for atan2(-1, -3e38), where y/x underflows)
    r = select(ysign, -r.un("abs"), r.un("abs"))
    both_inf = y.un("abs").eq(math.inf) & x.un("abs").eq(math.inf)
    quarter = select(x_neg, 3 * math.pi / 4, math.pi / 4, like=r)
    return select(both_inf, select(ysign, -quarter, quarter), r).v


def cbrt(x_value, out: ShapedType):
    """Cube root: IREE's gives NaN at +-inf and 1 ulp off at 1.0; this is its estimate refined by
    one Newton step in f32 on |x| scaled into range, with signed zeros, infinities and NaN kept."""
    if out.dtype == np.float64:
        return cbrt_f64(x_value, out)
    x = H(x_value).convert(np.float32)
    ax = x.un("abs")
    tiny, huge = ax.cmp("LT", 2.0**-100), ax.cmp("GT", 2.0**100)
    scaled = select(tiny, ax * 2.0**120, select(huge, ax * 2.0**-120, ax))
    y = H(hlo.op1("stablehlo.cbrt", [scaled.v], scaled.a))
    y = select(y.eq(0), y, y - (y * y * y - scaled) / (3.0 * y * y))  # 0 for flushed subnormals
    y = select(tiny, y * 2.0**-40, select(huge, y * 2.0**40, y))
    y = select(x.signbit(), -y, y)
    y = select(ax.eq(0) | ax.eq(math.inf) | x.ne(x), x, y)  # +-0, +-inf, NaN are their own roots
    return y.convert(out.dtype).v


# ---- float64 (x64 mode): IREE 3.13's llvm-cpu cannot link libm's sin, cos, tanh, atan2, fmod ------
# fdlibm's kernels (k_sin.c, k_cos.c, s_atan.c): their minimax coefficients, reductions and ranges.

_SIN = (-1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04,
        2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10)  # fmt: skip
_COS = (4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05,
        -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11)  # fmt: skip
# pi/2 in three 33-bit parts: n * part is exact for |n| < 2**20 (Cody-Waite)
_PIO2 = (1.57079632673412561417e00, 6.07710050630396597660e-11, 2.02226624871116645580e-21, 8.47842766036889956997e-32)


def _poly(z: H, coeffs) -> H:
    acc = z * 0.0 + coeffs[-1]
    for c in reversed(coeffs[:-1]):
        acc = acc * z + c
    return acc


def _sincos_kernels(r: H) -> tuple[H, H]:
    """fdlibm's sin and cos kernels: (sin r, cos r) in float64 for |r| <= pi/4."""
    z = r * r
    s = r + r * z * _poly(z, _SIN)
    hz = z * 0.5
    w = 1.0 - hz
    return s, w + (((1.0 - w) - hz) + z * z * _poly(z, _COS))


def trig_f64(fn: str, x: H) -> H:
    """sin/cos/tan in float64: Cody-Waite reduction by pi/2 (accurate for |x| < 2**20 * pi/2;
    beyond, the reduction loses bits), then fdlibm's kernels on |r| <= pi/4."""
    n = (x * (2 / math.pi)).un("round_nearest_even")
    r = x - n * _PIO2[0] - n * _PIO2[1] - n * _PIO2[2] - n * _PIO2[3]
    s, c = _sincos_kernels(r)
    q = n._op("stablehlo.convert", dtype=np.int64) & 3
    q0, q1, q2 = q.eq(0), q.eq(1), q.eq(2)
    sin = select(q0, s, select(q1, c, select(q2, -s, -c)))
    cos = select(q0, c, select(q1, -s, select(q2, -c, s)))
    y = {"sin": lambda: sin, "cos": lambda: cos, "tan": lambda: sin / cos}[fn]()
    if fn != "cos":
        y = select(x.eq(0), x, y)  # sin(-0.) = -0.
    return select(x._op("stablehlo.is_finite", dtype=np.bool_), y, math.nan)


_ATAN_HI = (
    4.63647609000806093515e-01,
    7.85398163397448278999e-01,
    9.82793723247329054082e-01,
    1.57079632679489655800e00,
)
_ATAN_LO = (
    2.26987774529616870924e-17,
    3.06161699786838301793e-17,
    1.39033110312309984516e-17,
    6.12323399573676603587e-17,
)
_AT_ODD = (3.33333333333329318027e-01, 1.42857142725034663711e-01, 9.09088713343650656196e-02,
           6.66107313738753120669e-02, 4.97687799461593236017e-02, 1.62858201153657823623e-02)  # fmt: skip
_AT_EVEN = (-1.99999999998764832476e-01, -1.11111104054623557880e-01, -7.69187620504482999495e-02,
            -5.83357013379057348645e-02, -3.65315727442169155270e-02)  # fmt: skip


def atan_f64(x: H) -> H:
    """atan in float64 (fdlibm's s_atan): |x| mapped into [-7/16, 7/16] around one of four
    breakpoints, then a degree-22 odd polynomial."""
    ax = x.un("abs")
    b0, b1, b2 = ax.lt(0.6875), ax.lt(1.1875), ax.lt(2.4375)
    t = select(b0, (2.0 * ax - 1.0) / (2.0 + ax), select(b1, (ax - 1.0) / (ax + 1.0), (ax - 1.5) / (1.0 + 1.5 * ax)))
    t = select(b2, t, -1.0 / ax)
    small = ax.lt(0.4375)
    t = select(small, ax, t)
    z = t * t
    w = z * z
    s = z * _poly(w, _AT_ODD) + w * _poly(w, _AT_EVEN)
    hi = select(b0, _ATAN_HI[0], select(b1, _ATAN_HI[1], select(b2, _ATAN_HI[2], _ATAN_HI[3], like=ax)))
    lo = select(b0, _ATAN_LO[0], select(b1, _ATAN_LO[1], select(b2, _ATAN_LO[2], _ATAN_LO[3], like=ax)))
    r = select(small, t - t * s, hi - ((t * s - lo) - t))
    r = select(x.signbit(), -r, r)
    return select(x.ne(x), x, r)


def atan2_f64(y: H, x: H) -> H:
    """atan2 from atan(|y|/|x|) and the quadrant (special values: atan2_fixups)."""
    t = atan_f64(y.un("abs") / x.un("abs"))
    t = select(x.signbit(), (math.pi - (t - 1.2246467991473532e-16)), t)  # pi's low part
    return select(y.signbit(), -t, t)


def _tanh_small(x: H) -> H:
    """tanh for |x| <= 1/2 by Lambert's continued fraction x / (1 + x^2 / (3 + x^2 / (5 + ...))),
    11 levels deep: the truncation error is far below float64's last bit there."""
    z = x * x
    f = z * 0.0 + 23.0
    for k in range(10, -1, -1):
        f = (2.0 * k + 1.0) + z / f
    return x / f


def expm1_f64(x: H) -> H:
    """expm1 in float64 (IREE 3.13's loses all bits below |x| ~ 1e-8): 2u / (1 - u) with
    u = tanh(x/2) for |x| < 1, exp(x) - 1 beyond."""
    u = _tanh_small(x * 0.5)
    small = (2.0 * u) / (1.0 - u)
    return select(x.un("abs").lt(1.0), small, x.un("exponential") - 1.0)


def tanh_f64(x: H) -> H:
    """tanh in float64 (libm's tanh is not linked): the continued fraction for |x| <= 1/2,
    -expm1(-2|x|) / (2 + expm1(-2|x|)) with x's sign beyond."""
    e = (x.un("abs") * -2.0).un("exponential") - 1.0
    t = -e / (e + 2.0)
    t = select(x.signbit(), -t, t)
    return select(x.un("abs").lt(0.5) | x.ne(x), _tanh_small(x), t)


def sinh_f64(x: H) -> H:
    """sinh in float64 (IREE's loses bits for small |x|): (e + e / (e + 1)) / 2 with e = expm1(x)
    for |x| < 1, IREE's chlo.sinh beyond."""
    e = expm1_f64(x)
    small = (e + e / (e + 1.0)) * 0.5
    return select(x.un("abs").lt(1.0), small, x._op("chlo.sinh"))


def log1p_f64(x: H) -> H:
    """log1p in float64 (IREE's is ~15 ulp off): log(u) - ((u - 1) - x) / u with u = 1 + x, which
    corrects u's rounding (Goldberg); x itself where 1 + x == 1 (tiny x, -0.)."""
    u = 1.0 + x
    r = u.un("log") - ((u - 1.0) - x) / u
    r = select(u.eq(0), -math.inf, r)  # log1p(-1) = -inf
    return select(u.eq(1.0), x, select(u.eq(math.inf), u, r))


def atanh_f64(x: H) -> H:
    """atanh on log1p_f64, as fdlibm: for a = |x|, log1p(2a + 2a^2 / (1 - a)) / 2 below 1/2,
    log1p(2a / (1 - a)) / 2 above (well conditioned, unlike the negative side), x's sign."""
    a = x.un("abs")
    t = select(a.lt(0.5), 2.0 * a + 2.0 * a * a / (1.0 - a), (2.0 * a) / (1.0 - a))
    r = log1p_f64(t) * 0.5
    return select(x.eq(0) | x.ne(x), x, select(x.signbit(), -r, r))


def asinh_f64(x: H) -> H:
    """asinh = sign(x) log1p(|x| + x^2 / (1 + sqrt(1 + x^2))), with log(2|x|) once x^2 overflows."""
    ax = x.un("abs")
    big = ax.gt(1e150)
    a = select(big, 1.0, ax)
    r = log1p_f64(a + a * a / (1.0 + (1.0 + a * a).un("sqrt")))
    r = select(big, ax.un("log") + math.log(2.0), r)
    return select(x.eq(0) | x.ne(x), x, select(x.signbit(), -r, r))


def cbrt_f64(x_value, out: ShapedType):
    """cbrt in float64: |x| scaled by 2**(+-150 k) into float32's range, the float32 root (cbrt
    above), two Newton steps in float64, scaled back by 2**(-+50 k)."""
    x = H(x_value)
    ax = x.un("abs")
    a, back = ax, ax * 0.0 + 1.0
    for _ in range(8):  # 8 x 150 binary orders of magnitude cover every finite float64
        big, tiny = a.gt(2.0**60), a.lt(2.0**-60) & a.gt(0)
        a = select(big, a * 2.0**-150, select(tiny, a * 2.0**150, a))
        back = select(big, back * 2.0**50, select(tiny, back * 2.0**-50, back))
    y = H(cbrt(a.convert(np.float32).v, ShapedType(out.shape, np.dtype(np.float32)))).convert(np.float64)
    for _ in range(2):
        y = select(y.eq(0), y, y - (y * y * y - a) / (3.0 * y * y))  # (0: a subnormal flushed)
    y = y * back
    y = select(x.signbit(), -y, y)
    return select(ax.eq(0) | ax.eq(math.inf) | x.ne(x), x, y).v


def rem_f64(x: H, y: H) -> H:
    """fmod as x - y * trunc(x / y) (exact while the quotient fits 53 bits), sign of x kept."""
    q = x / y
    tq = select(q.lt(0), q.un("ceil"), q.un("floor"))
    r = x - y * tq
    r = select(r.eq(0), x * 0.0, r)  # a zero result has x's sign
    return select(y.un("abs").eq(math.inf) & x._op("stablehlo.is_finite", dtype=np.bool_), x, r)


# ---- complex: the ops where IREE's expansion over/underflows or loses signs ------------------------
# IREE 3.13 lowers complex abs as sqrt(re^2 + im^2) (inf at 1e30, 0 at 1e-30), division by
# (a * conj(b)) / |b|^2 (same range loss), log through that abs (and log(0) = -inf + nan i), and
# exp with its own sin/cos (wrong signs at large imaginary parts). These follow XLA's results.


def _parts(z_value):
    a = aval(z_value)
    part = ShapedType(a.shape, np.finfo(a.dtype).dtype)
    return H(hlo.op1("stablehlo.real", [z_value], part)), H(hlo.op1("stablehlo.imag", [z_value], part))


def _is_finite(v: H) -> H:
    return v._op("stablehlo.is_finite", dtype=np.bool_)


def _copysign(magnitude: float, sign_of: H) -> H:
    return select(sign_of.signbit(), -magnitude, magnitude, like=sign_of)


def _complex(re: H, im: H, out: ShapedType):
    return hlo.op1("stablehlo.complex", [re.v, im.v], out)


def _hypot(x: H, y: H) -> H:
    """sqrt(x^2 + y^2) scaled by the larger part: no overflow or underflow on the way."""
    ax, ay = x.un("abs"), y.un("abs")
    big, small = ax._op("stablehlo.maximum", ay), ax._op("stablehlo.minimum", ay)
    big_is_0 = big.eq(0)
    ratio = small / select(big_is_0, 1.0, big)
    r = select(big_is_0, 0.0, big * (ratio * ratio + 1.0).un("sqrt"))
    inf = ax.eq(math.inf) | ay.eq(math.inf)
    return select(inf, math.inf, r)  # |inf + nan i| = inf, as in C99


def abs_complex(z_value, out: ShapedType):
    return _hypot(*_parts(z_value)).v


def log_complex(z_value, out: ShapedType):
    """log|z| + i arg z, with C99's log(+-0 + 0i) = -inf + (0 or pi) i."""
    re, im = _parts(z_value)
    ax, ay = re.un("abs"), im.un("abs")
    big, small = ax._op("stablehlo.maximum", ay), ax._op("stablehlo.minimum", ay)
    ratio = small / select(big.eq(0), 1.0, big)
    # log(big) + log(1 + ratio^2) / 2: |z| itself may overflow (|3e38 + 3e38 i|)
    log_mag = big.un("log") + (ratio * ratio).un("log_plus_one") * 0.5
    log_mag = select(ax.eq(math.inf) | ay.eq(math.inf), math.inf, log_mag)
    return _complex(log_mag, H(atan2(im.v, re.v, im.a)), out)


def exp_complex(z_value, out: ShapedType):
    """e^re (cos im + i sin im), with exact argument reduction for sin/cos and a real result
    (no inf * 0 = NaN) where im = 0."""
    re, im = _parts(z_value)
    e = re.un("exponential")
    c, s = H(trig("cos", im.v, im.a)), H(trig("sin", im.v, im.a))
    im_is_0 = im.eq(0)
    return _complex(select(im_is_0, e, e * c), select(im_is_0, im, e * s), out)


def div_complex(a_value, b_value, out: ShapedType):
    """a / b by Smith's method (scaled by the larger part of b), with C99's special cases:
    x / 0 = copysign(inf, re b) * x, inf / finite = inf, finite / inf = 0."""
    ar, ai = _parts(a_value)
    br, bi = _parts(b_value)
    r_small = br.un("abs").ge(bi.un("abs"))  # |re b| >= |im b|: divide by re b
    bi_safe = select(bi.eq(0), 1.0, bi)
    br_safe = select(br.eq(0), 1.0, br)
    ratio1 = bi / br_safe  # used when |re b| >= |im b|
    den1 = br + bi * ratio1
    ratio2 = br / bi_safe
    den2 = bi + br * ratio2
    re = select(r_small, (ar + ai * ratio1) / den1, (ar * ratio2 + ai) / den2)
    im = select(r_small, (ai - ar * ratio1) / den1, (ai * ratio2 - ar) / den2)
    # b = 0: copysign(inf, re b) times each part of a
    b_zero = br.eq(0) & bi.eq(0)
    inf_signed = select(br.signbit(), -math.inf, math.inf, like=br)
    re = select(b_zero, inf_signed * ar, re)
    im = select(b_zero, inf_signed * ai, im)

    def unit(v):  # copysign(1 if v is infinite else 0, v)
        mag = select(v.un("abs").eq(math.inf), 1.0, 0.0, like=v)
        return select(v.signbit(), -mag, mag)

    a_inf = ~(_is_finite(ar) & _is_finite(ai)) & ar.eq(ar) & ai.eq(ai)
    b_fin = _is_finite(br) & _is_finite(bi)
    ur, ui = unit(ar), unit(ai)
    re = select(a_inf & b_fin, (ur * br + ui * bi) * math.inf, re)
    im = select(a_inf & b_fin, (ui * br - ur * bi) * math.inf, im)
    b_inf = ~b_fin & br.eq(br) & bi.eq(bi)
    a_fin = _is_finite(ar) & _is_finite(ai)
    vr, vi = unit(br), unit(bi)
    re = select(b_inf & a_fin, (ar * vr + ai * vi) * 0.0, re)
    im = select(b_inf & a_fin, (ai * vr - ar * vi) * 0.0, im)
    # a real nonzero divisor divides each part (JAX's log2(0) = -inf + 0i, not -inf + nan i)
    b_real = bi.eq(0) & ~br.eq(0)
    re = select(b_real, ar / br_safe, re)
    im = select(b_real, ai / br_safe, im)
    return _complex(re, im, out)


def _sin_cos(x: H):
    return H(trig("sin", x.v, x.a)), H(trig("cos", x.v, x.a))


def sqrt_complex(z_value, out: ShapedType):
    """t = sqrt((|x| + |z|) / 2); x >= 0: t + i y/(2t), else |y|/(2t) + i copysign(t, y).
    IREE's own gives sqrt(1 - 1e-30 i) = 1 + 6e-8 i (JAX: 1 - 5e-31 i)."""
    x, y = _parts(z_value)
    ax = x.un("abs")
    # huge parts: quarters first (|3e38 + 3e38 i| and |x| + |z| overflow), sqrt(2) sqrt(|x|/4 + |z|/4);
    # tiny ones: sqrt(|x| + |z|) sqrt(1/2) (half of 1.2e-38 is subnormal, and IREE flushes it)
    big = ax._op("stablehlo.maximum", y.un("abs"))
    t_huge = (ax * 0.25 + _hypot(x * 0.25, y * 0.25)).un("sqrt") * math.sqrt(2.0)
    t_tiny = (ax + _hypot(x, y)).un("sqrt") * math.sqrt(0.5)
    t = ((ax + _hypot(x, y)) * 0.5).un("sqrt")
    t = select(big.gt(1e37), t_huge, select(big.lt(1e-37), t_tiny, t))
    t0 = t.eq(0)
    other = select(t0, 0.0, y.un("abs") / select(t0, 1.0, t) * 0.5)
    signed_t = select(y.signbit(), -t, t)
    re = select(x.signbit(), other, t)
    im = select(x.signbit(), signed_t, select(t0, y, y / select(t0, 1.0, t) * 0.5))
    y_inf = y.un("abs").eq(math.inf)
    return _complex(select(y_inf, math.inf, re), select(y_inf, y, im), out)


def _sinh(b: H) -> H:
    """sinh of a real part: IREE's chlo.sinh is off by ~1e-3 relative near 0 (sinh(1.0014e-5)
    = 9.99999e-6), so small |b| goes through expm1."""
    small = (b.un("exponential_minus_one") - (-b).un("exponential_minus_one")) * 0.5
    return select(b.un("abs").lt(1.0), small, b._op("chlo.sinh"))


def _zero_times(s: H, other: H) -> H:
    """s * other, but a zero with the product's sign where s is a signed zero, also for an
    infinite or NaN `other` (C99: csin(+0 + i inf) = +0 + i inf, ccosh(inf + 0i) = inf + 0i)."""
    return select(s.eq(0), s * _copysign(1.0, other), s * other)


def sin_complex(z_value, out: ShapedType):
    """sin a cosh b + i cos a sinh b, with exact argument reduction for sin a and cos a."""
    a, b = _parts(z_value)
    s, c = _sin_cos(a)
    return _complex(_zero_times(s, b._op("chlo.cosh")), c * _sinh(b), out)


def cos_complex(z_value, out: ShapedType):
    """cos a cosh b - i sin a sinh b."""
    a, b = _parts(z_value)
    s, c = _sin_cos(a)
    return _complex(c * b._op("chlo.cosh"), -_zero_times(s, _sinh(b)), out)


def tan_complex(z_value, out: ShapedType):
    """(sin a cos a + i sinh b cosh b) / (cos^2 a + sinh^2 b): no cancellation near the poles;
    for |b| > 10 the imaginary part is sign(b) and the real part 4 sin a cos a e^(-2|b|)."""
    a, b = _parts(z_value)
    s, c = _sin_cos(a)
    sh = _sinh(b)
    den = c * c + sh * sh
    big = b.un("abs").gt(10.0)
    re = select(big, s * c * 4.0 * (b.un("abs") * -2.0).un("exponential"), s * c / den)
    im = select(big, _copysign(1.0, b), sh * b._op("chlo.cosh") / den)
    return _complex(re, im, out)


def _via_i(fn, z_value, out):
    """f(i z) for sinh/cosh/tanh: iz = -b + a i."""
    re, im = _parts(z_value)
    return fn(_complex(-im, re, out), out)


def sinh_complex(z_value, out: ShapedType):
    """sinh z = -i sin(i z)."""
    w = _via_i(sin_complex, z_value, out)
    wr, wi = _parts(w)
    return _complex(wi, -wr, out)


def cosh_complex(z_value, out: ShapedType):
    """cosh z = cos(i z)."""
    return _via_i(cos_complex, z_value, out)


def tanh_complex(z_value, out: ShapedType):
    """tanh z = -i tan(i z), with C99's special values: finite nonzero x and y inf or NaN give
    NaN + NaN i; x = +-inf gives +-1 + 0i (the zero signed as sin 2y); NaN + 0i stays."""
    w = _via_i(tan_complex, z_value, out)
    wr, wi = _parts(w)
    re, im = wi, -wr
    x, y = _parts(z_value)
    bad = _is_finite(x) & ~x.eq(0) & ~_is_finite(y)
    re, im = select(bad, math.nan, re), select(bad, math.nan, im)
    x_inf = x.un("abs").eq(math.inf)
    sin_2y = select(_is_finite(y), H(trig("sin", (y * 2.0).v, y.a)), y)
    re, im = select(x_inf, _copysign(1.0, x), re), select(x_inf, _copysign(0.0, sin_2y), im)
    nan_x_zero_y = x.ne(x) & y.eq(0)
    return _complex(select(nan_x_zero_y, x, re), select(nan_x_zero_y, y, im), out)


def expm1_complex(z_value, out: ShapedType):
    """e^z - 1 = (expm1(a) cos b - 2 sin^2(b/2)) + i e^a sin b: no cancellation near 0."""
    a, b = _parts(z_value)
    s, c = _sin_cos(b)
    sh = H(trig("sin", (b * 0.5).v, b.a))
    re = a.un("exponential_minus_one") * c - sh * sh * 2.0
    im_is_0 = b.eq(0)
    return _complex(
        # expm1(+-0 + 0i) = +0 + 0i (the array API's and JAX's), though the real expm1(-0) is -0
        select(im_is_0, select(a.eq(0), 0.0, a.un("exponential_minus_one")), re),
        select(im_is_0, b, a.un("exponential") * s),
        out,
    )


def logistic_complex(z_value, out: ShapedType):
    """1 / (1 + e^-z) from the exp and division above."""
    e = exp_complex(hlo.op1("stablehlo.negate", [z_value], out), out)
    one = hlo.constant(1, out.dtype, out.shape)
    return div_complex(one, hlo.op1("stablehlo.add", [one, e], out), out)


def pow_complex(x_value, y_value, out: ShapedType):
    """x ** y of complex tensors: IREE's exp(y log x) (checked against JAX in tests/test_complex.py)."""
    return hlo.op1("stablehlo.power", [x_value, y_value], out)


# ---- the inverse functions: IREE's chlo expansions, with C99's values at infinities and poles ----


def _chlo_complex(name: str, z_value, out: ShapedType):
    w = hlo.op1(name, [z_value], out)
    return _parts(z_value), _parts(w)


def log1p_complex(z_value, out: ShapedType):
    """log1p z; an infinite part gives inf + i atan2(y, x) (as log z), and -1 + 0i gives -inf + 0i."""
    (x, y), (re, im) = _chlo_complex("stablehlo.log_plus_one", z_value, out)
    inf = x.un("abs").eq(math.inf) | y.un("abs").eq(math.inf)
    re, im = select(inf, math.inf, re), select(inf, H(atan2(y.v, x.v, y.a)), im)
    pole = x.eq(-1.0) & y.eq(0)
    return _complex(select(pole, -math.inf, re), select(pole, y, im), out)


def atanh_complex(z_value, out: ShapedType):
    """atanh z; +-1 + 0i gives +-inf + 0i."""
    (x, y), (re, im) = _chlo_complex("chlo.atanh", z_value, out)
    pole = x.un("abs").eq(1.0) & y.eq(0)
    return _complex(select(pole, _copysign(math.inf, x), re), select(pole, y, im), out)


def _both_infinite(x: H, y: H) -> H:
    return x.un("abs").eq(math.inf) & y.un("abs").eq(math.inf)


def acos_complex(z_value, out: ShapedType):
    """acos z; +-inf +- inf i gives atan2(|y|, x) -+ inf i (pi/4 or 3 pi/4)."""
    (x, y), (re, im) = _chlo_complex("chlo.acos", z_value, out)
    inf = _both_infinite(x, y)
    re = select(inf, H(atan2(y.un("abs").v, x.v, y.a)), re)
    return _complex(re, select(inf, select(y.signbit(), math.inf, -math.inf, like=y), im), out)


def acosh_complex(z_value, out: ShapedType):
    """acosh z; +-inf +- inf i gives inf +- atan2(|y|, x) i."""
    (x, y), (re, im) = _chlo_complex("chlo.acosh", z_value, out)
    inf = _both_infinite(x, y)
    angle = H(atan2(y.un("abs").v, x.v, y.a))
    return _complex(select(inf, math.inf, re), select(inf, select(y.signbit(), -angle, angle), im), out)


def asinh_complex(z_value, out: ShapedType):
    """asinh z; +-inf +- inf i gives +-inf +- pi/4 i."""
    (x, y), (re, im) = _chlo_complex("chlo.asinh", z_value, out)
    inf = _both_infinite(x, y)
    return _complex(select(inf, _copysign(math.inf, x), re), select(inf, _copysign(math.pi / 4, y), im), out)
