"""Search: nearest catalogue products for a vector, kept on topic by the query's kind, refined by words.

matches = search_products(index, vector, k=10, filters=SearchFilters(max_price=500))
"""

from engine.search.products import Match, SearchFilters, search_products
from engine.search.rerank import QueryKind, RankingConfig, search_on_topic

__all__ = ["Match", "QueryKind", "RankingConfig", "SearchFilters", "search_on_topic", "search_products"]
