"""irjax.numpy.linalg: linear algebra built from irjax.numpy/lax ops (there is no LAPACK).

Factorizations are composite algorithms on whole (..., n, n) batches, one masked step per
`lax.fori_loop` iteration (static bounds, so they lower to scans and reverse mode works):

- LU with partial pivoting (det, slogdet, solve, inv), column-by-column Cholesky,
- Householder QR,
- cyclic Jacobi in round-robin order for eigh (two-sided) and svd (one-sided, then a QR of
  the rotated columns gives a complete, orthonormal U even for zero singular values).

Complex (Hermitian) inputs take conjugate transposes throughout: a phase first makes each
Jacobi pair's off-diagonal real, and QR uses LAPACK's reflectors (R's diagonal is real).

The IR is O(1) in the matrix size; the work is O(n^3) per LU/QR and per Jacobi round (n - 1
rounds a sweep, 4 + ceil(log2 n) sweeps), so these are for small and medium matrices: tested up
to n = 64 (float32 accuracy; larger n works but eigh/svd cost grows as n^4 log n). Gradients
come from differentiating through the loops. Each function runs as one jitted program. Row
picks, permutations and diagonals are masks and one-hot matmuls (no gather, scatter or sort):
those compile and transpose everywhere, batched and under vmap.
"""

from __future__ import annotations

import functools
import operator
from typing import NamedTuple

import numpy as np
from irjax import lax
from irjax.api import jit
from irjax.callbacks import pure_callback
from irjax.dtypes import issubdtype, result_type
from irjax.stages import ShapeDtypeStruct

from ._util import asarray_any
from .creation import arange, asarray, eye, ones, ones_like, tril, triu, zeros, zeros_like
from .dtype_info import finfo
from .indexing import where
from .padding import pad
from .products import cross as _cross
from .products import matmul as _matmul
from .products import outer as _outer
from .products import tensordot as _tensordot
from .products import vecdot as _vecdot
from .reductions import any as _any
from .reductions import argmax, prod
from .reductions import max as _max
from .reductions import min as _min
from .reductions import sum as _sum
from .shape import broadcast_shapes, broadcast_to, concatenate, expand_dims, moveaxis, squeeze, swapaxes
from .shape import diagonal as _diagonal
from .shape import trace as _trace
from .ufuncs import abs as _abs
from .ufuncs import angle, conj, cos, exp2, floor, imag, isfinite, log, log2, maximum, real, sin, sqrt
from .ufuncs import sign as _sign


class EighResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class EigResult(NamedTuple):
    eigenvalues: object
    eigenvectors: object


class QRResult(NamedTuple):
    Q: object
    R: object


class SlogdetResult(NamedTuple):
    sign: object
    logabsdet: object


class SVDResult(NamedTuple):
    U: object
    S: object
    Vh: object


def _sweeps(n):
    """Jacobi sweeps for size n: 4 + ceil(log2 n) (10 at n = 64, which needs 7 in float32)."""
    return 4 + int(np.ceil(np.log2(max(n, 2))))


# ---- helpers -----------------------------------------------------------------------------------


def _float(a):
    a = asarray_any(a)
    return a if issubdtype(a.dtype, np.inexact) else a.astype(np.float32)


def _matrix(a, name, square=False):
    a = _float(a)
    if a.ndim < 2:
        raise ValueError(f"{name}: input must have at least 2 dimensions, got shape {a.shape}")
    if square and a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name}: input must be a batch of square matrices (..., n, n), got shape {a.shape}")
    return a


def _mT(x):
    return swapaxes(x, -1, -2)


def _mH(x):
    """Conjugate transpose (the transpose for real x)."""
    return conj(swapaxes(x, -1, -2))


def _real_dtype(dt):
    return finfo(dt).dtype


def _col(x, k):
    """x[..., :, k] for a traced k."""
    return _sum(where(arange(x.shape[-1]) == k, x, 0), axis=-1)


def _row(x, k):
    """x[..., k, :] for a traced k."""
    return _sum(where((arange(x.shape[-2]) == k)[:, None], x, 0), axis=-2)


def _diag(x):
    """x[..., j, j] for j < n of (..., m, n), m >= n (a mask, not a gather: batched gathers'
    transposes do not compile in IREE yet)."""
    m, n = x.shape[-2:]
    return _sum(where(arange(m)[:, None] == arange(n), x, 0), axis=-2)


def _sorting(keys):
    """One-hot (..., n, n) M with M[j, r] = 1 where keys[j] has rank r (ascending, stable), so
    x @ M sorts the columns of x. Ranks by counting (n^2 compares; no sort op, so vmap and
    reverse mode see only selects and matmuls)."""
    n = keys.shape[-1]
    i = arange(n)
    ki, kj = keys[..., :, None], keys[..., None, :]  # [i, j]
    before = (ki < kj) | ((ki == kj) & (i[:, None] < i[None, :]))  # i sorts before j
    rank = _sum(before, axis=-2)  # (..., n): rank of j
    # a select, not a bool->float convert: IREE fuses that into the matmul and fails (i1 vs i8)
    return where(rank[..., :, None] == i, ones((), keys.dtype), 0)


