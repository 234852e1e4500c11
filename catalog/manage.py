"""Add products to a built catalogue and remove them, in place: no rebuild, and later builds keep the edits.

Each edit is saved in `engine.curation.managed_products` (one transaction, with who and when), then applied to the
index under its writer lock and saved as a new version (`catalog.updater.editing`): a failure leaves the
live version as it was, and the next build applies what was saved. Added products' photos are in the
index's managed folder (`catalog.uploads.store_photo`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from catalog.updater import Updater, editing, with_product_columns
from engine.curation.catalogue_files import MANAGED_PREFIX, is_managed, managed_dir
from engine.curation.managed_products import ManagedProducts


@dataclass
class EditReport:
    """Product ids changed, and (product id, reason) pairs that were not."""

    done: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def add_products(index_dir: str | Path, products: list[dict], who: str = "", updater=None, progress=None):
    """Embed and add products (dicts from `catalog.uploads`); `progress(done, total)` is called per batch."""
    updater = Updater.for_index(index_dir) if updater is None else updater.bound_to(index_dir)
    report = EditReport()
    with editing(index_dir) as index:
        fresh = _addable(products, index.meta, report)
        ManagedProducts(index_dir).add(fresh, who)
        rows, vectors, failures = updater.embed(
            [p["image"] for p in fresh], index.next_id, progress=progress, products=fresh
        )
        failed = {image for image, _ in failures}
        for product in fresh:
            if product["image"] in failed:
                report.refused.append((product["product_id"], dict(failures)[product["image"]]))
        ManagedProducts(index_dir).remove([p["product_id"] for p in fresh if p["image"] in failed], who)
        fresh = [p for p in fresh if p["image"] not in failed]
        if fresh:
            by_image = {p["image"]: _numeric_price(p) for p in fresh}
            parts = [with_product_columns(part, by_image[image]) for image, part in rows.groupby("image", sort=False)]
            index.add(vectors, pd.concat(parts, ignore_index=True))
        report.done = [p["product_id"] for p in fresh]
    return report


def remove_products(index_dir: str | Path, product_ids: list[str], who: str = "") -> EditReport:
    """Remove products from the index (added ones lose their managed photo too)."""
    report = EditReport()
    with editing(index_dir) as index:
        known = set(index.meta["product_id"])
        report.refused = [(pid, "not in the catalogue") for pid in product_ids if pid not in known]
        report.done = [pid for pid in product_ids if pid in known]
        freed = ManagedProducts(index_dir).remove(report.done, who)
        index.remove(index.meta.loc[index.meta["product_id"].isin(report.done), "id"].to_numpy())
    for image in freed:  # only after the index no longer names them
        if is_managed(image):
            (managed_dir(index_dir) / image[len(MANAGED_PREFIX) :]).unlink(missing_ok=True)
    return report


def _addable(products: list[dict], meta: pd.DataFrame, report: EditReport) -> list[dict]:
    """The products whose id and photo are new to the catalogue; the others go to `report.refused`."""
    ids, images, fresh = set(meta["product_id"]), dict(zip(meta["image"], meta["product_id"])), []
    for product in products:
        if product["product_id"] in ids:
            report.refused.append((product["product_id"], "a product with this id is already in the catalogue"))
        elif product["image"] in images:
            report.refused.append((product["product_id"], f"the same photo is already '{images[product['image']]}'"))
        else:
            fresh.append(product)
            ids.add(product["product_id"])
            images[product["image"]] = product["product_id"]
    return fresh


def _numeric_price(product: dict) -> dict:
    """The product with its price as a float (NaN when missing), as builds store it."""
    price = product.get("price")
    try:
        price = float(price)
    except (TypeError, ValueError):
        price = math.nan
    return {**product, "price": price}
