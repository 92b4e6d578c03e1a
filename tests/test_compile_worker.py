"""The compile worker (runtime/compile_worker.py): a crash, abort or hang in IREE is a CompileError and
the next compile works; threads share the pool; no worker outlives its process. Anything that
kills a worker runs in a child process of the test."""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from irjax.runtime import compile_worker, compiler

# many compiles (or worker processes): run in the -m slow set (CI runs it too)
pytestmark = pytest.mark.slow

SIN = """func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {
  %c = stablehlo.constant dense<SCALE> : tensor<4xf32>
  %0 = stablehlo.multiply %a, %c : tensor<4xf32>
  %1 = stablehlo.sine %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}"""


def module(scale: float) -> str:
    return SIN.replace("SCALE", repr(float(scale)))


def run_child(code: str, timeout: float = 120, **env) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, IRJAX_DISABLE_CACHE="1", **env)
    for k in ("IRJAX_COMPILE_WORKER", "IRJAX_COMPILE_TIMEOUT", compile_worker.FAULT_ENV):
        env.pop(k, None)
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=timeout
    )
    return proc, time.monotonic() - t0


def gone_or_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"  # (a zombie of init: not ours to reap)
    except FileNotFoundError:
        return True


CRASHES = """
    import json, os
    import numpy as np
    import iree.runtime as rt
    from irjax.runtime import compile_worker, compiler

    out = {}
    for i, fault in enumerate(["abort", "segv", "kill", "exit"]):
        os.environ[compile_worker.FAULT_ENV] = fault
        try:
            compiler.compile_stablehlo(TEXTS[i], fresh=True)
            out[fault] = "no error"
        except compiler.CompileError as e:
            out[fault] = str(e)
    del os.environ[compile_worker.FAULT_ENV]

    # a real input that kills LLVM: a CPU name it does not know (compile_job refuses it before IREE
    # sees it, so it goes to the pool directly)
    try:
        compile_worker.pool().compile(TEXTS[0].encode(), "llvm-cpu", ("--iree-llvmcpu-target-cpu=notacpu",), None, "@f")
        out["llvm"] = "no error"
    except compile_worker.WorkerDied as e:
        out["llvm"] = str(e)

    vmfb = compiler.compile_stablehlo(TEXTS[4], fresh=True)
    out["after"] = rt.load_vm_flatbuffer(vmfb, driver="local-sync").main(np.arange(4, dtype=np.float32)).to_host().tolist()
    out["started"] = compile_worker.pool().started
    kids = set()
    for tid in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{tid}/children") as f:
            kids.update(int(p) for p in f.read().split())
    states = []
    for pid in kids:
        with open(f"/proc/{pid}/stat") as f:
            states.append(f.read().rsplit(")", 1)[1].split()[0])
    out["child_states"] = states
    print(json.dumps(out))
"""


def test_worker_crash_is_compile_error_and_next_compile_works():
    texts = [module(1.0 + i) for i in range(5)]  # (a new constant: a new module)
    proc, _ = run_child(f"TEXTS = {texts!r}\n" + textwrap.dedent(CRASHES))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for fault, how in [
        ("abort", "killed by SIGABRT"),
        ("segv", "killed by SIGSEGV"),
        ("kill", "killed by SIGKILL, often the system's out-of-memory killer"),
        ("exit", "exit status 3"),
    ]:
        assert how in out[fault], out[fault]
        assert "the IREE compiler crashed compiling @main" in out[fault] and "please report" in out[fault]
    assert "Unknown CPU" in out["llvm"] and "LLVM ERROR" in out["llvm"], out["llvm"]
    np.testing.assert_allclose(out["after"], np.sin(np.arange(4) * 5.0), rtol=1e-5, atol=1e-6)
    # two workers per crash (an unverified compile that crashes is rerun verified), then one for
    # the LLVM abort and a fresh one for the last compile
    assert out["started"] == 10, out
    assert "Z" not in out["child_states"] and len(out["child_states"]) == 1, out  # dead workers reaped


