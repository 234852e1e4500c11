"""The benchmark's query set: one catalogue product (plus distractors) pasted into a held-out photo-like scene.

`make_queries` writes QDIR/qNNNN.jpg and QDIR/queries.json, a list of {"image", "product", "box", ...}: `product` is the
target's catalogue image path exactly as in products.csv `image`, `box` its visible xyxy box in pixels.
Extra keys: product_id, family, category, class, visible, background, size, distractors.

The cut-outs, pasting, shadows and visible boxes are the training synthesizer's (training/scenes.py,
training/detector/synthetic.py); the photographic conditions are held out from its training scenes:
- backgrounds (`training.backgrounds.held_out_background`): out-of-focus "bokeh" light, blended multi-octave
  cloud noise, striped wallpaper and sunlit walls with slanted floor lines, in a palette of saturated / dark
  colours (training: flat, noise, gradient, wood and tile textures and wall-over-horizontal-floor rooms in
  wall/floor palettes);
- frame shapes 16:9, 4:5, 5:4, 2:3 and 9:16 (training: 1:1, 4:3, 3:2, 3:4);
- target scale: close-ups of 70-95 % of the longer side (40 %) or 30-70 %, sometimes cut by the frame;
- 0-3 distractors, about half of them pushed onto the target and pasted in front (partial occlusion,
  the target keeps at least 55 % of its pixels);
- lighting: exposure x0.6-1.35 with gamma 0.7-1.4, colour temperature casts, directional ramps or spot light
  up to 70 %, vignetting, then auto-exposure keeps the mean grey in 75-190 (training: ramp <= 35 %,
  brightness x0.8-1.15, cast +-8 %);
- blur: Gaussian sigma 1.2-2.5 or motion blur 5-13 px (training sigma <= 1.3), low-resolution resampling;
- noise: luminance + chroma sigma 4-14 (training <= 7); JPEG quality 30-75 (training 55-95).
The default seed (1234) differs from training's (0). Same arguments, same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFilter
from tqdm import tqdm

from catalog.products import read_products
from engine.search.taxonomy import coarse_class
from training import scenes
from training.backgrounds import held_out_background

ASPECTS = (0.5625, 0.8, 1.25, 1.5, 1.778)  # height / width
MIN_TARGET_VISIBLE = 0.55
AUTO_EXPOSURE = (75.0, 190.0)  # mean grey level kept in this range after the lighting changes


def held_out_finish(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """Exposure, gamma, colour temperature, strong directional/spot light, vignette, noise, blur, low-res."""
    arr = np.asarray(img, dtype=np.float32) / 255.0
    h, w = arr.shape[:2]
    arr = arr ** rng.uniform(0.7, 1.4) * np.exp(rng.uniform(np.log(0.6), np.log(1.35)))
    temp = rng.uniform(-1, 1)
    arr *= np.array([1 + 0.18 * temp, 1 + 0.03 * abs(temp), 1 - 0.22 * temp], np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.5:
        theta = rng.uniform(0, 2 * np.pi)
        light = 1 + rng.uniform(0.35, 0.7) * ((np.cos(theta) * xx / w + np.sin(theta) * yy / h) - 0.5)
    else:
        cx, cy = rng.uniform(0, 1, 2) * [w, h]
        dist = np.hypot((xx - cx) / w, (yy - cy) / h)
        light = 1 + rng.uniform(0.35, 0.7) * (0.5 - np.clip(dist, 0, 1))
    vignette = 1 - rng.uniform(0.15, 0.45) * (np.hypot(xx / w - 0.5, yy / h - 0.5) / 0.7071) ** 2
    arr = arr * (light * vignette)[..., None] * 255.0
    arr *= np.clip(arr.mean(), *AUTO_EXPOSURE) / max(float(arr.mean()), 1.0)  # a camera's auto-exposure
    if rng.random() < 0.7:
        sigma = rng.uniform(4, 14)
        arr += rng.normal(0, sigma, (h, w, 1)) + rng.normal(0, sigma / 2, arr.shape)
    out = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    return degrade(rng, out)


def degrade(rng: np.random.Generator, img: Image.Image) -> Image.Image:
    """Defocus or motion blur, and sometimes a low-resolution round trip."""
    r = rng.random()
    if r < 0.35:
        img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(1.2, 2.5))))
    elif r < 0.6:
        length = int(rng.integers(5, 14))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2] = 1.0 / length
        rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
        kernel = cv2.warpAffine(kernel, rot, (length, length))
        img = Image.fromarray(cv2.filter2D(np.asarray(img), -1, kernel / max(kernel.sum(), 1e-6)))
    if rng.random() < 0.3:
        factor = rng.uniform(0.35, 0.6)
        small = img.resize(
            (max(8, round(img.width * factor)), max(8, round(img.height * factor))), Image.Resampling.BILINEAR
        )
        img = small.resize(img.size, Image.Resampling.BICUBIC)
    return img


def load_pool(images: Path, products_csv: Path) -> list[scenes.Product]:
    """Catalogue rows as scene products; family as the trainer's split uses it (family, else name, else id)."""
    frame = read_products(images, products_csv).frame
    pool = []
    for row in frame.to_dict("records"):
        family = str(row.get("family") or "").strip() or str(row.get("name") or "").strip() or row["product_id"]
        category = str(row.get("category") or "")
        pool.append(
            scenes.Product(
                catalog=images.name,
                product_id=str(row["product_id"]),
                image=str(row["image"]),
                path=str(images / row["image"]),
                family=family.upper(),
                category=category,
                cls=coarse_class(category) if category else "other",
            )
        )
    return pool


