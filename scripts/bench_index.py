"""Index scaling benchmark: build time, memory, single-query latency and recall@10 of each index type.

python scripts/bench_index.py --n 100000 [--n 1000000] --dim 448 [--real INDEX_DIR] [--json OUT] [--note TEXT]

Data: a Gaussian mixture on the unit sphere (N/200 clusters), and with --real the vectors of an existing index
replicated with Gaussian noise (`--noise` times each dimension's spread) and renormalised. Each index type is
built through `CatalogIndex`, saved, then loaded twice: into the process (heap) and memory-mapped. Latency is
one query at a time on one thread; recall@10 is against exact search (IndexFlatIP) on held-out queries. The
results go to docs/BENCHMARKS.md (section "index-scaling"); the last line printed sums up the default index.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
import pandas as pd
import psutil
from faiss.contrib.evaluation import knn_intersection_measure
from faiss.contrib.exhaustive_search import knn

from engine.index.factories import ivf_factory, parse_params
from engine.index.store import CatalogIndex, current_version
from scripts.bench_index_report import command_line, markdown, summary
from training.report import write_section
from training.timing import Stopwatch, machine, percentiles

LATENCY_TARGET_MS = 5.0
TYPES = {  # name -> factory string for (N, dim)
    "Flat": lambda n, d: "Flat",
    "HNSW32": lambda n, d: "HNSW32",
    "HNSW32,SQ8": lambda n, d: "HNSW32,SQ8",
    "HNSW32,SQfp16": lambda n, d: "HNSW32,SQfp16",
    "IVF,SQ8": lambda n, d: ivf_factory(n, "SQ8"),
    "IVF,PQ": lambda n, d: ivf_factory(n, f"PQ{d // 8}np"),
    "ITQ256,BFlat": lambda n, d: f"ITQ{min(256, d // 8 * 8)},BFlat",
    "ITQ256,BHNSW32": lambda n, d: f"ITQ{min(256, d // 8 * 8)},BHNSW32",
}
FLAT_SIZES = (10_000, 20_000, 50_000, 100_000, 300_000, 1_000_000)
SWEEPS = {"efSearch": (32, 64, 128, 256, 512, 1024), "nprobe": (8, 16, 32, 64, 128, 256), "rerank": (5, 10, 20)}


def clustered(n: int, dim: int, seed: int, spread: float = 0.75) -> np.ndarray:
    """(n, dim) unit vectors from a Gaussian mixture with max(16, n/200) unit centres."""
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((max(16, n // 200), dim), dtype=np.float32))
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        noise = rng.standard_normal((stop - start, dim), dtype=np.float32) * (spread / np.sqrt(dim))
        out[start:stop] = unit(centres[rng.integers(0, len(centres), stop - start)] + noise)
    return out


def replicated(real: np.ndarray, n: int, seed: int, noise: float) -> np.ndarray:
    """(n, dim) copies of real vectors plus Gaussian noise of `noise` x each dimension's std, renormalised."""
    rng = np.random.default_rng(seed)
    scale = (noise * real.std(axis=0)).astype(np.float32)
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        jitter = rng.standard_normal((stop - start, real.shape[1]), dtype=np.float32) * scale
        out[start:stop] = unit(real[rng.integers(0, len(real), stop - start)] + jitter)
    return out


