"""A few real catalogue images (and one broken file) for the distributed and Milvus builds."""

import shutil

import pandas as pd
import pytest

from engine.settings import TRAINED_DETECTOR
from tests.conftest import CATALOG

FEW_WEIGHTS = str(TRAINED_DETECTOR) if TRAINED_DETECTOR.is_file() else "yolo11n.yaml"  # trained: real detections


@pytest.fixture(scope="session")
def few_images(tmp_path_factory, small_products) -> dict:
    """8 real products (2 from each of 4 categories) plus a file that is not an image, with a CSV."""
    root = tmp_path_factory.mktemp("few")
    picked = small_products.groupby("category").head(2).head(8)
    for image in picked["image"]:
        (root / image).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CATALOG / image, root / image)
    (root / "bad.jpg").write_text("not a JPEG")
    bad = pd.DataFrame([{"product_id": "bad", "image": "bad.jpg", "category": "bad", "price": "1"}])
    csv = root / "products.csv"
    pd.concat([picked, bad]).to_csv(csv, index=False)
    return {"images": root, "csv": csv, "weights": FEW_WEIGHTS}
