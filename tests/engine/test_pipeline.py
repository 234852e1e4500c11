"""engine.load: the bundle over a real built index, and the query-time detection settings."""

from __future__ import annotations

import json

import pytest
import torch

import engine
from engine.settings import QUERY_CONF, QUERY_MAX_DET


def test_queries_use_the_query_detection_settings_not_the_build_ones(built_index, monkeypatch):
    service = engine.load(built_index[0])
    manifest_conf = service.index.manifest["detector"]["config"]["conf"]
    assert (service.detector.config.conf, service.detector.config.max_det) == (QUERY_CONF, QUERY_MAX_DET)
    assert manifest_conf != QUERY_CONF  # the catalogue was built with the stricter threshold
    monkeypatch.setenv("LOOKALIKE_QUERY_CONF", "0.4")
    monkeypatch.setenv("LOOKALIKE_QUERY_MAX_DET", "7")
    tuned = engine.load(built_index[0]).detector.config
    assert (tuned.conf, tuned.max_det) == (0.4, 7)


class Payload:
    """Unpickling this creates the marker file: what a malicious checkpoint could do with any code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def fake_index(root, weights, sha256: str) -> None:
    """An index folder whose manifest points at `weights` (nothing else is needed to reach the detector)."""
    from engine.embedding import EmbeddingConfig

    (root / "v1").mkdir(parents=True)
    (root / "CURRENT").write_text("v1")
    detector = {"weights": weights.name, "weights_path": str(weights), "weights_sha256": sha256}
    detector["config"] = {"imgsz": 640, "conf": 0.25, "iou": 0.7, "max_det": 50}
    manifest = {"detector": detector, "embedding": EmbeddingConfig().to_dict()}
    (root / "v1" / "manifest.json").write_text(json.dumps(manifest))


def test_a_manifest_pointing_at_a_malicious_checkpoint_is_refused_before_loading_it(tmp_path):
    marker, evil = tmp_path / "pwned", tmp_path / "evil.pt"
    torch.save(Payload(marker), evil)
    fake_index(tmp_path / "index", evil, "0" * 64)
    with pytest.raises(engine.IndexMismatchError, match="sha256"):
        engine.load(tmp_path / "index")
    with pytest.raises(engine.IndexMismatchError, match="sha256"):
        engine.load(tmp_path / "index", weights=evil)
    assert not marker.exists()


def test_warming_up_changes_nothing_a_shopper_sees(service, built_index):
    """The warm-up query at load time writes nothing and leaves the index and later results as they were."""
    files = {p: p.stat().st_mtime_ns for p in built_index[0].rglob("*") if p.is_file()}
    image = engine.load_image(service.image_path(service.index.meta["image"].iloc[0]))
    before = service.search_box(service.analyse(image), (0, 0, *image.size), k=5)
    n = len(service.index)
    service.warm_up()
    assert service.search_box(service.analyse(image), (0, 0, *image.size), k=5) == before
    assert len(service.index) == n
    assert {p: p.stat().st_mtime_ns for p in built_index[0].rglob("*") if p.is_file()} == files
