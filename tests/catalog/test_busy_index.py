"""A curator's write never waits forever on a background build's lock: it says so at once and changes nothing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from catalog import background
from catalog.curate import set_box
from catalog.manage import add_products, remove_products
from catalog.updater import BUSY_WAIT_SECONDS, CatalogueBusyError, Updater, index_busy
from engine.curation.managed_products import ManagedProducts
from engine.index.backends import load_index
from engine.index.store import current_version
from tests.catalog.test_manage import new_products

pytestmark = pytest.mark.slow
HOLD = """
import sys, time
from filelock import FileLock
with FileLock(sys.argv[1]):  # the index's write lock, as a build holds it (engine.index.store.writer_lock)
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def index_copy(tmp_path, default_catalog_index):
    shutil.copy(default_catalog_index.parent / "products.csv", tmp_path / "products.csv")
    return Path(shutil.copytree(default_catalog_index, tmp_path / "index"))


@pytest.fixture
def held(index_copy):
    """Another process holding the index's write lock, recorded as a running build 5 of 10 photos in."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(index_copy / ".lock")], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    started = time.time() - 10
    record = {"state": "running", "pid": holder.pid, "done": 5, "total": 10, "started": started}
    background.progress_path(index_copy).write_text(json.dumps(record | {"updated": time.time(), "message": ""}))
    yield holder
    holder.kill()
    holder.wait()


def within(seconds: float, write):
    """Run `write` in a thread; its exception, failing if it has not returned after `seconds` (the old hang)."""
    outcome = {}

    def run():
        try:
            write()
        except Exception as err:  # noqa: BLE001 - the outcome is what the test looks at
            outcome["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"the write still waits on the lock after {seconds} s"
    return outcome.get("error")


def test_add_remove_and_box_edit_say_at_once_that_a_build_holds_the_index(index_copy, default_catalog_index, held):
    updater = Updater.for_index(default_catalog_index)
    products, _ = new_products(index_copy)
    live = current_version(index_copy).name
    some_id = load_index(index_copy).meta["product_id"].iloc[0]
    writes = {
        "add": lambda: add_products(index_copy, products, who="ana", updater=updater),
        "remove": lambda: remove_products(index_copy, [some_id], who="ana"),
        "box": lambda: set_box(index_copy, some_id, (10, 10, 100, 100), who="ana", updater=updater),
    }
    for name, write in writes.items():
        error = within(BUSY_WAIT_SECONDS + 30, write)
        assert isinstance(error, CatalogueBusyError), (name, error)
        assert "5 of 10 photos" in str(error) and "try again" in str(error)
    assert current_version(index_copy).name == live  # nothing was written
    assert ManagedProducts(index_copy).added() == [] and not ManagedProducts(index_copy).removed()
    assert "5 of 10 photos" in index_busy(index_copy)


def test_a_free_index_is_not_busy(index_copy):
    assert index_busy(index_copy) is None
