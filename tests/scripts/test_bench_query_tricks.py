"""bench_query_tricks.py: every variant is a valid `QueryTricks`, and the section names the index it ran on."""

from __future__ import annotations

import inspect

from scripts import bench_query_tricks
from training.query_tricks import QueryTricks


def test_every_variant_is_a_query_tricks_setting_and_the_baseline_comes_first():
    names = list(bench_query_tricks.VARIANTS)
    assert bench_query_tricks.VARIANTS[names[0]] is None  # the service's own embedder
    fields = set(inspect.signature(QueryTricks).parameters) - {"inner"}
    for name in names[1:]:
        assert set(bench_query_tricks.VARIANTS[name]) <= fields, name
    assert any(v and v.get("cutout") for v in bench_query_tricks.VARIANTS.values())


def test_the_section_has_its_title_the_index_size_and_one_row_per_variant():
    figures = {"n_rooms": 31, "all": {"recall@10": 0.339}, "large": {"recall@10": 0.4152}, "entries": 9531}
    figures |= {"held_out": {"recall@10": 0.3095}, "shown_precision": 0.1316, "embed_p50_ms": 34.0}
    cut = figures | {"large": {"recall@10": 0.4211}, "embed_p50_ms": 74.9}
    section = bench_query_tricks.render({"as built (no trick)": figures, "cut": cut}, title="### Views")
    assert section.startswith("### Views\n") and "9,531 entries" in section and "31 held-out rooms" in section
    rows = [line for line in section.splitlines() if line.startswith("| ") and "recall" not in line]
    assert rows == [
        "| as built (no trick) | 0.339 | 0.415 | 0.309 | 0.1316 | 34.0 |",
        "| cut | 0.339 | 0.421 | 0.309 | 0.1316 | 74.9 |",
    ]
