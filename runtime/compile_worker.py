"""IREE's in-process compiler, run in a pool of child processes (`python -m irjax.runtime.compile_worker`)
so that an LLVM abort, segfault or out-of-memory kill in one compile is an exception in the
user's process, not its death. Each child imports iree.compiler once and reuses its Sessions.
"""

from __future__ import annotations

import atexit
import ctypes
import fcntl
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

from .host_collectives import _IREE_MPI_ENV
from .targets import usable_cores

_HEADER = struct.Struct("<Q")  # every message: its length, then a pickle
# Test-only: a fault for the worker to commit on the next request (abort, segv, kill, exit, hang)
FAULT_ENV = "IRJAX_COMPILE_WORKER_FAULT"
_STDERR_KEEP = 4000  # characters of a dead worker's stderr quoted in the error
_STDERR_RESET = 1 << 20  # a worker's stderr file is emptied once it grows past this


class WorkerDied(Exception):
    """The compile worker died or was stopped during a compile; the message says how."""


class Crashed(WorkerDied):
    """The worker died in the middle of a compile (not at its start, nor stopped by a timeout)."""


# ---- the compile itself: used by the workers, and by compiler.py when it compiles in its own process ----


def new_session(target: str, flags: tuple):
    """An IREE Session set up for `target` and `flags` (ValueError for a flag IREE refuses)."""
    from iree.compiler.api import Session  # lazy: only compiling processes load the compiler

    session = Session()
    session.set_flags(f"--iree-hal-target-backends={target}", "--iree-input-type=stablehlo", *flags)
    return session


def verify_by_default() -> bool:
    """$IRJAX_COMPILE_VERIFY=1: IREE verifies the IR after every pass of every compile (MLIR's
    default; for chasing an IREE bug). Otherwise the executables' code generation is not verified
    unless a crash reruns it (see iree_compile)."""
    return os.environ.get("IRJAX_COMPILE_VERIFY", "").strip().lower() in ("1", "true", "yes", "on")


# The phase up to which every compile is verified: IREE's tensor-, flow-, stream- and HAL-level
# passes (where its own bugs have built invalid IR from valid input: FoldUnitExtentDims on a grouped,
# dilated convolution, which unverified compiled into reads of uninitialized memory). The rest,
# each executable's code generation and LLVM, runs unverified: that is where verification costs.
VERIFIED_THROUGH = "executable-sources"


def _invocation_fn(inv, name: str, argtypes: list, restype):
    """The C API function `name` of the compiler library behind `inv` (the Python API wraps neither
    verification nor phases), or None for another IREE's Python API."""
    fn = getattr(getattr(inv, "_local_dylib", None), name, None)
    if fn is not None:
        fn.argtypes, fn.restype = [ctypes.c_void_p, *argtypes], restype
    return fn


def _execute_partly_verified(inv) -> bool:
    """Run the pipeline verified through VERIFIED_THROUGH, then unverified to the end, on the same
    in-memory module (the .vmfb is byte for byte the one-shot compile's). False: IREE failed."""
    set_verify = _invocation_fn(inv, "ireeCompilerInvocationSetVerifyIR", [ctypes.c_bool], None)
    to_phase = _invocation_fn(inv, "ireeCompilerInvocationSetCompileToPhase", [ctypes.c_char_p], None)
    from_phase = _invocation_fn(inv, "ireeCompilerInvocationSetCompileFromPhase", [ctypes.c_char_p], None)
    if set_verify is None or to_phase is None or from_phase is None:
        return inv.execute()  # verified throughout
    phase = VERIFIED_THROUGH.encode()
    to_phase(inv._inv_p, phase)
    if not inv.execute():
        return False
    from_phase(inv._inv_p, phase)
    to_phase(inv._inv_p, b"end")
    set_verify(inv._inv_p, False)
    return inv.execute()


