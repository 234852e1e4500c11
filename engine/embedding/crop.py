"""Crop-based embedders: cut each box out of the source photo and describe the crop on its own.

They need `Analysis.image`; unlike the feature-map methods they cost a second network pass (or none, for
`color-hist`), and they see only the box plus a little context, so an object gets the same vector wherever it
stands in the photo.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from engine.detection.detector import Analysis
from engine.embedding.base import EmbeddingConfig, split_rows
from engine.embedding.tail import prefix_maps
from engine.geometry import apply_letterbox, plan_letterbox
from engine.pretrained import DEFAULT_NETWORK, crop_network, pretrained_net

CROP_PAD = 0.05  # context added to each side of a box, as a fraction of its width / height
CROP_BATCH = 32  # crops per forward pass (bounds memory for images with many boxes)
HIST_BINS = 8  # per RGB channel: an 8x8x8 joint histogram (512-d)
HIST_TRIM = 0.15  # fraction trimmed from each side: the histogram sees the central 70% x 70% of the box
HIST_MAX_SIDE = 64  # at most this many pixels sampled per side (a strided grid), so big boxes cost the same
EFFNET_WIDTH = 1280  # EfficientNet-Lite's pooled feature width


def source_image(analysis: Analysis) -> Image.Image:
    """The analysed photo, or a clear error for analyses made without one."""
    if analysis.image is None:
        raise ValueError("Crop-based embeddings need Analysis.image (the source photo); this analysis has none.")
    return analysis.image


def pixel_boxes(boxes: np.ndarray, size: tuple[int, int], margin: float) -> np.ndarray:
    """Grow (margin > 0) or trim (< 0) xyxy boxes by a fraction of their size, round outward, clip to the image.

    (N, 4) float -> (N, 4) int, each at least 1x1 pixel inside the (w, h) image.
    """
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    sides = np.concatenate([boxes[:, 2:] - boxes[:, :2]] * 2, axis=1)  # (N, 4) w, h, w, h
    grown = boxes + sides * np.array([-margin, -margin, margin, margin], dtype=np.float32)
    width, height = size
    x0 = np.clip(np.floor(grown[:, 0]), 0, width - 1)
    y0 = np.clip(np.floor(grown[:, 1]), 0, height - 1)
    x1 = np.clip(np.ceil(grown[:, 2]), x0 + 1, width)
    y1 = np.clip(np.ceil(grown[:, 3]), y0 + 1, height)
    return np.stack([x0, y0, x1, y1], axis=1).astype(np.int64)


def crop_batch(
    image: Image.Image, boxes: np.ndarray, size: int, stride: int = 1, resample: str = "bilinear"
) -> np.ndarray:
    """Padded crops of the boxes, each letterboxed (aspect kept, grey pad) into a square: (N, S, S, 3) uint8."""
    crops = []
    for x0, y0, x1, y1 in pixel_boxes(boxes, image.size, CROP_PAD):
        crop = image.crop((int(x0), int(y0), int(x1), int(y1)))
        crops.append(apply_letterbox(crop, plan_letterbox(crop.size, size, stride, square=True), resample))
    side = plan_letterbox((1, 1), size, stride, square=True).input_size[0]
    return np.stack(crops) if crops else np.zeros((0, side, side, 3), dtype=np.uint8)


def to_tensor(batch: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float in [0, 1]."""
    return torch.from_numpy(batch).to(device).permute(0, 3, 1, 2).float().div_(255.0)


def embed_in_chunks(encode, crops: np.ndarray, dim: int) -> np.ndarray:
    """Run `encode` ((n, S, S, 3) uint8 -> (n, D) tensor) over chunks of the crops; (N, D) float32 unit rows."""
    parts = [encode(crops[i : i + CROP_BATCH]) for i in range(0, len(crops), CROP_BATCH)]
    if not parts:
        return np.zeros((0, dim), dtype=np.float32)
    return F.normalize(torch.cat(parts).float().cpu(), dim=1).numpy().astype(np.float32)


