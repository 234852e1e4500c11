"""Safe image decoding: any upload or catalogue file becomes an 8-bit RGB PIL image or a clear error."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

try:  # iPhone photos; registering it also stops Ultralytics' PIL patch from pip-installing it at runtime
    from pi_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - optional
    pass

MAX_PIXELS = 40_000_000  # larger photos are downscaled on decode
HARD_MAX_PIXELS = 400_000_000  # beyond this we refuse: decompression-bomb territory
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif")

Image.MAX_IMAGE_PIXELS = HARD_MAX_PIXELS


class ImageLoadError(ValueError):
    """An input that cannot be used as a photo; the message is meant for the user."""


def load_image(source: str | Path | bytes, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode a path or bytes into an upright 8-bit RGB image of at most `max_pixels` pixels.

    Handles EXIF rotation, CMYK, palette/alpha, 16-bit and float modes. Raises `ImageLoadError`
    with a human-readable message for non-images, truncated files and absurdly large images.
    """
    data = Path(source).read_bytes() if isinstance(source, (str, Path)) else source
    if not data:
        raise ImageLoadError("The file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            _shrink_on_decode(image, max_pixels)
            image.load()
    except (UnidentifiedImageError, ImportError, Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageLoadError(_describe(err)) from err
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageLoadError(f"The image file is damaged or truncated ({err}).") from err
    image = ImageOps.exif_transpose(image)
    image = to_rgb8(image)
    return downscale(image, max_pixels)


def _describe(err: Exception) -> str:
    """A user-facing sentence for a decode failure."""
    if isinstance(err, (UnidentifiedImageError, ImportError)):
        return "This file is not an image that can be read (JPEG, PNG, WebP, HEIC, BMP or TIFF expected)."
    return f"The image is too large to process safely (more than {HARD_MAX_PIXELS // 1_000_000} megapixels)."


def _shrink_on_decode(image: Image.Image, max_pixels: int) -> None:
    """Let the JPEG decoder skip detail we would throw away anyway (cheap for 50 MP photos)."""
    width, height = image.size
    if image.format == "JPEG" and width * height > max_pixels:
        scale = (max_pixels / (width * height)) ** 0.5
        image.draft(image.mode, (int(width * scale), int(height * scale)))


def to_rgb8(image: Image.Image) -> Image.Image:
    """Convert any PIL mode (CMYK, I;16, F, LA, P, RGBA ...) to 8-bit RGB; alpha is composited on white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        array = np.clip(array / top * 255.0, 0, 255).astype(np.uint8)
        return Image.fromarray(array, "L").convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def downscale(image: Image.Image, max_pixels: int) -> Image.Image:
    """Resize so that width * height <= max_pixels, keeping the aspect ratio."""
    width, height = image.size
    if width * height <= max_pixels:
        return image
    scale = (max_pixels / (width * height)) ** 0.5
    size = (max(1, int(width * scale)), max(1, int(height * scale)))
    return image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)


def is_image_file(path: Path) -> bool:
    """True for a file name with a known image suffix."""
    return path.suffix.lower() in IMAGE_SUFFIXES
