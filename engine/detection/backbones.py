"""EfficientNet-Lite0 with the offline ImageNet weights as a YOLO backbone (the weights and their input contract:
`engine.pretrained`).

`EfficientNetLite0Backbone` is an `nn.Module` that Ultralytics model yamls can name (see `register_yolo_modules`
and `models/yolo11n-effnet.yaml`): it returns the stride 8, 16 and 32 feature maps as a list, which Ultralytics'
`Index` layers hand to the usual YOLO neck and Detect head.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.pretrained import DEFAULT_NETWORK, load_pretrained, pretrained_net

STAGE_CHANNELS = (16, 24, 40, 80, 112, 192, 320)  # EfficientNet-Lite0 `blocks[i]` outputs
FEATURE_STAGES = (2, 4, 6)  # -> strides 8, 16, 32 with 40, 112, 320 channels


class EfficientNetLite0Backbone(nn.Module):
    """(B, 3, H, W) in [0, 1] -> [P3 (B, 40, H/8, W/8), P4 (B, 112, H/16, W/16), P5 (B, 320, H/32, W/32)].

    Ultralytics feeds plain [0, 1] pixels, so the module applies its network's input contract itself
    (`engine.pretrained`: [-1, 1] for the TensorFlow-trained weights). `pretrained` loads the offline ImageNet
    weights. A checkpoint trained with this module carries its own weights and normalisation buffers (one made
    before the contract was fixed keeps the ImageNet mean/std it was trained with).
    """

    def __init__(self, pretrained: bool = True, network: str = DEFAULT_NETWORK):
        super().__init__()
        net = pretrained_net(network)
        if pretrained:
            model = load_pretrained(network)
        else:
            import timm

            model = timm.create_model(net.arch, pretrained=False)
        self.network = network
        self.stem = nn.Sequential(model.conv_stem, model.bn1)
        self.blocks = model.blocks
        self.register_buffer("mean", torch.tensor(net.contract.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(net.contract.std).view(1, 3, 1, 1), persistent=False)

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
