"""Shop the whole room: every distinct object of a photo with its best-matching catalogue product, in one call.

The objects are the ones a shopper sees on the shop page (`engine.detection.distinct`); their boxes are
embedded together in one batch (`engine.embedding.base.embed_many`), then each vector is searched. A presenter's view
only has to draw the hotspots; a hotspot's vector is kept, so its full grid of lookalikes costs one search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.detection.detector import Analysis
from engine.detection.distinct import SHOWN, distinct_detections
from engine.embedding import embed_many
from engine.search.products import Match, SearchFilters
from engine.search.rerank import QueryKind


@dataclass
class Hotspot:
    """One distinct object of a photo and the catalogue product most like it (None when filters leave none)."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in photo pixels
    class_name: str
    confidence: float
    vector: np.ndarray  # (D,) the box's embedding, for its full grid (`Lookalike.search`)
    match: Match | None
    kind: QueryKind | None = None  # the box's class, which steers its grid as a click's would (`engine.search.rerank`)

    @property
    def label(self) -> str:
        """'chair 0.87': how the shop page names the same box."""
        return f"{self.class_name} {self.confidence:.2f}"

    def centre(self, size: tuple[int, int]) -> tuple[float, float]:
        """The box centre as fractions (0-1) of a photo of `size` (width, height): where the dot goes."""
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2 / size[0], (y0 + y1) / 2 / size[1]


def room_hotspots(service, analysis: Analysis, filters: SearchFilters | None = None, limit: int = SHOWN):
    """The distinct detections of an analysed photo, most confident first, each with its best match.

    `service` is an `engine.Lookalike` (its embedder and index are used); at most `limit` objects, as on the shop
    page. The boxes of the photo go through the embedder in one batch.
    """
    shown, _ = distinct_detections(analysis.detections, limit)
    found = [analysis.detections[i] for i in shown]
    if not found:
        return []
    boxes = np.array([d.box for d in found], dtype=np.float32).reshape(-1, 4)
    vectors = embed_many(service.embedder, [analysis], [boxes])[0]
    hotspots = []
    for detection, vector in zip(found, vectors):
        box = tuple(float(v) for v in detection.box)
        kind = service.box_kind(analysis, box)
        best = next(iter(service.search(vector, 1, filters, kind)), None)  # the ranking a click on it gets
        hotspots.append(Hotspot(box, detection.class_name, float(detection.confidence), vector, best, kind))
    return hotspots
