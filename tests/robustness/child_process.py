"""Run code or an irjax tool in a child process, so a crash fails the test instead of killing pytest."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def _limit(max_file_bytes: int | None) -> str:
    """Child-side prologue: cap the size of every file the child writes (writes past it fail with
    EFBIG, as on a full disk). Set in the child, not with preexec_fn: no fork of a threaded pytest."""
    if max_file_bytes is None:
        return ""
    return f"import resource; resource.setrlimit(resource.RLIMIT_FSIZE, ({max_file_bytes}, {max_file_bytes}))\n"


def run_python(
    code: str, *, env: dict | None = None, timeout: float = 300, cwd=None, max_file_bytes: int | None = None
) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter; a signal death shows as a negative returncode."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", _limit(max_file_bytes) + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd,
    )


def run_tool_limited(name: str, *args: str, max_file_bytes: int, timeout: float = 300) -> subprocess.CompletedProcess:
    """An irjax console script whose file writes are capped at `max_file_bytes`."""
    code = (
        _limit(max_file_bytes)
        + f"import runpy, sys\nsys.argv = {[name, *args]!r}\nrunpy.run_module('irjax.tools.{name}', run_name='__main__')\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


def run_tool(
    name: str, *args: str, env: dict | None = None, timeout: float = 300, input: bytes | None = None
) -> subprocess.CompletedProcess:
    """Run an irjax console script (through `python -m irjax.tools.<name>`)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", f"irjax.tools.{name}", *args],
        capture_output=True,
        timeout=timeout,
        env=full_env,
        input=input,
    )


def assert_clean_exit(p: subprocess.CompletedProcess, rc: int = 0) -> None:
    out = (p.stdout if isinstance(p.stdout, str) else p.stdout.decode(errors="replace")) + (
        p.stderr if isinstance(p.stderr, str) else p.stderr.decode(errors="replace")
    )
    assert p.returncode >= 0, f"the child died of signal {-p.returncode}:\n{out[-3000:]}"
    assert p.returncode == rc, f"exit status {p.returncode}, expected {rc}:\n{out[-3000:]}"
