"""Retrieval quality benchmark: synthetic product queries, or shop-the-look on real room photos.

    python scripts/benchmark.py --index INDEX_DIR --queries QDIR [--json OUT] [--limit N]
    python scripts/benchmark.py --index INDEX_DIR --rooms RDIR [--fallback-windows 30] [--json OUT]
    python scripts/benchmark.py --table A.json B.json ... --doc docs/BENCHMARKS.md --section retrieval

Queries (QDIR/queries.json from scripts/make_queries.py) are searched twice: with the given box and with the
detection of highest IoU with it (no detection at IoU >= 0.5: a miss). Figures: exact-product Recall@1/@10,
family / category / coarse-class precision@10, detection recall at IoU 0.5, p50/p95 latency of detect, embed
and search; over all queries and over those whose family was held out of detector training
(training.scenes.family_split(family, seed, val_fraction) == "val").
Rooms (RDIR/rooms.csv: image, room_type, products): every detection is searched (top 10); a listed product
is found when it is in the top 10 of at least one; recall over all listed products and over large items
(training.metrics.is_large_item). The last printed line is a one-line summary.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parents[1]
for _path in (REPO_ROOT, REPO_ROOT / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from benchlib import Stopwatch, machine, percentiles, write_section  # noqa: E402

import engine  # noqa: E402
from catalog.taxonomy import coarse_class  # noqa: E402
from engine.detection.distinct import distinct_detections  # noqa: E402
from training import metrics as ev  # noqa: E402
from training.detector.rooms import room_split  # noqa: E402
from training.scenes import family_split  # noqa: E402

K = 10
IOU_HIT = 0.5
GROUPS = ("all", "held_out")
STAGES = ("detect", "embed", "search")
CROP_EMBEDDINGS = ("effnet-crop", "color-hist")  # their vectors never read the detector's features


def product_table(meta: pd.DataFrame, family_column: str, split_seed: int, val_fraction: float) -> pd.DataFrame:
    """One row per product (index: product_id): image, family (normalised as the trainer's), category, class."""
    rows = meta.drop_duplicates("product_id").set_index("product_id", drop=False)
    family = rows[family_column] if family_column in rows else pd.Series("", index=rows.index)
    for fallback in ("name", "product_id"):
        family = family.where(family.map(ev.normalise_family) != "", rows.get(fallback, rows["product_id"]))
    table = pd.DataFrame({"image": rows["image"], "family": family.map(ev.normalise_family)})
    table["category"] = rows["category"].fillna("").astype(str) if "category" in rows else ""
    table["cls"] = table["category"].map(lambda c: coarse_class(c) if c else "")
    table["large"] = table["category"].map(ev.is_large_item)
    table["held_out"] = table["family"].map(lambda f: family_split(f, split_seed, val_fraction) == "val")
    return table


def image_ids(meta: pd.DataFrame) -> pd.Series:
    """Catalogue image path -> product_id."""
    rows = meta.drop_duplicates("image")
    return pd.Series(rows["product_id"].to_numpy(), index=rows["image"].to_numpy())


def family_column(meta: pd.DataFrame, requested: str | None) -> str:
    """`requested`, else `family` when the index has it, else `name`."""
    if requested:
        if requested not in meta.columns:
            raise SystemExit(f"--family-column '{requested}' is not in the index ({', '.join(meta.columns)})")
        return requested
    return "family" if "family" in meta.columns else "name"


def timed_search(service, analysis, box, watches: dict) -> list[str]:
    """Embed one box and search it as the app does (steered by its class); product ids best first; timed."""
    with watches["embed"]:
        vector = service.embed(analysis, box)
    with watches["search"]:
        matches = service.search(vector, K, kind=service.box_kind(analysis, box))
    return [m.product_id for m in matches]


def run_query(service, qdir: Path, query: dict, product_id: str) -> dict:
    """Search one query with its given box and with its best-IoU detection."""
    watches = {stage: Stopwatch() for stage in STAGES}
    image = engine.load_image(qdir / query["image"])
    with watches["detect"]:
        analysis = service.analyse(image)
    given = [float(v) for v in query["box"]]
    boxes = np.array([d.box for d in analysis.detections], dtype=np.float32).reshape(-1, 4)
    best, best_iou = ev.best_iou_detection(boxes, given)
    record = {"image": query["image"], "product_id": product_id, "iou": round(best_iou, 4)}
    record["given"] = timed_search(service, analysis, given, watches)
    hit = best is not None and best_iou >= IOU_HIT
    record["detected"] = timed_search(service, analysis, boxes[best], watches) if hit else None
    return record | timings(watches)


def timings(watches: dict) -> dict:
    """Per-stage millisecond samples of one query or room, rounded for the JSON."""
    return {f"{stage}_ms": [round(t, 2) for t in watches[stage].samples] for stage in STAGES}


def latency(records: list[dict]) -> dict:
    """p50 / p95 / mean per stage over the records' timings (None when there are none)."""
    out = {}
    for stage in STAGES:
        samples = [t for r in records for t in r[f"{stage}_ms"]]
        out[stage] = percentiles(samples) if samples else None
    return out


def query_group(records: list[dict], products: pd.DataFrame) -> dict:
    """Every query figure over one group of records."""
    detected = ev.ranked_metrics(records, "detected", products, K)
    detected["detection_recall@0.5"] = ev.mean(float(r["iou"] >= IOU_HIT) for r in records)
    return {
        "n": len(records),
        "given": ev.ranked_metrics(records, "given", products, K),
        "detected": detected,
        "latency": latency(records),
    }


def run_queries(service, args, products: pd.DataFrame) -> dict:
    """Query mode: per-query records and the figures over all and held-out queries."""
    queries = json.loads((args.queries / "queries.json").read_text())[: args.limit]
    by_image = image_ids(service.index.meta)
    known = [q for q in queries if q["product"] in by_image.index]
    if len(known) < len(queries):
        print(f"warning: {len(queries) - len(known)} query products are not in the index; they are skipped")
    if known:
        service.analyse(engine.load_image(args.queries / known[0]["image"]))  # warm-up
    records = [run_query(service, args.queries, q, by_image[q["product"]]) for q in tqdm(known, desc="queries")]
    held = [r for r in records if products.at[r["product_id"], "held_out"]]
    result = {"queries": str(args.queries.resolve()), "n_queries": len(records), "n_held_out": len(held)}
    result |= {"n_missing_products": len(queries) - len(known)}
    result |= {group: query_group(rows, products) for group, rows in zip(GROUPS, (records, held))}
    return result | {"per_query": records}


def run_room(service, rdir: Path, row: dict, windows: int, always: bool) -> dict:
    """Detect one room, search every detection (plus sliding windows when asked) and collect the top-10s."""
    watches = {stage: Stopwatch() for stage in STAGES}
    image = engine.load_image(rdir / row["image"])
    with watches["detect"]:
        analysis = service.analyse(image)
    boxes = [d.box for d in analysis.detections]
    extra = ev.sliding_windows(*image.size, windows) if windows and (always or not boxes) else []
    ranked = [timed_search(service, analysis, box, watches) for box in [*boxes, *extra]]
    shown, _ = distinct_detections(analysis.detections)
    record = {"image": row["image"], "n_detections": len(boxes), "n_windows": len(extra), "n_shown": len(shown)}
    record["found"] = sorted(ev.found_products(ranked, K))
    record["shown_top1"] = [ranked[i][0] if ranked[i] else None for i in shown]
    return record | timings(watches)


def run_rooms(service, args, products: pd.DataFrame) -> dict:
    """Rooms mode: shop-the-look recall over all, large and held-out listed products."""
    rooms = pd.read_csv(args.rooms / "rooms.csv", dtype=str, keep_default_na=False).to_dict("records")
    rooms = [row for row in rooms if args.room_split == "all" or room_split(row["image"]) == args.room_split]
    rooms = rooms[: args.limit]
    by_image = image_ids(service.index.meta)
    listed = [row["products"].split() for row in rooms]
    truth = [[by_image[p] for p in gt if p in by_image.index] for gt in listed]
    if rooms:
        service.analyse(engine.load_image(args.rooms / rooms[0]["image"]))  # warm-up
    records = [
        run_room(service, args.rooms, row, args.fallback_windows, args.windows_always)
        for row in tqdm(rooms, desc="rooms")
    ]
    result = {"rooms": str(args.rooms.resolve()), "room_split": args.room_split, "n_rooms": len(records)}
    result["n_missing_products"] = sum(len(a) - len(b) for a, b in zip(listed, truth))
    found = [r["found"] for r in records]
    result["all"] = ev.room_recall(found, truth, lambda p: True)
    result["large"] = ev.room_recall(found, truth, lambda p: bool(products.at[p, "large"]))
    result["held_out"] = ev.room_recall(found, truth, lambda p: bool(products.at[p, "held_out"]))
    result["chance"] = ev.mean(len(f) / max(len(products), 1) for f in found)
    result["shown_precision"] = ev.shown_precision([r["shown_top1"] for r in records], truth)
    result["shown_per_room"] = ev.mean(r["n_shown"] for r in records)
    result["detections_per_room"] = ev.mean(r["n_detections"] for r in records)
    result["windows_per_room"] = ev.mean(r["n_windows"] for r in records)
    result["rooms_without_detections"] = sum(r["n_detections"] == 0 for r in records)
    result["fallback_windows"] = {"n": args.fallback_windows, "always": args.windows_always}
    return result | {"latency": latency(records), "per_room": records}


def query_detector(service, conf: float | None, max_det: int | None, imgsz: int | None = None) -> None:
    """Override the detector's confidence, detection cap and input size for queries (the index is unaffected)."""
    changes = {k: v for k, v in (("conf", conf), ("max_det", max_det), ("imgsz", imgsz)) if v is not None}
    service.detector.config = dataclasses.replace(service.detector.config, **changes)


def swap_query_detector(service, weights: str | None) -> None:
    """Detect queries with other weights, for embeddings that use the detector only for its boxes.

    Compares detectors on one index: the catalogue vectors stay valid because crop embeddings never read the
    detector's features. Refused (SystemExit) for feature-map embeddings.
    """
    if not weights:
        return
    if service.embedding.name not in CROP_EMBEDDINGS:
        raise SystemExit(f"--query-weights needs a crop embedding ({', '.join(CROP_EMBEDDINGS)}), not this index's")
    service.detector = engine.Detector(weights, service.detector.config)


def method_name(embedding: dict) -> str:
    """The embedding's name, plus its head's file stem when it has one (e.g. 'effnet-crop + head-effnet')."""
    head = embedding.get("head")
    return embedding["name"] + (f" + {Path(head).stem}" if head else "")


def header(service, args, column: str) -> dict:
    """What was measured, with what."""
    manifest = service.index.manifest
    return {
        "mode": "rooms" if args.rooms else "queries",
        "date": pd.Timestamp.now().strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "index": str(Path(args.index).resolve()),
        "embedding": method_name(manifest["embedding"]),
        "embedding_config": manifest["embedding"],
        "dim": int(manifest.get("dim") or service.index.dim),
        "weights": manifest["detector"]["weights"],
        "weights_sha256": manifest["detector"]["weights_sha256"],
        "query_detector": dataclasses.asdict(service.detector.config),
        "ranking": service.ranking.to_dict(),
        "query_overrides": {
            k: v
            for k, v in (
                ("detector", args.query_weights),
                ("conf", args.conf),
                ("max_det", args.max_det),
                ("imgsz", args.query_imgsz),
            )
            if v is not None
        },
        "query_weights_sha256": service.detector.weights_sha256,
        "index_products": int(manifest.get("n_products") or 0),
        "family_column": column,
        "split": {"seed": args.split_seed, "val_fraction": args.val_fraction},
    }


def fmt(value, digits: int = 2) -> str:
    """A figure for tables: '-' when missing."""
    return "-" if value is None else f"{value:.{digits}f}"


def ms(result: dict, stage: str) -> str:
    """p50 of a stage over all queries/rooms."""
    stats = (result["all"].get("latency") or result.get("latency") or {}).get(stage)
    return "-" if not stats else f"{stats['p50_ms']:.1f}"


def render_row(result: dict) -> str:
    """One Markdown table row for a run (columns as in `TABLE_HEADERS`)."""
    method, weights = result["embedding"], Path(result["weights"]).name
    if result["mode"] == "rooms":
        method += f" + {result['fallback_windows']['n']} windows" if result["windows_per_room"] else ""
        overrides = dict(result.get("query_overrides", {}))
        weights = Path(str(overrides.pop("detector", weights))).name
        method += "".join(f", {k} {v}" for k, v in overrides.items())
        rooms = f"{result['n_rooms']} {result.get('room_split', 'all')}"
        cells = [method, weights, rooms, fmt(result["all"]["recall@10"]), fmt(result["large"]["recall@10"])]
        cells += [fmt(result.get("chance"), 3), fmt(result.get("shown_precision"))]
        cells += [fmt(result.get("shown_per_room"), 1)]
        cells += [fmt(result["detections_per_room"], 1), fmt(result["windows_per_room"], 1)]
        cells += [ms(result, "detect"), ms(result, "embed"), result["dim"]]
    else:
        given, det, held = result["all"]["given"], result["all"]["detected"], result["held_out"]["given"]
        cells = [method, weights, result["n_queries"], fmt(given["recall@1"]), fmt(given["recall@10"])]
        cells += [fmt(given["family_p@10"]), fmt(given["category_p@10"]), fmt(det["detection_recall@0.5"])]
        cells += [fmt(det["recall@1"]), fmt(det["recall@10"]), fmt(held["recall@10"])]
        cells += [ms(result, "detect"), ms(result, "embed"), ms(result, "search"), result["dim"]]
    return "| " + " | ".join(str(c) for c in cells) + " |"


TABLE_HEADERS = {
    "queries": "| method | weights | queries | R@1 | R@10 | family P@10 | category P@10 | det. recall@0.5 "
    "| R@1 (det. box) | R@10 (det. box) | R@10 held-out | detect p50 ms | embed p50 ms | search p50 ms | dim |",
    "rooms": "| method | query detector | rooms | recall@10 | large-item recall@10 | chance | drawn-box precision "
    "| drawn/room | proposals/room | windows/room | detect p50 ms | embed p50 ms | dim |",
}


def render_table(results: list[dict]) -> str:
    """Markdown comparison tables (one per mode) with one row per run."""
    parts = []
    for mode in ("queries", "rooms"):
        runs = [r for r in results if r["mode"] == mode]
        if runs:
            header_row = TABLE_HEADERS[mode]
            rule = "|" + "---|" * (header_row.count("|") - 1)
            parts.append("\n".join([header_row, rule, *map(render_row, runs)]))
    return "\n\n".join(parts)


def summary_line(result: dict) -> str:
    """The one-line summary printed last."""
    name = result["embedding"]
    if result["mode"] == "rooms":
        return (
            f"summary: {name} rooms recall@10 {fmt(result['all']['recall@10'])}"
            f" large {fmt(result['large']['recall@10'])} held-out {fmt(result['held_out']['recall@10'])}"
            f" chance {fmt(result.get('chance'), 3)} drawn-precision {fmt(result.get('shown_precision'))}"
            f" det/room {fmt(result['detections_per_room'], 1)} windows/room {fmt(result['windows_per_room'], 1)}"
            f" ({result['n_rooms']} {result.get('room_split', 'all')} rooms)"
        )

    def part(group: str, mode: str) -> str:
        m = result[group][mode]
        text = f"R@1 {fmt(m['recall@1'])} R@10 {fmt(m['recall@10'])} famP@10 {fmt(m['family_p@10'])}"
        text += f" catP@10 {fmt(m['category_p@10'])}"
        return text + (f" det-recall {fmt(m['detection_recall@0.5'])}" if mode == "detected" else "")

    return (
        f"summary: {name} {part('all', 'given')} (given box) | {part('all', 'detected')} (detected box)"
        f" | held-out: R@10 {fmt(result['held_out']['given']['recall@10'])} (given)"
        f" {fmt(result['held_out']['detected']['recall@10'])} (detected) [{result['n_queries']} queries]"
    )


def print_report(result: dict) -> None:
    """A readable table of every figure."""
    print(f"{result['embedding']} / {Path(result['weights']).name} on {result['index']} ({result['date']})")
    if result["mode"] == "rooms":
        for group in ("all", "large", "held_out"):
            g = result[group]
            print(f"  {group:9s} recall@10 {fmt(g['recall@10'])}  over {g['n_products']} listed products")
        print(f"  detections/room {fmt(result['detections_per_room'], 1)}, windows/room {result['windows_per_room']}")
    for group in GROUPS if result["mode"] == "queries" else ():
        print(f"  {group} ({result[group]['n']} queries)")
        for mode in ("given", "detected"):
            print(f"    {mode:9s}" + "  ".join(f"{k} {fmt(v)}" for k, v in result[group][mode].items()))
    for stage, stats in (result.get("latency") or result["all"]["latency"]).items():
        print(f"  {stage:7s} " + ("-" if not stats else f"p50 {stats['p50_ms']} ms  p95 {stats['p95_ms']} ms"))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--queries", type=Path, help="folder with queries.json (scripts/make_queries.py)")
    mode.add_argument("--rooms", type=Path, help="folder with rooms.csv (image, room_type, products)")
    mode.add_argument("--table", type=Path, nargs="+", help="render result JSON files as a comparison table")
    ap.add_argument("--json", type=Path, help="write every figure (and per-query results) here")
    ap.add_argument("--limit", type=int, default=None, help="first N queries (or rooms) only")
    ap.add_argument(
        "--room-split", default="all", choices=("all", "train", "heldout"),
        help="rooms of this part of training.detector.rooms.room_split (the detector trains on 'train' rooms)",
    )  # fmt: skip
    ap.add_argument("--family-column", default=None, help="index column naming a product's family")
    ap.add_argument("--split-seed", type=int, default=0, help="detector training's family split seed")
    ap.add_argument("--val-fraction", type=float, default=0.1, help="share of families held out of training")
    ap.add_argument("--fallback-windows", type=int, default=0, help="N sliding windows for rooms with no detection")
    ap.add_argument("--windows-always", action="store_true", help="add the windows to every room")
    ap.add_argument("--conf", type=float, default=None, help="query-time detection confidence (default: the index's)")
    ap.add_argument("--query-weights", default=None, help="another detector for the queries (crop embeddings only)")
    ap.add_argument("--max-det", type=int, default=None, help="query-time cap on detections per photo")
    ap.add_argument("--query-imgsz", type=int, default=None, help="query-time detector input size")
    ap.add_argument("--doc", type=Path, help="Markdown file to write a section into (e.g. docs/BENCHMARKS.md)")
    ap.add_argument("--section", default="retrieval", help="section name in --doc")
    args = ap.parse_args(argv)
    if not args.table and not args.index:
        ap.error("--index is required with --queries or --rooms")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run a benchmark (or render a table), print it, and write JSON / Markdown when asked."""
    args = parse_args(argv)
    if args.table:
        markdown = render_table([json.loads(path.read_text()) for path in args.table])
        print(markdown)
        if args.doc:
            write_section(args.doc, args.section, markdown)
        return 0
    service = engine.load(args.index)
    swap_query_detector(service, args.query_weights)
    query_detector(service, args.conf, args.max_det, args.query_imgsz)
    column = family_column(service.index.meta, args.family_column)
    products = product_table(service.index.meta, column, args.split_seed, args.val_fraction)
    result = header(service, args, column)
    result |= run_rooms(service, args, products) if args.rooms else run_queries(service, args, products)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
    if args.doc:
        write_section(args.doc, args.section, render_table([result]))
    print_report(result)
    print(summary_line(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
