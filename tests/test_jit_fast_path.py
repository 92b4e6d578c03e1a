"""jit's fast path (dispatch.run_exact) skips placement only when placement would change
nothing: a new default device, or a committed argument, still decides where the call runs."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from conftest import num_cpu_devices


def _follows_default_device_and_commitment(first, second):
    f = irjax.jit(lambda a: a * 2 + 1)
    with irjax.default_device(first):
        x = jnp.arange(4.0)
        for _ in range(3):  # the first calls fill the fast path's caches
            np.testing.assert_array_equal(np.asarray(f(x)), np.arange(4.0) * 2 + 1)
        assert f(x).devices() == {first}
        with irjax.default_device(second):  # uncommitted x follows the new default device
            out = f(x)
            assert out.devices() == {second}
            np.testing.assert_array_equal(np.asarray(out), np.arange(4.0) * 2 + 1)
        # committed to the first device, it stays there whatever the default
        xc = irjax.device_put(np.arange(4.0, dtype=np.float32), first)
        with irjax.default_device(second):
            assert f(xc).devices() == {first}
        assert f(x).devices() == {first}  # and back on the first default


def test_fast_path_follows_the_default_device_and_commitment():
    with num_cpu_devices(2) as (cpu0, cpu1):
        _follows_default_device_and_commitment(cpu0, cpu1)


@pytest.mark.vulkan
def test_fast_path_follows_a_vulkan_default_device():
    _follows_default_device_and_commitment(irjax.devices("cpu")[0], irjax.devices("vulkan")[0])


def test_fast_path_shapes_of_calls():
    """One array in and one out takes the shortest path; the others keep the general one."""
    c = jnp.arange(4.0) + 10.0  # an Array closed over: a captured operand
    cases = [
        (irjax.jit(lambda a: a * 2 + 1), (np.arange(4.0),), [np.arange(4.0) * 2 + 1]),
        (irjax.jit(lambda a: a + c), (np.arange(4.0),), [np.arange(4.0) + np.arange(4.0) + 10]),
        (irjax.jit(lambda a: (a + 1, a * 3)), (np.arange(4.0),), [np.arange(4.0) + 1, np.arange(4.0) * 3]),
        (irjax.jit(lambda a, b: a - b), (np.arange(4.0), np.ones(4)), [np.arange(4.0) - 1]),
        (irjax.jit(lambda: jnp.ones(2)), (), [np.ones(2)]),
    ]
    for f, host_args, want in cases:
        args = [jnp.asarray(a, jnp.float32) for a in host_args]
        for _ in range(3):  # the first calls fill the fast path's caches
            out = f(*args)
            got = [out] if len(want) == 1 else list(out)
            assert len(got) == len(want)
            for g, w in zip(got, want):
                assert g.dtype == np.float32 and g.shape == w.shape
                np.testing.assert_array_equal(np.asarray(g), w)
    f = irjax.jit(lambda a: a * 2 + 1)
    x = jnp.arange(4.0)
    for _ in range(3):
        f(x)
    assert f(np.arange(4.0, dtype=np.float32)).shape == (4,)  # a NumPy argument: the full path
    assert f(jnp.arange(3.0)).shape == (3,)  # a new shape: traced again
    with pytest.raises(TypeError):
        f(x, x)


def test_fast_path_still_checks_nans():
    f = irjax.jit(lambda a: jnp.log(a))
    x = jnp.asarray(np.array([-1.0, 1.0], np.float32))
    for _ in range(3):
        f(x)
    with irjax.debug_nans(True):
        with pytest.raises(FloatingPointError):
            f(x)
