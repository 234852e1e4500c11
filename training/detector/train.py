"""Train the furniture detector (Ultralytics YOLO) on the synthetic scenes, on CPU.

Example (the whole recipe, with the data steps, is scripts/train_furniture_detector.sh):
    python scripts/train_detector.py --data DATA/detector/data.yaml \
        --weights ../shared/models/yolov8n-coco.pt --freeze 10 --imgsz 480 --hours 0.9 \
        --project DATA/runs --name furniture-v8n --out models/furniture-yolov8n.pt

Re-running the same command resumes from the run's ``weights/last.pt`` when that
run is unfinished; when it is finished it only copies ``best.pt`` and reports.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="YOLO data.yaml")
    ap.add_argument("--weights", default="yolo11n.yaml", help="model yaml or .pt")
    ap.add_argument("--epochs", type=int, default=18)
    ap.add_argument("--hours", type=float, default=None, help="time box: stop after this long (overrides --epochs)")
    ap.add_argument("--lr0", type=float, default=None, help="initial learning rate (default: Ultralytics' choice)")
    ap.add_argument("--imgsz", type=int, default=320)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--cache", default="ram", help="ram, disk or none")
    ap.add_argument("--fraction", type=float, default=1.0, help="train on this share of the training images")
    ap.add_argument("--freeze", type=int, default=0, help="freeze the first N layers (1: a pretrained backbone module)")
    ap.add_argument("--close-mosaic", type=int, default=3, help="last epochs w/o mosaic")
    ap.add_argument("--project", default=str(REPO_ROOT / "runs"))
    ap.add_argument("--name", default="furniture")
    ap.add_argument("--out", default=str(REPO_ROOT / "models" / "furniture-yolov8n.pt"))
    ap.add_argument("--resume", action="store_true", help="resume the run's last.pt")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing run")
    ap.add_argument("--plot", default=None, help="write training curves (losses, val mAP) to this PNG")
    return ap.parse_args(argv)


def checkpoint_state(path: Path) -> str:
    """ "missing", "resumable" (unfinished, has optimizer state) or "finished"."""
    if not path.exists():
        return "missing"
    from ultralytics.nn.tasks import torch_safe_load

    ckpt, _ = torch_safe_load(path)
    unfinished = ckpt.get("epoch", -1) >= 0 and ckpt.get("optimizer") is not None
    return "resumable" if unfinished else "finished"


def train(args: argparse.Namespace, run_dir: Path):
    """Start or resume training; return the final metrics (or None if skipped)."""
    from ultralytics import YOLO

    from engine.detection.backbones import register_yolo_modules

    register_yolo_modules()  # model yamls may name the EfficientNet-Lite0 backbone
    last, best = run_dir / "weights" / "last.pt", run_dir / "weights" / "best.pt"
    state = "missing" if args.fresh else checkpoint_state(last)
    common = dict(workers=args.workers, device=args.device, plots=False)
    if state == "resumable":
        print(f"resuming {last}")
        return YOLO(str(last)).train(resume=True, data=args.data, **common)
    if state == "finished" and best.exists():
        print(f"{run_dir} is finished; not training again (pass --fresh to retrain)")
        return None
    if args.resume:
        print(f"nothing to resume in {run_dir}; starting a new run")
    from_yaml = args.weights.endswith((".yaml", ".yml"))
    return YOLO(args.weights).train(
        data=args.data,
        epochs=args.epochs,
        imgsz=args.imgsz,
        batch=args.batch,
        project=str(Path(args.project).resolve()),
        name=args.name,
        exist_ok=True,
        pretrained=not from_yaml,
        cache=False if args.cache == "none" else args.cache,
        close_mosaic=args.close_mosaic,
        freeze=args.freeze or None,
        fraction=args.fraction,
        **({"time": args.hours} if args.hours else {}),
        **({"lr0": args.lr0, "optimizer": "AdamW"} if args.lr0 else {}),
        **common,
    )


def box_metrics(metrics, best: Path, args: argparse.Namespace) -> tuple[float, float]:
    """(mAP50, mAP50-95) from training metrics, or by validating best.pt."""
    if metrics is None:
        from ultralytics import YOLO

        metrics = YOLO(str(best)).val(
            data=args.data, imgsz=args.imgsz, batch=args.batch, device=args.device,
            plots=False, workers=args.workers,
        )  # fmt: skip
    return float(metrics.box.map50), float(metrics.box.map)


def plot_curves(results_csv: Path, out: Path) -> None:
    """Losses and validation mAP per epoch, from Ultralytics' results.csv, as one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    frame = pd.read_csv(results_csv).rename(columns=str.strip)
    fig, (losses, quality) = plt.subplots(1, 2, figsize=(11, 4))
    for column in ("train/box_loss", "train/cls_loss", "train/dfl_loss", "val/box_loss", "val/cls_loss"):
        if column in frame:
            losses.plot(frame["epoch"], frame[column], label=column, linestyle="--" if "val" in column else "-")
    for column in ("metrics/mAP50(B)", "metrics/mAP50-95(B)", "metrics/recall(B)"):
        if column in frame:
            quality.plot(frame["epoch"], frame[column], marker="o", label=column.removeprefix("metrics/"))
    losses.set(title="Losses", xlabel="epoch")
    quality.set(title="Validation (held-out product families)", xlabel="epoch", ylim=(0, 1))
    for axes in (losses, quality):
        axes.legend(fontsize=8)
        axes.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    """Train, copy best.pt to --out and print the validation mAP."""
    args = parse_args(argv)
    run_dir = Path(args.project).resolve() / args.name
    metrics = train(args, run_dir)
    best = run_dir / "weights" / "best.pt"
    if not best.exists():
        raise SystemExit(f"no {best}; training did not produce a checkpoint")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(best, out)
    map50, map5095 = box_metrics(metrics, best, args)
    print(f"copied {best} -> {out}")
    if args.plot and (run_dir / "results.csv").exists():
        plot_curves(run_dir / "results.csv", Path(args.plot))
        print(f"training curves -> {args.plot}")
    print(f"val mAP50={map50:.4f} mAP50-95={map5095:.4f}")


if __name__ == "__main__":
    main()
