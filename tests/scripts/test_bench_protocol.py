"""scripts/bench_protocol.py end to end: two websocket-protocol shoppers (no browser) against a real server over the
real-path index (the committed detector), each picking a sample room and clicking its boxes."""

import json

import pytest

from engine.settings import sample_rooms_dir
from scripts import bench_protocol


def test_two_protocol_shoppers_pick_a_room_click_and_get_the_grid_they_asked_for(room_index, tmp_path, capsys):
    pytest.importorskip("websockets")
    if not sample_rooms_dir().is_dir():
        pytest.skip("needs the ikea-rooms photos")
    out, doc = tmp_path / "protocol.json", tmp_path / "BENCH.md"
    args = ["--sessions", "2", "--clicks", "2", "--index", str(room_index["index"]), "--json", str(out)]
    code = bench_protocol.main([*args, "--doc", str(doc)])
    results = json.loads(out.read_text())
    assert code == 0 and results["errors"] == 0, results["error_list"]  # every click's run named its grid
    assert results["open"]["n"] == results["photo"]["n"] == 2 and results["click"]["n"] >= 2
    assert 0 < results["click"]["p50_s"] <= results["click"]["p95_s"]
    assert results["server_peak_rss_mb"] >= results["server_rss_start_mb"] > 50
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("protocol: 2 shoppers, 0 errors")
    assert "<!-- load-protocol:start -->" in doc.read_text() and "| click → grid (server) |" in doc.read_text()
