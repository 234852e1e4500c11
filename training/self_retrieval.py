"""Self-retrieval: does a catalogue photo, searched as the app searches a photo, find its own product first?

Each photo is searched through `engine.Lookalike.search_photo` as the file it is, and as a shopper's copy of it
(resized and re-saved as JPEG: other bytes and other pixels, so nothing can match by file hash).
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from PIL import Image
from tqdm import tqdm

import engine
from training.timing import Stopwatch, percentiles

VARIANTS = ("original", "copy")


def shoppers_copy(path: Path, scale: float, quality: int) -> bytes:
    """The photo resized by `scale` and re-encoded as JPEG."""
    image = Image.open(path).convert("RGB")
    image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def top_product(service: engine.Lookalike, source, watch: Stopwatch) -> tuple[str, str]:
    """(first product id, how the query box was chosen) for a photo given as a path or bytes."""
    image = engine.load_image(source)
    with watch:
        analysis = service.analyse(image)
        first, _, how = service.search_photo(analysis, k=1)
    return (first[0].product_id if first else ""), how.split(":")[0]


def run(service, images: Path, table: pd.DataFrame, scale: float, quality: int, variants=VARIANTS) -> dict:
    """Hit rates for the original files and/or the shoppers' copies, with every miss."""
    watch, hits, misses, hows = Stopwatch(), dict.fromkeys(variants, 0), [], {}
    for product_id, image in tqdm(list(zip(table["product_id"], table["image"])), desc="photos", unit="photo"):
        for variant in variants:
            source = images / image if variant == "original" else shoppers_copy(images / image, scale, quality)
            found, how = top_product(service, source, watch)
            hows[how] = hows.get(how, 0) + 1
            if found == product_id:
                hits[variant] += 1
            else:
                misses.append({"variant": variant, "product_id": product_id, "first": found})
    n = len(table)
    rates = {variant: round(count / n, 4) if n else None for variant, count in hits.items()}
    return {"n": n, "rates": rates, "query_box": hows, "latency": percentiles(watch.samples), "misses": misses}


def rate(result: dict, variant: str) -> str:
    """A hit rate for tables, '-' when that variant was not run."""
    value = result["rates"].get(variant)
    return "-" if value is None else f"{value:.4f}"


def markdown(result: dict) -> str:
    """The BENCHMARKS.md section."""
    return (
        "## Self-retrieval (`scripts/bench_self_retrieval.py`)\n\n"
        f"{result['date']}, {result['machine']}. Index `{result['index']}` ({result['weights']}, "
        f"{result['embedding']}). Every catalogue photo searched with the default settings (no box given), "
        f"as the file and as a shopper's copy (resized ×{result['scale']}, JPEG q{result['quality']}). "
        "Target: ≥ 0.99.\n\n"
        "| photos | own product first (file) | own product first (shopper's copy) | query box chosen | p50 ms |\n"
        "|---|---|---|---|---|\n"
        f"| {result['n']} | {rate(result, 'original')} | {rate(result, 'copy')} "
        f"| {', '.join(f'{k} {v}' for k, v in result['query_box'].items())} | {result['latency']['p50_ms']} |\n"
    )
