"""bench_on_topic.py end to end: the committed detector and head, the COCO labeller, real FAISS.

The "rooms" are two catalogue photos side by side (a sofa and a chair, both listed), over the session's
60-product ikea-catalog index built the default way.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from PIL import Image

from engine.settings import shared_data_dir
from scripts import bench_on_topic
from tests.conftest import CATALOG

COCO = shared_data_dir().parent / "models" / "yolov8n-coco.pt"


def test_box_label_needs_overlap_and_a_listed_class():
    labels = [("sofa", (0, 0, 100, 100)), ("chair", (200, 0, 300, 100))]
    assert bench_on_topic.box_label((0, 0, 90, 100), labels, {"sofa", "chair"}) == "sofa"
    assert bench_on_topic.box_label((0, 0, 90, 100), labels, {"chair"}) == ""  # the room lists no sofa
    assert bench_on_topic.box_label((400, 0, 500, 100), labels, {"sofa", "chair"}) == ""


def test_rankings_start_from_plain_similarity():
    configs = bench_on_topic.rankings([0.0, 0.1])
    assert list(configs) == ["bonus 0", "bonus 0.1"]
    assert configs["bonus 0"].product_bonus == 0 and configs["bonus 0.1"].product_bonus > 0


@pytest.mark.slow
@pytest.mark.skipif(not COCO.is_file(), reason=f"no COCO weights at {COCO}")
def test_every_ranking_is_measured_on_the_same_proposals(default_catalog_index, small_products, tmp_path, capsys):
    rooms = tmp_path / "rooms"
    rooms.mkdir()
    picks = [small_products[small_products["category"] == c].iloc[0] for c in ("sofas", "chairs")]
    canvas = Image.new("RGB", (500, 250), "white")
    for i, row in enumerate(picks):
        canvas.paste(Image.open(CATALOG / row["image"]).convert("RGB"), (250 * i, 0))
    canvas.save(rooms / "room.jpg")
    listed = " ".join(row["image"] for row in picks)
    pd.DataFrame([{"image": "room.jpg", "room_type": "Living room", "products": listed}]).to_csv(
        rooms / "rooms.csv", index=False
    )
    out, doc = tmp_path / "topic.json", tmp_path / "BENCHMARKS.md"
    args = ["--index", str(default_catalog_index), "--rooms", str(rooms), "--room-split", "all", "--bonus", "0", "0.2"]
    assert (
        bench_on_topic.main([*args, "--labels", str(COCO), "--like-limit", "12", "--json", str(out), "--doc", str(doc)])
        == 0
    )
    result = json.loads(out.read_text())
    plain, steered = result["rankings"]["bonus 0"], result["rankings"]["bonus 0.2"]
    assert result["n_rooms"] == 1 and result["proposals"] >= 2 and result["topic_boxes"] >= 1
    assert steered["class_p@10"] >= plain["class_p@10"]
    assert steered["large_recall@10"] is not None and 0 <= steered["recall@10"] <= 1
    assert result["like"]["bonus 0.2"]["class_p@10"] >= result["like_before"]["class_p@10"]
    assert result["like"]["bonus 0.2"]["n"] == 12
    assert "<!-- on-topic:start -->" in doc.read_text() and "| bonus 0.2 (the default) |" in doc.read_text()
    assert "category P@10" in capsys.readouterr().out
    again = tmp_path / "AGAIN.md"
    assert bench_on_topic.main(["--render", str(out), "--doc", str(again)]) == 0  # the section from the JSON alone
    assert again.read_text().split("<!-- on-topic:start -->")[1] == doc.read_text().split("<!-- on-topic:start -->")[1]