def iree_compile(session, text: bytes, verify: bool = True) -> bytes | None:
    """The .vmfb of StableHLO `text` compiled in `session`, or None if IREE rejects it (its
    diagnostics are not kept: the caller reruns iree-compile to read them).

    verify=False skips the verifier IREE's pass manager runs after each pass of the executables'
    code generation (VERIFIED_THROUGH), as LLVM's release builds do: there it re-checks every
    executable after each pass. The .vmfb is the same byte for byte. The MLP step's compile, 5
    alternating rounds in one session (medians): 1.05 s with no verification, 1.10 s verified
    through executable-sources, 1.69 s verified throughout; a one-op module 0.249 / 0.256 / 0.276 s.
    What it would catch is a bug in IREE's code generation: an unverified compile that crashes is
    rerun verified (compiler._compile), which turns such a bug into a rejection and the next flags."""
    from iree.compiler.api import Output, Source  # lazy: see new_session

    inv = session.invocation()
    out = Output.open_membuffer()
    try:
        source = Source.wrap_buffer(session, text)
        if not inv.parse_source(source):
            return None
        if not (inv.execute() if verify else _execute_partly_verified(inv)):
            return None
        inv.output_vm_bytecode(out)
        return bytes(out.map_memory())
    finally:
        inv.close()
        out.close()


# ---- the parent's side: a pool of workers, each serving one compile at a time ----------------------


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _child_env() -> dict:
    """The environment of a worker: the MPI launcher's variables removed (as device.py hides them
    from IREE), so nothing in the worker can take it for a member of the MPI job."""
    prefixes = ("PMI_", "PMIX_", "OMPI_", "HYDRA_")
    return {k: v for k, v in os.environ.items() if k not in _IREE_MPI_ENV and not k.startswith(prefixes)}


class _Worker:
    def __init__(self):
        self.stderr = tempfile.TemporaryFile(prefix="irjax-compile-worker-")
        flags = fcntl.fcntl(self.stderr.fileno(), fcntl.F_GETFL)
        fcntl.fcntl(self.stderr.fileno(), fcntl.F_SETFL, flags | os.O_APPEND)  # so it can be emptied
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "irjax.runtime.compile_worker", str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self.stderr,
                env=_child_env(),
                close_fds=True,  # (a worker holding another's pipe would keep it from seeing EOF)
            )
        except OSError as e:
            self.stderr.close()
            raise WorkerDied(f"cannot start a compile worker ({sys.executable!r}: {e}); {_IN_PROCESS_HINT}") from None
        self.busy = False
        self.ready = False  # the worker says so once it has loaded the compiler

    def alive(self) -> bool:
        return self.proc.poll() is None

    def request(self, message: tuple, timeout: float | None, what: str) -> tuple:
        """Send one request and wait for its reply; WorkerDied if the worker dies or outlasts `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        start = self.stderr.seek(0, os.SEEK_END)
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._write(_HEADER.pack(len(data)) + data, deadline)
            if not self.ready:
                self._read(_HEADER.size, deadline)
                self.ready = True
            (n,) = _HEADER.unpack(self._read(_HEADER.size, deadline))
            reply = pickle.loads(self._read(n, deadline))
        except _Timeout:
            self._reap()
            why = (
                f"IREE took more than {timeout:g} s to compile {what} (the limit set by $IRJAX_COMPILE_TIMEOUT); "
                "the compile worker was stopped"
            )
            raise WorkerDied(why + self._stderr_since(start)) from None
        except (OSError, EOFError, pickle.UnpicklingError, struct.error):
            self._reap(grace=10.0)  # (a worker that aborts may still be writing its core dump)
            died = Crashed if self.ready else WorkerDied
            raise died(self._death(what) + self._stderr_since(start)) from None
        except BaseException:
            self.stop()  # (KeyboardInterrupt mid-request: its reply would be read by the next compile)
            raise
        if reply[0] == "ok":
            # what IREE printed for a module it rejected is not forwarded: the compile is retried
            # with other flags, and a final failure raises CompileError with IREE's message
            self._forward_stderr(start)
        return reply

    def _write(self, data: bytes, deadline: float | None) -> None:
        fd, view = self.proc.stdin.fileno(), memoryview(data)
        while view:
            self._wait(fd, deadline, write=True)
            view = view[os.write(fd, view[: 1 << 16]) :]

    def _read(self, n: int, deadline: float | None) -> bytes:
        fd, parts = self.proc.stdout.fileno(), []
        while n:
            self._wait(fd, deadline, write=False)
            part = os.read(fd, min(n, 1 << 20))
            if not part:
                raise EOFError
            parts.append(part)
            n -= len(part)
        return b"".join(parts)

    @staticmethod
    def _wait(fd: int, deadline: float | None, write: bool) -> None:
        """Until `fd` can be written (read), or has closed; _Timeout at the deadline."""
        poller = select.poll()  # (not select.select: it fails on descriptors past 1023)
        poller.register(fd, select.POLLOUT if write else select.POLLIN)
        left = None if deadline is None else max(0.0, deadline - time.monotonic()) * 1e3
        if not poller.poll(left):
            raise _Timeout

    def _death(self, what: str) -> str:
        code = self.proc.returncode
        if not self.ready:
            return f"the compile worker exited before it could compile (exit status {code}); {_IN_PROCESS_HINT}"
        if code is not None and code < 0:
            how = f"killed by {_signal_name(code)}"
            if code == -signal.SIGKILL:
                how += ", often the system's out-of-memory killer"
        else:
            how = f"exit status {code}"
        return (
            f"the IREE compiler crashed compiling {what} (its worker process died: {how}). "
            "This is a bug in IREE or in the StableHLO irjax gave it; please report it with the program "
            "that triggered it. The next compile starts a fresh worker"
        )

    def _stderr_since(self, start: int) -> str:
        self.stderr.seek(start)
        text = self.stderr.read().decode("utf-8", "replace").strip()
        if not text:
            return ""
        if len(text) > _STDERR_KEEP:
            text = "..." + text[-_STDERR_KEEP:]
        return "\nthe worker's last output:\n" + text

    def _forward_stderr(self, start: int) -> None:
        """What IREE printed during the compile goes to this process's stderr, as it would in process."""
        end = self.stderr.seek(0, os.SEEK_END)
        if end > start:
            self.stderr.seek(start)
            sys.stderr.write(self.stderr.read(end - start).decode("utf-8", "replace"))
            sys.stderr.flush()
        if end > _STDERR_RESET:
            self.stderr.truncate(0)

    def _reap(self, grace: float = 0.0) -> None:
        """Kill the worker (if it still runs after `grace` seconds) and reap it: no zombie stays behind."""
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        self._reap()
        self.close_files()

    def close_files(self) -> None:
        for f in (self.proc.stdin, self.proc.stdout, self.stderr):
            try:
                f.close()
            except OSError:
                pass


