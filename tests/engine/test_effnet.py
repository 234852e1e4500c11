"""The EfficientNet-Lite0 backbone for YOLO: ImageNet weights in place, pyramid shapes, and a working Detector."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from engine.detection.backbones import EfficientNetLite0Backbone
from engine.detection.detector import Detector
from engine.pretrained import crop_network
from engine.settings import PROJECT_ROOT

pytestmark = pytest.mark.integration  # ImageNet weights and real forward passes

EFFNET_YAML = PROJECT_ROOT / "models" / "yolo11n-effnet.yaml"


def test_backbone_carries_the_imagenet_weights_and_returns_strides_8_16_32():
    backbone = EfficientNetLite0Backbone().eval()
    reference = crop_network()
    assert torch.equal(backbone.stem[0].weight, reference.conv_stem.weight)
    assert torch.equal(backbone.blocks[6][0].conv_pwl.weight, reference.blocks[6][0].conv_pwl.weight)
    with torch.no_grad():
        p3, p4, p5 = backbone(torch.rand(2, 3, 160, 224))
    assert p3.shape == (2, 40, 20, 28) and p4.shape == (2, 112, 10, 14) and p5.shape == (2, 320, 5, 7)


def test_backbone_normalises_its_inputs_like_the_classifier():
    backbone = EfficientNetLite0Backbone().eval()
    reference = crop_network()
    pixels = torch.rand(1, 3, 96, 96)
    mean, std = backbone.mean, backbone.std
    with torch.no_grad():
        expected = reference.blocks[:3](reference.bn1(reference.conv_stem((pixels - mean) / std)))
        assert torch.allclose(backbone(pixels)[0], expected, atol=1e-5)


def test_detector_builds_from_the_effnet_yaml_and_hooks_the_neck():
    detector = Detector(EFFNET_YAML)
    assert detector.strides == [8.0, 16.0, 32.0]
    analysis = detector.analyse([Image.fromarray(np.full((120, 200, 3), 180, np.uint8))])[0]
    assert [int(f.shape[0]) for f in analysis.feature_maps] == [64, 128, 256]  # yolo11n neck widths
    assert Detector(EFFNET_YAML).weights_sha256 == detector.weights_sha256
