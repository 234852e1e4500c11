"""Gallery views: deterministic renderings of each product, indexed beside its photo and kept up to date."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from catalog.build import BuildConfig, build_catalog
from catalog.views import VIEW, images_missing_views, plan_views, render_view, view_numbers
from engine.embedding import EmbeddingConfig, make_embedder
from engine.embedding.head import default_head_for
from engine.index.store import CatalogIndex, current_version
from tests.conftest import CATALOG, copied_catalogue


def catalogue_photo(i: int = 0) -> Image.Image:
    """A real ikea-catalog product photo."""
    if not CATALOG.is_dir():
        pytest.skip(f"no catalogue at {CATALOG}")
    table = pd.read_csv(CATALOG / "products.csv", dtype=str, keep_default_na=False)
    return Image.open(CATALOG / table["image"].iloc[i]).convert("RGB")


@pytest.mark.integration
def test_a_view_is_the_product_on_a_new_backdrop_drawn_again_from_its_seed():
    photo = catalogue_photo()
    image, box = render_view(photo, "abc", 0)
    again, same_box = render_view(photo, "abc", 0)
    other, _ = render_view(photo, "abc", 1)
    assert np.array_equal(np.asarray(image), np.asarray(again)) and np.array_equal(box, same_box)
    assert not np.array_equal(np.asarray(image), np.asarray(other))
    x0, y0, x1, y1 = box
    assert 0 <= x0 < x1 <= image.width and 0 <= y0 < y1 <= image.height
    border = np.concatenate([np.asarray(image)[0], np.asarray(image)[-1]])  # the backdrop, not the studio white
    assert border.min(axis=1).mean() < 235


def test_a_photo_without_a_white_background_still_gets_views():
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 300, 3), dtype=np.uint8))
    image, box = render_view(noise, "noise", 0)
    assert image.mode == "RGB" and box[2] > box[0] and box[3] > box[1]


def meta_rows(kinds: dict[str, list[str]]) -> pd.DataFrame:
    """A metadata table: per image, rows of the given kinds, ids in order."""
    rows = [(image, kind) for image, image_kinds in kinds.items() for kind in image_kinds]
    return pd.DataFrame({"id": range(len(rows)), "image": [i for i, _ in rows], "kind": [k for _, k in rows]})


def test_only_photos_with_another_number_of_views_are_redone():
    meta = meta_rows({"a.jpg": ["object", "image", VIEW, VIEW], "b.jpg": ["image", VIEW], "c.jpg": ["image"]})
    wrong, drop = images_missing_views(meta, 2)
    assert wrong == {"b.jpg", "c.jpg"}
    assert list(meta.loc[drop, "image"]) == ["b.jpg"]
    assert dict(view_numbers(meta)) == {2: 0, 3: 1, 5: 0}
    wrong, drop = images_missing_views(meta, 0)  # views switched off: every view row goes
    assert wrong == {"a.jpg", "b.jpg"} and drop.sum() == 3


class Previous:
    """The part of an index `plan_views` reads."""

    def __init__(self, meta):
        self.meta = meta


def test_plan_keeps_the_right_views_and_renders_new_photos():
    meta = meta_rows({"a.jpg": ["image", VIEW, VIEW], "b.jpg": ["image", VIEW]})
    current = np.ones(len(meta), dtype=bool)
    kept, todo = plan_views(Previous(meta), current, ["new.jpg"], 2)
    assert todo == ["b.jpg", "new.jpg"]
    assert list(meta.loc[~kept, "image"]) == ["b.jpg"]  # b's single view row is dropped and rendered again
    assert plan_views(None, np.zeros(0, dtype=bool), ["new.jpg"], 0)[1] == []


@pytest.fixture
def photo_catalogue(tmp_path) -> dict:
    """4 real product photos copied into a folder of their own, with their products.csv."""
    copied_catalogue(tmp_path, 4)
    return {"images": tmp_path / "photos", "csv": tmp_path / "products.csv", "out": tmp_path / "index"}


def build(catalogue: dict, views: int, embedding: EmbeddingConfig = EmbeddingConfig(name="effnet-crop")):
    """Build (or update) the catalogue's index (default: effnet-crop) with `views` gallery views per photo."""
    config = BuildConfig(embedding=embedding, views=views)
    return build_catalog(catalogue["images"], catalogue["out"], catalogue["csv"], "yolo11n.yaml", config, False)


