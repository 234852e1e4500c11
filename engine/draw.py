"""Pictures for people: detection boxes with labels, and crops, as plain PIL images."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

PALETTE = ("#ff3b30", "#34c759", "#007aff", "#ff9500", "#af52de", "#5ac8fa", "#ffcc00", "#ff2d55")
SELECTED = "#ffffff"


def draw_boxes(
    image: Image.Image,
    boxes: Sequence[Sequence[float]],
    labels: Sequence[str],
    selected: int | None = None,
    scale: float = 1.0,
) -> Image.Image:
    """A copy of `image` resized by `scale` with numbered, labelled boxes; the selected one is emphasised."""
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    canvas = image.resize(size, Image.Resampling.BILINEAR) if scale != 1.0 else image.copy()
    draw = ImageDraw.Draw(canvas)
    font = _font(max(12, size[0] // 60))
    width = max(2, size[0] // 300)
    order = [i for i in range(len(boxes)) if i != selected] + ([selected] if selected is not None else [])
    for i in order:
        x0, y0, x1, y1 = (v * scale for v in boxes[i])
        colour = SELECTED if i == selected else PALETTE[i % len(PALETTE)]
        if i == selected:
            draw.rectangle((x0 - width, y0 - width, x1 + width, y1 + width), outline="#000000", width=width)
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=width * (2 if i == selected else 1))
        _label(draw, (x0, y0), labels[i], colour, font)
    return canvas


def _label(draw: ImageDraw.ImageDraw, corner: tuple[float, float], text: str, colour: str, font) -> None:
    """A filled tag at the box's top-left corner (inside the box when it would leave the image)."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    height = bottom - top + 6
    x, y = corner
    y = y - height if y - height >= 0 else y
    draw.rectangle((x, y, x + right - left + 8, y + height), fill=colour)
    draw.text((x + 4, y + 3 - top), text, fill="#000000" if colour in (SELECTED, "#ffcc00") else "#ffffff", font=font)


def _font(size: int):
    """DejaVu when available (Debian), else Pillow's built-in font at that size."""
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def crop(image: Image.Image, box: Sequence[float], pad: float = 0.0) -> Image.Image:
    """The box (optionally padded by a fraction of its size), clipped to the image."""
    x0, y0, x1, y1 = box
    dx, dy = (x1 - x0) * pad, (y1 - y0) * pad
    area = (max(0, x0 - dx), max(0, y0 - dy), min(image.width, x1 + dx), min(image.height, y1 + dy))
    return image.crop(tuple(round(v) for v in area))
