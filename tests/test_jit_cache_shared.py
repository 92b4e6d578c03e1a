"""jit(f) made twice for the same f shares one trace cache (keyed by f and the jit options, as
JAX's), holds f only weakly, and is safe to fill from several threads."""

import gc
import threading
import weakref

import irjax
import irjax.numpy as jnp
import jax
import jax.numpy as jjnp
import numpy as np
import pytest
from irjax.api import _shared_traces
from irjax.sharding import SingleDeviceSharding


def _counted(np_mod):
    calls = []

    def f(x, k=1):
        calls.append(1)
        return np_mod.sin(x) * k

    return f, calls


def _traces(jit, mod, make_calls):
    """How many times f is traced by the given sequence of jit(...) calls."""
    f, calls = _counted(mod)
    make_calls(jit, f)
    return len(calls)


SCENARIOS = {
    "jit twice": lambda jit, f: [jit(f)(np.ones(3, np.float32)) for _ in range(2)],
    "jit twice, new shape": lambda jit, f: [jit(f)(np.ones(n, np.float32)) for n in (3, 3, 4)],
    "static vs not": lambda jit, f: [
        jit(f, static_argnums=1)(np.ones(3, np.float32), 2),
        jit(f, static_argnums=1)(np.ones(3, np.float32), 2),
        jit(f)(np.ones(3, np.float32), 2),
        jit(f, static_argnames="k")(np.ones(3, np.float32), k=2),
    ],
    "static values": lambda jit, f: [jit(f, static_argnums=1)(np.ones(3, np.float32), k) for k in (2, 3, 2)],
    "donation": lambda jit, f: [
        jit(f)(np.ones(3, np.float32)),
        jit(f, donate_argnums=0)(np.ones(3, np.float32)),
        jit(f, donate_argnums=0)(np.ones(3, np.float32)),
    ],
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_trace_counts_match_jax(name):
    got = _traces(irjax.jit, jnp, SCENARIOS[name])
    want = _traces(jax.jit, jjnp, SCENARIOS[name])
    assert got == want, (got, want)


def test_second_jit_reuses_the_first_trace_and_gives_the_same_values():
    f, calls = _counted(jnp)
    x = jnp.arange(4.0)
    a = irjax.jit(f)(x)
    b = irjax.jit(f)(x)  # a new jit object: no trace
    c = irjax.jit(f)(x, 2)  # a new tree structure: one trace
    assert len(calls) == 2
    np.testing.assert_allclose(np.asarray(a), np.sin(np.arange(4.0)), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_allclose(np.asarray(c), 2 * np.asarray(a), rtol=1e-6)


def test_options_do_not_share_wrongly():
    f, calls = _counted(jnp)
    x = jnp.arange(3.0)
    dev = irjax.devices()[0]
    s = SingleDeviceSharding(dev)
    plain = irjax.jit(f)(x, 3)
    assert float(irjax.jit(f, static_argnums=1)(x, 2)[1]) == pytest.approx(2 * np.sin(1.0), rel=1e-6)
    assert float(irjax.jit(f, static_argnums=1)(x, 3)[1]) == pytest.approx(3 * np.sin(1.0), rel=1e-6)
    n = len(calls)
    assert n == 3
    irjax.jit(f, in_shardings=s)(x, 3)  # sharded inputs: its own cache
    irjax.jit(f, device=dev)(x, 3)  # a device: its own cache
    assert len(calls) == n + 2
    irjax.jit(f, in_shardings=s)(x, 3)
    irjax.jit(f, device=dev)(x, 3)
    assert len(calls) == n + 2
    # donation: a donating jit deletes its argument, a plain one sharing f never does
    y = jnp.arange(3.0)
    irjax.jit(f, donate_argnums=0)(y, 3)
    assert y.is_deleted()
    z = jnp.arange(3.0)
    np.testing.assert_array_equal(np.asarray(irjax.jit(f)(z, 3)), np.asarray(plain))
    assert not z.is_deleted()


def test_x64_traces_separately():
    f, calls = _counted(jnp)
    assert irjax.jit(f)(1.0).dtype == np.float32
    with irjax.enable_x64():
        assert irjax.jit(f)(1.0).dtype == np.float64
    assert irjax.jit(f)(1.0).dtype == np.float32
    assert len(calls) == 2


def test_cache_holds_the_function_weakly():
    f, calls = _counted(jnp)
    irjax.jit(f)(jnp.ones(2))
    assert f in _shared_traces
    before = len(_shared_traces)
    ref = weakref.ref(f)
    del f
    gc.collect()
    assert ref() is None  # no trace, jit object or cache entry keeps f alive
    assert len(_shared_traces) <= before - 1  # (other dead functions may go in the same collection)


def test_a_live_jit_object_keeps_its_traces():
    f, calls = _counted(jnp)
    j = irjax.jit(f)
    j(jnp.ones(2))
    del f
    gc.collect()
    j(jnp.ones(2))  # j holds f, so the shared entry and its trace are still there
    assert len(calls) == 1


def test_callables_without_weak_references_still_jit():
    class Scale:
        __slots__ = ("k", "calls")

        def __init__(self, k):
            self.k, self.calls = k, []

        def __call__(self, x):
            self.calls.append(1)
            return x * self.k

    g = Scale(3.0)
    with pytest.raises(TypeError):
        weakref.ref(g)
    j = irjax.jit(g)
    assert float(j(2.0)) == 6.0 and float(j(2.0)) == 6.0
    assert len(g.calls) == 1  # its own per-object cache, as before


def test_threads_share_one_entry():
    f, calls = _counted(jnp)
    x = np.linspace(0, 1, 5, dtype=np.float32)
    start = threading.Barrier(6)
    results, errors = [None] * 6, []

    def worker(i):
        try:
            start.wait()
            results[i] = np.asarray(irjax.jit(f)(x))
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for r in results:
        np.testing.assert_allclose(r, np.sin(x), rtol=1e-6)
    assert len(_shared_traces[f]) == 1  # one options entry for f
    traced = len(calls)
    assert 1 <= traced <= 6  # racing first calls may each trace; none is lost or corrupted
    irjax.jit(f)(x)
    assert len(calls) == traced
