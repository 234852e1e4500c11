"""Latency of the app's two interactions and the catalogue build throughput, written to docs/BENCHMARKS.md.

    python scripts/bench_app.py [--index INDEX_DIR] [--rooms DIR] [--n 30] [--build-images 160] [--json OUT]

- upload -> boxes: decode the photo, one detector pass (boxes + feature maps), draw the boxes, JPEG-encode
  the canvas background: what the page does before the shopper sees boxes.
- click -> grid: ROI-embed the clicked box from the kept feature maps, search, crop the target and fetch the
  match thumbnails (uncached: the ones the build stored, else made from the photos), as the page does.
- build: images/s of a fresh catalogue build (detect + embed + index) on ikea-catalog images.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import engine
from catalog.build import BuildConfig, build_catalog
from engine.draw import crop, draw_boxes
from engine.embedding import EmbeddingConfig
from engine.embedding.head import default_head_for
from engine.settings import (
    PROJECT_ROOT,
    default_index_dir,
    sample_rooms_dir,
    shared_data_dir,
)
from training.report import write_section
from training.timing import Stopwatch, machine, percentiles

TARGETS = {"upload_to_boxes_ms": 300, "click_to_grid_ms": 150, "build_images_per_s": 15}


def jpeg(image) -> bytes:
    """Encode as the page does."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def bench_queries(service: engine.Lookalike, rooms: list[Path], seed: int = 0) -> dict:
    """Upload->boxes and click->grid timings over real room photos."""
    upload, click = Stopwatch(), Stopwatch()
    rng = np.random.default_rng(seed)
    service.warm_up()  # as the app does when it loads the index
    for path in rooms:
        data = path.read_bytes()
        with upload:
            image = engine.load_image(data)
            analysis = service.analyse(image)
            boxes = [d.box for d in analysis.detections]
            jpeg(draw_boxes(image, boxes, [d.class_name for d in analysis.detections], None, 820 / image.width))
        box = boxes[0] if boxes else _random_box(rng, image.size)
        with click:
            matches = service.search_box(analysis, box, k=10)
            jpeg(crop(image, box))
            for match in matches:
                service.thumbnail(match.image, match.content_hash)  # stored at build time, else made
    return {"upload_to_boxes": percentiles(upload.samples), "click_to_grid": percentiles(click.samples)}


def _random_box(rng: np.random.Generator, size: tuple[int, int]) -> tuple[float, ...]:
    """A plausible object box when the detector finds none (random weights)."""
    width, height = size
    x0, y0 = rng.uniform(0, 0.5) * width, rng.uniform(0, 0.5) * height
    return (x0, y0, x0 + rng.uniform(0.2, 0.5) * width, y0 + rng.uniform(0.2, 0.5) * height)


def bench_build(n_images: int, weights: str | None, imgsz: int | None = None) -> dict:
    """Fresh build throughput on the first n ikea-catalog images (all categories), the CLI's default embedding."""
    catalog = shared_data_dir() / "ikea-catalog"
    table = pd.read_csv(catalog / "products.csv", dtype=str, keep_default_na=False)
    table = table.groupby("category").head(n_images // 6 + 1).head(n_images)
    with tempfile.TemporaryDirectory() as tmp:
        table.to_csv(Path(tmp) / "products.csv", index=False)
        config = BuildConfig(embedding=EmbeddingConfig().with_head(default_head_for(EmbeddingConfig())), imgsz=imgsz)
        report = build_catalog(catalog, Path(tmp) / "index", Path(tmp) / "products.csv", weights, config, False)
    return {
        "imgsz": imgsz or config.detector.imgsz,
        "images": report.embedded,
        "seconds": round(report.seconds, 1),
        "images_per_s": round(report.images_per_second, 1),
    }


def markdown(results: dict) -> str:
    """The BENCHMARKS.md section."""
    up, click, build = results["upload_to_boxes"], results["click_to_grid"], results["build"]
    rows = [
        ("upload → boxes (decode, detect, draw)", up, f"≤ {TARGETS['upload_to_boxes_ms']} ms"),
        ("click → grid (embed, search, crop, thumbnails)", click, f"≤ {TARGETS['click_to_grid_ms']} ms"),
    ]
    latency = "\n".join(f"| {name} | {t['p50_ms']} ms | {t['p95_ms']} ms | {target} |" for name, t, target in rows)
    build_row = "\n".join(
        f"| fresh build, batch 16, catalogue imgsz {b['imgsz']} | {b['images']} | {b['seconds']} "
        f"| {b['images_per_s']} | ≥ {TARGETS['build_images_per_s']} |"
        for b in [build, *results.get("build_variants", [])]
    )
    note = ""
    if results["weights"].endswith((".yaml", ".yml")):
        note = (
            "\nRandom weights detect nothing, so the click uses a random box per photo and NMS has no work; "
            "a trained detector adds its NMS and box drawing to upload → boxes.\n"
        )
    return f"""## App latency and build throughput (`scripts/bench_app.py`)

Measured {results["date"]} on {results["machine"]}; detector `{results["weights"]}`, {up["n"]} real room photos
(ikea-rooms, ~1024 px wide), training jobs paused. The build embeds ikea-catalog product shots.
{note}
| interaction | p50 | p95 | target |
|---|---|---|---|
{latency}

| catalogue build | images | seconds | images/s | target |
|---|---|---|---|---|
{build_row}
"""


def main(argv: list[str] | None = None) -> int:
    """Run both benchmarks, print the numbers, update docs/BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=default_index_dir())
    parser.add_argument("--rooms", type=Path, default=sample_rooms_dir())
    parser.add_argument("--n", type=int, default=30, help="room photos to time")
    parser.add_argument("--build-images", type=int, default=160)
    parser.add_argument("--catalog-imgsz", type=int, nargs="*", default=[], help="also time builds at these sizes")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--doc", type=Path, default=PROJECT_ROOT / "docs" / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    service = engine.load(args.index)
    rooms = sorted(args.rooms.glob("*.jpg"))[: args.n]
    results = bench_queries(service, rooms)
    results["build"] = bench_build(args.build_images, service.detector.weights_name)
    variants = [bench_build(args.build_images, service.detector.weights_name, size) for size in args.catalog_imgsz]
    results["build_variants"] = variants
    results |= {"date": pd.Timestamp.now().strftime("%Y-%m-%d"), "machine": machine()}
    results |= {"weights": Path(service.detector.weights_name).name, "imgsz": service.detector.config.imgsz}
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    write_section(args.doc, "app-latency", markdown(results))
    up, click, build = results["upload_to_boxes"], results["click_to_grid"], results["build"]
    print(
        f"upload->boxes p50 {up['p50_ms']} ms, click->grid p50 {click['p50_ms']} ms, "
        f"build {build['images_per_s']} images/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
