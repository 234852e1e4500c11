"""Streamlit pieces shared by the pages: cached resources, the sidebar, search controls and the T/M grid."""

from __future__ import annotations

import base64
import html
import re
import string
from pathlib import Path
from urllib.parse import quote, urlsplit

import streamlit as st
from PIL import Image

import engine
from catalog import background
from engine.detection import is_model_yaml
from engine.settings import sample_rooms_dir
from engine.thumbnails import thumbnail_jpeg
from pages.media import image_src

GRID_COLUMNS = 5
THUMB_SIZE = 320
LINE_BREAKS = re.compile("[\n\r\t\v\f\x85\u2028\u2029]+")
INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")  # controls, bidi
MARKDOWN_SPECIAL = re.compile(f"[{re.escape(string.punctuation)}]")  # CommonMark: any ASCII punctuation escapes
WORD_JOINER = "\u2060"  # invisible, no width: splits what GFM would autolink without changing what is shown
AUTOLINK_SEAMS = re.compile(r"(?<=:)(?=/)|(?<=www)(?=\.)|(?=@)", re.IGNORECASE)  # "http:|//", "www|.", "|@"
LIVE_SCHEMES = ("http", "https")
UNNAMED = "Unnamed product"
UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "heic", "heif", "avif", "tif", "tiff", "bmp", "gif"]  # engine.images


def sample_rooms() -> dict[str, Path]:
    """The sample room photos by file name (empty when the demo catalogue is absent)."""
    folder = sample_rooms_dir()
    return {path.name: path for path in sorted(folder.glob("*.jpg"))} if folder.is_dir() else {}


def sample_title(name: str) -> str:
    """'ikea-a-cosy-space-for-coffee__136-s4.jpg' -> 'A cosy space for coffee'."""
    words = Path(name).stem.split("__")[0].removeprefix("ikea-").replace("-", " ")
    return words[:1].upper() + words[1:]


def sidebar_facts(service: engine.Lookalike, details: bool = False) -> None:
    """The catalogue's size (and, with `details`, for curators, its index facts), and whether it is being updated."""
    manifest = service.index.manifest
    detector = manifest["detector"]
    with st.sidebar:
        if details:
            st.subheader("Catalogue index")
            st.markdown(index_facts(service))
        else:
            st.markdown(f"**Products:** {manifest['n_products']:,}")
        building = background.status(service.index_dir)
        if building.state == background.RUNNING:
            st.info(
                f"This catalogue is being updated in the background ({building.done:,} of {building.total:,} "
                "photos in this pass); searches move to the new index by themselves when it is ready."
            )
        if is_model_yaml(detector["weights"]):
            st.warning(
                "The detector has **random weights** (no trained checkpoint in `models/`): it finds no objects "
                "by itself. Draw a box around a product to search."
            )


def index_facts(service: engine.Lookalike) -> str:
    """The index's facts as a markdown list: products, objects, embedding, detector weights, build time."""
    manifest = service.index.manifest
    detector = manifest["detector"]
    return (
        f"- **Products:** {manifest['n_products']:,}\n"
        f"- **Indexed objects:** {manifest['n_vectors']:,} ({manifest['n_objects']:,} detected)\n"
        f"- **Embedding:** {embedding_label(manifest['embedding'])}, {manifest['dim']}-d\n"
        f"- **Weights:** {markdown_text(Path(str(detector['weights'])).name)} "
        f"({markdown_text(str(detector['weights_sha256'])[:10])})\n"
        f"- **Built:** {markdown_text(manifest['built_at'])}"
    )


def embedding_label(embedding: dict) -> str:
    """'effnet-crop', or 'effnet-crop + head head-effnet.pt' when the index was built with a head (markdown text:
    the manifest's names are shown as text)."""
    head = embedding.get("head")
    return markdown_text(embedding["name"]) + (f" + head {markdown_text(Path(str(head)).name)}" if head else "")


def search_controls(service: engine.Lookalike, key: str) -> tuple[int, engine.SearchFilters]:
    """k, category and price widgets -> (k, filters)."""
    meta = service.index.meta
    categories = sorted(c for c in meta["category"].dropna().unique() if c)
    prices = meta["price"].dropna()
    left, middle, right = st.columns([1, 2, 2])
    k = left.slider("Matches", 1, 30, 10, key=f"{key}-k")
    chosen = middle.multiselect("Categories", categories, key=f"{key}-categories", placeholder="All categories")
    low, high = (float(prices.min()), float(prices.max())) if len(prices) else (0.0, 0.0)
    price = (low, high)
    if high > low:
        price = right.slider("Price", low, high, (low, high), key=f"{key}-price")
    filters = engine.SearchFilters(
        categories=tuple(chosen),
        price_min=price[0] if price[0] > low else None,
        price_max=price[1] if price[1] < high else None,
    )
    return k, filters


