"""Helpers shared by the benchmark scripts, kept here for their imports: they live in `training.timing` (timing)
and `training.report` (rewriting a marked section of a Markdown file)."""

from __future__ import annotations

from training.report import write_section
from training.timing import Stopwatch, machine, percentiles

__all__ = ["Stopwatch", "machine", "percentiles", "write_section"]
