"""Video search: sampled frames are detected, the same object across frames becomes one track, searched once."""

from engine.video.decode import VideoError, probe, sample_frames
from engine.video.search import VideoResult, VideoTrack, search_video

__all__ = ["VideoError", "VideoResult", "VideoTrack", "probe", "sample_frames", "search_video"]
