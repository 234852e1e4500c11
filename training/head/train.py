"""Training the embedding head on cached base vectors: P x K batches, a choice of losses, retrieval curves.

Everything here works on numpy / torch arrays of base vectors (see `training.head.data.FeatureCache`); no image is
decoded and no CNN runs.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from engine.embedding.head import DEFAULT_HIDDEN, DEFAULT_OUT, ProjectionHead
from training.head.losses import NormSoftmax, batch_hard_triplet, feedback_triplet, multi_similarity
from training.metrics import best_per_group

LOSSES = ("triplet", "ms", "softmax")


@dataclass
class TrainConfig:
    """Hyper-parameters of one head training run."""

    loss: str = "triplet+softmax"  # '+'-joined names from LOSSES
    steps: int = 1500
    P: int = 48  # products per batch
    K: int = 4  # views per product
    lr: float = 1e-3
    weight_decay: float = 1e-4
    margin: float = 0.2
    family_margin: float = 0.0  # > 0: smaller margin for same-family negatives (hierarchical)
    hidden: int = DEFAULT_HIDDEN
    out_dim: int = DEFAULT_OUT
    dropout: float = 0.1
    feedback_weight: float = 1.0
    feedback_batch: int = 32
    eval_every: int = 100
    seed: int = 0
    room_share: float = 0.0  # share of each batch's products that come with a real room crop (mined pairs)

    def losses(self) -> list[str]:
        """The loss names, validated."""
        names = [n.strip() for n in self.loss.split("+") if n.strip()]
        unknown = [n for n in names if n not in LOSSES]
        if not names or unknown:
            raise ValueError(f"Unknown loss {unknown or self.loss!r}; choose '+'-joined names from {LOSSES}")
        return names


@dataclass
class TrainData:
    """Training views (vectors + labels) and optional evaluation sets and feedback triplets."""

    vectors: np.ndarray  # (N, D) base vectors
    views: pd.DataFrame  # N rows: key (product label), family, ...
    evals: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # name -> (vectors, keys)
    gallery: tuple[np.ndarray, np.ndarray] | None = None  # (vectors, keys) searched by the evals
    feedback: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # (anchors, positives, negatives)
    room_recall: object | None = None  # training.head.room_views.RoomRecall: shop-the-look recall on photos


def pk_batches(
    keys: np.ndarray,
    n_products: int,
    n_views: int,
    rng: np.random.Generator,
    focus: np.ndarray | None = None,
    focus_share: float = 0.0,
):
    """Endless index batches of P products x K views (sampled with replacement when a product has fewer).

    With a boolean `focus` mask over the views (e.g. real room crops), `focus_share` of each batch's products are
    drawn from the products that have focus views, and one of each such product's K views is a focus view.
    """
    groups = pd.Series(np.arange(len(keys))).groupby(keys).apply(np.asarray)
    groups = groups[groups.map(len) >= 2] if (groups.map(len) >= 2).sum() >= 2 else groups
    members = list(groups.to_numpy())
    focused = [i for i, m in enumerate(members) if focus is not None and focus[m].any()]
    n_focus = min(len(focused), round(n_products * focus_share)) if focused else 0
    while True:
        first = rng.choice(focused, size=n_focus, replace=False) if n_focus else np.zeros(0, np.int64)
        rest = np.setdiff1d(np.arange(len(members)), first)
        chosen = [*first, *rng.choice(rest, size=min(n_products - n_focus, len(rest)), replace=False)]
        batch = [rng.choice(members[c], size=n_views, replace=len(members[c]) < n_views) for c in chosen]
        for i in range(n_focus):  # the first view of each focus product is one of its focus views
            batch[i][0] = rng.choice(members[chosen[i]][focus[members[chosen[i]]]])
        yield np.concatenate(batch)


def codes(values) -> np.ndarray:
    """Integer codes of labels."""
    return pd.factorize(pd.Series(values))[0].astype(np.int64)


def product_ranking(queries: np.ndarray, gallery: np.ndarray, gallery_keys: np.ndarray, k: int = 10) -> np.ndarray:
    """(Q, k) product keys, best first; a product scores its best gallery entry (as `engine.search.products` does)."""
    products, groups = np.unique(gallery_keys, return_inverse=True)
    per_product = best_per_group(queries @ gallery.T, groups)  # (Q, P)
    return products[np.argsort(-per_product, axis=1)[:, :k]]


def retrieval(queries: np.ndarray, keys: np.ndarray, gallery: np.ndarray, gallery_keys: np.ndarray) -> dict:
    """Recall@1 and @10 of product keys."""
    ranked = product_ranking(queries, gallery, gallery_keys)
    return {"R@1": float((ranked[:, 0] == keys).mean()), "R@10": float((ranked == keys[:, None]).any(axis=1).mean())}


def evaluate(head: ProjectionHead | None, data: TrainData) -> dict:
    """Retrieval figures of every eval set against the gallery, through the head (None: raw base vectors)."""
    if data.gallery is None:
        return {}
    project = (lambda x: x) if head is None else (lambda x: embed_numpy(head, x))
    gallery = project(data.gallery[0])
    out = {}
    for name, (vectors, keys) in data.evals.items():
        for metric, value in retrieval(project(vectors), keys, gallery, data.gallery[1]).items():
            out[f"{name} {metric}"] = round(value, 4)
    if data.room_recall is not None:
        out |= data.room_recall.figures(project, gallery, data.gallery[1])
    return out


@torch.inference_mode()
def embed_numpy(head: nn.Module, vectors: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Model vectors for input rows, in eval mode on the model's device (restores the previous mode)."""
    was, device = head.training, next(head.parameters()).device
    head.eval()
    parts = [head(torch.from_numpy(vectors[i : i + chunk]).to(device)).cpu() for i in range(0, len(vectors), chunk)]
    head.train(was)
    return torch.cat(parts).numpy()


