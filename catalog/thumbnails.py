"""The catalogue builder's thumbnail step: a small JPEG of each product photo, stored beside the index.

Result grids then show stored thumbnails instead of decoding and shrinking full photos at click time
(`engine.thumbnails`). Thumbnails are named by the photo's content hash, so a changed photo gets a new one and
every index version shares them.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm import tqdm

from engine.curation.catalogue_files import ImageFiles, OutsideCatalogueError
from engine.images import ImageLoadError, load_image
from engine.thumbnails import Thumbnails


def fill_thumbnails(
    files: ImageFiles, hashes: dict[str, str], index_dir: str | Path, progress: bool = False, prune: bool = False
) -> int:
    """Store the missing thumbnails of the photos in `hashes` (image -> sha1); returns how many were written.

    Unreadable photos are skipped (the build reports them). `prune` also deletes the thumbnails of photos not
    in `hashes`: pass it when `hashes` covers the whole catalogue.
    """
    store = Thumbnails.of_index(index_dir)
    have = store.stored()
    todo = {digest: image for image, digest in hashes.items() if store.path(digest) and digest not in have}

    def write(item: tuple[str, str]) -> bool:
        digest, image = item
        try:
            store.put(digest, load_image(files.path(image)))
        except (ImageLoadError, OSError, OutsideCatalogueError):
            return False
        return True

    with ThreadPoolExecutor(2) as pool:  # decoding, resizing and encoding release the GIL
        done = pool.map(write, todo.items())
        written = sum(tqdm(done, total=len(todo), desc="Thumbnails", unit="img", disable=not progress or not todo))
    if prune:
        store.prune({digest for digest in hashes.values() if digest})
    return written