UNVERIFIED_CRASH = """
    import json, os
    import numpy as np
    import iree.runtime as rt
    from irjax.runtime import compile_worker, compiler

    os.environ[compile_worker.FAULT_ENV] = "segv:unverified"
    vmfb = compiler.compile_stablehlo(TEXT, fresh=True)
    got = rt.load_vm_flatbuffer(vmfb, driver="local-sync").main(np.arange(4, dtype=np.float32)).to_host()
    del os.environ[compile_worker.FAULT_ENV]
    same = vmfb == compiler.compile_stablehlo(TEXT, fresh=True)
    print(json.dumps({"got": got.tolist(), "started": compile_worker.pool().started, "same": same}))
"""


def test_unverified_compile_that_crashes_is_rerun_verified():
    """Worker compiles skip IREE's per-pass verifier; one that crashes unverified is run again
    verified (where a pass's invalid IR would be a rejection) instead of being a CompileError."""
    proc, _ = run_child(f"TEXT = {module(3.0)!r}\n" + textwrap.dedent(UNVERIFIED_CRASH))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(out["got"], np.sin(np.arange(4) * 3.0), rtol=1e-5, atol=1e-6)
    assert out["started"] == 2 and out["same"], out  # the crashed worker and its successor


def test_verified_and_unverified_compiles_are_the_same_module():
    from iree.compiler.api import Session

    session = Session()
    session.set_flags("--iree-hal-target-backends=llvm-cpu", "--iree-input-type=stablehlo")
    text = module(2.0).encode()
    fast, checked = compile_worker.iree_compile(session, text, verify=False), compile_worker.iree_compile(session, text)
    assert fast is not None and fast == checked


# IREE 3.13's FoldUnitExtentDims builds an invalid linalg.generic from this valid convolution
# (grouped, strided, dilated, one output row with a padded row unread); compiled unverified it read
# uninitialized memory. irjax's own lowering now trims the unread row (dialects/convolution.py).
GROUPED_CONV = """func.func @main(%x: tensor<2x5x6x4xf32>, %w: tensor<3x3x2x6xf32>) -> tensor<2x1x8x6xf32> {
  %0 = stablehlo.convolution(%x, %w) dim_numbers = [b, 0, 1, f]x[0, 1, i, o]->[b, 0, 1, f], window = {stride = [2, 1], pad = [[1, 0], [2, 2]], lhs_dilate = [1, 1], rhs_dilate = [2, 1]} {batch_group_count = 1 : i64, feature_group_count = 2 : i64} : (tensor<2x5x6x4xf32>, tensor<3x3x2x6xf32>) -> tensor<2x1x8x6xf32>
  return %0 : tensor<2x1x8x6xf32>
}"""


def test_invalid_ir_from_iree_tensor_passes_is_rejected_unverified_too():
    """Compiles skip the verifier only in the executables' code generation: IREE's tensor-level
    passes are verified, so their invalid IR is a rejection, not a module that reads garbage."""
    from iree.compiler.api import Session

    session = Session()
    session.set_flags("--iree-hal-target-backends=llvm-cpu", "--iree-input-type=stablehlo")
    assert compile_worker.iree_compile(session, GROUPED_CONV.encode(), verify=False) is None
    assert compile_worker.iree_compile(session, GROUPED_CONV.encode(), verify=True) is None
    with pytest.raises(compiler.CompileError, match="linalg.generic"):
        compiler.compile_stablehlo(GROUPED_CONV, fresh=True)


