"""A fine-tuned tail of EfficientNet-Lite0: its last stages retrained for product similarity, the rest frozen.

The network splits at `blocks[start]`. The frozen prefix (stem and `blocks[:start]`) is the shared ImageNet model
(`engine.pretrained.crop_network`); the tail (`blocks[start:]`, `conv_head`, `bn2`, then global average pooling)
carries its own weights, saved inside a head checkpoint (`engine.embedding.head`, format 2). With a tail,
`effnet-crop` computes prefix maps -> tail -> pooled 1280-d features, and the head follows as usual.

Shapes for a 224 crop: start 6 takes (N, 192, 7, 7); start 5 takes (N, 112, 14, 14).
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from engine.detection.backbones import STAGE_CHANNELS
from engine.pretrained import DEFAULT_NETWORK, load_pretrained, pretrained_net

TAIL_STARTS = (4, 5, 6)  # where the tail may begin: the last three stages of Lite0
TAIL_STRIDES = {4: 16, 5: 16, 6: 32}  # input stride of blocks[start] (its input map is crop_size / stride)


class EffnetTail(nn.Module):
    """(N, C_in, h, w) prefix maps -> (N, 1280) pooled features, with the stages from `start` on.

    Batch norms always use their running statistics (frozen, as in most fine-tuning of small batches).
    """

    def __init__(self, model: nn.Module, start: int):
        super().__init__()
        if start not in TAIL_STARTS:
            raise ValueError(f"A tail starts at one of the stages {TAIL_STARTS}, not {start}.")
        self.start = start
        self.blocks = copy.deepcopy(model.blocks[start:])
        self.conv_head = copy.deepcopy(model.conv_head)
        self.bn2 = copy.deepcopy(model.bn2)

    @property
    def in_channels(self) -> int:
        """C_in of the maps the tail takes."""
        return STAGE_CHANNELS[self.start - 1]

    def map_shape(self, crop_size: int) -> tuple[int, int, int]:
        """(C_in, h, w) of one crop's prefix maps."""
        side = -(-crop_size // TAIL_STRIDES[self.start])
        return (self.in_channels, side, side)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        """(N, C_in, h, w) -> (N, 1280)."""
        x = self.bn2(self.conv_head(self.blocks(maps)))  # (N, 1280, 7, 7)
        return x.mean(dim=(2, 3))

    def train(self, mode: bool = True) -> EffnetTail:
        """Train mode for dropout-free layers, but batch norms keep their running statistics."""
        super().train(mode)
        for module in self.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
        return self


def prefix_maps(model: nn.Module, inputs: torch.Tensor, start: int) -> torch.Tensor:
    """(N, 3, S, S) normalised crops -> (N, C_in, h, w): the frozen stem and `blocks[:start]`."""
    x = model.bn1(model.conv_stem(inputs))
    for stage in model.blocks[:start]:
        x = stage(x)
    return x


def new_tail(start: int, network: str = DEFAULT_NETWORK) -> EffnetTail:
    """A tail carrying the network's ImageNet weights (the starting point of fine-tuning)."""
    return EffnetTail(load_pretrained(network), start).eval()


def load_tail(start: int, state: dict, network: str = DEFAULT_NETWORK) -> EffnetTail:
    """A tail with saved weights, in eval mode (raises RuntimeError/KeyError on a mismatched state)."""
    import timm

    tail = EffnetTail(timm.create_model(pretrained_net(network).arch, pretrained=False), start)
    tail.load_state_dict(state)
    return tail.eval()
