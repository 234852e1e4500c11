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


def encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


CORRUPT_EXIF = [b"Exif\0\0" + bytes(range(7, 47)), b"Exif\0\0MM\0*\0\0\0\x08\xff\xff", b"Exif\0\0II*\0" + b"\xff" * 4]


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "JPEG"])
@pytest.mark.parametrize("exif", CORRUPT_EXIF, ids=["random", "bad-ifd-offset", "truncated-ifd"])
def test_corrupt_exif_is_ignored_and_the_image_used_unrotated(fmt, exif):
    image = load_image(encoded(Image.new("RGB", (40, 20), (0, 0, 255)), fmt, exif=exif))
    assert image.size == (40, 20) and image.mode == "RGB"


def test_exif_rotation_is_applied_to_png_and_webp_too():
    exif = Image.Exif()
    exif[0x0112] = 8
    for fmt in ("PNG", "WEBP"):
        assert load_image(encoded(Image.new("RGB", (40, 20)), fmt, exif=exif.tobytes())).size == (20, 40)


@pytest.mark.parametrize(("fmt", "name"), [("PCX", "PCX"), ("TGA", "TGA"), ("ICO", "ICO"), ("EPS", "EPS")])
def test_formats_other_than_photo_formats_are_refused_by_name(fmt, name):
    with pytest.raises(ImageLoadError, match=f"{name}.*not accepted"):
        load_image(encoded(Image.new("RGB", (32, 32), (9, 9, 9)), fmt))


def test_jpeg_2000_is_refused_by_name():
    with pytest.raises(ImageLoadError, match="JPEG2000.*not accepted"):
        load_image(encoded(Image.new("RGB", (32, 32)), "JPEG2000"))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", "BMP", "GIF", "AVIF", "MPO"])
def test_photo_formats_are_accepted(fmt):
    second = {"save_all": True, "append_images": [Image.new("RGB", (32, 24))]} if fmt == "MPO" else {}
    assert load_image(encoded(Image.new("RGB", (32, 24), (200, 100, 0)), fmt, **second)).size == (32, 24)


def test_multi_frame_files_give_their_first_frame():
    frames = [Image.new("RGB", (30, 20), colour) for colour in ((250, 0, 0), (0, 250, 0), (0, 0, 250))]
    for fmt in ("GIF", "WEBP", "TIFF", "PNG"):
        data = encoded(frames[0], fmt, save_all=True, append_images=frames[1:])
        red, green, blue = np.asarray(load_image(data))[10, 15].astype(int)
        assert red > 200 and green < 60 and blue < 60, fmt


def test_a_file_over_the_byte_limit_is_refused(tmp_path):
    path = tmp_path / "big.jpg"  # 100 MB, sparse
    with open(path, "wb") as handle:
        handle.truncate(100 * 2**20 + 1)
    with pytest.raises(ImageLoadError, match="larger than"):
        load_image(path)
