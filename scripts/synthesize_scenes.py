"""Synthesize a YOLO detection dataset by pasting catalogue cut-outs on backgrounds.

Example:
    python scripts/synthesize_scenes.py --out /work/lookalike-data/scenes \
        --n-train 4000 --n-val 400 --imgsz 640 --seed 0
"""

from __future__ import annotations

import argparse

from training.detector.synthetic import SceneConfig, default_catalogs, synthesize


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="dataset folder to (re)write")
    ap.add_argument("--n-train", type=int, default=SceneConfig.n_train)
    ap.add_argument("--n-val", type=int, default=SceneConfig.n_val)
    ap.add_argument("--imgsz", type=int, default=SceneConfig.imgsz, help="longer image side")
    ap.add_argument("--seed", type=int, default=SceneConfig.seed)
    ap.add_argument("--val-fraction", type=float, default=SceneConfig.val_fraction, help="of families")
    ap.add_argument("--catalogs", nargs="+", default=default_catalogs())
    ap.add_argument("--backgrounds", default=None, help="folder of background photos")
    ap.add_argument("--workers", type=int, default=SceneConfig.workers)
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Generate the dataset."""
    args = parse_args(argv)
    records = synthesize(SceneConfig(**vars(args)))
    n_boxes = sum(o["labelled"] for r in records for o in r["objects"])
    print(f"wrote {len(records)} images with {n_boxes} boxes to {args.out}")


if __name__ == "__main__":
    main()
