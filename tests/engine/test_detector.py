"""The real YOLO wrapper (random yolo11n weights): feature maps match the letterbox, weights are pinned."""

import numpy as np
import pytest
from PIL import Image

from engine.detection.detector import Detector, DetectorConfig, weights_fingerprint
from engine.embedding import EmbeddingConfig, embed_boxes, embedding_dim


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector("yolo11n.yaml", DetectorConfig(imgsz=320))


@pytest.mark.integration
def test_feature_maps_match_the_letterboxed_input(detector):
    analysis = detector.analyse([Image.new("RGB", (500, 300), (90, 60, 30))])[0]
    width, height = analysis.letterbox.input_size
    assert (width, height) == (320, 192)
    for fmap, stride in zip(analysis.feature_maps, analysis.strides):
        assert fmap.shape[1:] == (height / stride, width / stride)
    assert [int(f.shape[0]) for f in analysis.feature_maps] == [64, 128, 256]


@pytest.mark.integration
def test_batch_gives_the_same_maps_as_single_images(detector):
    images = [Image.new("RGB", (256, 256), c) for c in [(200, 0, 0), (0, 0, 200)]]
    batch = detector.analyse(images, square=True)
    single = detector.analyse(images[1:], square=True)[0]
    for a, b in zip(batch[1].feature_maps, single.feature_maps):
        assert np.allclose(a.numpy(), b.numpy(), atol=1e-4)


@pytest.mark.integration
def test_random_weights_are_identical_in_every_load(detector):
    again = Detector("yolo11n.yaml", DetectorConfig(imgsz=320))
    assert again.weights_sha256 == detector.weights_sha256
    image = Image.effect_mandelbrot((320, 240), (-2, -1.2, 1, 1.2), 50).convert("RGB")
    box = np.array([[40, 30, 200, 180]], dtype=np.float32)
    first = embed_boxes(detector.analyse([image])[0], box)
    second = embed_boxes(again.analyse([image])[0], box)
    assert np.array_equal(first, second)


def test_fingerprint_distinguishes_model_scales():
    assert weights_fingerprint("yolo11n.yaml") != weights_fingerprint("yolo11s.yaml")


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="could not be loaded"):
        Detector(tmp_path / "nope.pt")


@pytest.mark.integration
def test_embeddings_are_unit_length_and_deterministic(detector):
    image = Image.effect_mandelbrot((400, 300), (-2, -1.2, 1, 1.2), 60).convert("RGB")
    analysis = detector.analyse([image])[0]
    boxes = np.array([[0, 0, 400, 300], [50, 40, 210, 220], [300, 10, 390, 90]], dtype=np.float32)
    vectors = embed_boxes(analysis, boxes)
    assert vectors.shape == (3, embedding_dim(analysis)) == (3, 448)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors, embed_boxes(analysis, boxes))
    assert not np.allclose(vectors[1], vectors[2])


@pytest.mark.integration
def test_embedding_config_levels_and_round_trip(detector):
    analysis = detector.analyse([Image.new("RGB", (128, 128), (1, 2, 3))])[0]
    config = EmbeddingConfig(levels=(2,), shrink=0.0)
    assert embed_boxes(analysis, np.array([[0, 0, 128, 128]]), config).shape == (1, 256)
    assert EmbeddingConfig.from_dict(config.to_dict()) == config
