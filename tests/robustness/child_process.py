"""Run code or an irjax tool in a child process, so a crash fails the test instead of killing pytest."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

def run_python(code: str, *, env: dict | None = None, timeout: float = 300, cwd=None, preexec_fn=None) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter; a signal death shows as a negative returncode."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd, preexec_fn=preexec_fn,
    )


def run_tool(name: str, *args: str, env: dict | None = None, timeout: float = 300, input: bytes | None = None) -> subprocess.CompletedProcess:
    """Run an irjax console script (through `python -m irjax.tools.<name>`)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", f"irjax.tools.{name}", *args],
        capture_output=True, timeout=timeout, env=full_env, input=input,
    )


def assert_clean_exit(p: subprocess.CompletedProcess, rc: int = 0) -> None:
    out = (p.stdout if isinstance(p.stdout, str) else p.stdout.decode(errors="replace")) + (
        p.stderr if isinstance(p.stderr, str) else p.stderr.decode(errors="replace")
    )
    assert p.returncode >= 0, f"the child died of signal {-p.returncode}:\n{out[-3000:]}"
    assert p.returncode == rc, f"exit status {p.returncode}, expected {rc}:\n{out[-3000:]}"
