"""engine.load: the bundle over a real built index, and the query-time detection settings."""

from __future__ import annotations

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
