"""Runs the FileCheck pass tests (tests/filecheck/*.mlir) through lit."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("lit")
pytest.importorskip("filecheck")

HERE = os.path.dirname(os.path.abspath(__file__))


def test_lit_filecheck_suite():
    proc = subprocess.run(
        [sys.executable, "-c", "import lit.main; lit.main.main()", "-v", os.path.join(HERE, "filecheck")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, "lit failed:\n" + out
    assert "Passed" in out, out
