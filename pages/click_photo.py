"""A photo that reports where it was clicked: a small Streamlit component (components v2, inline JS, no build).

The shop page's "Click an object" mode used streamlit-drawable-canvas, which waits 200 ms after each mouse-up
before it tells Streamlit (it batches drawing strokes) and leaves a mark to clear. This one sends the click at once,
as a one-shot trigger (a rerun never replays it), and keeps the same element while only its image changes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

HTML = '<div class="ll-click-root"></div>'
CSS = ".ll-photo {display: block; cursor: crosshair; user-select: none; max-width: none;}"
JS = """
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".ll-click-root");
  let photo = root.querySelector("img.ll-photo");
  if (!photo) {
    photo = document.createElement("img");
    photo.className = "ll-photo";
    photo.alt = "The photo: click an object in it";
    photo.draggable = false;
    photo.addEventListener("click", (event) => {
      const frame = photo.getBoundingClientRect();
      const size = photo.__llSize;
      const x = (event.clientX - frame.left) * size[0] / frame.width;
      const y = (event.clientY - frame.top) * size[1] / frame.height;
      setTriggerValue("click", {x: x, y: y});
    });
    photo.addEventListener("error", () => {  // fetched while a run replaced it: ask again, a few times
      const tries = (photo.__llTries || 0) + 1;
      photo.__llTries = tries;
      const again = () => photo.setAttribute("src", photo.__llSrc + "?try=" + tries);
      if (tries <= 5 && photo.__llSrc.startsWith("http")) setTimeout(again, 200 * tries);
    });
    root.appendChild(photo);
  }
  photo.__llSize = [data.width, data.height];
  photo.style.width = data.width + "px";
  photo.style.height = data.height + "px";
  if (photo.__llSrc !== data.src) {
    photo.__llSrc = data.src;
    photo.__llTries = 0;
    photo.setAttribute("src", data.src);
  }
}
"""


@functools.cache
def _component():
    """The component, registered once per process (it needs a running Streamlit)."""
    return st.components.v2.component("lookalike.click_photo", html=HTML, css=CSS, js=JS)


def click_photo(src: str, width: int, height: int, key: str, on_click: Callable[[float, float], None]) -> None:
    """Show the image at width x height CSS pixels; a click calls `on_click(x, y)` (those pixels) before the run."""

    def clicked() -> None:
        value = st.session_state.get(key) or {}
        point = value.get("click") if hasattr(value, "get") else None
        if isinstance(point, dict) and all(isinstance(point.get(axis), int | float) for axis in "xy"):
            on_click(float(point["x"]), float(point["y"]))

    _component()(
        data={"src": src, "width": width, "height": height},
        key=key,
        on_click_change=clicked,
        width="content",
        height="content",
    )
