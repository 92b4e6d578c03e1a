"""irjax.scipy.signal against jax.scipy.signal on the same inputs: values and dtypes for
every mode, complex inputs, errors, jit, grad and vmap."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.scipy import signal

jax = pytest.importorskip("jax")
import jax.scipy.signal as js  # noqa: E402

R = np.random.RandomState(0)
a = R.randn(9).astype(np.float32)
b = R.randn(4).astype(np.float32)
A = R.randn(6, 7).astype(np.float32)
B = R.randn(3, 2).astype(np.float32)
ac = (a + 1j * np.roll(a, 2)).astype(np.complex64)
bc = (b - 2j * b).astype(np.complex64)


def _check(ours, theirs, rtol=1e-5, atol=2e-5):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


@pytest.mark.slow  # ~45 eager calls per mode: about a minute on 2 shared cores
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_nd_family_matches_jax(mode):
    for name in ["convolve", "correlate", "fftconvolve"]:
        for x, y in [(a, b), (b, a), (A, B), (B, A)]:
            _check(getattr(signal, name)(x, y, mode=mode), getattr(js, name)(x, y, mode=mode))
    for name in ["convolve2d", "correlate2d"]:
        for x, y in [(A, B), (B, A), (A, A[:3, :4])]:
            _check(getattr(signal, name)(x, y, mode=mode), getattr(js, name)(x, y, mode=mode))
    _check(signal.convolve(a, b, mode=mode, method="fft"), js.convolve(a, b, mode=mode, method="fft"))


def test_one_mode_each():
    _check(signal.convolve(a, b, mode="same"), js.convolve(a, b, mode="same"))
    _check(signal.correlate(b, a, mode="valid"), js.correlate(b, a, mode="valid"))
    _check(signal.convolve2d(B, A, mode="same"), js.convolve2d(B, A, mode="same"))
    _check(signal.correlate2d(A, B, mode="full"), js.correlate2d(A, B, mode="full"))
    _check(signal.fftconvolve(A, B, mode="valid"), js.fftconvolve(A, B, mode="valid"))


def test_int_and_complex_inputs():
    ai, bi = np.arange(6), np.array([1, 2, 1])
    _check(signal.convolve(ai, bi), js.convolve(ai, bi))
    _check(signal.correlate2d(ai.reshape(2, 3), bi[None]), js.correlate2d(ai.reshape(2, 3), bi[None]))
    _check(signal.convolve(ac, bc), js.convolve(ac, bc))
    _check(signal.correlate(ac, bc, mode="same"), js.correlate(ac, bc, mode="same"))
    _check(signal.fftconvolve(ac, bc), js.fftconvolve(ac, bc))
    _check(signal.fftconvolve(A, A[:, :3], axes=1), js.fftconvolve(A, A[:, :3], axes=1))


@pytest.mark.parametrize("kind", ["linear", "constant"])
def test_detrend(kind):
    _check(signal.detrend(A, axis=0, type=kind), js.detrend(A, axis=0, type=kind))
    _check(signal.detrend(A, type=kind), js.detrend(A, type=kind))
    _check(signal.detrend(np.arange(8)), js.detrend(np.arange(8)))
    _check(signal.detrend(a, bp=[3, 5]), js.detrend(a, bp=[3, 5]))


def test_errors_match_jax():
    cases = [
        (lambda m: m.convolve(a, b, mode="bad"), ValueError, "mode must be one of"),
        (lambda m: m.convolve(a, A), ValueError, "same number of dimensions"),
        (lambda m: m.convolve(A, A.T), ValueError, "One input must be smaller"),
        (lambda m: m.convolve(a, np.zeros(0, np.float32)), ValueError, "zero-size arrays"),
        (lambda m: m.convolve(a, b, method="x"), ValueError, "expected 'auto', 'fft', or 'direct'"),
        (lambda m: m.convolve2d(a, b), ValueError, "only supports 2-dimensional inputs"),
        (lambda m: m.correlate2d(A, B, boundary="wrap"), NotImplementedError, "boundary='fill'"),
        (lambda m: m.fftconvolve(a, A), ValueError, "same dimensionality"),
        (lambda m: m.detrend(a, type="cubic"), ValueError, "Trend type must be"),
        (lambda m: m.detrend(a, bp=[20]), ValueError, "Breakpoints must be non-negative"),
    ]
    for call, exc, msg in cases:
        for mod in (signal, js):
            with pytest.raises(exc, match=msg):
                call(mod)


@irjax.jit
def _loss(x, k):
    return jnp.sum(signal.convolve(x, k, mode="same") ** 2) + jnp.sum(signal.fftconvolve(x, k) * x[0])


def _jloss(x, k):
    jnp_ = jax.numpy
    return jnp_.sum(js.convolve(x, k, mode="same") ** 2) + jnp_.sum(js.fftconvolve(x, k) * x[0])


def test_jit_grad_vmap():
    _check(_loss(a, b), _jloss(a, b), rtol=1e-4)
    gi = irjax.grad(_loss, argnums=(0, 1))(a, b)
    gj = jax.grad(_jloss, argnums=(0, 1))(a, b)
    for x, y in zip(gi, gj):
        _check(x, y, rtol=1e-4, atol=1e-4)
    xs = np.stack([a, 2 * a, a[::-1]])
    got = irjax.vmap(lambda x: signal.correlate(x, b, mode="valid"))(xs)
    _check(got, np.stack([js.correlate(x, b, mode="valid") for x in xs]))


def _check_all(ours, theirs):
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        _check(o, t, atol=1e-5)


def test_welch_csd_stft_match_jax():
    x = R.randn(2, 100).astype(np.float32)
    y = R.randn(2, 90).astype(np.float32)
    _check_all(signal.welch(x, nperseg=32), js.welch(x, nperseg=32))
    kw = dict(fs=10.0, nperseg=20, noverlap=5, nfft=33, scaling="spectrum", detrend="linear")
    _check_all(signal.welch(x, **kw), js.welch(x, **kw))
    _check_all(signal.welch(x.T, nperseg=16, axis=0), js.welch(x.T, nperseg=16, axis=0))
    _check_all(signal.csd(x, y, nperseg=16), js.csd(x, y, nperseg=16))
    _check_all(signal.welch(x, nperseg=16, average="median"), js.welch(x, nperseg=16, average="median"))
    _check_all(signal.csd(x, y, nperseg=20, average="median"), js.csd(x, y, nperseg=20, average="median"))
    _check_all(signal.stft(x, nperseg=16), js.stft(x, nperseg=16))
    kw = dict(nperseg=10, noverlap=3, return_onesided=False, boundary=None, padded=False)
    _check_all(signal.stft(x[0], **kw), js.stft(x[0], **kw))
    for mod in (signal, js):
        with pytest.raises(ValueError, match="noverlap must be less than nperseg"):
            mod.welch(x, nperseg=8, noverlap=8)
        with pytest.raises(ValueError, match="nfft must be greater than or equal to nperseg"):
            mod.stft(x, nperseg=16, nfft=8)
        with pytest.raises(ValueError, match="Unknown scaling"):
            mod.welch(x, nperseg=8, scaling="power")
