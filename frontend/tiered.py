"""Tiered first call (opt-in: config `irjax_tiered_compile`, env IRJAX_TIERED_COMPILE=1): a new
jit trace runs on the NumPy reference of its ops while IREE compiles it in a background thread;
calls switch to the compiled executable once it is ready."""

from __future__ import annotations

import collections
import threading
import time

import numpy as np
from irjax.dialects import registry
from irjax.dialects.builder import aval
from irjax.dialects.func import body_ops, entry_block, find_func, op_params, reachable
from irjax.dialects.mlir import enter
from irjax.runtime import compiler
from irjax.runtime.device import default_device
from irjax.runtime.executable import Executable

from . import config
from .array import Array
from .core import locked
from .device_api import transfer
from .dispatch import _as_array, _lower_text


class NotInterpretable(Exception):
    """An op of the module has no NumPy reference: the call waits for the compile instead."""


def _dot_general(a, b, lhs_contracting, rhs_contracting, lhs_batch, rhs_batch, preferred_element_type=None):
    """dot_general accumulating in the operands' float type, as IREE does (the reference
    accumulates in float64, ~1.6x the CPU time of an f32 matmul here)."""
    lfree = [i for i in range(a.ndim) if i not in lhs_contracting and i not in lhs_batch]
    rfree = [i for i in range(b.ndim) if i not in rhs_contracting and i not in rhs_batch]
    at = np.transpose(a, list(lhs_batch) + lfree + list(lhs_contracting))
    bt = np.transpose(b, list(rhs_batch) + list(rhs_contracting) + rfree)
    nb, nl, nc = len(lhs_batch), len(lfree), len(lhs_contracting)
    bs, m, k = at.shape[:nb], at.shape[nb : nb + nl], at.shape[nb + nl :]
    n = bt.shape[nb + nc :]
    mm, kk, nn = int(np.prod(m, dtype=np.int64)), int(np.prod(k, dtype=np.int64)), int(np.prod(n, dtype=np.int64))
    r = np.matmul(at.reshape(bs + (mm, kk)), bt.reshape(bs + (kk, nn)))
    return r.reshape(bs + m + n)


# After the first call, calls go on being interpreted while the compile runs only if one took at
# most this long (MLP 784-512-512-10 value_and_grad: ~0.2 s CPU a call, and interpreting every
# call during its compile made 30 steps take 2x as long on 2 busy cores)
INTERPRET_MAX_S = 0.02

# ops whose reference is replaced for speed when their operands are floats (values within rounding)
_FAST = {"jx.dot_general": _dot_general}


class _Program:
    """One jx function as a flat list of NumPy steps, decoded once: running it reads no IR."""

    def __init__(self, module, fname: str, programs: dict):
        f = find_func(module, fname)
        ids: dict = {}
        for a in entry_block(f).arguments:
            ids[a] = len(ids)
        self.in_specs = [(aval(a).dtype, tuple(aval(a).shape)) for a in entry_block(f).arguments]
        self.steps, self.ret = [], []
        for op in body_ops(f):
            ins = tuple(ids[v] for v in op.operands)
            if op.name == "func.return":
                self.ret = ins
                break
            prim = registry.get(op.name)
            if prim.impl is None:
                raise NotInterpretable(f"{op.name} has no reference implementation")
            params = op_params(op)
            if prim.calls:
                params["_call"] = programs["_call"]
            outs = []
            for r in op.results:
                ids[r] = len(ids)
                outs.append((ids[r], aval(r).dtype, tuple(aval(r).shape)))
            impl = prim.impl
            dts = {aval(v).dtype for v in op.operands} | {aval(r).dtype for r in op.results}
            if op.name in _FAST and len(dts) == 1 and next(iter(dts)).kind in "fc":
                impl = _FAST[op.name]  # (one float dtype in and out: no widening asked for)
            self.steps.append((impl, ins, params, tuple(outs), prim.multiple_results))
        self.size = len(ids)

    def run(self, args) -> list[np.ndarray]:
        env = [None] * self.size
        for i, (x, (dt, shape)) in enumerate(zip(args, self.in_specs)):
            env[i] = np.asarray(x, dt).reshape(shape)
        for impl, ins, params, outs, multiple in self.steps:
            out = impl(*[env[i] for i in ins], **params)
            for (j, dt, shape), o in zip(outs, out if multiple else (out,)):
                env[j] = np.asarray(o, dt).reshape(shape)
        return [env[i] for i in self.ret]


def _programs(module, fname: str) -> dict:
    """Programs of @fname and every function it calls (call-like ops run them by name)."""
    programs: dict = {}

    def call(name, xs):
        return programs[name].run(xs)

    programs["_call"] = call
    for n in reachable(module, [fname]):
        programs[n] = _Program(module, n, programs)
    return programs


