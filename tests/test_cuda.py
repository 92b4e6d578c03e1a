"""CUDA: the device, residency, asynchronous dispatch, transfers and errors on an NVIDIA GPU.

Deselected by default; `pytest -m cuda` runs these plus the portable suites and test_random.py
with IRJAX_PLATFORMS=cuda (tests/conftest.py). scripts/gpu_check.sh runs it on the GPU machine.
IRJAX_PLATFORMS=vulkan -m cuda runs the same code on Vulkan (how the script's plumbing is tried
without a GPU).
"""

from __future__ import annotations

import os

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.runtime import device as rtdev
from test_devices import (
    check_async_dispatch,
    check_error_surfaces,
    check_put_and_get_copy_once,
    check_resident_artifact,
    check_resident_calls,
)

pytestmark = pytest.mark.cuda
PLATFORM = (os.environ.get("IRJAX_PLATFORMS") or "cuda").split(",")[0].strip()


@pytest.fixture(scope="module")
def gpu():
    if PLATFORM not in ("cuda", "vulkan"):
        pytest.skip(f"IRJAX_PLATFORMS={PLATFORM!r}: these tests run on cuda (or vulkan, as a dry run)")
    try:
        return irjax.devices(PLATFORM)[0]
    except RuntimeError as e:
        pytest.skip(f"no {PLATFORM} device: {e}")


def test_device(gpu):
    assert irjax.default_backend() == PLATFORM and irjax.devices()[0] is gpu
    assert gpu.asynchronous
    if PLATFORM == "cuda":
        assert repr(gpu) == "CudaDevice(id=0)" and gpu.target == "cuda"
        accepted = {t for _, t, _ in rtdev.CUDA_TARGETS}
        assert gpu.arch in accepted or gpu.arch == os.environ.get("IRJAX_CUDA_TARGET"), gpu.arch
        assert gpu.compile_flags == [f"--iree-cuda-target={gpu.arch}"]


def test_resident_calls(gpu):
    check_resident_calls(gpu)


def test_put_and_get_copy_once(gpu):
    check_put_and_get_copy_once(gpu)


def test_resident_artifact(gpu):
    check_resident_artifact(gpu)


def test_async_dispatch(gpu):
    check_async_dispatch(gpu, 2048 if PLATFORM == "cuda" else 192)


def test_error_surfaces_at_the_next_wait(gpu):
    check_error_surfaces(PLATFORM)


def test_large_transfers_round_trip(gpu):
    rng = np.random.default_rng(0)
    for v in (
        rng.standard_normal((2048, 2048)).astype(np.float32),  # 16 MiB
        rng.integers(-(2**31), 2**31 - 1, 100_003, dtype=np.int32),
        (rng.random(4097) < 0.5),
        np.zeros((0, 5), np.float32),
    ):
        x = irjax.device_put(v, gpu)
        y = x + jnp.zeros((), x.dtype) if v.dtype != np.bool_ else x & True
        np.testing.assert_array_equal(np.asarray(y), v)


def test_mlp_step_matches_cpu(gpu):
    """The issue's MLP value_and_grad step, on the GPU and on the CPU, from the same inputs."""
    rng = np.random.default_rng(0)
    sizes = [784, 512, 512, 10]
    params = [
        (rng.standard_normal((m, n)).astype(np.float32) / np.sqrt(m), np.zeros(n, np.float32))
        for m, n in zip(sizes[:-1], sizes[1:])
    ]
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 128)]

    def loss(p, x, y):
        h = x
        for w, b in p[:-1]:
            h = jnp.tanh(h @ w + b)
        w, b = p[-1]
        logits = h @ w + b
        return -jnp.mean(jnp.sum(y * (logits - jax_logsumexp(logits)), axis=-1))

    def jax_logsumexp(z):
        m = jnp.max(z, axis=-1, keepdims=True)
        return m + jnp.log(jnp.sum(jnp.exp(z - m), axis=-1, keepdims=True))

    step = irjax.jit(irjax.value_and_grad(loss))
    results = {}
    for dev in (gpu, irjax.devices("cpu")[0]):
        args = irjax.device_put((params, x, y), dev)
        v, g = step(*args)
        assert v.devices() == {dev}
        results[dev.platform] = (np.asarray(v), [np.asarray(t) for t in irjax.tree_util.tree_leaves(g)])
    (vg, gg), (vc, gc) = results[PLATFORM], results["cpu"]
    np.testing.assert_allclose(vg, vc, rtol=1e-4)
    for a, b in zip(gg, gc):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-5)
