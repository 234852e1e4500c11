"""The search latency benchmark: every variant searched with the same replayed queries, one table row each."""

from __future__ import annotations

import engine
from scripts import bench_search


def test_every_variant_gets_a_row_with_its_size(built_index, capsys):
    index_dir, _ = built_index
    assert bench_search.main(["--variant", f"a={index_dir}", "--variant", f"b={index_dir}", "--n", "5"]) == 0
    table = capsys.readouterr().out
    size = f"{len(engine.CatalogIndex.load(index_dir)):,}"
    assert f"| a | {size} |" in table and f"| b | {size} |" in table


def test_replayed_queries_are_unit_vectors_near_stored_entries(built_index):
    service = engine.load(built_index[0])
    queries = bench_search.replayed_queries(service, 4)
    assert queries.shape == (4, service.index.dim)
    assert abs(float((queries**2).sum(axis=1).max()) - 1.0) < 1e-5
    best = service.index.search(queries, 1)[0][:, 0]
    assert (best > 0.7).all()  # each is close to an entry of the index, not a random direction