HANG = """
    import json, os, signal, threading, time
    from irjax.runtime import compile_worker, compiler

    t = compiler.compile_stablehlo
    out = {}
    os.environ[compile_worker.FAULT_ENV] = "hang"
    os.environ["IRJAX_COMPILE_TIMEOUT"] = "1"
    t0 = time.monotonic()
    try:
        t(TEXTS[0], fresh=True)
        out["hang"] = "no error"
    except compiler.CompileError as e:
        out["hang"] = str(e)
    out["hang_s"] = time.monotonic() - t0
    out["started_by_hang"] = compile_worker.pool().started  # a timed-out compile is not rerun
    del os.environ[compile_worker.FAULT_ENV], os.environ["IRJAX_COMPILE_TIMEOUT"]
    out["after"] = len(t(TEXTS[1], fresh=True))

    # Ctrl-C during a compile: KeyboardInterrupt here, the worker (which ignores SIGINT) is stopped
    os.environ[compile_worker.FAULT_ENV] = "hang"
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        t(TEXTS[1], fresh=True)
        out["interrupt"] = "no error"
    except KeyboardInterrupt:
        out["interrupt"] = "KeyboardInterrupt"
    del os.environ[compile_worker.FAULT_ENV]
    out["after_interrupt"] = len(t(TEXTS[1], fresh=True))

    # a daemon thread still compiling at exit (hung) must not hold up the exit
    os.environ[compile_worker.FAULT_ENV] = "hang"
    threading.Thread(target=t, args=(TEXTS[2],), kwargs={"fresh": True}, daemon=True).start()
    while not any(w.busy for w in compile_worker.pool()._all):
        time.sleep(0.05)
    del os.environ[compile_worker.FAULT_ENV]
    t(TEXTS[3], fresh=True)  # meanwhile: a second worker, idle at exit
    out["workers"] = [w.proc.pid for w in compile_worker.pool()._all]
    print(json.dumps(out), flush=True)
"""


