"""scripts/bench_load.py end to end: two concurrent Chromium shoppers against a real server over the small index.

The index's detector has random weights and finds nothing, so both sessions draw their box.
"""

import json

import pytest

from engine.settings import sample_rooms_dir
from scripts import bench_load
from scripts.serverlib import chromium_path

pytestmark = pytest.mark.browser


def test_two_sessions_upload_draw_and_get_a_grid(built_index, tmp_path, capsys):
    pytest.importorskip("playwright")
    if chromium_path() is None or not sample_rooms_dir().is_dir():
        pytest.skip("needs Debian chromium and the ikea-rooms photos")
    out, doc = tmp_path / "load.json", tmp_path / "BENCH.md"
    args = ["--sessions", "2", "--index", str(built_index[0]), "--json", str(out), "--doc", str(doc)]
    code = bench_load.main([*args, "--timeout", "500"])
    results = json.loads(out.read_text())
    assert code == 0, results["sessions"]
    assert results["n_sessions"] == len(results["sessions"]) == 2 and results["errors"] == 0
    assert len({s["photo"] for s in results["sessions"]}) == 2  # one photo each, round-robin
    for session in results["sessions"]:
        assert session["errors"] == [] and session["mode"] == "draw" and session["label"] == "your box 1"
        assert session["upload_to_boxes_s"] > 0 and session["click_to_grid_s"] > 0
        assert session["server_detect_ms"] > 0 and session["server_search_ms"] > 0  # read off the page
    for measure in ("upload_to_boxes", "click_to_grid"):
        assert results[measure]["n"] == 2 and 0 < results[measure]["p50_s"] <= results[measure]["p95_s"]
    assert results["server_peak_rss_mb"] >= results["server_rss_start_mb"] > 50  # a Python process with torch
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("load: 2 sessions, 0 errors, upload->boxes")
    text = doc.read_text()
    assert "<!-- load:start -->" in text and "| click → grid |" in text and "| 2 | ikea-" in text
