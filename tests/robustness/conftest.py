"""Fixtures of the robustness tests (child-process helpers live in child_process.py)."""

import pytest


@pytest.fixture
def fresh_cache(tmp_path):
    """An empty compile cache directory for a child process."""
    d = tmp_path / "cache"
    d.mkdir()
    return {"IRJAX_CACHE_DIR": str(d)}
