"""A curator's own box for a catalogue product: stored, and the product re-embedded in place, without a rebuild.

`set_box` saves the box (`engine.curation.curated_boxes`, with who and when) and replaces the product's index entries
by the curated box and its whole photo (plus the detected objects when `keep_objects`); `clear_box` goes back
to detection. The store is written first: if the index update were interrupted, the next build applies the
box anyway (`catalog.edits.out_of_step`).
"""

from __future__ import annotations

from pathlib import Path

from catalog.embed_images import OBJECT_COLUMNS
from catalog.updater import UpdateError, Updater, editing, file_sha1, product_rows, replace_rows, with_product_columns
from engine.curation.curated_boxes import CuratedBox, CuratedBoxes
from engine.images import ImageLoadError, load_image

MIN_SIDE = 4  # pixels: a curated box narrower or lower than this is refused


def set_box(
    index_dir: str | Path, product_id: str, box, who: str = "", keep_objects: bool = False, updater=None
) -> CuratedBox:
    """Make `box` (x0, y0, x1, y1 in pixels of the product's photo) the product's own box and re-embed it."""
    updater = Updater.for_index(index_dir) if updater is None else updater.bound_to(index_dir)
    with editing(index_dir) as index:
        rows = product_rows(index, product_id)
        image, content_hash = rows["image"].iloc[0], rows["content_hash"].iloc[0]
        picture = _current_photo(updater, image, content_hash)
        box = checked_box(box, picture.size)
        saved = CuratedBoxes(index_dir).set(CuratedBox(product_id, image, content_hash, box, keep_objects, who))
        _reembed(index, updater, rows, {image: (box, keep_objects)})
    return saved


def clear_box(index_dir: str | Path, product_id: str, who: str = "", updater=None) -> bool:
    """Forget the product's curated box and index it from detection again; whether it had one."""
    updater = Updater.for_index(index_dir) if updater is None else updater.bound_to(index_dir)
    with editing(index_dir) as index:
        rows = product_rows(index, product_id)
        had = CuratedBoxes(index_dir).clear(product_id, who)
        _reembed(index, updater, rows, {})
    return had


def checked_box(box, size: tuple[int, int]) -> tuple[float, float, float, float]:
    """The box clipped to the photo; `UpdateError` when it is upside down or too small there."""
    x0, y0, x1, y1 = (float(v) for v in box)
    width, height = size
    x0, x1 = max(0.0, x0), min(float(width), x1)
    y0, y1 = max(0.0, y0), min(float(height), y1)
    if x1 - x0 < MIN_SIDE or y1 - y0 < MIN_SIDE:
        raise UpdateError(f"The box {tuple(box)} leaves less than {MIN_SIDE} pixels inside the {width}x{height} photo.")
    return (x0, y0, x1, y1)


def _current_photo(updater: Updater, image: str, content_hash: str):
    """The product photo, if it is still the one that was indexed."""
    path = updater.files.path(image)
    if file_sha1(path) != content_hash:
        raise UpdateError(f"The photo '{image}' changed since the index was built; rebuild the index first.")
    try:
        return load_image(path)
    except ImageLoadError as err:
        raise UpdateError(f"Cannot read the photo '{image}': {err}") from err


def _reembed(index, updater: Updater, old, curated: dict) -> None:
    """Replace a product's entries by the ones its build would make now (with or without a curated box)."""
    image = old["image"].iloc[0]
    rows, vectors, failures = updater.embed([image], index.next_id, curated, products=old)
    if failures:
        raise UpdateError(f"Cannot embed '{image}': {failures[0][1]}")
    product = old.iloc[0].drop(labels=OBJECT_COLUMNS).to_dict()
    replace_rows(index, old, with_product_columns(rows, product), vectors)