def _eye_like(x, n=None):
    n = x.shape[-1] if n is None else n
    return broadcast_to(eye(n, dtype=x.dtype), x.shape[:-2] + (n, n))


# ---- LU, triangular solves, det, inv, solve -----------------------------------------------------


@jit
def _lu(a):
    """Partial-pivoted LU of (..., n, n): (lu, perm, parity) with a[perm] = L @ U (L unit lower,
    both packed in lu, as LAPACK's getrf) and parity = det of the permutation."""
    n = a.shape[-1]
    idx = arange(n)
    batch = a.shape[:-2]
    if n == 0:  # nothing to factor (the loop body would still be traced, on empty axes)
        return a, broadcast_to(idx, batch + (0,)), ones(batch, a.dtype)

    def step(k, carry):
        lu, perm, parity = carry
        p = argmax(where(idx >= k, _abs(_col(lu, k)), -1), axis=-1)
        is_k, is_p = (idx == k), (idx == p[..., None])
        rk, rp = _row(lu, k), _sum(where(is_p[..., None], lu, 0), axis=-2)
        lu = where(is_k[:, None], rp[..., None, :], where(is_p[..., None], rk[..., None, :], lu))
        pk, pp = _sum(where(is_k, perm, 0), -1), _sum(where(is_p, perm, 0), -1)
        perm = where(is_k, pp[..., None], where(is_p, pk[..., None], perm))
        parity = where(p == k, parity, -parity)
        piv = _sum(where(is_k, rp, 0), -1)
        piv = where(piv == 0, 1, piv)  # a zero pivot column: nothing to eliminate
        below = idx > k
        l = where(below, _col(lu, k) / piv[..., None], 0)
        lu = lu - l[..., :, None] * where(below, rp, 0)[..., None, :]
        lu = where(below[:, None] & is_k, l[..., :, None], lu)
        return lu, perm, parity

    init = (a, broadcast_to(idx, batch + (n,)), ones(batch, a.dtype))
    return lax.fori_loop(0, n, step, init)


@functools.partial(jit, static_argnums=(2, 3))
def _tri_solve(t, b, lower, unit):
    """Solve t x = b for triangular t (..., n, n) (the other triangle is ignored), b (..., n, m)."""
    n = t.shape[-1]
    idx = arange(n)

    def step(i, x):
        k = i if lower else n - 1 - i
        tk = _row(t, k)
        tk = where(idx < k if lower else idx > k, tk, 0)
        xk = _row(b, k) - _matmul(tk[..., None, :], x)[..., 0, :]
        if not unit:
            xk = xk / _sum(where(idx == k, _row(t, k), 0), -1)[..., None]
        return where((idx == k)[:, None], xk[..., None, :], x)

    return lax.fori_loop(0, n, step, zeros_like(b))


def _lu_solve(lu, perm, b):
    onehot = where(perm[..., :, None] == arange(perm.shape[-1]), ones((), b.dtype), 0)
    b = _matmul(onehot, b)  # b[perm] (see _sorting for the select)
    y = _tri_solve(lu, b, lower=True, unit=True)
    return _tri_solve(lu, y, lower=False, unit=False)


def det(a):
    """Determinant of (..., n, n), via LU with partial pivoting."""
    return _det(_matrix(a, "det", square=True))


def _unit_complex(a):
    """(..., 1, 1) complex: IREE 3.13 miscompiles (det gave 0) or fails to compile the loops'
    fused real/complex elementwise ops on such tensors, so these get closed forms."""
    return a.shape[-2:] == (1, 1) and a.dtype.kind == "c"


def _phase(z):
    t = angle(z)  # 0 for z = 0; built from real parts (a complex select fails here too)
    return lax.complex(cos(t), sin(t))


@jit
def _det(a):
    if _unit_complex(a):
        return a[..., 0, 0]
    lu, _, parity = _lu(a)
    return parity * prod(_diag(lu), axis=-1)


def slogdet(a, *, method=None):
    """(sign, log|det|) of (..., n, n), via LU with partial pivoting."""
    a = _matrix(a, "slogdet", square=True)
    if method not in (None, "lu"):
        raise ValueError(f"slogdet: unknown method {method!r} (only 'lu' is supported)")
    return SlogdetResult(*_slogdet(a))


@jit
def _slogdet(a):
    if _unit_complex(a):
        z = a[..., 0, 0]
        r = _abs(z)
        return _phase(z) * (r != 0).astype(r.dtype).astype(z.dtype), log(r)
    lu, _, parity = _lu(a)
    d = _diag(lu)
    return parity * prod(_sign(d), axis=-1), _sum(log(_abs(d)), axis=-1)


