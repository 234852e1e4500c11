"""The refinement examples the page offers work on the catalogue shown: each finds matches on each demo catalogue."""

from __future__ import annotations

import pandas as pd
import pytest

import engine
from engine.detection import distinct_detections
from engine.search import has_prices, parse_refinement, refinement_examples
from engine.search.examples import price_limit

README_EXAMPLES = ("white", "dark grey", "glass")  # README.md, "Refine with words": meant for every catalogue
PRICED_EXAMPLES = ("white under 2000",)  # README.md: for a catalogue with prices


def test_no_price_words_without_prices_and_a_round_limit_with_them():
    assert price_limit(pd.DataFrame({"price": [None, float("nan")]})) is None
    assert price_limit(pd.DataFrame({"name": ["a"]})) is None
    assert price_limit(pd.DataFrame({"price": [1290.0, 2490.0, 3990.0]})) == 3000.0
    meta = pd.DataFrame({"product_id": ["a", "b"], "name": ["Glass vase", "Glass jar"], "price": [None, None]})
    examples = refinement_examples(meta)
    assert "glass" in examples
    assert all(parse_refinement(text).price_max is None for text in examples)


def test_price_words_on_a_catalogue_without_prices_are_left_out_not_failed():
    assert not has_prices(pd.DataFrame({"price": [None, float("nan"), 0.0]})) and not has_prices(pd.DataFrame())
    assert has_prices(pd.DataFrame({"price": [None, 499.0]}))
    asked = parse_refinement("white under 2000")
    assert asked.has_prices and asked.without_prices() == parse_refinement("white")
    assert not parse_refinement("under 2000").without_prices()  # nothing left: the page shows the visual matches


@pytest.fixture(scope="module", params=["ikea-rooms", "ikea-catalog"])
def demo(request):
    """A demo catalogue's index (a real-path build of part of it) and a clicked object of a real room photo."""
    if request.param == "ikea-rooms":
        built = request.getfixturevalue("room_index")
        index, room = built["index"], built["room"]
    else:
        index = request.getfixturevalue("default_catalog_index")
        room = request.getfixturevalue("room_index")["room"]
    service = engine.load(index)
    analysis = service.analyse(engine.load_image(room))
    shown, _ = distinct_detections(analysis.detections)
    assert shown, "no object detected on the room photo"
    return request.param, service, analysis, analysis.detections[shown[0]].box


@pytest.mark.integration  # the fixture asks for the built indexes by name, which the tiers cannot see
def test_each_example_finds_matches_on_each_demo_catalogue(demo):
    name, service, analysis, box = demo
    examples = refinement_examples(service.index.meta)
    prices = pd.to_numeric(service.index.meta["price"], errors="coerce").notna().any()
    assert len(examples) >= 3 and (prices or name == "ikea-rooms")
    extra = README_EXAMPLES + (PRICED_EXAMPLES if prices else ())
    for text in [*examples, *extra]:
        refinement = parse_refinement(text)
        assert refinement and (prices or refinement.price_max is None), (name, text)  # no price words, no prices
        matches = service.search_box_refined(analysis, box, 10, refinement)
        assert matches, (name, text, examples)
    if not prices:  # the README's priced example, as the page runs it on a catalogue without prices
        refinement = parse_refinement(PRICED_EXAMPLES[0])
        assert not service.search_box_refined(analysis, box, 10, refinement)  # what a shopper saw before
        assert service.search_box_refined(analysis, box, 10, refinement.without_prices())
