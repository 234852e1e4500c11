"""The query's class re-ranks the matches (real FAISS): kitchenware cannot crowd a sofa's grid, nothing is lost."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from engine.detection.detector import Detection
from engine.index.store import CatalogIndex
from engine.search.products import SearchFilters, search_products
from engine.search.rerank import (
    NO_PRIOR,
    QueryKind,
    RankingConfig,
    kind_of_box,
    kind_of_category,
    main_entry,
    search_on_topic,
)

DIM = 24
# (name, category, cosine with the query): two kitchen items and a fridge a little closer than the sofas
PRODUCTS = [
    ("Saucepan", "Saucepan with lid", 0.80),
    ("Fridge", "Fridge", 0.79),
    ("Sofa", "Three-seat sofa", 0.76),
    ("Armchair", "Armchair", 0.76),
    ("Mug", "Mug", 0.74),
    ("Lamp", "Floor lamp", 0.71),
    ("Bowl", "Bowl", 0.70),
    ("Far sofa", "Two-seat sofa", 0.30),  # far down: only the class's own search brings it into the pool
]


@pytest.fixture
def kitchen_index() -> tuple[CatalogIndex, np.ndarray]:
    """One whole-photo vector per product, at an exact cosine from the query (e0); the query."""
    vectors = np.zeros((len(PRODUCTS), DIM), dtype=np.float32)
    for i, (_, _, cosine) in enumerate(PRODUCTS):
        vectors[i, 0], vectors[i, i + 1] = cosine, np.sqrt(1 - cosine**2)
    meta = pd.DataFrame(
        {
            "id": np.arange(len(PRODUCTS), dtype=np.int64),
            "product_id": [f"p{i}" for i in range(len(PRODUCTS))],
            "image": [f"p{i}.jpg" for i in range(len(PRODUCTS))],
            "kind": "image", "x0": 0.0, "y0": 0.0, "x1": 500.0, "y1": 500.0,
            "class_name": "", "confidence": 1.0, "content_hash": "h",
            "name": [p[0] for p in PRODUCTS], "category": [p[1] for p in PRODUCTS], "price": 10.0,
        }
    )  # fmt: skip
    manifest = {"dim": DIM, "detector": {"weights_sha256": "abc"}, "embedding": {"name": "toy"}}
    query = np.zeros(DIM, dtype=np.float32)
    query[0] = 1.0
    return CatalogIndex.from_vectors(vectors, meta, manifest), query


def names(matches) -> list[str]:
    return [m.name for m in matches]


def test_plain_similarity_puts_kitchenware_first(kitchen_index):
    index, query = kitchen_index
    assert names(search_on_topic(index, query, 2, None, None, RankingConfig())) == ["Saucepan", "Fridge"]


def test_kitchenware_cannot_outrank_a_sofa_for_a_sure_sofa_query(kitchen_index):
    index, query = kitchen_index
    config = RankingConfig()
    matches = search_on_topic(index, query, 5, None, QueryKind("sofa", config.bonus), config)
    assert names(matches)[:3] == ["Sofa", "Armchair", "Saucepan"]  # the same class, then a related one (chair)
    assert [m.rank for m in matches] == [1, 2, 3, 4, 5]
    assert matches[0].similarity == pytest.approx(0.76, abs=1e-4)  # the plain cosine is kept ...
    assert matches[0].score == pytest.approx(0.76 + config.bonus, abs=1e-4)  # ... the score is what orders the list
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)


def test_a_weak_detection_steers_less(kitchen_index):
    index, query = kitchen_index
    weak = kind_of_box([Detection((0, 0, 10, 10), "sofa", 0.05)], (0, 0, 10, 10), RankingConfig())
    assert weak.bonus == pytest.approx(RankingConfig().bonus * 0.1)
    assert names(search_on_topic(index, query, 1, None, weak, RankingConfig())) == ["Saucepan"]


def test_the_prior_reorders_but_never_empties_the_grid(kitchen_index):
    index, query = kitchen_index
    kind = QueryKind("sofa", 0.1)
    plain = search_products(index, query, len(PRODUCTS))
    steered = search_on_topic(index, query, len(PRODUCTS), None, kind, RankingConfig())
    assert sorted(names(steered)) == sorted(names(plain))  # a re-ranking, not a filter
    only_kitchen = SearchFilters(categories=("Saucepan with lid", "Mug"))  # the user's filter still holds
    assert names(search_on_topic(index, query, 5, only_kitchen, kind, RankingConfig())) == ["Saucepan", "Mug"]


def test_the_class_search_brings_a_far_product_of_the_kind_into_the_pool(kitchen_index):
    index, query = kitchen_index
    config = dataclasses.replace(RankingConfig(), pool=4)  # plain top-4 holds no "Far sofa"
    matches = search_on_topic(index, query, 8, None, QueryKind("sofa", 1.0), config)
    assert names(matches)[:2] == ["Sofa", "Far sofa"]


def test_a_box_takes_the_class_of_the_detection_it_overlaps():
    detections = [Detection((0, 0, 100, 100), "sofa", 0.9), Detection((200, 0, 260, 60), "chair", 0.2)]
    config = RankingConfig()
    assert kind_of_box(detections, (5, 5, 100, 100), config) == QueryKind("sofa", config.bonus)
    assert kind_of_box(detections, (200, 0, 255, 60), config).cls == "chair"
    assert kind_of_box(detections, (400, 400, 500, 500), config) is None  # a drawn box over nothing detected
    assert kind_of_box([Detection((0, 0, 9, 9), "person", 0.9)], (0, 0, 9, 9), config) is None  # not a class
    assert kind_of_box(detections, (0, 0, 100, 100), NO_PRIOR) is None
    assert kind_of_category("Two-seat sofa", config) == QueryKind("sofa", config.product_bonus)
    assert kind_of_category("", config) is None


def entry_rows(category: str, objects: list[tuple[str, tuple]]) -> pd.DataFrame:
    """A product's metadata rows: its objects (class, box) and its whole 500x500 photo (id 99)."""
    rows = [{"id": i, "kind": "object", "class_name": c, **dict(zip(("x0", "y0", "x1", "y1"), b))}
            for i, (c, b) in enumerate(objects)]  # fmt: skip
    rows.append({"id": 99, "kind": "image", "class_name": "", "x0": 0, "y0": 0, "x1": 500, "y1": 500})
    return pd.DataFrame(rows).assign(category=category, product_id="p")