class TieredExecutable:
    """Stands in for a runtime Executable in a trace's per-device entry (dispatch.run_traced and
    run_exact call it the same way) until the background compile is done, then hands the trace
    the compiled one."""

    entry = "main"

    def __init__(self, tr, dev, job: compiler.CompileJob, copy_inputs: bool, parallel: bool, programs: dict):
        self.device = dev
        self._tr, self._job, self._programs = tr, job, programs
        self._main = programs[tr.fname]
        self._copy_inputs, self._parallel = copy_inputs, parallel
        self._vmfb: bytes | None = None
        self._error: BaseException | None = None
        self._swap_lock = threading.Lock()
        self.interpreted_calls = 0
        self._last_s = 0.0  # wall seconds of the last interpreted call
        self.done = threading.Event()
        self._started = False  # a thread has taken the compile (the worker or a waiting caller)
        _worker.submit(self)

    def compile_now(self) -> None:
        """Run the compile in this thread unless a thread has taken it already."""
        with self._swap_lock:
            if self._started:
                return
            self._started = True
        try:
            self._vmfb = compiler.run_job(self._job)
        except BaseException as e:  # noqa: BLE001  (raised to the caller at its next call)
            self._error = e
        finally:
            self.done.set()

    def lookup_entry(self, name: str):
        return name

    def call(self, name: str, buffers, n_results: int) -> list:
        return self.invoke(name, buffers, n_results)

    def invoke(self, entry, buffers, n_results: int) -> list:
        if not self.done.is_set() and self._interpret_more():
            try:
                return self._interpret(buffers)
            except Exception:  # noqa: BLE001  (a reference the compiled module does not share)
                self._last_s = float("inf")  # interpret no more: this call and later ones wait
        self.compile_now()  # (still queued behind other compiles: this caller runs it at once)
        self.done.wait()  # a costly interpreted call would slow the compile it shares the CPU with
        exe = self._promote()
        return exe.invoke(exe.lookup_entry(exe.entry), buffers, n_results)

    def _interpret_more(self) -> bool:
        return self._last_s <= INTERPRET_MAX_S  # (0 before the first call, inf after a failure)

    def _interpret(self, buffers) -> list:
        t0 = time.perf_counter()
        dev = self.device
        args = [dev.get(b, dt) for b, (dt, _) in zip(buffers, self._main.in_specs)]
        with np.errstate(all="ignore"):  # (compiled code warns about nothing: overflow gives inf there too)
            outs = self._main.run(args)
        out = [dev.put(o) for o in outs]
        self.interpreted_calls += 1
        self._last_s = time.perf_counter() - t0
        return out

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the background compile has finished (True) or `timeout` passed."""
        return self.done.wait(timeout)

    def _promote(self) -> Executable:
        """The compiled Executable, installed in the trace's entry for this device (once)."""
        with self._swap_lock:
            if self._error is not None:
                raise self._error
            exe = getattr(self, "_exe", None)
            if exe is None:
                exe = self._exe = Executable(
                    self._vmfb, self.device, copy_inputs=self._copy_inputs, parallel=self._parallel
                )
                exe.entry = "main"
                tr = self._tr
                _, captured, n_out = tr.exes[self.device]
                tr.exes[self.device] = (exe, captured, n_out)
                hot = tr.__dict__.get("hot")
                if hot is not None and hot[1] is self:  # jit's fast path cached this stand-in
                    tr.__dict__.pop("hot", None)
            return exe


class _Worker:
    """One background thread compiles the queued stand-ins in turn (a program meeting many shapes
    gets one compile at a time, not a thread each). It exits when the queue is empty, and once the
    main thread has finished it drops what is still queued: a script's exit waits for the compile
    that is running (its .vmfb lands in the disk cache), not for ones nobody can use any more."""

    def __init__(self):
        self._lock = threading.Lock()
        self._queue: collections.deque = collections.deque()
        self._thread: threading.Thread | None = None

    def submit(self, texe: TieredExecutable) -> None:
        with self._lock:
            self._queue.append(texe)
            if self._thread is None:
                # not a daemon: Python's exit waits for the running compile instead of killing a
                # thread inside IREE
                self._thread = threading.Thread(target=self._run, name="irjax-tiered-compile")
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._queue or not threading.main_thread().is_alive():
                    self._queue.clear()  # (dropped ones still compile if a later call needs them)
                    self._thread = None
                    return
                texe = self._queue.popleft()
            texe.compile_now()


_worker = _Worker()


def enabled() -> bool:
    return bool(config.read("irjax_tiered_compile"))


@locked
def prime(tr, leaves) -> TieredExecutable | None:
    """Start the tiered path for a jit trace about to run on `leaves`, if it applies: the default
    device is a CPU and no argument is committed elsewhere, the trace has no executable there
    yet, the compile is not cached, every op has a NumPy reference. Returns the stand-in (None
    where the normal path runs)."""
    dev = default_device()
    if dev.platform != "cpu" or dev in tr.exes:
        return None
    for x in leaves:
        if isinstance(x, Array) and (x._committed or x._device is not dev):
            return None
    hlo = _lower_text(str(tr.module), tr.fname, dev)
    job = compiler.compile_job(hlo, dev.target, list(dev.compile_flags))
    if compiler.cached(job, disk=True) is not None:
        return None  # compiled before: the normal path loads it at once
    try:
        with enter():
            programs = _programs(tr.module, tr.fname)
    except NotInterpretable:
        return None
    copies, parallel = compiler.needs_input_copies(hlo), compiler.multithreaded(hlo)
    texe = TieredExecutable(tr, dev, job, copies, parallel, programs)
    captured = [transfer(_as_array(c), dev)._bv for c in tr.captured]
    tr.exes[dev] = (texe, captured, len(tr.out_avals))
    return texe
