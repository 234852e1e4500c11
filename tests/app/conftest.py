"""Browser-test fixtures: a real `streamlit run app.py` on a free port, and headless Debian Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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


def chromium_path() -> str | None:
    """$LOOKALIKE_CHROMIUM, else Debian's chromium (Playwright's own browsers are never downloaded here)."""
    candidates = [os.environ.get("LOOKALIKE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")]
    return next((c for c in candidates if c and Path(c).is_file()), None)


def free_port() -> int:
    """A localhost port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
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


@contextlib.contextmanager
def serve(index_dir: Path, log_dir: Path):
    """`streamlit run app.py` over an index on a free port; yields its base URL, stops it afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, LOOKALIKE_INDEX=str(index_dir), PYTHONUNBUFFERED="1")
    env.pop("LOOKALIKE_WEIGHTS", None)  # use the weights the index was built with
    log_path = log_dir / "server.log"
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    command += ["--client.toolbarMode", "minimal"]  # no "Deploy" button in screenshots
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                reason = f"exited with {process.returncode}" if process.poll() is not None else "timed out"
                pytest.fail(f"streamlit {reason}; its log:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def streamlit_url(built_index, tmp_path_factory):
    """The app over the session's small index (random detector weights)."""
    with serve(built_index[0], tmp_path_factory.mktemp("streamlit")) as url:
        yield url


@pytest.fixture(scope="module")
def real_streamlit_url(room_index, tmp_path_factory):
    """The app over the real-path index: the committed detector, embedding and head."""
    with serve(room_index["index"], tmp_path_factory.mktemp("streamlit-real")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (skipped when either is missing, but never in CI)."""
    missing = pytest.fail if os.environ.get("CI") else pytest.skip
    try:
        from playwright import sync_api
    except ImportError:
        missing("playwright is not installed (./test.sh installs it)")
    executable = chromium_path()
    if executable is None:
        missing("no Chromium at /usr/bin/chromium (apt-get install chromium, or set LOOKALIKE_CHROMIUM)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def browser_page(browser, streamlit_url):
    """A fresh browser context (its own Streamlit session) on the app's main page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.set_default_timeout(60_000)
    page = context.new_page()
    page.goto(streamlit_url)
    yield page
    context.close()