def canvas_shape(shape: dict, min_drag: float) -> tuple[str, tuple[float, ...]]:
    """A Fabric.js object from the canvas -> ("box", (x0, y0, x1, y1)) or ("click", (x, y)), canvas pixels.

    Rect objects carry exact left/top/width/height. Point-mode objects are Circles whose `left` sits at
    click x - radius - stroke/2 (origin left) and `top` at click y (origin centre). A rectangle smaller
    than `min_drag` on a side counts as a click at its centre.
    """
    width = float(shape.get("width", 0)) * float(shape.get("scaleX", 1))
    height = float(shape.get("height", 0)) * float(shape.get("scaleY", 1))
    stroke = float(shape.get("strokeWidth", 0)) / 2 if str(shape.get("type", "")).lower() == "circle" else 0.0
    left = float(shape.get("left", 0)) - ORIGIN[shape.get("originX", "left")] * width + stroke
    top = float(shape.get("top", 0)) - ORIGIN[shape.get("originY", "top")] * height
    if str(shape.get("type", "")).lower() == "rect" and min(width, height) >= min_drag:
        return "box", (left, top, left + width, top + height)
    return "click", (left + width / 2, top + height / 2)


ORIGIN = {"left": 0.0, "top": 0.0, "center": 0.5, "right": 1.0, "bottom": 1.0}


def product_thumbnail(service: engine.Lookalike, image: str, content_hash: str = "", size: int = THUMB_SIZE) -> bytes:
    """A catalogue photo's JPEG thumbnail: the one stored at build time when it fits, a grey square when unreadable."""
    return _thumbnail(service, str(service.index_dir), str(image), str(content_hash or ""), size)


@st.cache_data(max_entries=4096, show_spinner=False)
def _thumbnail(_service: engine.Lookalike, index_dir: str, image: str, content_hash: str, size: int) -> bytes:
    """`product_thumbnail`, cached per index, photo and size (`_service` is not part of the key)."""
    try:
        return _service.thumbnail(image, content_hash, size)
    except (engine.ImageLoadError, OSError, ValueError):  # ValueError: a path outside the catalogue
        return jpeg_bytes(Image.new("RGB", (size, size), (200, 200, 200)))


def data_uri(jpeg: bytes) -> str:
    """Inline an image in HTML."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()


def result_grid(
    target: Image.Image, target_caption: str, matches: list[engine.Match], service: engine.Lookalike
) -> None:
    """The T tile (the query crop) then M1..Mk tiles with score, name, price, category and links."""
    if not matches:
        st.info("No catalogue product passes the current filters.")
        return
    tiles = [("T", image_src(jpeg_bytes(target, THUMB_SIZE), "grid-T"), html_text(target_caption), "")]
    for m in matches:  # by URL: the browser fetches a product's thumbnail once, not in every run's message
        details = html_text("; ".join(f"{key}: {value}" for key, value in m.extra.items()))
        thumb = image_src(product_thumbnail(service, m.image, m.content_hash), f"grid-M{m.rank}")
        tiles.append((f"M{m.rank}", thumb, _caption(m), details))
    st.markdown(_grid_html(tiles), unsafe_allow_html=True)


def _caption(m: engine.Match) -> str:
    """HTML caption for a match tile; a field the catalogue lacks (price, category, link) is left out."""
    price = "" if m.price is None else f"{m.price:,.2f} {html_text(m.currency)}<br>"
    category = f"<i>{html_text(m.category)}</i><br>" if plain(m.category).strip() else ""
    similar = product_href(m.product_id)
    href = live_href(m.url)
    link = f'<a href="{href}" target="_blank" rel="noopener noreferrer">View product ↗</a> · ' if href else ""
    extras = " · ".join(html_text(v) for v in list(m.extra.values())[:3] if len(str(v)) <= 40)
    return (
        f"{score_badge(m)}<br><b>{html_text(display_name(m.name))}</b><br>"
        f"{price}{category}" + (f'<span class="extra">{extras}</span><br>' if extras else "") + f"{link}"
        f'<a href="{similar}" target="_self">More like this</a>'
    )


def score_badge(m: engine.Match) -> str:
    """The tile's match score, the number the grid is ordered by; its hover text splits it into similarity + bonus."""
    similarity = m.score if m.similarity is None else m.similarity
    bonus = m.score - similarity
    parts = f"looks {similarity:.3f} alike"
    if bonus >= 5e-4:
        parts += f" + {bonus:.3f} for the kind of object, colour or words"
    elif bonus <= -5e-4:
        parts += f" − {-bonus:.3f} from re-ranking by shared neighbours"
    return f'<span class="score" title="Match score: {parts}">match {m.score:.3f}</span>'


