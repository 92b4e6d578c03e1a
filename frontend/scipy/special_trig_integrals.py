"""Sine/cosine and Fresnel integrals of `jax.scipy.special` (sici, fresnel): power series near 0,
complex continued fractions (modified Lentz, fixed length) further out, as Numerical Recipes'
cisi and frenel."""

from __future__ import annotations

import math

import numpy as np

from .. import lax
from .. import numpy as jnp
from ..api import jit
from ..custom_derivatives import custom_jvp
from ._special_util import inexact

__all__ = ["fresnel", "sici"]

_EULER = 0.57721566490153286061
_SERIES_TERMS = 20
_CF_STEPS = 100
_SICI_SPLIT = 2.0
_FRESNEL_SPLIT = 1.5
_FRESNEL_FLAT = 36974.0
_HUGE = 1e30  # Lentz's starting C (the "1 / tiny" of the modified algorithm)


def _inv(re, im):
    """1 / (re + i im) as a (re, im) pair."""
    n = re * re + im * im
    return re / n, -im / n


def _mul(ar, ai, br, bi):
    return ar * br - ai * bi, ar * bi + ai * br


def _lentz(b_re, b_im, coef, step_b, n_steps):
    """h = 1/(b + a_2/(b + Δ + a_3/(...))), a_i = coef(i) real, b advancing by the real step_b;
    complex values as (re, im) pairs of real arrays (complex carries in this loop trip IREE's
    stream partitioning)."""
    d_re, d_im = _inv(b_re, b_im)

    def step(i, carry):
        br, bi, cr, ci, dr, di, hr, hi = carry
        a = coef(i.astype(br.dtype))
        br = br + step_b
        dr, di = _inv(a * dr + br, a * di + bi)
        qr, qi = _inv(cr, ci)
        cr, ci = br + a * qr, bi + a * qi
        er, ei = _mul(cr, ci, dr, di)
        hr, hi = _mul(hr, hi, er, ei)
        return br, bi, cr, ci, dr, di, hr, hi

    init = (b_re, b_im, jnp.full_like(b_re, _HUGE), jnp.zeros_like(b_re), d_re, d_im, d_re, d_im)
    out = lax.fori_loop(2, 2 + n_steps, step, init)
    return out[6], out[7]


@jit
def _sici_parts(x):
    # The continued fraction's loop comes first and everything else after it: a fused
    # dispatch feeding both the loop and later selects trips IREE's stream partitioning.
    ax = jnp.abs(x)
    xl = jnp.where((ax <= _SICI_SPLIT) | ~jnp.isfinite(ax), 2 * _SICI_SPLIT, ax)
    h_re, h_im = _lentz(jnp.ones_like(xl), xl, lambda i: -((i - 1) ** 2), 2.0, _CF_STEPS)
    ax = jnp.abs(x)
    small = ax <= _SICI_SPLIT
    xl = jnp.where(small | ~jnp.isfinite(ax), 2 * _SICI_SPLIT, ax)
    h_re, h_im = _mul(h_re, h_im, jnp.cos(xl), -jnp.sin(xl))
    si_l, ci_l = 0.5 * np.pi + h_im, -h_re
    xs = jnp.where(small, ax, 1)
    # Si = Σ (-1)^k x^(2k+1) / ((2k+1) (2k+1)!), Ci = γ + log x + Σ_{k>=1} (-1)^k x^(2k) / (2k (2k)!)
    term = xs  # (-1)^k x^(2k+1) / (2k+1)!
    si_s, ci_s = xs, jnp.zeros_like(xs)
    for k in range(1, _SERIES_TERMS):
        even = term * -xs / (2 * k)  # (-1)^k x^(2k) / (2k)!
        ci_s = ci_s + even / (2 * k)
        term = even * xs / (2 * k + 1)
        si_s = si_s + term / (2 * k + 1)
    ci_s = _EULER + jnp.log(xs) + ci_s
    si = jnp.where(small, si_s, si_l)
    ci = jnp.where(small, ci_s, ci_l)
    si = jnp.where(jnp.isinf(ax), 0.5 * np.pi, si)
    ci = jnp.where(ax == np.inf, jnp.where(x > 0, 0, np.nan), jnp.where(ax == 0, -np.inf, ci))
    ci = jnp.where(jnp.isnan(x), np.nan, ci)
    return (jnp.sign(x) * si).astype(x.dtype), ci.astype(x.dtype)


