"""Shared fixtures: a real 60-product index built with real YOLO (random yolo11n weights) and real FAISS."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from engine.settings import shared_data_dir
from scripts import videolib

pytest_plugins = ["tests.tiers", "tests.guards"]  # tiers: unit, integration, browser; guards: docs/ untouched

CATALOG = shared_data_dir() / "ikea-catalog"


ROOMS = shared_data_dir() / "ikea-rooms"
PER_CATEGORY = 10


def pytest_collection_modifyitems(config, items):
    """Skip data-dependent tests with a clear reason when the shared catalogues are absent."""
    if CATALOG.is_dir():
        return
    skip = pytest.mark.skip(reason=f"IKEA catalogue not found at {CATALOG} (set LOOKALIKE_DATA)")
    for item in items:
        if "small_catalog" in getattr(item, "fixturenames", ()) or "service" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def small_products() -> pd.DataFrame:
    """10 real products per category of the ikea-catalog (60 rows)."""
    table = pd.read_csv(CATALOG / "products.csv", dtype=str, keep_default_na=False)
    return table.groupby("category", sort=True).head(PER_CATEGORY).reset_index(drop=True)


@pytest.fixture(scope="session")
def small_catalog(tmp_path_factory, small_products) -> dict:
    """A catalogue folder: 60 real images plus a fake, a truncated JPEG and a CSV with broken rows."""
    root = tmp_path_factory.mktemp("catalog")
    images = root / "images"
    for image in small_products["image"]:
        (images / image).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CATALOG / image, images / image)
    (images / "bad").mkdir()
    (images / "bad" / "not-an-image.jpg").write_text("this is a text file, not a JPEG")
    (images / "bad" / "truncated.jpg").write_bytes(truncated_jpeg())
    bad_rows = pd.DataFrame(
        [
            {"product_id": "bad/text", "image": "bad/not-an-image.jpg", "category": "bad", "price": "1"},
            {"product_id": "bad/trunc", "image": "bad/truncated.jpg", "category": "bad", "price": "n/a"},
            {"product_id": "bad/missing", "image": "bad/missing.jpg", "category": "bad", "price": "1"},
        ]
    )
    csv = root / "products.csv"
    pd.concat([small_products, bad_rows]).to_csv(csv, index=False)
    with open(csv, "a") as handle:
        handle.write('broken,row,with,"too,many",fields,1,2,3,4,5,6,7\n')
    return {"images": images, "csv": csv, "index": root / "index"}


@pytest.fixture(scope="session")
def built_index(small_catalog):
    """The small catalogue built once with random yolo11n weights; returns (index_dir, BuildReport)."""
    from catalog.build import build_catalog

    report = build_catalog(small_catalog["images"], small_catalog["index"], small_catalog["csv"], "yolo11n.yaml")
    return small_catalog["index"], report


@pytest.fixture(scope="session")
def service(built_index):
    """The engine loaded over the small index."""
    import engine

    return engine.load(built_index[0])


def truncated_jpeg(size=(320, 240)) -> bytes:
    """A real JPEG with its second half cut off."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    return data[: len(data) // 2]


