"""Products uploaded by a curator: one photo with its fields, or a CSV plus a zip of photos, read defensively.

Every photo goes through `engine.load_image` (formats, sizes and decompression bombs are checked there), is
re-encoded as a JPEG and written atomically into the index's managed folder under a name made from its
content (`@managed/<sha1>.jpg`): names inside a zip never become file names, so `..`, absolute paths and
links in a zip cannot write or read anywhere else. A zip is bounded in member count and in total
uncompressed size (declared and actually read); links, encrypted members and odd names are refused; after the
first member that fails to unpack nothing more is read from it, and checking one upload stops after
`MAX_BATCH_SECONDS`.
Each bad row or photo is listed with its reason and the others go on.
"""

from __future__ import annotations

import hashlib
import io
import re
import stat
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd

from catalog.csv_rows import TableError, parse_prices, read_rows
from engine.curation.catalogue_files import MANAGED_PREFIX, managed_dir
from engine.files import atomic_write_bytes
from engine.images import MAX_FILE_BYTES, ImageLoadError, load_image

MAX_ROWS = 5000  # products in one CSV
MAX_ZIP_MEMBERS = 5000
MAX_ZIP_BYTES = 2**30  # uncompressed, all members together
MAX_BATCH_SECONDS = 300  # checking one upload's photos stops after this; the remaining rows are listed
STORED_MAX_SIDE = 2048  # stored photos are shrunk to this side at most
FIELDS = ("name", "category", "price", "currency", "url")


class UploadError(ValueError):
    """An upload that cannot be used at all; the message is meant for the curator."""


@dataclass
class Batch:
    """Products ready to add, and the rows that were not, with the reason."""

    products: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def store_photo(data: bytes, index_dir: str | Path) -> str:
    """Check, re-encode and store a photo in the managed folder; its `image` value (`@managed/<sha1>.jpg`)."""
    picture = load_image(data)  # ImageLoadError for anything that is not a usable photo
    picture.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=92)
    jpeg = buffer.getvalue()
    name = hashlib.sha1(jpeg).hexdigest()[:24] + ".jpg"
    target = managed_dir(index_dir) / name
    if not target.is_file():
        atomic_write_bytes(target, jpeg)
    return MANAGED_PREFIX + name


def one_product(photo: bytes, fields: dict, index_dir: str | Path, taken: set[str]) -> dict:
    """A product from the single-product form; `UploadError` or `ImageLoadError` when it cannot be added."""
    name = str(fields.get("name", "")).strip()
    product_id = str(fields.get("product_id", "")).strip() or f"added/{_slug(name) or 'product'}"
    if product_id in taken:
        product_id = f"{product_id}-{hashlib.sha1(photo).hexdigest()[:6]}"
    if product_id in taken:
        raise UploadError(f"A product '{product_id}' is already in the catalogue.")
    problems: list[str] = []
    price = parse_prices(pd.Series([str(fields.get("price", "") or "")]), problems).iloc[0]
    if problems:
        raise UploadError(f"The price '{fields.get('price')}' is not a number.")
    product = {k: str(fields.get(k, "") or "").strip() for k in FIELDS}
    return {**product, "product_id": product_id, "price": float(price), "image": store_photo(photo, index_dir)}


