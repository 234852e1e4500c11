"""Every embedding method by name, and `make_embedder`: the one way the builder, the app and the benchmarks embed.

| name             | what                                                                   | module          |
|------------------|------------------------------------------------------------------------|-----------------|
| `yolo-roi`       | ROI-align on the Detect-head inputs (P3-P5), mean, L2 per level, concat | `feature_maps`  |
| `yolo-roi-level` | the same, levels weighted by the box's FPN level (soft assignment)      | `feature_maps`  |
| `yolo-native`    | Ultralytics' ReID feature: the anchor column at the box centre          | `feature_maps`  |
| `effnet-roi`     | `effnet-crop` and `yolo-roi` blended (weight `roi_weight` on ROI)       | `feature_maps`  |
| `yolo-crop`      | the detector re-run on the padded crop, global average pool            | `crop`          |
| `effnet-crop`    | ImageNet EfficientNet-Lite0 on the padded crop, pooled features        | `crop`          |
| `color-hist`     | 8x8x8 RGB histogram of the box centre, Hellinger                       | `crop`          |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.embedding.base import ROI_EMBEDDING, Embedder, EmbeddingConfig
from engine.embedding.crop import ColorHistEmbedder, EffnetCropEmbedder, YoloCropEmbedder
from engine.embedding.feature_maps import FusedEmbedder, NativeEmbedder, RoiEmbedder, RoiLevelEmbedder
from engine.embedding.head import HeadEmbedder, check_head_base, load_head


def _needs_detector(detector, name: str):
    """The detector, or a clear error for methods that re-run its network."""
    if detector is None:
        raise ValueError(f"Embedding '{name}' runs the detector's network on crops; pass the detector.")
    return detector


def _channels(detector) -> tuple[int, ...]:
    """The detector's C_l per Detect-head level; () without a detector."""
    return tuple(detector.channels) if detector is not None else ()


def _device(detector) -> str:
    """Where crop networks run: the detector's device, else the CPU."""
    return str(detector.device) if detector is not None else "cpu"


EMBEDDERS: dict[str, Callable[[EmbeddingConfig, Any], Embedder]] = {
    ROI_EMBEDDING: lambda config, detector: RoiEmbedder(config, _channels(detector)),
    "yolo-roi-level": lambda config, detector: RoiLevelEmbedder(config, _channels(detector)),
    "yolo-native": lambda config, detector: NativeEmbedder(config, _channels(detector)),
    "yolo-crop": lambda config, detector: YoloCropEmbedder(config, _needs_detector(detector, "yolo-crop")),
    "effnet-crop": lambda config, detector: EffnetCropEmbedder(config, _device(detector)),
    "color-hist": lambda config, detector: ColorHistEmbedder(config),
    "effnet-roi": lambda config, detector: FusedEmbedder(
        config, EffnetCropEmbedder(config, _device(detector)), _channels(detector)
    ),
}


def make_embedder(config: EmbeddingConfig, detector=None, queries: bool = False) -> Embedder:
    """The embedder named by `config.name`, followed by `config.head` when set (`HeadEmbedder`).

    `detector` is passed to methods that reuse its network. `queries` makes the embedder of a search service:
    with a blended head (`engine.embedding.domains`) each query photo's vectors are centred on its own side
    (a room photo on the room side), where an index's entries are all on the catalogue side.
    A head is loaded and verified against `config.head_sha256` and its base embedding
    (`engine.embedding.head.HeadError` otherwise); a head that carries a fine-tuned backbone tail
    (`engine.embedding.tail`) replaces the base network's last stages with it.
    """
    if config.name not in EMBEDDERS:
        raise ValueError(f"Unknown embedding '{config.name}'; known: {', '.join(sorted(EMBEDDERS))}")
    if not config.head:
        return EMBEDDERS[config.name](config.base, detector)
    head = load_head(config.head, config.head_sha256, config.name)
    check_head_base(head, config)
    if head.tail is None:
        return HeadEmbedder(config, EMBEDDERS[config.name](config.base, detector), head, queries)
    if config.name != "effnet-crop":
        raise ValueError(f"Head '{config.head}' carries a fine-tuned EfficientNet tail; it needs 'effnet-crop'.")
    return HeadEmbedder(config, EffnetCropEmbedder(config.base, _device(detector), tail=head.tail), head, queries)
