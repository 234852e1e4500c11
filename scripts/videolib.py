"""Videos made from real room photos (a slow pan over each room, a few seconds per room), for tests and benchmarks."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

SIZE = (960, 540)


def room_video(path: Path, rooms: list[Path], seconds: float = 3.0, fps: int = 5, codec: str = "mp4v") -> Path:
    """Write `seconds` of a slow left-to-right pan over each room photo (crops of a slightly enlarged photo)."""
    width, height = SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, SIZE)
    assert writer.isOpened(), f"OpenCV cannot write {codec}"
    steps = max(1, round(seconds * fps))
    for room in rooms:
        image = Image.open(room).convert("RGB")
        scale = max(width / image.width, height / image.height) * 1.1
        image = image.resize((round(image.width * scale), round(image.height * scale)))
        top = (image.height - height) // 2
        for step in range(steps):
            left = round((image.width - width) * step / max(steps - 1, 1))
            writer.write(np.asarray(image.crop((left, top, left + width, top + height)))[:, :, ::-1])
    writer.release()
    return path


def plain_video(path: Path, frames: int, fps: float, size: tuple[int, int] = (64, 48), codec: str = "mp4v") -> Path:
    """A small video of `frames` grey frames getting lighter."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), fps, size)
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), (i * 5) % 256, np.uint8))
    writer.release()
    return path
