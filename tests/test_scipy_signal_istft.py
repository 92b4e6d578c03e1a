"""irjax.scipy.signal.istft against jax.scipy.signal.istft (values, dtypes, axes, one- and two-sided)
and the stft round trip under jit."""

import irjax
import irjax.scipy.signal as isg
import jax.scipy.signal as jsg
import numpy as np
import pytest

rng = np.random.default_rng(0)
X = rng.standard_normal(100).astype(np.float32)
XB = rng.standard_normal((2, 64)).astype(np.float32)


def close(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kw", [dict(nperseg=16), dict(nperseg=16, noverlap=12), dict(nperseg=16, nfft=20)])
def test_matches_jax(kw):
    z = np.asarray(jsg.stft(X, **kw)[2])
    (ti, xi), (tj, xj) = isg.istft(z, **kw), jsg.istft(z, **kw)
    close(xi, xj)
    close(ti, tj)


def test_batched_two_sided_and_axes():
    z = np.asarray(jsg.stft(XB, nperseg=16)[2])
    close(isg.istft(z, nperseg=16)[1], jsg.istft(z, nperseg=16)[1])
    zt = np.swapaxes(z, -1, -2)
    close(
        isg.istft(zt, nperseg=16, time_axis=-2, freq_axis=-1)[1],
        jsg.istft(zt, nperseg=16, time_axis=-2, freq_axis=-1)[1],
    )
    z2 = np.asarray(jsg.stft(X, nperseg=16, return_onesided=False)[2])
    close(isg.istft(z2, nperseg=16, input_onesided=False)[1], jsg.istft(z2, nperseg=16, input_onesided=False)[1])


def test_round_trip_under_jit_and_bad_input():
    rt = irjax.jit(lambda x: isg.istft(isg.stft(x, nperseg=16)[2], nperseg=16)[1])(X)
    np.testing.assert_allclose(np.asarray(rt)[:100], X, atol=1e-5)
    with pytest.raises(ValueError, match="at least 2d"):
        isg.istft(np.ones(4, np.complex64))
    with pytest.raises(ValueError, match="noverlap"):
        isg.istft(np.ones((9, 4), np.complex64), noverlap=16)
