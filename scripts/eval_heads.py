"""Compare embedding heads on a benchmark query set in seconds: given boxes only, from cached base vectors.

    python scripts/eval_heads.py --index BASE_INDEX --queries QDIR --heads H1.pt H2.pt ... [--cache FILE]
        [--doc docs/BENCHMARKS.md --section head-losses]

The query crops are embedded once with the index's base embedding (cached in --cache); each head then maps the
queries and the index's stored vectors, and the same figures as `scripts/benchmark.py` (given box: R@1, R@10,
family / category P@10, and R@10 over held-out families) come from the same `training.metrics` functions.
No detector runs, so detected-box figures and latencies are the benchmark's job.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
for _path in (REPO_ROOT, REPO_ROOT / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from benchlib import write_section  # noqa: E402
from benchmark import family_column, fmt, image_ids, product_table  # noqa: E402

from engine.embedding import EmbeddingConfig, make_embedder  # noqa: E402
from engine.embedding.head import load_head  # noqa: E402
from engine.images import load_image  # noqa: E402
from training import metrics as ev  # noqa: E402
from training.head.sets import base_index  # noqa: E402
from training.head.train import product_ranking  # noqa: E402

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


def main(argv: list[str] | None = None) -> int:
    """Evaluate the raw base vectors and every head; print (and optionally write) the comparison table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, required=True, help="index built without a head")
    ap.add_argument("--queries", type=Path, required=True, help="folder with queries.json")
    ap.add_argument("--heads", type=Path, nargs="*", default=[], help="head checkpoints to compare")
    ap.add_argument("--cache", type=Path, help="file for the queries' base vectors (.npy)")
    ap.add_argument("--doc", type=Path, help="Markdown file to write the table into")
    ap.add_argument("--section", default="head-losses", help="section name in --doc")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    index = base_index(args.index)
    queries = json.loads((args.queries / "queries.json").read_text())
    by_image = image_ids(index.meta)
    queries = [q for q in queries if q["product"] in by_image.index]
    truth = [by_image[q["product"]] for q in queries]
    products = product_table(index.meta, family_column(index.meta, None), 0, 0.1)
    vectors = query_vectors(index, args.queries, queries, args.cache)
    meta = index.meta.reset_index(drop=True)
    gallery, keys = index.vectors(meta["id"].to_numpy()).astype(np.float32), meta["product_id"].to_numpy()
    lines = [HEADER, "|" + "---|" * (HEADER.count("|") - 1)]
    lines.append(row("raw (no head)", {}, figures(product_ranking(vectors, gallery, keys), truth, products)))
    for path in args.heads:
        head = load_head(path)
        ranked = product_ranking(head.apply(vectors), head.apply(gallery), keys)
        cost = head_ms(head, vectors.shape[1])
        lines.append(row(Path(path).stem, head.trained, figures(ranked, truth, products), cost))
    table = "\n".join(lines)
    print(table)
    if args.doc:
        write_section(args.doc, args.section, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
