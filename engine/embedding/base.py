"""What every embedding shares: the `EmbeddingConfig` an index records, the `Embedder` interface, batching helpers.

`yolo-roi` ROI-aligns the box over the detector's own feature maps (no second network pass); the default,
`effnet-crop`, re-embeds the box crop with an ImageNet EfficientNet-Lite0, as the retrieval benchmark chose
(docs/BENCHMARKS.md). `engine.embedding.registry.make_embedder` picks a method by the config's name, so the
catalogue builder, the app and the benchmarks all embed through the same call.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from engine.detection.detector import Analysis
from engine.files import file_sha256
from engine.pretrained import DEFAULT_NETWORK, LEGACY_NETWORK, pretrained_net
from engine.settings import PROJECT_ROOT

ROI_EMBEDDING = "yolo-roi"
DEFAULT_EMBEDDING = "effnet-crop"  # chosen by scripts/benchmark.py, see docs/BENCHMARKS.md
CROP_NETWORK_METHODS = ("effnet-crop", "effnet-roi")  # the methods that run a pretrained crop network


def resolve_head_path(path: str | Path) -> Path:
    """The head file: as given (absolute or relative to the working directory), else relative to the project."""
    path = Path(path)
    if path.is_file() or path.is_absolute():
        return path
    return PROJECT_ROOT / path


@dataclass(frozen=True)
class EmbeddingConfig:
    """How a box becomes a vector; recorded in the index manifest and checked on load."""

    name: str = DEFAULT_EMBEDDING  # a key of EMBEDDERS
    levels: tuple[int, ...] = (0, 1, 2)  # indices into the Detect head inputs (P3, P4, P5)
    output_size: int = 4  # ROI-align grid per level, averaged afterwards
    sampling_ratio: int = 2
    shrink: float = 0.05  # fraction of width/height trimmed from each side, to drop background
    crop_size: int = 288  # crop-based methods: side of the square network input (BENCHMARKS: 288 beat 224)
    network: str = DEFAULT_NETWORK  # the pretrained crop network (engine.pretrained), with its input contract
    roi_weight: float = 0.3  # `effnet-roi`: the ROI part's share of the cosine
    head: str = ""  # learned projection head applied after the method (engine/embedding/head.py); "" for none
    head_sha256: str = ""  # the head file's sha256, so an index refuses a retrained or replaced head

    def to_dict(self) -> dict:
        """JSON-friendly form for the manifest; methods with a crop network also record its input contract."""
        data = asdict(self)
        data["levels"] = list(self.levels)
        if self.name in CROP_NETWORK_METHODS:
            data["input"] = pretrained_net(self.network).contract.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> EmbeddingConfig:
        """Inverse of `to_dict` (fields added later take their defaults).

        A config recorded before the crop network was named (no `network`) was embedded with ImageNet mean/std
        (`engine.pretrained.LEGACY_NETWORK`), so it reads back as that network: its index is searched with the
        input it was built with, and a build with today's default sees the difference and embeds again.
        """
        data = {key: value for key, value in data.items() if key != "input"}
        return cls(**{"network": LEGACY_NETWORK, **data, "levels": tuple(data["levels"])})

    def with_head(self, path: str | Path | None) -> EmbeddingConfig:
        """This config with the head at `path` (its sha256 recorded), or without a head for None / ""."""
        if not path:
            return replace(self, head="", head_sha256="")
        return replace(self, head=str(path), head_sha256=file_sha256(resolve_head_path(path)))

    @property
    def base(self) -> EmbeddingConfig:
        """The same config without its head: what the head's input vectors are."""
        return replace(self, head="", head_sha256="")


class Embedder(Protocol):
    """Turns boxes of an analysed image into unit vectors."""

    config: EmbeddingConfig

    @property
    def dim(self) -> int:
        """D, the width of every vector `embed` returns (known without running the network)."""
        ...

    def embed(self, analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) source-pixel xyxy boxes -> (N, D) float32 unit vectors."""
        ...


def embed_many(embedder: Embedder, analyses: list[Analysis], boxes: list[np.ndarray]) -> list[np.ndarray]:
    """Per image, (N_i, D) unit vectors for its (N_i, 4) boxes; batched across images when the embedder can.

    Crop embedders put every image's crops through the network together (`embed_many` on the embedder), so a
    catalogue build pays one pass per batch of images rather than one per image.
    """
    batched = getattr(embedder, "embed_many", None)
    if batched is not None:
        return batched(analyses, boxes)
    return [embedder.embed(analysis, b) for analysis, b in zip(analyses, boxes)]


def split_rows(vectors: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    """(sum N_i, D) -> per image (N_i, D), in order."""
    return np.split(vectors, np.cumsum(counts)[:-1]) if counts else []
