"""The heads benchmark: one row per index, the real rooms benchmark under each."""

from __future__ import annotations

import json

import pytest

from scripts import bench_heads


def test_each_variant_is_a_row_and_the_same_index_scores_the_same(room_index, one_room_dir, tmp_path, capsys):
    index = room_index["index"]
    args = ["--variant", f"shipped={index}", "--variant", f"again={index}", "--rooms", str(one_room_dir)]
    args += ["--room-split", "all", "--json", str(tmp_path / "r.json"), "--doc", str(tmp_path / "B.md")]
    assert bench_heads.main(args) == 0
    results = json.loads((tmp_path / "r.json").read_text())
    assert list(results) == ["shipped", "again"] and results["shipped"]["n_rooms"] == 1
    assert results["shipped"]["all"] == results["again"]["all"] and results["shipped"]["all"]["recall@10"] > 0
    table = (tmp_path / "B.md").read_text()
    assert "<!-- heads-rooms:start -->" in table and table.count("| shipped |") == table.count("| again |") == 1


def test_a_variant_needs_a_name_and_a_folder():
    with pytest.raises(SystemExit):
        bench_heads.main(["--variant", "no-equals-sign", "--rooms", "."])
