"""'Goes well with' recall@10 on the held-out dev room photos, learned from the training photos only.

lookalike bench goes-with [--index DIR] [--rooms CSV] [--products CSV] [--tune] [--doc docs/BENCHMARKS.md]

With --index the catalogue's colours and look vectors come from a built index (any views setting); without one,
from products.csv alone (collection and words; no colours, no look). --tune chooses the blend on the training
photos' validation part (a model learned from the other training photos), never on the held-out ones.
The result goes to docs/BENCHMARKS.md (section "goes-with") and, with --json, to a file.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pandas as pd

from engine.index.backends import load_index
from engine.search.goes_with import SHOW_ROW, Weights
from engine.settings import PROJECT_ROOT, demo_catalog_dir
from training.goes_with_bench import evaluate, photos_of, profiles_learning_from, tune
from training.report import write_section
from training.room_pairs import room_part
from training.timing import machine

TRAIN, FIT = ("fit", "val"), ("fit",)


def catalogue(index_dir: Path | None, products_csv: Path):
    """(metadata, vectors_of, what it is): a built index's, or products.csv's with no colours and no look."""
    if index_dir is not None:
        index = load_index(index_dir)
        return index.meta, index.vectors, f"index `{index_dir.name}` ({len(index):,} vectors, {index.dim}-d)"
    table = pd.read_csv(products_csv, dtype=str, keep_default_na=False)
    meta = table.assign(id=np.arange(len(table), dtype=np.int64), kind="image")
    return meta, lambda ids: np.zeros((len(ids), 1), dtype=np.float32), "products.csv only (no colours, no look)"


def grid() -> list[Weights]:
    """Blends tried on the validation photos: around the defaults, one cue at a time."""
    base = Weights()
    tries = [base]
    for name, values in {
        "together": (0.25, 1.0),
        "collection": (0.25, 1.0),
        "words": (0.15, 0.6),
        "colors": (0.0, 0.3),
        "look": (0.0, 0.3),
        "popular": (0.0, 0.15),
        "kind_floor": (0.2, 0.5),
        "lookalike_weight": (0.25, 1.0),
    }.items():
        tries += [replace(base, **{name: value}) for value in values]
    return tries


def markdown(result: dict, tuned: list | None, about: str) -> str:
    """The BENCHMARKS.md section."""
    k, ratio = result["k"], result["ratio"]
    rows = "\n".join(
        f"| {name} | {m['recall']:.4f} | {m['ci'][0]:.4f} – {m['ci'][1]:.4f} |" for name, m in result["methods"].items()
    )
    if "visual similarity alone" not in result["methods"]:
        rows += "\n| visual similarity alone | needs `--index` (look vectors) | |"
    shown = SHOW_ROW and ratio["ci"][0] > 1
    verdict = (
        "The row is shown (`engine.search.goes_with.SHOW_ROW`): it beats popularity, and the paired interval "
        "stays above 1×."
        if shown
        else "The row stays off (`SHOW_ROW = False`): it does not beat popularity reliably here."
    )
    tuning = ""
    if tuned:
        default = next(score for score, weights in tuned if weights == Weights())
        tuning = (
            f" The blend (`engine.search.goes_with.Weights`) was chosen on the training photos' validation part "
            f"({result['val_photos']} photos, learning from the other training photos): {default:.4f} there, "
            f"{len(tuned)} blends tried, best {tuned[0][0]:.4f}."
        )
    return f"""## Goes well with (`lookalike bench goes-with`)

Measured {result["date"]} on {result["machine"]}; cues from {about}. Learned from the {result["train_photos"]}
training dev room photos only (`room_split`); evaluated on {result["photos"]} held-out photos ({result["queries"]}
queries): each listed product in turn is the query, the photo's other products of other kinds are hidden and must
come up among the top {k} of the {result["candidates"]:,} products (recall@{k}: mean per photo, then over photos;
95% bootstrap interval over photos, the independent unit). Only {result["seen_share"]:.0%} of the held-out photos'
products appear in any training photo, so most hidden products can only be found by their style.{tuning}
Popularity counts the training photos; its many ties are averaged over 20 random orders.

| method | recall@{k} | 95% interval |
|---|---|---|
{rows}

Goes well with / {result["baseline"]} (the stronger popularity): **{ratio["value"]:.2f}×** (paired bootstrap
{ratio["ci"][0]:.2f}× – {ratio["ci"][1]:.2f}×). {verdict}
"""


def main(argv: list[str] | None = None) -> int:
    """Tune (optionally) on validation photos, evaluate on held-out photos, print and write the section."""
    demo = demo_catalog_dir()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--index", type=Path, help="a built index of the rooms' catalogue (colours, look vectors; any --views)"
    )
    parser.add_argument("--rooms", type=Path, default=demo / "rooms.csv", help="rooms.csv: image, products")
    parser.add_argument("--products", type=Path, default=demo / "products.csv", help="used without --index")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--tune", action="store_true", help="also try blends on the validation photos")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--doc", type=Path, default=PROJECT_ROOT / "docs" / "BENCHMARKS.md")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args(argv)
    rooms = pd.read_csv(args.rooms, dtype=str, keep_default_na=False)
    meta, vectors_of, about = catalogue(args.index, args.products)
    tuned = None
    if args.tune:
        fit = profiles_learning_from(meta, vectors_of, rooms, FIT)
        tuned = tune(fit, photos_of(rooms, "val", fit), grid(), args.k)
        for score, weights in tuned:
            print(f"val recall@{args.k} {score:.4f}  {weights}")
    profiles = profiles_learning_from(meta, vectors_of, rooms, TRAIN)
    result = evaluate(profiles, photos_of(rooms, "heldout", profiles), Weights(), args.k)
    parts = rooms["image"].map(room_part)
    result |= {"date": pd.Timestamp.now().strftime("%Y-%m-%d"), "machine": machine()}
    result |= {"train_photos": int(parts.isin(TRAIN).sum()), "val_photos": int((parts == "val").sum())}
    print(json.dumps(result, indent=2))
    if args.json:
        tried = [[score, asdict(weights)] for score, weights in tuned or []]
        args.json.write_text(json.dumps(result | {"val_tried": tried}, indent=2))
    if not args.no_doc:
        write_section(args.doc, "goes-with", markdown(result, tuned, about))
    return 0


if __name__ == "__main__":
    sys.exit(main())
