"""A frame handed from the video page to the shop page, where it is searched like any photo."""

from __future__ import annotations

import streamlit as st

FRAME_KEY = "handed-frame"


def hand_over_frame(name: str, jpeg: bytes) -> None:
    """Open a video frame (JPEG bytes) in the shop page's photo flow: boxes, click, grid."""
    st.session_state[FRAME_KEY] = (name, jpeg)
    st.switch_page("pages/shop.py")


def handed_frame() -> tuple[str, bytes] | None:
    """(name, JPEG bytes) of the frame handed over, with a button to go back to choosing a photo; else None."""
    frame = st.session_state.get(FRAME_KEY)
    if frame is None:
        return None
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.caption(f"Searching the {frame[0]}.")
    if right.button("Choose another photo", key="handed-frame-clear"):
        del st.session_state[FRAME_KEY]
        st.rerun()
    return frame
