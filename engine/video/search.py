"""Search a video: sample frames, detect and embed their objects, follow each object as a track, search it once.

    result = search_video(service, "room.mp4", fps=1.0, k=5, progress=lambda done_s, total_s: ...)
    for track in result.tracks:
        track.time_s, track.box, track.matches[0].product_id, result.frames[track.frame]  # JPEG of that frame

Frames are processed in small batches (one detector pass, one embedding pass per batch) and dropped as soon as
no track's best observation lies in them; only the JPEG of each remaining best frame is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from engine.detection.distinct import distinct_detections
from engine.embedding import embed_many
from engine.search.products import Match
from engine.service import Lookalike
from engine.video.decode import DEFAULT_MAX_SIDE, Frame, probe, sample_frames
from engine.video.tracking import Observation, Track, Tracker

FRAME_BATCH = 4  # sampled frames per detector / embedding pass
MAX_TRACKS = 100  # tracks searched and reported, best first
MIN_FRAMES = 2  # a track seen in fewer sampled frames is dropped as a flicker (unless the video has fewer)
FRAME_JPEG_QUALITY = 85
MATCHES_PER_TRACK = 5  # products listed for each object found


@dataclass
class VideoTrack:
    """One object of the video and the products that look like it."""

    time_s: float  # time of the track's best frame
    frame: int  # index of that sampled frame (a key of `VideoResult.frames`)
    box: tuple[float, float, float, float]  # the object in that frame, frame pixels (see `VideoResult.frame_size`)
    label: str  # detector class
    confidence: float
    first_s: float
    last_s: float
    n_frames: int  # sampled frames the object was seen in
    matches: list[Match] = field(default_factory=list)

    def to_json(self) -> dict:
        """{time_s, box, product_id, score, name, image} of the best match (what search_video.py --json prints)."""
        best = self.matches[0] if self.matches else None
        return {
            "time_s": self.time_s,
            "box": [round(float(v), 1) for v in self.box],
            "product_id": best.product_id if best else None,
            "score": round(best.score, 4) if best else None,
            "name": best.name if best else None,
            "image": best.image if best else None,
        }


@dataclass
class VideoResult:
    """Tracks in time order, the JPEG of each best frame, and what was processed."""

    tracks: list[VideoTrack]
    frames: dict[int, bytes]  # sampled frame index -> JPEG (RGB, at most `DEFAULT_MAX_SIDE` a side)
    frame_times: dict[int, float]
    sampled: int  # frames sampled and detected
    seconds: float  # duration covered
    frame_size: tuple[int, int] = (0, 0)  # (width, height) of the sampled frames


def clock(seconds: float) -> str:
    """A time in a video as the timeline shows it: 72.4 -> '1:12'."""
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def search_video(
    service: Lookalike,
    path: str | Path,
    fps: float = 1.0,
    k: int = MATCHES_PER_TRACK,
    progress: Callable[[float, float], None] | None = None,
    max_side: int = DEFAULT_MAX_SIDE,
    min_frames: int = MIN_FRAMES,
) -> VideoResult:
    """Tracks of the objects in a video file, each with its top-k products.

    `progress(seconds done, seconds in the video)` is called after each batch (the total is 0 when the
    container does not say). Raises `engine.video.decode.VideoError` for a video that is too big, too long, broken
    or not a video at all.
    """
    total = probe(path).seconds
    tracker, frames, times = Tracker(), {}, {}
    sampled, last_s, size = 0, 0.0, (0, 0)
    for batch in _batches(sample_frames(path, fps, max_side), FRAME_BATCH):
        for frame, found in zip(batch, _observe(service, batch)):
            tracker.update(found)
            frames[frame.index] = _jpeg(frame.pixels)
            times[frame.index] = frame.time_s
        sampled += len(batch)
        last_s, size = batch[-1].time_s, (batch[-1].pixels.shape[1], batch[-1].pixels.shape[0])
        _keep_best_frames(frames, tracker.tracks, batch[-1].index)
        if progress:
            progress(last_s, total)
    if progress:
        progress(max(total, last_s), max(total, last_s))
    kept = _kept_tracks(tracker.tracks, min(min_frames, sampled))
    results = [_result(track, service.search(track.best.vector, k)) for track in kept]
    results.sort(key=lambda t: (t.time_s, t.box[0]))
    frames = {i: frames[i] for i in sorted({t.frame for t in results})}
    return VideoResult(results, frames, {i: times[i] for i in frames}, sampled, max(total, last_s), size)


def _batches(frames: Iterator[Frame], size: int) -> Iterator[list[Frame]]:
    """Consecutive lists of `size` frames (the last may be shorter)."""
    while batch := list(islice(frames, size)):
        yield batch


def _observe(service: Lookalike, batch: list[Frame]) -> list[list[Observation]]:
    """Per frame, its distinct detections with their embeddings: one detector and one embedding pass."""
    images = [Image.fromarray(frame.pixels) for frame in batch]
    analyses = service.detector.analyse(images)
    chosen = [[a.detections[i] for i in distinct_detections(a.detections)[0]] for a in analyses]
    boxes = [np.array([d.box for d in found], dtype=np.float32).reshape(-1, 4) for found in chosen]
    vectors = embed_many(service.embedder, analyses, boxes)
    out = []
    for frame, found, block in zip(batch, chosen, vectors):
        area = float(frame.pixels.shape[0] * frame.pixels.shape[1])
        out.append(
            [
                Observation(frame.index, frame.time_s, d.box, d.confidence, d.class_name, v, area)
                for d, v in zip(found, block)
            ]
        )
    return out


def _keep_best_frames(frames: dict[int, bytes], tracks: list[Track], newest: int) -> None:
    """Drop the JPEGs no track's best observation lies in (the newest frame stays for the tracks to come)."""
    needed = {t.best.frame for t in tracks} | {newest}
    for index in [i for i in frames if i not in needed]:
        del frames[index]


def _kept_tracks(tracks: list[Track], min_frames: int) -> list[Track]:
    """Tracks seen in at least `min_frames` sampled frames, at most `MAX_TRACKS`, best crops first."""
    kept = [t for t in tracks if len(t.frames) >= max(1, min_frames)]
    return sorted(kept, key=lambda t: -t.best.quality)[:MAX_TRACKS]


def _result(track: Track, matches: list[Match]) -> VideoTrack:
    """A finished track as reported."""
    best = track.best
    return VideoTrack(
        time_s=best.time_s,
        frame=best.frame,
        box=tuple(round(float(v), 1) for v in best.box),
        label=best.class_name,
        confidence=round(best.confidence, 3),
        first_s=track.first.time_s,
        last_s=track.last.time_s,
        n_frames=len(track.frames),
        matches=matches,
    )


def _jpeg(pixels: np.ndarray) -> bytes:
    """(H, W, 3) RGB -> JPEG bytes."""
    ok, encoded = cv2.imencode(".jpg", pixels[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, FRAME_JPEG_QUALITY])
    if not ok:
        raise ValueError("A frame could not be encoded as JPEG.")
    return encoded.tobytes()


def frame_image(result: VideoResult, frame: int) -> Image.Image:
    """A kept frame as a PIL RGB image."""
    pixels = cv2.imdecode(np.frombuffer(result.frames[frame], np.uint8), cv2.IMREAD_COLOR)
    return Image.fromarray(np.ascontiguousarray(pixels[:, :, ::-1]))
