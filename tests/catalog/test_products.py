"""Product tables: image paths must stay inside the images folder (no traversal, absolute paths or escaping links)."""

from __future__ import annotations

import io

import pandas as pd
from PIL import Image

from catalog.products import read_products


def jpeg(path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 20, 20)).save(buffer, "JPEG")
    path.write_bytes(buffer.getvalue())


def test_paths_outside_the_images_folder_are_refused_as_table_problems(tmp_path):
    images, outside = tmp_path / "images", tmp_path / "private"
    jpeg(images / "chairs" / "ok.jpg")
    jpeg(outside / "secret.jpg")
    (images / "chairs" / "inside-link.jpg").symlink_to(images / "chairs" / "ok.jpg")
    (images / "chairs" / "outside-link.jpg").symlink_to(outside / "secret.jpg")
    (images / "linked-dir").symlink_to(outside, target_is_directory=True)
    rows = [
        "chairs/ok.jpg",
        "chairs/inside-link.jpg",
        "../private/secret.jpg",
        "chairs/../../private/secret.jpg",
        str(outside / "secret.jpg"),
        "chairs/outside-link.jpg",
        "linked-dir/secret.jpg",
        "/etc/passwd",
    ]
    csv = tmp_path / "products.csv"
    pd.DataFrame({"product_id": [f"p{i}" for i in range(len(rows))], "image": rows}).to_csv(csv, index=False)

    table = read_products(images, csv)

    assert list(table.frame["image"]) == ["chairs/ok.jpg", "chairs/inside-link.jpg"]
    outside_problems = [p for p in table.problems if "outside" in p]
    assert len(outside_problems) == 6, table.problems
    assert all("row skipped" in p for p in outside_problems)


def test_a_folder_scan_skips_links_that_leave_the_folder(tmp_path):
    images, outside = tmp_path / "images", tmp_path / "private"
    jpeg(images / "lamps" / "a.jpg")
    jpeg(outside / "secret.jpg")
    (images / "lamps" / "b.jpg").symlink_to(images / "lamps" / "a.jpg")
    (images / "lamps" / "leak.jpg").symlink_to(outside / "secret.jpg")
    assert sorted(read_products(images).frame["image"]) == ["lamps/a.jpg", "lamps/b.jpg"]


def test_data_gaps_name_what_shoppers_will_miss():
    from catalog.products import data_gaps, describe_gaps

    products = pd.DataFrame(
        {
            "product_id": ["a", "b", "c", "c"],
            "name": ["KIVIK", "", None, None],
            "category": ["Sofas", "Chairs", "Beds", "Beds"],
        }
    )
    gaps = data_gaps(products)
    assert gaps == {"a name": ["b", "c"], "a price": ["a", "b", "c"], "a link": ["a", "b", "c"]}
    assert describe_gaps(gaps, 3, examples=1) == [
        "2 of 3 products have no name (b, …)",
        "no product has a price",
        "no product has a link",
    ]