@dataclass
class YoloCropEmbedder:
    """`yolo-crop`: the detector's own network run again on each padded box crop.

    Each box (plus `CROP_PAD` context) is cut from the source photo and letterboxed into a `crop_size` square;
    all crops go through `detector.model` in one batch, the Detect-head inputs are captured by the Detector's
    pre-hook (`Detector.forward`), each configured level is global-average-pooled and L2-normalised, and the
    levels are concatenated and normalised again (448-d for yolo11n, like `yolo-roi`).
    """

    config: EmbeddingConfig
    detector: Any  # engine.detection.detector.Detector

    @property
    def dim(self) -> int:
        """sum C_l over the configured levels of the detector."""
        return sum(self.detector.channels[level] for level in self.config.levels)

    def embed(self, analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) source-pixel boxes -> (N, sum C_l) float32 unit vectors."""
        stride = int(max(self.detector.strides))  # the network needs sides that are multiples of this
        crops = crop_batch(source_image(analysis), boxes, self.config.crop_size, stride)
        return embed_in_chunks(self._encode, crops, self.dim)

    @torch.inference_mode()
    def _encode(self, crops: np.ndarray) -> torch.Tensor:
        """(n, S, S, 3) uint8 crops -> (n, sum C_l) concatenation of per-level unit vectors."""
        _, maps = self.detector.forward(to_tensor(crops, self.detector.device))  # per level (n, C_l, S/s, S/s)
        parts = [F.normalize(maps[level].float().mean(dim=(2, 3)), dim=1) for level in self.config.levels]
        return torch.cat(parts, dim=1)  # (n, sum C_l)


def effnet_inputs(
    image: Image.Image, boxes: np.ndarray, size: int = 224, network: str = DEFAULT_NETWORK
) -> torch.Tensor:
    """Padded box crops letterboxed to `size` and normalised by the network's input contract: (N, 3, S, S)."""
    contract = pretrained_net(network).contract
    batch = to_tensor(crop_batch(image, boxes, size, resample=contract.interpolation))  # (N, 3, S, S) in [0, 1]
    return contract.normalise(batch)


@dataclass
class EffnetCropEmbedder:
    """`effnet-crop`: an ImageNet-pretrained EfficientNet-Lite (`config.network`) on each padded box crop (1280-d).

    Crop (plus `CROP_PAD`) -> letterbox to `crop_size` (aspect kept, grey pad, the network's resampling) -> the
    network's input contract (`engine.pretrained`: [-1, 1] for the TensorFlow-trained Lite weights) -> the timm
    model with offline weights (`crop_network`, loaded once per process and device) -> the globally pooled
    1280-d features before the classifier -> L2. All crops of a call go in one batch.
    """

    config: EmbeddingConfig
    device: str = field(default="cpu")
    dim: int = EFFNET_WIDTH
    tail: Any = None  # engine.embedding.tail.EffnetTail: fine-tuned last stages replacing the ImageNet ones

    def __post_init__(self):
        if self.tail is not None:
            self.tail.to(self.device)

    def embed(self, analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) source-pixel boxes -> (N, 1280) float32 unit vectors."""
        return self.encode_crops(self._inputs(source_image(analysis), boxes))  # (N, 1280)

    def embed_many(self, analyses: list[Analysis], boxes: list[np.ndarray]) -> list[np.ndarray]:
        """Per image (N_i, 1280) unit vectors; all images' crops go through the network in shared batches."""
        inputs = [self._inputs(source_image(a), np.asarray(b).reshape(-1, 4)) for a, b in zip(analyses, boxes)]
        return split_rows(self.encode_crops(torch.cat(inputs) if inputs else None), [len(x) for x in inputs])

    def embed_crops(self, images: list[Image.Image], boxes: list) -> np.ndarray:
        """One box per photo, batched across photos (training-data caching): -> (N, 1280) float32 unit vectors."""
        inputs = [self._inputs(im, np.asarray(b).reshape(1, 4)) for im, b in zip(images, boxes)]
        return self.encode_crops(torch.cat(inputs) if inputs else None)

    def _inputs(self, image: Image.Image, boxes: np.ndarray) -> torch.Tensor:
        """(N, 4) boxes of one photo -> (N, 3, S, S) crops as the configured network expects them."""
        return effnet_inputs(image, boxes, self.config.crop_size, self.config.network)

    def encode_crops(self, inputs: torch.Tensor | None) -> np.ndarray:
        """(N, 3, S, S) normalised crops, `CROP_BATCH` at a time -> (N, 1280) float32 unit vectors."""
        if inputs is None or not len(inputs):
            return np.zeros((0, EFFNET_WIDTH), dtype=np.float32)
        parts = [self._encode(inputs[i : i + CROP_BATCH]) for i in range(0, len(inputs), CROP_BATCH)]
        return F.normalize(torch.cat(parts), dim=1).numpy().astype(np.float32)

    @torch.inference_mode()
    def _encode(self, inputs: torch.Tensor) -> torch.Tensor:
        """(n, 3, S, S) normalised crops -> (n, 1280) pooled features."""
        model = crop_network(self.config.network, self.device)
        if self.tail is not None:
            maps = prefix_maps(model, inputs.to(self.device), self.tail.start)  # (n, C_in, h, w)
            return self.tail(maps).float().cpu()  # (n, 1280)
        features = model.forward_features(inputs.to(self.device))  # (n, 1280, S/32, S/32)
        return model.forward_head(features, pre_logits=True).float().cpu()  # (n, 1280)

    @torch.inference_mode()
    def prefix_maps(self, images: list[Image.Image], boxes: list, start: int) -> np.ndarray:
        """One box per photo -> the frozen prefix's maps (N, C_in * h * w) float16, flattened (tail training)."""
        inputs = [self._inputs(im, np.asarray(b).reshape(1, 4)) for im, b in zip(images, boxes)]
        if not inputs:
            return np.zeros((0, 0), dtype=np.float16)
        maps = prefix_maps(crop_network(self.config.network, self.device), torch.cat(inputs).to(self.device), start)
        return maps.flatten(1).cpu().numpy().astype(np.float16)


