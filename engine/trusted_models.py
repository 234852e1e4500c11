"""Checkpoints are code: where the engine may load a detector or an embedding head from.

Loading a YOLO checkpoint unpickles it, so an index folder (which a catalogue upload, a copied backup or a
curator may have written) never decides which file is loaded: its manifest only names the sha256 it was built
with, and that sha256 is looked up among the trusted checkpoints:

- the project's `models/` folder;
- the folders the operator lists in `$LOOKALIKE_TRUSTED_MODELS` (separated by `os.pathsep`);
- the files the operator names: `$LOOKALIKE_WEIGHTS`, `$LOOKALIKE_HEAD`, or `weights=` / `--weights` given to
  `engine.load` by the caller (checked against the manifest's sha256 before loading).

A path in the manifest, inside the index folder or outside it, is never opened. Ultralytics model yamls are
taken by bare name (its own configs) or from a trusted folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.files import file_sha256
from engine.index.manifest import IndexMismatchError
from engine.settings import PROJECT_ROOT

TRUSTED_ENV = "LOOKALIKE_TRUSTED_MODELS"
NAMED_ENVS = ("LOOKALIKE_WEIGHTS", "LOOKALIKE_HEAD")
CHECKPOINT_SUFFIXES = (".pt", ".pth")
MAX_FILES = 2000  # checkpoints looked at per trusted folder (a folder of training runs can hold many)
_SHA_CACHE: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256: each file hashed once


class UntrustedModelError(IndexMismatchError):
    """An index asks for a checkpoint that is not among the trusted ones (or names a file outside them)."""


def trusted_dirs() -> list[Path]:
    """models/ in the project, then every folder in $LOOKALIKE_TRUSTED_MODELS."""
    listed = [Path(p) for p in os.environ.get(TRUSTED_ENV, "").split(os.pathsep) if p.strip()]
    return [PROJECT_ROOT / "models", *listed]


def named_files() -> list[Path]:
    """The checkpoint files the operator named in $LOOKALIKE_WEIGHTS and $LOOKALIKE_HEAD."""
    named = (Path(os.environ[env]) for env in NAMED_ENVS if os.environ.get(env, "").lower() not in ("", "none"))
    return [path if path.is_absolute() or path.is_file() else PROJECT_ROOT / path for path in named]


def trusted_checkpoints() -> list[Path]:
    """Every checkpoint file the engine may load without being told its path."""
    files = [path for path in named_files() if path.is_file()]
    for folder in trusted_dirs():
        if folder.is_dir():
            found = (p for p in sorted(folder.rglob("*")) if p.suffix in CHECKPOINT_SUFFIXES and p.is_file())
            files += [path for _, path in zip(range(MAX_FILES), found)]
    return files


def cached_sha256(path: Path) -> str:
    """A file's sha256, computed once per (path, size, modification time)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = file_sha256(path)
    return _SHA_CACHE[key]


def find_trusted(sha256: str) -> Path | None:
    """The first trusted checkpoint whose content has this sha256, or None."""
    if not sha256:
        return None
    return next((path for path in trusted_checkpoints() if cached_sha256(path) == sha256), None)


def trusted_yaml(name: str) -> str | None:
    """A model yaml the index names: a bare name (Ultralytics' own configs), else a file of that name in a trusted
    folder; None when neither."""
    if Path(name).name == name and "\\" not in name:
        local = [folder / name for folder in trusted_dirs() if (folder / name).is_file()]
        return str(local[0]) if local else name
    matches = [folder / Path(name).name for folder in trusted_dirs() if (folder / Path(name).name).is_file()]
    return str(matches[0]) if matches else None


def recorded_detector(built: dict) -> str:
    """The detector an index was built with, found among the trusted checkpoints by its recorded sha256.

    Raises `UntrustedModelError` when no trusted checkpoint has that sha256 (the manifest's own path is ignored).
    """
    name = str(built.get("weights", ""))
    if name.endswith((".yaml", ".yml")):
        found = trusted_yaml(name)
    else:
        path = find_trusted(str(built.get("weights_sha256", "")))
        found = None if path is None else str(path)
    if found is None:
        raise UntrustedModelError(
            f"The index was built with detector weights '{Path(name).name}' "
            f"(sha256 {str(built.get('weights_sha256'))[:12]}…), which are not among the trusted checkpoints "
            f"(models/, ${TRUSTED_ENV}, $LOOKALIKE_WEIGHTS); they were not loaded. Put that file in a trusted "
            "folder or name it with --weights (or LOOKALIKE_WEIGHTS)."
        )
    return found


def recorded_head(head: str, head_sha256: str) -> str:
    """The embedding head an index was built with, found among the trusted checkpoints by its sha256.

    Raises `UntrustedModelError` when none has it (the manifest's own path is ignored).
    """
    path = find_trusted(head_sha256)
    if path is None:
        raise UntrustedModelError(
            f"The index was built with the embedding head '{Path(head).name}' (sha256 {head_sha256[:12]}…), which "
            f"is not among the trusted checkpoints (models/, ${TRUSTED_ENV}, $LOOKALIKE_HEAD); it was not loaded."
        )
    return str(path)