def solve(a, b):
    """x with a @ x == b; b is (..., n) only when 1-D, else (..., n, m) (NumPy 2 / JAX)."""
    a = _matrix(a, "solve", square=True)
    b = _float(b)
    dt = result_type(a, b)
    a, b = a.astype(dt), b.astype(dt)
    n = a.shape[-1]
    vec = b.ndim == 1
    if vec:
        b = b[:, None]
    if b.ndim < 1 or b.shape[-2] != n:
        raise ValueError(f"solve: incompatible shapes a {a.shape} and b {b.shape[:-1] if vec else b.shape}")
    batch = broadcast_shapes(a.shape[:-2], b.shape[:-2])
    x = _solve(broadcast_to(a, batch + a.shape[-2:]), broadcast_to(b, batch + b.shape[-2:]))
    return x[..., 0] if vec else x


@jit
def _solve(a, b):
    lu, perm, _ = _lu(a)
    return _lu_solve(lu, perm, b)


def inv(a):
    """Inverse of (..., n, n) (solve against the identity)."""
    return _inv(_matrix(a, "inv", square=True))


@jit
def _inv(a):
    return _solve(a, _eye_like(a))


def matrix_power(a, n):
    """a @ a @ ... (n times) by repeated squaring; n < 0 inverts first, n == 0 gives I. Integer
    matrices stay integers for n >= 0 (as JAX)."""
    try:
        n = operator.index(n)
    except TypeError as e:
        raise TypeError(f"matrix_power: exponent must be an integer, got {n!r}") from e
    raw = asarray_any(a)
    if n >= 0 and raw.dtype.kind in "iu":
        _matrix(raw, "matrix_power", square=True)  # (its checks)
        return _matrix_power(raw, n)
    return _matrix_power(_matrix(raw, "matrix_power", square=True), n)


@functools.partial(jit, static_argnums=(1,))
def _matrix_power(a, n):
    if n == 0:
        return _eye_like(a)
    if n < 0:
        a, n = inv(a), -n
    out = None
    while n:
        if n & 1:
            out = a if out is None else _matmul(out, a)
        n >>= 1
        if n:
            a = _matmul(a, a)
    return out


def cholesky(a, *, upper=False, symmetrize_input=True):
    """Lower (or upper) Cholesky factor of (..., n, n) SPD matrices; NaN where not positive definite."""
    return _cholesky(_matrix(a, "cholesky", square=True), bool(upper), bool(symmetrize_input))


@functools.partial(jit, static_argnums=(1, 2))
def _cholesky(a, upper, symmetrize_input):
    if symmetrize_input:
        a = (a + _mH(a)) / 2
    n = a.shape[-1]
    idx = arange(n)

    def step(j, fac):
        # a = L L^H: the diagonal is real (the real part of a Hermitian matrix's diagonal)
        c = _col(a, j) - _sum(fac * conj(_row(fac, j))[..., None, :], axis=-1)
        d = sqrt(real(_sum(where(idx == j, c, 0), -1)))
        col = where(idx >= j, c / d[..., None], 0)
        return fac + where(idx == j, col[..., :, None], 0)

    fac = lax.fori_loop(0, n, step, zeros_like(a))
    # not positive definite: the whole factor is NaN (its zero triangle stays), as LAPACK's
    # failed potrf reads in JAX, not the columns computed before the failing pivot
    ok = ~_any(~isfinite(_diag(fac)), axis=-1)[..., None, None]
    fac = where(ok | (idx[:, None] < idx[None, :]), fac, np.nan)
    return _mH(fac) if upper else fac


# ---- QR -------------------------------------------------------------------------------------------


