"""Grids on topic: category precision@10 on real rooms and on the catalogue page, without and with the class prior.

    python scripts/bench_on_topic.py --index INDEX_DIR --rooms RDIR [--room-split heldout] [--bonus 0 0.1 0.2] \
        [--labels COCO_WEIGHTS] [--limit N] [--json OUT] [--doc docs/BENCHMARKS.md]
    python scripts/bench_on_topic.py --render OUT.json --doc docs/BENCHMARKS.md

Every room is detected once and every proposal (the query detector's boxes, as in `scripts/benchmark.py --rooms`)
embedded once; each ranking (`engine.search.rerank.RankingConfig` with each --bonus; 0 is plain similarity) searches the
same vectors the way the app does (`Lookalike.search` with the box's class). Per ranking: recall@10 of the listed
products (all, large items), drawn-box precision, and category precision@10 on the proposals whose object is known
independently: a box of the COCO detector (--labels, confidence >= 0.35, `training.detector.rooms.pseudo_labels`)
overlaps it (IoU >= 0.5) and the room lists a product of that class. Class P@10: share of the top 10 of that class;
category P@10: share whose catalogue category is one the room lists for that class. "Like this product" (the
catalogue page, `Lookalike.search_product`): class P@10 over every categorised product of the index.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import pandas as pd
from tqdm import tqdm

import engine
from engine.detection.distinct import distinct_detections
from engine.geometry import box_iou
from engine.search.rerank import RankingConfig
from engine.settings import shared_data_dir
from training import metrics as ev
from training.benchmark import K, family_column, image_ids, product_table
from training.detector.rooms import pseudo_labels, room_split
from training.report import write_section
from training.timing import machine

LABEL_IOU = 0.5


def rankings(bonuses: list[float]) -> dict[str, RankingConfig]:
    """One ranking per bonus (0: plain similarity); the engine's default for the rest of the config."""
    default = RankingConfig()
    return {
        f"bonus {b:g}": dataclasses.replace(default, bonus=b, product_bonus=default.product_bonus * (b > 0))
        for b in bonuses
    }


def box_label(box, labels: list, listed_classes: set) -> str:
    """The COCO label of the pseudo-label box overlapping `box` best (IoU >= LABEL_IOU), if the room lists it."""
    best, best_iou = "", LABEL_IOU
    for label, other in labels:
        overlap = box_iou(box, other)
        if overlap >= best_iou and label in listed_classes:
            best, best_iou = label, overlap
    return best


def run_room(service, labeler, rdir: Path, row: dict, truth: list, products: pd.DataFrame, configs: dict) -> dict:
    """Search every proposal of one room with every ranking; found products, drawn-box tops and topic hits."""
    image = engine.load_image(rdir / row["image"])
    analysis = service.analyse(image)
    labels = pseudo_labels(labeler, [image])[0]
    listed = products.loc[truth]
    boxes = [d.box for d in analysis.detections]
    vectors = [service.embed(analysis, box) for box in boxes]
    shown, _ = distinct_detections(analysis.detections)
    out = {"image": row["image"], "n_proposals": len(boxes), "n_labels": len(labels)}
    for name, config in configs.items():
        service.ranking = config
        ranked = [
            [m.product_id for m in service.search(v, K, kind=service.box_kind(analysis, b))]
            for b, v in zip(boxes, vectors)
        ]
        topic = []
        for box, ids in zip(boxes, ranked):
            label = box_label(box, labels, set(listed["cls"]))
            if label:
                wanted = set(listed.loc[listed["cls"] == label, "category"])
                got = products.loc[ids]
                topic.append({"label": label, "class_p": (got["cls"] == label).sum() / K,
                              "category_p": got["category"].isin(wanted).sum() / K})  # fmt: skip
        out[name] = {
            "found": sorted(ev.found_products(ranked, K)),
            "shown_top1": [ranked[i][0] if ranked[i] else None for i in shown],
            "topic": topic,
        }
    return out


