"""Shop the look: upload a room photo, click a detected object (or draw a box), get lookalike products."""

from __future__ import annotations

import hashlib
import time

import streamlit as st
from streamlit.errors import StreamlitAPIException

import engine
from engine.detection import distinct_detections
from engine.draw import crop, draw_boxes
from engine.geometry import box_at_click
from engine.images import was_downscaled
from engine.search import check_query_photo, product_shot_box
from pages.click_photo import click_photo
from pages.curation import curation_panel
from pages.goes_with import goes_with_row, lookalike_anchors
from pages.handoff import handed_frame
from pages.loading import service_or_stop
from pages.media import served_url
from pages.navigation import routed_through_app
from pages.refine import refined_grid
from pages.shared import (
    UPLOAD_TYPES,
    canvas_shape,
    data_uri,
    jpeg_bytes,
    markdown_text,
    sample_rooms,
    sample_title,
    search_controls,
    sidebar_facts,
)

CANVAS_WIDTH = 820
MIN_DRAG = 8  # canvas pixels; a smaller rectangle counts as a click
TOOLBAR_CLEARANCE = 24  # CSS pixels of space above the canvas (plus the 16 px element gap) for its hover toolbar
CLICK, DRAW = "Click an object", "Draw a box"
WHOLE_PHOTO = "whole photo"  # the label of the box a product shot starts with
HOW_TO = (
    "**1.** Pick a room photo · **2.** Click an outlined object, pick it in the list of objects, or draw a box "
    "around anything · **3.** See the catalogue products that look most like it, best match first."
)
NEXT_STEP = "Try another photo (JPEG, PNG, WebP or HEIC), or pick a sample room."


def shop_page() -> None:
    """Read the photo, show boxes on a clickable canvas, search the selection, draw the grid."""
    service = service_or_stop()
    sidebar_facts(service)
    st.title("Shop the look")
    st.caption(HOW_TO)
    photo = choose_photo()
    if photo is None:
        st.info("Upload a room photo, take one with the camera, or pick a sample to start.")
        return
    state = analysed(service, photo)
    if state is not None:
        photo_and_grid(service, state)


@st.fragment
def photo_and_grid(service: engine.Lookalike, state: dict) -> None:
    """The clickable photo and the grid of its selection: a click, a chip or a filter reruns only this part."""
    selected = clickable_photo(state)
    if selected is None:
        return
    k, filters = search_controls(service, key="shop")
    started = time.perf_counter()
    if selected["label"] == WHOLE_PHOTO:  # a product shot: its catalogue original, if any, comes first
        matches, _, _ = service.search_photo(state["analysis"], k=k, filters=filters)
    else:
        matches = service.search_box(state["analysis"], selected["box"], k=k, filters=filters)
    elapsed = (time.perf_counter() - started) * 1000
    st.subheader(f"Products like {selected['label']}")
    st.caption(f"Embedded and searched in {elapsed:.0f} ms · detection took {state['detect_ms']:.0f} ms")
    target = crop(state["image"], selected["box"])
    matches = refined_grid(
        service, state["analysis"], selected["box"], target, selected["label"], matches, k, filters, "shop"
    )
    goes_with_row(service, lookalike_anchors(matches))
    curation_panel(service, target, selected["box"], matches)


def choose_photo() -> tuple[str, bytes] | None:
    """(name, bytes) from an upload, the camera or a sample room photo (or a frame opened from a video)."""
    if handed := handed_frame():
        return handed
    samples = sample_rooms()
    sources = ["Upload", "Camera"] + (["Sample photo"] if samples else [])
    source = st.radio("Photo", sources, horizontal=True, key="source", index=len(sources) - 1)
    if source == "Upload":
        upload = st.file_uploader("Room photo", type=UPLOAD_TYPES, key="upload")
        return (upload.name, upload.getvalue()) if upload else None
    if source == "Camera":
        shot = st.camera_input("Take a photo", key="camera")
        return ("camera.jpg", shot.getvalue()) if shot else None
    pick = st.selectbox("Sample room", list(samples), format_func=sample_title, key="sample")
    return (pick, samples[pick].read_bytes()) if pick else None