def _householder(a):
    """Householder QR of (..., m, n): Q (..., m, m) and R (..., m, n), LAPACK's sign convention."""
    m, n = a.shape[-2:]
    rows = arange(m)

    def step(k, carry):
        q, r = carry
        x = where(rows >= k, _col(r, k), 0)
        xk = _sum(where(rows == k, x, 0), -1)
        tail = _sum(where(rows > k, x * x, 0), -1)
        reflect = tail > 0  # else H = I, as LAPACK
        nx = sqrt(where(reflect, xk * xk + tail, 1))
        alpha = -where(xk < 0, -1, 1) * nx
        v = where(reflect[..., None], x - alpha[..., None] * (rows == k), 0)
        w = v / where(reflect, _sum(v * v, -1), 1)[..., None] * 2
        r = r - w[..., :, None] * _matmul(v[..., None, :], r)
        q = q - _matmul(q, v[..., :, None]) * w[..., None, :]
        return q, r

    def step_complex(k, carry):
        # LAPACK's zlarfg: H = I - c u u^H with H x = beta e_k, beta real (so R's diagonal is
        # real), u = x - beta e_k and c = 1 / (beta (beta - x_k)); then Q <- Q H^H
        q, r = carry
        x = where(rows >= k, _col(r, k), 0)
        xk = _sum(where(rows == k, x, 0), -1)
        ax2 = real(x * conj(x))
        tail = _sum(where(rows > k, ax2, 0), -1)
        reflect = (tail > 0) | (imag(xk) != 0)  # else H = I, as LAPACK
        nx = sqrt(where(reflect, real(xk) ** 2 + imag(xk) ** 2 + tail, 1))
        beta = -where(real(xk) < 0, -1, 1) * nx
        u = where(reflect[..., None], x - beta[..., None] * (rows == k), 0)
        c = where(reflect, 1 / where(reflect, beta * (beta - xk), 1), 0)
        r = r - (c[..., None] * u)[..., :, None] * _matmul(conj(u)[..., None, :], r)
        q = q - _matmul(q, u[..., :, None]) * (conj(c)[..., None] * conj(u))[..., None, :]
        return q, r

    q0 = _eye_like(a, m)
    body = step_complex if a.dtype.kind == "c" else step
    q, r = lax.fori_loop(0, min(m, n), body, (q0, a))
    r = triu(r)
    return q, r