def like_products(service, products: pd.DataFrame, configs: dict, limit: int | None) -> dict:
    """Class P@10 of "like this product" over every categorised product, per ranking."""
    chosen = products[products["category"] != ""].head(limit)
    by_bonus: dict[float, dict] = {}  # only the product bonus matters here: rankings that share it share the figure
    for name, config in configs.items():
        if config.product_bonus not in by_bonus:
            service.ranking = config
            scores = [
                (products.loc[[m.product_id for m in service.search_product(pid, K)], "cls"] == cls).sum() / K
                for pid, cls in tqdm(list(zip(chosen.index, chosen["cls"])), desc=f"like ({name})")
            ]
            by_bonus[config.product_bonus] = {"n": len(scores), "class_p@10": ev.mean(scores)}
    return {name: by_bonus[config.product_bonus] for name, config in configs.items()}


def summarise(records: list[dict], truth: list, products: pd.DataFrame, name: str) -> dict:
    """The figures of one ranking over all rooms."""
    found = [r[name]["found"] for r in records]
    topic = [t for r in records for t in r[name]["topic"]]
    return {
        "recall@10": ev.room_recall(found, truth, lambda p: True)["recall@10"],
        "large_recall@10": ev.room_recall(found, truth, lambda p: bool(products.at[p, "large"]))["recall@10"],
        "shown_precision": ev.shown_precision([r[name]["shown_top1"] for r in records], truth),
        "topic_boxes": len(topic),
        "class_p@10": ev.mean(t["class_p"] for t in topic),
        "category_p@10": ev.mean(t["category_p"] for t in topic),
    }


def whole_photo_baseline(service, products: pd.DataFrame, limit: int | None) -> dict:
    """Class P@10 of "like this product" as before: the whole-photo vector, plain similarity."""
    chosen = products[products["category"] != ""].head(limit)
    meta, scores = service.index.meta, []
    service.ranking = dataclasses.replace(RankingConfig(), bonus=0.0, product_bonus=0.0)
    for pid, cls in tqdm(list(zip(chosen.index, chosen["cls"])), desc="like (before)"):
        row = meta[(meta["product_id"] == pid) & (meta["kind"] == "image")]["id"].iloc[:1].to_numpy()
        filters = engine.SearchFilters(exclude_products=(pid,))
        ids = [m.product_id for m in service.search(service.index.vectors(row)[0], K, filters)]
        scores.append((products.loc[ids, "cls"] == cls).sum() / K)
    return {"n": len(scores), "class_p@10": ev.mean(scores)}


def render(result: dict) -> str:
    """The Markdown section: what was measured, one row per ranking."""
    lines = [
        "## Grids on topic: the clicked object's class steers the ranking (`scripts/bench_on_topic.py`)",
        "",
        f"Measured {result['date']} on {result['machine']} (shared). Index `{Path(result['index']).name}` "
        f"({result['index_products']:,} products, {result['embedding']}); {result['n_rooms']} {result['room_split']} "
        f"room photos, the same {result['proposals']:,} proposals (query detector's defaults) searched by every row; "
        f"{result['topic_boxes']} of them are topic boxes (a COCO box of a class the room lists overlaps them, "
        "IoU ≥ 0.5). Bonus: added to the cosine of a product of the query box's class (half for a related "
        "class), scaled by the detection's confidence up to 0.5; 0 is plain similarity (before). Like-product: "
        f'the catalogue page\'s "like this product" over {like_n(result)} categorised products, class P@10; '
        "before searched from the whole photo by similarity alone, `bonus 0` from the product's main object, the "
        "other rows add its category's kind first (product bonus "
        f"{max(c['product_bonus'] for c in result['configs'].values()):g}).",
        "",
        "| ranking | class P@10 | category P@10 | recall@10 | large-item recall@10 | drawn-box precision "
        "| like-product class P@10 |",
        "|---|---|---|---|---|---|---|",
    ]
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    like_before = result["like_before"]["class_p@10"]
    lines.append(f"| before (whole-photo vector, similarity only) | | | | | | {fmt(like_before)} |")
    for name, row in result["rankings"].items():
        like = result["like"].get(name, {}).get("class_p@10")
        cells = [row["class_p@10"], row["category_p@10"], row["recall@10"], row["large_recall@10"]]
        label = name + (" (the default)" if result["configs"][name]["bonus"] == RankingConfig().bonus else "")
        lines.append(f"| {label} | " + " | ".join(fmt(v) for v in [*cells, row["shown_precision"], like]) + " |")
    return "\n".join(lines) + "\n"


