"""Product thumbnails made once, when the catalogue is built: one small JPEG per photo, named by its content hash.

A result grid shows ten product photos; decoding, shrinking and re-encoding each one at click time cost about
60 ms of a click's 150 ms budget. The catalogue builder writes them ahead (`catalog.thumbnails`) into
`INDEX_DIR/thumbnails/<sha1>.jpg`, shared by every version of the index; `Thumbnails.jpeg` reads one, and
`Lookalike.thumbnail` falls back to the photo itself when none is stored (an index built before, a photo
added since). Only names that are a sha1 are looked up, so a damaged metadata table cannot lead elsewhere.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from engine.files import atomic_write_bytes

THUMB_SIDE = 320  # pixels, the longer side: a grid tile at twice its CSS size
THUMB_QUALITY = 85
FOLDER = "thumbnails"
MAX_STORED_BYTES = 1 << 20  # a stored thumbnail larger than this is not ours: ignored
SHA1 = re.compile(r"[0-9a-f]{40}")


def thumbnail_jpeg(image: Image.Image, side: int | None = THUMB_SIDE) -> bytes:
    """JPEG bytes of `image` shrunk (never enlarged) to fit a `side` x `side` square; `side` None: as it is."""
    if side:
        image = image.copy()
        image.thumbnail((side, side))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=THUMB_QUALITY)
    return buffer.getvalue()


@dataclass(frozen=True)
class Thumbnails:
    """The thumbnail folder of an index."""

    folder: Path

    @classmethod
    def of_index(cls, index_dir: str | Path) -> Thumbnails:
        """The thumbnails of the index at `index_dir`."""
        return cls(Path(index_dir) / FOLDER)

    def path(self, content_hash: str) -> Path | None:
        """The file of a photo's thumbnail, or None when `content_hash` is not a sha1 hex digest."""
        content_hash = str(content_hash)
        return self.folder / f"{content_hash}.jpg" if SHA1.fullmatch(content_hash) else None

    def jpeg(self, content_hash: str) -> bytes | None:
        """The stored JPEG of a photo, or None when there is none (or it is not one of ours)."""
        path = self.path(content_hash)
        try:
            if path is None or not path.is_file() or path.stat().st_size > MAX_STORED_BYTES:
                return None
            data = path.read_bytes()
        except OSError:
            return None
        return data if data.startswith(b"\xff\xd8") else None

    def put(self, content_hash: str, image: Image.Image) -> None:
        """Store the thumbnail of a photo (atomically); a `content_hash` that is not a sha1 is refused."""
        path = self.path(content_hash)
        if path is None:
            raise ValueError(f"not a sha1 content hash: {content_hash!r}")
        atomic_write_bytes(path, thumbnail_jpeg(image))

    def stored(self) -> set[str]:
        """Content hashes that have a thumbnail."""
        if not self.folder.is_dir():
            return set()
        return {p.stem for p in self.folder.glob("*.jpg") if SHA1.fullmatch(p.stem)}

    def prune(self, keep: set[str]) -> int:
        """Delete the thumbnails of photos not in `keep`; returns how many went."""
        gone = self.stored() - set(keep)
        for content_hash in gone:
            self.folder.joinpath(f"{content_hash}.jpg").unlink(missing_ok=True)
        return len(gone)
