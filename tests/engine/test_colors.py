"""Product colours: dominant CIELAB colours of a product on a white backdrop, and colour words as regions."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.search.colors import (
    REGIONS,
    color_region,
    color_share,
    dominant_colors,
    format_colors,
    parse_colors,
)


def product_shot(colour, backdrop=(255, 255, 255), second=None) -> Image.Image:
    """A 'product' (an ellipse, optionally with a second-colour base) on a studio backdrop."""
    image = Image.new("RGB", (200, 200), backdrop)
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 30, 160, 170), fill=colour, outline=(180, 180, 180))
    if second:
        draw.rectangle((60, 150, 140, 190), fill=second)
    return image


def named(colors: np.ndarray) -> str:
    """The colour word nearest the largest cluster."""
    return min(REGIONS, key=lambda name: float(REGIONS[name].distance(colors[:1, :3])[0]))


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((40, 150, 60), "green"), ((30, 70, 40), "green"), ((200, 30, 30), "red"), ((240, 160, 180), "pink"),
        ((240, 130, 30), "orange"), ((240, 210, 40), "yellow"), ((220, 200, 170), "beige"), ((120, 80, 40), "brown"),
        ((60, 190, 190), "turquoise"), ((40, 80, 200), "blue"), ((20, 30, 80), "blue"), ((120, 50, 160), "purple"),
        ((128, 128, 128), "grey"), ((20, 20, 20), "black"), ((250, 250, 250), "white"),
    ],
)  # fmt: skip
def test_a_product_shot_is_its_colour_not_its_backdrop(rgb, name):
    colors = dominant_colors(product_shot(rgb))
    assert named(colors) == name
    assert colors[:, 3].sum() == pytest.approx(1.0, abs=1e-5)


def test_two_colours_get_their_shares():
    colors = dominant_colors(product_shot((40, 150, 60), second=(120, 80, 40)))
    assert color_share(colors, REGIONS["green"]) > 0.6
    assert 0.05 < color_share(colors, REGIONS["brown"]) < 0.4
    assert color_share(colors, REGIONS["white"]) < 0.05  # the backdrop is gone


def test_a_box_limits_the_colours_to_the_crop():
    image = Image.new("RGB", (200, 100), (200, 30, 30))
    image.paste((40, 80, 200), (100, 0, 200, 100))
    assert named(dominant_colors(image, box=(110, 10, 190, 90))) == "blue"
    assert named(dominant_colors(np.asarray(image), box=(0, 0, 90, 100))) == "red"


def test_colour_phrases_are_regions_with_modifiers_and_synonyms():
    dark_blue, navy, light = color_region("dark blue"), color_region("navy"), color_region("light grey")
    assert dark_blue == navy and dark_blue.lightness[1] == 50
    assert light.lightness[0] == 60 and color_region("gray") == REGIONS["grey"]
    assert color_region("velvet") is None and color_region("very dark blue") is None
    assert color_region("big blue") is None
    lab = np.array([[30.0, 10.0, -40.0], [80.0, 0.0, -25.0]])  # dark blue, light blue
    assert (navy.distance(lab) == 0).tolist() == [True, False]


def test_distance_grows_outside_the_region_and_hue_wraps():
    pink = REGIONS["pink"]  # hue 330..30 wraps through 0
    on_wrap = np.array([[70.0, 30.0, 0.0], [70.0, 30.0, -5.0]])
    assert pink.distance(on_wrap).tolist() == [0.0, 0.0]
    green = REGIONS["green"]
    near, far = green.distance(np.array([[50.0, -5.0, 45.0], [50.0, 40.0, 40.0]]))
    assert 0 < near < far


def test_colours_round_trip_through_the_metadata_text():
    colors = dominant_colors(product_shot((40, 150, 60), second=(120, 80, 40)))
    back = parse_colors(format_colors(colors))
    assert back.shape == colors.shape and np.allclose(back, colors, atol=0.06)
    for bad in (None, float("nan"), "", "1,2,3", "a,b,c,d", "1,2,3,inf"):
        assert parse_colors(bad) is None
