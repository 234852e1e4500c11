"""A test run leaves the repository's docs/ as it found it (screenshots and BENCHMARKS.md are written by scripts)."""

from __future__ import annotations

from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
_KEY = pytest.StashKey[dict]()


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under `folder`: relative path -> (size, mtime in ns)."""
    return {
        path.relative_to(folder).as_posix(): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file()
    }


def pytest_sessionstart(session):
    session.config.stash[_KEY] = snapshot(DOCS)


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when any test wrote, added or removed a file in docs/."""
    before, after = session.config.stash.get(_KEY, None), snapshot(DOCS)
    if before is None or before == after:
        return
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(f"ERROR: the tests changed files in {DOCS}: {', '.join(changed)}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
