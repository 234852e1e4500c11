"""Every registered embedding method on a real (random-weight) yolo11n: shapes, unit norm, determinism, user boxes."""

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from engine.detection.detector import Detector, DetectorConfig
from engine.embedding import EMBEDDERS, EmbeddingConfig, make_embedder
from engine.embedding.feature_maps import level_weights

DIMS = {  # every registered method and its dimension for yolo11n
    "yolo-roi": 448,
    "yolo-roi-level": 448,
    "yolo-native": 192,
    "yolo-crop": 448,
    "effnet-crop": 1280,
    "color-hist": 512,
    "effnet-roi": 1728,
}
BOXES = np.array(  # user-drawn boxes: whole image, objects, a sliver, one hanging off the edge
    [[0, 0, 480, 320], [40, 40, 200, 200], [260, 60, 420, 260], [300, 10, 303, 13], [400, 250, 620, 400]],
    dtype=np.float32,
)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector("yolo11n.yaml", DetectorConfig(imgsz=320))


def scene() -> Image.Image:
    """A textured background with a red disc, a blue striped block and a green corner."""
    image = Image.effect_mandelbrot((480, 320), (-2, -1.2, 1, 1.2), 60).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse((50, 50, 190, 190), fill=(200, 30, 30))
    for x in range(270, 410, 20):
        draw.rectangle((x, 70, x + 9, 250), fill=(30, 40, 190))
    draw.rectangle((400, 250, 480, 320), fill=(40, 170, 60))
    return image


@pytest.fixture(scope="module")
def analysis(detector):
    return detector.analyse([scene()])[0]


def test_all_methods_are_registered():
    assert set(DIMS) == set(EMBEDDERS)


def test_feature_map_methods_need_the_detector_for_their_width():
    with pytest.raises(ValueError, match="make_embedder"):
        _ = make_embedder(EmbeddingConfig(name="yolo-roi"), None).dim


@pytest.mark.parametrize("name", sorted(DIMS))
@pytest.mark.integration
def test_every_method_gives_deterministic_unit_vectors_for_any_box(name, detector, analysis):
    assert set(EMBEDDERS) <= set(DIMS), "a new method needs its dimension in DIMS"
    embedder = make_embedder(EmbeddingConfig(name=name), detector)
    vectors = embedder.embed(analysis, BOXES)
    assert vectors.shape == (len(BOXES), DIMS[name]) and vectors.dtype == np.float32
    assert embedder.dim == DIMS[name]  # known before any forward pass: the builder sizes empty indexes by it
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, embedder.embed(analysis, BOXES))
    assert np.array_equal(vectors[1:3], embedder.embed(analysis, BOXES[1:3]))  # independent of the batch
    similarity = vectors @ vectors.T
    assert (similarity[~np.eye(len(BOXES), dtype=bool)] < 1 - 1e-6).all()  # different boxes, different vectors
    assert embedder.embed(analysis, np.zeros((0, 4), dtype=np.float32)).shape == (0, DIMS[name])


@pytest.mark.parametrize("name", ["yolo-crop", "effnet-crop", "color-hist"])
@pytest.mark.integration
def test_crop_methods_ignore_where_the_object_stands(name, detector):
    patch = scene().crop((40, 40, 200, 200))  # 160 x 160
    canvas = Image.new("RGB", (640, 400), (255, 255, 255))
    canvas.paste(patch, (20, 30))
    canvas.paste(patch, (400, 200))
    boxes = np.array([[20, 30, 180, 190], [400, 200, 560, 360]], dtype=np.float32)
    vectors = make_embedder(EmbeddingConfig(name=name), detector).embed(detector.analyse([canvas])[0], boxes)
    assert float(vectors[0] @ vectors[1]) > 1 - 1e-5


@pytest.mark.integration
def test_crop_methods_need_the_source_image(detector, analysis):
    bare = dataclasses.replace(analysis, image=None)
    with pytest.raises(ValueError, match="source photo"):
        make_embedder(EmbeddingConfig(name="color-hist"), detector).embed(bare, BOXES)
    with pytest.raises(ValueError, match="pass the detector"):
        make_embedder(EmbeddingConfig(name="yolo-crop"), None)


@pytest.mark.integration
def test_box_size_picks_the_level(analysis):
    boxes = np.array([[0, 0, 40, 40], [0, 0, 330, 330], [-200, -200, 680, 520]], dtype=np.float32)  # input: x 2/3
    weights = level_weights(analysis, boxes, (0, 1, 2))
    assert weights.argmax(axis=1).tolist() == [0, 1, 2]
    hard = level_weights(analysis, boxes, (0, 1, 2), sigma=0)
    assert hard.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    small = make_embedder(EmbeddingConfig(name="yolo-roi-level")).embed(analysis, boxes[:1])[0]
    assert np.linalg.norm(small[:64]) > 0.99  # P3 block carries the small box


@pytest.mark.integration
def test_native_matches_ultralytics_get_obj_feats(analysis):
    from ultralytics.models.yolo.detect.predict import DetectionPredictor

    box = np.array([[260, 60, 420, 260]], dtype=np.float32)  # centre (340, 160) -> input (226.7, 106.7)
    vector = make_embedder(EmbeddingConfig(name="yolo-native")).embed(analysis, box)[0]  # (192,)
    maps = [fmap[None] for fmap in analysis.feature_maps]  # (1, C, H, W) as the Detect head sees them
    offset = 0
    for level, fmap in enumerate(analysis.feature_maps):
        stride, (_, _, width) = analysis.strides[level], fmap.shape
        anchor = offset + int(106.7 // stride) * width + int(226.7 // stride)  # row-major anchor index
        theirs = DetectionPredictor.get_obj_feats(maps, [torch.tensor([anchor])])[0][0].numpy()  # (64,)
        ours = vector[64 * level : 64 * (level + 1)]
        assert np.allclose(ours * np.linalg.norm(theirs) * np.sqrt(3), theirs, atol=1e-5)
        offset += fmap.shape[1] * fmap.shape[2]


def test_unknown_method_is_a_value_error():
    with pytest.raises(ValueError, match="Unknown embedding"):
        make_embedder(EmbeddingConfig(name="no-such-method"))


@pytest.mark.parametrize("head", [False, True])
@pytest.mark.integration
def test_embedding_many_images_at_once_equals_one_by_one(detector, analysis, head, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOKALIKE_TRUSTED_MODELS", str(tmp_path))  # heads made by this test are trusted
    from engine.embedding import embed_many
    from engine.embedding.head import ProjectionHead, save_head

    config = EmbeddingConfig(name="effnet-crop")
    if head:
        torch.manual_seed(0)
        save_head(
            ProjectionHead(1280, hidden=32, out_dim=16),
            tmp_path / "h.pt",
            {"name": "effnet-crop", "crop_size": config.crop_size, "network": config.network},
        )
        config = config.with_head(tmp_path / "h.pt")
    embedder = make_embedder(config, detector)
    other = detector.analyse([scene().transpose(Image.Transpose.FLIP_LEFT_RIGHT)])[0]
    boxes = [BOXES[:3], BOXES[3:], BOXES[1:2]]
    together = embed_many(embedder, [analysis, other, analysis], boxes)
    assert [len(v) for v in together] == [3, 2, 1]
    for vectors, image, b in zip(together, [analysis, other, analysis], boxes):
        np.testing.assert_allclose(vectors, embedder.embed(image, b), atol=1e-5)