class _Timeout(Exception):
    pass


_IN_PROCESS_HINT = "IRJAX_COMPILE_WORKER=0 compiles in this process instead (where a compiler crash ends it)"


def default_size() -> int:
    """$IRJAX_COMPILE_WORKERS, else one worker per core this process may run on."""
    env = os.environ.get("IRJAX_COMPILE_WORKERS", "")
    if env.strip():
        n = int(env) if env.strip().isdigit() else 0
        if n < 1:
            raise ValueError(f"IRJAX_COMPILE_WORKERS must be a positive integer, got {env!r}")
        return n
    return usable_cores()


class WorkerPool:
    """At most `size` workers, started on demand; a compile takes an idle one or waits for one."""

    def __init__(self, size: int):
        self.size = size
        self.started = 0  # workers started so far (a test reads it)
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._starting = 0
        self._closed = False

    def compile(
        self, text: bytes, target: str, flags: tuple, timeout: float | None, what: str, verify: bool = True
    ) -> tuple:
        """The worker's reply: ("ok", vmfb bytes) or ("failed", why). WorkerDied if it died."""
        fault = os.environ.get(FAULT_ENV, "")  # (read before the worker is marked busy: a test waits for that)
        worker = self._take()
        try:
            return worker.request(("compile", target, flags, text, fault, verify), timeout, what)
        finally:
            self._give(worker)

    def _take(self) -> _Worker:
        with self._cond:
            while True:
                if self._closed:
                    raise WorkerDied("the interpreter is exiting: no compile worker is left to compile")
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        worker.busy = True
                        return worker
                    self._discard(worker)
                if len(self._all) + self._starting < self.size:
                    self._starting += 1
                    break
                self._cond.wait()
        try:
            worker = _Worker()  # outside the lock: other threads keep taking and giving back meanwhile
        except BaseException:
            with self._cond:
                self._starting -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._starting -= 1
            self.started += 1
            self._all.add(worker)
            worker.busy = True
        return worker

    def _give(self, worker: _Worker) -> None:
        with self._cond:
            worker.busy = False
            if worker.alive() and not self._closed:
                self._idle.append(worker)
            else:
                self._discard(worker)
            self._cond.notify()

    def _discard(self, worker: _Worker) -> None:
        self._all.discard(worker)
        worker.stop()

    def shutdown(self) -> None:
        """At exit: idle workers get EOF and exit on their own; busy ones (a daemon thread's
        compile) are killed. Each is reaped, waiting at most a moment."""
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for w in workers:
            if w.busy:
                w.proc.kill()
            else:
                try:
                    w.proc.stdin.close()
                except OSError:
                    pass
        deadline = time.monotonic() + 1.0
        for w in workers:
            try:
                w.proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                w.proc.kill()
                w.proc.wait()

    def forget_after_fork(self) -> None:
        """In a forked child: the workers belong to the parent; drop this copy's ends of their pipes."""
        self._cond = threading.Condition()
        for w in self._all:
            w.close_files()
            w.proc.returncode = 0  # (not this process's child: never wait for it)
        self._all.clear()
        self._idle.clear()
        self._starting = 0


