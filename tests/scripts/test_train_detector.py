"""One real Ultralytics training epoch on a tiny synthesized dataset; the checkpoint then serves the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.detection.detector import Detector
from scripts import synthesize_scenes, train_detector
from tests.conftest import CATALOG

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    """A tiny synthesized YOLO dataset: 8 train and 4 val scenes."""
    if not CATALOG.is_dir():
        pytest.skip(f"no catalogue at {CATALOG}")
    data = tmp_path_factory.mktemp("scenes")
    synthesize_scenes.main(
        ["--out", str(data), "--n-train", "8", "--n-val", "4", "--imgsz", "192", "--workers", "1",
         "--catalogs", str(CATALOG)]
    )  # fmt: skip
    return data


@pytest.mark.slow
def test_one_epoch_from_yaml_then_a_rerun_does_not_retrain(scenes, tmp_path, capsys):
    data = scenes
    train = train_detector
    out = tmp_path / "models" / "tiny.pt"
    args = ["--data", str(data / "data.yaml"), "--weights", "yolo11n.yaml", "--epochs", "1", "--imgsz", "64"]
    args += ["--batch", "4", "--workers", "0", "--cache", "none", "--project", str(tmp_path / "runs")]
    args += ["--name", "tiny", "--out", str(out), "--plot", str(tmp_path / "curves.png")]
    train.main(args)
    assert "val mAP50=" in capsys.readouterr().out
    assert out.is_file()
    assert Image.open(tmp_path / "curves.png").size[0] > 500

    detector = Detector(out)  # the trained checkpoint loads through the engine like any Ultralytics one
    assert len(detector.names) == len(train_classes(data))
    analysis = detector.analyse([Image.fromarray(np.full((96, 128, 3), 200, np.uint8))])[0]
    assert [int(f.shape[0]) for f in analysis.feature_maps] == [64, 128, 256]

    train.main(args)  # finished run: no second training, same checkpoint copied again
    assert "not training again" in capsys.readouterr().out


def train_classes(data: Path) -> list[str]:
    import yaml

    names = yaml.safe_load((data / "data.yaml").read_text())["names"]
    return list(names.values()) if isinstance(names, dict) else list(names)


@pytest.mark.slow
def test_one_epoch_on_the_imagenet_effnet_backbone_gives_a_loadable_checkpoint(scenes, tmp_path):
    out = tmp_path / "effnet.pt"
    args = ["--data", str(scenes / "data.yaml"), "--weights", str(ROOT / "models" / "yolo11n-effnet.yaml")]
    args += ["--epochs", "1", "--imgsz", "64", "--batch", "4", "--workers", "0", "--cache", "none"]
    args += ["--project", str(tmp_path / "runs"), "--name", "effnet", "--out", str(out)]
    train_detector.main(args)
    detector = Detector(out)  # unpickles the custom backbone through the engine
    assert type(detector.model.model[0]).__name__ == "EfficientNetLite0Backbone"
    analysis = detector.analyse([Image.fromarray(np.full((96, 128, 3), 200, np.uint8))])[0]
    assert [int(f.shape[0]) for f in analysis.feature_maps] == [64, 128, 256]
