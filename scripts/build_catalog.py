"""Build or update a catalogue index from a folder of product images and an optional product CSV.

python scripts/build_catalog.py --images DIR [--products CSV] --out INDEX_DIR [--weights W] [--batch N] [--head H]
python scripts/build_catalog.py --demo            # the IKEA demo catalogue into the default index folder
python scripts/build_catalog.py --demo ikea-catalog   # the other demo catalogue, into indexes/ikea-catalog

An existing index is updated in place: new and changed images are added, deleted ones removed, without
rebuilding the vector index. --index-factory picks the FAISS index (default: by catalogue size, exact Flat for
small ones, IVF with SQ8 codes for large ones); --compact rebuilds it from the stored vectors; --rebuild re-embeds
all. --ray runs detection and embedding on a Ray cluster (a local one unless --ray-address); the index is
written here. LOOKALIKE_INDEX_BACKEND=milvus writes the index to Milvus instead of FAISS files (docs/SCALING.md).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from catalog import background
from catalog.build import BuildConfig, build_catalog
from engine.detection.detector import DetectorConfig
from engine.embedding import EmbeddingConfig
from engine.embedding.head import default_head_for
from engine.index.factories import parse_params
from engine.pretrained import PRETRAINED
from engine.settings import (
    CATALOG_VIEWS,
    DEFAULT_DEMO,
    DEMO_CATALOGS,
    default_index_dir,
    default_weights,
    demo_catalog_dir,
    demo_index_dir,
)


def at_least(low: int):
    """An argparse type: an integer no smaller than `low`."""

    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = "integer"  # argparse names the type in its "invalid … value" message
    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, help="folder of product images")
    parser.add_argument("--products", type=Path, help="CSV with an 'image' column relative to --images")
    parser.add_argument("--out", type=Path, help="index folder (default: $LOOKALIKE_INDEX or indexes/ikea-rooms)")
    parser.add_argument("--weights", default=None, help=f"detector checkpoint or yaml (default: {default_weights()})")
    parser.add_argument(
        "--demo",
        nargs="?",
        const=DEFAULT_DEMO,
        choices=sorted(DEMO_CATALOGS),
        help=f"build a demo catalogue from ../shared/data (default: {DEFAULT_DEMO})",
    )
    parser.add_argument("--batch", type=at_least(1), default=16, help="images per forward pass")
    parser.add_argument("--imgsz", type=int, default=DetectorConfig.imgsz, help="detector input size for queries")
    parser.add_argument("--catalog-imgsz", type=int, help="input size for catalogue shots (default: --imgsz)")
    parser.add_argument("--conf", type=float, default=DetectorConfig.conf, help="detection confidence threshold")
    parser.add_argument("--max-objects", type=at_least(0), default=5, help="detections indexed per catalogue image")
    parser.add_argument(
        "--views",
        type=at_least(0),
        default=CATALOG_VIEWS,
        help=f"gallery views per photo: renderings of the product on other backdrops, indexed beside it "
        f"(default {CATALOG_VIEWS}: opt-in, e.g. 2; they lift synthetic queries, not real rooms; changing it renders "
        "only the views; docs/BENCHMARKS.md)",
    )
    parser.add_argument(
        "--embedding", default=EmbeddingConfig.name, help="embedding method (see engine.embedding.registry)"
    )
    parser.add_argument(
        "--head",
        default="auto",
        help="embedding head checkpoint (scripts/train_head.py), 'none', or 'auto': $LOOKALIKE_HEAD, else "
        "models/head-lite0-blend.pt when present and the embedding is the one it was trained on",
    )
    parser.add_argument("--shrink", type=float, default=EmbeddingConfig.shrink, help="ROI shrink per side")
    parser.add_argument(
        "--network", default=EmbeddingConfig.network, choices=sorted(PRETRAINED),
        help="pretrained crop network of crop methods, with its own input contract (engine.pretrained)",
    )  # fmt: skip
    parser.add_argument("--crop-size", type=int, default=EmbeddingConfig.crop_size, help="crop network input side")
    parser.add_argument("--index-factory", help="FAISS index_factory string, e.g. HNSW32,SQ8 (default: by size)")
    parser.add_argument(
        "--index-param", action="append", default=[], metavar="NAME=VALUE", help="search parameter, e.g. efSearch=96"
    )
    parser.add_argument(
        "--rooms",
        default="auto",
        help="rooms.csv (image, products) that 'goes well with' learns from; 'auto': beside --products or in "
        "--images; 'none': no room photos (style cues only)",
    )
    parser.add_argument("--compact", action="store_true", help="rebuild the vector index (drop removed, retrain)")
    parser.add_argument("--rebuild", action="store_true", help="ignore the existing index, embed every image again")
    parser.add_argument("--ray", action="store_true", help="detect and embed on Ray (a local instance by default)")
    parser.add_argument("--ray-address", help='Ray cluster for --ray, e.g. "auto" or "ray://head:10001"')
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--background", action="store_true", help="start the build detached and return (log: OUT/build.log)"
    )
    parser.add_argument(
        "--report-progress", action="store_true", help="keep OUT/build-progress.json up to date (the app reads it)"
    )
    parser.add_argument(
        "--owner-pid",
        type=at_least(1),
        help="stop (recording 'stopped') when this process ends, e.g. the app server, and run at a lower CPU "
        "priority than it; with --background too",
    )
    args = parser.parse_args(argv)
    if args.demo:
        demo = demo_catalog_dir(args.demo)
        args.images = args.images or demo
        args.products = args.products or demo / "products.csv"
    args.out = args.out or (default_index_dir() if args.demo in (None, DEFAULT_DEMO) else demo_index_dir(args.demo))
    if args.images is None:
        parser.error("--images is required (or use --demo)")
    try:
        args.index_params = parse_params(args.index_param)
    except ValueError as err:
        parser.error(str(err))
    return args


def chosen_head(args: argparse.Namespace) -> str | None:
    """The head to build with: the given file, none, or (auto) the default head when it fits the embedding."""
    if args.head == "none":
        return None
    if args.head != "auto":
        return args.head
    return default_head_for(EmbeddingConfig(name=args.embedding, network=args.network, crop_size=args.crop_size))


def _without_option(args: list[str], option: str) -> list[str]:
    """`args` without `option` and its value (as "--option VALUE" or "--option=VALUE")."""
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == option:
            skip = True
        elif not arg.startswith(option + "="):
            kept.append(arg)
    return kept


def build_config(args: argparse.Namespace) -> BuildConfig:
    """The build's configuration from the command line."""
    return BuildConfig(
        detector=DetectorConfig(imgsz=args.imgsz, conf=args.conf),
        embedding=EmbeddingConfig(
            name=args.embedding, shrink=args.shrink, network=args.network, crop_size=args.crop_size
        ).with_head(chosen_head(args)),
        batch=args.batch,
        max_objects=args.max_objects,
        views=args.views,
        imgsz=args.catalog_imgsz,
        index_factory=args.index_factory,
        index_params=args.index_params or None,
        compact=args.compact,
        rebuild=args.rebuild,
        ray=(args.ray_address or "local") if args.ray or args.ray_address else None,
        rooms=args.rooms,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the build and print a summary of what happened, including every skipped file."""
    args = parse_args(argv)
    if args.background:
        build_args = [arg for arg in (sys.argv[1:] if argv is None else argv) if arg != "--background"]
        build_args = _without_option(build_args, "--owner-pid")
        state = background.start(args.out, build_args, owner=args.owner_pid).state
        print(f"Catalogue build {state} in the background for {args.out} (log: {args.out / background.LOG_FILE})")
        return 0
    config = build_config(args)
    report_progress = background.progress_writer(args.out) if args.report_progress else None
    try:
        background.stop_on_signals(args.owner_pid)  # inside the try: a stop that comes at once is recorded too
        if args.owner_pid:
            os.nice(background.BUILDER_NICENESS)  # the app's own build: its shoppers' searches come first
        report = build_catalog(
            args.images, args.out, args.products, args.weights, config, not args.quiet, on_progress=report_progress
        )
    except background.BuildStopped as why:
        print(background.stopped_message(why), file=sys.stderr, flush=True)
        if report_progress:
            done, total = report_progress.last
            report_progress(done, total, background.STOPPED, background.stopped_message(why))
        return 1
    except (FileNotFoundError, ValueError, ModuleNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        if report_progress:
            report_progress(0, 0, background.FAILED, str(err))
        return 2
    if report_progress:
        report_progress(report.images, report.images, background.DONE, report.summary())
    for problem in report.problems:
        print(f"  table: {problem}")
    for image, reason in report.failures:
        print(f"  unreadable: {image}: {reason}")
    for gap in report.gaps:
        print(f"  data: {gap}")
    print(
        f"Index at {args.out} is up to date"
        if report.embedded == report.removed == report.viewed == 0
        else f"Index written to {args.out}"
    )
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
