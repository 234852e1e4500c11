"""Build a catalogue index in a background process, with progress that a page (or anyone) can read.

The builder (`scripts/build_catalog.py --report-progress`) rewrites `INDEX_DIR/build-progress.json` atomically after
each batch and logs a line to `INDEX_DIR/build.log` every few seconds; `status` reads the file and notices a
builder that died. `start` launches at most one builder per index.

A builder started for an app (`owner`: the server's pid) is tied to it: when the owner is gone, or the builder
gets SIGTERM or SIGINT, it stops at once, records "stopped" (never a stale "running"), and releases the index's
write lock. What it published stays live, and the next start goes on from there (`catalog.grow`). A builder
started without an owner (`build_catalog.py --background` from a terminal) runs to the end.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.files import atomic_write_text, file_lock, pid_alive

PROGRESS_FILE = "build-progress.json"
LOG_FILE = "build.log"
CHECKOUT = Path(__file__).resolve().parent.parent  # the folder holding engine/, catalog/ and scripts/
RUNNING, DONE, FAILED, STOPPED, NONE = "running", "done", "failed", "stopped", "none"
LOG_MAX_BYTES = 1_000_000  # build.log beyond this is moved to build.log.1 at the next start
LOG_EVERY_SECONDS = 10.0  # a progress line in build.log at most this often
OWNER_POLL_SECONDS = 1.0  # how often a builder checks that its owner is still there
BUILDER_NICENESS = 10  # an app's builder yields the CPU to the app's searches (os.nice)


class BuildStopped(BaseException):
    """Raised in a builder's main thread by SIGTERM / SIGINT (or its owner's end): stop now, say so, exit."""


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
    """A `report(done, total, state=RUNNING, message="")` function that records this process's progress.

    It also prints a line (to the builder's log) when the state changes and every `LOG_EVERY_SECONDS`;
    `report.last` holds the last (done, total)."""
    path, started = progress_path(index_dir), time.time()
    logged = {"at": 0.0, "state": ""}

    def report(done: int, total: int, state: str = RUNNING, message: str = "") -> None:
        now = time.time()
        record = {"state": state, "pid": os.getpid(), "done": done, "total": total, "started": started}
        atomic_write_text(path, json.dumps(record | {"updated": now, "message": message}))
        report.last = (done, total)
        if state != logged["state"] or now - logged["at"] >= LOG_EVERY_SECONDS or (total and done == total):
            status = BuildStatus(state, done, total, started, now, message)
            print(f"{time.strftime('%H:%M:%S')} {state}: {log_line(status)}", flush=True)
            logged.update(at=now, state=state)

    report.last = (0, 0)
    return report


def log_line(status: BuildStatus) -> str:
    """'412 of 2,292 photos (6.1 per second)', or the message of a finished build."""
    if status.state != RUNNING:
        return status.message or f"{status.done:,} of {status.total:,} photos"
    rate = status.images_per_second
    return f"{status.done:,} of {status.total:,} photos" + (f" ({rate:.1f} per second)" if rate else "")


def stop_on_signals(owner: int | None = None) -> None:
    """Make SIGTERM and SIGINT raise `BuildStopped` in this (main) thread; with `owner`, also the owner's end."""

    def stop(signum, _frame):
        raise BuildStopped(
            "the app that started it stopped" if _OWNER_GONE.is_set() else f"it got {signal.Signals(signum).name}"
        )

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if owner:
        threading.Thread(target=_watch_owner, args=(owner,), name="owner-watch", daemon=True).start()


def _watch_owner(owner: int) -> None:
    """Send this process SIGTERM once `owner` is gone (polled every `OWNER_POLL_SECONDS`)."""
    while pid_alive(owner):
        time.sleep(OWNER_POLL_SECONDS)
    _OWNER_GONE.set()
    os.kill(os.getpid(), signal.SIGTERM)


def stopped_message(why: BuildStopped) -> str:
    """What the progress file says about a build that was stopped."""
    return f"The build stopped: {why}. The next start goes on from the photos already indexed."


_OWNER_GONE = threading.Event()  # set by the owner watch just before it stops the build


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


def start(index_dir: str | Path, build_args: list[str], owner: int | None = None) -> BuildStatus:
    """Launch `build_catalog.py BUILD_ARGS --out INDEX_DIR` detached, unless a build of that index is running.

    With `owner` (a pid, e.g. the app server's) the build stops when that process ends; without, it runs to the end.
    """
    root = Path(index_dir)
    with file_lock(root / ".start.lock"):  # two sessions asking at once start one builder
        current = status(root)
        if current.state == RUNNING:
            return current
        tie = ["--owner-pid", str(owner)] if owner else []
        command, env = builder([*build_args, "--out", str(root), "--quiet", "--report-progress", *tie])
        with open_log(root) as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        record = {"state": RUNNING, "pid": process.pid, "done": 0, "total": 0, "started": time.time()}
        atomic_write_text(progress_path(root), json.dumps(record | {"updated": record["started"], "message": ""}))
    return status(root)


def open_log(index_dir: Path):
    """build.log for appending, after a line marking this start; kept to about 1 MB (the older half goes to .1)."""
    path = index_dir / LOG_FILE
    if path.is_file() and path.stat().st_size > LOG_MAX_BYTES:
        path.replace(path.with_suffix(".log.1"))
    log = open(path, "a")  # noqa: SIM115 - handed to the builder process, closed by the caller's `with`
    log.write(f"{time.strftime('%H:%M:%S')} build started {time.strftime('%Y-%m-%d')}\n")
    log.flush()
    return log


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
