"""How a thread waits for IREE's multi-threaded CPU driver: without preempting its own workers.

A local-task call blocks the calling thread until the last worker signals the call's semaphore.
The worker wakes the caller from inside its timepoint callback, and the caller, once awake, spins
(a `pause` loop in the runtime's semaphore wait, seen with perf) until that callback has returned.
Linux's CFS lets a woken thread that had been asleep, as the caller was for the whole call,
preempt the running thread of its core: so the caller often preempts the very worker it waits for
and spins until its own time slice ends, one or two 4 ms scheduler ticks. On the 2-core machine,
MLP value_and_grad steps (2.2-2.5 ms median) took 4-8 ms in 13-16% of the calls.

A thread under SCHED_BATCH is never a wakeup preemptor, and nothing else changes for it (same
priority, same share of the CPU). The calling thread takes that policy for the duration of the
call only, and gets its own back after (two system calls, ~3 us, on calls that take milliseconds).
A thread that runs under any other policy than SCHED_OTHER is left as it is.
`$IRJAX_CPU_BATCH_WAIT=0` turns this off.
"""

from __future__ import annotations

import os

_PARAM = os.sched_param(0) if hasattr(os, "sched_param") else None
_OTHER = getattr(os, "SCHED_OTHER", None)
_BATCH = getattr(os, "SCHED_BATCH", None)  # Linux only


def _wanted() -> bool:
    flag = os.environ.get("IRJAX_CPU_BATCH_WAIT", "1").strip().lower()
    return _BATCH is not None and hasattr(os, "sched_setscheduler") and flag not in ("0", "false", "no", "off")


_enabled = _wanted()


def enabled() -> bool:
    return _enabled


def call_batched(fn, *args):
    """fn(*args) with the calling thread under SCHED_BATCH (see above), its policy restored after."""
    global _enabled
    if not _enabled:
        return fn(*args)
    try:
        if os.sched_getscheduler(0) != _OTHER:
            return fn(*args)
        os.sched_setscheduler(0, _BATCH, _PARAM)
    except OSError:  # a sandbox that forbids it (seccomp): wait as before, and stop asking
        _enabled = False
        return fn(*args)
    try:
        return fn(*args)
    finally:
        try:
            os.sched_setscheduler(0, _OTHER, _PARAM)
        except OSError:  # (allowed to an unprivileged thread: its nice value is unchanged)
            pass
