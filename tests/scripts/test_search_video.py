"""scripts/search_video.py: the JSON it prints, and its errors."""

from __future__ import annotations

import json

from scripts import search_video


def test_json_has_one_entry_per_track(room_index, room_video, capsys):
    code = search_video.main(["--index", str(room_index["index"]), "--video", str(room_video), "--json"])
    out = capsys.readouterr()
    assert code == 0
    tracks = json.loads(out.out)
    assert len(tracks) >= 4
    images = set(room_index["products"]["image"])
    for track in tracks:
        assert set(track) == {"time_s", "box", "product_id", "score", "name", "image"}
        assert 0 <= track["time_s"] <= 6 and len(track["box"]) == 4
        assert track["image"] in images and -1 <= track["score"] <= 1
    assert [t["time_s"] for t in tracks] == sorted(t["time_s"] for t in tracks)
    assert "Video" in out.err  # progress on stderr


def test_the_table_lists_k_products_per_object(room_index, room_video, capsys):
    assert search_video.main(["--index", str(room_index["index"]), "--video", str(room_video), "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert "frames sampled" in out and "    1  " in out and "    2  " in out and "    3  " not in out


def test_a_broken_video_is_an_error_message_not_a_traceback(room_index, tmp_path, capsys):
    broken = tmp_path / "clip.mov"
    broken.write_text("not a video")
    assert search_video.main(["--index", str(room_index["index"]), "--video", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "error: This file is not a video" in err and "Traceback" not in err
