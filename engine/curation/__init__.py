"""Curation: what curators change next to an index (marks, product boxes, added and removed products) and who may."""

from engine.curation.catalogue_files import ImageFiles
from engine.curation.curated_boxes import CuratedBoxes
from engine.curation.feedback import FeedbackStore
from engine.curation.managed_products import ManagedProducts

__all__ = ["CuratedBoxes", "FeedbackStore", "ImageFiles", "ManagedProducts"]
