"""Comparing embedding heads on a benchmark query set from cached base vectors: given boxes only, no detector.

The figures are the benchmark's (`training.benchmark`, `training.metrics`): R@1, R@10, family / category P@10 and
R@10 over held-out families, plus R@1 over the families the head trained on and the head's cost per query.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from engine.embedding import EmbeddingConfig, make_embedder
from engine.images import load_image
from training import metrics as ev
from training.report import fmt

HEADER = (
    "| head | loss | family margin | R@1 | R@1 seen families | R@10 | family P@10 | category P@10 | R@10 held-out "
    "| head ms/query | train s |"
)


def query_vectors(index, qdir: Path, queries: list[dict], cache: Path | None) -> np.ndarray:
    """(Q, D) base vectors of the queries' given boxes, from the cache file when it matches."""
    if cache and cache.is_file():
        vectors = np.load(cache)
        if len(vectors) == len(queries):
            return vectors
    embedder = make_embedder(EmbeddingConfig.from_dict(index.manifest["embedding"]))
    vectors = np.concatenate(
        [
            embedder.embed_crops([load_image(qdir / q["image"]) for q in chunk], [q["box"] for q in chunk])
            for chunk in (queries[i : i + 32] for i in range(0, len(queries), 32))
        ]
    )
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    return vectors


def figures(ranked: np.ndarray, truth: list[str], products) -> dict:
    """Benchmark figures for ranked product ids (Q, 10) against the true products."""
    records = [{"product_id": p, "given": list(r)} for p, r in zip(truth, ranked)]
    held = [r for r in records if products.at[r["product_id"], "held_out"]]
    seen = [r for r in records if not products.at[r["product_id"], "held_out"]]
    out = ev.ranked_metrics(records, "given", products, 10)
    out["seen recall@1"] = ev.ranked_metrics(seen, "given", products, 10)["recall@1"]
    out["held-out recall@10"] = ev.ranked_metrics(held, "given", products, 10)["recall@10"] if held else None
    return out


def head_ms(head, dim: int, repeats: int = 300) -> float:
    """p50 milliseconds of applying the head to one query vector (one thread)."""
    vector = np.random.default_rng(0).normal(size=(1, dim)).astype(np.float32)
    for _ in range(20):
        head.apply(vector)
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        head.apply(vector)
        samples.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(samples, 50))


def row(name: str, trained: dict, m: dict, cost: float | None = None) -> str:
    """One Markdown table row."""
    config = trained.get("config", {})
    cells = [name, config.get("loss", "-"), config.get("family_margin", "-"), fmt(m["recall@1"])]
    cells += [fmt(m["seen recall@1"]), fmt(m["recall@10"]), fmt(m["family_p@10"]), fmt(m["category_p@10"])]
    cells += [fmt(m["held-out recall@10"]), fmt(cost, 3), fmt(trained.get("train_seconds"), 0)]
    return "| " + " | ".join(str(c) for c in cells) + " |"
