"""The box editor on a product's catalogue page (curators): pick a detected box or draw one, save, re-embed."""

from __future__ import annotations

import time

import streamlit as st

import engine
from catalog.curate import clear_box, set_box
from catalog.updater import UpdateError
from engine.curation import CuratedBoxes, curator_tools_offered
from engine.draw import draw_boxes
from pages.curator import curator, sign_in_panel, updater_for
from pages.shared import canvas_shape, jpeg_bytes, markdown_text

EDITOR_WIDTH = 480  # canvas pixels; product photos are scaled to this width
MIN_DRAG = 6  # canvas pixels: a smaller rectangle is ignored
SAVED, WHOLE, DRAWN = "saved box", "whole photo", "your box"
SAVED_NOW = "Saved: the product is indexed by this box now, and searches use it."
CLEARED = "The product is indexed by its detected objects again."


def box_editor(service: engine.Lookalike, product_id: str, image: str) -> None:
    """An expander with the product photo, its candidate boxes, a drawing canvas, and Save / back to detection."""
    if not curator_tools_offered():
        return
    with st.expander("Curator: this product's box", expanded=st.session_state.get(f"box-open-{product_id}", False)):
        if curator() is None:
            st.caption("Sign in as a curator to set the box this product is indexed by.")
            sign_in_panel()
            return
        picture = engine.load_image(service.image_path(image))
        saved = CuratedBoxes(service.index_dir).get(product_id)
        candidates = _candidates(service, product_id, picture, saved)
        labels = list(candidates)
        drawings = st.session_state.get(f"box-drawings-{product_id}", 0)  # a new drawing makes a new radio
        choice = st.radio(
            "Box to index",
            labels,
            index=labels.index(DRAWN) if DRAWN in candidates else 0,
            horizontal=True,
            key=f"box-pick-{product_id}-{drawings}",
        )
        _canvas(product_id, picture, candidates, labels.index(choice))
        keep = st.checkbox("Keep the detected objects in the index too", key=f"box-keep-{product_id}")
        if saved:
            when = f"{saved.who or 'someone'}, {_when(saved.at)}"
            st.caption(f"Saved box {_fmt(saved.box)} by {markdown_text(when)}.")
        left, right = st.columns(2)
        if left.button("Save this box", key=f"box-save-{product_id}", type="primary"):
            box, index_dir = candidates[choice], service.index_dir
            _write(service, product_id, SAVED_NOW, lambda who, up: set_box(index_dir, product_id, box, who, keep, up))
        if saved and right.button("Back to detection", key=f"box-clear-{product_id}"):
            _write(service, product_id, CLEARED, lambda who, up: clear_box(service.index_dir, product_id, who, up))
        if message := st.session_state.pop(f"box-done-{product_id}", None):
            st.success(message)


def _candidates(service: engine.Lookalike, product_id: str, picture, saved) -> dict[str, tuple]:
    """Label -> box: the saved box, the build's detections, the whole photo, and the box the curator drew."""
    key = f"box-found-{product_id}"
    if key not in st.session_state:  # one detection per product and session
        found = updater_for(service).detections(picture)
        st.session_state[key] = [(f"{d.class_name} {d.confidence:.2f}", d.box) for d in found]
    candidates = {SAVED: saved.box} if saved else {}
    for n, (label, box) in enumerate(st.session_state[key], 1):
        candidates[f"{n}: {label}"] = tuple(box)
    candidates[WHOLE] = (0.0, 0.0, float(picture.width), float(picture.height))
    drawn = st.session_state.get(f"box-drawn-{product_id}")
    if drawn:
        candidates[DRAWN] = drawn
    return candidates


def _canvas(product_id: str, picture, candidates: dict, selected: int) -> None:
    """The photo with the candidate boxes, the chosen one highlighted; dragging a rectangle draws "your box"."""
    from streamlit_drawable_canvas import st_canvas  # needs a running Streamlit (components v2)

    scale = EDITOR_WIDTH / picture.width
    background = draw_boxes(picture, list(candidates.values()), list(candidates), selected, scale)
    st.caption("Drag a rectangle on the photo to draw the product's own box.")
    key = f"box-canvas-{product_id}"
    result = st_canvas(
        background_image=jpeg_bytes(background),
        width=background.width,
        height=background.height,
        drawing_mode="rect",
        stroke_width=3,
        stroke_color="#ffffff",
        fill_color="rgba(255, 255, 255, 0.15)",
        update_streamlit=True,
        key=key,
    )
    objects = (result.json_data or {}).get("objects") or []
    event = (len(objects), objects[-1].get("left"), objects[-1].get("top")) if objects else None
    if event is None or st.session_state.get(f"{key}-handled") == event:
        return  # reruns replay the canvas's last value
    st.session_state[f"{key}-handled"] = event
    kind, geometry = canvas_shape(objects[-1], MIN_DRAG)
    if kind == "box":
        st.session_state[f"box-drawn-{product_id}"] = tuple(round(v / scale, 1) for v in geometry)
        st.session_state[f"box-drawings-{product_id}"] = st.session_state.get(f"box-drawings-{product_id}", 0) + 1
        st.session_state[f"box-open-{product_id}"] = True
        st.rerun()


def _write(service: engine.Lookalike, product_id: str, done: str, change) -> None:
    """Run a box change as the unlocked curator; the rerun loads the new index version (pages/loading.py)."""
    who = curator()
    if who is None:
        st.error("Only an unlocked curator can change the catalogue.")
        return
    try:
        with st.spinner("Re-embedding the product…"):
            change(who, updater_for(service))
    except UpdateError as err:
        st.error(markdown_text(err))
        return
    st.session_state.pop(f"box-drawn-{product_id}", None)
    st.session_state[f"box-drawings-{product_id}"] = st.session_state.get(f"box-drawings-{product_id}", 0) + 1
    st.session_state[f"box-open-{product_id}"] = True
    st.session_state[f"box-done-{product_id}"] = done
    st.rerun()


def _fmt(box) -> str:
    """'(12, 40, 230, 200)'."""
    return "(" + ", ".join(f"{v:.0f}" for v in box) + ")"


def _when(at: float) -> str:
    """A stored time as 'YYYY-MM-DD HH:MM UTC'."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))