@pytest.mark.integration
def test_views_are_indexed_beside_each_photo_and_follow_the_setting(photo_catalogue):
    report = build(photo_catalogue, 2)
    index = CatalogIndex.load(photo_catalogue["out"])
    views = index.meta[index.meta["kind"] == VIEW]
    assert report.embedded == report.viewed == 4 and views.groupby("image").size().tolist() == [2] * 4
    first, second = sorted(photo_catalogue["out"].glob("v*"))  # searchable without views first, then with them
    assert (pd.read_parquet(first / "meta.parquet")["kind"] != VIEW).all()
    assert second == current_version(photo_catalogue["out"])
    assert index.manifest["views"] == 2
    first = views.sort_values("id").iloc[0]
    photo = Image.open(photo_catalogue["images"] / first["image"]).convert("RGB")
    assert (first["x0"], first["y0"], first["x1"], first["y1"]) == (0, 0, photo.width, photo.height)
    rendering, box = render_view(photo, first["content_hash"], 0)
    expected = make_embedder(EmbeddingConfig(name="effnet-crop")).embed_crops([rendering], [box])[0]
    assert np.allclose(index.vectors(np.array([first["id"]]))[0], expected, atol=1e-5)

    photo_entries = index.meta.loc[index.meta["kind"] != VIEW, "id"].tolist()

    assert "up to date" in build(photo_catalogue, 2).index
    fewer = build(photo_catalogue, 1)  # only the views change: no photo is detected or embedded again
    index = CatalogIndex.load(photo_catalogue["out"])
    assert fewer.embedded == 0 and fewer.viewed == 4 and (index.meta["kind"] == VIEW).sum() == 4
    assert index.meta.loc[index.meta["kind"] != VIEW, "id"].tolist() == photo_entries
    build(photo_catalogue, 0)
    assert (CatalogIndex.load(photo_catalogue["out"]).meta["kind"] != VIEW).all()


@pytest.mark.integration
def test_each_product_finds_itself_first_from_a_new_view(photo_catalogue):
    shipped = EmbeddingConfig().with_head(default_head_for(EmbeddingConfig()))  # what a shopper searches with
    build(photo_catalogue, 2, shipped)
    index = CatalogIndex.load(photo_catalogue["out"])
    embedder = make_embedder(shipped, queries=True)  # a rendering on a backdrop is searched from the room side
    photos = index.meta[index.meta["kind"] != VIEW]  # each product shot's own entry
    for row in photos.itertuples():
        photo = Image.open(photo_catalogue["images"] / row.image).convert("RGB")
        rendering, box = render_view(photo, "a seed the index never saw", 0)
        scores, ids = index.search(embedder.embed_crops([rendering], [box]), 5)
        best = index.meta.set_index("id").loc[ids[0][0], "product_id"]
        assert best == row.product_id


@pytest.mark.integration
def test_reembedding_with_a_tuned_network_renders_the_same_views_again(photo_catalogue, tmp_path):
    from catalog.reembed import reembed_index
    from tests.engine.test_tail import tuned_checkpoint

    build(photo_catalogue, 1)
    tuned_checkpoint(tmp_path / "tuned.pt")
    index = reembed_index(photo_catalogue["out"], tmp_path / "tuned", tmp_path / "tuned.pt", progress=False)
    embedder = make_embedder(EmbeddingConfig.from_dict(index.manifest["embedding"]))
    view = index.meta[index.meta["kind"] == VIEW].iloc[-1]
    photo = Image.open(photo_catalogue["images"] / view["image"]).convert("RGB")
    rendering, box = render_view(photo, view["content_hash"], 0)
    expected = embedder.head.apply(embedder.base.embed_crops([rendering], [box]))[0]
    assert np.allclose(index.vectors(np.array([view["id"]]))[0], expected, atol=1e-5)


def test_a_build_config_refuses_counts_that_cannot_be_meant():
    from catalog.build import BuildConfig

    for bad in ({"views": -1}, {"max_objects": -1}, {"batch": 0}):
        with pytest.raises(ValueError, match="must be"):
            BuildConfig(**bad)
