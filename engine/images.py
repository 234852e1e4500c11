"""Safe image decoding: any upload or catalogue file becomes an 8-bit RGB PIL image or a clear error.

Accepted formats are photo formats only: JPEG (and MPO), PNG, WebP, HEIC/HEIF, AVIF, TIFF, BMP and GIF; of an
animated or multi-page file the first frame is used. Anything else Pillow could decode (EPS via Ghostscript,
PCX, TGA, ICO, JPEG 2000, ...) is refused by name, whatever the file is called.

Decode cost is bounded from the header, before any pixel is decoded: files over `MAX_FILE_BYTES` are refused;
a baseline JPEG of up to `HARD_MAX_PIXELS` is decoded at a reduced scale (libjpeg's draft mode, which never
holds the full image), every other image must fit `FULL_DECODE_MAX_PIXELS` because it is decoded whole.
Images above `MAX_PIXELS` are shrunk by an integer factor in their own mode, and only then converted to RGB.
Damaged EXIF is ignored: the image is used unrotated.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError

try:  # iPhone photos; registering it also stops Ultralytics' PIL patch from pip-installing it at runtime
    from pi_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - optional
    pass

MAX_PIXELS = 40_000_000  # larger photos are downscaled on decode
HARD_MAX_PIXELS = 400_000_000  # baseline JPEG (draft-mode decode) above this: refused as a decompression bomb
FULL_DECODE_MAX_PIXELS = 50_000_000  # any other image is decoded whole: 48 MP phone photos fit, bombs do not
MAX_FILE_BYTES = 100 * 2**20  # the app's upload limit (.streamlit/config.toml)
MAX_JPEG_SCANS = 100  # a normal progressive JPEG has about 10; thousands make a CPU bomb
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "AVIF", "TIFF", "BMP", "GIF")  # the JPEG plugin also opens MPO
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif")
DECODE_ERRORS = (OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError, KeyError, TypeError)
DECODE_ERRORS += (ZeroDivisionError, RuntimeError, MemoryError, OverflowError)
ALPHA_MODES = ("RGBA", "LA", "PA", "La", "RGBa")
ORIENTATION = 0x0112
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

Image.MAX_IMAGE_PIXELS = HARD_MAX_PIXELS


class ImageLoadError(ValueError):
    """An input that cannot be used as a photo; the message is meant for the user."""


def load_image(source: str | Path | bytes, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Decode a path or bytes into an upright 8-bit RGB image of at most `max_pixels` pixels.

    Handles EXIF rotation, CMYK, palette/alpha, 16-bit and float modes; `image.info["original_pixels"]` keeps
    the size before any downscaling (see `was_downscaled`). Raises `ImageLoadError`
    with a human-readable message for non-images, other formats, damaged files and absurdly large images.
    """
    data = _read(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = _open(data)
            original_size = image.size
            _check_cost(image, data)
            _shrink_on_decode(image, max_pixels)
            image.load()
            transpose = TRANSPOSE.get(_orientation(image))
            image = to_rgb8(downscale(image, max_pixels))
    except ImageLoadError:
        raise
    except (UnidentifiedImageError, ImportError, Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise ImageLoadError(_describe(err)) from err
    except DECODE_ERRORS as err:
        raise ImageLoadError(f"The image file is damaged or truncated ({type(err).__name__}: {err}).") from err
    image = image.transpose(transpose) if transpose is not None else image
    image.info["original_pixels"] = original_size[0] * original_size[1]  # more than width*height: downscaled
    return image


def was_downscaled(image: Image.Image) -> bool:
    """True when `load_image` shrank the photo to fit its pixel budget."""
    return image.info.get("original_pixels", 0) > image.width * image.height


def _read(source: str | Path | bytes) -> bytes:
    """The file's bytes, refusing empty and oversized files before reading them."""
    if isinstance(source, (str, Path)):
        if Path(source).stat().st_size > MAX_FILE_BYTES:
            raise ImageLoadError(f"The file is larger than {MAX_FILE_BYTES // 2**20} MB.")
        source = Path(source).read_bytes()
    if not source:
        raise ImageLoadError("The file is empty.")
    if len(source) > MAX_FILE_BYTES:
        raise ImageLoadError(f"The file is larger than {MAX_FILE_BYTES // 2**20} MB.")
    return source


def _open(data: bytes) -> Image.Image:
    """Parse the header with the accepted formats' plugins only; name any other format in the error."""
    try:
        return Image.open(io.BytesIO(data), formats=_available_formats())
    except UnidentifiedImageError:
        other = _identify(data)
        if other is None:
            raise
        raise ImageLoadError(
            f"{other} images are not accepted; use a photo format ({', '.join(_format_names())})."
        ) from None


def _available_formats() -> list[str]:
    """The accepted formats this Pillow can open (HEIF needs pi_heif; Pillow fails on an unknown name)."""
    Image.init()
    return [name for name in ACCEPTED_FORMATS if name in Image.OPEN]


def _identify(data: bytes) -> str | None:
    """The format name any Pillow plugin gives the header (nothing is decoded), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(io.BytesIO(data)) as other:
                return other.format
    except Exception:  # only names the format of a file that is refused anyway
        return None


def _format_names() -> list[str]:
    """Accepted formats as users know them."""
    return ["JPEG", "PNG", "WebP", "HEIC", "AVIF", "TIFF", "BMP", "GIF"]


def _check_cost(image: Image.Image, data: bytes) -> None:
    """Refuse, from the header, images that would cost too much time or memory to decode."""
    pixels = image.width * image.height
    if image.format in ("JPEG", "MPO"):
        scans = data.count(b"\xff\xda")
        if scans > MAX_JPEG_SCANS:
            raise ImageLoadError(f"The JPEG has {scans} scans; at most {MAX_JPEG_SCANS} are accepted.")
        buffered = "progressive" in image.info or "progression" in image.info or scans > 2
        limit = FULL_DECODE_MAX_PIXELS if buffered else HARD_MAX_PIXELS  # buffered: coefficients of every pixel
    else:
        limit = FULL_DECODE_MAX_PIXELS
    if pixels >= limit:
        raise ImageLoadError(_too_large(limit))


def _too_large(limit: int) -> str:
    """The user-facing sentence for an image over a pixel limit."""
    return f"The image is too large to process safely ({limit // 1_000_000} megapixels or more)."


def _describe(err: Exception) -> str:
    """A user-facing sentence for a decode failure."""
    if isinstance(err, (UnidentifiedImageError, ImportError)):
        return f"This file is not an image that can be read ({', '.join(_format_names())} expected)."
    return _too_large(HARD_MAX_PIXELS)


def _shrink_on_decode(image: Image.Image, max_pixels: int) -> None:
    """Let the JPEG decoder skip detail we would throw away: it decodes to about max_pixels / 4 .. max_pixels."""
    width, height = image.size
    if image.format in ("JPEG", "MPO") and width * height > max_pixels:
        scale = (max_pixels / 4 / (width * height)) ** 0.5
        image.draft(image.mode, (max(1, int(width * scale + 1)), max(1, int(height * scale + 1))))


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 = upright); damaged EXIF counts as upright."""
    try:
        return int(image.getexif().get(ORIENTATION, 1))
    except Exception:  # any EXIF parser failure (SyntaxError, struct.error, ...) means "no EXIF"
        return 1


def to_rgb8(image: Image.Image) -> Image.Image:
    """Convert any PIL mode (CMYK, I;16, F, LA, P, RGBA ...) to 8-bit RGB; alpha is composited on white."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return _high_depth_to_l(image).convert("RGB")
    if image.mode in ALPHA_MODES or (image.mode == "P" and "transparency" in image.info):
        rgba = image if image.mode in ("RGBA", "LA") else image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba)
        return background
    return image.convert("RGB")


def _high_depth_to_l(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit int and float greyscale -> 8-bit: 16-bit (or values above 255) scaled from 0..65535."""
    top = 65535.0 if image.mode.startswith("I;16") else 255.0
    if image.mode != "F":
        image = image.convert("I")
    if top == 255.0 and image.getextrema()[1] > 255:
        top = 65535.0
    if top != 255.0:
        image = image.point(lambda value: value * (255.0 / top))
    return image.convert("L")


def downscale(image: Image.Image, max_pixels: int) -> Image.Image:
    """Shrink by the smallest integer factor that gives width * height <= max_pixels, in the image's own mode.

    A box-filter `reduce` (one pass, no full-size intermediate); nearest-neighbour for palette, bilevel and
    16-bit modes, which `reduce` does not support.
    """
    width, height = image.size
    if width * height <= max_pixels:
        return image
    factor = max(2, math.ceil((width * height / max_pixels) ** 0.5))
    while math.ceil(width / factor) * math.ceil(height / factor) > max_pixels:
        factor += 1
    if image.mode in ("1", "P") or image.mode.startswith("I;16"):
        return image.resize((math.ceil(width / factor), math.ceil(height / factor)), Image.Resampling.NEAREST)
    return image.reduce(factor)


def is_image_file(path: Path) -> bool:
    """True for a file name with a known image suffix."""
    return path.suffix.lower() in IMAGE_SUFFIXES