@custom_jvp
def _si(x):
    return _sici_parts(x)[0]


@custom_jvp
def _ci(x):
    return _sici_parts(x)[1]


def _sinc_like(x):
    safe = jnp.where(x == 0, 1, x)
    return jnp.where(x == 0, 1, jnp.sin(safe) / safe)


_si.defjvps(lambda g, ans, x: g * _sinc_like(x))
_ci.defjvps(lambda g, ans, x: g * jnp.cos(x) / x)


def sici(x):
    """(Si(x), Ci(x)): ∫_0^x sin t / t dt and γ + log|x| + ∫_0^|x| (cos t - 1) / t dt."""
    (x,) = inexact(x)
    return _si(x), _ci(x)


@jit
def _fresnel_parts(x):
    ax = jnp.abs(x)  # the loop first, as in _sici_parts
    xl = jnp.where((ax <= _FRESNEL_SPLIT) | ~jnp.isfinite(ax), 2 * _FRESNEL_SPLIT, ax)
    h_re, h_im = _lentz(jnp.ones_like(xl), -np.pi * xl * xl, lambda i: -(2 * i - 3) * (2 * i - 2), 4.0, _CF_STEPS)
    ax = jnp.abs(x)
    small = ax <= _FRESNEL_SPLIT
    xl = jnp.where(small | ~jnp.isfinite(ax), 2 * _FRESNEL_SPLIT, ax)
    h_re, h_im = _mul(h_re, h_im, xl, -xl)
    half = 0.5 * np.pi * xl * xl
    e_re, e_im = _mul(jnp.cos(half), jnp.sin(half), h_re, h_im)
    cs_re, cs_im = _mul(jnp.full_like(xl, 0.5), jnp.full_like(xl, 0.5), 1 - e_re, -e_im)
    xs = jnp.where(small, ax, 1)
    # C = Σ (-1)^k (π/2)^(2k) x^(4k+1) / ((4k+1) (2k)!), S likewise with odd powers of π/2
    t = (0.5 * np.pi) * xs * xs
    term = xs  # (π/2 x²)^n x / n! with the sign of (-1)^(n//2)
    c_s, s_s = xs, jnp.zeros_like(xs)
    for n in range(1, 2 * _SERIES_TERMS):
        term = term * t / n * (-1 if n % 2 == 0 else 1)
        if n % 2:
            s_s = s_s + term / (2 * n + 1)
        else:
            c_s = c_s + term / (2 * n + 1)
    c = jnp.where(small, c_s, cs_re)
    s = jnp.where(small, s_s, cs_im)
    # past 36974 float32 cannot place π x² / 2 within 2π: the limits (as Cephes)
    c = jnp.where(ax > _FRESNEL_FLAT, 0.5, c)
    s = jnp.where(ax > _FRESNEL_FLAT, 0.5, s)
    sign = jnp.sign(x)
    return (sign * s).astype(x.dtype), (sign * c).astype(x.dtype)


@custom_jvp
def _fresnel_s(x):
    return _fresnel_parts(x)[0]


@custom_jvp
def _fresnel_c(x):
    return _fresnel_parts(x)[1]


_fresnel_s.defjvps(lambda g, ans, x: g * jnp.sin(0.5 * math.pi * x * x))
_fresnel_c.defjvps(lambda g, ans, x: g * jnp.cos(0.5 * math.pi * x * x))


def fresnel(x):
    """(S(x), C(x)) = (∫_0^x sin(π t² / 2) dt, ∫_0^x cos(π t² / 2) dt)."""
    (x,) = inexact(x)
    return _fresnel_s(x), _fresnel_c(x)
