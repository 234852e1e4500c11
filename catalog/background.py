"""Build a catalogue index in a background process, with progress that a page (or anyone) can read.

The builder (`scripts/build_catalog.py --report-progress`) rewrites `INDEX_DIR/build-progress.json` atomically after
each batch; `status` reads it and notices a builder that died. `start` launches at most one builder per index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.files import atomic_write_text, file_lock, pid_alive

PROGRESS_FILE = "build-progress.json"
LOG_FILE = "build.log"
CHECKOUT = Path(__file__).resolve().parent.parent  # the folder holding engine/, catalog/ and scripts/
RUNNING, DONE, FAILED, NONE = "running", "done", "failed", "none"


@dataclass(frozen=True)
class BuildStatus:
    """Where a background build stands: `state` is running, done, failed or none (no build was started)."""

    state: str = NONE
    done: int = 0
    total: int = 0
    started: float = 0.0
    updated: float = 0.0
    message: str = ""

    @property
    def fraction(self) -> float:
        """Share of the images embedded so far, 0..1."""
        return self.done / self.total if self.total else 0.0

    @property
    def images_per_second(self) -> float:
        """Throughput since the build started."""
        elapsed = self.updated - self.started
        return self.done / elapsed if elapsed > 0 and self.done else 0.0

    @property
    def seconds_left(self) -> float | None:
        """Estimated time to finish the images, or None before the first batch."""
        rate = self.images_per_second
        return (self.total - self.done) / rate if rate else None


def progress_path(index_dir: str | Path) -> Path:
    """The progress file of an index folder."""
    return Path(index_dir) / PROGRESS_FILE


def progress_writer(index_dir: str | Path) -> Callable[..., None]:
    """A `report(done, total, state=RUNNING, message="")` function that records this process's progress."""
    path, started = progress_path(index_dir), time.time()

    def report(done: int, total: int, state: str = RUNNING, message: str = "") -> None:
        record = {"state": state, "pid": os.getpid(), "done": done, "total": total, "started": started}
        atomic_write_text(path, json.dumps(record | {"updated": time.time(), "message": message}))

    return report


def status(index_dir: str | Path) -> BuildStatus:
    """The recorded progress; a 'running' build whose process is gone reads as failed."""
    try:
        record = json.loads(progress_path(index_dir).read_text())
    except (OSError, ValueError):
        return BuildStatus()
    fields = {key: record.get(key, default) for key, default in BuildStatus().__dict__.items()}
    if fields["state"] == RUNNING and not _alive(record.get("pid")):
        fields |= {"state": FAILED, "message": fields["message"] or _log_tail(index_dir)}
    return BuildStatus(**fields)


def builder(build_args: list[str]) -> tuple[list[str], dict[str, str]]:
    """The command and environment that run `scripts/build_catalog.py BUILD_ARGS` from this same checkout.

    The child imports the code its parent runs, wherever the project is installed (or whether it is at all).
    """
    path = os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")]))
    return [sys.executable, "-m", "scripts.build_catalog", *build_args], os.environ | {"PYTHONPATH": path}


def start(index_dir: str | Path, build_args: list[str]) -> BuildStatus:
    """Launch `build_catalog.py BUILD_ARGS --out INDEX_DIR` detached, unless a build of that index is running."""
    root = Path(index_dir)
    with file_lock(root / ".start.lock"):  # two sessions asking at once start one builder
        current = status(root)
        if current.state == RUNNING:
            return current
        command, env = builder([*build_args, "--out", str(root), "--quiet", "--report-progress"])
        with open(root / LOG_FILE, "w") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        record = {"state": RUNNING, "pid": process.pid, "done": 0, "total": 0, "started": time.time()}
        atomic_write_text(progress_path(root), json.dumps(record | {"updated": record["started"], "message": ""}))
    return status(root)


def _alive(pid) -> bool:
    """True when a process with this pid exists (and is not a zombie of ours)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reap it if it is our finished child
        return waited == 0
    except ChildProcessError:
        return pid_alive(pid)  # not our child: ask the kernel


def _log_tail(index_dir: str | Path, lines: int = 5) -> str:
    """The last lines of the builder's log, to say why it stopped."""
    try:
        return "\n".join((Path(index_dir) / LOG_FILE).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "the build stopped without a message"
