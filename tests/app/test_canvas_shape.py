"""Canvas JSON (as streamlit-drawable-canvas 0.13 / Fabric 7 sends it) -> clicks and boxes."""

import pytest

from pages.shared import canvas_shape


def test_point_mode_circle_is_a_click_at_the_pointer():
    # a click at (600, 99.2) with point_display_radius=5 and stroke_width=3, as seen in Chromium
    circle = {"type": "Circle", "originX": "left", "originY": "center", "left": 593.5, "top": 99.2,
              "radius": 5, "width": 10, "height": 10, "strokeWidth": 3}  # fmt: skip
    kind, (x, y) = canvas_shape(circle, min_drag=8)
    assert kind == "click" and x == pytest.approx(600) and y == pytest.approx(99.2)


def test_rect_mode_drag_is_a_box():
    rect = {"type": "Rect", "originX": "left", "originY": "top", "left": 330, "top": 239.8, "width": 485,
            "height": 245, "strokeWidth": 3, "scaleX": 1, "scaleY": 1}  # fmt: skip
    assert canvas_shape(rect, min_drag=8) == ("box", (330, 239.8, 815, 484.8))


def test_a_tiny_rect_is_a_click_and_scaling_is_applied():
    tiny = {"type": "Rect", "left": 100, "top": 50, "width": 4, "height": 2}
    assert canvas_shape(tiny, min_drag=8) == ("click", (102, 51))
    scaled = {"type": "rect", "left": 10, "top": 20, "width": 10, "height": 10, "scaleX": 3, "scaleY": 2}
    assert canvas_shape(scaled, min_drag=8) == ("box", (10, 20, 40, 40))
