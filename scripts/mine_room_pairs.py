"""Mine real scene -> product pairs from the dev room photos (training rooms only) for the embedding head.

    python scripts/mine_room_pairs.py --index INDEX_DIR --rooms RDIR --out PAIRS_DIR [--part train]
        [--max-rank 50] [--min-score 0.3] [--conf 0.01] [--max-det 25] [--sheet docs/room-pairs.png]

Each room is detected with the query settings, each box embedded once; every listed product is matched to its
best box (`training.room_pairs`). PAIRS_DIR gets `pairs.csv` (the kept pairs), `candidates.csv` (every
product x box, for the quality report), `base.npy` (the kept boxes' base vectors, in `pairs.csv` order),
`negatives.npy` (per pair, the base vector of the closest other box of the photo), `quality.json`, and every box
of every room with the products each photo lists (`boxes.npz`, `rooms.json`: what `train_head.py --room-eval`
measures shop-the-look recall on).
`--sheet` draws a contact sheet: each mined room crop beside its catalogue photo. `scripts/train_head.py
--room-pairs PAIRS_DIR` trains on them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

import engine
from engine.files import atomic_write_text, atomic_writer
from engine.settings import default_index_dir, shared_data_dir
from training.benchmark import query_detector
from training.room_pairs import MiningConfig, boxes_table, mine_pairs, pair_vectors, quality

THUMB = 112  # contact-sheet tile side (pixels)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, default=default_index_dir(), help="catalogue index (its model scores)")
    ap.add_argument("--rooms", type=Path, default=shared_data_dir() / "ikea-rooms", help="folder with rooms.csv")
    ap.add_argument("--out", type=Path, required=True, help="folder for the pairs and their vectors")
    parts = ["train", "fit", "val", "heldout", "all"]
    ap.add_argument("--part", default="train", choices=parts, help="rooms of this part (training.room_pairs.room_part)")
    ap.add_argument("--max-rank", type=int, default=MiningConfig.max_rank)
    ap.add_argument("--min-score", type=float, default=MiningConfig.min_score)
    ap.add_argument("--conf", type=float, default=0.01, help="query detection confidence")
    ap.add_argument("--max-det", type=int, default=25, help="boxes per room")
    ap.add_argument("--sheet", type=Path, help="contact sheet PNG of the mined pairs")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--quiet", action="store_true")
    return ap.parse_args(argv)


def save_npy(path: Path, array: np.ndarray) -> None:
    """Atomic `np.save`."""
    with atomic_writer(path) as out:
        np.save(out, array)


def tile(image: Image.Image, box=None) -> Image.Image:
    """A square thumbnail of an image (or of a box of it)."""
    crop = image.crop(tuple(int(v) for v in box)) if box is not None else image
    crop.thumbnail((THUMB, THUMB))
    out = Image.new("RGB", (THUMB, THUMB), "white")
    out.paste(crop.convert("RGB"), ((THUMB - crop.width) // 2, (THUMB - crop.height) // 2))
    return out


def contact_sheet(pairs, rooms_dir: Path, service, path: Path, n: int = 48, columns: int = 4) -> None:
    """A grid of (room crop | catalogue photo) tiles for a random sample of pairs, with score and rank."""
    sample = pairs.sample(min(n, len(pairs)), random_state=0) if len(pairs) else pairs
    rows = -(-len(sample) // columns)
    sheet = Image.new("RGB", (columns * (2 * THUMB + 12), max(1, rows) * (THUMB + 18)), "white")
    draw = ImageDraw.Draw(sheet)
    photo = service.index.meta.drop_duplicates("product_id").set_index("product_id")["image"]
    for i, row in enumerate(sample.itertuples(index=False)):
        x, y = (i % columns) * (2 * THUMB + 12), (i // columns) * (THUMB + 18)
        sheet.paste(tile(engine.load_image(rooms_dir / row.image), (row.x0, row.y0, row.x1, row.y1)), (x, y))
        sheet.paste(tile(engine.load_image(service.image_path(photo[row.product_id]))), (x + THUMB, y))
        draw.text((x + 2, y + THUMB + 2), f"{row.score:.2f}  rank {row.rank}  {row.box_class}", fill="black")
    with atomic_writer(path) as out:
        sheet.quantize(colors=192, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)


def main(argv: list[str] | None = None) -> int:
    """Mine, write the pairs and their vectors, print the quality report."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    service = engine.load(args.index)
    detector = query_detector(service, {"conf": args.conf, "max_det": args.max_det})
    config = MiningConfig(part=args.part, max_rank=args.max_rank, min_score=args.min_score)
    pairs, candidates, rooms = mine_pairs(service, detector, args.rooms, config, progress=not args.quiet)
    args.out.mkdir(parents=True, exist_ok=True)
    positives, negatives = pair_vectors(pairs, rooms)
    save_npy(args.out / "base.npy", positives)
    save_npy(args.out / "negatives.npy", negatives)
    atomic_write_text(args.out / "pairs.csv", pairs.to_csv(index=False))
    atomic_write_text(args.out / "candidates.csv", candidates.to_csv(index=False))
    arrays, listings = boxes_table(rooms)
    with atomic_writer(args.out / "boxes.npz") as out:
        np.savez(out, **arrays)
    atomic_write_text(args.out / "rooms.json", json.dumps(listings, indent=1))
    report = quality(pairs, candidates, len(rooms)) | {
        "index": str(args.index.resolve()),
        "rooms_dir": str(args.rooms.resolve()),
        "config": vars(config),
        "embedding": service.index.manifest["embedding"],
    }
    atomic_write_text(args.out / "quality.json", json.dumps(report, indent=1, default=str))
    if args.sheet:
        contact_sheet(pairs, args.rooms, service, args.sheet)
    print(json.dumps({k: v for k, v in report.items() if k != "embedding"}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