def _grid_html(tiles: list[tuple[str, str, str, str]]) -> str:
    """A responsive grid of tagged image tiles (captions, details escaped); hovering shows every product column."""
    cells = "".join(
        f'<div class="ll-tile" data-tag="{tag}" title="{details}"><div class="ll-tag">{tag}</div>'
        f'<img src="{src}" alt="{tag}"/><div class="ll-cap">{caption}</div></div>'
        for tag, src, caption, details in tiles
    )
    return GRID_CSS + f'<div class="ll-grid" id="results">{cells}</div>'


def jpeg_bytes(image: Image.Image, max_side: int | None = None) -> bytes:
    """Encode an image as JPEG, shrunk to `max_side` first when given (the engine's encoder, as for thumbnails)."""
    return thumbnail_jpeg(image, max_side)


def product_href(product_id: str, page: str = "catalogue") -> str:
    """A link to a product's lookalikes on `page` ("" for this page) that keeps the catalogue this session searches.

    A link replaces the whole query string: without `catalogue=` it would open the default catalogue."""
    return f"{page}?product={quote_param(product_id)}" + _catalogue_param("&amp;")


def linked_tile(css_class: str, href: str, src: str, name: str, body: str) -> str:
    """A product tile that opens `href`: its image then `body` (`name`, `body` and `src` already escaped)."""
    return (
        f'<a class="{css_class}" href="{href}" target="_self" title="{name}"><img src="{src}" alt="{name}"/>{body}</a>'
    )


def catalogue_href() -> str:
    """A link to the catalogue gallery of the catalogue this session searches."""
    return "catalogue" + _catalogue_param("?")


def _catalogue_param(joiner: str) -> str:
    """'&amp;catalogue=NAME' (or '?catalogue=NAME') for the session's chosen catalogue, '' before one is chosen."""
    chosen = st.session_state.get("catalogue")
    return f"{joiner}catalogue={quote_param(chosen)}" if isinstance(chosen, str) and chosen else ""


def quote_param(text: str) -> str:
    """URL-encode a query parameter value."""
    return quote(text, safe="")


def plain(text) -> str:
    """Catalogue or URL text as one line: line breaks become spaces, control and bidi characters are dropped."""
    return INVISIBLE.sub("", LINE_BREAKS.sub(" ", str(text)))


def display_name(name) -> str:
    """A product's name as shoppers see it: 'Unnamed product' when the catalogue has none."""
    text = plain("" if name is None or name != name else name).strip()  # name != name: NaN
    return text or UNNAMED


def html_text(text) -> str:
    """Text for raw HTML (grid, gallery): one line (a blank line would end the HTML block), HTML-escaped."""
    return html.escape(plain(text))


def markdown_text(text) -> str:
    """Text for Streamlit markdown (titles, labels, messages, captions): one line, shown exactly as text.

    Every markdown character is escaped, and a word joiner splits what GitHub-flavoured markdown turns into a
    link by itself (bare `http://` and `https://` URLs, `www.` names, e-mail addresses): Streamlit finds those
    in the text after unescaping, so escaping alone leaves them live.
    """
    unlinked = AUTOLINK_SEAMS.sub(WORD_JOINER, plain(text))
    return MARKDOWN_SPECIAL.sub(lambda match: "\\" + match.group(), unlinked)


def live_url(url) -> str | None:
    """An http(s) URL with a host, as one line; None for anything else (data:, javascript:, relative)."""
    url = plain(url).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in LIVE_SCHEMES and parts.netloc else None


def live_href(url) -> str | None:
    """An escaped href for an http(s) URL with a host; None for anything else (data:, javascript:, relative)."""
    url = live_url(url)
    return None if url is None else html.escape(url)


GRID_CSS = """<style>
.ll-grid {display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 14px;}
.ll-tile {position: relative; border: 1px solid rgba(128,128,128,.35); border-radius: 8px; padding: 8px;
          background: rgba(255,255,255,.03);}
.ll-tile[data-tag="T"] {border: 2px solid #ff4b4b;}
.ll-tile img {width: 100%; aspect-ratio: 1; object-fit: contain; background: #fff; border-radius: 4px;}
.ll-tag {position: absolute; top: 4px; left: 4px; background: #ff4b4b; color: #fff; font-weight: 700;
         padding: 1px 8px; border-radius: 4px; font-size: .85rem;}
.ll-cap {font-size: .8rem; line-height: 1.3; margin-top: 6px;}
.ll-cap .score {font-family: monospace; color: #ff4b4b;}
.ll-cap .extra {opacity: .75;}
</style>"""
