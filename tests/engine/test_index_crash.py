"""A writer killed (SIGKILL) in the middle of a build or an incremental update never corrupts the index: the last
good version stays live, loads and searches, and the dead writer's partial folder is cleaned up by the next save."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.index.store import CatalogIndex, current_version

ROOT = Path(__file__).resolve().parents[2]
DIM = 64
WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import pandas as pd
    from engine.index.store import CatalogIndex

    mode, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    vectors = np.random.default_rng(1).normal(size=(n, 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    if mode == "build":
        meta = pd.DataFrame({"id": np.arange(n, dtype=np.int64), "product_id": "big"})
        index = CatalogIndex.from_vectors(vectors, meta, {"dim": 64}, factory="Flat")
    else:
        index = CatalogIndex.load(out)
        index.remove(index.meta["id"].to_numpy()[:10])
        first = index.next_id
        index.add(vectors, pd.DataFrame({"id": np.arange(first, first + n, dtype=np.int64), "product_id": "big"}))
    print("saving", flush=True)
    index.save(out)
    """
)


def good_index(out: Path) -> tuple[CatalogIndex, Path]:
    """A small committed index: 1,000 vectors."""
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(1000, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    meta = pd.DataFrame({"id": np.arange(1000, dtype=np.int64), "product_id": "small"})
    index = CatalogIndex.from_vectors(vectors, meta, {"dim": DIM}, factory="Flat")
    return index, index.save(out)


def kill_mid_write(out: Path, mode: str, moment: str) -> Path:
    """Start a writer of a ~100 MB index, SIGKILL it once its partial folder (or index file) appears."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, mode, str(out), "400000"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and writer.poll() is None:
        partial = next(out.glob("v*.partial"), None)
        if partial and (moment == "folder" or _size(partial / "index.faiss") > 0):
            writer.send_signal(signal.SIGKILL)
            writer.wait()
            return partial
        time.sleep(0.001)
    writer.kill()
    pytest.fail(f"the writer finished or timed out before it could be killed (rc={writer.poll()})")


def _size(path: Path) -> int:
    """File size, 0 when absent."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize(("mode", "moment"), [("build", "folder"), ("build", "file"), ("update", "file")])
@pytest.mark.integration
def test_killed_writer_leaves_the_last_good_version_live(tmp_path, mode, moment):
    good, version = good_index(tmp_path)
    partial = kill_mid_write(tmp_path, mode, moment)
    assert partial.is_dir()  # the writer really died mid-save
    assert current_version(tmp_path) == version
    loaded = CatalogIndex.load(tmp_path)
    assert len(loaded) == 1000 and set(loaded.meta["product_id"]) == {"small"}
    probe = good.vectors(np.array([42]))
    assert loaded.search(probe, 1)[1][0, 0] == 42
    good.save(tmp_path)  # the next writer cleans up after the dead one
    assert not partial.exists() and not list(tmp_path.glob("v*.partial"))


def test_a_live_writers_partial_folder_is_left_alone(tmp_path):
    good, _ = good_index(tmp_path)
    ours = tmp_path / f"v99990101T000000.000000000-{_host()}-{os.getpid()}.partial"  # a writer still running
    ours.mkdir()
    good.save(tmp_path)
    assert ours.is_dir()


def _host() -> str:
    from engine.index.store import _host

    return _host()
