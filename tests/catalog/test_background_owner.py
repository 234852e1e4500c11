"""Background builds end with the app that started them, and their progress file tells the truth (real processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from filelock import FileLock

from catalog import background

pytestmark = pytest.mark.slow
DEADLINE = 120  # seconds for a builder to notice and stop (it imports torch first on a busy machine)


def recorded(out) -> dict:
    """The progress file as written (not `status`, which reads a dead 'running' builder as failed)."""
    return json.loads(background.progress_path(out).read_text())


def wait_for_exit(pid: int, timeout: float = DEADLINE) -> None:
    """Wait for our child `pid` to end, and reap it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"builder {pid} still running after {timeout} s")


def build_args(small_catalog) -> list[str]:
    return ["--images", str(small_catalog["images"]), "--products", str(small_catalog["csv"]), "--batch", "4"]


def test_a_build_started_for_an_app_stops_when_the_app_stops(small_catalog, tmp_path):
    out = tmp_path / "index"
    server = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])  # stands for the app
    try:
        started = background.start(out, build_args(small_catalog), owner=server.pid)
        builder = recorded(out)["pid"]
        assert started.state == background.RUNNING and builder != server.pid
    finally:
        server.send_signal(signal.SIGTERM)  # the app stops
        server.wait()
    wait_for_exit(builder)
    record = recorded(out)
    assert record["state"] == background.STOPPED, record  # not "running" after it died
    assert "the app that started it stopped" in record["message"]
    assert background.status(out).state == background.STOPPED
    with FileLock(out / ".lock", timeout=1):  # it let go of the index's write lock
        pass
    assert "stopped" in (out / background.LOG_FILE).read_text()


def test_a_builder_given_sigterm_says_it_stopped(small_catalog, tmp_path):
    out = tmp_path / "index"
    background.start(out, build_args(small_catalog))
    builder = recorded(out)["pid"]
    deadline = time.monotonic() + DEADLINE
    while (status := background.status(out)).done < 8 and status.state == background.RUNNING:
        assert time.monotonic() < deadline, status
        time.sleep(0.1)
    os.kill(builder, signal.SIGTERM)
    wait_for_exit(builder)
    record = recorded(out)
    assert record["state"] in (background.STOPPED, background.DONE), record
    if record["state"] == background.STOPPED:
        assert "SIGTERM" in record["message"] and record["done"] >= 8


def test_the_build_log_gets_a_progress_line_while_the_page_shows_a_rate(tmp_path, capsys, monkeypatch):
    report = background.progress_writer(tmp_path)  # the builder's stdout is build.log
    report(0, 100)
    monkeypatch.setattr(background, "LOG_EVERY_SECONDS", 0.0)
    time.sleep(0.05)
    report(40, 100)
    report(100, 100, background.DONE, "100 images: 100 embedded")
    lines = capsys.readouterr().out.splitlines()
    assert "running: 0 of 100 photos" in lines[0]
    assert "running: 40 of 100 photos (" in lines[1] and "per second)" in lines[1]
    assert "done: 100 images: 100 embedded" in lines[2]