def like_n(result: dict) -> str:
    """How many products the catalogue-page figure covers."""
    return f"{result['like_before']['n']:,}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path)
    ap.add_argument("--rooms", type=Path, help="folder with rooms.csv (image, room_type, products)")
    ap.add_argument("--render", type=Path, help="only render this result JSON (from --json) into the section")
    ap.add_argument("--room-split", default="heldout", choices=("all", "train", "heldout"))
    ap.add_argument("--bonus", type=float, nargs="+", default=[0.0, RankingConfig().bonus], help="rankings to compare")
    ap.add_argument("--labels", default=str(shared_data_dir().parent / "models" / "yolov8n-coco.pt"))
    ap.add_argument("--limit", type=int, default=None, help="first N rooms only")
    ap.add_argument("--like-limit", type=int, default=None, help="first N products for the catalogue-page figure")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--doc", type=Path, help="Markdown file to write the 'on-topic' section into")
    args = ap.parse_args(argv)
    if not args.render and not (args.index and args.rooms):
        ap.error("--index and --rooms are required unless --render is given")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every ranking on the same proposals, print the table, write JSON / Markdown when asked."""
    args = parse_args(argv)
    if args.render:
        return publish(json.loads(args.render.read_text()), args.doc)
    service = engine.load(args.index)
    labeler = engine.Detector(args.labels)
    meta = service.index.meta
    products = product_table(meta, family_column(meta, None), 0, 0.1)
    rooms = pd.read_csv(args.rooms / "rooms.csv", dtype=str, keep_default_na=False).to_dict("records")
    rooms = [r for r in rooms if args.room_split == "all" or room_split(r["image"]) == args.room_split][: args.limit]
    by_image = image_ids(meta)
    truth = [[by_image[p] for p in r["products"].split() if p in by_image.index] for r in rooms]
    configs = rankings(args.bonus)
    records = [
        run_room(service, labeler, args.rooms, r, t, products, configs)
        for r, t in tqdm(list(zip(rooms, truth)), desc="rooms")
    ]
    result = {"date": pd.Timestamp.now().strftime("%Y-%m-%d %H:%M"), "machine": machine()}
    result |= {"index": str(args.index.resolve()), "index_products": len(products), "room_split": args.room_split}
    result |= {"embedding": service.index.manifest["embedding"]["name"], "n_rooms": len(records)}
    result |= {
        "proposals": sum(r["n_proposals"] for r in records),
        "configs": {n: c.to_dict() for n, c in configs.items()},
    }
    result["rankings"] = {name: summarise(records, truth, products, name) for name in configs}
    result["topic_boxes"] = next(iter(result["rankings"].values()))["topic_boxes"]
    result["like_before"] = whole_photo_baseline(service, products, args.like_limit)
    result["like"] = like_products(service, products, configs, args.like_limit)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result | {"per_room": records}, indent=1, default=str) + "\n")
    return publish(result, args.doc)


def publish(result: dict, doc: Path | None) -> int:
    """Print the section, and write it into `doc` when given."""
    markdown = render(result)
    print(markdown)
    if doc:
        write_section(doc, "on-topic", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
