"""irjax.numpy.fft and lax.fft against JAX: values and dtypes under jit, grads, jvp and vmap.

Power-of-two lengths lower to stablehlo.fft, others to Bluestein's chirp-z; both are covered.
Each group shares one jitted function, so the file compiles a handful of modules.
"""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import lax

jax = pytest.importorskip("jax")
pytestmark = pytest.mark.slow  # ~2 min on the shared 2-core machine (FFT modules compile in 2-4 s each)
jjnp = jax.numpy

RNG = np.random.default_rng(0)
XC = (RNG.standard_normal((3, 10)) + 1j * RNG.standard_normal((3, 10))).astype(np.complex64)
XR = RNG.standard_normal((3, 8)).astype(np.float32)
X3 = (RNG.standard_normal((4, 6, 8)) + 1j * RNG.standard_normal((4, 6, 8))).astype(np.complex64)
R3 = RNG.standard_normal((4, 6, 8)).astype(np.float32)


def _close(got, want, what, rtol=2e-5):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale, err_msg=what)


def _one_axis_cases(np_):
    f = np_.fft
    xc, xr = XC, XR
    return {
        "fft": f.fft(xc),
        "fft_n16": f.fft(xc, n=16),
        "fft_n7_axis0_ortho": f.fft(xc, n=7, axis=0, norm="ortho"),
        "ifft": f.ifft(xc),
        "ifft_forward": f.ifft(xc, norm="forward"),
        "ifft_n12_ortho": f.ifft(xc, n=12, norm="ortho"),
        "rfft": f.rfft(xr),
        "rfft_n5_forward": f.rfft(xr, n=5, norm="forward"),
        "rfft_axis0": f.rfft(xr, axis=0),
        "irfft": f.irfft(xc),
        "irfft_n9": f.irfft(xc, n=9),
        "irfft_n8_ortho": f.irfft(xc, n=8, norm="ortho"),
        "hfft": f.hfft(xc),
        "hfft_n11": f.hfft(xc, n=11),
        "ihfft": f.ihfft(xr),
        "ihfft_n6": f.ihfft(xr, n=6),
        "fft_of_float": f.fft(xr),
        "rfft_of_int": f.rfft(np_.arange(6, dtype=np.int32)),
    }


def _multi_axis_cases(np_):
    f = np_.fft
    x, r = X3, R3
    return {
        "fft2": f.fft2(x),
        "fft2_s": f.fft2(x, s=(5, 4)),
        "ifft2_axes": f.ifft2(x, axes=(0, 2), norm="ortho"),
        "rfft2": f.rfft2(r),
        "irfft2": f.irfft2(x),
        "irfft2_s": f.irfft2(x, s=(6, 7)),
        "fftn": f.fftn(x),
        "fftn_axes": f.fftn(x, axes=(1,)),
        "ifftn_s": f.ifftn(x, s=(3, 8), norm="forward"),
        "rfftn": f.rfftn(r),
        "rfftn_axes": f.rfftn(r, axes=(0, 2)),
        "irfftn": f.irfftn(x),
        "irfftn_s": f.irfftn(x, s=(4, 5, 6), norm="ortho"),
    }


@pytest.mark.parametrize("cases", [_one_axis_cases, _multi_axis_cases], ids=["one_axis", "multi_axis"])
def test_fft_functions_match_jax_under_jit(cases):
    got = irjax.jit(lambda: cases(jnp))()
    want = jax.jit(lambda: cases(jjnp))()
    for k in want:
        _close(got[k], want[k], k)


def test_fft_eager_matches_jax():
    _close(jnp.fft.fft(XC[0]), jjnp.fft.fft(XC[0]), "eager fft")
    _close(jnp.fft.irfft(XC, n=8), jjnp.fft.irfft(XC, n=8), "eager irfft")


def test_fftfreq_and_shift_match_jax():
    for n, d in ((8, 1.0), (7, 0.5), (1, 2.0)):
        _close(jnp.fft.fftfreq(n, d), jjnp.fft.fftfreq(n, d), f"fftfreq({n},{d})")
        _close(jnp.fft.rfftfreq(n, d), jjnp.fft.rfftfreq(n, d), f"rfftfreq({n},{d})")
    _close(jnp.fft.fftfreq(5, dtype=jnp.float16), jjnp.fft.fftfreq(5, dtype=jjnp.float16), "fftfreq f16")
    x = np.arange(15.0, dtype=np.float32).reshape(3, 5)
    for axes in (None, 0, (1,), (0, 1)):
        _close(jnp.fft.fftshift(x, axes), jjnp.fft.fftshift(x, axes), f"fftshift {axes}")
        _close(jnp.fft.ifftshift(x, axes), jjnp.fft.ifftshift(x, axes), f"ifftshift {axes}")