def analysed(service: engine.Lookalike, photo: tuple[str, bytes]) -> dict | None:
    """Decode and detect once per distinct photo; kept in the session so clicks cost no forward pass.

    `boxes` holds the distinct detections first (`n_shown` of them, drawn by default), then the other
    candidates ("show more"), then the boxes the shopper draws. A product shot starts with the whole photo
    selected, so its lookalikes show at once.
    """
    digest = hashlib.sha1(photo[1]).hexdigest()
    state = st.session_state.get("photo")
    if state and state["digest"] == digest:
        return state
    try:
        image = engine.load_image(photo[1])
        check_query_photo(image)
    except engine.ImageLoadError as err:
        st.error(f"Cannot use “{markdown_text(photo[0])}”: {markdown_text(err)} {NEXT_STEP}")
        return None
    started = time.perf_counter()
    analysis = service.analyse(image)
    detect_ms = (time.perf_counter() - started) * 1000
    shown, rest = distinct_detections(analysis.detections)
    found = [analysis.detections[i] for i in shown + rest]
    boxes = [d.box for d in found]
    labels = [f"{d.class_name} {d.confidence:.2f}" for d in found]
    state = {"digest": digest, "image": image, "analysis": analysis, "detect_ms": detect_ms, "events": 0}
    state |= {"boxes": boxes, "labels": labels, "n_shown": len(shown), "selected": None, "handled": {}}
    state["note"] = _downscale_note(image)
    shot = product_shot_box(image)  # the product's box, as the catalogue indexes product shots
    if shot is not None:
        state["boxes"].insert(0, shot)
        state["labels"].insert(0, WHOLE_PHOTO)
        state |= {"n_shown": len(shown) + 1, "selected": 0}
    st.session_state["photo"] = state
    return state


def _downscale_note(image) -> str:
    """'Your 48 MP photo was reduced to 12 MP (4,000 × 3,000) for searching.', or '' when it was not."""
    if not was_downscaled(image):
        return ""
    megapixels = image.info["original_pixels"] / 1e6
    return (
        f"Your {megapixels:.0f} MP photo was reduced to {image.width * image.height / 1e6:.0f} MP "
        f"({image.width:,} × {image.height:,} pixels) for searching; the results are the same."
    )


def visible_boxes(state: dict, show_all: bool) -> list[int]:
    """Indices of the boxes on the canvas: the distinct ones (or every candidate), plus the drawn ones."""
    candidates = len(state["analysis"].detections) + (state["labels"][:1] == [WHOLE_PHOTO])
    first = range(candidates if show_all else state["n_shown"])
    return [*first, *range(candidates, len(state["boxes"]))]


def clickable_photo(state: dict) -> dict | None:
    """The photo with its boxes, to click or draw on; returns the selected {'box', 'label'} or None."""
    image = state["image"]
    found = len(state["analysis"].detections)
    mode = st.radio(
        "Select", [CLICK, DRAW], index=0 if found else 1, horizontal=True, key="mode", label_visibility="collapsed"
    )
    hidden = found - state["n_shown"] + (state["labels"][:1] == [WHOLE_PHOTO])
    show_all = hidden > 0 and st.toggle(f"Show {hidden} more candidate boxes", key="show-all")
    visible = visible_boxes(state, show_all)
    st.caption(_selection_hint(state, len(visible), mode) + (f" {state['note']}" if state["note"] else ""))
    object_list(state, visible)
    scale = min(1.0, CANVAS_WIDTH / image.width)
    selected = visible.index(state["selected"]) if state["selected"] in visible else None
    background, background_jpeg = _background(state, visible, selected, scale)
    src = served_url(background_jpeg, "canvas") or data_uri(background_jpeg)  # by URL: fetched once per drawing
    key = f"canvas-{state['digest'][:12]}-{mode == CLICK}-{show_all}"
    if mode == CLICK:  # one element for the photo's life: a click changes only its image
        click_photo(src, background.width, background.height, key, lambda x, y: _select_at(state, visible, x, y, scale))
    else:
        st.space(TOOLBAR_CLEARANCE)  # the drawing canvas's toolbar shows 2.65rem above it on hover: off the chips
        _drawing_canvas(state, visible, src, background.size, f"{key}-{state['events']}", scale)
    if state["selected"] is None:
        return None
    return {"box": state["boxes"][state["selected"]], "label": state["labels"][state["selected"]]}


