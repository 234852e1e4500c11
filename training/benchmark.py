"""The retrieval benchmark's evaluation loop: synthetic product queries, or shop-the-look on real room photos.

`run_benchmark(service, queries=QDIR)` searches every query (QDIR/queries.json from `training.queries`) twice:
with the given box and with the detection of highest IoU with it (no detection at IoU >= 0.5: a miss). Figures:
exact-product Recall@1/@10, family / category / coarse-class precision@10, detection recall at IoU 0.5, p50/p95
latency of detect, embed and search; over all queries and over those whose family was held out of detector
training (`training.scenes.family_split(family, seed, val_fraction) == "val"`).
`run_benchmark(service, rooms=RDIR)` (RDIR/rooms.csv: image, room_type, products) searches every detection (top
10); a listed product is found when it is in the top 10 of at least one; recall over all listed products and over
large items (`training.metrics.is_large_item`).
Queries are detected by the detector `query_detector` returns: the service's own, or a new one with other weights
or settings; the service is never changed.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

import engine
from engine.detection.detector import Detector
from engine.detection.distinct import distinct_detections
from engine.search.taxonomy import coarse_class
from training import metrics as ev
from training.detector.rooms import room_split
from training.report import GROUPS
from training.scenes import family_split
from training.timing import Stopwatch, machine, percentiles

K = 10
IOU_HIT = 0.5
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


def run_query(service, detector: Detector, qdir: Path, query: dict, product_id: str) -> dict:
    """Search one query with its given box and with its best-IoU detection."""
    watches = {stage: Stopwatch() for stage in STAGES}
    image = engine.load_image(qdir / query["image"])
    with watches["detect"]:
        analysis = detector.analyse([image])[0]
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


def run_queries(service, detector: Detector, qdir: Path, products: pd.DataFrame, limit: int | None = None) -> dict:
    """Query mode: per-query records and the figures over all and held-out queries."""
    queries = json.loads((qdir / "queries.json").read_text())[:limit]
    by_image = image_ids(service.index.meta)
    known = [q for q in queries if q["product"] in by_image.index]
    if len(known) < len(queries):
        print(f"warning: {len(queries) - len(known)} query products are not in the index; they are skipped")
    if known:
        detector.analyse([engine.load_image(qdir / known[0]["image"])])  # warm-up
    records = [run_query(service, detector, qdir, q, by_image[q["product"]]) for q in tqdm(known, desc="queries")]
    held = [r for r in records if products.at[r["product_id"], "held_out"]]
    result = {"queries": str(qdir.resolve()), "n_queries": len(records), "n_held_out": len(held)}
    result |= {"n_missing_products": len(queries) - len(known)}
    result |= {group: query_group(rows, products) for group, rows in zip(GROUPS, (records, held))}
    return result | {"per_query": records}


def run_room(service, detector: Detector, rdir: Path, row: dict, windows: int, always: bool) -> dict:
    """Detect one room, search every detection (plus sliding windows when asked) and collect the top-10s."""
    watches = {stage: Stopwatch() for stage in STAGES}
    image = engine.load_image(rdir / row["image"])
    with watches["detect"]:
        analysis = detector.analyse([image])[0]
    boxes = [d.box for d in analysis.detections]
    extra = ev.sliding_windows(*image.size, windows) if windows and (always or not boxes) else []
    ranked = [timed_search(service, analysis, box, watches) for box in [*boxes, *extra]]
    shown, _ = distinct_detections(analysis.detections)
    record = {"image": row["image"], "n_detections": len(boxes), "n_windows": len(extra), "n_shown": len(shown)}
    record["found"] = sorted(ev.found_products(ranked, K))
    record["shown_top1"] = [ranked[i][0] if ranked[i] else None for i in shown]
    return record | timings(watches)


def run_rooms(
    service,
    detector: Detector,
    rdir: Path,
    products: pd.DataFrame,
    limit: int | None = None,
    part: str = "all",
    windows: int = 0,
    windows_always: bool = False,
) -> dict:
    """Rooms mode: shop-the-look recall over all, large and held-out listed products (rooms of `room_split` part)."""
    rooms = pd.read_csv(rdir / "rooms.csv", dtype=str, keep_default_na=False).to_dict("records")
    rooms = [row for row in rooms if part == "all" or room_split(row["image"]) == part][:limit]
    by_image = image_ids(service.index.meta)
    listed = [row["products"].split() for row in rooms]
    truth = [[by_image[p] for p in gt if p in by_image.index] for gt in listed]
    if rooms:
        detector.analyse([engine.load_image(rdir / rooms[0]["image"])])  # warm-up
    records = [run_room(service, detector, rdir, row, windows, windows_always) for row in tqdm(rooms, desc="rooms")]
    result = {"rooms": str(rdir.resolve()), "room_split": part, "n_rooms": len(records)}
    result["n_missing_products"] = sum(len(a) - len(b) for a, b in zip(listed, truth))
    result |= room_figures(records, truth, products) | {"fallback_windows": {"n": windows, "always": windows_always}}
    return result | {"latency": latency(records), "per_room": records}


def room_figures(records: list[dict], truth: list[list], products: pd.DataFrame) -> dict:
    """Every rooms-mode figure from the per-room records and the listed products found in the index."""
    found = [r["found"] for r in records]
    result = {"all": ev.room_recall(found, truth, lambda p: True)}
    result["large"] = ev.room_recall(found, truth, lambda p: bool(products.at[p, "large"]))
    result["held_out"] = ev.room_recall(found, truth, lambda p: bool(products.at[p, "held_out"]))
    result["chance"] = ev.mean(len(f) / max(len(products), 1) for f in found)
    result["shown_precision"] = ev.shown_precision([r["shown_top1"] for r in records], truth)
    result["shown_per_room"] = ev.mean(r["n_shown"] for r in records)
    result["detections_per_room"] = ev.mean(r["n_detections"] for r in records)
    result["windows_per_room"] = ev.mean(r["n_windows"] for r in records)
    result["rooms_without_detections"] = sum(r["n_detections"] == 0 for r in records)
    return result


def query_overrides(weights: str | None, conf: float | None, max_det: int | None, imgsz: int | None) -> dict:
    """The query-time detector settings asked for (None: the index's)."""
    asked = (("detector", weights), ("conf", conf), ("max_det", max_det), ("imgsz", imgsz))
    return {k: v for k, v in asked if v is not None}


def query_detector(service, overrides: dict) -> Detector:
    """The detector for the queries: the service's own, or a new one with other weights or settings.

    Other weights (`overrides["detector"]`) compare detectors on one index: the catalogue vectors stay valid because
    crop embeddings never read the detector's features; refused (SystemExit) for feature-map embeddings. Other
    confidence, detection cap or input size load the service's weights again with those settings.
    """
    changes = {k: v for k, v in overrides.items() if k != "detector"}
    weights = overrides.get("detector")
    if weights and service.embedding.name not in CROP_EMBEDDINGS:
        raise SystemExit(f"--query-weights needs a crop embedding ({', '.join(CROP_EMBEDDINGS)}), not this index's")
    if not overrides:
        return service.detector
    config = dataclasses.replace(service.detector.config, **changes)
    return Detector(weights or service.detector.weights_name, config, device=service.detector.device)


def method_name(embedding: dict) -> str:
    """The embedding's name, plus its head's file stem when it has one (e.g. 'effnet-crop + head-effnet')."""
    head = embedding.get("head")
    return embedding["name"] + (f" + {Path(head).stem}" if head else "")


def header(service, detector: Detector, index_dir: Path, mode: str, overrides: dict, column: str, split: dict) -> dict:
    """What was measured, with what."""
    manifest = service.index.manifest
    return {
        "mode": mode,
        "date": pd.Timestamp.now().strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "index": str(Path(index_dir).resolve()),
        "embedding": method_name(manifest["embedding"]),
        "embedding_config": manifest["embedding"],
        "dim": int(manifest.get("dim") or service.index.dim),
        "weights": manifest["detector"]["weights"],
        "weights_sha256": manifest["detector"]["weights_sha256"],
        "query_detector": dataclasses.asdict(detector.config),
        "ranking": service.ranking.to_dict(),
        "query_overrides": overrides,
        "query_weights_sha256": detector.weights_sha256,
        "index_products": int(manifest.get("n_products") or 0),
        "family_column": column,
        "split": split,
    }


def run_benchmark(
    service,
    index_dir: Path,
    queries: Path | None = None,
    rooms: Path | None = None,
    *,
    query_weights: str | None = None,
    conf: float | None = None,
    max_det: int | None = None,
    query_imgsz: int | None = None,
    family_column_name: str | None = None,
    split_seed: int = 0,
    val_fraction: float = 0.1,
    limit: int | None = None,
    room_part: str = "all",
    fallback_windows: int = 0,
    windows_always: bool = False,
) -> dict:
    """Every figure of one run on `queries` (a query folder) or `rooms` (a rooms folder), with its header."""
    overrides = query_overrides(query_weights, conf, max_det, query_imgsz)
    detector = query_detector(service, overrides)
    column = family_column(service.index.meta, family_column_name)
    products = product_table(service.index.meta, column, split_seed, val_fraction)
    split = {"seed": split_seed, "val_fraction": val_fraction}
    result = header(service, detector, index_dir, "rooms" if rooms else "queries", overrides, column, split)
    if rooms:
        windows = (fallback_windows, windows_always)
        return result | run_rooms(service, detector, rooms, products, limit, room_part, *windows)
    return result | run_queries(service, detector, queries, products, limit)
