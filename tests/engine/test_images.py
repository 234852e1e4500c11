"""Bad and unusual inputs decode correctly or fail with a clear ImageLoadError."""

import io

import numpy as np
import pytest
from PIL import Image

from engine.images import MAX_PIXELS, ImageLoadError, load_image
from tests.conftest import jpeg_bytes, truncated_jpeg


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_text_file_renamed_jpg_is_refused(tmp_path):
    fake = tmp_path / "photo.jpg"
    fake.write_text("definitely not an image")
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(fake)


def test_truncated_jpeg_is_refused():
    with pytest.raises(ImageLoadError, match="damaged or truncated"):
        load_image(truncated_jpeg())


def test_empty_file_is_refused():
    with pytest.raises(ImageLoadError, match="empty"):
        load_image(b"")


def test_huge_photo_is_downscaled_under_the_limit():
    huge = Image.new("RGB", (9000, 6000), (10, 120, 200))  # 54 MP
    image = load_image(jpeg_bytes(huge, quality=50))
    assert image.width * image.height <= MAX_PIXELS
    assert abs(image.width / image.height - 1.5) < 0.01
    assert np.abs(np.asarray(image)[100, 100].astype(int) - [10, 120, 200]).max() < 8


def test_decompression_bomb_is_refused():
    bomb = Image.new("1", (25000, 20000))  # 500 MP, tiny as a PNG
    with pytest.raises(ImageLoadError, match="too large"):
        load_image(png_bytes(bomb))


def test_exif_rotation_is_applied():
    landscape = Image.new("RGB", (400, 200), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    image = load_image(jpeg_bytes(landscape, exif=exif.tobytes()))
    assert image.size == (200, 400)


def test_cmyk_becomes_rgb():
    cmyk = Image.new("CMYK", (64, 48), (0, 255, 255, 0))  # red in CMYK
    image = load_image(jpeg_bytes(cmyk))
    assert image.mode == "RGB"
    red, green, blue = np.asarray(image)[24, 32]
    assert red > 200 and green < 60 and blue < 60


def test_16_bit_grey_is_scaled_to_8_bit():
    array = np.full((32, 32), 65535 // 2, dtype=np.uint16)
    image = load_image(png_bytes(Image.fromarray(array)))
    assert image.mode == "RGB"
    assert 120 <= np.asarray(image)[0, 0, 0] <= 135


def test_transparent_png_is_flattened_on_white():
    rgba = Image.new("RGBA", (16, 16), (0, 0, 0, 0))
    assert tuple(np.asarray(load_image(png_bytes(rgba)))[8, 8]) == (255, 255, 255)