def qr(a, mode="reduced"):
    """QR decomposition of (..., m, n); mode 'reduced', 'complete' or 'r' (R only)."""
    a = _matrix(a, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: unsupported mode {mode!r}; expected 'reduced', 'complete' or 'r'")
    return _qr(a, mode) if mode == "r" else QRResult(*_qr(a, mode))


def _pow2_scale(a):
    """(..., 1, 1) power of two near max |a| (1 for zero or non-finite matrices): factoring a / scale
    keeps squared norms from overflowing on huge entries, and the division is exact."""
    big = _abs(real(a))
    if a.dtype.kind == "c":  # |z| itself may overflow
        big = maximum(big, _abs(imag(a)))
    big = _max(big, axis=(-2, -1), keepdims=True) if a.size else ones(a.shape[:-2] + (1, 1), big.dtype)
    ok = (big > 0) & isfinite(big)
    return exp2(floor(log2(where(ok, big, 1))))


@functools.partial(jit, static_argnums=(1,))
def _qr(a, mode):
    m, n = a.shape[-2:]
    if _unit_complex(a):  # LAPACK's one reflector: R = beta real, Q = a / beta (I if a is real)
        re, im = real(a), imag(a)
        reflect = im != 0
        beta = where(reflect, -where(re < 0, -1, 1) * _abs(a), re)
        safe = where(reflect, beta, 1)
        q = lax.complex(where(reflect, re / safe, 1), where(reflect, im / safe, 0))
        r = lax.complex(beta, zeros_like(beta))
        return r if mode == "r" else QRResult(q, r)
    scale = _pow2_scale(a)
    q, r = _householder(a / scale.astype(a.dtype))
    r = r * scale.astype(a.dtype)
    if mode != "complete":
        k = min(m, n)
        q, r = q[..., :, :k], r[..., :k, :]
    return r if mode == "r" else QRResult(q, r)


# ---- Jacobi: eigh, svd --------------------------------------------------------------------------


def _pairs(r, n, dtype):
    """One-hot (n/2, n) row selectors P, Q of round r of a round-robin pairing of n (even) indices
    (the circle method: n - 1 rounds pair every two indices once)."""
    h = n // 2
    i = arange(h)
    p = where(i == 0, r, (r + i) % (n - 1))
    q = where(i == 0, n - 1, (r - i + (n - 1)) % (n - 1))
    cols, one = arange(n), ones((), dtype)
    return where(p[:, None] == cols, one, 0), where(q[:, None] == cols, one, 0)  # (see _sorting)


def _rotation(app, aqq, apq):
    """(c, s) of the Jacobi rotation that zeroes apq of the symmetric [[app, apq], [apq, aqq]]:
    t = tan(theta) = e sgn(d) / (|d| + hypot(d, e)), d = aqq - app, e = 2 apq (no division by apq,
    so nothing overflows, in either direction, as apq -> 0)."""
    d, e = aqq - app, 2 * apq
    m = maximum(_abs(d), _abs(e))
    zero = m == 0
    ms = where(zero, 1, m)
    u = (d / ms) ** 2 + (e / ms) ** 2
    r = ms * sqrt(where(zero, 1, u))
    t = where(zero, 0, where(d < 0, -e, e) / (_abs(d) + r))
    c = 1 / sqrt(1 + t * t)
    return c, t * c


def _rotation_complex(app, aqq, apq):
    """(c, s) of the unitary [[c, s], [-conj(s), c]] that zeroes the complex apq of the Hermitian
    [[app, apq], [conj(apq), aqq]]: D R D^H with D = diag(1, conj(phase)) and R the real rotation
    for |apq|, so s = sin(theta) apq / |apq|, formed without the phase (whose derivative blows up
    as apq -> 0, and reverse mode through converged sweeps would amplify rounding)."""
    d, e = aqq - app, 2 * _abs(apq)
    m = maximum(_abs(d), e)
    zero = m == 0
    ms = where(zero, 1, m)
    r = ms * sqrt(where(zero, 1, (d / ms) ** 2 + (e / ms) ** 2))
    den = where(zero, 1, _abs(d) + r)
    t = where(zero, 0, e / den)  # |tan(theta)|
    c = 1 / sqrt(1 + t * t)
    s = where(zero, 0, where(d < 0, -2, 2) * c / den).astype(apq.dtype) * apq
    return c, s


def _jacobi(x, two_sided):
    """Rotate x (..., m, n) with n even by round-robin Jacobi rotations: two-sided (x symmetric,
    x -> J^T x J, diagonalizes) or one-sided (x -> x J, orthogonalizes columns). Returns (x, V)."""
    n = x.shape[-1]
    dt = x.dtype
    cplx = dt.kind == "c"

    def step(i, carry):
        x, v = carry
        p, q = _pairs(i % (n - 1), n, dt)
        if two_sided:
            px, qx = _matmul(p, x), _matmul(q, x)
            app, aqq, apq = _sum(px * p, -1), _sum(qx * q, -1), _sum(px * q, -1)
        else:
            xp, xq = _matmul(x, p.T), _matmul(x, q.T)
            app, aqq, apq = (
                _sum(conj(xp) * xp, -2),
                _sum(conj(xq) * xq, -2),
                _sum(conj(xp) * xq, -2),
            )
        if cplx:
            c, s = _rotation_complex(real(app), real(aqq), apq)
            c, s = c.astype(dt)[..., :, None], s[..., :, None]
            j = _matmul(p.T, c * p + s * q) + _matmul(q.T, c * q - conj(s) * p)
        else:
            c, s = _rotation(app, aqq, apq)
            c, s = c[..., :, None], s[..., :, None]
            j = _matmul(p.T, c * p + s * q) + _matmul(q.T, c * q - s * p)
        x = _matmul(x, j)
        if two_sided:
            x = _matmul(_mH(j), x)
        return x, _matmul(v, j)

    if n < 2:
        return x, _eye_like(x, n)
    return lax.fori_loop(0, _sweeps(n) * (n - 1), step, (x, _eye_like(x, n)))


def _pad_even(x, both):
    n = x.shape[-1]
    if n % 2 == 0 or n == 1:
        return x
    widths = [(0, 0)] * (x.ndim - 2) + [(0, 1 if both else 0), (0, 1)]
    return pad(x, widths)


def eigh(a, UPLO=None, symmetrize_input=True):
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of symmetric (..., n, n)."""
    a = _matrix(a, "eigh", square=True)
    if UPLO not in (None, "L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return EighResult(*_eigh(a, UPLO in (None, "L"), bool(symmetrize_input)))


@functools.partial(jit, static_argnums=(1, 2))
def _eigh(a, lower, symmetrize_input):
    if symmetrize_input:
        a = (a + _mH(a)) / 2
    else:
        lo = tril(a, -1) if lower else _mH(triu(a, 1))
        a = lo + _mH(lo) + real(_diag(a))[..., None] * eye(a.shape[-1], dtype=a.dtype)
    n = a.shape[-1]
    d, v = _jacobi(_pad_even(a, True), two_sided=True)
    w, v = real(_diag(d)[..., :n]), v[..., :n, :n]  # a Hermitian matrix's eigenvalues are real
    m = _sorting(w)
    w, v = _matmul(w[..., None, :], m)[..., 0, :], _matmul(v, m.astype(v.dtype))
    return w, v


def eigvalsh(a, UPLO="L", *, symmetrize_input=True):
    """Eigenvalues (ascending) of symmetric (..., n, n)."""
    return eigh(a, UPLO, symmetrize_input).eigenvalues


def _svd_tall(a, full_matrices, compute_uv):
    """SVD of (..., m, n) with m >= n: one-sided Jacobi, then QR of the rotated columns."""
    n = a.shape[-1]
    x, v = _jacobi(_pad_even(a, False), two_sided=False)
    x, v = x[..., :, :n], v[..., :n, :n]
    s = sqrt(_sum(real(conj(x) * x), axis=-2))
    m = _sorting(-s)
    s = _matmul(s[..., None, :], m)[..., 0, :]
    if not compute_uv:
        return s
    m = m.astype(a.dtype)
    x, v = _matmul(x, m), _matmul(v, m)
    q, r = _householder(x)
    # R's diagonal is real (LAPACK's reflectors), so a sign makes it the singular values
    sign = where(real(_diag(r)) < 0, -1, 1).astype(a.dtype)
    u = q[..., :, :n] * sign[..., None, :]
    if full_matrices:
        u = concatenate([u, q[..., :, n:]], axis=-1)
    return u, s, _mH(v)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition a = U @ diag(S) @ Vh of (..., m, n), S descending."""
    out = _svd(_matrix(a, "svd"), bool(full_matrices), bool(compute_uv))
    return SVDResult(*out) if compute_uv else out


@functools.partial(jit, static_argnums=(1, 2))
def _svd(a, full_matrices, compute_uv):
    m, n = a.shape[-2:]
    if _unit_complex(a):  # a = phase(a) |a| 1
        s = _abs(a[..., 0])
        return (_phase(a), s, ones_like(a)) if compute_uv else s
    scale = _pow2_scale(a)
    a = a / scale.astype(a.dtype)
    out = _svd_tall(a if m >= n else _mH(a), full_matrices, compute_uv)
    if not compute_uv:
        return out * scale[..., 0]
    u, s, vh = out
    s = s * scale[..., 0]
    return (u, s, vh) if m >= n else (_mH(vh), s, _mH(u))


def svdvals(x):
    """Singular values of (..., m, n), descending."""
    return svd(x, compute_uv=False)


def _default_rtol(a):
    return 10 * max(a.shape[-2:]) * float(finfo(a.dtype).eps)


def pinv(a, rtol=None, hermitian=False, *, rcond=None):
    """Moore-Penrose pseudo-inverse via the SVD; singular values <= rtol * max(S) are dropped
    (rcond: NumPy's older name for rtol)."""
    if rcond is not None:
        if rtol is not None:
            raise ValueError("pinv: pass rtol or rcond, not both")
        rtol = rcond
    a = _matrix(a, "pinv")
    return _pinv(a, _default_rtol(a) if rtol is None else rtol)


@jit
def _pinv(a, rtol):
    u, s, vh = _svd(a, False, True)
    cut = asarray(rtol)[..., None] * s[..., :1]
    keep = s > cut
    sinv = where(keep, 1 / where(keep, s, 1), 0)
    return _matmul(_mH(vh) * sinv[..., None, :].astype(a.dtype), _mH(u))


def matrix_rank(M, rtol=None, *, hermitian=False, tol=None):
    """Number of singular values > tol (default max(S) * max(m, n) * eps)."""
    M = _float(M)
    if M.ndim < 2:
        return _any(M != 0).astype(np.int32)
    s = svdvals(M)
    if tol is None:
        rtol = max(M.shape[-2:]) * float(finfo(M.dtype).eps) if rtol is None else rtol
        tol = asarray(rtol)[..., None] * s[..., :1]
    else:
        tol = asarray(tol)[..., None]
    return _sum(s > tol, axis=-1)


def lstsq(a, b, rcond=None, *, numpy_resid=False):
    """Least squares a @ x ~= b for 2-D a (M, N), b (M,) or (M, K): (x, resid, rank, s), by SVD."""
    a, b = _float(a), _float(b)
    if a.ndim != 2:
        raise ValueError(f"lstsq: a must be 2-D, got shape {a.shape}")
    if b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ValueError(f"lstsq: b must be ({a.shape[0]},) or ({a.shape[0]}, K), got shape {b.shape}")
    m, n = a.shape
    if rcond is None:
        rcond = float(finfo(a.dtype).eps) * max(m, n)
    x, resid, rank, s = _lstsq(a, b[:, None] if b.ndim == 1 else b, rcond)
    if numpy_resid and not (int(rank) == n and m > n):
        resid = zeros((0,), _real_dtype(a.dtype))
    return (x[:, 0] if b.ndim == 1 else x), resid, rank, s


@jit
def _lstsq(a, b, rcond):
    u, s, vh = _svd(a, False, True)
    keep = s >= rcond * s[:1] if s.shape[0] else s > 0
    sinv = where(keep, 1 / where(keep, s, 1), 0)
    x = _matmul(_mH(vh), sinv[:, None].astype(a.dtype) * _matmul(_mH(u), b))
    r = b - _matmul(a, x)
    return x, _sum(real(conj(r) * r), axis=0), _sum(keep).astype(np.int32), s


def cond(x, p=None):
    """Condition number: S[0] / S[-1] for p None/2, S[-1] / S[0] for -2, else norm(x) * norm(inv(x))."""
    x = _matrix(x, "cond")
    if p in (None, 2, -2):
        s = svdvals(x)
        r = s[..., 0] / s[..., -1]
        return r if p != -2 else 1 / r
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))


