"""Training the furniture detector (Ultralytics YOLO), resumable: a re-run resumes an unfinished run's last.pt,
and a finished run is not trained again (its best.pt is only copied and validated)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from engine.settings import PROJECT_ROOT


@dataclass
class DetectorTraining:
    """One training run's options (the command line's, see scripts/train_detector.py)."""

    data: str  # YOLO data.yaml
    weights: str = "yolo11n.yaml"  # model yaml or .pt
    epochs: int = 18
    hours: float | None = None  # time box: stop after this long (overrides epochs)
    lr0: float | None = None  # initial learning rate (None: Ultralytics' choice)
    imgsz: int = 320
    batch: int = 16
    workers: int = 2
    device: str = "cpu"
    cache: str = "ram"  # ram, disk or none
    fraction: float = 1.0  # share of the training images
    freeze: int = 0  # freeze the first N layers
    close_mosaic: int = 3  # last epochs without mosaic
    project: str = str(PROJECT_ROOT / "runs")
    name: str = "furniture"
    resume: bool = False
    fresh: bool = False  # ignore an existing run


def checkpoint_state(path: Path) -> str:
    """ "missing", "resumable" (unfinished, has optimizer state) or "finished"."""
    if not path.exists():
        return "missing"
    from ultralytics.nn.tasks import torch_safe_load

    ckpt, _ = torch_safe_load(path)
    unfinished = ckpt.get("epoch", -1) >= 0 and ckpt.get("optimizer") is not None
    return "resumable" if unfinished else "finished"


def train(config: DetectorTraining, run_dir: Path):
    """Start or resume training; return the final metrics (or None if skipped)."""
    from ultralytics import YOLO

    from engine.detection.backbones import register_yolo_modules

    register_yolo_modules()  # model yamls may name the EfficientNet-Lite0 backbone
    last, best = run_dir / "weights" / "last.pt", run_dir / "weights" / "best.pt"
    state = "missing" if config.fresh else checkpoint_state(last)
    common = dict(workers=config.workers, device=config.device, plots=False)
    if state == "resumable":
        print(f"resuming {last}")
        return YOLO(str(last)).train(resume=True, data=config.data, **common)
    if state == "finished" and best.exists():
        print(f"{run_dir} is finished; not training again (pass --fresh to retrain)")
        return None
    if config.resume:
        print(f"nothing to resume in {run_dir}; starting a new run")
    from_yaml = config.weights.endswith((".yaml", ".yml"))
    return YOLO(config.weights).train(
        data=config.data,
        epochs=config.epochs,
        imgsz=config.imgsz,
        batch=config.batch,
        project=str(Path(config.project).resolve()),
        name=config.name,
        exist_ok=True,
        pretrained=not from_yaml,
        cache=False if config.cache == "none" else config.cache,
        close_mosaic=config.close_mosaic,
        freeze=config.freeze or None,
        fraction=config.fraction,
        **({"time": config.hours} if config.hours else {}),
        **({"lr0": config.lr0, "optimizer": "AdamW"} if config.lr0 else {}),
        **common,
    )


def box_metrics(metrics, best: Path, config: DetectorTraining) -> tuple[float, float]:
    """(mAP50, mAP50-95) from training metrics, or by validating best.pt."""
    if metrics is None:
        from ultralytics import YOLO

        metrics = YOLO(str(best)).val(
            data=config.data, imgsz=config.imgsz, batch=config.batch, device=config.device,
            plots=False, workers=config.workers,
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


def train_detector(config: DetectorTraining, out: Path, plot: Path | None = None) -> tuple[float, float]:
    """Train (or resume), copy best.pt to `out`, draw the curves when asked; returns (mAP50, mAP50-95)."""
    run_dir = Path(config.project).resolve() / config.name
    metrics = train(config, run_dir)
    best = run_dir / "weights" / "best.pt"
    if not best.exists():
        raise SystemExit(f"no {best}; training did not produce a checkpoint")
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(best, out)
    scores = box_metrics(metrics, best, config)
    print(f"copied {best} -> {out}")
    if plot and (run_dir / "results.csv").exists():
        plot_curves(run_dir / "results.csv", plot)
        print(f"training curves -> {plot}")
    return scores
