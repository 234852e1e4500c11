"""Catalogue and room sides: blended heads centre each side on its own mean; a query photo is put on its side."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from engine.detection.detector import Analysis
from engine.embedding import EmbeddingConfig, make_embedder
from engine.embedding.domains import CATALOGUE, ROOM, Blend, centred, photo_domain
from engine.embedding.head import HeadError, ProjectionHead, check_head_base, load_head, save_head
from engine.geometry import plan_letterbox
from engine.images import load_image
from tests.conftest import CATALOG, ROOMS, TEST_ROOM

IN, OUT = 512, 16  # color-hist base (no network: fast), a tiny head


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def random_blend(seed: int, share: float = 0.5) -> Blend:
    rng = np.random.default_rng(seed)
    sides = lambda dim: {side: rng.normal(size=dim).astype(np.float32) * 0.1 for side in (CATALOGUE, ROOM)}  # noqa: E731
    return Blend(share, sides(IN), sides(OUT))


def blended_head_file(path, seed: int = 0) -> str:
    torch.manual_seed(seed)
    head = ProjectionHead(IN, hidden=32, out_dim=OUT)
    return save_head(head, path, {"name": "color-hist", "crop_size": 224}, {}, blend=random_blend(seed))


def test_a_blended_cosine_is_the_share_weighted_cosine_of_both_centred_parts():
    rng = np.random.default_rng(1)
    blend = random_blend(1, share=0.3)
    base, head = unit(rng.normal(size=(2, IN))), unit(rng.normal(size=(2, OUT)))
    a, b = blend.join(base[:1], head[:1], ROOM), blend.join(base[1:], head[1:], CATALOGUE)
    cos = lambda x, y, centres: float((centred(x, centres[ROOM]) @ centred(y, centres[CATALOGUE]).T)[0, 0])  # noqa: E731
    expected = 0.3 * cos(base[:1], base[1:], blend.base_centres) + 0.7 * cos(head[:1], head[1:], blend.head_centres)
    assert a.shape == (1, IN + OUT) and np.isclose(np.linalg.norm(a), 1.0, atol=1e-5)
    assert float((a @ b.T)[0, 0]) == pytest.approx(expected, abs=1e-5)


def test_a_blended_head_round_trips_and_puts_each_side_on_its_own_centre(tmp_path):
    blended_head_file(tmp_path / "blend.pt")
    head = load_head(tmp_path / "blend.pt")
    assert head.dim == IN + OUT and head.blend.base_share == 0.5
    assert np.array_equal(head.blend.base_centres[ROOM], random_blend(0).base_centres[ROOM])
    vectors = unit(np.random.default_rng(2).normal(size=(4, IN)))
    room, catalogue = head.apply(vectors, ROOM), head.apply(vectors, CATALOGUE)
    assert room.shape == (4, IN + OUT) and not np.allclose(room, catalogue)
    mixed = head.apply_by_domain(vectors, [ROOM, CATALOGUE, ROOM, CATALOGUE])
    assert np.allclose(mixed[[0, 2]], room[[0, 2]]) and np.allclose(mixed[[1, 3]], catalogue[[1, 3]])


@pytest.mark.integration
def test_a_product_shot_is_on_the_catalogue_side_and_a_room_photo_on_the_room_side():
    shot = pd.read_csv(CATALOG / "products.csv", dtype=str, keep_default_na=False)["image"].iloc[0]
    assert photo_domain(load_image(CATALOG / shot)) == CATALOGUE
    assert photo_domain(load_image(ROOMS / TEST_ROOM)) == ROOM
    assert photo_domain(Image.new("RGB", (64, 48), (90, 60, 40))) == ROOM  # no white frame
    assert photo_domain(None) == ROOM


def bare_analysis(image: Image.Image) -> Analysis:
    return Analysis([], [], [], plan_letterbox(image.size, 640, 32, True), image)


@pytest.mark.integration
def test_only_a_query_embedder_puts_a_room_photo_on_the_room_side(tmp_path):
    blended_head_file(tmp_path / "blend.pt")
    config = EmbeddingConfig(name="color-hist").with_head(tmp_path / "blend.pt")
    for_index, for_queries = make_embedder(config), make_embedder(config, queries=True)
    head = load_head(tmp_path / "blend.pt")
    room = bare_analysis(load_image(ROOMS / TEST_ROOM))
    box = np.array([[100, 80, 400, 300]], np.float32)
    base = for_index.base.embed(room, box)
    assert np.allclose(for_index.embed(room, box), head.apply(base, CATALOGUE), atol=1e-6)  # an index entry
    assert np.allclose(for_queries.embed(room, box), head.apply(base, ROOM), atol=1e-6)  # a shopper's room
    many = for_queries.embed_many([room, room], [box, np.concatenate([box, box])])
    assert [m.shape for m in many] == [(1, IN + OUT), (2, IN + OUT)] and np.allclose(many[1][0], many[0][0], atol=1e-6)
    shot_image = load_image(CATALOG / pd.read_csv(CATALOG / "products.csv", dtype=str)["image"].iloc[0])
    shot = bare_analysis(shot_image)
    assert np.allclose(for_queries.embed(shot, box), for_index.embed(shot, box), atol=1e-6)  # a product shot


def test_a_head_for_another_crop_side_is_refused(tmp_path):
    torch.manual_seed(0)
    save_head(ProjectionHead(1280, 32, 16), tmp_path / "h.pt", {"name": "effnet-crop", "crop_size": 288,
              "network": "efficientnet-lite0"})  # fmt: skip
    head = load_head(tmp_path / "h.pt")
    check_head_base(head, EmbeddingConfig(name="effnet-crop", crop_size=288))
    with pytest.raises(HeadError, match="at 288 px"):
        check_head_base(head, EmbeddingConfig(name="effnet-crop", crop_size=224))


@pytest.mark.integration
def test_the_shipped_default_searches_a_room_photo_from_the_room_side(room_index):
    import engine

    service = engine.load(room_index["index"])
    assert service.embedder.queries and service.embedder.head.blend is not None  # the default head is blended
    analysis = service.analyse(load_image(room_index["room"]))
    box = analysis.detections[0].box
    base = service.embedder.base.embed(analysis, np.asarray([box], np.float32))
    expected = service.embedder.head.apply(base, ROOM)[0]
    assert np.allclose(service.embed(analysis, box), expected, atol=1e-5)
    assert not np.allclose(expected, service.embedder.head.apply(base, CATALOGUE)[0], atol=1e-3)
