"""Search: nearest catalogue products for a vector, kept on topic by the query's kind, refined by words.

matches = search_products(index, vector, k=10, filters=SearchFilters(max_price=500))
suggestions = goes_with_for(index).suggest([product_id], k=10)   # products of other kinds that go with it
"""

from engine.search.duplicates import DEFAULT_K as NEAR_DUPLICATE_K
from engine.search.duplicates import near_duplicates
from engine.search.examples import has_prices, refinement_examples
from engine.search.goes_with import SHOW_ROW as GOES_WITH_SHOWN
from engine.search.goes_with import GoesWith, Suggestion, goes_with_for
from engine.search.products import Match, SearchFilters, search_products
from engine.search.query import check_query_photo, is_product_shot, product_shot_box, whole_image
from engine.search.refine import parse_refinement, refined_search, stores_colors
from engine.search.rerank import QueryKind, RankingConfig, search_on_topic
from engine.search.room import Hotspot, room_hotspots

__all__ = [
    "GOES_WITH_SHOWN",
    "NEAR_DUPLICATE_K",
    "GoesWith",
    "Hotspot",
    "Match",
    "QueryKind",
    "RankingConfig",
    "SearchFilters",
    "Suggestion",
    "check_query_photo",
    "goes_with_for",
    "is_product_shot",
    "product_shot_box",
    "near_duplicates",
    "parse_refinement",
    "refined_search",
    "has_prices",
    "refinement_examples",
    "room_hotspots",
    "search_on_topic",
    "search_products",
    "stores_colors",
    "whole_image",
]