# ---- norms and small wrappers ---------------------------------------------------------------------


def _vector_norm(x, ord, axis, keepdims):
    ax = _abs(x)
    if ord is None or ord == 2:
        return sqrt(_sum(x * x, axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return _max(ax, axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return _min(ax, axis=axis, keepdims=keepdims)
    if ord == 0:
        return _sum(x != 0, axis=axis, keepdims=keepdims).astype(x.dtype)
    if ord == 1:
        return _sum(ax, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid order {ord!r} for vector norm.")
    p = asarray(ord, x.dtype)
    return _sum(ax**p, axis=axis, keepdims=keepdims) ** (1 / p)


def _matrix_norm(x, ord, axes, keepdims):
    r, c = axes
    if ord in (None, "fro", "f"):
        return sqrt(_sum(x * x, axis=axes, keepdims=keepdims))
    if ord in (1, -1, np.inf, -np.inf):
        red = _max if ord in (1, np.inf) else _min
        inner, outer = (r, c) if ord in (1, -1) else (c, r)
        out = red(_sum(_abs(x), axis=inner, keepdims=True), axis=outer, keepdims=True)
    elif ord in (2, -2, "nuc"):
        s = svdvals(moveaxis(x, (r, c), (-2, -1)))
        s = {2: s[..., 0], -2: s[..., -1]}.get(ord) if ord != "nuc" else _sum(s, axis=-1)
        out = expand_dims(s, tuple(sorted((r, c))))
    else:
        raise ValueError(f"Invalid order {ord!r} for matrix norm.")
    return out if keepdims else squeeze(out, axis=(r, c))


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm, as numpy.linalg.norm."""
    x = _float(x)
    if x.dtype.kind == "c":
        # every norm but the matrix 2-norm and nuclear norm (from the complex SVD) is the same
        # norm of |x|
        spectral = ord in (2, -2, "nuc") and (x.ndim == 2 if axis is None else not isinstance(axis, (int, np.integer)))
        if not spectral:
            x = _abs(x)
    if axis is None:
        if ord is None:
            return _norm(x, None, tuple(range(x.ndim)), bool(keepdims))
        if x.ndim not in (1, 2):
            raise ValueError("Improper number of dimensions to norm.")
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = tuple(operator.index(a) % x.ndim if -x.ndim <= a < x.ndim else _bad_axis(a, x.ndim) for a in axes)
    if len(axes) == 2 and axes[0] == axes[1]:
        raise ValueError("Duplicate axes given.")
    if len(axes) == 1:
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order {ord!r} for vectors.")
    elif len(axes) == 2:
        if ord not in (None, "fro", "f", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
            raise ValueError(f"Invalid norm order {ord!r} for matrices.")
    else:
        raise ValueError("Improper number of dimensions to norm.")
    return _norm(x, ord, axes, bool(keepdims))


@functools.partial(jit, static_argnums=(1, 2, 3))
def _norm(x, ord, axes, keepdims):
    if ord is None:
        return sqrt(_sum(x * x, axis=axes, keepdims=keepdims))
    if len(axes) == 1:
        return _vector_norm(x, ord, axes, keepdims)
    return _matrix_norm(x, ord, axes, keepdims)


def _bad_axis(a, ndim):
    raise ValueError(f"axis {a} is out of bounds for array of dimension {ndim}")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """Array API vector norm: axis None means over all elements."""
    x = _float(x)
    if x.dtype.kind == "c":
        x = _abs(x)  # every vector norm is the same norm of |x| (and real)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order {ord!r} for vectors.")
    if axis is None:
        axes = tuple(range(x.ndim))
    else:  # a tuple of axes is one vector over all of them (not a matrix norm, as in norm)
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        axes = tuple(operator.index(a) % x.ndim if -x.ndim <= a < x.ndim else _bad_axis(a, x.ndim) for a in axes)
        if len(set(axes)) != len(axes):
            raise ValueError("Duplicate axes given.")
    return _vector_norm_jit(x, ord, axes, bool(keepdims))


_vector_norm_jit = jit(_vector_norm, static_argnums=(1, 2, 3))


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """Array API matrix norm over the last two axes."""
    return norm(_matrix(x, "matrix_norm"), ord, (-2, -1), keepdims)


def matrix_transpose(x, /):
    """Swap the last two axes."""
    x = asarray_any(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: input must have at least 2 dimensions, got shape {x.shape}")
    return _mT(x)


def vecdot(x1, x2, /, *, axis=-1, precision=None, preferred_element_type=None):
    """Dot product of vectors along axis (broadcasting the rest): _vecdot's rules, which keep
    the operands' dtype (uint8 stays uint8) and refuse mismatched sizes along `axis`."""
    return _vecdot(x1, x2, axis=axis, preferred_element_type=preferred_element_type)


def diagonal(x, /, *, offset=0):
    return _diagonal(x, offset, axis1=-2, axis2=-1)


def trace(x, /, *, offset=0, dtype=None):
    return _trace(x, offset, axis1=-2, axis2=-1, dtype=dtype)


def outer(x1, x2, /):
    x1, x2 = asarray_any(x1), asarray_any(x2)
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"outer: inputs must be 1-D, got shapes {x1.shape} and {x2.shape}")
    return _outer(x1, x2)


def matmul(x1, x2, /, *, precision=None, preferred_element_type=None):
    return _matmul(x1, x2, preferred_element_type=preferred_element_type)


def tensordot(x1, x2, /, *, axes=2, precision=None, preferred_element_type=None):
    return _tensordot(x1, x2, axes, preferred_element_type=preferred_element_type)


def multi_dot(arrays, *, precision=None):
    """Chained matmul of 2-D arrays (the first / last may be 1-D), multiplied left to right."""
    arrays = [asarray_any(x) for x in arrays]
    if len(arrays) < 2:
        raise ValueError("multi_dot: expecting at least two arrays.")
    for i, x in enumerate(arrays):
        want = (1, 2) if i in (0, len(arrays) - 1) else (2,)
        if x.ndim not in want:
            raise ValueError(f"multi_dot: array {i} must be {' or '.join(f'{d}-D' for d in want)}, got shape {x.shape}")
    out = arrays[0]
    for x in arrays[1:]:
        out = _matmul(out, x)
    return out


def cross(x1, x2, /, *, axis=-1):
    """The array API's cross product: both operands have size 3 along `axis` (no broadcasting of 2-vectors)."""
    x1, x2 = asarray_any(x1), asarray_any(x2)
    if x1.shape[axis] != 3 or x2.shape[axis] != 3:
        raise ValueError(
            f"Both input arrays must be (arrays of) 3-dimensional vectors, but they have {x1.shape[axis]=} and {x2.shape[axis]=}"
        )
    return _cross(x1, x2, axis=axis)


# ---- the general eigenproblem, on the host --------------------------------------------------------


def _complex_of(dt) -> np.dtype:
    return np.dtype(np.complex128) if np.dtype(dt) in (np.float64, np.complex128) else np.dtype(np.complex64)


def _host_eig(vectors: bool):
    def run(x):
        x = np.asarray(x)
        cdt = _complex_of(x.dtype)
        if not np.isfinite(x).all():  # (LAPACK's geev would fail): NaN, as JAX's CPU eig gives
            w = np.full(x.shape[:-1], complex(np.nan, np.nan), cdt)
            return (w, np.full(x.shape, complex(np.nan, np.nan), cdt)) if vectors else w
        if vectors:
            w, v = np.linalg.eig(x)
            return w.astype(cdt), v.astype(cdt)
        return np.linalg.eigvals(x).astype(cdt)

    return run


def eig(a):
    """Eigenvalues and right eigenvectors of a general square matrix (batched), complex, as
    JAX's CPU eig: LAPACK's geev (through NumPy) on the host, inside jit and vmap too, like
    JAX's own CPU implementation; not differentiable."""
    a = _matrix(a, "eig", square=True)
    cdt = _complex_of(a.dtype)
    w, v = pure_callback(
        _host_eig(True),
        (ShapeDtypeStruct(a.shape[:-1], cdt), ShapeDtypeStruct(a.shape, cdt)),
        a,
        vmap_method="expand_dims",
    )
    return EigResult(w, v)


def eigvals(a):
    """Eigenvalues of a general square matrix (batched), complex: see eig."""
    a = _matrix(a, "eigvals", square=True)
    return pure_callback(
        _host_eig(False), ShapeDtypeStruct(a.shape[:-1], _complex_of(a.dtype)), a, vmap_method="expand_dims"
    )


def tensorinv(a, ind=2):
    """The inverse of a reshaped to a square matrix: a's first `ind` axes against the rest."""
    a = asarray_any(a)
    if ind <= 0:
        raise ValueError(f"tensorinv: ind must be a positive integer, got {ind}")
    head, tail = a.shape[:ind], a.shape[ind:]
    n, m = int(np.prod(head)), int(np.prod(tail))
    if n != m:
        raise ValueError(f"tensorinv: the first {ind} axes ({n} elements) and the rest ({m}) must be the same size")
    return inv(a.reshape((n, m))).reshape(tail + head)


def tensorsolve(a, b, axes=None):
    """x with tensordot(a, x, x.ndim) == b."""
    a, b = asarray_any(a), asarray_any(b)
    if axes is not None:
        axes = [ax % a.ndim for ax in ((axes,) if isinstance(axes, int) else axes)]
        a = moveaxis(a, axes, list(range(a.ndim - len(axes), a.ndim)))
    x_shape = a.shape[b.ndim :]
    n = int(np.prod(x_shape))
    if int(np.prod(a.shape[: b.ndim])) != n:
        raise ValueError(f"tensorsolve: a of shape {a.shape} is not square for b of shape {b.shape}")
    return solve(a.reshape((n, n)), b.reshape((n,))).reshape(x_shape)
