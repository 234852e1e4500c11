"""The benchmark's results as text: one Markdown table row per run, comparison tables, a one-line summary, and
the marked section of docs/BENCHMARKS.md that a benchmark rewrites."""

from __future__ import annotations

import json
import re
from pathlib import Path

from engine.files import atomic_write_text

GROUPS = ("all", "held_out")


def fmt(value, digits: int = 2) -> str:
    """A figure for tables: '-' when missing."""
    return "-" if value is None else f"{value:.{digits}f}"


def ms(result: dict, stage: str) -> str:
    """p50 of a stage over all queries/rooms."""
    stats = (result["all"].get("latency") or result.get("latency") or {}).get(stage)
    return "-" if not stats else f"{stats['p50_ms']:.1f}"


def render_row(result: dict) -> str:
    """One Markdown table row for a run (columns as in `TABLE_HEADERS`)."""
    method, weights = result["embedding"], Path(result["weights"]).name
    if result["mode"] == "rooms":
        method += f" + {result['fallback_windows']['n']} windows" if result["windows_per_room"] else ""
        overrides = dict(result.get("query_overrides", {}))
        weights = Path(str(overrides.pop("detector", weights))).name
        method += "".join(f", {k} {v}" for k, v in overrides.items())
        rooms = f"{result['n_rooms']} {result.get('room_split', 'all')}"
        cells = [method, weights, rooms, fmt(result["all"]["recall@10"]), fmt(result["large"]["recall@10"])]
        cells += [fmt(result.get("chance"), 3), fmt(result.get("shown_precision"))]
        cells += [fmt(result.get("shown_per_room"), 1)]
        cells += [fmt(result["detections_per_room"], 1), fmt(result["windows_per_room"], 1)]
        cells += [ms(result, "detect"), ms(result, "embed"), result["dim"]]
    else:
        given, det, held = result["all"]["given"], result["all"]["detected"], result["held_out"]["given"]
        cells = [method, weights, result["n_queries"], fmt(given["recall@1"]), fmt(given["recall@10"])]
        cells += [fmt(given["family_p@10"]), fmt(given["category_p@10"]), fmt(det["detection_recall@0.5"])]
        cells += [fmt(det["recall@1"]), fmt(det["recall@10"]), fmt(held["recall@10"])]
        cells += [ms(result, "detect"), ms(result, "embed"), ms(result, "search"), result["dim"]]
    return "| " + " | ".join(str(c) for c in cells) + " |"


TABLE_HEADERS = {
    "queries": "| method | weights | queries | R@1 | R@10 | family P@10 | category P@10 | det. recall@0.5 "
    "| R@1 (det. box) | R@10 (det. box) | R@10 held-out | detect p50 ms | embed p50 ms | search p50 ms | dim |",
    "rooms": "| method | query detector | rooms | recall@10 | large-item recall@10 | chance | drawn-box precision "
    "| drawn/room | proposals/room | windows/room | detect p50 ms | embed p50 ms | dim |",
}


def render_table(results: list[dict]) -> str:
    """Markdown comparison tables (one per mode) with one row per run."""
    parts = []
    for mode in ("queries", "rooms"):
        runs = [r for r in results if r["mode"] == mode]
        if runs:
            header_row = TABLE_HEADERS[mode]
            rule = "|" + "---|" * (header_row.count("|") - 1)
            parts.append("\n".join([header_row, rule, *map(render_row, runs)]))
    return "\n\n".join(parts)


def summary_line(result: dict) -> str:
    """The one-line summary printed last."""
    name = result["embedding"]
    if result["mode"] == "rooms":
        return (
            f"summary: {name} rooms recall@10 {fmt(result['all']['recall@10'])}"
            f" large {fmt(result['large']['recall@10'])} held-out {fmt(result['held_out']['recall@10'])}"
            f" chance {fmt(result.get('chance'), 3)} drawn-precision {fmt(result.get('shown_precision'))}"
            f" det/room {fmt(result['detections_per_room'], 1)} windows/room {fmt(result['windows_per_room'], 1)}"
            f" ({result['n_rooms']} {result.get('room_split', 'all')} rooms)"
        )

    def part(group: str, mode: str) -> str:
        m = result[group][mode]
        text = f"R@1 {fmt(m['recall@1'])} R@10 {fmt(m['recall@10'])} famP@10 {fmt(m['family_p@10'])}"
        text += f" catP@10 {fmt(m['category_p@10'])}"
        return text + (f" det-recall {fmt(m['detection_recall@0.5'])}" if mode == "detected" else "")

    return (
        f"summary: {name} {part('all', 'given')} (given box) | {part('all', 'detected')} (detected box)"
        f" | held-out: R@10 {fmt(result['held_out']['given']['recall@10'])} (given)"
        f" {fmt(result['held_out']['detected']['recall@10'])} (detected) [{result['n_queries']} queries]"
    )


def print_report(result: dict) -> None:
    """A readable table of every figure."""
    print(f"{result['embedding']} / {Path(result['weights']).name} on {result['index']} ({result['date']})")
    if result["mode"] == "rooms":
        for group in ("all", "large", "held_out"):
            g = result[group]
            print(f"  {group:9s} recall@10 {fmt(g['recall@10'])}  over {g['n_products']} listed products")
        print(f"  detections/room {fmt(result['detections_per_room'], 1)}, windows/room {result['windows_per_room']}")
    for group in GROUPS if result["mode"] == "queries" else ():
        print(f"  {group} ({result[group]['n']} queries)")
        for mode in ("given", "detected"):
            print(f"    {mode:9s}" + "  ".join(f"{k} {fmt(v)}" for k, v in result[group][mode].items()))
    for stage, stats in (result.get("latency") or result["all"]["latency"]).items():
        print(f"  {stage:7s} " + ("-" if not stats else f"p50 {stats['p50_ms']} ms  p95 {stats['p95_ms']} ms"))


def write_section(path: str | Path, name: str, markdown: str) -> None:
    """Replace (or append) the block between `<!-- name:start -->` and `<!-- name:end -->` in a Markdown file."""
    path = Path(path)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"<!-- {name}:start -->\n{markdown.strip()}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    atomic_write_text(path, text)


def publish(result: dict, json_path: Path | None, doc: Path | None, section: str, render) -> None:
    """Write a benchmark's result as JSON (when asked) and its `section` of `doc` as `render(result)` (when asked)."""
    if json_path:
        atomic_write_text(json_path, json.dumps(result, indent=2))
    if doc:
        write_section(doc, section, render(result))
