"""XLA:CPU's float32 log, log1p, erf and erf_inv, written as lax primitives, bit-identical with JAX.

JAX's samplers end in transcendental functions. IREE's own approximations of log, log1p, erf
and erf_inv differ from XLA:CPU's in the last bit for a sizeable fraction of inputs (e.g. ~30%
for log1p, ~2% for erf_inv), so normal() & co. would drift by an ulp. These are XLA:CPU's
algorithms (Cephes-based log and log1p, Eigen's fast erf, Giles' erf_inv) as plain
mul/add/select ops; LLVM contracts each `a * b + c` into an FMA in both compilers, so the
results agree bit for bit (checked against jax on 10^5+ points). irjax.random uses them.
"""

from __future__ import annotations

import numpy as np

from . import lax

F32 = np.dtype(np.float32)
U32 = np.dtype(np.uint32)


def _full(like, v, dtype=F32):
    """A constant of like's shape."""
    return lax.full_like(like, v, dtype)


def _madd(a, b, c):
    """a * b + c (FMA-contracted by the backend, as in XLA)."""
    return lax.add(lax.mul(a, b), c)


_LOG_P = (
    7.0376836292e-2,
    -1.1514610310e-1,
    1.1676998740e-1,
    -1.2420140846e-1,
    1.4249322787e-1,
    -1.6668057665e-1,
    2.0000714765e-1,
    -2.4999993993e-1,
    3.3333331174e-1,
)


def xla_log_f32(x):
    """XLA:CPU's vectorized float32 log (Cephes logf)."""
    invalid = lax.bitwise_not(lax.gt(x, 0.0))  # x <= 0 or NaN
    is_zero = lax.eq(x, 0.0)
    is_inf = lax.eq(x, np.inf)
    t = lax.max(x, float(np.finfo(np.float32).tiny))
    bits = lax.bitcast_convert_type(t, U32)
    emm0 = lax.shift_right_logical(bits, _full(x, 23, U32))
    mant = lax.bitwise_or(lax.bitwise_and(bits, _full(x, ~0x7F800000 & 0xFFFFFFFF, U32)), _full(x, 0x3F000000, U32))
    t = lax.bitcast_convert_type(mant, F32)
    e = lax.add(
        1.0, lax.convert_element_type(lax.sub(lax.bitcast_convert_type(emm0, np.int32), _full(x, 0x7F, np.int32)), F32)
    )
    mask = lax.lt(t, 0.707106781186547524)
    t1 = lax.select(mask, t, _full(x, 0.0))
    t = lax.sub(t, 1.0)
    e = lax.sub(e, lax.select(mask, _full(x, 1.0), _full(x, 0.0)))
    t = lax.add(t, t1)
    x2 = lax.mul(t, t)
    x3 = lax.mul(x2, t)
    p = _LOG_P
    y = _madd(t, p[0], p[1])
    y1 = _madd(t, p[3], p[4])
    y2 = _madd(t, p[6], p[7])
    y = _madd(y, t, p[2])
    y1 = _madd(y1, t, p[5])
    y2 = _madd(y2, t, p[8])
    y = _madd(y, x3, y1)
    y = _madd(y, x3, y2)
    y = lax.add(lax.mul(y, x3), lax.mul(-2.12194440e-4, e))
    t = lax.sub(t, lax.mul(0.5, x2))
    t = lax.add(t, y)
    t = lax.add(t, lax.mul(0.693359375, e))
    t = lax.select(is_inf, _full(x, np.inf), t)
    t = lax.select(invalid, _full(x, np.nan), t)
    return lax.select(is_zero, _full(x, -np.inf), t)


_LOG1P_NUM = (
    4.5270000862445199635215e-5,
    4.9854102823193375972212e-1,
    6.5787325942061044846969e0,
    2.9911919328553073277375e1,
    6.0949667980987787057556e1,
    5.7112963590585538103336e1,
    2.0039553499201281259648e1,
)
_LOG1P_DEN = (
    1.0,
    1.5062909083469192043167e1,
    8.3047565967967209469434e1,
    2.2176239823732856465394e2,
    3.0909872225312059774938e2,
    2.1642788614495947685003e2,
    6.0118660497603843919306e1,
)


