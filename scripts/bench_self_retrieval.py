"""Self-retrieval: does a catalogue photo, searched with the default settings, find its own product first?

    python scripts/bench_self_retrieval.py --index INDEX_DIR --images DIR --products CSV [--limit N] \
        [--doc docs/BENCHMARKS.md]

Each photo is searched twice through the path the CLI and the app take (`engine.Lookalike.search_photo`): the
file as it is, and a shopper's copy of it (resized to --scale and re-saved as JPEG at --quality: other bytes and
other pixels, so nothing can match by file hash). Misses are listed with what came first instead.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pandas as pd
from PIL import Image
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # project root; drop once installed (pip install -e .)

import engine  # noqa: E402
from training.report import write_section  # noqa: E402
from training.timing import Stopwatch, machine, percentiles  # noqa: E402

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


def main(argv: list[str] | None = None) -> int:
    """Run, print, and write JSON / the Markdown section when asked."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--images", type=Path, required=True, help="the catalogue's image folder")
    ap.add_argument("--products", type=Path, required=True, help="its CSV (product_id, image)")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--scale", type=float, default=0.7)
    ap.add_argument("--quality", type=int, default=75)
    ap.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    ap.add_argument("--json", type=Path)
    ap.add_argument("--doc", type=Path)
    args = ap.parse_args(argv)
    service = engine.load(args.index)
    table = pd.read_csv(args.products, dtype=str, keep_default_na=False).head(args.limit)
    manifest = service.index.manifest
    result = {"date": pd.Timestamp.now().strftime("%Y-%m-%d %H:%M"), "machine": machine()}
    result |= {"index": args.index.name, "weights": Path(manifest["detector"]["weights"]).name}
    result |= {"embedding": manifest["embedding"]["name"] + (" + head" if manifest["embedding"].get("head") else "")}
    result |= {"scale": args.scale, "quality": args.quality}
    result |= run(service, args.images, table, args.scale, args.quality, tuple(args.variants))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    if args.doc:
        write_section(args.doc, "self-retrieval", markdown(result))
    print(markdown(result))
    for miss in result["misses"][:20]:
        print(f"  miss ({miss['variant']}): {miss['product_id']} -> {miss['first']}")
    print(f"summary: self-retrieval file {rate(result, 'original')} copy {rate(result, 'copy')} ({result['n']} photos)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
