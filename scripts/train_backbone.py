"""Fine-tune the last stages of the crop network (EfficientNet-Lite0) together with the head; re-embed with it.

    python scripts/train_backbone.py --index INDEX_DIR [--index INDEX2] --cache CACHE_DIR [--scenes SCENES_DIR]
        [--shots 2] [--start 6] [--init models/head-lite0.pt] [--steps 2000] [--minutes 30] [--device cuda]
        [--out models/tuned-effnet.pt] [--plot docs/tail-training.png] [--reembed OUT_DIR [OUT_DIR2]]

The same views as `train_head.py` (base-index entries, synthetic-scene crops, augmented shots; held-out families
never train), but cached as the maps the frozen part of the network makes (`--cache`/maps-START), so each step
runs only the tail and the head. The tail starts from ImageNet and the head from `--init`, so step 0 is today's
embedding. `--minutes` time-boxes a run: it stops, keeps its state in `OUT.resume.pt`, and the same command
resumes it (`--fresh` starts over). The checkpoint is a head file that carries the tail; an index re-embedded
with it (`--reembed`, or `lookalike reembed`) records it in its manifest like any head.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

import torch

from catalog.reembed import reembed_index
from engine.curation.feedback import FILENAME, FeedbackStore
from engine.embedding import EmbeddingConfig
from engine.embedding.head import ProjectionHead, load_head, save_head
from engine.embedding.tail import new_tail
from engine.files import file_sha256
from engine.settings import PROJECT_ROOT
from scripts.train_head import add_view_options
from training.backbone.maps import crop_map_encoder, fill_map_cache, query_eval_sets
from training.backbone.rooms import room_sets
from training.backbone.train import TuneConfig, TunedModel, tune
from training.head.data import FeatureCache, SplitRule
from training.head.sets import assemble, base_index, feedback_triplets
from training.head.train import plot_history, summary

DEFAULT_INIT = PROJECT_ROOT / "models" / "head-lite0.pt"
DEFAULT_OUT = PROJECT_ROOT / "models" / "tuned-effnet.pt"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; every TuneConfig field is an option (--steps, --start, --tail-lr, --minutes, ...)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_view_options(ap)
    ap.add_argument("--cache", type=Path, required=True, help="folder of cached maps of training views")
    ap.add_argument("--eval-queries", type=Path, help="a query set (make_queries.py): a retrieval curve, never trained")
    ap.add_argument("--init", type=Path, default=DEFAULT_INIT, help="head to start from ('' : a new head)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="checkpoint to write (a head carrying the tail)")
    ap.add_argument("--resume-file", type=Path, help="training state (default: OUT with .resume.pt)")
    ap.add_argument("--fresh", action="store_true", help="ignore a saved training state and start over")
    ap.add_argument("--plot", type=Path, help="training curves PNG")
    ap.add_argument("--reembed", type=Path, nargs="+", help="re-embed each --index with the result into these")
    ap.add_argument("--split-seed", type=int, default=0, help="family split seed (as the benchmark)")
    ap.add_argument("--val-fraction", type=float, default=0.1, help="share of families held out")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="torch device")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--quiet", action="store_true", help="no progress bars")
    defaults = {"steps": 2000, "lr": 2e-4, "loss": "triplet", "P": 64, "K": 4, "eval_every": 250}
    for f in fields(TuneConfig):
        default = defaults.get(f.name, f.default)
        ap.add_argument(f"--{f.name.replace('_', '-')}", type=type(f.default), default=default, dest=f.name)
    args = ap.parse_args(argv)
    if args.reembed and len(args.reembed) != len(args.index):
        ap.error("--reembed needs one output folder per --index")
    return args


def starting_model(args, config: TuneConfig, base_config: EmbeddingConfig) -> tuple[TunedModel, TuneConfig]:
    """The `--init` head (a new one without) and its tail when it carries one for the same start, else the
    ImageNet tail; the config takes the head's shape."""
    tail = new_tail(config.start, base_config.network)
    if args.init and str(args.init):
        loaded = load_head(args.init, base_name=base_config.name)
        head = loaded.module
        if loaded.tail is not None:
            if loaded.tail.start != config.start:
                raise SystemExit(
                    f"--init carries a tail from stage {loaded.tail.start}; pass --start {loaded.tail.start}."
                )
            tail = copy.deepcopy(loaded.tail)
        head = copy.deepcopy(head)
        config = replace(config, hidden=head.arch["hidden"], out_dim=head.arch["out_dim"])
    else:
        head = ProjectionHead(1280, config.hidden, config.out_dim, config.dropout)
    return TunedModel(tail, head, tail.map_shape(base_config.crop_size)), config


