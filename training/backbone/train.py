"""Fine-tuning a network tail and the head together on cached prefix maps: time-boxed, resumable, any device.

The model is `TunedModel` = tail (the last EfficientNet stages, `engine.embedding.tail`) -> head. It starts from
the ImageNet tail and, usually, the committed head, so step 0 reproduces today's embedding exactly. Batches,
losses and evaluation are the head trainer's (`training.head.train`); the tail gets its own, smaller learning rate.
Every `checkpoint_every` steps, and when the time box runs out, the whole state (weights, optimiser, schedule,
history) is written atomically to a resume file; the same command picks it up again.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from engine.embedding.head import ProjectionHead
from engine.embedding.tail import EffnetTail
from engine.files import atomic_writer
from training.head.losses import NormSoftmax
from training.head.train import TrainConfig, TrainData, codes, evaluate, optimise_step, pk_batches


@dataclass
class TuneConfig(TrainConfig):
    """The head trainer's hyper-parameters plus the tail's."""

    start: int = 6  # the tail begins at blocks[start] (engine.embedding.tail.TAIL_STARTS)
    tail_lr: float = 1e-4  # peak learning rate of the tail (the head uses `lr`)
    minutes: float = 0.0  # time box per run; 0: none (the run stops early, writing its resume state)
    checkpoint_every: int = 100  # steps between resume states

    def resumable(self) -> dict:
        """The fields a resumed run must share with the one it continues (the time box may change)."""
        return {k: v for k, v in asdict(self).items() if k not in ("minutes", "checkpoint_every", "eval_every")}


class TunedModel(nn.Module):
    """(N, C_in * h * w) flattened prefix maps -> (N, out_dim) unit vectors: tail, then head."""

    def __init__(self, tail: EffnetTail, head: ProjectionHead, map_shape: tuple[int, int, int]):
        super().__init__()
        self.tail, self.head, self.map_shape = tail, head, tuple(map_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Maps (any float dtype) -> unit vectors."""
        return self.head(self.tail(x.float().view(-1, *self.map_shape)))  # (N, C, h, w) -> (N, 1280) -> (N, D)


@dataclass
class Outcome:
    """A tuning run's result: the model (eval mode), its history, and whether every step ran."""

    model: TunedModel
    history: list[dict]
    finished: bool


def optimiser_for(model: TunedModel, criteria: dict, config: TuneConfig):
    """AdamW with two groups (tail at `tail_lr`, head and loss proxies at `lr`) and a one-cycle schedule."""
    head_params = list(model.head.parameters()) + [p for c in criteria.values() for p in c.parameters()]
    groups = [{"params": list(model.tail.parameters()), "lr": config.tail_lr}, {"params": head_params}]
    optimiser = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
    peaks = [config.tail_lr, config.lr]
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, peaks, total_steps=config.steps, pct_start=0.1)
    return optimiser, schedule


def tune(
    data: TrainData,
    model: TunedModel,
    config: TuneConfig,
    resume: Path | None = None,
    device: str = "cpu",
    progress: bool = True,
) -> Outcome:
    """Train `model` on `data` (its vectors are flattened prefix maps), resuming from `resume` when it exists."""
    torch.manual_seed(config.seed)
    names = config.losses()
    maps = torch.from_numpy(np.ascontiguousarray(data.vectors))  # (N, C_in*h*w) on the host; batches move
    keys = data.views["key"].to_numpy()
    labels, families = torch.from_numpy(codes(keys)), torch.from_numpy(codes(data.views["family"]))
    criteria = {"softmax": NormSoftmax(int(labels.max()) + 1, config.out_dim)} if "softmax" in names else {}
    for module in (model, *criteria.values()):
        module.to(device)
    optimiser, schedule = optimiser_for(model, criteria, config)
    state = load_resume(resume, config)
    if state:
        restore(state, model, criteria, optimiser, schedule)
    first, history = (state["step"] + 1, state["history"]) if state else (1, [{"step": 0, **evaluate(model, data)}])
    rng = np.random.default_rng([config.seed, first])
    focus = data.views["source"].eq("room").to_numpy() if "source" in data.views else None
    batches = pk_batches(keys, config.P, config.K, rng, focus, config.room_share)
    started, spent = time.perf_counter(), history[-1].get("seconds", 0.0)
    bar = tqdm(range(first, config.steps + 1), desc=f"Tuning tail {config.start} + head", disable=not progress)
    for step in bar:
        idx = torch.from_numpy(next(batches))
        batch = (maps[idx].to(device), labels[idx].to(device), families[idx].to(device))
        record = {"step": step, **optimise_step(model, criteria, names, optimiser, schedule, batch, data, config, rng)}
        if step % config.eval_every == 0 or step == config.steps:
            record |= evaluate(model, data)
        history.append(record | {"seconds": round(spent + time.perf_counter() - started, 2)})
        bar.set_postfix(loss=f"{record['loss']:.3f}")
        out_of_time = config.minutes and time.perf_counter() - started > config.minutes * 60
        if step % config.checkpoint_every == 0 or out_of_time or step == config.steps:
            save_resume(resume, step, model, criteria, optimiser, schedule, history, config)
        if out_of_time and step < config.steps:
            return Outcome(model.eval(), history, False)
    return Outcome(model.eval(), history, True)


def restore(state: dict, model: TunedModel, criteria: dict, optimiser, schedule) -> None:
    """Load a saved training state into the model, loss proxies, optimiser and schedule."""
    model.load_state_dict(state["model"])
    for name, criterion in criteria.items():
        criterion.load_state_dict(state["criteria"][name])
    optimiser.load_state_dict(state["optimiser"])
    schedule.load_state_dict(state["schedule"])


def save_resume(path: Path | None, step: int, model, criteria, optimiser, schedule, history, config) -> None:
    """Write the whole training state atomically (nothing when `path` is None)."""
    if path is None:
        return
    state = {
        "step": step,
        "config": config.resumable(),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "criteria": {name: c.state_dict() for name, c in criteria.items()},
        "optimiser": optimiser.state_dict(),
        "schedule": schedule.state_dict(),
        "history": history,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as out:
        torch.save(state, out)


def load_resume(path: Path | None, config: TuneConfig) -> dict | None:
    """The saved state of an unfinished run with the same settings, else None (a run with other settings is an
    error: delete the file or pass another one)."""
    if path is None or not path.is_file():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state["config"] != config.resumable():
        changed = sorted(k for k, v in config.resumable().items() if state["config"].get(k) != v)
        raise ValueError(f"'{path}' resumes a run with other settings ({', '.join(changed)}); delete it to restart.")
    return state
