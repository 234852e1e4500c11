"""Alternative embedding methods, registered in `engine.embed.EMBEDDERS` for the benchmark to compare."""

from __future__ import annotations
