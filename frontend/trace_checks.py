"""What jit checks when it traces (a cache miss), per JAX's config flags: no_tracing,
explain_cache_misses, check_tracer_leaks and enable_checks. Hits never come here."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import sys
from collections.abc import Iterator

from irjax.passes.verify import verify_module

from . import config
from .core import Tracer
from .core import _state as _trace_state

logger = logging.getLogger("irjax")
_SKIP = (os.path.dirname(os.path.abspath(__file__)), os.path.abspath(contextlib.__file__))


@contextlib.contextmanager
def checked_trace(describe: str, fun, cache: dict, key: tuple, arg_names: list[str]) -> Iterator[list]:
    """Around one jit trace; the caller appends the Traced to the yielded list.

    key: (in_tree, avals, statics, static kwargs, bound axes, x64), the shape of jit's cache keys."""
    if config.read("jax_no_tracing"):
        raise RuntimeError(f"re-tracing function {describe} for `jit`, but 'no_tracing' is set")
    if config.read("jax_explain_cache_misses"):
        logger.warning(explain_miss(describe, fun, cache, key, arg_names))
    leaks = config.read("jax_check_tracer_leaks")
    before = _live_tracer_ids() if leaks else None
    out: list = []
    yield out
    if config.read("jax_enable_checks") and out:
        verify_module(out[0].module)
    if leaks:
        _raise_on_leaks(describe, before)


# ---- explain_cache_misses -------------------------------------------------------------------


def _call_site() -> str:
    f = sys._getframe(1)
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(_SKIP):
        f = f.f_back
    if f is None:
        return "?"
    return f"{f.f_code.co_filename}:{f.f_lineno} ({f.f_code.co_name})"


def explain_miss(describe: str, fun, cache: dict, key: tuple, arg_names: list[str]) -> str:
    """JAX's 'TRACING CACHE MISS' text: a never-seen function, or how the closest cached key differs."""
    head = f"TRACING CACHE MISS at {_call_site()}:\n"
    if not cache:
        return head + f"  never seen function:\n    {describe} id={id(fun)}"
    keys = list(cache)
    old = max(keys, key=lambda k: sum(a == b for a, b in zip(k, key)))
    why = _differences(old, key, arg_names)
    return head + f"  for {describe}\n  all previously seen cache keys differ. For the closest previous key:\n" + why


def _differences(old: tuple, new: tuple, arg_names: list[str]) -> str:
    (t0, a0, s0, k0, b0, x0), (t1, a1, s1, k1, b1, x1) = old, new
    lines = []
    if t0 != t1:
        lines += ["  different input pytree:", f"  * now {t1} and before {t0}"]
    elif a0 != a1:
        lines.append("  different input types:")
        for i, (p, q) in enumerate(zip(a0, a1)):
            if p != q:
                name = arg_names[i] if i < len(arg_names) else f"argument {i}"
                lines.append(f"  * at {name}, now {q.str_short()} and before {p.str_short()}")
    if (s0, k0) != (s1, k1):
        now = [v for _, (_, v) in s1 + k1]
        before = [v for _, (_, v) in s0 + k0]
        lines += ["  different value of static args:", f"  * now {now} and before {before}"]
    if b0 != b1:
        lines += ["  different bound axis names or sizes:", f"  * now {b1} and before {b0}"]
    if x0 != x1:
        lines += ["  different jax_enable_x64 setting:", f"  * now {x1} and before {x0}"]
    return "\n".join(lines) or "  a key equal in every part (unhashable-equal static args?)"


# ---- check_tracer_leaks ---------------------------------------------------------------------


def _live_tracer_ids() -> set[int]:
    return {id(o) for o in gc.get_objects() if type(o) is Tracer}


def _raise_on_leaks(describe: str, before: set[int]) -> None:
    # a tracer made during this trace whose trace has ended is still referenced: it leaked
    gc.collect()
    active = _trace_state.stack
    leaked = [o for o in gc.get_objects() if type(o) is Tracer and id(o) not in before and o._trace not in active]
    if leaked:
        shown = "\n".join(repr(t) for t in leaked[:5]) + ("\n..." if len(leaked) > 5 else "")
        raise Exception(  # (JAX raises a plain Exception for this check too)
            f"Leaked trace of {describe} for jit. Leaked tracer(s):\n\n{shown}\n\n"
            "A value traced inside the function was kept after it returned (in a global, a closure "
            "or an object attribute); using it later would raise UnexpectedTracerError."
        )
