"""A generated corpus of malformed images: each loads to an RGB image within the cap or raises ImageLoadError.

Truncations, random bytes, bit flips, EXIF mutations, bombs, polyglots, animated and multi-frame files, built here
from a seeded generator and run through `engine.load_image` (the path the app and the builder use).
"""

from __future__ import annotations

import io
import random
import struct
import warnings
import zlib

import pytest
from PIL import Image

from engine.images import MAX_PIXELS, ImageLoadError, load_image

SEED = 11


def encoded(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def exif_bytes(orientation: int = 6) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "Lookalike test camera"
    return exif.tobytes()


def photo(rng: random.Random, size=(48, 32)) -> Image.Image:
    """A small noisy RGB image (noise makes decoders read every byte)."""
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def frames(rng: random.Random) -> list[Image.Image]:
    return [photo(rng, (40, 30)) for _ in range(3)]


def bases(rng: random.Random) -> dict[str, bytes]:
    """Valid files of every accepted kind, several with EXIF, animated or multi-frame."""
    moving = frames(rng)
    return {
        "jpeg-exif": encoded(photo(rng), "JPEG", exif=exif_bytes()),
        "jpeg-progressive": encoded(photo(rng), "JPEG", progressive=True, quality=80),
        "png-exif": encoded(photo(rng), "PNG", exif=exif_bytes(8)),
        "png-alpha": encoded(photo(rng).convert("RGBA"), "PNG"),
        "webp-exif": encoded(photo(rng), "WEBP", exif=exif_bytes(3)),
        "gif-animated": encoded(moving[0], "GIF", save_all=True, append_images=moving[1:]),
        "webp-animated": encoded(moving[0], "WEBP", save_all=True, append_images=moving[1:]),
        "tiff-multi": encoded(moving[0], "TIFF", save_all=True, append_images=moving[1:]),
        "bmp": encoded(photo(rng), "BMP"),
        "avif": encoded(photo(rng), "AVIF"),
    }


def truncations(base: dict[str, bytes]) -> dict[str, bytes]:
    """Every base cut at 12 offsets, from the first bytes to one byte short."""
    out = {}
    for name, data in base.items():
        for cut in sorted({1, 2, 4, 8, 16, 33, 64, 128, len(data) // 3, len(data) // 2, len(data) - 10, len(data) - 1}):
            out[f"{name}-cut{cut}"] = data[:cut]
    return out


def bit_flips(base: dict[str, bytes], rng: random.Random, per_file: int = 5) -> dict[str, bytes]:
    """Every base with 1..20 random bytes overwritten (headers included)."""
    out = {}
    for name, data in base.items():
        for i in range(per_file):
            mutated = bytearray(data)
            for _ in range(rng.randint(1, 20)):
                position = rng.randrange(min(len(data), 200)) if i % 2 else rng.randrange(len(data))
                mutated[position] = rng.randrange(256)
            out[f"{name}-flip{i}"] = bytes(mutated)
    return out


def exif_mutations(rng: random.Random) -> dict[str, bytes]:
    """JPEG, PNG and WebP carrying random, truncated or bit-flipped EXIF."""
    out = {}
    good = exif_bytes()
    for i in range(6):
        if i < 2:
            exif = b"Exif\0\0" + rng.randbytes(rng.randint(0, 80))
        elif i < 4:
            exif = good[: rng.randint(2, len(good) - 1)]
        else:
            exif = bytearray(good)
            for _ in range(6):
                exif[rng.randrange(len(exif))] = rng.randrange(256)
            exif = bytes(exif)
        for fmt in ("JPEG", "PNG", "WEBP"):
            out[f"exif{i}-{fmt.lower()}"] = encoded(photo(rng, (24, 16)), fmt, exif=exif)
    return out


def random_files(rng: random.Random) -> dict[str, bytes]:
    """Pure noise, and noise behind each format's magic bytes."""
    magics = {
        "jpeg": b"\xff\xd8\xff\xe0",
        "png": b"\x89PNG\r\n\x1a\n",
        "gif": b"GIF89a",
        "webp": b"RIFF\x10\0\0\0WEBPVP8 ",
        "tiff-le": b"II*\0",
        "tiff-be": b"MM\0*",
        "bmp": b"BM",
        "avif": b"\0\0\0\x1cftypavif",
        "heic": b"\0\0\0\x18ftypheic",
    }
    out = {f"noise{i}": rng.randbytes(rng.choice([1, 7, 100, 1000, 5000])) for i in range(10)}
    for name, magic in magics.items():
        for i in range(3):
            out[f"{name}-magic-noise{i}"] = magic + rng.randbytes(rng.choice([0, 10, 300, 3000]))
    return out


def png_with_size(width: int, height: int, mode_byte: int = 0, idat: bytes = b"") -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, mode_byte, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def bombs(base: dict[str, bytes]) -> dict[str, bytes]:
    """Headers claiming huge sizes (some with data that inflates enormously), in every accepted format."""
    zeros = zlib.compress(b"\0" * 20_000_000, 9)  # 20 MB of rows from a few KB
    out = {
        "png-huge-empty": png_with_size(30000, 30000),
        "png-200mp-zeros": png_with_size(20000, 10000, 0, zeros),
        "png-49mp-zeros": png_with_size(7000, 7000, 0, zeros),  # accepted, but its data stops early
        "png-2g-wide": png_with_size(2**31 - 1, 1),
        "png-zero-size": png_with_size(0, 0),
        "gif-huge": b"GIF89a" + struct.pack("<HH", 65535, 65535) + base["gif-animated"][10:],
        "bmp-huge": base["bmp"][:18] + struct.pack("<ii", 60000, -60000) + base["bmp"][26:],
    }
    for progressive, name in ((False, "jpeg-exif"), (True, "jpeg-progressive")):
        data = base[name]
        sof = data.index(b"\xff\xc2" if progressive else b"\xff\xc0")
        for width, height in ((65535, 65535), (20000, 20000), (8000, 8000)):
            out[f"{name}-sof{width}x{height}"] = data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9 :]
    return out


def polyglots(base: dict[str, bytes], rng: random.Random) -> dict[str, bytes]:
    """Files that are two things at once, or an image wrapped in something else."""
    html = b"<html><script>alert(1)</script></html>"
    return {
        "png-then-jpeg": base["png-exif"] + base["jpeg-exif"],
        "jpeg-then-zip": base["jpeg-exif"] + b"PK\x03\x04" + rng.randbytes(200),
        "gif-then-html": base["gif-animated"] + html,
        "html-then-png": html + base["png-exif"],
        "png-sig-jpeg-body": b"\x89PNG\r\n\x1a\n" + base["jpeg-exif"],
        "jpeg-in-riff": b"RIFF" + struct.pack("<I", len(base["jpeg-exif"]) + 4) + b"WEBP" + base["jpeg-exif"],
        "jpeg-many-scans": base["jpeg-progressive"][:-2] + b"\xff\xda\0\x08\x01\x01\0\0\x3f\0" * 500 + b"\xff\xd9",
        "pdf-header": b"%PDF-1.4\n" + base["jpeg-exif"],
        "eps": encoded(Image.new("RGB", (16, 16)), "EPS"),
        "ico": encoded(Image.new("RGB", (16, 16)), "ICO"),
        "tga": encoded(Image.new("RGB", (16, 16)), "TGA"),
        "pcx": encoded(Image.new("RGB", (16, 16)), "PCX"),
        "jpeg2000": encoded(Image.new("RGB", (16, 16)), "JPEG2000"),
    }


def corpus() -> dict[str, bytes]:
    """The whole generated corpus, name -> bytes (deterministic)."""
    rng = random.Random(SEED)
    base = bases(rng)
    files = dict(base)
    for part in (truncations(base), bit_flips(base, rng), exif_mutations(rng), random_files(rng), bombs(base)):
        files.update(part)
    files.update(polyglots(base, rng))
    return files


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return corpus()


def test_the_corpus_is_big_and_varied(files):
    assert len(files) >= 200
    assert sum(name.startswith(("noise", "exif")) for name in files) >= 25


def test_every_file_loads_within_the_cap_or_raises_image_load_error(files):
    loaded, refused, other = [], [], []
    for name, data in files.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                image = load_image(data)
        except ImageLoadError:
            refused.append(name)
        except Exception as err:  # what this test is about: any other exception is a defect
            other.append(f"{name}: {type(err).__name__}: {err}")
        else:
            loaded.append(name)
            assert image.mode == "RGB" and 0 < image.width * image.height <= MAX_PIXELS, name
    assert other == [], "\n".join(other)
    assert {"jpeg-exif", "png-exif", "webp-exif", "gif-animated", "webp-animated", "tiff-multi", "avif"} <= set(loaded)
    assert {"png-huge-empty", "png-200mp-zeros", "jpeg-many-scans", "eps", "jpeg2000", "noise0"} <= set(refused)
