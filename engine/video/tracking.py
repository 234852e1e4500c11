"""Object tracks across sampled video frames: the same object in neighbouring frames becomes one track.

A detection joins a track seen in one of the last `max_gap` sampled frames when their boxes overlap and their
embeddings agree, or, when the camera moved too much for the boxes to overlap, when the embeddings agree
closely. Pairs are linked greedily, best first, each track and detection once per frame. A track keeps its
best observation (confidence times the square root of the box's share of the frame): the crop that is searched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.geometry import box_ious

LINK_IOU = 0.3  # boxes overlapping at least this much ...
LINK_COSINE = 0.6  # ... with embeddings at least this similar are the same object
APPEARANCE_COSINE = 0.85  # embeddings this similar are the same object wherever the box is
MAX_GAP = 2  # a track missed in this many sampled frames in a row can still be continued


@dataclass
class Observation:
    """One detection in one sampled frame, with its unit embedding."""

    frame: int  # index among the sampled frames
    time_s: float
    box: tuple[float, float, float, float]  # xyxy, frame pixels
    confidence: float
    class_name: str
    vector: np.ndarray  # (D,) float32, unit norm
    frame_area: float = 1.0  # width x height of the frame, for `quality`

    @property
    def quality(self) -> float:
        """How good a crop this is to search with: confidence x sqrt(the box's share of the frame)."""
        x0, y0, x1, y1 = self.box
        share = max(0.0, (x1 - x0) * (y1 - y0)) / max(self.frame_area, 1.0)
        return self.confidence * math.sqrt(share)


@dataclass
class Track:
    """One object followed through the video."""

    id: int
    first: Observation
    best: Observation
    last: Observation
    mean: np.ndarray  # running mean of the unit embeddings (not normalised)
    frames: list[int] = field(default_factory=list)

    @property
    def appearance(self) -> np.ndarray:
        """The track's unit embedding: the normalised mean of its observations."""
        return self.mean / max(float(np.linalg.norm(self.mean)), 1e-12)

    def add(self, observation: Observation) -> None:
        """Extend the track with one more observation."""
        self.mean = self.mean + observation.vector
        self.frames.append(observation.frame)
        self.last = observation
        if observation.quality > self.best.quality:
            self.best = observation

    @classmethod
    def start(cls, track_id: int, observation: Observation) -> Track:
        """A new track of one observation."""
        vector = observation.vector.astype(np.float32)
        return cls(track_id, observation, observation, observation, vector, [observation.frame])


class Tracker:
    """Links each sampled frame's observations to the tracks so far (`update`), then lists them (`tracks`)."""

    def __init__(self, link_iou=LINK_IOU, link_cosine=LINK_COSINE, appearance_cosine=APPEARANCE_COSINE, gap=MAX_GAP):
        self.link_iou, self.link_cosine, self.appearance_cosine, self.gap = (
            link_iou,
            link_cosine,
            appearance_cosine,
            gap,
        )
        self.tracks: list[Track] = []

    def update(self, observations: list[Observation]) -> list[int]:
        """Add one frame's observations; returns the track id each one joined (new tracks for the unlinked)."""
        if not observations:
            return []
        frame = observations[0].frame
        active = [t for t in self.tracks if frame - t.last.frame <= self.gap]
        assigned: dict[int, Track] = {}
        for _, ti, oi in self._candidates(active, observations):
            if oi in assigned or any(t is active[ti] for t in assigned.values()):
                continue
            assigned[oi] = active[ti]
        joined = []
        for oi, observation in enumerate(observations):
            track = assigned.get(oi)
            if track is None:
                track = Track.start(len(self.tracks), observation)
                self.tracks.append(track)
            else:
                track.add(observation)
            joined.append(track.id)
        return joined

    def _candidates(self, active: list[Track], observations: list[Observation]) -> list[tuple[float, int, int]]:
        """(score, track index, observation index) of the allowed links, best first."""
        if not active:
            return []
        cosine = np.stack([t.appearance for t in active]) @ np.stack([o.vector for o in observations]).T
        overlap = box_ious(np.array([t.last.box for t in active]), np.array([o.box for o in observations]))
        allowed = ((overlap >= self.link_iou) & (cosine >= self.link_cosine)) | (cosine >= self.appearance_cosine)
        pairs = [(float(overlap[i, j] + cosine[i, j]), i, j) for i, j in zip(*np.nonzero(allowed))]
        return sorted(pairs, key=lambda p: -p[0])
