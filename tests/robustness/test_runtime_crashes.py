"""Compiles that LLVM would end with exit()/abort()/a segfault: a bad temp directory, an
unknown CPU name. Each runs in a child process and must end in a clear Python exception."""

from __future__ import annotations

import pytest
from child_process import assert_clean_exit, run_python, run_tool

JIT_ONCE = """
    import numpy as np
    import irjax as jax, irjax.numpy as jnp
    try:
        y = jax.jit(lambda x: x * 2.0 + 1.0)(jnp.arange(3.0))
        np.testing.assert_array_equal(np.asarray(y), [1.0, 3.0, 5.0])
        print("RESULT ok")
    except Exception as e:
        print("RESULT", type(e).__name__, str(e).replace("\\n", " "))
"""
NO_CACHE = {"IRJAX_DISABLE_CACHE": "1"}


def _result(p) -> str:
    assert_clean_exit(p)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT")]
    assert lines, p.stdout + p.stderr
    return lines[-1][len("RESULT ") :]


def test_missing_tmpdir_is_a_compile_error(tmp_path):
    out = _result(run_python(JIT_ONCE, env=dict(NO_CACHE, TMPDIR=str(tmp_path / "missing"))))
    assert out.startswith("CompileError cannot compile: the temporary directory"), out
    assert "missing" in out and "$TMPDIR" in out and "No such file" in out


def test_tmpdir_that_is_a_file_is_a_compile_error(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    out = _result(run_python(JIT_ONCE, env=dict(NO_CACHE, TMPDIR=str(f))))
    assert out.startswith("CompileError cannot compile: the temporary directory"), out


def test_full_disk_is_a_compile_error(tmp_path):
    """A full disk, simulated with RLIMIT_FSIZE (writes past 64 KiB fail with EFBIG)."""
    p = run_python(JIT_ONCE, env=dict(NO_CACHE, TMPDIR=str(tmp_path)), max_file_bytes=64 * 1024)
    out = _result(p)
    assert out.startswith("CompileError cannot compile: the temporary directory"), out
    assert "File too large" in out


def test_unknown_cpu_env_is_a_value_error_naming_choices():
    out = _result(run_python(JIT_ONCE, env=dict(NO_CACHE, IRJAX_CPU="nonsense")))
    assert out.startswith("ValueError unknown $IRJAX_CPU 'nonsense'"), out
    assert "'host', 'generic' or one of:" in out


@pytest.mark.parametrize("cpu", ["i386", "x86-64-nonsense"])
def test_cpu_names_llvm_would_abort_on_are_refused(cpu):
    """i386 is in LLVM's x86 list but aborts a 64-bit compile ('64-bit code requested on a subtarget...')."""
    out = _result(run_python(JIT_ONCE, env=dict(NO_CACHE, IRJAX_CPU=cpu)))
    assert out.startswith(f"ValueError unknown $IRJAX_CPU '{cpu}'"), out


def test_known_cpu_name_still_compiles():
    assert _result(run_python(JIT_ONCE, env=dict(NO_CACHE, IRJAX_CPU="x86-64"))) == "ok"


def test_irjax_compile_unknown_target_cpu(tmp_path):
    (tmp_path / "mod_rt_cpu.py").write_text("def f(x):\n    return x * 2\n")
    out = tmp_path / "f.irjax"
    p = run_tool(
        "compile",
        "mod_rt_cpu:f",
        "--shapes",
        "f32[3]",
        "--target-cpu",
        "nonsense",
        "-o",
        str(out),
        "-q",
        env={"PYTHONPATH": str(tmp_path), **NO_CACHE},
    )
    err = p.stderr.decode()
    assert p.returncode == 1, err
    assert "irjax-compile: error: unknown target_cpu 'nonsense'" in err and "Traceback" not in err
    assert not out.exists()
