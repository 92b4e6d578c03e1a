"""runtime/cpu_wait: a thread waiting for the multi-threaded CPU driver does so under SCHED_BATCH
(no wakeup preemption of the workers), with its own policy back afterwards."""

import os
import subprocess
import sys
import threading

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.runtime import cpu_wait

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="scheduling policies are Linux's")


@pytest.fixture
def enabled(monkeypatch):
    monkeypatch.setattr(cpu_wait, "_enabled", True)


def test_the_call_runs_under_sched_batch_and_the_policy_comes_back(enabled):
    assert os.sched_getscheduler(0) == os.SCHED_OTHER
    assert cpu_wait.call_batched(lambda a, b: (os.sched_getscheduler(0), a + b), 2, 3) == (os.SCHED_BATCH, 5)
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


def test_an_exception_restores_the_policy(enabled):
    def boom():
        raise RuntimeError("from the call")

    with pytest.raises(RuntimeError, match="from the call"):
        cpu_wait.call_batched(boom)
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


def test_a_thread_under_another_policy_is_left_alone(enabled):
    seen = []

    def worker():
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))  # (this thread only)
        seen.append(cpu_wait.call_batched(os.sched_getscheduler, 0))
        seen.append(os.sched_getscheduler(0))

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == [os.SCHED_BATCH, os.SCHED_BATCH]  # not reset to SCHED_OTHER behind its back
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the main thread was never touched


def test_a_sandbox_that_forbids_it_gets_a_plain_call(enabled, monkeypatch):
    def refuse(*_):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    assert cpu_wait.call_batched(lambda: 7) == 7
    assert not cpu_wait.enabled()  # asked once, not on every call


@pytest.mark.parametrize("value, want", [("0", False), ("off", False), ("1", True), ("", True)])
def test_the_environment_switch(monkeypatch, value, want):
    monkeypatch.setenv("IRJAX_CPU_BATCH_WAIT", value)
    assert cpu_wait._wanted() is want


def test_switched_off_it_calls_straight_through(monkeypatch):
    monkeypatch.setattr(cpu_wait, "_enabled", False)
    assert cpu_wait.call_batched(os.sched_getscheduler, 0) == os.SCHED_OTHER


def test_only_the_multi_threaded_drivers_calls_wait_batched(enabled, monkeypatch):
    calls = []
    real = cpu_wait.call_batched

    def spy(fn, *args):
        calls.append(fn)
        return real(fn, *args)

    monkeypatch.setattr(cpu_wait, "call_batched", spy)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((512, 256), np.float32), rng.standard_normal((256, 128), np.float32)
    big = irjax.jit(lambda x, y: jnp.tanh(x @ y))  # 33 MFLOP: the local-task driver
    np.testing.assert_allclose(np.asarray(big(a, b)), np.tanh(a @ b), rtol=2e-4, atol=2e-5)
    assert len(calls) == 1
    small = irjax.jit(lambda x: x * 2.0 + 1.0)  # the calling thread runs it: nothing to wait for
    np.testing.assert_array_equal(np.asarray(small(a)), a * 2 + 1)
    assert len(calls) == 1
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


def test_switched_off_by_the_environment_in_a_fresh_process():
    code = (
        "import os, numpy as np, irjax, irjax.numpy as jnp\n"
        "from irjax.runtime import cpu_wait\n"
        "x = np.ones((512, 256), np.float32)\n"
        "y = irjax.jit(lambda a, b: a @ b)(x, x.T)\n"
        "print(cpu_wait.enabled(), float(np.asarray(y)[0, 0]))\n"
    )
    env = dict(os.environ, IRJAX_CPU_BATCH_WAIT="0")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "256.0"]
