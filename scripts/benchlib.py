"""Small helpers shared by the benchmark scripts: percentiles and rewriting a marked section of a Markdown file."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np

from engine.files import atomic_write_text


def percentiles(samples_ms: list[float], digits: int = 1) -> dict[str, float]:
    """p50 / p95 / mean of millisecond timings, rounded to `digits` decimals."""
    values = np.asarray(samples_ms, dtype=float)
    return {
        "p50_ms": round(float(np.percentile(values, 50)), digits),
        "p95_ms": round(float(np.percentile(values, 95)), digits),
        "mean_ms": round(float(values.mean()), digits),
        "n": int(len(values)),
    }


class Stopwatch:
    """`with watch: ...` appends the block's duration in ms to `watch.samples`."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.samples.append((time.perf_counter() - self._start) * 1000)


def write_section(path: str | Path, name: str, markdown: str) -> None:
    """Replace (or append) the block between `<!-- name:start -->` and `<!-- name:end -->` in a Markdown file."""
    path = Path(path)
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"<!-- {name}:start -->\n{markdown.strip()}\n<!-- {name}:end -->"
    pattern = re.compile(rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    atomic_write_text(path, text)


def machine() -> str:
    """A short description of where the numbers were taken."""
    import platform

    import torch

    return f"{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}, torch {torch.__version__}"
