"""Shop the whole room: every object of a photo as a hotspot with its best match; a card opens its full grid.

Every sample room has its own link, /room?photo=NAME (NAME is checked against the sample rooms; nothing else is
read). "Presenter mode" hides the app's chrome for a projector.
"""

from __future__ import annotations

import hashlib

import streamlit as st

import engine
from engine.draw import crop
from engine.search import check_query_photo, room_hotspots
from pages.goes_with import goes_with_row, lookalike_anchors
from pages.hotspots import hotspot_view
from pages.loading import service_or_stop
from pages.navigation import routed_through_app
from pages.shared import (
    UPLOAD_TYPES,
    markdown_text,
    result_grid,
    sample_rooms,
    sample_title,
    search_controls,
    sidebar_facts,
)

SAMPLE, UPLOAD = "Sample room", "Upload"
PRESENTER_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {display: none;}
.block-container {padding-top: 1rem; max-width: 100%;}
</style>"""


def room_page() -> None:
    """Pick or upload a photo, draw its hotspots, and the full grid of the hotspot whose card was clicked."""
    service = service_or_stop()
    sidebar_facts(service)
    title, toggle = st.columns([4, 1])
    title.title("Shop the whole room")
    if toggle.toggle("Presenter mode", key="room-present", value=st.query_params.get("present") == "1"):
        st.markdown(PRESENTER_CSS, unsafe_allow_html=True)
    photo = choose_room()
    if photo is None:
        return
    state = analysed_room(service, photo)
    if state is None:
        return
    hotspots = state["hotspots"]
    if not hotspots:
        st.warning("No object was found in this photo. Try “Shop the look” and draw a box around a product.")
        return
    count = f"{len(hotspots)} object{'s' * (len(hotspots) != 1)}"
    st.caption(f"{count} · hover or click a dot to see its best match, click the card for all its lookalikes")
    token = state["digest"][:12]
    clicked = hotspot_view(state["image"], token, hotspots, service, key=f"room-{token}")
    if clicked is not None and clicked != state.get("opened"):  # a new card click (reruns repeat the last one)
        state["opened"] = clicked
        hotspot_grid(service, state, clicked[0])


def choose_room() -> tuple[str, bytes] | None:
    """(name, bytes) of the sample room in the URL or picked (the URL follows the pick), or of an upload."""
    samples = sample_rooms()
    source = st.radio("Photo", [SAMPLE, UPLOAD] if samples else [UPLOAD], horizontal=True, key="room-source")
    if source == UPLOAD:
        st.query_params.pop("photo", None)
        upload = st.file_uploader("Room photo", type=UPLOAD_TYPES, key="room-upload")
        return (upload.name, upload.getvalue()) if upload else None
    pick = sample_picker(samples)
    return None if pick is None else (pick, samples[pick].read_bytes())


def sample_picker(samples: dict) -> str | None:
    """The sample-room selectbox, kept in step with ?photo=NAME; an unknown NAME is shown as text, never read."""
    requested = st.query_params.get("photo")
    if requested is not None and requested not in samples:
        st.error(f"There is no sample room “{markdown_text(requested)}”. Choose one below.")
    elif requested != st.session_state.get("room-url"):  # a new link: it decides the room
        st.session_state["room-url"] = requested
        st.session_state["room-sample"] = requested or next(iter(samples))
    elif "room-sample" not in st.session_state:
        st.session_state["room-sample"] = next(iter(samples))
    names = list(samples)
    pick = st.selectbox("Sample room", names, None, sample_title, key="room-sample", placeholder="Choose a room")
    if pick is not None and pick != requested:
        st.query_params["photo"] = st.session_state["room-url"] = pick
    return pick


def analysed_room(service: engine.Lookalike, photo: tuple[str, bytes]) -> dict | None:
    """Decode, detect and match once per distinct photo (kept in the session)."""
    digest = hashlib.sha1(photo[1]).hexdigest()
    state = st.session_state.get("room")
    if state and state["digest"] == digest:
        return state
    try:
        image = engine.load_image(photo[1])
        check_query_photo(image)  # as the shop page: a photo too small to point at is refused with what to do
    except engine.ImageLoadError as err:
        st.error(f"Cannot use “{markdown_text(photo[0])}”: {markdown_text(err)}")
        return None
    with st.spinner("Finding every object and its best match…"):
        analysis = service.analyse(image)
        hotspots = room_hotspots(service, analysis)
    st.session_state["room"] = {"digest": digest, "image": image, "hotspots": hotspots}
    return st.session_state["room"]


@st.dialog("Lookalikes", width="large")
def hotspot_grid(service: engine.Lookalike, state: dict, picked: int) -> None:
    """The T/M grid of one hotspot, searched with its stored vector, over the photo."""
    hotspot = state["hotspots"][picked]
    st.subheader(f"Products like {markdown_text(hotspot.label)}")
    k, filters = search_controls(service, key="room")
    matches = service.search(hotspot.vector, k, filters, hotspot.kind)
    result_grid(crop(state["image"], hotspot.box), hotspot.label, matches, service)
    goes_with_row(service, lookalike_anchors(matches))


if routed_through_app():
    room_page()
