"""jit's fast path (dispatch.run_exact) skips placement only when placement would change
nothing: a new default device, or a committed argument, still decides where the call runs."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest


def test_fast_path_follows_the_default_device_and_commitment():
    f = irjax.jit(lambda a: a * 2 + 1)
    x = jnp.arange(4.0)
    cpu = irjax.devices("cpu")[0]
    for _ in range(3):  # the first calls fill the fast path's caches
        np.testing.assert_array_equal(np.asarray(f(x)), np.arange(4.0) * 2 + 1)
    assert f(x).devices() == {cpu}
    try:
        vk = irjax.devices("vulkan")[0]
    except RuntimeError as e:
        pytest.skip(f"no second device here ({e})")
    with irjax.default_device(vk):  # uncommitted x follows the new default device
        out = f(x)
        assert out.devices() == {vk}
        np.testing.assert_array_equal(np.asarray(out), np.arange(4.0) * 2 + 1)
    # committed to the CPU, it stays there whatever the default
    xc = irjax.device_put(np.arange(4.0, dtype=np.float32), cpu)
    with irjax.default_device(vk):
        assert f(xc).devices() == {cpu}
    assert f(x).devices() == {cpu}  # and back on the CPU default