def curator_triplets(args, root: Path, index, base_config: EmbeddingConfig, start: int):
    """Curator marks as (anchor, positive, negative) prefix maps, or None without --feedback."""
    if not args.feedback:
        return None
    store_dir = args.feedback.parent if args.feedback.name == FILENAME else args.feedback
    views, maps = FeatureCache(root, f"index-{Path(index.manifest['images_root']).name}").load()
    row = dict(zip(views["entry"].to_numpy(), range(len(views))))
    encode_crop = crop_map_encoder(base_config, start, args.device)
    return feedback_triplets(FeedbackStore(store_dir), index, encode_crop, lambda ids: maps[[row[int(i)] for i in ids]])


def main(argv: list[str] | None = None) -> int:
    """Cache maps, tune (or resume), write the checkpoint (+ history JSON, plot), re-embed when asked."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    config = TuneConfig(**{f.name: getattr(args, f.name) for f in fields(TuneConfig)})
    config.losses()
    indexes = [base_index(path) for path in args.index]
    base_config = EmbeddingConfig.from_dict(indexes[0].manifest["embedding"])
    rule = SplitRule(args.split_seed, args.val_fraction)
    root = fill_map_cache(
        args.cache, indexes, config.start, rule, args.scenes, args.shots, args.max_scene_views, config.seed,
        args.device, not args.quiet,
    )  # fmt: skip
    extra, room_recall = room_sets(
        args.cache, config.start, args.room_pairs, args.room_eval, indexes, args.room_max_rank, args.device
    )
    data = assemble([], root, rule, config.seed, extra)
    data.room_recall = room_recall
    if args.eval_queries:
        catalogs = [Path(index.manifest["images_root"]).name for index in indexes]
        data.evals |= query_eval_sets(args.cache, args.eval_queries, config.start, data, rule, catalogs, args.device)
    data.feedback = curator_triplets(args, root, indexes[0], base_config, config.start)
    model, config = starting_model(args, config, base_config)
    print(f"{len(data.views)} training views of {data.views['key'].nunique()} products on {args.device}")
    resume = args.resume_file or args.out.with_suffix(".resume.pt")
    if args.fresh:
        resume.unlink(missing_ok=True)
    started = time.perf_counter()
    outcome = tune(data, model, config, resume, args.device, not args.quiet)
    if not outcome.finished:
        step = outcome.history[-1]["step"]
        print(f"Stopped at step {step} of {config.steps} ({config.minutes} min); run the same command to resume.")
        return 0
    facts = summary(config, outcome.history, data) | {"run_seconds": round(time.perf_counter() - started, 1)}
    facts["start_figures"] = outcome.history[0]
    facts["init"] = {"path": str(args.init), "sha256": file_sha256(args.init)} if args.init and str(args.init) else None
    base = {"name": base_config.name, "crop_size": base_config.crop_size, "network": base_config.network}
    sha = save_head(outcome.model.head, args.out, base, facts, tail=outcome.model.tail)
    args.out.with_suffix(".json").write_text(json.dumps({"sha256": sha, **facts, "history": outcome.history}))
    if args.plot:
        title = (
            f"EfficientNet stages {config.start}+ and head, fine-tuned together: {config.loss}, {config.steps} steps"
        )
        plot_history(outcome.history, args.plot, title, outcome.history[0], dashed="step 0")
    for source, target in zip(args.index, args.reembed or []):
        index = reembed_index(source, target, args.out)
        print(f"Re-embedded {source} -> {target} ({len(index)} vectors, {index.dim}-d)")
    print(f"Written {args.out} (sha256 {sha[:12]}…); at start: {outcome.history[0]}; final: {facts['final']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
