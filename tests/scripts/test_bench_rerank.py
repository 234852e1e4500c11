"""bench_rerank.py: each variant changes only the search (a ranking, or a DBA copy of the index), the baseline first."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.service import Lookalike
from scripts import bench_rerank
from tests.engine.test_expansion import make_index


def test_a_variant_changes_the_ranking_or_copies_the_index_and_leaves_the_service_alone():
    rng = np.random.default_rng(3)
    index = make_index(rng.standard_normal((30, 16)), [f"p{i // 2}" for i in range(30)])
    service = Lookalike(detector=None, embedder=None, index=index, index_dir=Path("unused"))
    same, _ = bench_rerank.variant_service(service, bench_rerank.VARIANTS[bench_rerank.BASELINE])
    assert same.index is index and same.ranking == service.ranking
    used, setup_ms = bench_rerank.variant_service(service, {"dba": 1, "reciprocal_k": 5})
    assert used.index is not index and used.index.meta["id"].tolist() == index.meta["id"].tolist()
    assert not np.allclose(used.index.vectors(np.arange(30)), index.vectors(np.arange(30)))
    assert used.ranking.reciprocal_k == 5 and service.ranking.reciprocal_k == 0 and setup_ms > 0
    assert service.index is index


def test_the_section_starts_with_the_baseline_and_shows_the_set_up_cost():
    figures = {"n_rooms": 31, "all": {"recall@10": 0.315}, "large": {"recall@10": 0.415}}
    figures |= {"held_out": {"recall@10": 0.333}, "shown_precision": 0.1316, "search_p50_ms": 41.0, "setup_ms": 0.0}
    slower = figures | {"search_p50_ms": 55.5, "setup_ms": 1234.0}
    section = bench_rerank.render({bench_rerank.BASELINE: figures, "k-reciprocal, k 20, weight 0.3": slower})
    rows = [line for line in section.splitlines() if line.startswith("| ") and "recall" not in line]
    assert rows[0] == f"| {bench_rerank.BASELINE} | 0.315 | 0.415 | 0.333 | 0.1316 | 41.0 | 0.0 |"
    assert rows[1].endswith("| 55.5 | 1.2 |") and "31 held-out rooms" in section
