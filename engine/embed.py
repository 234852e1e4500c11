"""Object embeddings: any box of an analysed image -> a unit vector.

`yolo-roi` (this module) ROI-aligns the box over the detector's own feature maps: no second network pass.
The default, `effnet-crop`, re-embeds the box crop with an ImageNet EfficientNet-Lite0: the retrieval benchmark
chose it (docs/BENCHMARKS.md), since the offline detector's features barely carry product identity.
Other methods register themselves in `EMBEDDERS` (see `engine/embedders.py`); `make_embedder` picks one by the
config's name, so the catalogue builder, the app and the benchmark all embed through the same call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

from engine.detector import Analysis, file_sha256

ROI_EMBEDDING = "yolo-roi"
DEFAULT_EMBEDDING = "effnet-crop"  # chosen by scripts/benchmark.py, see docs/BENCHMARKS.md


@dataclass(frozen=True)
class EmbeddingConfig:
    """How a box becomes a vector; recorded in the index manifest and checked on load."""

    name: str = DEFAULT_EMBEDDING  # a key of EMBEDDERS
    levels: tuple[int, ...] = (0, 1, 2)  # indices into the Detect head inputs (P3, P4, P5)
    output_size: int = 4  # ROI-align grid per level, averaged afterwards
    sampling_ratio: int = 2
    shrink: float = 0.05  # fraction of width/height trimmed from each side, to drop background
    crop_size: int = 224  # crop-based methods: side of the square network input
    roi_weight: float = 0.3  # `effnet-roi`: the ROI part's share of the cosine
    head: str = ""  # learned projection head applied after the method (engine/head.py); "" for none
    head_sha256: str = ""  # the head file's sha256, so an index refuses a retrained or replaced head

    def to_dict(self) -> dict:
        """JSON-friendly form for the manifest."""
        data = asdict(self)
        data["levels"] = list(self.levels)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> EmbeddingConfig:
        """Inverse of `to_dict` (fields added later take their defaults)."""
        return cls(**{**data, "levels": tuple(data["levels"])})

    def with_head(self, path: str | Path | None) -> EmbeddingConfig:
        """This config with the head at `path` (its sha256 recorded), or without a head for None / ""."""
        from engine.head import resolve_head_path

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

    def embed(self, analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) source-pixel xyxy boxes -> (N, D) float32 unit vectors."""
        ...


@dataclass
class RoiEmbedder:
    """`yolo-roi`: ROI-align over the Detect-head input levels of the same forward pass."""

    config: EmbeddingConfig

    def embed(self, analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
        """See `embed_boxes`."""
        return embed_boxes(analysis, boxes, self.config)


EMBEDDERS: dict[str, Callable[[EmbeddingConfig, Any], Embedder]] = {
    ROI_EMBEDDING: lambda config, detector: RoiEmbedder(config),
}


def make_embedder(config: EmbeddingConfig, detector=None) -> Embedder:
    """The embedder named by `config.name`, followed by `config.head` when set (`engine.head.HeadEmbedder`).

    `detector` is passed to methods that reuse its network. A head is loaded and verified against
    `config.head_sha256` and its base embedding (`engine.head.HeadError` otherwise).
    """
    import engine.embedders  # noqa: F401  (registers the other methods)

    if config.name not in EMBEDDERS:
        raise ValueError(f"Unknown embedding '{config.name}'; known: {', '.join(sorted(EMBEDDERS))}")
    base = EMBEDDERS[config.name](config.base, detector)
    if not config.head:
        return base
    from engine.head import HeadEmbedder, load_head

    return HeadEmbedder(config, base, load_head(config.head, config.head_sha256, config.name))


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


def shrink_boxes(boxes: np.ndarray, fraction: float) -> np.ndarray:
    """Trim `fraction` of each box's width and height from every side; (N, 4) -> (N, 4)."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if fraction <= 0:
        return boxes
    size = np.concatenate([boxes[:, 2:] - boxes[:, :2]] * 2, axis=1)  # (N, 4) w, h, w, h
    return boxes + size * np.array([fraction, fraction, -fraction, -fraction], dtype=np.float32)


def embed_boxes(analysis: Analysis, boxes: np.ndarray, config: EmbeddingConfig = EmbeddingConfig()) -> np.ndarray:
    """Embed (N, 4) source-pixel xyxy boxes of one analysed image -> (N, D) float32, unit L2 norm.

    Each level is ROI-aligned, averaged over its grid and L2-normalised; the levels are concatenated and
    normalised again, so every level weighs the same whatever its channel count.
    """
    boxes = shrink_boxes(boxes, config.shrink)
    parts = []
    for level in config.levels:
        fmap = analysis.feature_maps[level].unsqueeze(0).float()  # (1, C, H, W)
        stride = analysis.strides[level]
        cells = torch.from_numpy(analysis.letterbox.to_cells(boxes, stride))  # (N, 4) in cell units
        rois = torch.cat([torch.zeros(len(cells), 1), cells], dim=1)  # (N, 5) batch index + box
        pooled = roi_align(
            fmap, rois, config.output_size, spatial_scale=1.0, sampling_ratio=config.sampling_ratio, aligned=True
        )  # (N, C, S, S)
        parts.append(F.normalize(pooled.mean(dim=(2, 3)), dim=1))  # (N, C)
    vectors = F.normalize(torch.cat(parts, dim=1), dim=1)  # (N, sum C)
    return vectors.numpy().astype(np.float32)


def embedding_dim(analysis: Analysis, config: EmbeddingConfig = EmbeddingConfig()) -> int:
    """Dimension of the vectors `embed_boxes` returns for this detector."""
    return sum(int(analysis.feature_maps[level].shape[0]) for level in config.levels)
