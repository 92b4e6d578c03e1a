"""Compile-cache entries are tied to their key: an entry copied over another key's file, or
one the runtime cannot load, is dropped and recompiled, never run as the wrong program."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from child_process import assert_clean_exit, run_python

CHILD = """
    import json, sys
    import numpy as np
    import irjax as jax, irjax.numpy as jnp
    from irjax.runtime import compiler
    which = sys.argv[-1] if len(sys.argv) > 1 else "both"
    x = jnp.arange(4.0)
    out = {}
    if which in ("both", "f"):
        out["f"] = np.asarray(jax.jit(lambda v: v * 3.0)(x)).tolist()
    if which in ("both", "g"):
        out["g"] = np.asarray(jax.jit(lambda v: v - 7.0)(x)).tolist()
    print("RESULT", json.dumps({"out": out, "stats": compiler.stats}))
"""
F = [0.0, 3.0, 6.0, 9.0]
G = [-7.0, -6.0, -5.0, -4.0]


def _run(env, which="both"):
    code = CHILD.replace('sys.argv[-1] if len(sys.argv) > 1 else "both"', repr(which))
    p = run_python(code, env=env)
    assert_clean_exit(p)
    return json.loads(p.stdout.split("RESULT ", 1)[1])


def _entries(cache: Path) -> dict[str, Path]:
    return {p.stem: p for p in cache.rglob("*.vmfb")}


def test_entry_copied_over_another_key_is_recompiled(fresh_cache):
    cache = Path(fresh_cache["IRJAX_CACHE_DIR"])
    before = _entries(cache)
    r = _run(fresh_cache, "f")
    assert r["out"]["f"] == F
    f_keys = set(_entries(cache)) - set(before)
    r = _run(fresh_cache, "g")
    assert r["out"]["g"] == G
    g_keys = set(_entries(cache)) - f_keys
    assert len(f_keys) == 1 and len(g_keys) == 1, (f_keys, g_keys)
    f_path, g_path = _entries(cache)[f_keys.pop()], _entries(cache)[g_keys.pop()]
    g_path.write_bytes(f_path.read_bytes())  # f's program under g's key
    r = _run(fresh_cache)
    assert r["out"] == {"f": F, "g": G}, "the cache ran f's program for g"
    assert r["stats"]["compiles"] == 1 and r["stats"]["disk_hits"] == 1, r["stats"]
    # the bad entry was replaced by a good one: the next process hits the cache for both
    r = _run(fresh_cache)
    assert r["out"] == {"f": F, "g": G} and r["stats"]["compiles"] == 0, r["stats"]


def test_entry_that_fails_to_load_is_recompiled(fresh_cache):
    """A well-formed entry (right key, right checksum) whose payload the runtime rejects."""
    cache = Path(fresh_cache["IRJAX_CACHE_DIR"])
    _run(fresh_cache, "f")
    ((key, path),) = _entries(cache).items()
    payload = b"not a vmfb" * 100
    path.write_bytes(b"IRJAXVMFB2\n" + key.encode() + hashlib.sha256(payload).hexdigest().encode() + payload)
    r = _run(fresh_cache, "f")
    assert r["out"]["f"] == F
    assert r["stats"]["compiles"] == 1, r["stats"]
    r = _run(fresh_cache, "f")
    assert r["stats"]["compiles"] == 0 and r["stats"]["disk_hits"] == 1, r["stats"]


def test_truncated_entry_is_recompiled(fresh_cache):
    cache = Path(fresh_cache["IRJAX_CACHE_DIR"])
    _run(fresh_cache, "f")
    ((_, path),) = _entries(cache).items()
    path.write_bytes(path.read_bytes()[:-100])
    r = _run(fresh_cache, "f")
    assert r["out"]["f"] == F and r["stats"]["compiles"] == 1, r["stats"]
