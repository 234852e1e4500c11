"""scripts/make_detector_data.py end to end on two real training rooms with the COCO weights."""

import json

import pytest
import yaml

from catalog.taxonomy import CLASSES
from engine.settings import shared_data_dir
from scripts import make_detector_data
from training.detector.rooms import room_split

COCO = shared_data_dir().parent / "models" / "yolov8n-coco.pt"


@pytest.mark.integration
@pytest.mark.skipif(not COCO.is_file(), reason="COCO weights not in ../shared/models")
def test_two_rooms_give_labelled_variants_and_the_held_out_rooms_stay_out(tmp_path):
    scenes = tmp_path / "scenes"
    (scenes / "images" / "val").mkdir(parents=True)
    out = tmp_path / "detector"
    args = ["--rooms", str(shared_data_dir() / "ikea-rooms"), "--scenes", str(scenes), "--coco", str(COCO)]
    make_detector_data.main([*args, "--out", str(out), "--variants", "2", "--limit", "2"])

    images = sorted((out / "images" / "train").glob("*.jpg"))
    labels = sorted((out / "labels" / "train").glob("*.txt"))
    assert len(images) == len(labels) == 4
    lines = [line.split() for path in labels for line in path.read_text().splitlines()]
    assert lines, "no box in four real room images"
    assert all(0 <= int(c) < len(CLASSES) and all(0 <= float(v) <= 1 for v in box) for c, *box in lines)
    split = json.loads((out / "split.json").read_text())
    assert len(split["train"]) == 2 and all(room_split(r) == "train" for r in split["train"])
    assert split["heldout"] and all(room_split(r) == "heldout" for r in split["heldout"])
    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"] == dict(enumerate(CLASSES)) and len(data["train"]) == 2
