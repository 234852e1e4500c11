"""Detector training set from real rooms: COCO pseudo-labels plus catalogue cut-outs pasted on the training rooms.

    python scripts/make_detector_data.py --rooms ../shared/data/ikea-rooms --scenes DATA/scenes \
        --coco ../shared/models/yolov8n-coco.pt --out DATA/detector --variants 8

Only the rooms that `training.detector.rooms.room_split` puts in "train" are read; the held-out ones are listed in
OUT/split.json for the benchmark. OUT/data.yaml trains on the synthetic scenes (--scenes, from
scripts/synthesize_scenes.py) plus the room images, and validates on the synthetic validation scenes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from training.detector.rooms import HELDOUT_FRACTION, make_room_data


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rooms", type=Path, required=True, help="folder with rooms.csv")
    ap.add_argument("--scenes", type=Path, required=True, help="synthetic scenes folder (its data.yaml)")
    ap.add_argument("--coco", required=True, help="COCO checkpoint for the pseudo-labels")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--variants", type=int, default=8, help="training images made from each training room")
    ap.add_argument("--imgsz", type=int, default=640, help="longer side of the written images")
    ap.add_argument("--heldout-fraction", type=float, default=HELDOUT_FRACTION)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None, help="first N training rooms only (tests)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Pseudo-label the training rooms, write the room variants and the data.yaml."""
    import engine

    args = parse_args(argv)
    counts = make_room_data(
        engine.Detector(args.coco), args.rooms, args.scenes, args.out, args.variants, args.imgsz,
        args.heldout_fraction, args.seed, args.limit,
    )  # fmt: skip
    print(f"{counts['train']} training rooms x {args.variants} -> {counts['images']} images, {counts['boxes']} boxes")
    print(f"held out: {counts['heldout']} rooms; data.yaml -> {args.out / 'data.yaml'}")


if __name__ == "__main__":
    main()
