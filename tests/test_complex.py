"""complex64 end to end, differentially against JAX: values, dtypes and weak types of creation,
promotion, elementwise math (random and edge values), reductions, linalg, autodiff, vmap and loops.

Compiles are shared: each test traces its cases into one jitted function where it can."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import jax
import jax.numpy as jjnp
import numpy as np
import pytest
from irjax import lax

jax.config.update("jax_platforms", "cpu")

_RNG = np.random.default_rng(0)


def _cplx(*shape, scale=1.0):
    return ((_RNG.normal(size=shape) + 1j * _RNG.normal(size=shape)) * scale).astype(np.complex64)


def _leaves(x):
    if isinstance(x, (list, tuple)):
        return [v for e in x for v in _leaves(e)]
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in _leaves(x[k])]
    return [x]


def _close(got, want, rtol, atol, what=""):
    got, want = _leaves(got), _leaves(want)
    assert len(got) == len(want), what
    for i, (g, w) in enumerate(zip(got, want)):
        assert np.dtype(g.dtype) == np.dtype(w.dtype), f"{what}[{i}]: dtype {g.dtype} != JAX's {w.dtype}"
        gw, ww = bool(getattr(g, "weak_type", False)), bool(getattr(w, "weak_type", False))
        assert gw == ww, f"{what}[{i}]: weak_type {gw} != JAX's {ww}"
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol, err_msg=f"{what}[{i}]")


def _jax_in(a):
    return jjnp.asarray(a) if isinstance(a, np.ndarray) else a


def both(f, *args, rtol=2e-5, atol=1e-6, jit=True):
    """f(xp, lax, *args) with irjax (eager, and jitted when `jit`) against jax: values and dtypes."""
    want = f(jjnp, jax.lax, *[_jax_in(a) for a in args])
    _close(f(jnp, lax, *args), want, rtol, atol, "eager")
    if jit:
        _close(irjax.jit(lambda *a: f(jnp, lax, *a))(*args), want, rtol, atol, "jit")


# ---- creation and promotion ---------------------------------------------------------------------

_CREATION = {
    "array of python complex": lambda xp, lx: xp.array([1 + 2j, 3.5]),
    "array of mixed list": lambda xp, lx: xp.array([1, 2j, 3.0]),
    "asarray np.complex64": lambda xp, lx: xp.asarray(np.complex64(1 - 1j)),
    "asarray np complex128": lambda xp, lx: xp.asarray(np.array([1j, 2], np.complex128)),
    "asarray python complex (weak)": lambda xp, lx: xp.asarray(2j),
    "zeros complex64": lambda xp, lx: xp.zeros((2, 3), xp.complex64),
    "ones complex": lambda xp, lx: xp.ones(3, complex),
    "full complex fill": lambda xp, lx: xp.full(2, 1 + 1j),
    "zeros_like complex": lambda xp, lx: xp.zeros_like(xp.ones(2, xp.complex64)),
    "arange complex dtype": lambda xp, lx: xp.arange(3, dtype=xp.complex64),
    "astype complex64": lambda xp, lx: xp.arange(3.0).astype(xp.complex64),
    "astype float32 (real part)": lambda xp, lx: xp.array([1 + 2j, -3j]).astype(xp.float32),
    "astype int32 (real part)": lambda xp, lx: xp.array([1.7 + 2j, -3j]).astype(xp.int32),
    "astype bool": lambda xp, lx: xp.array([0j, 1j, 0.5]).astype(bool),
    "1j * float32": lambda xp, lx: 1j * xp.ones(2, xp.float32),
    "float32 + complex64": lambda xp, lx: xp.ones(2, xp.float32) + xp.ones(2, xp.complex64),
    "int32 + 1j (weak)": lambda xp, lx: xp.arange(2) + 1j,
    "weak float * complex64": lambda xp, lx: 2.5 * xp.ones(2, xp.complex64),
    "int8 * complex64": lambda xp, lx: xp.ones(2, xp.int8) * xp.ones(2, xp.complex64),
    "lax.complex of floats": lambda xp, lx: lx.complex(xp.arange(2.0), xp.ones(2)),
    "lax.complex of python floats": lambda xp, lx: lx.complex(1.0, 2.0),
    "lax.conj of float": lambda xp, lx: lx.conj(xp.arange(2.0)),
    "result_type": lambda xp, lx: xp.zeros((), xp.result_type(xp.float32, xp.complex64)),
    "promote_types": lambda xp, lx: xp.zeros((), xp.promote_types(xp.int16, xp.complex64)),
    "real of int": lambda xp, lx: xp.real(xp.arange(3)),
    "imag of float": lambda xp, lx: xp.imag(xp.arange(3.0)),
    "conj of float": lambda xp, lx: xp.conj(xp.arange(3.0)),
    "angle of float": lambda xp, lx: xp.angle(xp.array([-1.0, 2.0])),
    "angle of int, deg": lambda xp, lx: xp.angle(xp.array([-1, 2]), deg=True),
}


@pytest.mark.parametrize("case", sorted(_CREATION))
def test_creation_and_promotion_match_jax(case):
    both(lambda xp, lx: _CREATION[case](xp, lx), jit=False)


def test_creation_under_jit_matches_jax():
    def f(xp, lx, x):
        return [fn(xp, lx) for fn in _CREATION.values()] + [x * 1j, x + (2 - 1j), lx.complex(x, -x)]

    both(f, np.arange(3, dtype=np.float32))


# ---- elementwise math ----------------------------------------------------------------------------

_UNARY = [
    "negative", "exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "arcsin", "arccos",
    "arctan", "arcsinh", "arccosh", "arctanh", "expm1", "log1p", "exp2", "log2", "log10", "square",
    "reciprocal", "abs", "sign", "real", "imag", "conj", "conjugate", "angle", "isfinite", "isnan",
    "isinf",
]  # fmt: skip
_BINARY = ["add", "subtract", "multiply", "divide", "power", "equal", "not_equal", "less", "less_equal",
           "greater", "greater_equal", "maximum", "minimum"]  # fmt: skip


def _elementwise(xp, lx, z, w):
    out = {n: getattr(xp, n)(z) for n in _UNARY}
    out.update({n: getattr(xp, n)(z, w) for n in _BINARY})
    out.update(
        rsqrt=lx.rsqrt(z),
        logistic=lx.logistic(z),
        pow2=z**2,
        pow_m3=z**-3,
        pow_half=z**0.5,
        neg=-z,
        abs_op=abs(z),
        real_attr=z.real,
        imag_attr=z.imag,
        conj_method=z.conj(),
        round=xp.round(z * 3.3),
    )
    return out


def test_elementwise_random_values_match_jax():
    z, w = _cplx(64, scale=1.5), _cplx(64, scale=1.5)
    both(_elementwise, z, w, rtol=2e-5, atol=2e-6)


_EDGE = np.array(
    [0, -0.0, 1, -1, 1j, -1j, 1e-30 + 1e-30j, 1e30 + 1e30j, -1e30 + 3j, 3e38 + 3e38j, 2 - 1e-20j,
     1e-20 + 2j, 7 + 0j, -7 - 0j, 0.5 + 0.5j, 88 + 1j, -88 + 1j, 1 + 88j],
    np.complex64,
)  # fmt: skip


def _edge_ops(xp, lx, z, w):
    names = ["negative", "exp", "log", "sqrt", "abs", "sign", "real", "imag", "conj", "angle", "isfinite", "isnan",
             "arcsin", "arccos", "arcsinh", "arccosh", "reciprocal", "log2", "log10"]  # fmt: skip
    out = {n: getattr(xp, n)(z) for n in names}
    out.update({n: getattr(xp, n)(z, w) for n in ["add", "subtract", "multiply", "divide", "equal", "not_equal"]})
    out.update(rsqrt=lx.rsqrt(z), maximum=xp.maximum(z, w), less=xp.less(z, w))
    return out


def test_elementwise_edge_values_match_jax():
    """Where magnitudes overflow a naive formula (|z| at 3e38, z/w at 1e30) or sit on branch cuts
    (sqrt and log at -0 imaginary parts), values match JAX's."""
    z = _EDGE
    w = np.roll(_EDGE, 5)
    both(_edge_ops, z, w, rtol=1e-5, atol=1e-30, jit=True)


def test_ordering_comparisons_on_complex_raise_in_lax():
    z = jnp.ones(2, jnp.complex64)
    for op in (lax.lt, lax.ge):
        with pytest.raises(ValueError, match="does not accept dtype complex64"):
            op(z, z)