def color_histograms(pixels: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Hellinger-mapped RGB joint histograms of the boxes' centres: (H, W, 3) uint8, (N, 4) -> (N, 512) unit rows."""
    height, width = pixels.shape[:2]
    shift = 8 - int(np.log2(HIST_BINS))  # 8 bins per channel: the top 3 bits
    out = np.zeros((len(boxes), HIST_BINS**3), dtype=np.float64)
    for i, (x0, y0, x1, y1) in enumerate(pixel_boxes(boxes, (width, height), -HIST_TRIM)):
        step = max(1, max(x1 - x0, y1 - y0) // HIST_MAX_SIDE)
        bins = (pixels[y0:y1:step, x0:x1:step].reshape(-1, 3) >> shift).astype(np.int64)  # (P, 3)
        codes = (bins[:, 0] * HIST_BINS + bins[:, 1]) * HIST_BINS + bins[:, 2]  # (P,) joint bin index
        counts = np.bincount(codes, minlength=HIST_BINS**3)  # (512,)
        out[i] = np.sqrt(counts / counts.sum())  # Hellinger: Euclidean on sqrt-probabilities
    return (out / np.linalg.norm(out, axis=1, keepdims=True).clip(1e-12)).astype(np.float32)


@dataclass
class ColorHistEmbedder:
    """`color-hist`: the floor baseline, colour only (numpy, no network).

    An 8x8x8 joint RGB histogram of the central 70% x 70% of the box (`HIST_TRIM` off each side, to drop most
    background), sampled on a grid of at most `HIST_MAX_SIDE` pixels per side, normalised to a distribution,
    square-rooted (so the dot product is the Bhattacharyya coefficient, i.e. the Hellinger kernel) and L2'd.
    """

    config: EmbeddingConfig
    dim: int = HIST_BINS**3

    def embed(self, analysis: Analysis, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) source-pixel boxes -> (N, 512) float32 unit vectors."""
        pixels = np.asarray(source_image(analysis).convert("RGB"))  # (H, W, 3) uint8
        return color_histograms(pixels, np.asarray(boxes, dtype=np.float32).reshape(-1, 4))