def cutout(product: scenes.Product, imgsz: int) -> Image.Image | None:
    """The product's cached RGBA cut-out, or None when its photo has no clean white background."""
    return scenes.cached_cutout(product.path, imgsz, product.cls not in scenes.NO_RECTANGLE_CLASSES)


def pick_targets(rng: np.random.Generator, pool: list[scenes.Product], n: int, imgsz: int) -> list[scenes.Product]:
    """n products in a seeded order that cut out cleanly; distinct unless the catalogue has fewer than n."""
    usable = []
    for i in rng.permutation(len(pool)):
        if len(usable) == n:
            break
        if cutout(pool[i], imgsz) is not None:
            usable.append(pool[i])
    if not usable:
        raise SystemExit("no product photo gives a clean cut-out")
    return [usable[i % len(usable)] for i in range(n)]


def fit(cut: Image.Image, w: int, h: int) -> Image.Image:
    """Shrink a cut-out so it fits in 98 % of the canvas."""
    scale = min(1.0, 0.98 * w / cut.width, 0.98 * h / cut.height)
    if scale >= 1.0:
        return cut
    return cut.resize((max(2, int(cut.width * scale)), max(2, int(cut.height * scale))), Image.Resampling.BILINEAR)


def target_layer(rng, target, w: int, h: int, imgsz: int) -> tuple:
    """(product, cut, x, y) of the target: close-up or mid-size, sometimes cut by the frame."""
    lo, hi = (0.7, 0.95) if rng.random() < 0.4 else (0.3, 0.7)
    cut = fit(scenes.augment_cutout(rng, cutout(target, imgsz), int(rng.uniform(lo, hi) * max(w, h))), w, h)
    off = 0.15 if rng.random() < 0.3 else 0.0
    x = int(rng.uniform(-off * cut.width, max(1.0, w - (1 - off) * cut.width)))
    y = int(rng.uniform(-off * cut.height, max(1.0, h - (1 - off) * cut.height)))
    return target, cut, x, y