def xla_log1p_f32(x):
    """XLA:CPU's float32 log1p: a Cephes rational for |x| < sqrt(2) - 1, else log(1 + x)."""
    large = xla_log_f32(lax.add(x, 1.0))
    x2 = lax.mul(x, x)

    def horner(cs):
        r = _full(x, cs[0])
        for c in cs[1:]:
            r = _madd(r, x, c)
        return r

    s = lax.div(horner(_LOG1P_NUM), horner(_LOG1P_DEN))
    prod = lax.mul(lax.mul(x, x2), s)
    s = lax.add(lax.mul(-0.5, x2), prod)
    s = lax.add(x, s)
    # XLA fuses -0.5 * x2 (not prod) into an FMA here. A second use of prod keeps LLVM
    # from fusing prod instead: for a NaN prod, s is NaN either way.
    s = lax.select(lax.ne(prod, prod), prod, s)
    small = lax.lt(lax.abs(x), 0.41421356237309504880)
    return lax.select(small, s, large)


_ERF_ALPHA = (
    0.00022905065861350646,
    0.0034082910107109506,
    0.050955695062380861,
    0.18520832239976145,
    1.128379143519084,
)
_ERF_BETA = (
    -1.1791602954361697e-7,
    0.000023547966471313185,
    0.0010179625278914885,
    0.014070470171167667,
    0.11098505178285362,
    0.49746925110067538,
    1.0,
)


def xla_erf_f32(x):
    """XLA:CPU's float32 erf (Eigen's generic_fast_erf_float)."""
    x2 = lax.mul(x, x)
    p = _madd(x2, _ERF_ALPHA[0], _ERF_ALPHA[1])
    for c in _ERF_ALPHA[2:]:
        p = _madd(x2, p, c)
    p = lax.mul(x, p)
    q = _madd(x2, _ERF_BETA[0], _ERF_BETA[1])
    for c in _ERF_BETA[2:]:
        q = _madd(x2, q, c)
    clamp = lax.le(3.832506856900711, lax.abs(x))
    return lax.select(clamp, lax.sign(x), lax.div(p, q))


_ERFINV_LT5 = (
    2.81022636e-08,
    3.43273939e-07,
    -3.5233877e-06,
    -4.39150654e-06,
    0.00021858087,
    -0.00125372503,
    -0.00417768164,
    0.246640727,
    1.50140941,
)
_ERFINV_GT5 = (
    -0.000200214257,
    0.000100950558,
    0.00134934322,
    -0.00367342844,
    0.00573950773,
    -0.0076224613,
    0.00943887047,
    1.00167406,
    2.83297682,
)


def xla_erf_inv_f32(x):
    """The float32 erf_inv XLA gets from chlo.erf_inv (Giles' polynomial on XLA's log1p)."""
    w = lax.neg(xla_log1p_f32(lax.mul(x, lax.neg(x))))
    lt = lax.lt(w, 5.0)
    w = lax.select(lt, lax.sub(w, 2.5), lax.sub(lax.sqrt(w), 3.0))
    p = lax.select(lt, _full(x, _ERFINV_LT5[0]), _full(x, _ERFINV_GT5[0]))
    for a, b in zip(_ERFINV_LT5[1:], _ERFINV_GT5[1:]):
        p = lax.add(lax.select(lt, _full(x, a), _full(x, b)), lax.mul(p, w))
    r = lax.mul(p, x)
    return lax.select(lax.eq(lax.abs(x), 1.0), lax.mul(x, np.inf), r)


XLA_F32 = {"log": xla_log_f32, "log1p": xla_log1p_f32, "erf": xla_erf_f32, "erf_inv": xla_erf_inv_f32}


def exact_value_primitive_gradient(name, fn, x):
    """fn(x)'s value with the primitive `name`'s derivative.

    The emulations go through bitcasts (no derivative) and polynomial fits, so their own
    derivative is wrong; this returns p + stop_gradient(e - p) with p the primitive's
    result and e the emulation's. As e and p are an ulp or two apart, e - p and then
    p + (e - p) are exact (Sterbenz); where they are not (infinities, signed zeros),
    the emulated value is returned as is, with a zero derivative.
    """
    e = lax.stop_gradient(fn(x))
    p = getattr(lax, name)(x)
    y = lax.add(p, lax.sub(e, lax.stop_gradient(p)))
    same = lax.eq(lax.bitcast_convert_type(lax.stop_gradient(y), U32), lax.bitcast_convert_type(e, U32))
    return lax.select(same, y, e)
