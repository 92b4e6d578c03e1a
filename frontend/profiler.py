"""irjax.profiler: JAX's profiling entry points. A trace records the host-side regions named by
TraceAnnotation / StepTraceAnnotation / annotate_function as a Chrome trace (Perfetto and
chrome://tracing read it); IREE's device activity is not in it. Memory profiles are not available."""

from __future__ import annotations

import contextlib
import functools
import gzip
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "StepTraceAnnotation",
    "TraceAnnotation",
    "annotate_function",
    "device_memory_profile",
    "save_device_memory_profile",
    "start_trace",
    "stop_trace",
    "trace",
]

_lock = threading.Lock()
_active: dict | None = None  # {"log_dir", "events", "t0"} while a trace runs


def _now_us() -> float:
    return time.perf_counter_ns() / 1000.0


def start_trace(
    log_dir: os.PathLike | str,
    create_perfetto_link: bool = False,
    create_perfetto_trace: bool = False,
    profiler_options: Any = None,
) -> None:
    """Start recording; stop_trace() writes the trace under log_dir/plugins/profile/<run>/."""
    global _active
    with _lock:
        if _active is not None:
            raise RuntimeError("Profile has already been started. Only one profile may be run at a time.")
        _active = {"log_dir": os.fspath(log_dir), "events": [], "t0": _now_us()}


def stop_trace() -> None:
    """Stop recording and write <host>.trace.json.gz (Chrome trace events)."""
    global _active
    with _lock:
        if _active is None:
            raise RuntimeError("No profile started")
        run, _active = _active, None
    out_dir = os.path.join(run["log_dir"], "plugins", "profile", time.strftime("%Y_%m_%d_%H_%M_%S"))
    os.makedirs(out_dir, exist_ok=True)
    doc = {"displayTimeUnit": "ns", "traceEvents": run["events"]}
    with gzip.open(os.path.join(out_dir, f"{socket.gethostname()}.trace.json.gz"), "wt") as f:
        json.dump(doc, f)


@contextlib.contextmanager
def trace(
    log_dir: os.PathLike | str,
    create_perfetto_link: bool = False,
    create_perfetto_trace: bool = False,
    profiler_options: Any = None,
) -> Iterator[None]:
    """Record a trace of the enclosed code into log_dir (start_trace + stop_trace)."""
    start_trace(log_dir, create_perfetto_link, create_perfetto_trace, profiler_options)
    try:
        yield
    finally:
        stop_trace()


class TraceAnnotation:
    """A named region in the trace (recorded only while a trace runs)."""

    def __init__(self, name: str, **kwargs: Any):
        self.name = name
        self.args = {k: str(v) for k, v in kwargs.items()}
        self._start = None

    def __enter__(self):
        self._start = _now_us() if _active is not None else None
        return self

    def __exit__(self, *exc):
        run = _active
        if run is not None and self._start is not None:
            event = {
                "name": self.name,
                "ph": "X",
                "ts": self._start - run["t0"],
                "dur": _now_us() - self._start,
                "pid": os.getpid(),
                "tid": threading.get_ident(),
            }
            if self.args:
                event["args"] = self.args
            with _lock:
                run["events"].append(event)
        return False


class StepTraceAnnotation(TraceAnnotation):
    """A training-step region: TraceAnnotation with the step number recorded."""

    def __init__(self, name: str, **kwargs: Any):
        super().__init__(name, **kwargs)


def annotate_function(func: Callable, name: str | None = None, **decorator_kwargs: Any) -> Callable:
    """Decorator: each call of func is a TraceAnnotation named after it."""
    label = name or getattr(func, "__qualname__", getattr(func, "__name__", "function"))

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with TraceAnnotation(label, **decorator_kwargs):
            return func(*args, **kwargs)

    return wrapper


def device_memory_profile(backend: str | None = None) -> bytes:
    raise NotImplementedError(
        "irjax cannot produce JAX's device memory profile (a pprof protobuf of XLA allocations): "
        "IREE's allocations are not tracked"
    )


def save_device_memory_profile(filename, backend: str | None = None) -> None:
    device_memory_profile(backend)
