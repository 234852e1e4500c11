"""Test tiers: every test is exactly one of `unit`, `integration` or `browser`, decided at collection.

- `browser`: marked `browser`, or uses the `browser` fixture (a real Streamlit server and headless Chromium).
- `integration`: marked `integration` or `slow`, uses a fixture that reads the shared IKEA data or builds an index
  (HEAVY_FIXTURES, directly or through another fixture), or lives in a module that reads the shared data when
  it is imported.
- `unit`: everything else. A unit test that opens a file under the shared data (or shared models) folder fails,
  naming the file, so the rule cannot rot; one slower than UNIT_SECONDS is listed at the end of the run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.settings import shared_data_dir

TIERS = ("unit", "integration", "browser")
HEAVY_FIXTURES = frozenset(
    {
        "small_products",  # reads the IKEA catalogue
        "small_catalog",
        "built_index",  # builds an index with YOLO + FAISS
        "service",
        "room_index",  # builds an index with the committed detector, embedding and head
        "default_catalog_index",
        "room_video",  # encodes a video from room photos
        "few_images",
        "effnet_index",  # tests/scripts/test_train_head.py: builds an effnet-crop index of the catalogue
    }
)
UNIT_SECONDS = 3.0

_SHARED = (str(shared_data_dir().resolve()) + "/", str(shared_data_dir().parent.resolve() / "models") + "/")
_reads: list[str] = []  # shared-data files opened while `_watching`
_watching = False
_slow_units: list[tuple[str, float]] = []


def _audit(event: str, args: tuple) -> None:
    """Note every file opened under the shared data folder while watching."""
    if _watching and event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], str | Path):
        path = str(args[0])
        if path.startswith(_SHARED) or str(Path(path).resolve()).startswith(_SHARED):
            _reads.append(path)


sys.addaudithook(_audit)


def _explicit(item) -> set[str]:
    return {mark.name for mark in item.iter_markers() if mark.name in TIERS}


def tier_of(item, data_modules: set[str]) -> str:
    """The one tier of a collected test (pytest.UsageError when it is marked with two)."""
    explicit = _explicit(item)
    if len(explicit) > 1:
        raise pytest.UsageError(f"{item.nodeid} is marked with more than one tier: {sorted(explicit)}")
    if explicit:
        return explicit.pop()
    fixtures = set(getattr(item, "fixturenames", ()))
    if item.get_closest_marker("browser") or "browser" in fixtures:
        return "browser"
    if item.get_closest_marker("slow") or fixtures & HEAVY_FIXTURES:
        return "integration"
    if item.nodeid.split("::")[0] in data_modules:
        return "integration"
    return "unit"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """Importing a test module that reads shared data makes all its tests integration tests."""
    global _watching
    watch = isinstance(collector, pytest.Module)
    if watch:
        _reads.clear()
        _watching = True
    yield
    if watch:
        _watching = False
        if _reads:
            collector.config.stash.setdefault(_DATA_MODULES, set()).add(collector.nodeid)


_DATA_MODULES = pytest.StashKey[set]()


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these markers
def pytest_collection_modifyitems(config, items):
    """Add each test's tier marker."""
    data_modules = config.stash.get(_DATA_MODULES, set())
    for item in items:
        tier = tier_of(item, data_modules)
        if tier not in _explicit(item):
            item.add_marker(tier)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """Watch a unit test's body for reads of the shared data."""
    yield from _watch(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    """Watch a unit test's fixtures for reads of the shared data."""
    yield from _watch(item)


def _watch(item):
    global _watching
    unit = item.get_closest_marker("unit") is not None
    if unit:
        _reads.clear()
        _watching = True
    outcome = yield
    if unit:
        _watching = False
        if _reads and outcome.excinfo is None:
            shown = ", ".join(sorted(set(_reads))[:3])
            outcome.force_exception(
                pytest.fail.Exception(f"a unit test read shared data ({shown}): mark it @pytest.mark.integration")
            )


def pytest_runtest_logreport(report):
    """Remember unit tests slower than UNIT_SECONDS."""
    if report.when == "call" and "unit" in report.keywords and report.duration > UNIT_SECONDS:
        _slow_units.append((report.nodeid, report.duration))


def pytest_terminal_summary(terminalreporter):
    """List unit tests that were slower than UNIT_SECONDS: they belong in the integration tier."""
    if _slow_units:
        terminalreporter.section(f"unit tests slower than {UNIT_SECONDS:.0f} s (mark them integration?)")
        for nodeid, seconds in sorted(_slow_units, key=lambda row: -row[1]):
            terminalreporter.write_line(f"{seconds:6.1f} s  {nodeid}")
