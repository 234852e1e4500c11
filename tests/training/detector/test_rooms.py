"""Real-room training data: a fixed split by photo, pasted cut-outs labelled, hidden pseudo-labels dropped."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from catalog.taxonomy import CLASSES
from engine.settings import shared_data_dir
from training import scenes
from training.detector import rooms as dd

ROOMS = shared_data_dir() / "ikea-rooms"


@pytest.mark.integration
def test_room_split_is_by_file_name_and_near_the_fraction():
    images = pd.read_csv(ROOMS / "rooms.csv")["image"].tolist()
    parts = [dd.room_split(image) for image in images]
    assert parts == [dd.room_split("elsewhere/" + image.split("/")[-1]) for image in images]
    heldout = parts.count("heldout") / len(parts)
    assert 0.2 < heldout < 0.4
    assert set(parts) == {"train", "heldout"}


def cutout(cls: str, colour, size=(120, 80)) -> tuple[scenes.Product, Image.Image]:
    product = scenes.Product("test", "p", "p.jpg", "p.jpg", "FAMILY", cls, cls)
    cut = Image.new("RGBA", size, (*colour, 255))
    return product, cut


def test_room_scene_keeps_boxes_inside_and_labels_the_pasted_cut_out():
    rng = np.random.default_rng(0)
    room = Image.new("RGB", (400, 300), (200, 190, 180))
    pseudo = [("chair", (150.0, 100.0, 250.0, 200.0))]
    lamps = 0
    for _ in range(20):
        scene, labels = dd.room_scene(rng, room, pseudo, [cutout("lamp", (10, 10, 10))], long_side=320)
        assert max(scene.size) == 320
        assert {cls for cls, _ in labels} <= {"chair", "lamp"}
        for _, (x0, y0, x1, y1) in labels:
            assert 0 <= x0 < x1 <= scene.width and 0 <= y0 < y1 <= scene.height
        lamps += any(cls == "lamp" for cls, _ in labels)
    assert lamps >= 15  # the pasted cut-out is labelled unless it landed mostly outside the photo


def test_a_mostly_covered_pseudo_label_is_dropped():
    covered = np.zeros((100, 100), dtype=bool)
    box = (10.0, 10.0, 60.0, 60.0)
    assert dd._still_visible(box, 2500, covered)
    covered[10:60, 10:45] = True  # 70% hidden
    assert not dd._still_visible(box, 2500, covered)
    assert not dd._still_visible((10.0, 10.0, 60.0, 60.0), 2500 / 0.3, np.zeros((100, 100), bool))  # cropped away


def test_yolo_lines_normalise_and_skip_unknown_classes():
    lines = dd.yolo_lines([("sofa", (0, 0, 50, 100)), ("spaceship", (0, 0, 1, 1))], (100, 200), CLASSES)
    assert lines == [f"{CLASSES.index('sofa')} 0.250000 0.250000 0.500000 0.500000"]
