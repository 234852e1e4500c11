"""Video decoding: sampled frames and their times, and clear errors for broken, oversized and too-long files."""

from __future__ import annotations

import os

import pytest
from PIL import Image

from engine.video.decode import MAX_BYTES, VideoError, probe, sample_frames
from scripts.videolib import plain_video
from tests.conftest import jpeg_bytes


@pytest.mark.parametrize(("codec", "suffix"), [("mp4v", ".mp4"), ("VP80", ".webm"), ("mp4v", ".mov")])
def test_frames_are_sampled_once_per_second_with_their_times(tmp_path, codec, suffix):
    video = plain_video(tmp_path / f"clip{suffix}", frames=42, fps=10, codec=codec)
    frames = list(sample_frames(video, fps=1.0))
    assert [f.time_s for f in frames] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert frames[0].pixels.shape == (48, 64, 3) and frames[0].pixels.dtype.name == "uint8"
    assert frames[1].pixels.mean() > frames[0].pixels.mean()  # frame 10, not frame 1 again
    assert probe(video).seconds == pytest.approx(4.2)


def test_more_frames_per_second_and_shrunk_frames(tmp_path):
    video = plain_video(tmp_path / "clip.mp4", frames=20, fps=10, size=(400, 200))
    frames = list(sample_frames(video, fps=2.5, max_side=100))
    assert [f.time_s for f in frames] == [0.0, 0.4, 0.8, 1.2, 1.6]
    assert frames[0].pixels.shape == (50, 100, 3)


def test_a_video_longer_than_five_minutes_is_refused_before_decoding(tmp_path):
    video = plain_video(tmp_path / "long.mp4", frames=302, fps=1)
    with pytest.raises(VideoError, match="lasts 5 min 2 s; at most 5 min"):
        probe(video)
    with pytest.raises(VideoError, match="at most 5 min"):
        next(sample_frames(video))


def test_decoding_stops_at_the_time_limit_when_the_header_gives_no_duration(tmp_path):
    video = tmp_path / "clip.mjpeg"  # a raw MJPEG stream: 25 frames/s by convention, no frame count
    video.write_bytes(b"".join(jpeg_bytes(Image.new("RGB", (64, 48), (i * 5, 0, 0))) for i in range(40)))
    assert probe(video).seconds == 0
    assert [f.time_s for f in sample_frames(video)] == [0.0, 1.0]
    with pytest.raises(VideoError, match="longer than 1 s"):
        list(sample_frames(video, fps=1.0, max_seconds=1.0))


def test_an_oversized_file_is_refused_without_reading_it(tmp_path):
    video = tmp_path / "huge.mp4"
    with open(video, "wb") as handle:
        handle.truncate(MAX_BYTES + 1)  # sparse: costs no disk
    with pytest.raises(VideoError, match="at most 100 MB"):
        probe(video)
    assert os.path.getsize(video) == MAX_BYTES + 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"this is a text file, not a video\n" * 50, "not a video"),
        (bytes(range(256)) * 400, "not a video"),
    ],
)
def test_broken_files_get_a_clear_error(tmp_path, content, message):
    video = tmp_path / "clip.mp4"
    video.write_bytes(content)
    with pytest.raises(VideoError, match=message):
        list(sample_frames(video))


def test_a_truncated_video_gets_a_clear_error(tmp_path):
    whole = plain_video(tmp_path / "whole.mp4", frames=30, fps=10).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(VideoError, match="not a video|damaged"):
        list(sample_frames(cut))


def test_a_photo_is_not_a_video(tmp_path):
    photo = tmp_path / "room.mp4"
    Image.new("RGB", (64, 48), (10, 200, 10)).save(photo, "JPEG")
    try:
        frames = list(sample_frames(photo))
    except VideoError:
        return
    assert len(frames) == 1  # FFmpeg may read a JPEG as a one-frame stream: harmless, still bounded


def test_a_missing_file_gets_a_clear_error(tmp_path):
    with pytest.raises(VideoError, match="cannot be read"):
        probe(tmp_path / "missing.mp4")


def test_fps_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="fps"):
        next(sample_frames(plain_video(tmp_path / "c.mp4", 5, 5), fps=0))


def test_times_read_as_minutes_and_seconds():
    from engine.video import clock

    assert [clock(s) for s in (0, 0.4, 6.0, 72.4, 119.6, 3599.6)] == ["0:00", "0:00", "0:06", "1:12", "2:00", "60:00"]


def lying_avi(path, frames: int = 400, claimed: int = 10):
    """An MJPEG AVI of `frames` one-second frames whose header (avih and strh) claims `claimed` frames."""
    import struct

    data = bytearray(plain_video(path, frames=frames, fps=1, codec="MJPG").read_bytes())
    for chunk, offset in ((b"avih", 16), (b"strh", 32)):  # dwTotalFrames, dwLength
        struct.pack_into("<I", data, data.index(chunk) + 8 + offset, claimed)
    path.write_bytes(bytes(data))
    return path


def test_a_video_whose_header_lies_about_its_length_is_refused_before_any_frame(tmp_path):
    video = lying_avi(tmp_path / "liar.avi")
    assert probe(video).seconds == 10
    with pytest.raises(VideoError, match="longer than 5 min \\(although its header says 10 s\\)"):
        next(sample_frames(video))
    honest = lying_avi(tmp_path / "honest.avi", frames=12, claimed=12)
    assert [f.time_s for f in sample_frames(honest)][-1] == 11.0
