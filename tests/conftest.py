"""Shared test helpers: where ../shared is (the seed tutorial and the acceptance harness)."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared"


def pytest_report_header(config):
    """Which backend the tests run on (IRJAX_PLATFORMS picks it; CI runs -m portable on Vulkan)."""
    import os

    import irjax

    return (
        f"irjax default backend: {irjax.default_backend()} (IRJAX_PLATFORMS={os.environ.get('IRJAX_PLATFORMS', '')!r})"
    )


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repository; tests that need it skip (with the reason) when it is absent."""
    if not (SHARED / "acceptance" / "run_docs.py").is_file():
        pytest.skip(f"../shared is not beside the repository (looked for {SHARED.resolve()}/acceptance/run_docs.py)")
    return SHARED.resolve()


@pytest.fixture
def fresh_cache(tmp_path):
    """An empty compile cache directory for a child process (tests/robustness)."""
    d = tmp_path / "cache"
    d.mkdir()
    return {"IRJAX_CACHE_DIR": str(d)}
