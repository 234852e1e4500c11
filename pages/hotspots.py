"""The hotspot view of shop the whole room: a custom Streamlit component (plain HTML/JS in `room_frontend/`).

The photo is drawn with one dot per object; hovering or clicking a dot opens its product card, and clicking the
card returns that hotspot's number to Python, which then draws its full grid. No build step, nothing external.
"""

from __future__ import annotations

from pathlib import Path

import streamlit.components.v1 as components
from PIL import Image

import engine
from engine.search import Hotspot
from pages.shared import data_uri, display_name, jpeg_bytes, live_url, plain, product_thumbnail

FRONTEND = Path(__file__).resolve().parent / "room_frontend"
PHOTO_SIDE = 1600  # the photo is sent at most this big: sharp on a projector, light on the wire
CARD_THUMB = 320
_component = components.declare_component("room_hotspots", path=str(FRONTEND))


def hotspot_view(image: Image.Image, photo_key: str, hotspots: list[Hotspot], service: engine.Lookalike, key: str):
    """Draw the photo with its hotspots; (hotspot index, click time) of the last card clicked, or None."""
    value = _component(
        photo=data_uri(jpeg_bytes(image, PHOTO_SIDE)),
        photo_key=photo_key,
        aspect=image.width / max(1, image.height),
        hotspots=[_card(h, image.size, service) for h in hotspots],
        key=key,
        default=None,
    )
    picked, at = (value.get("hotspot"), value.get("at")) if isinstance(value, dict) else (None, None)
    valid = isinstance(picked, int) and 0 <= picked < len(hotspots) and isinstance(at, int | float)
    return (picked, at) if valid else None


def _card(hotspot: Hotspot, size: tuple[int, int], service: engine.Lookalike) -> dict:
    """What the component shows for one hotspot: plain text only (the frontend sets it as textContent)."""
    x, y = hotspot.centre(size)
    spot = {"x": round(x, 5), "y": round(y, 5), "label": plain(hotspot.label)}
    match: engine.Match | None = hotspot.match
    if match is None:
        return spot | {"name": "No product passes the filters", "category": "", "price": "", "score": "", "thumb": ""}
    price = "" if match.price is None else f"{match.price:,.2f} {plain(match.currency)}".strip()
    return spot | {
        "name": display_name(match.name),
        "category": plain(match.category),
        "price": price,
        "score": f"match {match.score:.3f}",
        "thumb": data_uri(product_thumbnail(service, match.image, match.content_hash, CARD_THUMB)),
        "url": live_url(match.url) or "",
    }
