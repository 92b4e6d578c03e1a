"""The brief: every cell of the seed tutorial runs with irjax and prints JAX's numbers.

Runs ../shared/acceptance/run_docs.py against irjax and the tutorial script
examples/thinking_in_jax.py, each in a fresh process.
"""

import json
import subprocess
import sys

import pytest
from conftest import REPO

pytestmark = pytest.mark.portable  # CI runs this file on Vulkan too (-m portable)


def _fmt_exc(exc) -> str:
    if not exc:
        return ""
    return f"{exc.get('type')}: {str(exc.get('message', '')).splitlines()[0] if exc.get('message') else ''}"


def test_seed_tutorial_matches_jax(shared_dir, tmp_path):
    out = tmp_path / "run_docs.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(shared_dir / "acceptance" / "run_docs.py"),
            "--module",
            "irjax",
            "--reference",
            str(shared_dir / "acceptance" / "reference-jax-thinking_in_jax.json"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
    )
    log = proc.stdout[-4000:] + proc.stderr[-4000:]
    assert out.is_file(), f"run_docs.py wrote no results (exit {proc.returncode}):\n{log}"
    res = json.loads(out.read_text())
    summary = res["summary"]
    assert summary["cells"] > 0, log
    assert not summary["missing_docs"], summary
    bad = []
    for doc in res["docs"].values():
        assert doc["cells"], f"{doc['doc']}: no cells ran"
        for c in doc["cells"]:
            cmp = c.get("compare") or {}
            if c["status"] != "ok" or cmp.get("status") != "match":
                bad.append(
                    f"cell {c['index']} (line {c['line']}): {c['status']}, compare {cmp.get('status')} "
                    f"{cmp.get('detail', '')} {_fmt_exc(c.get('exception'))}"
                )
    assert not bad, "cells not ok or not matching JAX:\n" + "\n".join(bad) + "\n" + log
    assert summary["ok"] == summary["cells"] and summary["mismatch"] == 0, summary
    assert proc.returncode == 0, log


def test_tutorial_script_runs(tmp_path):
    plot = tmp_path / "plot.png"
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "thinking_in_jax.py"), "--repeat", "2", "--plot", str(plot)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "done: every cell ran" in proc.stdout
    assert "TypeError" in proc.stdout  # the immutable-array cell raised as JAX's does
    assert "NonConcreteBooleanIndexError" in proc.stdout
