"""Curation: what curators change next to an index (marks, product boxes, added and removed products) and who may."""

from engine.curation.catalogue_files import ImageFiles
from engine.curation.curated_boxes import CuratedBoxes
from engine.curation.export import safe_csv
from engine.curation.feedback import FILENAME as FEEDBACK_FILE
from engine.curation.feedback import NOT_SIMILAR, SIMILAR, FeedbackStore
from engine.curation.managed_products import ManagedProducts
from engine.curation.roles import (
    PASSWORD_ENV,
    PASSWORD_GUESSES,
    PASSWORD_SECRET,
    curator_tools_offered,
    password_from,
    password_matches,
    writes_allowed,
)

__all__ = [
    "FEEDBACK_FILE",
    "NOT_SIMILAR",
    "PASSWORD_ENV",
    "PASSWORD_GUESSES",
    "PASSWORD_SECRET",
    "SIMILAR",
    "CuratedBoxes",
    "FeedbackStore",
    "ImageFiles",
    "ManagedProducts",
    "curator_tools_offered",
    "password_from",
    "password_matches",
    "writes_allowed",
    "safe_csv",
]
