"""COCO class names map onto the furniture taxonomy; a COCO detector keeps only those classes."""

from pathlib import Path

import pytest

import engine
from engine.detection.labels import COCO_TO_FURNITURE, display_labels, is_coco
from engine.settings import shared_data_dir

COCO_WEIGHTS = shared_data_dir().parent / "models" / "yolov8n-coco.pt"
ROOMS = shared_data_dir() / "ikea-rooms" / "rooms"
ROOM = ROOMS / "ikea-a-cosy-space-for-coffee-and-conversation__1364308407140-s4.jpg"


def test_mapped_labels_are_taxonomy_classes():
    from catalog.taxonomy import CLASSES

    assert set(COCO_TO_FURNITURE.values()) <= set(CLASSES)


def test_project_names_pass_through_and_coco_is_filtered():
    assert display_labels({0: "sofa", 1: "chair"}) == {0: "sofa", 1: "chair"}
    coco = {0: "person", 1: "couch", 2: "dining table", 3: "car", 4: "chair"}
    assert is_coco(coco)
    assert display_labels(coco) == {1: "sofa", 2: "table", 4: "chair"}


@pytest.mark.skipif(not COCO_WEIGHTS.is_file(), reason="COCO weights not in ../shared/models")
@pytest.mark.integration
def test_coco_detector_on_a_real_room_reports_furniture_only():
    detector = engine.Detector(COCO_WEIGHTS, engine.DetectorConfig(conf=0.3))
    analysis = detector.analyse([engine.load_image(ROOM)])[0]
    labels = [d.class_name for d in analysis.detections]
    assert "chair" in labels and "table" in labels, labels  # the photo shows a dining table and chairs
    assert set(labels) <= set(COCO_TO_FURNITURE.values())
    assert Path(detector.weights_path).name == "yolov8n-coco.pt"
