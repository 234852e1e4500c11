"""Safe video decoding: a video file becomes a stream of sampled RGB frames, or a clear `VideoError`.

Decoding is OpenCV's FFmpeg backend. Limits are checked before any frame is decoded (file size, duration and
frame size from the container), then the real length before any frame is used (`check_real_length`: a
container that lies about its duration is refused early), and again while decoding. Frames are streamed one
at a time and shrunk to `max_side`: the video is never held.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

MAX_BYTES = 100 * 2**20  # as the app's upload limit
MAX_SECONDS = 5 * 60
MAX_FRAME_PIXELS = 40_000_000  # 8K is 33 MP; anything bigger is refused before decoding
VIDEO_SUFFIXES = (".mp4", ".m4v", ".webm", ".mov", ".mkv", ".avi")
DEFAULT_MAX_SIDE = 1024  # sampled frames are shrunk to this: the detector sees 640, crops keep some detail


class VideoError(ValueError):
    """A video that cannot be used; the message is meant for the user."""


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video."""

    width: int
    height: int
    fps: float  # frames per second (0 when unknown)
    frames: int  # frame count (0 when unknown)

    @property
    def seconds(self) -> float:
        """Duration from the container (0 when unknown)."""
        return self.frames / self.fps if self.fps > 0 and self.frames > 0 else 0.0


@dataclass
class Frame:
    """One sampled frame: its index among the sampled frames, time, and (H, W, 3) uint8 RGB pixels."""

    index: int
    time_s: float
    pixels: np.ndarray


def probe(path: str | Path) -> VideoInfo:
    """Check a video file against the limits and read its header; `VideoError` when it cannot be used."""
    capture = _open(path)
    try:
        return _info(capture)
    finally:
        capture.release()


def sample_frames(
    path: str | Path, fps: float = 1.0, max_side: int = DEFAULT_MAX_SIDE, max_seconds: float = MAX_SECONDS
) -> Iterator[Frame]:
    """Yield about `fps` frames per second of video, in order, each shrunk to at most `max_side` pixels a side.

    Every frame is read from the stream (`grab`), but only the sampled ones are converted; a video whose
    timestamps pass `max_seconds` raises `VideoError`, as does one with no decodable frame.
    """
    if not fps > 0 or not math.isfinite(fps):
        raise ValueError("fps must be a positive number")
    capture = _open(path)
    try:
        info = _info(capture, max_seconds)
        check_real_length(path, info, max_seconds)
        step, next_time, sampled, position = 1.0 / fps, 0.0, 0, 0
        while capture.grab():
            time_s = _frame_time(capture, position, info.fps)
            position += 1
            if time_s > max_seconds:
                raise VideoError(f"The video is longer than {_minutes(max_seconds)}; use a shorter clip.")
            if time_s + 1e-6 < next_time:
                continue
            ok, bgr = capture.retrieve()
            if not ok or bgr is None:
                continue
            yield Frame(sampled, round(time_s, 3), _to_rgb(bgr, max_side))
            sampled += 1
            next_time = max(next_time + step, time_s + step * 0.5)
        if sampled == 0:
            raise VideoError("No frame of the video could be decoded: the file is damaged or not a video.")
    finally:
        capture.release()


def check_real_length(path: str | Path, info: VideoInfo, max_seconds: float = MAX_SECONDS) -> None:
    """Refuse a video that plays on past `max_seconds`, whatever its header says, before any frame is used.

    From the frame where the header says the video ends (from the start when it gives no length), frames are
    only grabbed, never converted or searched: an honest video costs one seek, and one whose header says 10 s
    but holds 400 s is refused after decoding what follows its claimed end, not after searching 5 minutes of it.
    """
    capture = _open(path)
    try:
        if info.frames > 1 and info.fps > 0:
            capture.set(cv2.CAP_PROP_POS_FRAMES, info.frames - 1)
        position = int(_finite(capture.get(cv2.CAP_PROP_POS_FRAMES)))  # where the seek landed (0 without one)
        while capture.grab():
            if _frame_time(capture, position, info.fps) > max_seconds:
                raise VideoError(
                    f"The video is longer than {_minutes(max_seconds)} (although its header says "
                    f"{_minutes(info.seconds) if info.seconds else 'nothing'}); use a shorter clip."
                )
            position += 1
    finally:
        capture.release()


def _open(path: str | Path) -> cv2.VideoCapture:
    """An opened capture for a file within the size limit."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise VideoError(f"The video file cannot be read ({err.strerror or err}).") from err
    if size == 0:
        raise VideoError("The video file is empty.")
    if size > MAX_BYTES:
        raise VideoError(f"The video is {size / 2**20:.0f} MB; at most {MAX_BYTES // 2**20} MB are accepted.")
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not capture.isOpened():
        capture.release()
        raise VideoError("This file is not a video that can be decoded (use MP4, WebM or MOV).")
    return capture


def _info(capture: cv2.VideoCapture, max_seconds: float = MAX_SECONDS) -> VideoInfo:
    """The header's facts, checked against the duration and frame-size limits."""
    info = VideoInfo(
        width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
        height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        fps=_finite(capture.get(cv2.CAP_PROP_FPS)),
        frames=int(_finite(capture.get(cv2.CAP_PROP_FRAME_COUNT))),
    )
    if info.width <= 0 or info.height <= 0:
        raise VideoError("This file has no video picture that can be decoded (use MP4, WebM or MOV).")
    if info.width * info.height > MAX_FRAME_PIXELS:
        raise VideoError(f"The video's frames are {info.width}×{info.height}; at most 8K frames are accepted.")
    if info.seconds > max_seconds + 0.5:
        raise VideoError(
            f"The video lasts {_minutes(info.seconds)}; at most {_minutes(max_seconds)} are accepted. "
            "Trim it, or film a shorter clip."
        )
    return info


def _frame_time(capture: cv2.VideoCapture, position: int, fps: float) -> float:
    """Seconds of the frame just grabbed: its timestamp, else its position over the nominal frame rate."""
    stamp = _finite(capture.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
    if stamp > 0 or position == 0:
        return stamp
    return position / fps if fps > 0 else float(position)


def _to_rgb(bgr: np.ndarray, max_side: int) -> np.ndarray:
    """A BGR frame shrunk to `max_side` (area interpolation) and turned into contiguous RGB."""
    height, width = bgr.shape[:2]
    scale = max_side / max(height, width)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    if bgr.ndim == 2:
        return np.ascontiguousarray(np.repeat(bgr[:, :, None], 3, axis=2))
    return np.ascontiguousarray(bgr[:, :, 2::-1])


def _finite(value: float) -> float:
    """A container value, with NaN, infinities and negatives read as 0 (unknown)."""
    return float(value) if math.isfinite(value) and value > 0 else 0.0


def _minutes(seconds: float) -> str:
    """'5 min', '5 min 12 s'."""
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes} min" + (f" {rest} s" if rest else "") if minutes else f"{rest} s"
