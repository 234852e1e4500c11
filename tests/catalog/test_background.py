"""Background builds: one detached builder per index, progress a page can read, a dead builder reads as failed."""

from __future__ import annotations

import json
import os
import time

import pytest

from catalog import background

pytestmark = pytest.mark.slow


def wait_until_finished(index_dir, timeout: float = 300) -> background.BuildStatus:
    deadline = time.monotonic() + timeout
    while (status := background.status(index_dir)).state == background.RUNNING:
        assert time.monotonic() < deadline, status
        time.sleep(0.5)
    return status


def test_a_background_build_reports_progress_and_a_second_start_joins_it(small_catalog, tmp_path):
    out = tmp_path / "index"
    args = ["--images", str(small_catalog["images"]), "--products", str(small_catalog["csv"])]
    args += ["--weights", "yolo11n.yaml", "--batch", "8"]
    first = background.start(out, args)
    builder = json.loads(background.progress_path(out).read_text())["pid"]
    assert first.state == background.RUNNING
    second = background.start(out, args)  # a second session asking: the same builder, not another one
    assert second.state == background.RUNNING
    assert json.loads(background.progress_path(out).read_text())["pid"] == builder
    seen = set()
    deadline = time.monotonic() + 300
    while (status := background.status(out)).state == background.RUNNING and time.monotonic() < deadline:
        seen.add((status.done, status.total))
        time.sleep(0.2)
    status = wait_until_finished(out)
    assert status.state == background.DONE, (status, (out / background.LOG_FILE).read_text())
    assert (out / "CURRENT").is_file()
    assert status.total == status.done == 62  # 60 products + 2 broken rows whose file exists (then their views)
    assert "62 images: 60 embedded" in status.message and "0 with new gallery views" in status.message  # opt-in
    assert any(total == 62 and 0 < done < total for done, total in seen)  # progress moved while it ran


def test_a_builder_that_died_reads_as_failed_with_its_log(tmp_path):
    out = tmp_path / "index"
    report = background.progress_writer(out)
    report(5, 10)
    record = json.loads(background.progress_path(out).read_text())
    assert record["pid"] == os.getpid() and background.status(out).state == background.RUNNING
    record["pid"] = 2**22 + 12345  # no such process
    background.progress_path(out).write_text(json.dumps(record))
    (out / background.LOG_FILE).write_text("loading…\nMemoryError: out of memory\n")
    status = background.status(out)
    assert status.state == background.FAILED and "MemoryError" in status.message
    assert status.fraction == 0.5


def test_no_progress_file_means_no_build(tmp_path):
    assert background.status(tmp_path).state == background.NONE
    (tmp_path / background.PROGRESS_FILE).write_text("{not json")
    assert background.status(tmp_path).state == background.NONE  # a damaged file is not a crash
