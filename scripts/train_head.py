"""Train the embedding head on top of a frozen base embedding (default effnet-crop), then re-embed indexes with it.

    python scripts/train_head.py --index INDEX_DIR [--index INDEX2] --cache CACHE_DIR [--scenes SCENES_DIR]
        [--shots 2] [--loss triplet+softmax] [--steps 1500] [--family-margin 0.1] [--feedback INDEX_OR_DB]
        [--out models/head-lite0.pt] [--plot docs/head-training-lite0.png] [--reembed OUT_DIR [OUT_DIR2]]

Views of each product: the entries of the base indexes (product shots and their detected objects), its crops in
the synthetic scenes (`--scenes`: scenes.jsonl from scripts/synthesize_scenes.py, training split only) and
`--shots` augmented renderings of its product shot. Their base vectors are computed once into `--cache` and
reused by every later run. Families held out by `family_split(family, --split-seed, --val-fraction)` (the
benchmark's split) are never trained on; they form the 'held-out' curve. `--feedback` adds curator marks as
triplets. `--reembed` writes each `--index` re-embedded with the new head (one output folder per index).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import torch

from catalog.reembed import reembed_index
from engine.curation.feedback import FILENAME, FeedbackStore
from engine.embedding import EmbeddingConfig, make_embedder
from engine.embedding.head import load_head, save_head
from engine.files import file_sha256
from engine.settings import PROJECT_ROOT
from training.head.data import SplitRule
from training.head.room_views import RoomPairs, merge_triplets
from training.head.sets import (
    MAX_SCENE_VIEWS,
    assemble,
    base_index,
    crop_encoder,
    feedback_triplets,
    fill_view_cache,
)
from training.head.train import TrainConfig, evaluate, plot_history, summary, train_head

DEFAULT_OUT = PROJECT_ROOT / "models" / "head-lite0.pt"


def add_view_options(ap: argparse.ArgumentParser) -> None:
    """The options naming what a run trains on: base indexes, scenes, shots, curator marks and room pairs."""
    ap.add_argument("--index", type=Path, action="append", required=True, help="base index (repeatable)")
    ap.add_argument("--scenes", type=Path, help="synthetic scenes (scenes.jsonl) to crop products from")
    ap.add_argument("--shots", type=int, default=0, help="augmented product-shot views per training product")
    ap.add_argument("--max-scene-views", type=int, default=MAX_SCENE_VIEWS, help="scene crops per catalogue")
    ap.add_argument("--feedback", type=Path, help="curator marks: an index folder or its feedback.sqlite")
    ap.add_argument("--room-pairs", type=Path, help="pairs mined from training room photos (mine_room_pairs.py)")
    ap.add_argument("--room-eval", type=Path, help="pairs mined from held-out room photos: a curve, never trained")
    ap.add_argument("--room-max-rank", type=int, help="train only on pairs whose box ranked the product this high")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; every TrainConfig field is an option (--steps, --loss, --family-margin, ...)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_view_options(ap)
    ap.add_argument("--cache", type=Path, help="folder of cached base vectors of training views")
    ap.add_argument("--init", type=Path, help="start from this head checkpoint (fine-tuning) instead of at random")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="head checkpoint to write")
    ap.add_argument("--plot", type=Path, help="training curves PNG")
    ap.add_argument("--reembed", type=Path, nargs="+", help="re-embed each --index with the head into these folders")
    ap.add_argument("--split-seed", type=int, default=0, help="family split seed (as the benchmark)")
    ap.add_argument("--val-fraction", type=float, default=0.1, help="share of families held out")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 is fastest on a shared machine)")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    for f in fields(TrainConfig):
        ap.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=f.default, dest=f.name)
    args = ap.parse_args(argv)
    if args.reembed and len(args.reembed) != len(args.index):
        ap.error("--reembed needs one output folder per --index")
    return args


def main(argv: list[str] | None = None) -> int:
    """Cache base vectors, train, write the checkpoint (+ history JSON, plot), re-embed when asked."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    config.losses()
    indexes = [base_index(path) for path in args.index]
    base_config = EmbeddingConfig.from_dict(indexes[0].manifest["embedding"])
    rule = SplitRule(args.split_seed, args.val_fraction)
    if args.cache and (args.scenes or args.shots):
        fill_view_cache(
            args.cache, indexes, base_config, rule, args.scenes, args.shots, args.max_scene_views, args.seed,
            not args.quiet,
        )  # fmt: skip
    rooms = RoomPairs.load(args.room_pairs, args.room_eval, indexes, args.room_max_rank)
    data = assemble(indexes, args.cache, rule, config.seed, rooms.views(), rooms.evals())
    curator = None
    if args.feedback:
        store_dir = args.feedback.parent if args.feedback.name == FILENAME else args.feedback
        curator = feedback_triplets(FeedbackStore(store_dir), indexes[0], crop_encoder(make_embedder(base_config)))
    data.feedback = merge_triplets(curator, rooms.triplets(rule))
    data.room_recall = rooms.recall
    print(f"{len(data.views)} training views of {data.views['key'].nunique()} products; raw: {evaluate(None, data)}")
    init = load_head(args.init, base_name=base_config.name).module if args.init else None
    if init is not None:
        config = replace(config, hidden=init.arch["hidden"], out_dim=init.arch["out_dim"])
    started = time.perf_counter()
    head, history = train_head(data, config, progress=not args.quiet, init=init)
    facts = summary(config, history, data) | {"train_seconds": round(time.perf_counter() - started, 1)}
    facts["raw"] = evaluate(None, data)
    facts["init"] = {"path": str(args.init), "sha256": file_sha256(args.init)} if args.init else None
    facts["room_pairs"] = {
        "train": str(args.room_pairs or ""),
        "eval": str(args.room_eval or ""),
        "max_rank": args.room_max_rank,
    }
    base = {"name": base_config.name, "crop_size": base_config.crop_size, "network": base_config.network}
    sha = save_head(head, args.out, base, facts)
    args.out.with_suffix(".json").write_text(json.dumps({"sha256": sha, **facts, "history": history}, indent=1))
    if args.plot:
        title = f"head on {base_config.name}: {config.loss}, {config.steps} steps"
        plot_history(history, args.plot, title, facts["raw"])
    for source, target in zip(args.index, args.reembed or []):
        index = reembed_index(source, target, args.out)
        print(f"Re-embedded {source} -> {target} ({len(index)} vectors, {index.dim}-d)")
    print(f"Head written to {args.out} (sha256 {sha[:12]}…) in {facts['train_seconds']} s; final: {facts['final']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
