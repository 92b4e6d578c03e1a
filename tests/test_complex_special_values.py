"""Complex functions at infinities, NaNs and poles give C99's / the array API standard's values
(IREE's own expansions give NaN for most of these; data-apis/array-api-tests' special cases)."""

import math

import irjax.numpy as jnp
import numpy as np
import pytest

inf, nan, pi = math.inf, math.nan, math.pi

# (function, argument, expected) from the array API standard's special cases; nan matches any NaN
CASES = [
    ("cosh", complex(inf, 0.0), complex(inf, 0.0)),
    ("cosh", complex(nan, 0.0), complex(nan, 0.0)),
    ("sinh", complex(inf, 0.0), complex(inf, 0.0)),
    ("sinh", complex(nan, 0.0), complex(nan, 0.0)),
    ("tanh", complex(inf, inf), complex(1.0, 0.0)),
    ("tanh", complex(inf, nan), complex(1.0, 0.0)),
    ("tanh", complex(nan, 0.0), complex(nan, 0.0)),
    ("tanh", complex(2.0, inf), complex(nan, nan)),
    ("tanh", complex(2.0, nan), complex(nan, nan)),
    ("sin", complex(0.0, inf), complex(0.0, inf)),
    ("expm1", complex(-0.0, 0.0), complex(0.0, 0.0)),
    ("log1p", complex(-1.0, 0.0), complex(-inf, 0.0)),
    ("log1p", complex(inf, inf), complex(inf, pi / 4)),
    ("log1p", complex(-inf, inf), complex(inf, 3 * pi / 4)),
    ("acos", complex(inf, inf), complex(pi / 4, -inf)),
    ("acos", complex(-inf, inf), complex(3 * pi / 4, -inf)),
    ("acosh", complex(inf, inf), complex(inf, pi / 4)),
    ("acosh", complex(-inf, inf), complex(inf, 3 * pi / 4)),
    ("asinh", complex(inf, inf), complex(inf, pi / 4)),
    ("atanh", complex(1.0, 0.0), complex(inf, 0.0)),
]


def _same(got, want):
    for g, w in ((got.real, want.real), (got.imag, want.imag)):
        if math.isnan(w):
            if not math.isnan(g):
                return False
        elif w == 0:
            if g != 0 or math.copysign(1, g) != math.copysign(1, w):
                return False
        elif not math.isclose(g, w, rel_tol=1e-6):
            return False
    return True


@pytest.mark.parametrize("fn", sorted({c[0] for c in CASES}))
def test_special_values(fn):
    cases = [(z, w) for f, z, w in CASES if f == fn]
    got = np.asarray(getattr(jnp, fn)(jnp.asarray(np.array([z for z, _ in cases], np.complex64))))
    bad = [(z, complex(g), w) for (z, w), g in zip(cases, got) if not _same(complex(g), w)]
    assert not bad, bad


def test_finite_values_unchanged():
    rng = np.random.default_rng(0)
    z = (rng.normal(size=64) + 1j * rng.normal(size=64)).astype(np.complex64)
    names = {"acos": "arccos", "acosh": "arccosh", "asinh": "arcsinh", "atanh": "arctanh"}
    for fn in ("cosh", "sinh", "tanh", "sin", "cos", "expm1", "log1p", "acos", "acosh", "asinh", "atanh"):
        want = getattr(np, names.get(fn, fn))(z.astype(np.complex128))
        np.testing.assert_allclose(np.asarray(getattr(jnp, fn)(z)), want, rtol=2e-5, atol=2e-6, err_msg=fn)


def test_sqrt_keeps_tiny_and_huge_parts():
    # half of 1.2e-38 is subnormal (IREE flushes it); |3e38 + 3e38i| overflows float32
    z = np.array([1.1754944e-38j, 3e38 + 3e38j, 4 + 0j, -4 + 0j, 1 - 1e-30j, 3 + 4j, 1e-20 + 1e-20j], np.complex64)
    want = np.sqrt(z.astype(np.complex128)).astype(np.complex64)
    np.testing.assert_allclose(np.asarray(jnp.sqrt(z)), want, rtol=1e-6)
