"""Refining matches with words: colours of the product photos, catalogue text and price limits."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from engine.index.store import CatalogIndex
from engine.search.colors import REGIONS, parse_colors
from engine.search.products import Match, SearchFilters, search_products
from engine.search.refine import (
    Refinement,
    parse_refinement,
    product_colors,
    refine_matches,
    refined_search,
    stores_colors,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("green velvet", Refinement(colors=("green",), words=("velvet",))),
        ("this chair but in dark grey", Refinement(colors=("dark grey",), words=("chair",))),
        ("navy under 2000", Refinement(colors=("navy",), price_max=2000)),
        ("below 1,500 HKD", Refinement(price_max=1500)),
        ("cheaper than 2k", Refinement(price_max=2000)),
        ("over 100 and less than $450.50", Refinement(price_min=100, price_max=450.5)),
        ("between 300 and 100", Refinement(price_min=100, price_max=300)),
        ("Light Blue cushion covers", Refinement(colors=("light blue",), words=("cushion", "covers"))),
        ("", Refinement()),
    ],
)
def test_refinement_text_is_split_into_colours_words_and_prices(text, expected):
    assert parse_refinement(text) == expected


def test_describe_and_truthiness():
    refinement = parse_refinement("white leather under 2000")
    assert refinement and not parse_refinement("the a colour")
    assert refinement.describe() == "colour: white · words: leather · price: at most 2,000"
    narrowed = refinement.filters(SearchFilters(price_min=10, price_max=5000, categories=("sofas",)))
    assert (narrowed.price_min, narrowed.price_max, narrowed.categories) == (10, 2000, ("sofas",))


def match(rank, product, score, name="", category="", **extra) -> Match:
    return Match(rank, product, score, f"{product}.jpg", name=name, category=category, extra=extra)


GREEN = np.array([[55, -50, 38, 0.8], [40, 12, 30, 0.2]], dtype=np.float32)  # a green sofa on brown legs
GREY = np.array([[55, 0, 1, 1.0]], dtype=np.float32)


def test_colours_come_from_the_photo_and_rerank_by_how_much_of_it_is_that_colour():
    matches = [
        match(1, "grey-sofa", 0.90, "Sofa", "sofas"),
        match(2, "green-sofa", 0.80, "Sofa", "sofas"),
        match(3, "says-green", 0.85, "Sofa, Green", "sofas"),  # grey photo, but the catalogue names it green
        match(4, "velvet", 0.70, "Armchair", "chairs", description="Soft velvet cover"),
    ]
    colors = {"grey-sofa": GREY, "green-sofa": GREEN, "says-green": GREY, "velvet": GREEN}
    refined = refine_matches(matches, parse_refinement("green"), lambda m: colors[m.product_id])
    assert [m.product_id for m in refined] == ["green-sofa", "says-green", "velvet"]
    assert [m.rank for m in refined] == [1, 2, 3] and refined[0].similarity == 0.80  # the visual cosine is kept
    assert refined[0].score > 0.80 and [m.score for m in refined] == sorted((m.score for m in refined), reverse=True)
    photo_only = refine_matches(matches, parse_refinement("green"), lambda m: colors[m.product_id], use_text=False)
    assert [m.product_id for m in photo_only] == ["green-sofa", "velvet"]
    both = refine_matches(matches, parse_refinement("green velvet"), lambda m: colors[m.product_id])
    assert [m.product_id for m in both] == ["velvet"]
    assert refine_matches(matches, parse_refinement("armchairs"), lambda m: None)[0].product_id == "velvet"
    assert refine_matches(matches, parse_refinement("purple"), lambda m: colors[m.product_id]) == []


def test_refined_search_stores_and_uses_photo_colours(service, small_products):
    meta = service.index.meta
    assert stores_colors(service.index)
    assert all(parse_colors(value) is not None for value in meta["colors"])
    vector = service.product_vector(small_products["product_id"].iloc[0])
    plain = search_products(service.index, vector, 10)
    refined = refined_search(service.index, vector, 10, parse_refinement("black"), service.images_root)
    assert 0 < len(refined) <= 10 and refined != plain
    lookup = product_colors(service.index, service.images_root)
    for m in refined:
        dark = lookup(m)[:, 3][REGIONS["black"].distance(lookup(m)[:, :3]) <= 8].sum()
        assert dark >= 0.25 or "black" in f"{m.name} {m.extra}".lower()
    assert "colors" not in plain[0].extra  # stored colours are internal, never shown as a product column


def test_price_words_limit_the_search(service, small_products):
    vector = service.product_vector(small_products["product_id"].iloc[0])
    cheap = refined_search(service.index, vector, 10, parse_refinement("under 2000"), service.images_root)
    assert len(cheap) == 10 and all(m.price <= 2000 for m in cheap)
    mid = refined_search(service.index, vector, 30, parse_refinement("between 1000 and 3000"), service.images_root)
    assert mid and all(1000 <= m.price <= 3000 for m in mid)
    assert refined_search(service.index, vector, 5, parse_refinement("under 1"), service.images_root) == []


def test_an_index_without_stored_colours_computes_them_from_the_photos(service, small_products, tmp_path):
    old = CatalogIndex.load(service.index_dir)
    old.replace_meta(old.meta.drop(columns=["colors"]))
    old.save(tmp_path / "old")
    old = CatalogIndex.load(tmp_path / "old")
    assert not stores_colors(old)
    vector = service.product_vector(small_products["product_id"].iloc[0])
    args = (vector, 10, parse_refinement("black"))
    computed, stored = (refined_search(index, *args, service.images_root) for index in (old, service.index))
    assert [m.product_id for m in computed] == [m.product_id for m in stored]
    assert [m.score for m in computed] == pytest.approx([m.score for m in stored], abs=1e-4)  # colours as stored


def test_colours_of_photos_outside_the_catalogue_are_never_read(service, tmp_path):
    (tmp_path / "catalogue").mkdir()
    shutil.copyfile(service.images_root / service.index.meta["image"].iloc[0], tmp_path / "catalogue" / "inside.jpg")
    shutil.copyfile(service.images_root / service.index.meta["image"].iloc[0], tmp_path / "outside.jpg")
    lookup = product_colors(service.index, tmp_path / "catalogue")
    assert lookup(Match(1, "x", 0.5, "inside.jpg")) is not None
    assert lookup(Match(1, "x", 0.5, "../outside.jpg")) is None


def test_a_refined_search_stays_on_the_clicked_class(service, small_products):
    """Refining a clicked lamp by a colour gives lamps of that colour first, as an unrefined search gives lamps."""
    from engine.search.rerank import RankingConfig, kind_of_category
    from engine.search.taxonomy import coarse_class

    ranking = RankingConfig()
    vector = service.product_vector(small_products[small_products["category"] == "sofas"]["product_id"].iloc[0])
    kind = kind_of_category("lamps", ranking)
    black = parse_refinement("black")
    plain = refined_search(service.index, vector, 5, black, service.images_root)
    steered = refined_search(service.index, vector, 5, black, service.images_root, kind=kind, ranking=ranking)
    lamps = [coarse_class(m.category) == kind.cls for m in steered]
    assert lamps[0] and sum(lamps) > sum(coarse_class(m.category) == kind.cls for m in plain)
    assert lamps == sorted(lamps, reverse=True)  # every lamp before any other product
