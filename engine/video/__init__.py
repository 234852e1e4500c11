"""Video search: sampled frames are detected, the same object across frames becomes one track, searched once."""

from engine.video.decode import MAX_BYTES, MAX_SECONDS, VideoError, probe, sample_frames
from engine.video.search import MATCHES_PER_TRACK, VideoResult, VideoTrack, clock, frame_image, search_video

__all__ = [
    "MAX_BYTES",
    "MATCHES_PER_TRACK",
    "MAX_SECONDS",
    "VideoError",
    "VideoResult",
    "VideoTrack",
    "clock",
    "frame_image",
    "probe",
    "sample_frames",
    "search_video",
]
