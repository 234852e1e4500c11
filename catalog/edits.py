"""The curators' edits as a build sees them: products added and removed, and curated boxes to keep.

`catalog.build` reads the product table, then `edited_table` applies the additions and removals stored next
to the index, and `curated_entries` says which photos carry a curated box (only while the photo is the one
the box was drawn on). `out_of_step` lists the photos whose index entries disagree with their curated box, so
an incremental build re-embeds them even when the photo itself did not change.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engine.curation.curated_boxes import FILENAME as BOXES_FILE
from engine.curation.curated_boxes import CuratedBoxes
from engine.curation.managed_products import FILENAME as MANAGED_FILE
from engine.curation.managed_products import ManagedProducts, apply_edits

CURATED = "curated"  # the `kind` of a curated box's index entry
BOX_TOLERANCE = 0.05  # pixels: an index entry matches its curated box up to rounding


def edited_table(out_dir: str | Path, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The product table with the curators' additions and removals (unchanged when there are none)."""
    if not (Path(out_dir) / MANAGED_FILE).is_file():
        return frame, []
    return apply_edits(frame, ManagedProducts(out_dir))


def curated_entries(out_dir: str | Path, frame: pd.DataFrame, hashes: dict[str, str]) -> tuple[dict, list[str]]:
    """{image: (box, keep_objects)} for the products with a curated box on their current photo; problems."""
    if not (Path(out_dir) / BOXES_FILE).is_file():
        return {}, []
    images = dict(zip(frame["product_id"], frame["image"]))
    curated, problems = {}, []
    for product_id, box in CuratedBoxes(out_dir).all().items():
        image = images.get(product_id)
        if image is None:
            continue  # the product is not in the catalogue (any more)
        if image != box.image or hashes.get(image) != box.content_hash:
            problems.append(f"curated box of '{product_id}' ignored: its photo changed since (set it again)")
            continue
        curated[image] = (box.box, box.keep_objects)
    return curated, problems


def out_of_step(meta: pd.DataFrame, curated: dict) -> set[str]:
    """Images whose index entries do not match their curated box (or still carry one that was cleared)."""
    boxes = meta[meta["kind"] == CURATED].set_index("image")[["x0", "y0", "x1", "y1"]]
    with_objects = set(meta.loc[meta["kind"] == "object", "image"])
    stale = {image for image in boxes.index if image not in curated}
    indexed = set(meta["image"])
    for image, (box, keep) in curated.items():
        if image not in indexed:
            continue  # a new photo: embedded anyway
        moved = image not in boxes.index or max(abs(a - b) for a, b in zip(boxes.loc[image], box)) > BOX_TOLERANCE
        if moved or (not keep and image in with_objects):
            stale.add(image)
    return stale
