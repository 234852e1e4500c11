"""Tests for scripts/synthesize_scenes.py and catalog.taxonomy (fast, tiny)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from catalog.taxonomy import CLASSES, coarse_class
from engine.settings import shared_data_dir
from scripts import synthesize_scenes

REAL_CATALOGS = [shared_data_dir() / "ikea-catalog", shared_data_dir() / "ikea-rooms"]  # follows LOOKALIKE_DATA
synth = synthesize_scenes


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("sofas", "sofa"),
        ("dressers", "storage"),
        ("Three-seat sofa-bed", "sofa"),
        ("Chair", "chair"),
        ("Desk chair", "chair"),
        ("Table lamp", "lamp"),
        ("Pendant lamp", "lamp"),
        ("Bedside table", "storage"),
        ("Cushion cover", "textile"),
        ("Chair cushion, outdoor", "textile"),
        ("Rug, flatwoven", "rug"),
        ("Chest of 3 drawers", "storage"),
        ("Bed frame", "bed"),
        ("Coffee table", "table"),
        ("Vase", "decor"),
        ("Plant pot", "decor"),
        ("Mug", "kitchenware"),
        ("Induction hob", "fixture"),
        ("Soft toy", "toy"),
        ("Knob", "other"),
        ("", "other"),
    ],
)
def test_coarse_class(category, expected):
    assert coarse_class(category) == expected
    assert expected in CLASSES


def draw_product(path: Path, colour: tuple[int, int, int], shape: int) -> None:
    """A 120 px product photo: one coloured shape on white."""
    img = Image.new("RGB", (120, 120), "white")
    draw = ImageDraw.Draw(img)
    box = (20 + shape * 3, 15, 100, 105 - shape * 4)
    (draw.ellipse if shape % 2 else draw.rectangle)(box, fill=colour)
    img.save(path, quality=95)


def write_catalog(root: Path, rows: list[dict], fields: list[str]) -> None:
    """Write a products.csv and its product photos."""
    (root / "products").mkdir(parents=True)
    with open(root / "products.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for i, row in enumerate(rows):
            writer.writerow(row)
            colour = (40 + 9 * i % 200, 90, 200 - 7 * i % 150)
            draw_product(root / row["image"], colour, i % 5)


@pytest.fixture(scope="module")
def fake_catalogs(tmp_path_factory) -> list[Path]:
    """Two tiny catalogues in both CSV layouts (family column / name column)."""
    base = tmp_path_factory.mktemp("catalogs")
    a_cats = ["sofas", "chairs", "tables", "lamps", "dressers", "beds"]
    a_rows = [
        {"product_id": f"a/{i}", "image": f"products/a{i}.jpg",
         "category": a_cats[i % 6], "family": f"FAMA{i // 2}", "name": f"n{i}"}
        for i in range(24)
    ]  # fmt: skip
    write_catalog(base / "cat-a", a_rows, ["product_id", "image", "category", "family", "name"])
    b_cats = ["Chair", "Pendant lamp", "Cushion cover", "Rug, flatwoven", "Vase", ""]
    b_rows = [
        {"product_id": f"b{i}", "image": f"products/b{i}.jpg",
         "name": f"FAMB{i // 2}", "category": b_cats[i % 6]}
        for i in range(24)
    ]  # fmt: skip
    write_catalog(base / "cat-b", b_rows, ["product_id", "image", "name", "category"])
    return [base / "cat-a", base / "cat-b"]


def run_synth(out: Path, catalogs: list[Path], seed: int = 0, imgsz: int = 256) -> Path:
    """Run the synthesizer in-process with tiny settings."""
    synth.main(
        ["--out", str(out), "--n-train", "6", "--n-val", "2", "--imgsz", str(imgsz),
         "--seed", str(seed), "--val-fraction", "0.3", "--workers", "1",
         "--catalogs", *map(str, catalogs)]
    )  # fmt: skip
    return out


def read_labels(out: Path) -> dict[str, bytes]:
    """All label files of a dataset, by relative path."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("labels/*/*.txt"))}


def check_dataset(out: Path, n_train: int, n_val: int) -> list[dict]:
    """Assert images, labels and scenes.jsonl are consistent and valid."""
    records = [json.loads(line) for line in (out / "scenes.jsonl").read_text().splitlines()]
    assert len(records) == n_train + n_val
    assert len(list(out.glob("images/train/*.jpg"))) == n_train
    assert len(list(out.glob("images/val/*.jpg"))) == n_val
    assert "names:" in (out / "data.yaml").read_text()
    for rec in records:
        with Image.open(out / rec["image"]) as im:
            w, h = im.size
        assert (w, h) == (rec["width"], rec["height"])
        label = out / rec["image"].replace("images/", "labels/").replace(".jpg", ".txt")
        lines = label.read_text().splitlines()
        assert len(lines) == sum(o["labelled"] for o in rec["objects"])
        for line in lines:
            cls, cx, cy, bw, bh = line.split()
            assert 0 <= int(cls) < len(CLASSES)
            cx, cy, bw, bh = map(float, (cx, cy, bw, bh))
            assert bw * w >= 1 and bh * h >= 1
            assert cx - bw / 2 >= -1e-6 and cx + bw / 2 <= 1 + 1e-6
            assert cy - bh / 2 >= -1e-6 and cy + bh / 2 <= 1 + 1e-6
    return records


def test_synthesize_fake_catalogs(tmp_path, fake_catalogs):
    out = run_synth(tmp_path / "a", fake_catalogs)
    records = check_dataset(out, 6, 2)
    families = {"train": set(), "val": set()}
    for rec in records:
        families[rec["split"]].update(o["family"] for o in rec["objects"])
    assert families["train"] and families["val"]
    assert not families["train"] & families["val"]
    assert all(o["category"] for r in records for o in r["objects"])
    assert sum(o["labelled"] for r in records for o in r["objects"]) > 0


def test_same_seed_same_labels(tmp_path, fake_catalogs):
    a = read_labels(run_synth(tmp_path / "a", fake_catalogs, seed=3))
    b = read_labels(run_synth(tmp_path / "b", fake_catalogs, seed=3))
    c = read_labels(run_synth(tmp_path / "c", fake_catalogs, seed=4))
    assert a == b
    assert a != c


def test_cutout_box_is_exact():
    from training import scenes

    rgb = np.full((60, 80, 3), 255, np.uint8)
    rgb[10:40, 20:50] = (30, 60, 90)
    mask = scenes.product_mask(rgb)
    ys, xs = np.nonzero(mask)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (10, 39, 20, 49)


@pytest.mark.skipif(
    not all((c / "products.csv").exists() for c in REAL_CATALOGS),
    reason="shared catalogues not available",
)
@pytest.mark.integration
def test_synthesize_real_catalogs(tmp_path):
    synth.main(
        ["--out", str(tmp_path), "--n-train", "4", "--n-val", "2", "--imgsz", "256",
         "--workers", "1"]
    )  # fmt: skip
    records = check_dataset(tmp_path, 4, 2)
    assert {o["catalog"] for r in records for o in r["objects"]} <= {
        "ikea-catalog",
        "ikea-rooms",
    }