def _drawing_canvas(state: dict, visible: list[int], src: str, size: tuple[int, int], key: str, scale: float) -> None:
    """The photo on a canvas to drag a rectangle on; a fresh canvas (new key) after each event clears the marks."""
    from streamlit_drawable_canvas import st_canvas  # needs a running Streamlit (components v2)

    result = st_canvas(
        background_image=src,
        width=size[0],
        height=size[1],
        drawing_mode="rect",
        stroke_width=3,
        stroke_color="#ffffff",
        fill_color="rgba(255, 255, 255, 0.15)",
        update_streamlit=True,
        key=key,
        on_change=lambda: _canvas_changed(state, visible, key, scale),  # before the run: one run per drag
    )
    if _apply_canvas_event(state, visible, key, result.json_data, scale):
        _redraw()  # only when the callback did not see the event: redraw with the new selection


def object_list(state: dict, visible: list[int]) -> None:
    """The shown objects as chips: another way to pick one, including a box covered by smaller ones."""
    if not visible:
        return
    key = f"objects-{state['digest'][:12]}-{state['events']}"  # fresh chips after each pick: no stale value
    labels = {i: state["labels"][i] for i in visible}
    picked = st.pills("Objects in the photo", visible, format_func=labels.get, key=key)
    if picked is not None:
        state["selected"] = picked
        state["events"] += 1
        _redraw()  # the photo with the pick highlighted


def _redraw() -> None:
    """Run the photo and its grid again: only them in a fragment run, the whole page in a full run."""
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:  # the fragment ran as part of the page's run
        st.rerun()


def _background(state: dict, visible: list[int], selected: int | None, scale: float):
    """The photo with its boxes drawn, and as JPEG; redrawn only when the boxes or the selection change."""
    key = (tuple(visible), selected, scale)
    if state.get("background", (None,))[0] != key:
        boxes, labels = [state["boxes"][i] for i in visible], [state["labels"][i] for i in visible]
        drawn = draw_boxes(state["image"], boxes, labels, selected, scale)
        state["background"] = (key, drawn, jpeg_bytes(drawn))
    return state["background"][1:]


def _selection_hint(state: dict, n_visible: int, mode: str) -> str:
    """'5 objects shown, 1 drawn by you. Click inside a box to search for it.'"""
    drawn = sum(label.startswith("your box") for label in state["labels"])
    objects = n_visible - drawn
    text = f"{objects} object{'s' * (objects != 1)} shown" + (f", {drawn} drawn by you. " if drawn else ". ")
    if mode == DRAW:
        return text + "Drag a rectangle around any product."
    return text + "Click inside a box to search for it (click again to pick a larger box under the same spot)."


def _canvas_changed(state: dict, visible: list[int], canvas_key: str, scale: float) -> None:
    """The canvas's callback: apply its event before the run, so the run draws the new selection and its grid."""
    value = st.session_state.get(canvas_key) or {}
    drawing = value.get("drawing") or {}
    _apply_canvas_event(state, visible, canvas_key, drawing.get("raw"), scale)


def _apply_canvas_event(state: dict, visible: list[int], canvas_key: str, json_data: dict | None, scale: float) -> bool:
    """Turn a canvas's newest object into a selection: a click picks a visible box, a drag adds and picks one.

    Returns whether the selection changed.
    """
    objects = (json_data or {}).get("objects") or []
    event = (len(objects), objects[-1].get("left"), objects[-1].get("top")) if objects else None
    if event is None or state["handled"].get(canvas_key) == event:
        return False  # nothing new from this canvas (reruns replay the last value of every canvas)
    state["handled"][canvas_key] = event
    state["events"] += 1  # a fresh drawing canvas (the dragged rectangle goes) and fresh chips
    kind, geometry = canvas_shape(objects[-1], MIN_DRAG)
    if kind == "box":
        state["boxes"].append(tuple(v / scale for v in geometry))
        state["labels"].append(f"your box {sum(label.startswith('your box') for label in state['labels']) + 1}")
        state["selected"] = len(state["boxes"]) - 1
        return True
    return _select_at(state, visible, *geometry, scale)


def _select_at(state: dict, visible: list[int], x: float, y: float, scale: float) -> bool:
    """A click at canvas pixel (x, y) picks the visible box under it (again: the next larger one); whether it did."""
    boxes = [state["boxes"][i] for i in visible]
    current = visible.index(state["selected"]) if state["selected"] in visible else None
    picked = box_at_click(boxes, x / scale, y / scale, current)
    if picked is None:
        st.toast("No object there: click inside a box, or switch to “Draw a box”.")
        return False
    state["selected"] = visible[picked]
    state["events"] += 1  # fresh chips: no stale pick
    return True


if routed_through_app():
    shop_page()
