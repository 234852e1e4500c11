"""The crop network's input, measured: networks, input contracts, crop sizes and pooling side by side.

    lookalike bench crop-network --queries QDIR --cache CACHE_DIR \\
        [--variants efficientnet-lite0-imagenet-norm:224 efficientnet-lite0:224 efficientnet-lite2:260] \\
        [--json OUT.json] [--doc docs/BENCHMARKS.md --section crop-network]

The held-out dev rooms and the demo catalogue come from `../shared/data/ikea-rooms`, the synthetic queries (made by
`lookalike make-queries` over `ikea-catalog`) are searched against that catalogue. `training.crop_inputs` says
what each figure is. Detection runs once (cached in CACHE_DIR); each variant costs one crop-network pass.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from engine.detection.detector import Detector, DetectorConfig
from engine.embedding.head import head_network, load_head
from engine.settings import default_weights, query_detection, shared_data_dir
from training.crop_inputs import Variant, measure, prepare
from training.report import write_section

COLUMNS = ("network", "size", "pooling", "all", "large", "chance", "precision", "R@1", "R@10", "R@10 det", "seconds")
DEFAULT_VARIANTS = ("efficientnet-lite0-imagenet-norm:224", "efficientnet-lite0:224")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", type=Path, required=True, help="folder with queries.json (lookalike make-queries)")
    ap.add_argument("--cache", type=Path, required=True, help="folder for the shared detections and product boxes")
    ap.add_argument(
        "--variants", nargs="+", default=list(DEFAULT_VARIANTS), help="NETWORK:SIZE[:flip] (engine.pretrained)"
    )
    ap.add_argument("--data", type=Path, default=None, help="folder holding ikea-rooms and ikea-catalog")
    ap.add_argument("--weights", default=None, help="detector for the room proposals (default: the shipped one)")
    ap.add_argument("--no-detected", action="store_true", help="skip detecting the queries (no R@10 det column)")
    ap.add_argument(
        "--head", default=None, help="also rank with this embedding head, for the network it was trained on"
    )
    ap.add_argument("--json", type=Path, help="append each row to this JSON-lines file as it is measured")
    ap.add_argument("--doc", type=Path, help="Markdown file to write the table into (e.g. docs/BENCHMARKS.md)")
    ap.add_argument("--section", default="crop-network", help="section name in --doc")
    return ap.parse_args(argv)


def parse_variant(text: str) -> Variant:
    """NETWORK:SIZE[:flip] -> Variant (SIZE defaults to 224; ":flip" also embeds each crop mirrored)."""
    network, _, rest = text.partition(":")
    size, _, flip = rest.partition(":")
    return Variant(network, int(size or 224), flip == "flip")


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(row.get(c, "")) for c in COLUMNS) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Prepare the shared detections once, measure every variant, print and write the table."""
    args = parse_args(argv)
    data_dir = args.data or shared_data_dir()
    detector = Detector(args.weights or default_weights(), replace(DetectorConfig(), **query_detection()))
    data = prepare(
        detector, data_dir / "ikea-rooms", data_dir / "ikea-catalog", args.queries, args.cache, not args.no_detected
    )
    head = load_head(args.head) if args.head else None
    rows = []
    for variant in map(parse_variant, args.variants):
        started = time.perf_counter()
        fits = head if head and head_network(head.base) == variant.network else None
        measured = measure(variant, data, fits, args.cache)
        for row in measured:
            row["seconds"] = round(time.perf_counter() - started)
            print(json.dumps(row), flush=True)
            if args.json:
                with args.json.open("a") as out:
                    out.write(json.dumps(row) + "\n")
        rows += measured
    markdown = table(rows)
    print(markdown)
    if args.doc:
        write_section(args.doc, args.section, markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
