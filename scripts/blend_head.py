"""Blend a trained embedding head with its centred base vector (`training.head.blend`): a new head file.

    lookalike blend-head --head models/head-lite0.pt --out models/head-lite0-blend.pt \\
        [--catalogue ../shared/data/ikea-rooms ../shared/data/ikea-catalog] [--rooms ../shared/data/ikea-rooms] \\
        [--crop-size 288] [--base-share 0.5] [--weights DETECTOR]

The catalogue side's mean comes from every product photo of the --catalogue folders, the room side's from the
detector's proposals in the training-split photos of --rooms. Indexes built with the result record it like any
head; the benchmark that chose the recipe is `docs/BENCHMARKS.md`, "Every embedding choice".
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from engine.detection.detector import Detector, DetectorConfig
from engine.embedding.head import load_head
from engine.settings import default_weights, query_detection, shared_data_dir
from training.head.blend import BlendRecipe, blend_head


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    data = shared_data_dir()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--head", type=Path, required=True, help="a trained head (not itself blended)")
    ap.add_argument("--out", type=Path, required=True, help="the blended head file to write")
    ap.add_argument("--catalogue", type=Path, nargs="+", default=[data / "ikea-rooms", data / "ikea-catalog"])
    ap.add_argument("--rooms", type=Path, default=data / "ikea-rooms", help="folder with rooms.csv")
    ap.add_argument("--crop-size", type=int, default=BlendRecipe.crop_size, help="crop side the result embeds at")
    ap.add_argument("--base-share", type=float, default=BlendRecipe.base_share, help="the base vector's share")
    ap.add_argument("--weights", default=None, help="detector for the room proposals (default: the shipped one)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Measure both sides and write the blended head."""
    args = parse_args(argv)
    if not 0.0 <= args.base_share <= 1.0:
        raise SystemExit("--base-share must be between 0 and 1")
    detector = Detector(args.weights or default_weights(), replace(DetectorConfig(), **query_detection()))
    recipe = BlendRecipe(args.crop_size, args.base_share)
    sha = blend_head(load_head(args.head), args.out, args.catalogue, args.rooms, detector, recipe)
    print(f"Blended head written to {args.out} (sha256 {sha[:12]}…)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