_pool: list[WorkerPool] = []
_pool_lock = threading.Lock()


def pool() -> WorkerPool:
    """This process's pool of compile workers (made on first use, shut down at exit)."""
    with _pool_lock:
        if not _pool:
            _pool.append(WorkerPool(default_size()))
            atexit.register(_pool[0].shutdown)
        return _pool[0]


def _after_fork() -> None:
    global _pool_lock
    _pool_lock = threading.Lock()
    if _pool:
        _pool[0].forget_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


# ---- the worker process ----------------------------------------------------------------------------


def _watch_parent(parent: int) -> None:
    """Exit when the parent is gone (a busy worker would not see its stdin close)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _commit(fault: str) -> None:
    """Test-only faults ($IRJAX_COMPILE_WORKER_FAULT in the parent): die or hang as IREE might."""
    if fault == "abort":
        os.abort()
    if fault == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    if fault == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "exit":
        os._exit(3)
    if fault == "hang":
        while True:
            time.sleep(60)


def _read_exact(f, n: int) -> bytes | None:
    data = f.read(n)
    return data if len(data) == n else None


def serve(parent: int) -> None:
    """Answer compile requests on stdin until it closes; replies go to the original stdout, which
    nothing else may write to (fd 1 is pointed at stderr: LLVM prints there on some errors)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it reaches the whole group)
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    import iree.compiler.api  # noqa: F401  (lazy in the module, loaded before the first request in the worker)

    replies.write(_HEADER.pack(0))  # ready
    replies.flush()

    sessions: dict = {}
    while True:
        head = _read_exact(requests, _HEADER.size)
        if head is None:
            return
        body = _read_exact(requests, _HEADER.unpack(head)[0])
        if body is None:
            return
        _, target, flags, text, fault, verify = pickle.loads(body)
        if not (fault.endswith(":unverified") and verify):  # ("segv:unverified": only an unverified compile)
            _commit(fault.removesuffix(":unverified"))
        try:
            session = sessions.get((target, flags))
            if session is None:
                session = sessions[(target, flags)] = new_session(target, flags)
            vmfb = iree_compile(session, text, verify)
            reply = ("ok", vmfb) if vmfb is not None else ("failed", "IREE rejected the module")
        except Exception as e:  # noqa: BLE001  (a refused flag: the parent reruns the tool for diagnostics)
            reply = ("failed", f"{type(e).__name__}: {e}")
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        replies.write(_HEADER.pack(len(data)) + data)
        replies.flush()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
