"""Checkpoints only from trusted places: a pickle planted in an index folder (or named by its manifest anywhere) is
never unpickled; the recorded sha256 finds the real checkpoint in models/ or an operator's trusted folder."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

import engine
from engine.files import file_sha256
from engine.settings import TRAINED_DETECTOR, TRAINED_HEAD
from engine.trusted_models import TRUSTED_ENV, UntrustedModelError


class Payload:
    """Unpickling this runs a shell command that leaves a marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch '{self.marker}'",)


def planted_checkpoint(path: Path, marker: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": Payload(marker), "train_args": {}}, path)
    return path


def index_copy(built_index, root: Path) -> tuple[Path, Path]:
    """A copy of the small index; returns (index folder, its version folder)."""
    index = Path(shutil.copytree(built_index[0], root / "index"))
    return index, index / (index / "CURRENT").read_text().strip()


def rewrite_manifest(version: Path, change) -> None:
    path = version / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def claim_detector(version: Path, weights: Path) -> None:
    """The manifest says the index was built with `weights`, at that path, with that file's sha256."""

    def change(manifest):
        sha = file_sha256(weights)
        manifest["detector"].update(weights=str(weights), weights_path=str(weights), weights_sha256=sha)

    rewrite_manifest(version, change)


@pytest.mark.parametrize("where", ["version folder", "outside the index"])
def test_a_planted_detector_checkpoint_is_never_unpickled(built_index, tmp_path, monkeypatch, where):
    monkeypatch.delenv("LOOKALIKE_WEIGHTS", raising=False)
    index, version = index_copy(built_index, tmp_path)
    marker = tmp_path / "payload-ran"
    folder = version if where == "version folder" else tmp_path / "elsewhere"
    claim_detector(version, planted_checkpoint(folder / "furniture-yolov8n.pt", marker))
    with pytest.raises(UntrustedModelError, match="not among the trusted checkpoints"):
        engine.load(index)
    assert not marker.exists()


def test_a_named_checkpoint_is_still_unpickled_safely(built_index, tmp_path, monkeypatch):
    """Even a file the caller names (and whose sha256 the manifest has) is loaded with weights_only=True."""
    index, version = index_copy(built_index, tmp_path)
    marker = tmp_path / "payload-ran"
    evil = planted_checkpoint(tmp_path / "named" / "weights.pt", marker)
    claim_detector(version, evil)
    with pytest.raises(ValueError, match="refused"):
        engine.load(index, weights=evil)
    assert not marker.exists()


def test_a_planted_head_is_never_loaded(built_index, tmp_path):
    index, version = index_copy(built_index, tmp_path)
    head = version / "head.pt"
    torch.save({"format": 1}, head)

    def change(manifest):
        manifest["embedding"].update(head=str(head), head_sha256=file_sha256(head))

    rewrite_manifest(version, change)
    with pytest.raises(UntrustedModelError, match="embedding head 'head.pt'"):
        engine.load(index)


@pytest.mark.skipif(not TRAINED_DETECTOR.is_file(), reason="no committed detector")
def test_the_recorded_sha256_finds_the_checkpoint_in_models_and_in_trusted_folders(built_index, tmp_path, monkeypatch):
    monkeypatch.delenv("LOOKALIKE_WEIGHTS", raising=False)
    index, version = index_copy(built_index, tmp_path)
    claim_detector(version, TRAINED_DETECTOR)
    rewrite_manifest(version, lambda m: m["detector"].update(weights_path="/nowhere/furniture-yolov8n.pt"))
    assert engine.load(index).detector.weights_path == TRAINED_DETECTOR.resolve()

    from ultralytics.nn.tasks import torch_safe_load

    checkpoint, _ = torch_safe_load(str(TRAINED_DETECTOR), safe_only=True)
    trusted = tmp_path / "operator-models" / "runs" / "best.pt"
    trusted.parent.mkdir(parents=True)
    torch.save({**checkpoint, "note": "a copy"}, trusted)  # the same network in another file: only in a trusted folder
    claim_detector(version, trusted)
    rewrite_manifest(version, lambda m: m["detector"].update(weights_path="/nowhere/best.pt"))
    with pytest.raises(UntrustedModelError):
        engine.load(index)
    monkeypatch.setenv(TRUSTED_ENV, str(tmp_path / "operator-models"))
    assert engine.load(index).detector.weights_path == trusted.resolve()


@pytest.mark.skipif(not TRAINED_HEAD.is_file(), reason="no committed head")
def test_a_head_is_found_by_its_sha256_not_by_the_manifests_path(built_index, tmp_path):
    from engine.service import recorded_embedding

    manifest = json.loads((index_copy(built_index, tmp_path)[1] / "manifest.json").read_text())
    manifest["embedding"].update(head="/somewhere/else/head-lite0.pt", head_sha256=file_sha256(TRAINED_HEAD))
    assert Path(recorded_embedding(manifest).head) == TRAINED_HEAD


def test_the_search_command_refuses_a_planted_checkpoint_without_running_it(built_index, tmp_path, capsys, monkeypatch):
    from scripts import search

    monkeypatch.delenv("LOOKALIKE_WEIGHTS", raising=False)
    index, version = index_copy(built_index, tmp_path)
    marker = tmp_path / "payload-ran"
    claim_detector(version, planted_checkpoint(version / "furniture-yolov8n.pt", marker))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"unused: the index is refused first")
    assert search.main(["--index", str(index), "--image", str(photo)]) == 2
    assert "not among the trusted checkpoints" in capsys.readouterr().err and not marker.exists()
    assert (
        search.main(["--index", str(index), "--image", str(photo), "--weights", str(version / "furniture-yolov8n.pt")])
        == 2
    )
    assert "refused" in capsys.readouterr().err and not marker.exists()
