"""Letterbox geometry: a box in original pixels lands on the right input pixels and feature-map cells."""

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.ops import roi_align

from engine.geometry import PAD_VALUE, apply_letterbox, box_at_click, plan_letterbox, smallest_box_at


@pytest.mark.parametrize(("size", "square"), [((300, 200), False), ((200, 300), False), ((300, 200), True)])
def test_plan_pads_to_stride_multiple_and_centres(size, square):
    plan = plan_letterbox(size, imgsz=64, stride=32, square=square)
    width, height = plan.input_size
    assert width % 32 == 0 and height % 32 == 0
    assert max(plan.resized_size) == 64
    assert (width, height) == ((64, 64) if square else plan.input_size)
    assert plan.pad[0] == (width - plan.resized_size[0]) // 2
    assert plan.pad[1] == (height - plan.resized_size[1]) // 2


def test_round_trip_source_input_source():
    plan = plan_letterbox((1000, 600), imgsz=640, stride=32)
    boxes = np.array([[0, 0, 1000, 600], [123.5, 45, 700, 599]], dtype=np.float32)
    assert np.allclose(plan.to_source(plan.to_input(boxes)), boxes, atol=1e-3)
    # the whole image maps exactly onto the non-padded part of the input
    assert np.allclose(plan.to_input(boxes[:1])[0], [*plan.pad, plan.pad[0] + 640, plan.pad[1] + 384])


def test_padding_is_filled_and_image_is_placed():
    image = Image.new("RGB", (300, 100), (255, 255, 255))
    plan = plan_letterbox(image.size, imgsz=96, stride=32)
    array = apply_letterbox(image, plan)
    assert array.shape == (plan.input_size[1], plan.input_size[0], 3)
    top = plan.pad[1]
    assert (array[:top] == PAD_VALUE).all()
    assert (array[top : top + plan.resized_size[1]] == 255).all()
    assert (array[top + plan.resized_size[1] :] == PAD_VALUE).all()


@pytest.mark.parametrize("stride", [8, 16, 32])
def test_box_maps_to_the_right_feature_cells(stride):
    """A white square in a black image: pooled over its mapped cells it reads white, beside them black.

    The 'feature map' is the letterboxed input average-pooled by the stride, so a cell holds exactly the
    mean of the input pixels it covers, like a detector level of that stride. The vertical padding (50 px)
    is not a multiple of any stride, so an off-by-padding or off-by-scale mapping fails.
    """
    source = Image.new("RGB", (640, 440), (0, 0, 0))
    square = (256, 64, 512, 288)  # x0, y0, x1, y1 in source pixels
    source.paste((255, 255, 255), square)
    plan = plan_letterbox(source.size, imgsz=320, stride=32, square=True)  # scale 0.5, 320x220 in 320x320
    assert plan.pad == (0, 50)
    letterboxed = torch.from_numpy(apply_letterbox(source, plan)).float().permute(2, 0, 1)[None] / 255
    fmap = torch.nn.functional.avg_pool2d(letterboxed, stride)  # (1, 3, H/stride, W/stride)

    def pooled(box) -> float:
        cells = torch.from_numpy(plan.to_cells(np.array([box], dtype=np.float32), stride))
        rois = torch.cat([torch.zeros(1, 1), cells], dim=1)
        return float(roi_align(fmap, rois, 4, spatial_scale=1.0, sampling_ratio=4, aligned=True).mean())

    x0, y0, x1, y1 = square
    m = 2 * stride  # one cell, in source pixels
    assert pooled((x0 + m, y0 + m, x1 - m, y1 - m)) > 0.85
    assert pooled((x1 + m, y0 + m, x1 + 3 * m, y1 - m)) < 0.15  # right of the square
    assert pooled((x0 + m, y1 + m, x1 - m, 440)) < 0.15  # below it, down to the image edge
    assert pooled((0, 0, x0 - m, 440)) < 0.15  # left of it
    assert abs(pooled((x0 - m, y0 + m, x0 + m, y1 - m)) - 0.5) < 0.1  # straddling the left edge
    assert abs(pooled((x0 + m, y0 - m, x1 - m, y0 + m)) - 0.5) < 0.15  # straddling the top edge


def test_click_picks_the_smallest_box_containing_the_point():
    boxes = [(0, 0, 100, 100), (10, 10, 40, 40), (30, 30, 90, 90)]
    assert smallest_box_at(boxes, 20, 20) == 1
    assert smallest_box_at(boxes, 35, 35) == 1  # inside all three: the smallest wins
    assert smallest_box_at(boxes, 60, 60) == 2
    assert smallest_box_at(boxes, 95, 5) == 0
    assert smallest_box_at(boxes, 150, 5) is None
    assert smallest_box_at([], 1, 1) is None


def test_clicking_again_cycles_through_the_boxes_under_the_pointer():
    boxes = [(0, 0, 100, 100), (10, 10, 40, 40), (30, 30, 90, 90)]  # at (35, 35) all three, smallest first: 1, 2, 0
    assert box_at_click(boxes, 35, 35, None) == 1
    assert box_at_click(boxes, 35, 35, 1) == 2
    assert box_at_click(boxes, 35, 35, 2) == 0  # the covered outer box is reachable
    assert box_at_click(boxes, 35, 35, 0) == 1  # and round again
    assert box_at_click(boxes, 60, 60, 1) == 2  # a selection elsewhere: the smallest under the new point
    assert box_at_click(boxes, 150, 5, 0) is None
