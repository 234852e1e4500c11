"""Embeddings from the detector's own feature maps (no second network pass), and `effnet-roi` that blends one in.

`yolo-roi` ROI-aligns the box over the levels feeding the Detect head; see `engine.embedding.registry` for all
methods.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

from engine.detection.detector import Analysis
from engine.embedding.base import EmbeddingConfig
from engine.embedding.crop import EffnetCropEmbedder

CANONICAL_SIDE = 224.0  # FPN (Lin et al. 2017): a box of this side, in network-input pixels, belongs to P4
CANONICAL_LEVEL = 4.0  # P4, i.e. log2(stride 16)
LEVEL_SIGMA = 0.5  # spread of the soft level weights, in pyramid levels (-> 0: FPN's hard assignment)


def box_pyramid_levels(analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
    """Continuous FPN level of each box, k = 4 + log2(sqrt(w*h) / 224) in input pixels: (N, 4) -> (N,)."""
    inputs = analysis.letterbox.to_input(boxes)  # (N, 4) network-input pixels
    sides = np.clip(inputs[:, 2:] - inputs[:, :2], 1.0, None)  # (N, 2) w, h
    return CANONICAL_LEVEL + np.log2(np.sqrt(sides[:, 0] * sides[:, 1]) / CANONICAL_SIDE)


def level_weights(analysis: Analysis, boxes: np.ndarray, levels, sigma: float = LEVEL_SIGMA) -> np.ndarray:
    """Soft assignment of boxes to levels: Gaussian in log2(stride) around the clamped FPN level; (N, L)."""
    pyramid = np.log2([analysis.strides[level] for level in levels])  # (L,) e.g. 3, 4, 5
    target = np.clip(box_pyramid_levels(analysis, boxes), pyramid.min(), pyramid.max())[:, None]  # (N, 1)
    if sigma <= 0:  # hard: the nearest level only
        return (np.abs(pyramid[None] - target).argmin(axis=1)[:, None] == np.arange(len(levels))).astype(np.float32)
    return np.exp(-((pyramid[None] - target) ** 2) / (2 * sigma**2)).astype(np.float32)  # (N, L)


@dataclass
class RoiLevelEmbedder:
    """`yolo-roi-level`: `yolo-roi` with the box size choosing the pyramid level, softly, at a fixed dimension.

    FPN assigns a box of side sqrt(w*h) (network-input pixels) to level k = 4 + log2(side / 224), i.e. P3 for
    boxes under ~160 px, P4 around 224 px, P5 over ~320 px. Levels differ in width (64/128/256), so instead of
    keeping one level's vector we keep the `yolo-roi` layout: every level is ROI-aligned, mean-pooled and
    L2-normalised, then multiplied by w_l = exp(-(l - k)^2 / (2 sigma^2)) (l = log2 stride, k clamped to the
    pyramid, sigma = 0.5 levels: the next level weighs 0.14, the one after 3e-4), concatenated and L2-normalised.
    D stays sum C_l (448). The cosine of two boxes is sum_l w_l w'_l cos_l / (|w| |w'|): boxes of similar size
    compare on their shared level; a small and a large box share little, which a random projection to a common
    width would hide rather than fix (different levels' channels mean different things).
    """

    config: EmbeddingConfig
    channels: tuple[int, ...] = ()  # the detector's C_l per level (Detector.channels)
    sigma: float = LEVEL_SIGMA

    @property
    def dim(self) -> int:
        """sum C_l over the configured levels."""
        return level_width(self.channels, self.config.levels)

    def embed(self, analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) source-pixel boxes -> (N, sum C_l) float32 unit vectors."""
        boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        weights = torch.from_numpy(level_weights(analysis, boxes, self.config.levels, self.sigma))  # (N, L)
        parts = [
            torch.from_numpy(embed_boxes(analysis, boxes, replace(self.config, levels=(level,))))  # (N, C_l) unit
            for level in self.config.levels
        ]
        vectors = torch.cat([part * weights[:, i : i + 1] for i, part in enumerate(parts)], dim=1)  # (N, sum C_l)
        return F.normalize(vectors, dim=1).numpy().astype(np.float32)


def level_width(channels: tuple[int, ...], levels: tuple[int, ...]) -> int:
    """sum C_l over `levels`; a clear error when the detector's channels were not given."""
    if not channels:
        raise ValueError("this embedding's width comes from the detector: make it with make_embedder(config, detector)")
    return sum(channels[level] for level in levels)


def anchor_columns(fmap: torch.Tensor, cells: np.ndarray, width: int) -> torch.Tensor:
    """Ultralytics' per-anchor vector at the cells containing the points (nearest anchor centre).

    (C, H, W) map, (N, 2) x, y in cell units -> (N, width): the map's column there, its C channels averaged in
    consecutive groups of C / width, exactly as `DetectionPredictor.get_obj_feats` reduces every level to the
    narrowest level's width.
    """
    channels, height, cols = fmap.shape
    ix = torch.from_numpy(np.floor(cells[:, 0])).long().clamp(0, cols - 1)  # (N,) anchor (ix + 0.5) * stride
    iy = torch.from_numpy(np.floor(cells[:, 1])).long().clamp(0, height - 1)
    columns = fmap[:, iy, ix].T.float()  # (N, C)
    return columns.reshape(len(columns), width, channels // width).mean(dim=-1)  # (N, width)


@dataclass
class NativeEmbedder:
    """`yolo-native`: Ultralytics' own object feature (`Results.feats`, BoT-SORT's `model: auto` ReID), per level.

    Ultralytics (predict.py `get_obj_feats`, hooked in trackers/track.py) takes the Detect-head inputs, reduces
    each level's C channels to the narrowest width s = 64 by averaging consecutive channel groups
    (reshape(..., s, C // s).mean(-1)), and returns, for each kept detection, the one vector at the anchor that
    predicted it (NMS `return_idxs`); the tracker L2-normalises it. Here the anchor is unknown (user boxes have
    none), so the equivalent location rule takes the anchor whose cell contains the box centre, on every
    configured level: each level's 64-d vector is L2-normalised, and the levels are concatenated and
    normalised (192-d), so the cosine is the mean over levels of Ultralytics' per-anchor cosine. For a detection
    predicted from its centre cell, its Ultralytics feature is (up to scale) one block of this vector.
    """

    config: EmbeddingConfig
    channels: tuple[int, ...] = ()

    @property
    def dim(self) -> int:
        """The narrowest level's width, once per configured level."""
        return level_width(self.channels, self.config.levels) and min(self.channels) * len(self.config.levels)

    def embed(self, analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) source-pixel boxes -> (N, 64 * L) float32 unit vectors."""
        inputs = analysis.letterbox.to_input(boxes)  # (N, 4) network-input pixels
        centres = (inputs[:, :2] + inputs[:, 2:]) / 2  # (N, 2)
        width = min(int(fmap.shape[0]) for fmap in analysis.feature_maps)  # 64: Ultralytics' s
        parts = [
            F.normalize(anchor_columns(analysis.feature_maps[level], centres / analysis.strides[level], width), dim=1)
            for level in self.config.levels
        ]  # L x (N, width)
        return F.normalize(torch.cat(parts, dim=1), dim=1).numpy().astype(np.float32)


@dataclass
class FusedEmbedder:
    """`effnet-roi`: `effnet-crop` and `yolo-roi` side by side, weighted so the cosine is a blend of the two.

    Each part is a unit vector; scaling them by sqrt(1 - w) and sqrt(w) (w = `config.roi_weight`) and
    concatenating gives a unit vector whose dot product is (1 - w) cos_effnet + w cos_roi. The ROI part costs
    no network pass (the detector's maps of the same forward), the crop part one EfficientNet pass.
    """

    config: EmbeddingConfig
    crop: EffnetCropEmbedder
    channels: tuple[int, ...] = ()

    @property
    def dim(self) -> int:
        """The crop's width plus the ROI part's."""
        return self.crop.dim + level_width(self.channels, self.config.levels)

    def embed(self, analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) source-pixel boxes -> (N, 1280 + sum C_l) float32 unit vectors."""
        w = self.config.roi_weight
        crop = self.crop.embed(analysis, boxes) * np.sqrt(1 - w)  # (N, 1280)
        roi = embed_boxes(analysis, boxes, self.config) * np.sqrt(w)  # (N, sum C_l)
        return np.concatenate([crop, roi], axis=1).astype(np.float32)


@dataclass
class RoiEmbedder:
    """`yolo-roi`: ROI-align over the Detect-head input levels of the same forward pass."""

    config: EmbeddingConfig
    channels: tuple[int, ...] = ()

    @property
    def dim(self) -> int:
        """sum C_l over the configured levels."""
        return level_width(self.channels, self.config.levels)

    def embed(self, analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
        """See `embed_boxes`."""
        return embed_boxes(analysis, boxes, self.config)


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