def jpeg_bytes(image: Image.Image, **kwargs) -> bytes:
    """Encode an image as JPEG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", **kwargs)
    return buffer.getvalue()


@pytest.fixture
def project_root() -> Path:
    """The repository root."""
    return Path(__file__).resolve().parent.parent


TEST_ROOM = "rooms/ikea-a-cosy-space-for-coffee-and-conversation__1364308407140-s4.jpg"  # chairs and a table


@pytest.fixture(scope="session")
def room_index(tmp_path_factory) -> dict:
    """A real-path index: the committed default detector and embedding over the products TEST_ROOM lists, plus
    every 25th ikea-rooms product as distractors; returns {"index", "room", "products"}."""
    rooms = pd.read_csv(ROOMS / "rooms.csv", dtype=str, keep_default_na=False)
    listed = set(rooms.loc[rooms["image"] == TEST_ROOM, "products"].iloc[0].split())
    table = pd.read_csv(ROOMS / "products.csv", dtype=str, keep_default_na=False)
    table = table[table["image"].isin(listed) | (table.index % 25 == 0)]
    root = tmp_path_factory.mktemp("room-index")
    table.to_csv(root / "products.csv", index=False)
    build_default(ROOMS, root / "index", root / "products.csv")
    return {"index": root / "index", "room": ROOMS / TEST_ROOM, "products": table}


@pytest.fixture(scope="session")
def one_room_dir(tmp_path_factory) -> Path:
    """A rooms folder whose rooms.csv lists only TEST_ROOM (its photos are the shared data's, through a link)."""
    root = tmp_path_factory.mktemp("one-room")
    table = pd.read_csv(ROOMS / "rooms.csv", dtype=str, keep_default_na=False)
    table[table["image"] == TEST_ROOM].to_csv(root / "rooms.csv", index=False)
    (root / "rooms").symlink_to(ROOMS / "rooms", target_is_directory=True)
    return root


def build_default(images: Path, out: Path, csv: Path):
    """Build an index the way `scripts/build_catalog.py` does by default: the committed detector and head."""
    from catalog.build import BuildConfig, build_catalog
    from engine.embedding import EmbeddingConfig
    from engine.embedding.head import default_head_for
    from engine.settings import CATALOG_VIEWS, default_weights

    config = BuildConfig(
        embedding=EmbeddingConfig().with_head(default_head_for(EmbeddingConfig())), views=CATALOG_VIEWS
    )
    return build_catalog(images, out, csv, default_weights(), config, progress=False)


@pytest.fixture(scope="session")
def default_catalog_index(tmp_path_factory, small_products) -> Path:
    """The 60-product ikea-catalog sample built with the default detector, embedding and head."""
    root = tmp_path_factory.mktemp("default-index")
    small_products.to_csv(root / "products.csv", index=False)
    build_default(CATALOG, root / "index", root / "products.csv")
    return root / "index"


SECOND_ROOM = "rooms/ikea-a-leather-look-made-for-lounging__1364309444239-s4.jpg"  # a living room: sofa, lamp
VIDEO_ROOM_SECONDS = 3.0


@pytest.fixture(scope="session")
def room_video(tmp_path_factory) -> Path:
    """An MP4 made from real room photos: 3 s of a slow pan over TEST_ROOM, then 3 s over SECOND_ROOM (5 fps)."""
    path = tmp_path_factory.mktemp("video") / "rooms.mp4"
    return videolib.room_video(path, [ROOMS / TEST_ROOM, ROOMS / SECOND_ROOM], seconds=VIDEO_ROOM_SECONDS)


def copied_catalogue(root: Path, n: int) -> pd.DataFrame:
    """The first n ikea-catalog products, photos copied to root/photos, table to root/products.csv (skips if absent)."""
    if not CATALOG.is_dir():
        pytest.skip(f"no catalogue at {CATALOG}")
    table = pd.read_csv(CATALOG / "products.csv", dtype=str, keep_default_na=False).head(n)
    for image in table["image"]:
        (root / "photos" / image).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CATALOG / image, root / "photos" / image)
    table.to_csv(root / "products.csv", index=False)
    return table


@pytest.fixture(scope="session")
def effnet_index(tmp_path_factory) -> Path:
    """12 look-alike catalogue products (6 sofas, 6 chairs) indexed with effnet-crop (whole-image entries)."""
    if not CATALOG.is_dir():
        pytest.skip(f"no catalogue at {CATALOG}")
    from catalog.build import BuildConfig, build_catalog
    from engine.embedding import EmbeddingConfig

    root = tmp_path_factory.mktemp("effnet-index")
    table = pd.read_csv(CATALOG / "products.csv", dtype=str, keep_default_na=False)
    table = table[table["category"].isin(["sofas", "chairs"])].groupby("category").head(6)
    table.to_csv(root / "products.csv", index=False)
    config = BuildConfig(embedding=EmbeddingConfig(name="effnet-crop"))
    build_catalog(CATALOG, root / "index", root / "products.csv", "yolo11n.yaml", config, progress=False)
    return root / "index"
