"""The coarse product classes, re-exported: they live in `engine.search.taxonomy`, since search ranks by them too."""

from engine.search.taxonomy import CLASSES, class_id, coarse_class, match_rule

__all__ = ["CLASSES", "class_id", "coarse_class", "match_rule"]
