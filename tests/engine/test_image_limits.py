"""Decode cost: every accepted image decodes within the time and memory budget, or is refused from its header.

Each case is a real file written here (streamed, so the test itself stays small) and decoded by `engine.load_image`
in a forked subprocess that reports the CPU seconds and the peak resident memory the decode added.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
MAX_SECONDS = 3.0  # CPU seconds, so a busy machine does not make it flaky
MAX_EXTRA_MB = 500
PNG_COLOUR = {"L": (0, 1), "RGB": (2, 3), "P": (3, 1), "RGBA": (6, 4), "I;16": (0, 2)}  # colour type, bytes/px

MEASURE = """
import json, os, sys, time
import engine  # once; each case is then decoded in a fork, so no case inherits another's freed memory

def status_mb(field):
    return int(next(l for l in open("/proc/self/status") if l.startswith(field)).split()[1]) // 1024

def measure(path):
    data = open(path, "rb").read()
    open("/proc/self/clear_refs", "w").write("5")  # resets the peak (VmHWM) to the current RSS
    before, started = status_mb("VmRSS"), time.process_time()
    try:
        image = engine.load_image(data)
        outcome = f"{image.mode} {image.width}x{image.height}"
    except engine.ImageLoadError as err:
        outcome = f"refused: {err}"
    return {"seconds": time.process_time() - started, "extra_mb": status_mb("VmHWM") - before, "outcome": outcome}

results = {}
for path in sys.argv[1:]:
    read, write = os.pipe()
    if os.fork() == 0:
        os.write(write, json.dumps(measure(path)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        results[path] = json.loads(pipe.read())
    os.wait()
print(json.dumps(results))
"""


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def streamed_png(path: Path, width: int, height: int, mode: str = "L", value: int = 0) -> Path:
    """A PNG of one flat colour, compressed row by row (never held whole in memory)."""
    colour, size = PNG_COLOUR[mode]
    depth = 16 if mode == "I;16" else 8
    with open(path, "wb") as out:
        header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
        out.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header))
        if mode == "P":
            out.write(png_chunk(b"PLTE", bytes([value, 90, 200] * 2)) + png_chunk(b"tRNS", b"\x80"))
        compressor, row = zlib.compressobj(6), b"\0" + bytes([value]) * (width * size)
        rows_per_write = max(1, (1 << 22) // len(row))
        for start in range(0, height, rows_per_write):
            out.write(png_chunk(b"IDAT", compressor.compress(row * min(rows_per_write, height - start))))
        out.write(png_chunk(b"IDAT", compressor.flush()) + png_chunk(b"IEND", b""))
    return path


def grey_jpeg(path: Path, width: int, height: int, progressive: bool = False) -> Path:
    """A valid mid-grey greyscale JPEG of any size: every 8x8 block codes as 'DC diff 0, EOB' (6 bits)."""
    data = io.BytesIO()
    Image.new("L", (32, 8), 128).save(data, "JPEG", quality=90, progressive=progressive)
    head = data.getvalue()
    sof = head.index(b"\xff\xc2" if progressive else b"\xff\xc0")
    head = head[: sof + 5] + struct.pack(">HH", height, width) + head[sof + 9 :]
    sos = head.index(b"\xff\xda")
    header_end = sos + 2 + struct.unpack(">H", head[sos + 2 : sos + 4])[0]
    blocks = -(-width // 8) * -(-height // 8)
    with open(path, "wb") as out:
        out.write(head[:header_end])
        if not progressive:  # 4 blocks = 24 bits = b"\x28\xa2\x8a"
            for start in range(0, blocks // 4, 1 << 20):
                out.write(b"\x28\xa2\x8a" * min(1 << 20, blocks // 4 - start))
        out.write(b"\xff\xd9")
    return path


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> dict:
    """Decode every case in one fresh process; returns file name -> {seconds, extra_mb, outcome}."""
    root = tmp_path_factory.mktemp("limits")
    cases = [
        streamed_png(root / "grey-400mp.png", 20000, 20000),
        streamed_png(root / "grey-60mp.png", 10000, 6000),
        streamed_png(root / "rgba-48mp.png", 8000, 6000, "RGBA"),
        streamed_png(root / "palette-alpha-48mp.png", 8000, 6000, "P"),
        streamed_png(root / "grey16-48mp.png", 8000, 6000, "I;16", 128),
        grey_jpeg(root / "grey-400mp.jpg", 20000, 20000),
        grey_jpeg(root / "grey-399mp.jpg", 19968, 19968),
        grey_jpeg(root / "progressive-400mp.jpg", 20000, 20000, progressive=True),
    ]
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, *map(str, cases)], cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return {Path(path).name: result for path, result in json.loads(run.stdout.splitlines()[-1]).items()}


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("grey-400mp.png", "refused: The image is too large"),
        ("grey-60mp.png", "refused: The image is too large"),
        ("rgba-48mp.png", "RGB "),
        ("palette-alpha-48mp.png", "RGB "),
        ("grey16-48mp.png", "RGB "),
        ("grey-400mp.jpg", "refused: The image is too large"),
        ("grey-399mp.jpg", "RGB "),
        ("progressive-400mp.jpg", "refused: The image is too large"),
    ],
)
@pytest.mark.integration
def test_decode_stays_within_time_and_memory(measured, name, outcome):
    result = measured[name]
    assert result["outcome"].startswith(outcome), result
    assert result["seconds"] < MAX_SECONDS, result
    assert result["extra_mb"] < MAX_EXTRA_MB, result


@pytest.mark.integration
def test_accepted_big_images_come_out_under_the_pixel_cap(measured):
    from engine.images import MAX_PIXELS

    accepted = {name: result["outcome"] for name, result in measured.items() if result["outcome"].startswith("RGB ")}
    assert sorted(accepted) == ["grey-399mp.jpg", "grey16-48mp.png", "palette-alpha-48mp.png", "rgba-48mp.png"]
    for name, outcome in accepted.items():
        width, height = map(int, outcome.split()[1].split("x"))
        assert width * height <= MAX_PIXELS, (name, outcome)