def batch_loss(head, criteria: dict, names: list[str], x, labels, families, classes, config: TrainConfig):
    """Sum of the chosen losses on one batch; also the parts, for logging."""
    emb = head(x)
    parts = {}
    if "triplet" in names:
        parts["triplet"] = batch_hard_triplet(emb, labels, families, config.margin, config.family_margin)
    if "ms" in names:
        parts["ms"] = multi_similarity(emb, labels)
    if "softmax" in names:
        parts["softmax"] = criteria["softmax"](emb, classes)
    return sum(parts.values()), parts


def train_head(
    data: TrainData, config: TrainConfig, progress: bool = True, init: ProjectionHead | None = None
) -> tuple[ProjectionHead, list[dict]]:
    """Train a head (from `init`'s weights when given: fine-tuning); returns it (eval mode) and the history
    (loss per step, eval figures every `eval_every`)."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    names = config.losses()
    x_all = torch.from_numpy(np.ascontiguousarray(data.vectors, dtype=np.float32))
    keys = data.views["key"].to_numpy()
    labels_all, families_all = torch.from_numpy(codes(keys)), torch.from_numpy(codes(data.views["family"]))
    head = ProjectionHead(x_all.shape[1], config.hidden, config.out_dim, config.dropout)
    if init is not None:
        head.load_state_dict(init.state_dict())
    criteria = {"softmax": NormSoftmax(int(labels_all.max()) + 1, config.out_dim)} if "softmax" in names else {}
    params = list(head.parameters()) + [p for c in criteria.values() for p in c.parameters()]
    optimiser = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.lr, total_steps=config.steps, pct_start=0.1)
    focus = data.views["source"].eq("room").to_numpy() if "source" in data.views else None
    batches = pk_batches(keys, config.P, config.K, rng, focus, config.room_share)
    history, started = [{"step": 0, **evaluate(head, data)}], time.perf_counter()
    bar = tqdm(range(1, config.steps + 1), desc=f"Training head ({config.loss})", disable=not progress)
    for step in bar:
        idx = torch.from_numpy(next(batches))
        batch = (x_all[idx], labels_all[idx], families_all[idx])
        record = {"step": step, **optimise_step(head, criteria, names, optimiser, schedule, batch, data, config, rng)}
        if step % config.eval_every == 0 or step == config.steps:
            record |= evaluate(head, data)
        history.append(record | {"seconds": round(time.perf_counter() - started, 2)})
        bar.set_postfix(loss=f"{record['loss']:.3f}")
    return head.eval(), history


def optimise_step(model, criteria: dict, names: list[str], optimiser, schedule, batch, data, config, rng) -> dict:
    """One update on a batch (inputs, labels, families), curator triplets included; the step's losses."""
    x, labels, families = batch
    loss, parts = batch_loss(model, criteria, names, x, labels, families, labels, config)
    loss = loss + feedback_loss(model, data, config, rng)
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    schedule.step()
    return {"loss": loss.item(), **{k: v.item() for k, v in parts.items()}}


def feedback_loss(head: nn.Module, data: TrainData, config: TrainConfig, rng: np.random.Generator):
    """Weighted triplet loss on a sample of the curator-feedback triplets (0 when there are none)."""
    if data.feedback is None or not len(data.feedback[0]):
        return torch.zeros((), device=next(head.parameters()).device)
    pick = rng.choice(len(data.feedback[0]), size=min(config.feedback_batch, len(data.feedback[0])), replace=False)
    device = next(head.parameters()).device
    anchor, positive, negative = (head(torch.from_numpy(part[pick]).to(device)) for part in data.feedback)
    return config.feedback_weight * feedback_triplet(anchor, positive, negative, config.margin)


def summary(config: TrainConfig, history: list[dict], data: TrainData) -> dict:
    """Facts about a run for the checkpoint and the report."""
    return {
        "config": asdict(config),
        "views": int(len(data.views)),
        "products": int(data.views["key"].nunique()),
        "families": int(data.views["family"].nunique()),
        "sources": data.views["source"].value_counts().to_dict() if "source" in data.views else {},
        "feedback_triplets": 0 if data.feedback is None else int(len(data.feedback[0])),
        "seconds": history[-1].get("seconds", 0.0),
        "final": {k: v for k, v in history[-1].items() if k != "step"},
        "start": history[0],
    }


def plot_history(
    history: list[dict], path: Path, title: str, raw: dict | None = None, dashed: str = "raw base vectors"
) -> None:
    """Loss per step (running mean) and the retrieval curves (`raw`'s figures dashed, named `dashed`), side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    steps = np.array([h["step"] for h in history if "loss" in h])
    for key in sorted({k for h in history for k in h} - {"step", "seconds"}):
        if " R@" in key or "recall@" in key:
            points = [(h["step"], h[key]) for h in history if key in h]
            line = right.plot(*zip(*points), marker=".", label=key)[0]
            if raw and key in raw:
                right.axhline(raw[key], color=line.get_color(), linestyle="--", linewidth=1)
        elif history and any(key in h for h in history[1:]):
            values = np.array([h.get(key, np.nan) for h in history if "loss" in h])
            window = max(1, len(values) // 50)
            left.plot(steps[window - 1 :], np.convolve(values, np.ones(window) / window, mode="valid"), label=key)
    left.set(xlabel="step", ylabel="loss", title="training loss")
    right.set(xlabel="step", ylabel="recall", title=f"retrieval vs the catalogue (dashed: {dashed})", ylim=(0, 1))
    for axis in (left, right):
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