def test_timeout_stops_a_hung_worker_and_exit_leaves_no_worker():
    texts = [module(1.0 + i) for i in range(4)]
    proc, _ = run_child(f"TEXTS = {texts!r}\n" + textwrap.dedent(HANG), IRJAX_COMPILE_WORKERS="2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "IREE took more than 1 s to compile" in out["hang"] and "IRJAX_COMPILE_TIMEOUT" in out["hang"], out
    assert out["hang_s"] < 30 and out["started_by_hang"] == 1, out
    assert out["after"] > 1000, out
    assert out["interrupt"] == "KeyboardInterrupt" and out["after_interrupt"] == out["after"], out
    assert len(out["workers"]) == 2, out  # the idle one and the hung one
    deadline = time.monotonic() + 10
    while not all(gone_or_zombie(p) for p in out["workers"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(gone_or_zombie(p) for p in out["workers"]), out


KILLED_PARENT = """
    import os, signal, threading, time
    from irjax.runtime import compile_worker, compiler

    os.environ[compile_worker.FAULT_ENV] = "hang"
    threading.Thread(target=compiler.compile_stablehlo, args=(TEXT,), kwargs={"fresh": True}, daemon=True).start()
    while not any(w.busy for w in compile_worker.pool()._all):
        time.sleep(0.05)
    print([w.proc.pid for w in compile_worker.pool()._all][0], flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # no atexit: the worker must notice by itself
"""


def test_worker_exits_when_its_process_is_killed():
    proc, _ = run_child(KILLED_PARENT.replace("TEXT", repr(module(4.0))))
    assert proc.returncode == -9, proc.stdout + proc.stderr
    pid = int(proc.stdout.split()[0])
    deadline = time.monotonic() + 10
    while not gone_or_zombie(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone_or_zombie(pid), f"worker {pid} outlived its killed parent"


def test_concurrent_compiles_from_8_threads(monkeypatch):
    """8 threads through a pool of 3 workers: each gets its own module, byte for byte what the
    in-process compiler makes of it; the workers hide MPI's variables from IREE."""
    monkeypatch.setenv("IRJAX_DISABLE_CACHE", "1")
    monkeypatch.setenv("IRJAX_COMPILE_WORKER", "1")
    for k in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPIEXEC_HOSTNAME", "PMI_RANK"):
        monkeypatch.setenv(k, "2")
    pool = compile_worker.WorkerPool(3)
    monkeypatch.setattr(compile_worker, "_pool", [pool])
    texts = [module(1.0 + i) for i in range(8)]
    got: dict = {}

    def compile_one(i):
        got[i] = compiler.compile_stablehlo(texts[i], fresh=True)

    threads = [threading.Thread(target=compile_one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(got) == list(range(8)), "a compile thread did not finish"
    assert pool.started == 3, pool.started
    environs = []
    for w in pool._all:
        with open(f"/proc/{w.proc.pid}/environ", "rb") as f:
            environs.append({kv.split(b"=", 1)[0].decode() for kv in f.read().split(b"\0") if kv})
    assert all(
        "PATH" in e and not e & {"PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPIEXEC_HOSTNAME", "PMI_RANK"} for e in environs
    )
    pids = [w.proc.pid for w in pool._all]
    pool.shutdown()
    assert all(gone_or_zombie(p) for p in pids)
    monkeypatch.setenv("IRJAX_COMPILE_WORKER", "0")
    for i in (0, 7):
        assert got[i] == compiler.compile_stablehlo(texts[i], fresh=True), i
    assert len(set(got.values())) == 8


@pytest.mark.parametrize("worker", ["1", "0"])
def test_malformed_module_diagnostics(monkeypatch, worker):
    monkeypatch.setenv("IRJAX_COMPILE_WORKER", worker)
    with pytest.raises(compiler.CompileError, match=r"(?s)IREE failed to compile the module for llvm-cpu.*expected"):
        compiler.compile_stablehlo("func.func @main( {", fresh=True)
    bad = module(1.0).replace(
        "%0 = stablehlo.multiply %a, %c : tensor<4xf32>",
        "%0 = stablehlo.multiply %a, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<5xf32>",
    )
    with pytest.raises(compiler.CompileError, match=r"(?s)stablehlo.multiply.*tensor<5xf32>"):
        compiler.compile_stablehlo(bad, fresh=True)


def test_bad_settings_are_named(monkeypatch):
    monkeypatch.setenv("IRJAX_COMPILE_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="IRJAX_COMPILE_TIMEOUT must be a positive number of seconds, got 'soon'"):
        compiler.compile_timeout()
    monkeypatch.setenv("IRJAX_COMPILE_TIMEOUT", "0")
    with pytest.raises(ValueError, match="IRJAX_COMPILE_TIMEOUT"):
        compiler.compile_timeout()
    monkeypatch.setenv("IRJAX_COMPILE_TIMEOUT", "2.5")
    assert compiler.compile_timeout() == 2.5
    monkeypatch.setenv("IRJAX_COMPILE_WORKERS", "0")
    with pytest.raises(ValueError, match="IRJAX_COMPILE_WORKERS must be a positive integer, got '0'"):
        compile_worker.default_size()
    monkeypatch.setenv("IRJAX_COMPILE_WORKERS", "3")
    assert compile_worker.default_size() == 3


def test_worker_that_cannot_start_is_a_compile_error(monkeypatch):
    monkeypatch.setenv("IRJAX_DISABLE_CACHE", "1")
    monkeypatch.setenv("IRJAX_COMPILE_WORKER", "1")
    monkeypatch.setattr(compile_worker, "_pool", [compile_worker.WorkerPool(1)])
    monkeypatch.setattr(compile_worker.sys, "executable", "/bin/false")  # exits before it is ready
    with pytest.raises(
        compiler.CompileError, match=r"exited before it could compile \(exit status 1\); IRJAX_COMPILE_WORKER=0"
    ):
        compiler.compile_stablehlo(module(9.0), fresh=True)
    monkeypatch.setattr(compile_worker.sys, "executable", "/nonexistent/python")
    with pytest.raises(compiler.CompileError, match="cannot start a compile worker"):
        compiler.compile_stablehlo(module(9.0), fresh=True)