def distractor_layers(rng, pool, target_layer_: tuple, w: int, h: int, imgsz: int) -> tuple[list, list]:
    """Up to 3 other-family products: (behind, in_front) layers; about half are pushed onto the target."""
    target, tcut, tx, ty = target_layer_
    behind, front = [], []
    for _ in range(int(rng.integers(0, 4))):
        product = pool[int(rng.integers(len(pool)))]
        cut = cutout(product, imgsz) if product.family != target.family else None
        if cut is None:
            continue
        cut = fit(scenes.augment_cutout(rng, cut, int(rng.uniform(0.15, 0.5) * max(w, h))), w, h)
        if rng.random() < 0.5:  # overlap the target: centre within its box, grown by 30 %
            cx = tx + tcut.width * rng.uniform(-0.3, 1.3)
            cy = ty + tcut.height * rng.uniform(-0.3, 1.3)
            x, y, layers = int(cx - cut.width / 2), int(cy - cut.height / 2), front
        else:
            (x, y), layers = scenes.object_position(rng, cut.size, (w, h), None), behind
        layers.append((product, cut, x, y))
    return behind, front


def visible(layers: list[tuple], w: int, h: int) -> list[scenes.Placed]:
    """Visible box and fraction of every layer, pasted in order (later layers hide earlier ones)."""
    ids = np.full((h, w), -1, np.int16)
    areas = []
    for k, (_, cut, x, y) in enumerate(layers):
        opaque = np.asarray(cut.getchannel("A")) > 127
        areas.append(int(opaque.sum()))
        cx0, cy0, cx1, cy1 = max(x, 0), max(y, 0), min(x + cut.width, w), min(y + cut.height, h)
        if cx1 > cx0 and cy1 > cy0:
            ids[cy0:cy1, cx0:cx1][opaque[cy0 - y : cy1 - y, cx0 - x : cx1 - x]] = k
    return [scenes.visible_box(ids == k, layer[0], areas[k]) for k, layer in enumerate(layers)]


def make_query(rng: np.random.Generator, target, pool, imgsz: int) -> tuple[Image.Image, dict]:
    """Compose one query scene; returns the image and its record (without the file name)."""
    aspect = ASPECTS[int(rng.integers(len(ASPECTS)))]
    w, h = (imgsz, round(imgsz * aspect)) if aspect <= 1 else (round(imgsz / aspect), imgsz)
    canvas, kind = held_out_background(rng, h, w)
    main = target_layer(rng, target, w, h, imgsz)
    behind, front = distractor_layers(rng, pool, main, w, h, imgsz)
    placed = visible([*behind, main, *front], w, h)
    while front and placed[len(behind)].visible < MIN_TARGET_VISIBLE:
        front.pop()  # too hidden: drop the last occluder
        placed = visible([*behind, main, *front], w, h)
    for product, cut, x, y in [*behind, main, *front]:
        if product.cls in scenes.FLOOR_CLASSES and rng.random() < 0.5:
            scenes.paste_shadow(rng, canvas, cut.getchannel("A"), x, y)
        canvas.paste(cut, (x, y), cut)
    hit = placed[len(behind)]
    record = {
        "product": target.image,
        "box": [int(v) for v in hit.box],
        "product_id": target.product_id,
        "family": target.family,
        "category": target.category,
        "class": target.cls,
        "visible": hit.visible,
        "background": kind,
        "size": [w, h],
        "distractors": [layer[0].image for layer in [*behind, *front]],
    }
    return held_out_finish(rng, canvas), record


def make_queries(images: Path, products_csv: Path, out: Path, n: int, seed: int, imgsz: int, progress=True) -> list:
    """Write n query images and queries.json into `out`; returns the records."""
    pool = load_pool(images, products_csv)
    if not pool:
        raise SystemExit(f"no usable products in {products_csv}")
    targets = pick_targets(np.random.default_rng([seed, 0]), pool, n, imgsz)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("q[0-9]*.jpg"):
        old.unlink()
    records = []
    for i, target in enumerate(tqdm(targets, desc="queries", unit="img", disable=not progress), 1):
        rng = np.random.default_rng([seed, 1, i])
        image, record = make_query(rng, target, pool, imgsz)
        name = f"q{i:04d}.jpg"
        image.save(out / name, quality=int(rng.integers(30, 76)))
        records.append({"image": name, **record})
    (out / "queries.json").write_text("[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]\n")
    return records
