"""Where a catalogue image lives: in the catalogue's images folder, or in the managed folder next to the index.

Products added in the app (or with `catalog.manage`) keep their photos in `INDEX_DIR/managed/images/`; their
`image` column reads `@managed/<file>`. Every other `image` is relative to the images folder the index was
built from. `ImageFiles.path` resolves both and refuses any path that leads outside its folder (`..`, absolute
paths, links pointing elsewhere), so no file outside the two folders is ever read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MANAGED_PREFIX = "@managed/"  # `image` values of products whose photo lives in the managed folder
MANAGED_DIR = Path("managed") / "images"  # relative to the index folder


class OutsideCatalogueError(ValueError):
    """An image path that leads outside the catalogue's folders."""


def managed_dir(index_dir: str | Path) -> Path:
    """The folder of uploaded product photos of an index."""
    return Path(index_dir) / MANAGED_DIR


def is_managed(image: str) -> bool:
    """Whether a catalogue `image` value names a photo in the managed folder."""
    return str(image).startswith(MANAGED_PREFIX)


@dataclass(frozen=True)
class ImageFiles:
    """The two folders a catalogue's images come from (picklable: it travels to Ray workers)."""

    root: Path
    managed: Path | None = None

    def path(self, image: str) -> Path:
        """The file of a catalogue `image` value; `OutsideCatalogueError` when it would lie outside its folder."""
        image = str(image)
        base, relative = (self.managed, image[len(MANAGED_PREFIX) :]) if is_managed(image) else (self.root, image)
        if base is None:
            raise OutsideCatalogueError(f"'{image}' names a managed photo, but this catalogue has no managed folder")
        candidate = Path(base) / relative
        try:
            inside = candidate.resolve().is_relative_to(Path(base).resolve())
        except (OSError, RuntimeError, ValueError):  # a link loop, a NUL byte
            inside = False
        if not inside or Path(relative).is_absolute():
            raise OutsideCatalogueError(f"'{image}' leads outside {base}")
        return candidate

    @classmethod
    def of_index(cls, images_root: str | Path, index_dir: str | Path) -> ImageFiles:
        """The folders of an index: its catalogue images folder and its managed folder."""
        return cls(Path(images_root), managed_dir(index_dir))
