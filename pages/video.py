"""Search a video: upload a room video, see a timeline of the products in it, open any moment as a photo."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import streamlit as st

import engine
from engine.draw import draw_boxes
from engine.video import MAX_BYTES, MAX_SECONDS, VideoError, VideoResult, VideoTrack, clock, frame_image, search_video
from pages.handoff import hand_over_frame
from pages.loading import service_or_stop
from pages.navigation import routed_through_app
from pages.shared import (
    display_name,
    jpeg_bytes,
    markdown_text,
    product_thumbnail,
    sidebar_facts,
)

VIDEO_TYPES = ["mp4", "m4v", "webm", "mov"]
RATES = [0.5, 1.0, 2.0]  # frames looked at per second of video
FRAME_THUMB = 360


def video_page() -> None:
    """Upload, search with progress, then the timeline."""
    service = service_or_stop()
    sidebar_facts(service)
    st.title("Search a video")
    limits = f"MP4, WebM or MOV; at most {MAX_BYTES // 2**20} MB and {MAX_SECONDS // 60} minutes"
    upload = st.file_uploader(f"Room video ({limits})", type=VIDEO_TYPES, key="video-upload")
    fps = st.select_slider("Frames looked at per second", RATES, value=1.0, key="video-fps")
    if upload is None:
        st.info("Upload a video of a room: every object seen in it is searched once, and listed by time.")
        return
    result = searched(service, upload.name, upload.getvalue(), fps)
    if result is not None:
        timeline(service, result)


def searched(service: engine.Lookalike, name: str, data: bytes, fps: float) -> VideoResult | None:
    """The video's search result, computed once per video and rate (kept in the session); None after an error."""
    digest = hashlib.sha1(data).hexdigest() + f"-{fps}"
    kept = st.session_state.get("video")
    if kept and kept["digest"] == digest:
        return kept["result"]
    suffix = Path(name).suffix.lower() if Path(name).suffix.lower().lstrip(".") in VIDEO_TYPES else ".mp4"
    bar = st.progress(0.0, text="Looking at the video…")

    def report(done_s: float, total_s: float) -> None:
        share = min(1.0, done_s / total_s) if total_s > 0 else 0.0
        bar.progress(share, text=f"Looked at {done_s:.0f} s of {total_s:.0f} s")

    try:
        with tempfile.NamedTemporaryFile(suffix=suffix) as handle:  # the decoder reads files, not bytes
            handle.write(data)
            handle.flush()
            result = search_video(service, handle.name, fps=fps, progress=report)
    except VideoError as err:
        bar.empty()
        st.error(f"Cannot use “{markdown_text(name)}”: {markdown_text(err)}")
        return None
    bar.empty()
    st.session_state["video"] = {"digest": digest, "result": result}
    return result


def timeline(service: engine.Lookalike, result: VideoResult) -> None:
    """One row per object, in time order: the moment (frame with its box), the best product, the others."""
    found = len(result.tracks)
    st.subheader(f"{found} object{'s' * (found != 1)} found in {clock(result.seconds)} of video")
    st.caption(f"{result.sampled} frames looked at. Open a moment to click any object in that frame.")
    if not result.tracks:
        st.info("No object was found: try a video that shows the furniture more closely, or more frames per second.")
    for i, track in enumerate(result.tracks):
        moment(service, result, track, i)


def moment(service: engine.Lookalike, result: VideoResult, track: VideoTrack, i: int) -> None:
    """A timeline row: timestamp and frame thumbnail, the products found, and a button opening the frame."""
    frame, best = frame_image(result, track.frame), track.matches[0] if track.matches else None
    left, middle, right = st.columns([2, 1, 3], vertical_alignment="center")
    thumbnail = draw_boxes(frame, [track.box], [track.label], selected=0, scale=FRAME_THUMB / frame.width)
    left.image(jpeg_bytes(thumbnail), caption=f"{clock(track.time_s)} · {track.label}")
    if best is not None:
        middle.image(product_thumbnail(service, best.image, best.content_hash))
    with right:
        if best is not None:
            kind = f" · {markdown_text(best.category)}" if best.category.strip() else ""  # no dangling separator
            st.markdown(f"**{markdown_text(display_name(best.name))}**{kind}")
            others = ", ".join(markdown_text(display_name(m.name)) for m in track.matches[1:])
            st.caption(
                f"Match {best.score:.3f} · seen {clock(track.first_s)}–{clock(track.last_s)}"
                + (f" · also like: {others}" if others else "")
            )
        if st.button(f"Open the frame at {clock(track.time_s)}", key=f"video-open-{i}"):
            hand_over_frame(f"video frame at {clock(track.time_s)}", result.frames[track.frame])


if routed_through_app():
    video_page()
