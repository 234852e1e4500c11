"""Every generated background: the right size and range, the same pixels for the same seed, others for another."""

import numpy as np
import pytest
from PIL import Image

from training import backgrounds


def pixels(style: str, seed: int, h: int = 48, w: int = 64) -> tuple[np.ndarray, object]:
    """A background of one style as an array, plus what else the generator returned (floor row / style name)."""
    rng = np.random.default_rng(seed)
    if style == "training":
        image, extra = backgrounds.make_background(rng, h, w, [])
    elif style == "held-out":
        image, extra = backgrounds.held_out_background(rng, h, w)
    else:
        image, extra = Image.fromarray(backgrounds.shot_backdrop(rng, h, w).astype(np.uint8)), None
    return np.asarray(image), extra


@pytest.mark.parametrize("style", ["training", "held-out", "shot"])
def test_same_seed_same_pixels_other_seed_other_pixels(style):
    first, extra = pixels(style, 3)
    assert first.shape == (48, 64, 3) and first.dtype == np.uint8
    again, extra_again = pixels(style, 3)
    assert np.array_equal(first, again) and extra == extra_again
    assert not np.array_equal(first, pixels(style, 4)[0])


def test_held_out_styles_all_occur_and_a_room_has_its_floor_inside():
    styles = {pixels("held-out", seed)[1] for seed in range(40)}
    assert styles == set(backgrounds.HELD_OUT_STYLES)
    floors = [pixels("training", seed)[1] for seed in range(40)]
    rooms = [f for f in floors if f is not None]
    assert rooms and len(rooms) < len(floors)  # rooms (with a floor row) and plain textures both occur
    assert all(0 < f < 48 for f in rooms)


def test_a_photo_background_is_a_crop_of_the_photo(tmp_path):
    photo = tmp_path / "wall.png"
    Image.new("RGB", (80, 60), (200, 40, 40)).save(photo)
    arr = backgrounds.photo_background(np.random.default_rng(0), 30, 40, str(photo))
    assert arr.shape == (30, 40, 3) and np.allclose(arr, (200, 40, 40))