def _loss(np_, r, c):
    """A real loss through every FFT kind (power-of-two and Bluestein lengths)."""
    f = np_.fft
    a = np_.sum(np_.abs(f.rfft(r, n=6)) ** 2)
    b = np_.sum(np_.real(f.fft(c * r[:, :1], n=8) * np_.arange(8)))
    g = np_.sum(f.irfft(c, n=9) * np_.arange(9.0)) + np_.sum(np_.imag(f.ifft2(c)) ** 2)
    h = np_.sum(np_.abs(f.fftn(c, axes=(0,))))
    return a + b + g + h


def test_fft_grad_matches_jax():
    c = XC[:, :5]
    got = irjax.jit(irjax.grad(lambda r, c: _loss(jnp, r, c), argnums=(0, 1)))(XR, c)
    want = jax.grad(lambda r, c: _loss(jjnp, r, c), argnums=(0, 1))(XR, c)
    _close(got[0], want[0], "grad r", 1e-4)
    _close(got[1], want[1], "grad c", 1e-4)


def test_fft_jvp_matches_jax():
    t = RNG.standard_normal(XR.shape).astype(np.float32)

    def f(np_):
        return lambda r: (np_.fft.rfft(r), np_.fft.irfft(np_.fft.fft(r), n=10))

    got = irjax.jvp(f(jnp), (XR,), (t,))
    want = jax.jvp(f(jjnp), (XR,), (t,))
    for g, w, what in zip(got[0] + got[1], want[0] + want[1], ("rfft", "irfft", "d rfft", "d irfft")):
        _close(g, w, what)


def test_fft_vmap_matches_loop():
    f = irjax.jit(lambda x: jnp.fft.fft2(x, s=(3, 4)) + jnp.fft.fft(x, axis=0, n=3).sum())
    batched = irjax.jit(irjax.vmap(lambda x: jnp.fft.fft2(x, s=(3, 4)) + jnp.fft.fft(x, axis=0, n=3).sum(), in_axes=1))
    got = np.asarray(batched(X3))
    want = np.stack([np.asarray(f(X3[:, i])) for i in range(X3.shape[1])])
    _close(got, want, "vmap")


def test_lax_fft_matches_jax():
    fns = (
        lambda lx, x, r: (  # noqa: E731
            lx.fft(x, "fft", (6, 8)),
            lx.fft(x, lx.FftType.IFFT, (8,)),
            lx.fft(r, "RFFT", (4, 6, 8)),
            lx.fft(x[..., :5], "irfft", (8,)),
        )
    )
    got = irjax.jit(lambda x, r: fns(lax, x, r))(X3, R3)
    want = jax.jit(lambda x, r: fns(jax.lax, x, r))(X3, R3)
    for g, w in zip(got, want):
        _close(g, w, "lax.fft")


def test_fft_bad_input_raises():
    with pytest.raises(ValueError, match="Invalid norm"):
        jnp.fft.fft(XC, norm="backwards")
    with pytest.raises(ValueError, match="repeated axes"):
        jnp.fft.fftn(X3, axes=(0, 0))
    with pytest.raises(ValueError, match="Invalid number of FFT data points"):
        jnp.fft.fft(XC, n=0)
    with pytest.raises(TypeError, match="real input"):
        jnp.fft.rfft(XC)
    with pytest.raises(TypeError, match="complex64"):
        lax.fft(XR, "fft", (8,))
    with pytest.raises(ValueError, match="fft_type"):
        lax.fft(XC, "dct", (10,))
    with pytest.raises(ValueError, match="last 1 axes"):
        lax.fft(XC, "fft", (8,))


def test_fft_complex128_under_x64_matches_numpy():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 10)) + 1j * rng.standard_normal((3, 10))
    r = rng.standard_normal((3, 16))
    with irjax.enable_x64():
        got = irjax.jit(lambda x, r: (jnp.fft.fft(x), jnp.fft.ifft2(x), jnp.fft.rfft(r), jnp.fft.irfft(x, n=7)))(x, r)
        with pytest.raises(NotImplementedError, match="lengths up to 2048"):
            lax.fft(np.zeros(4096, np.complex128), "fft", (4096,))
    want = (np.fft.fft(x), np.fft.ifft2(x), np.fft.rfft(r), np.fft.irfft(x, n=7))
    for g, w in zip(got, want):
        _close(g, w, "x64", 1e-12)