def unit(rows: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length."""
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def anon_mb() -> float:
    """Private (anonymous) resident memory of this process in MB: RSS minus file-backed shared pages."""
    info = psutil.Process().memory_info()
    return (info.rss - info.shared) / 2**20


def rss_mb() -> float:
    """Resident memory of this process in MB, file-backed (memory-mapped) pages included."""
    return psutil.Process().memory_info().rss / 2**20


def release() -> None:
    """Collect garbage and hand freed heap back to the OS so memory deltas mean something."""
    gc.collect()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def timed_queries(index: CatalogIndex, queries: np.ndarray, truth: np.ndarray) -> dict:
    """Single-query latency on one thread (after a warm-up) and recall@10 against the exact ids."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        for query in queries[:20]:
            index.search(query, 10)
        watch, found = Stopwatch(), []
        for query in queries:
            with watch:
                found.append(index.search(query, 10)[1][0])
    finally:
        faiss.omp_set_num_threads(threads)
    recall = knn_intersection_measure(np.array(found), truth)  # share of the exact top 10 found
    return {**percentiles(watch.samples, digits=2), "recall_at_10": round(float(recall), 3)}


def bench_type(name: str, factory: str, vectors: np.ndarray, queries, truth, workdir: Path, params=None) -> dict:
    """Build, save, reload (heap and mmap) and measure one index type."""
    release()
    before = anon_mb()
    started = time.perf_counter()
    meta = pd.DataFrame({"id": np.arange(len(vectors), dtype=np.int64)})
    built = CatalogIndex.from_vectors(vectors, meta, {"dim": vectors.shape[1]}, factory, params)
    result = {"type": name, "factory": factory, "build_s": round(time.perf_counter() - started, 1)}
    result["build_delta_mb"] = round(anon_mb() - before, 1)
    result["params"] = built.manifest["index"]["params"]
    result["train_size"] = built.manifest["index"]["train_size"]
    folder = workdir / name.replace(",", "_")
    built.save(folder)
    del built
    version = current_version(folder)
    files = sum(p.stat().st_size for p in version.iterdir() if p.name != "meta.parquet")
    result["bytes_per_vector"] = round(files / len(vectors), 1)
    result.update(_heap_run(folder, queries, truth), **_mmap_run(folder, queries, truth))
    shutil.rmtree(folder, ignore_errors=True)
    return result


def _heap_run(folder: Path, queries, truth) -> dict:
    """Load into the process: resident delta, latency, recall, and the search-parameter sweep."""
    release()
    before = anon_mb()
    index = CatalogIndex.load(folder, mmap=False)
    out = {"heap_mb": round(anon_mb() - before, 1), **timed_queries(index, queries, truth)}
    out["sweep"] = sweep(index, queries, truth)
    del index
    return out


def _mmap_run(folder: Path, queries, truth) -> dict:
    """Load memory-mapped: private memory, pages touched by the queries, latency."""
    release()
    anon, rss = anon_mb(), rss_mb()
    index = CatalogIndex.load(folder, mmap=True)
    private = anon_mb() - anon
    timing = timed_queries(index, queries, truth)
    out = {"mmap_private_mb": round(private, 1), "mmap_touched_mb": round(rss_mb() - rss - private, 1)}
    out["mmap_p50_ms"] = timing["p50_ms"]
    del index
    return out


def sweep(index: CatalogIndex, queries, truth) -> list[dict]:
    """Recall and latency for other values of the index's search parameters (no rebuild needed)."""
    rows = []
    for param, default in dict(index.index.params).items():
        for value in SWEEPS.get(param, ()):
            index.index.params[param] = value
            index.index.apply_params()
            timing = timed_queries(index, queries[:100], truth[:100])
            rows.append({"param": param, "value": value, "p50_ms": timing["p50_ms"], "recall": timing["recall_at_10"]})
        index.index.params[param] = default
        index.index.apply_params()
    return rows


def flat_threshold(dim: int, sizes: list[int], queries: np.ndarray) -> dict:
    """Exact search p50 by catalogue size, and the size where it reaches the latency target (linear fit)."""
    rows = []
    for size in sizes:
        vectors = clustered(size, dim, seed=7)
        index = CatalogIndex.from_vectors(vectors, pd.DataFrame({"id": np.arange(size)}), {"dim": dim}, "Flat")
        truth = index.search(queries, 10)[1]
        rows.append({"n": size, "p50_ms": timed_queries(index, queries, truth)["p50_ms"]})
        del index, vectors
    crossing = None
    if len(rows) > 1:
        slope = np.polyfit([r["n"] for r in rows], [r["p50_ms"] for r in rows], 1)
        crossing = int((LATENCY_TARGET_MS - slope[1]) / slope[0]) if slope[0] > 0 else None
    return {"sizes": rows, "n_at_target": crossing, "target_ms": LATENCY_TARGET_MS}


def exact_truth(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Ids (row numbers) of the exact top 10 for each query."""
    return knn(queries, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)[1]


def datasets(args, n: int):
    """(label, vectors, queries) for each data set at size n."""
    yield "synthetic", clustered(n + args.queries, args.dim, seed=n)
    if args.real and n <= (args.real_max_n or n):
        real = CatalogIndex.load(args.real, mmap=False)
        base = real.vectors(real.meta["id"].to_numpy())
        yield f"real x{n // len(base)} + noise", replicated(base, n + args.queries, seed=n, noise=args.noise)


def run(args) -> dict:
    """Every data set, size and index type; returns everything measured."""
    results = {"machine": machine(), "threads": faiss.omp_get_max_threads(), "dim": args.dim, "runs": []}
    started = time.strftime("%Y-%m-%d %H:%M")
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        for n in args.n:
            for label, data in datasets(args, n):
                queries, vectors = data[: args.queries], data[args.queries :]
                truth = exact_truth(vectors, queries)
                for name in args.types:
                    factory = TYPES[name](n, args.dim)
                    folder = Path(tmp) / f"{label[:4]}-{n}"
                    row = bench_type(name, factory, vectors, queries, truth, folder, args.params)
                    row.update(data=label, n=n)
                    print(json.dumps(row), flush=True)
                    results["runs"].append(row)
                del data, vectors
                release()
        if "Flat" in args.types:
            sizes = sorted({s for s in FLAT_SIZES if s <= max(args.n)} | {min(args.n)})
            results["flat"] = flat_threshold(args.dim, sizes, clustered(args.queries, args.dim, seed=3))
    results["date"] = started
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, action="append", help="catalogue size (repeatable; default 100000)")
    parser.add_argument("--dim", type=int, default=448, help="vector dimension")
    parser.add_argument("--queries", type=int, default=200, help="held-out queries")
    parser.add_argument("--types", nargs="+", choices=list(TYPES), default=list(TYPES), help="index types")
    parser.add_argument("--real", type=Path, help="index folder whose vectors are replicated with noise")
    parser.add_argument("--real-max-n", type=int, help="replicate --real only up to this N (default: every N)")
    parser.add_argument("--noise", type=float, default=0.5, help="noise for --real, x each dimension's std")
    parser.add_argument("--json", type=Path, help="write every measurement here")
    parser.add_argument("--doc", type=Path, default=Path("docs/BENCHMARKS.md"), help="Markdown file to update")
    parser.add_argument("--no-doc", action="store_true", help="do not touch the Markdown file")
    parser.add_argument("--note", default="", help="a sentence about the conditions (e.g. background load)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="index parameter")
    parser.add_argument("--section", default="index-scaling", help="name of the Markdown section to (re)write")
    parser.add_argument("--from-json", type=Path, help="re-render the Markdown from a --json file, measure nothing")
    args = parser.parse_args(argv)
    args.n = sorted(args.n or [100_000])
    args.params = parse_params(args.param)
    args.all_types = list(TYPES)
    return args


def main(argv: list[str] | None = None) -> int:
    """Run, write the JSON and the Markdown section, print the summary last."""
    args = parse_args(argv)
    if args.from_json:
        results = json.loads(args.from_json.read_text())
    else:
        results = run(args)
        results.update(note=args.note, command=command_line(args))
    if args.json and not args.from_json:
        args.json.write_text(json.dumps(results, indent=2))
    if not args.no_doc:
        write_section(args.doc, args.section, markdown(results, args))
    print(markdown(results, args))
    print(summary(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
