"""Start and stop a real `streamlit run app.py` on a free localhost port, measure its memory, find Chromium.

Shared by the browser tests (tests/app/conftest.py) and the load benchmark (scripts/bench_load.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_START_TIMEOUT = 90  # s; the first request also loads YOLO, on a busy 2-core machine
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@dataclass(frozen=True)
class Server:
    """A running app: its base URL, the process id of `streamlit run` and its log file."""

    url: str
    pid: int
    log: Path


def chromium_path() -> str | None:
    """$LOOKALIKE_CHROMIUM, else Debian's chromium (Playwright's own browsers are never downloaded here)."""
    candidates = [os.environ.get("LOOKALIKE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def free_port() -> int:
    """A localhost port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    """Whether Streamlit at `url` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode().strip() == "ok"
    except OSError:
        return False


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


def _command(port: int) -> list[str]:
    """`streamlit run app.py` on 127.0.0.1:port, headless, without usage statistics."""
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    return command + ["--client.toolbarMode", "minimal"]  # no "Deploy" button in screenshots


@contextlib.contextmanager
def running_server(
    index_dir: Path, log_dir: Path, start_timeout: float = SERVER_START_TIMEOUT, root: Path = ROOT, name: str = "server"
):
    """`streamlit run app.py` of the checkout `root` over an index on a free port; yields a `Server`, stops it after.

    Another `root` (e.g. a `git worktree` of an older commit) runs that checkout's code: a baseline.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, LOOKALIKE_INDEX=str(index_dir), PYTHONUNBUFFERED="1", PYTHONPATH=str(root))
    env.pop("LOOKALIKE_WEIGHTS", None)  # use the weights the index was built with
    log_path = Path(log_dir) / f"{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            _command(port), cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + start_timeout
        while not healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                reason = f"exited with {process.returncode}" if process.poll() is not None else "timed out"
                raise RuntimeError(f"streamlit {reason}; its log:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        yield Server(url, process.pid, log_path)
    finally:
        _stop(process)


@contextlib.contextmanager
def serve(index_dir: Path, log_dir: Path):
    """`streamlit run app.py` over an index on a free port; yields its base URL, stops it afterwards."""
    with running_server(index_dir, log_dir) as server:
        yield server.url


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (psutil when installed, else /proc)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0
        return sum(_safe(lambda p=p: p.memory_info().rss, psutil.Error) for p in procs)
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _safe(lambda e=entry: Path(f"/proc/{e}/stat").read_text(), OSError)
            if stat:
                parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo += [child for child, parent in parents.items() if parent == tree[-1]]
    pages = sum(_safe(lambda p=p: int(Path(f"/proc/{p}/statm").read_text().split()[1]), OSError) for p in tree)
    return pages * os.sysconf("SC_PAGE_SIZE")


def _safe(read, errors):
    """read(), or 0 when the process vanished meanwhile."""
    try:
        return read()
    except (errors, ValueError, IndexError):
        return 0


class MemorySampler(threading.Thread):
    """Samples `tree_rss(pid)` every `interval` s until stopped; keeps the first and the peak."""

    def __init__(self, pid: int | None, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.first, self.peak = pid, interval, None, 0
        self.halt = threading.Event()

    def run(self) -> None:
        """Sample until `halt` is set."""
        while self.pid and not self.halt.is_set():
            rss = tree_rss(self.pid)
            self.first = rss if self.first is None else self.first
            self.peak = max(self.peak, rss)
            self.halt.wait(self.interval)


def listener_pid(url: str) -> int | None:
    """The process listening on the URL's port (psutil only), for --url."""
    try:
        import psutil

        port = urllib.parse.urlsplit(url).port
        return next(c.pid for c in psutil.net_connections("tcp") if c.status == "LISTEN" and c.laddr.port == port)
    except Exception:  # no psutil, no listener, or psutil.AccessDenied: memory stays unknown
        return None
