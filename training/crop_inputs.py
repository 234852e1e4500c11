"""The crop network's input, measured: which pretrained network, input contract, crop size and pooling find products.

Every variant embeds the same boxes, so rows differ only in the network and its input:

- **catalogue**: one entry per product photo, the product's box on its white backdrop (`product_box`);
- **held-out rooms**: the shipped detector's proposals (query confidence, at most 25 a photo) on the dev room
  photos that `room_split` holds out; a listed product is found when it is in the top 10 of one proposal, the
  drawn boxes (`distinct_detections`) give drawn-box precision, and chance is distinct products returned ÷ catalogue;
- **synthetic queries** (`scripts/make_queries.py`): given-box R@1 / R@10 and R@10 with the best-IoU detection.

Detection runs once and is cached (`detections.json` in the cache folder); each variant then costs one crop-network
pass over every box. Search is exact cosine over one vector per product, visual only (no class steering), so the
figures compare inputs, not the app's full ranking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import Image
from tqdm import tqdm

from engine.detection.detector import Detector
from engine.detection.distinct import distinct_detections
from engine.embedding import EmbeddingConfig, make_embedder
from engine.embedding.crop import CROP_BATCH, effnet_inputs
from engine.images import load_image
from engine.pretrained import crop_network
from engine.search.query import product_shot_box, whole_image
from training import metrics as ev
from training.detector.rooms import room_split

K = 10
GEM_P = 3.0
RMAC_LEVELS = 3
POOLINGS = ("avg", "gem", "rmac")
DETECTOR_METHODS = ("yolo-roi", "yolo-roi-level", "yolo-native", "yolo-crop")  # no crop network: the detector's
SETS = ("gallery_rooms", "gallery_catalog", "proposals", "given", "detected")  # the boxes every variant embeds


@dataclass(frozen=True)
class Variant:
    """One row: a crop network (with its input contract, `engine.pretrained`) and the crop side it is fed."""

    network: str
    size: int
    flip: bool = False  # also embed each crop mirrored; poolings gain "+flip" rows (mean of both)

    @property
    def name(self) -> str:
        """How the row is labelled."""
        return f"{self.network} @ {self.size}" + (" + flip" if self.flip else "")

    @property
    def key(self) -> str:
        """The variant's cache file stem."""
        return f"{self.network}-{self.size}" + ("-flip" if self.flip else "")


def product_box(image: Image.Image) -> tuple[float, float, float, float]:
    """The box a catalogue build indexes a product shot by (`product_shot_box`), else the whole photo."""
    return product_shot_box(image) or whole_image(image.size)


