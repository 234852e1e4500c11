"""Train the furniture detector (Ultralytics YOLO) on the synthetic scenes, on CPU.

Example (the whole recipe, with the data steps, is scripts/train_furniture_detector.sh):
    python scripts/train_detector.py --data DATA/detector/data.yaml \
        --weights ../shared/models/yolov8n-coco.pt --freeze 10 --imgsz 480 --hours 0.9 \
        --project DATA/runs --name furniture-v8n --out models/furniture-yolov8n.pt

Re-running the same command resumes from the run's ``weights/last.pt`` when that
run is unfinished; when it is finished it only copies ``best.pt`` and reports.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.settings import TRAINED_DETECTOR
from training.detector.train import DetectorTraining, train_detector

DEFAULTS = DetectorTraining  # its field defaults are the options' defaults


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="YOLO data.yaml")
    ap.add_argument("--weights", default=DEFAULTS.weights, help="model yaml or .pt")
    ap.add_argument("--epochs", type=int, default=DEFAULTS.epochs)
    ap.add_argument("--hours", type=float, default=None, help="time box: stop after this long (overrides --epochs)")
    ap.add_argument("--lr0", type=float, default=None, help="initial learning rate (default: Ultralytics' choice)")
    ap.add_argument("--imgsz", type=int, default=DEFAULTS.imgsz)
    ap.add_argument("--batch", type=int, default=DEFAULTS.batch)
    ap.add_argument("--workers", type=int, default=DEFAULTS.workers)
    ap.add_argument("--device", default=DEFAULTS.device)
    ap.add_argument("--cache", default=DEFAULTS.cache, help="ram, disk or none")
    ap.add_argument(
        "--fraction", type=float, default=DEFAULTS.fraction, help="train on this share of the training images"
    )
    ap.add_argument("--freeze", type=int, default=0, help="freeze the first N layers (1: a pretrained backbone module)")
    ap.add_argument("--close-mosaic", type=int, default=DEFAULTS.close_mosaic, help="last epochs w/o mosaic")
    ap.add_argument("--project", default=DEFAULTS.project)
    ap.add_argument("--name", default=DEFAULTS.name)
    ap.add_argument("--out", default=str(TRAINED_DETECTOR))
    ap.add_argument("--resume", action="store_true", help="resume the run's last.pt")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing run")
    ap.add_argument("--plot", default=None, help="write training curves (losses, val mAP) to this PNG")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Train, copy best.pt to --out and print the validation mAP."""
    options = vars(parse_args(argv))
    out, plot = Path(options.pop("out")), options.pop("plot")
    map50, map5095 = train_detector(DetectorTraining(**options), out, Path(plot) if plot else None)
    print(f"val mAP50={map50:.4f} mAP50-95={map5095:.4f}")


if __name__ == "__main__":
    main()
