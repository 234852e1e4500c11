"""Tracks: the same object in neighbouring frames is linked by box overlap and embedding similarity."""

from __future__ import annotations

import numpy as np

from engine.geometry import box_ious
from engine.video.tracking import Observation, Tracker


def unit(seed: int, dim: int = 32) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def nudged(vector: np.ndarray, amount: float, seed: int) -> np.ndarray:
    moved = vector + amount * unit(seed + 1000, len(vector))
    return moved / np.linalg.norm(moved)


def seen(frame: int, box, vector, confidence: float = 0.5) -> Observation:
    return Observation(frame, float(frame), tuple(map(float, box)), confidence, "chair", vector, 1000 * 1000)


def test_an_object_moving_a_little_is_one_track_and_its_neighbour_another():
    tracker = Tracker()
    chair, lamp = unit(1), unit(2)
    for frame in range(5):
        shift = 12 * frame
        tracker.update(
            [
                seen(frame, (100 + shift, 100, 300 + shift, 400), nudged(chair, 0.2, frame)),
                seen(frame, (320 + shift, 50, 380 + shift, 300), nudged(lamp, 0.2, frame + 50)),
            ]
        )
    assert [len(t.frames) for t in tracker.tracks] == [5, 5]
    assert [t.first.time_s for t in tracker.tracks] == [0.0, 0.0] and tracker.tracks[0].last.time_s == 4.0


def test_overlap_alone_does_not_link_two_different_objects():
    tracker = Tracker()
    tracker.update([seen(0, (100, 100, 300, 400), unit(1))])
    tracker.update([seen(1, (100, 100, 300, 400), unit(2))])  # same place, another object (a cut)
    assert len(tracker.tracks) == 2


def test_a_close_embedding_links_across_a_jump_and_a_missed_frame():
    tracker = Tracker()
    chair = unit(1)
    tracker.update([seen(0, (0, 0, 100, 100), chair)])
    tracker.update([seen(1, (500, 500, 600, 600), unit(9))])  # the chair was missed in frame 1
    ids = tracker.update([seen(2, (600, 0, 700, 100), nudged(chair, 0.1, 3))])  # the camera turned
    assert ids == [0] and tracker.tracks[0].frames == [0, 2]
    tracker.update([seen(6, (600, 0, 700, 100), chair)])  # too long after: a new track
    assert len(tracker.tracks) == 3


def test_each_track_takes_one_detection_per_frame_and_keeps_its_best_crop():
    tracker = Tracker()
    chair = unit(1)
    tracker.update([seen(0, (100, 100, 200, 200), chair, confidence=0.3)])
    ids = tracker.update(
        [seen(1, (100, 100, 200, 200), chair, confidence=0.9), seen(1, (105, 100, 205, 200), chair, confidence=0.4)]
    )
    assert sorted(ids) == [0, 1]  # a twin in the same frame starts its own track
    assert tracker.tracks[0].best.confidence == 0.9 and tracker.tracks[0].best.frame == 1


def test_box_ious():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    assert np.allclose(box_ious(a, b), [[1.0, 50 / 150, 0.0]])
