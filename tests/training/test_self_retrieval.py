"""Self-retrieval on the session's index: catalogue photos searched as the app searches a photo."""

import pytest

from training.self_retrieval import VARIANTS, markdown, rate, run


@pytest.fixture(scope="module")
def result(service, small_catalog, small_products) -> dict:
    """3 catalogue photos of the index, each searched as the file and as a shopper's copy."""
    return run(service, small_catalog["images"], small_products.head(3), scale=0.7, quality=75)


def test_every_photo_is_searched_both_ways_and_its_own_file_finds_itself(result):
    assert result["n"] == 3 and set(result["rates"]) == set(VARIANTS)
    assert sum(result["query_box"].values()) == 6 and result["latency"]["n"] == 6
    assert result["rates"]["original"] == 1.0  # the very file: a product shot searched whole, its original first
    hits = round(result["rates"]["copy"] * 3)
    assert [m["variant"] for m in result["misses"]] == ["copy"] * (3 - hits)


def test_the_section_names_both_rates(result):
    text = markdown(result | {"date": "today", "machine": "here", "index": "i", "weights": "w", "embedding": "e"}
                    | {"scale": 0.7, "quality": 75})  # fmt: skip
    assert f"| 3 | {rate(result, 'original')} | {rate(result, 'copy')} |" in text
