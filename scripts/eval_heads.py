"""Compare embedding heads on a benchmark query set in seconds: given boxes only, from cached base vectors.

    python scripts/eval_heads.py --index BASE_INDEX --queries QDIR --heads H1.pt H2.pt ... [--cache FILE]
        [--doc docs/BENCHMARKS.md --section head-losses]

The query crops are embedded once with the index's base embedding (cached in --cache); each head then maps the
queries and the index's stored vectors, and the same figures as `scripts/benchmark.py` (given box: R@1, R@10,
family / category P@10, and R@10 over held-out families) come from the same
`training.metrics` functions (`training.head.compare`).
No detector runs, so detected-box figures and latencies are the benchmark's job.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from engine.embedding.domains import CATALOGUE, ROOM
from engine.embedding.head import load_head
from training.benchmark import family_column, image_ids, product_table
from training.head.compare import HEADER, figures, head_ms, query_vectors, row
from training.head.sets import base_index
from training.head.train import product_ranking
from training.report import write_section


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
        ranked = product_ranking(head.apply(vectors, ROOM), head.apply(gallery, CATALOGUE), keys)  # scenes: room side
        cost = head_ms(head, vectors.shape[1])
        lines.append(row(Path(path).stem, head.trained, figures(ranked, truth, products), cost))
    table = "\n".join(lines)
    print(table)
    if args.doc:
        write_section(args.doc, args.section, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
