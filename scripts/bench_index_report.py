"""Markdown and summary line for scripts/bench_index.py (kept apart so results can be re-rendered from JSON)."""

from __future__ import annotations

import faiss

from engine.index.factories import FLAT_MAX_VECTORS, choose_factory


def command_line(args) -> str:
    """The command that reproduces a run."""
    command = "python scripts/bench_index.py " + " ".join(f"--n {n}" for n in args.n) + f" --dim {args.dim}"
    command += f" --real {args.real}" if args.real else ""
    command += f" --real-max-n {args.real_max_n}" if args.real and args.real_max_n else ""
    command += f" --types {' '.join(args.types)}" if args.types != args.all_types else ""
    return command + "".join(f" --param {k}={v}" for k, v in args.params.items())


def markdown(results: dict, args) -> str:
    """The BENCHMARKS.md section."""
    command = results.get("command") or command_line(args)
    lines = [
        f"## Index scaling{'' if args.section == 'index-scaling' else ', ' + args.section} (`scripts/bench_index.py`)",
        "",
        f"Measured {results['date']} on {results['machine']}, faiss {faiss.__version__}: builds on "
        f"{results['threads']} OpenMP threads, queries one at a time on 1 thread; {args.queries} held-out queries, "
        f"recall@10 against exact IndexFlatIP search. {args.note or results.get('note', '')}".strip(),
        "",
        f"`{command}`",
        "",
        "| data | N | index | factory | build s | bytes/vector | heap MB | mmap private MB | mmap touched MB "
        "| p50 ms | p95 ms | mmap p50 ms | recall@10 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["runs"]:
        lines.append(
            f"| {r['data']} | {r['n']:,} | {r['type']} | `{r['factory']}` {_params(r['params'])} | {r['build_s']} "
            f"| {r['bytes_per_vector']:.0f} | {r['heap_mb']:.0f} | {r['mmap_private_mb']:.0f} "
            f"| {r['mmap_touched_mb']:.0f} | {r['p50_ms']} | {r['p95_ms']} | {r['mmap_p50_ms']} | {r['recall_at_10']} |"
        )
    lines += ["", _legend(), "", *_sweep_table(results), "", *_flat_table(results)]
    return "\n".join(lines)


def _params(params: dict) -> str:
    """`efSearch=128` style."""
    return " ".join(f"{k}={v}" for k, v in params.items())


def _legend() -> str:
    """What the memory columns mean."""
    return (
        "bytes/vector: the saved index files (codes, graph, ids; binary codes also keep the float vectors for "
        "re-ranking). heap MB: private memory added by loading the index into the process. mmap private MB: the "
        "same when memory-mapped (IO_FLAG_MMAP_IFC); mmap touched MB: file pages the queries brought into this "
        "process (page cache, shared by every process mapping the same file)."
    )


def _sweep_table(results: dict) -> list[str]:
    """Search-parameter sweep at the largest N on synthetic data."""
    n = max(r["n"] for r in results["runs"])
    rows = [r for r in results["runs"] if r["n"] == n and r["data"] == "synthetic" and r["sweep"]]
    lines = [f"Search-time parameters at N = {n:,} (synthetic, 100 queries, no rebuild):", ""]
    lines += ["| index | parameter | value | p50 ms | recall@10 |", "|---|---|---|---|---|"]
    for r in rows:
        lines += [f"| {r['type']} | {s['param']} | {s['value']} | {s['p50_ms']} | {s['recall']} |" for s in r["sweep"]]
    return lines


def _flat_table(results: dict) -> list[str]:
    """Exact-search latency by size: where the default switches."""
    flat = results.get("flat")
    if not flat:
        return []
    lines = ["Exact search (`Flat`) single-query p50 by catalogue size (synthetic):", ""]
    lines += ["| N | p50 ms |", "|---|---|", *[f"| {r['n']:,} | {r['p50_ms']} |" for r in flat["sizes"]], ""]
    lines.append(
        f"A linear fit puts `Flat` at the {flat['target_ms']:g} ms target near N ≈ {flat['n_at_target']:,}; "
        f"the default switches from `Flat` to `{choose_factory(FLAT_MAX_VECTORS + 1)}` (IVF with nlist ≈ 4·√N, "
        f"SQ8 codes) above `FLAT_MAX_VECTORS` = {FLAT_MAX_VECTORS:,} vectors."
        if flat["n_at_target"]
        else "Exact search stayed under the target at every size measured."
    )
    return lines


def summary(results: dict) -> str:
    """The last line: the default index at the largest N."""
    n = max(r["n"] for r in results["runs"])
    default = choose_factory(n)
    hits = [r for r in results["runs"] if r["n"] == n and r["factory"] == default and r["data"] == "synthetic"]
    if not hits:
        return f"default {default} at N={n:,}: not measured (add it to --types)"
    r = hits[0]
    return (
        f"default {default} at N={n:,} (synthetic, dim {results['dim']}): recall@10 "
        f"{r['recall_at_10']}, p50 {r['p50_ms']} ms, {r['heap_mb']:.0f} MB heap / {r['mmap_private_mb']:.0f} MB mmap"
    )
