"""Search latency of indexes side by side: the app's class-steered search replayed on the same query vectors.

    python scripts/bench_search.py --variant NAME=INDEX_DIR [--variant NAME2=INDEX_DIR2 ...] [--n 150]

The queries are stored vectors of the first index's entries with a little noise (so they are not exact
copies), searched for 10 products with a class bonus, as a click does after embedding; the variants take turns
on each query so that they share the machine's load alike. Prints a Markdown table of p50 / p95 in ms.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import engine
from engine.search.rerank import QueryKind
from scripts.bench_heads import parse_variant

NOISE = 0.75  # length of the noise added to a replayed vector before normalising again (cosine to it ~0.8)
CLASS = QueryKind("sofa", 0.15)  # a clicked sofa: the pool of its class is searched too, as in the app


def replayed_queries(service: engine.Lookalike, n: int, seed: int = 0) -> np.ndarray:
    """(n, D) unit vectors near random stored entries of the index."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(service.index.meta["id"].to_numpy(), min(n, len(service.index)), replace=False)
    dim = service.index.dim
    queries = service.index.vectors(ids) + rng.normal(0, NOISE / np.sqrt(dim), (len(ids), dim)).astype(np.float32)
    return queries / np.linalg.norm(queries, axis=1, keepdims=True)


def main(argv: list[str] | None = None) -> int:
    """Time every variant on the same queries and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", type=parse_variant, action="append", required=True, help="NAME=INDEX_DIR")
    ap.add_argument("--n", type=int, default=150, help="queries")
    args = ap.parse_args(argv)
    services = {name: engine.load(path) for name, path in args.variant}
    queries = replayed_queries(next(iter(services.values())), args.n)
    times: dict[str, list[float]] = {name: [] for name in services}
    for query in queries:
        for name, service in services.items():
            started = time.perf_counter()
            service.search(query, 10, None, CLASS)
            times[name].append(1000 * (time.perf_counter() - started))
    print("| index | entries | search p50 ms | search p95 ms |\n|---|---|---|---|")
    for name, taken in times.items():
        p50, p95 = np.percentile(taken, [50, 95])
        print(f"| {name} | {len(services[name].index):,} | {p50:.1f} | {p95:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
