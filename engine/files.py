"""Small file helpers shared by the engine, the catalogue builder and the scripts."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from filelock import FileLock


@contextlib.contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """A binary handle whose bytes replace `path` at once when the block ends without error, never partially.

    The data goes to a hidden temporary file in the same folder, is flushed to disk, then renamed over `path`;
    on any error (or a kill) the old file stays as it was and the temporary file is removed (or left hidden).
    The new file keeps the permissions of the file it replaces, else gets those of a plain `open` (the umask's).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
            out.flush()
            os.fchmod(out.fileno(), _mode_for(path))
            os.fsync(out.fileno())
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """Permission bits for a file written to `path`: the existing file's, else 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


def _process_umask() -> int:
    """The process's umask (read once: reading it means setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _process_umask()


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees the old content or the new, never a partial file."""
    with atomic_writer(path) as out:
        out.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` so that a reader sees the old content or the new, never a partial file."""
    atomic_write_bytes(path, text.encode())


@contextlib.contextmanager
def file_lock(path: str | Path, timeout: float | None = None) -> Iterator[Path]:
    """Hold an exclusive lock on `path` (created if missing), across processes: waiting until it is free, or at most
    `timeout` seconds (then `filelock.Timeout`, a `TimeoutError`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(path, timeout=-1 if timeout is None else timeout):
        yield path


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