def rmac(maps: torch.Tensor, levels: int = RMAC_LEVELS) -> torch.Tensor:
    """(N, C, h, w) maps -> (N, C) R-MAC: unit max-pooled regions on a 1x1 .. LxL grid of each level, summed."""
    _, _, h, w = maps.shape
    total = torch.zeros(maps.shape[:2])
    for level in range(1, levels + 1):
        side_h, side_w = max(1, 2 * h // (level + 1)), max(1, 2 * w // (level + 1))
        for top in np.linspace(0, h - side_h, level).round().astype(int):
            for left in np.linspace(0, w - side_w, level).round().astype(int):
                region = maps[:, :, top : top + side_h, left : left + side_w].amax(dim=(2, 3))  # (N, C)
                total += F.normalize(region, dim=1)
    return total


def pooled(maps: torch.Tensor) -> dict[str, torch.Tensor]:
    """(N, C, h, w) non-negative maps -> {"avg", "gem", "rmac": (N, C)} unit vectors."""
    avg = maps.mean(dim=(2, 3))
    gem = maps.clamp(min=1e-6).pow(GEM_P).mean(dim=(2, 3)).pow(1.0 / GEM_P)
    return {"avg": F.normalize(avg, dim=1), "gem": F.normalize(gem, dim=1), "rmac": F.normalize(rmac(maps), dim=1)}


def with_flip(plain: dict[str, torch.Tensor], mirrored: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Pooled vectors of crops and their mirror images -> the plain ones plus "<pooling>+flip" (their mean)."""
    return plain | {f"{k}+flip": F.normalize(plain[k] + mirrored[k], dim=1) for k in plain}


@torch.inference_mode()
def embed_boxes(variant: Variant, items: list[tuple[Path, list]], desc: str) -> dict[str, np.ndarray]:
    """(photo, boxes) pairs -> per pooling (sum N_i, 1280) float32 unit vectors, in order."""
    model = crop_network(variant.network)
    parts: dict[str, list] = {}
    pending: list[torch.Tensor] = []

    def flush():
        if pending:
            batch = torch.cat(pending)  # (n, 3, S, S)
            vectors = pooled(model.forward_features(batch))  # (n, 1280, h, w) maps -> (n, 1280) each
            if variant.flip:
                vectors = with_flip(vectors, pooled(model.forward_features(batch.flip(3))))
            for pooling, rows in vectors.items():
                parts.setdefault(pooling, []).append(rows.numpy())
            pending.clear()

    for path, boxes in tqdm(items, desc=f"{desc} {variant.name}", unit="photo"):
        if len(boxes):
            pending.append(
                effnet_inputs(load_image(path), np.asarray(boxes, np.float32), variant.size, variant.network)
            )
        if sum(len(p) for p in pending) >= CROP_BATCH:
            flush()
    flush()
    names = [f"{k}{suffix}" for suffix in ("", "+flip")[: 1 + variant.flip] for k in POOLINGS]
    return {k: np.concatenate(parts[k]) if parts else np.zeros((0, 1280), np.float32) for k in names}


@torch.inference_mode()
def embed_with_detector(method: str, detector: Detector, items: list[tuple[Path, list]], desc: str) -> dict:
    """(photo, boxes) pairs -> {"avg": (sum N_i, D)} through a method that reuses the detector's own network."""
    embedder = make_embedder(EmbeddingConfig(name=method), detector)
    parts = []
    for path, boxes in tqdm(items, desc=f"{desc} {method}", unit="photo"):
        if len(boxes):
            analysis = detector.analyse([load_image(path)])[0]
            parts.append(embedder.embed(analysis, np.asarray(boxes, np.float32)))  # (N_i, D)
    return {"avg": np.concatenate(parts) if parts else np.zeros((0, embedder.dim), np.float32)}


def detect_rooms(detector: Detector, rooms_dir: Path, part: str = "heldout") -> list[dict]:
    """The room photos of one `room_split` part with their proposals and the indices of the drawn boxes."""
    rows = pd.read_csv(rooms_dir / "rooms.csv", dtype=str, keep_default_na=False).to_dict("records")
    out = []
    for row in tqdm([r for r in rows if room_split(r["image"]) == part], desc=f"detect {part} rooms"):
        detections = detector.analyse([load_image(rooms_dir / row["image"])])[0].detections
        shown, _ = distinct_detections(detections)
        boxes = [[float(v) for v in d.box] for d in detections]
        out.append({"image": row["image"], "products": row["products"].split(), "boxes": boxes, "shown": shown})
    return out


def detect_queries(detector: Detector | None, queries_dir: Path) -> list[dict]:
    """The synthetic queries with their given box and the detection of highest IoU with it (None: no detection,
    or no detector given: then only given-box figures are measured)."""
    records = json.loads((queries_dir / "queries.json").read_text())
    for record in tqdm(records if detector else [], desc="detect queries"):
        detections = detector.analyse([load_image(queries_dir / record["image"])])[0].detections
        boxes = np.array([d.box for d in detections], np.float32).reshape(-1, 4)
        best, _ = ev.best_iou_detection(boxes, record["box"])
        record["detected"] = None if best is None else [float(v) for v in boxes[best]]
    return [{"detected": None, **record} for record in records]


def cached(path: Path, make) -> list[dict]:
    """The JSON list at `path`, made by `make()` and written there the first time."""
    if path.is_file():
        return json.loads(path.read_text())
    value = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return value


def catalogue(root: Path, cache: Path) -> pd.DataFrame:
    """Products (product_id, image, category) with their product-shot box, cached beside the detections."""

    def make():
        frame = pd.read_csv(root / "products.csv", dtype=str, keep_default_na=False)
        boxes = [list(product_box(load_image(root / image))) for image in tqdm(frame["image"], desc="product boxes")]
        return [{**row, "box": box} for row, box in zip(frame.to_dict("records"), boxes)]

    return pd.DataFrame(cached(cache / f"catalogue-{root.name}.json", make))


def top_k(queries: np.ndarray, gallery: np.ndarray, ids: np.ndarray, k: int = K) -> list[list[str]]:
    """(Q, D) and (G, D) unit vectors -> per query the ids of its k nearest gallery rows (exact cosine)."""
    if not len(queries):
        return []
    order = np.argsort(-(queries @ gallery.T), axis=1)[:, :k]  # (Q, k)
    return [list(ids[row]) for row in order]


def room_scores(rooms: list[dict], ranked: list[list[str]], products: pd.DataFrame) -> dict:
    """Shop-the-look figures from each proposal's top 10, pooled over the rooms."""
    large = dict(zip(products["image"], products["category"].map(ev.is_large_item)))
    found, truth, shown_top1, start = [], [], [], 0
    for room in rooms:
        lists = ranked[start : start + len(room["boxes"])]
        start += len(room["boxes"])
        found.append(ev.found_products(lists, K))
        truth.append([p for p in room["products"] if p in large])
        shown_top1.append([lists[i][0] for i in room["shown"]])
    return {
        "all": ev.room_recall(found, truth, lambda p: True)["recall@10"],
        "large": ev.room_recall(found, truth, lambda p: large[p])["recall@10"],
        "chance": round(ev.mean(len(f) / len(products) for f in found), 4),
        "precision": ev.shown_precision(shown_top1, truth),
        "n_rooms": len(rooms),
        "n_large": ev.room_recall(found, truth, lambda p: large[p])["n_products"],
    }


def query_scores(records: list[dict], given: list[list[str]], detected: list[list[str] | None]) -> dict:
    """Synthetic-query figures: R@1 and R@10 with the given box, R@10 with the detected box (0 when none)."""
    truth = [r["product"] for r in records]
    return {
        "R@1": round(ev.mean(ev.recall_at_k(g, t, 1) for g, t in zip(given, truth)), 4),
        "R@10": round(ev.mean(ev.recall_at_k(g, t, K) for g, t in zip(given, truth)), 4),
        "R@10 det": round(ev.mean(ev.recall_at_k(d, t, K) if d else 0.0 for d, t in zip(detected, truth)), 4)
        if any(detected)
        else None,
        "n_queries": len(records),
    }


def shots(root: Path, products: pd.DataFrame) -> list[tuple[Path, list]]:
    """(photo, [product box]) for each catalogue product."""
    return [(root / image, [box]) for image, box in zip(products["image"], products["box"])]


def variant_vectors(variant: Variant, data: dict) -> dict[str, dict[str, np.ndarray]]:
    """Every box of the benchmark through the variant's network: per set, per pooling (N, 1280) unit vectors."""
    queries = data["queries"]
    detected = [q for q in queries if q["detected"]]
    sets = {
        "gallery_rooms": shots(data["rooms_root"], data["room_products"]),
        "gallery_catalog": shots(data["catalog_root"], data["catalog_products"]),
        "proposals": [(data["rooms_root"] / r["image"], r["boxes"]) for r in data["rooms"]],
        "given": [(data["queries_dir"] / q["image"], [q["box"]]) for q in queries],
        "detected": [(data["queries_dir"] / q["image"], [q["detected"]]) for q in detected],
    }
    if variant.network in DETECTOR_METHODS:
        return {
            name: embed_with_detector(variant.network, data["detector"], items, name) for name, items in sets.items()
        }
    return {name: embed_boxes(variant, items, name) for name, items in sets.items()}


def with_head(vectors: dict[str, dict[str, np.ndarray]], head) -> dict[str, dict[str, np.ndarray]]:
    """The average-pooled vectors of every set mapped by an embedding head (`engine.embedding.head.Head`)."""
    return {name: {"avg+head": head.apply(pools["avg"])} for name, pools in vectors.items()}


def scores(vectors: dict[str, dict[str, np.ndarray]], pooling: str, data: dict) -> dict:
    """Rooms and synthetic-query figures of one pooling's vectors."""
    room_ids, cat_ids = data["room_products"]["image"].to_numpy(), data["catalog_products"]["image"].to_numpy()
    ranked = top_k(vectors["proposals"][pooling], vectors["gallery_rooms"][pooling], room_ids)
    by_detection = iter(top_k(vectors["detected"][pooling], vectors["gallery_catalog"][pooling], cat_ids))
    detected_lists = [next(by_detection) if q["detected"] else None for q in data["queries"]]
    given = top_k(vectors["given"][pooling], vectors["gallery_catalog"][pooling], cat_ids)
    return room_scores(data["rooms"], ranked, data["room_products"]) | query_scores(
        data["queries"], given, detected_lists
    )


def saved_vectors(variant: Variant, data: dict, cache: Path | None) -> dict[str, dict[str, np.ndarray]]:
    """`variant_vectors`, kept in `cache` (one .npz per variant) so heads can be ranked later without the network."""
    path = cache / f"vectors-{variant.key}.npz" if cache else None
    if path and path.is_file():
        stored = np.load(path)
        return {
            name: {key.split("/")[1]: stored[key] for key in stored.files if key.startswith(f"{name}/")}
            for name in SETS
        }
    vectors = variant_vectors(variant, data)
    if path:
        np.savez(path, **{f"{name}/{p}": v for name, pools in vectors.items() for p, v in pools.items()})
    return vectors


def measure(variant: Variant, data: dict, head=None, cache: Path | None = None) -> list[dict]:
    """One row per pooling for `variant` (plus one with `head` applied to its average-pooled vectors)."""
    vectors = saved_vectors(variant, data, cache)
    poolings = list(vectors["proposals"])
    rows = [
        {"network": variant.network, "size": variant.size, "pooling": p} | scores(vectors, p, data) for p in poolings
    ]
    if head is not None:
        row = {"network": variant.network, "size": variant.size, "pooling": f"avg + {head.path.name}"}
        rows.append(row | scores(with_head(vectors, head), "avg+head", data))
    return rows


def prepare(
    detector: Detector, rooms_root: Path, catalog_root: Path, queries_dir: Path, cache: Path, detect_queries_too=True
) -> dict:
    """Everything the variants share: product boxes, room proposals and query detections (cached in `cache`)."""
    query_detector = detector if detect_queries_too else None
    query_cache = cache / ("queries.json" if detect_queries_too else "queries-given.json")
    return {
        "detector": detector,
        "rooms_root": rooms_root, "catalog_root": catalog_root, "queries_dir": queries_dir,
        "room_products": catalogue(rooms_root, cache), "catalog_products": catalogue(catalog_root, cache),
        "rooms": cached(cache / "rooms.json", lambda: detect_rooms(detector, rooms_root)),
        "queries": cached(query_cache, lambda: detect_queries(query_detector, queries_dir)),
    }  # fmt: skip
