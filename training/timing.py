"""Timing for benchmarks: a stopwatch, latency percentiles, and where the numbers were taken."""

from __future__ import annotations

import os
import time

import numpy as np


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


def machine() -> str:
    """A short description of where the numbers were taken."""
    import platform

    import torch

    return f"{os.cpu_count()} CPU cores, {platform.processor() or platform.machine()}, torch {torch.__version__}"
