"""The on-disk compile cache (irjax.runtime.compiler): reuse across processes, corrupt
entries recompiled, atomic writes."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from irjax.runtime import compiler

CHILD = textwrap.dedent(
    """
    import json
    import numpy as np
    import irjax as jax
    import irjax.numpy as jnp
    from irjax.runtime import compiler

    @jax.jit
    def f(x):
        return jnp.sin(x) * 2.0 + 1.0

    y = np.asarray(f(np.arange(4, dtype=np.float32)))
    np.testing.assert_allclose(y, np.sin(np.arange(4, dtype=np.float32)) * 2 + 1, rtol=1e-6)
    print(json.dumps(compiler.stats))
    """
)


def run_child(cache: Path, **env_extra) -> dict:
    return json.loads(_child(cache, **env_extra).stdout.strip().splitlines()[-1])


def _child(cache: Path, **env_extra) -> subprocess.CompletedProcess:
    env = dict(os.environ, IRJAX_CACHE_DIR=str(cache), **env_extra)
    env.pop("IRJAX_DISABLE_CACHE", None)
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*.vmfb"))


def leftovers(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file() and p.name.startswith(".tmp-")]


def test_second_process_compiles_nothing(tmp_path):
    first = run_child(tmp_path)
    assert first["compiles"] >= 1, first
    assert entries(tmp_path), "nothing was written to the cache"
    second = run_child(tmp_path)
    assert second["compiles"] == 0, second
    assert second["disk_hits"] >= first["compiles"], (first, second)
    assert not leftovers(tmp_path)


def test_log_compiles(tmp_path):
    proc = _child(tmp_path, IRJAX_LOG_COMPILES="1")
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("irjax: compiled")]
    assert len(lines) == json.loads(proc.stdout.strip().splitlines()[-1])["compiles"] >= 1, proc.stderr
    assert "for llvm-cpu in" in lines[0] and "StableHLO ops)" in lines[0]
    quiet = _child(tmp_path / "again")  # without the variable: no log lines
    assert "irjax: compiled" not in quiet.stderr


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_corrupt_entry_is_recompiled(tmp_path, damage):
    first = run_child(tmp_path)
    paths = entries(tmp_path)
    assert len(paths) == first["compiles"]
    for p in paths:
        data = p.read_bytes()
        if damage == "truncate":
            p.write_bytes(data[: len(data) // 2])
        elif damage == "flip":
            p.write_bytes(data[:-1] + bytes([data[-1] ^ 0xFF]))
        else:
            p.write_bytes(b"")
    again = run_child(tmp_path)
    assert again["compiles"] == first["compiles"], again  # every damaged entry rebuilt, none trusted
    assert again["disk_hits"] == 0, again
    healed = run_child(tmp_path)  # and the rewritten entries are good again
    assert healed["compiles"] == 0, healed


def test_concurrent_writers_leave_whole_entries(tmp_path):
    env = dict(os.environ, IRJAX_CACHE_DIR=str(tmp_path))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(3)
    ]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, out + err
    assert not leftovers(tmp_path)
    for p in entries(tmp_path):
        assert compiler._read_entry(str(p), p.stem) is not None, f"{p} is not a whole entry"
    assert run_child(tmp_path)["compiles"] == 0


def test_write_is_atomic(tmp_path):
    """The entry appears whole or not at all; the bytes are first written to a .tmp-* file beside it."""
    key = "ab" * 32
    path = tmp_path / "ab" / f"{key}.vmfb"
    payload = os.urandom(100_000)
    seen = {}
    real_replace = os.replace

    def spy(src, dst):
        seen["src"] = Path(src)
        seen["dst_existed"] = Path(dst).exists()
        seen["src_whole"] = compiler._read_entry(str(src), key) == payload
        return real_replace(src, dst)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compiler.os, "replace", spy)
        compiler._write_entry(str(path), key, payload)
    assert seen["src"].name.startswith(".tmp-") and seen["src"].parent == path.parent
    assert seen["src_whole"] and not seen["dst_existed"]
    assert compiler._read_entry(str(path), key) == payload
    assert not leftovers(tmp_path)


def test_failed_write_leaves_no_partial_file(tmp_path):
    """A full disk or a failed rename costs a recompile later, never a stray temp file or a broken entry."""
    path = tmp_path / "ab" / "abcd.vmfb"

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(compiler.os, "replace", fail)
        compiler._write_entry(str(path), "ab" * 32, b"x" * 1000)  # must not raise
    assert not path.exists()
    assert not leftovers(tmp_path), "a failed write left its temp file behind"