def read_batch(csv_data: bytes, zip_data: bytes, index_dir: str | Path, taken: set[str]) -> Batch:
    """Products from a CSV (an `image` column naming files in the zip) and the zip of their photos."""
    batch = Batch()
    frame = _read_csv(csv_data, batch.problems)
    photos = ZipPhotos(zip_data)
    prices = parse_prices(frame["price"], batch.problems) if "price" in frame else None
    deadline = time.monotonic() + MAX_BATCH_SECONDS
    for done, (line, row) in enumerate(frame.iterrows()):
        where = f"row {line + 1}"
        if time.monotonic() > deadline:
            batch.problems.append(
                f"{where} and the {len(frame) - done - 1:,} rows after it were not read: checking the photos took "
                f"over {MAX_BATCH_SECONDS // 60} minutes; add them in another upload"
            )
            break
        product_id = row.get("product_id", "").strip() or f"added/{PurePosixPath(row['image']).stem}"
        if product_id in taken:
            batch.problems.append(f"{where}: product '{product_id}' is already in the catalogue; skipped")
            continue
        try:
            image = store_photo(photos.read(row["image"]), index_dir)
        except (UploadError, ImageLoadError) as err:
            batch.problems.append(f"{where}: photo '{row['image']}': {err}; skipped")
            continue
        extra = {k: v for k, v in row.items() if k not in ("product_id", "image", "price")}
        price = float("nan") if prices is None else float(prices.loc[line])
        batch.products.append(
            {**{k: "" for k in FIELDS}, **extra, "price": price, "product_id": product_id, "image": image}
        )
        taken.add(product_id)
    return batch


def _read_csv(data: bytes, problems: list[str]) -> pd.DataFrame:
    """The product rows as text (`catalog.csv_rows`); malformed lines are reported and skipped."""
    try:
        return read_rows(data, problems, max_rows=MAX_ROWS)
    except TableError as err:
        raise UploadError(str(err)) from err


class ZipPhotos:
    """The photos of an uploaded zip, read one at a time within the bounds; members are found by safe name."""

    def __init__(self, data: bytes):
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
            members = self.archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as err:
            raise UploadError(f"The zip file cannot be read: {err}") from err
        if len(members) > MAX_ZIP_MEMBERS:
            raise UploadError(f"The zip holds {len(members):,} files; at most {MAX_ZIP_MEMBERS:,} are accepted.")
        if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise UploadError(f"The zip unpacks to more than {MAX_ZIP_BYTES // 2**20:,} MB; split it up.")
        self.members: dict[str, zipfile.ZipInfo | str] = {}
        for member in members:
            name = safe_name(member.filename)
            if name is not None and not member.is_dir():
                self.members[name] = _refusal(member) or member
        self.budget = MAX_ZIP_BYTES
        self.damaged = ""  # set by the first member that fails to unpack: nothing more is read from this zip

    def read(self, name: str) -> bytes:
        """A member's bytes by its name in the CSV; `UploadError` when it is missing, refused or too big.

        A member that fails to unpack (a bad CRC, a size that lies) marks the whole zip as damaged: every later
        read is refused at once, so one lying member named by thousands of rows costs one decompression.
        """
        if self.damaged:
            raise UploadError(self.damaged)
        key = safe_name(name)
        member = self.members.get(key) if key else None
        if member is None:
            raise UploadError("not in the zip" if key else "not a plain relative file name")
        if isinstance(member, str):
            raise UploadError(member)
        limit = min(MAX_FILE_BYTES, self.budget)
        try:
            with self.archive.open(member) as handle:
                data = handle.read(limit + 1)  # the declared size may lie: never read past the limit
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as err:
            self.damaged = f"not read: the zip is damaged ('{key}' failed to unpack: {err})"
            raise UploadError(f"damaged in the zip ({err})") from err
        if len(data) > limit:
            raise UploadError(f"larger than {limit // 2**20} MB unpacked")
        self.budget -= len(data)
        return data


def safe_name(name: str) -> str | None:
    """A zip or CSV name as a normalised relative path; None for absolute paths, `..`, drive letters or NUL."""
    text = str(name).replace("\\", "/")
    if not text or "\x00" in text or text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        return None
    parts = [p for p in PurePosixPath(text).parts if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _refusal(member: zipfile.ZipInfo) -> str | None:
    """Why a zip member is never read (a link, an encrypted or oversized file), or None."""
    if stat.S_ISLNK(member.external_attr >> 16):
        return "a link, not a file"
    if member.flag_bits & 0x1:
        return "encrypted"
    if member.file_size > MAX_FILE_BYTES:
        return f"larger than {MAX_FILE_BYTES // 2**20} MB unpacked"
    return None


def _slug(text: str) -> str:
    """Lower-case words joined by hyphens, for a product id."""
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))[:60]