def test_the_main_object_stands_for_a_product_where_it_exists():
    sofa_box, small = (19, 140, 477, 343), (384, 328, 398, 356)
    assert main_entry(entry_rows("Two-seat sofa", [("bed", (19, 150, 467, 357)), ("sofa", sofa_box)])) == 1
    assert main_entry(entry_rows("Two-seat sofa", [("bed", (19, 150, 467, 357))])) == 0  # a related class
    assert main_entry(entry_rows("Two-seat sofa", [("decor", small), ("decor", small)])) == 99  # print flowers
    assert main_entry(entry_rows("Two-seat sofa", [("sofa", small)])) == 99  # too small to be the product
    assert main_entry(entry_rows("Two-seat sofa", [])) == 99
    assert main_entry(entry_rows("", [("sofa", sofa_box)])) == 99  # no category: no way to tell


def test_class_categories_follow_a_replaced_metadata_table():
    from engine.search.rerank import class_categories

    before = pd.DataFrame({"category": ["Two-seat sofa", "Mug", None, ""]})
    assert class_categories(before, "sofa") == ("Two-seat sofa",)
    after = pd.DataFrame({"category": ["Two-seat sofa", "Three-seat sofa"]})  # an update swaps the table
    assert class_categories(after, "sofa") == ("Three-seat sofa", "Two-seat sofa")
    assert class_categories(after, "kitchenware") == ()
