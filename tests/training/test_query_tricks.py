"""Query-side tricks: without a trick they reproduce the index's own embedding; each trick keeps unit vectors."""

import numpy as np
import pytest
from PIL import Image

import engine
from tests.conftest import CATALOG
from training.query_tricks import QueryTricks, background_removed, grown, mirrored


def test_cutout_whitens_the_background_around_an_object_and_keeps_the_object():
    rng = np.random.default_rng(0)
    pixels = np.full((200, 300, 3), (40, 90, 160), np.uint8)  # a blue wall with a little noise
    pixels = (pixels + rng.integers(0, 20, pixels.shape)).astype(np.uint8)
    pixels[70:150, 110:210] = (200, 30, 30)  # the red object
    region, box = background_removed(Image.fromarray(pixels), (100, 60, 220, 160))
    assert region.size == (156, 130) and np.allclose(box, [18, 15, 138, 115])  # 15 % context, clipped to the photo
    cut = np.asarray(region).astype(int)
    assert np.abs(cut[45, 78] - (200, 30, 30)).max() < 30  # the object's centre is kept
    assert (cut[5, 5] == 255).all() and (cut[20, 24] > 200).all()  # outside the box, and inside it off the object
    again, _ = background_removed(Image.fromarray(pixels), (100, 60, 220, 160))
    assert np.array_equal(np.asarray(again), np.asarray(region))  # deterministic: the same box cuts the same


def test_a_cutout_that_finds_no_object_keeps_the_plain_region():
    flat = Image.new("RGB", (100, 80), (120, 120, 120))  # nothing to separate
    region, box = background_removed(flat, (20, 20, 80, 60))
    assert np.asarray(region).max() == 120 and region.size == (78, 52) and np.allclose(box, [9, 6, 69, 46])


def test_cutout_does_not_silently_drop_other_tricks():
    with pytest.raises(ValueError, match="cutout"):
        QueryTricks(None, flip=True, cutout=True)
    with pytest.raises(ValueError, match="cutout"):
        QueryTricks(None, scales=(0.0, 0.2), cutout=True)


def test_boxes_grow_within_the_image_and_mirror_back():
    boxes = np.array([[10, 20, 30, 60], [0, 0, 100, 50]], dtype=np.float32)
    assert np.allclose(grown(boxes, 0.5, (100, 50)), [[0, 0, 40, 50], [0, 0, 100, 50]])
    assert np.allclose(mirrored(mirrored(boxes, 100), 100), boxes)
    assert np.allclose(mirrored(boxes, 100)[0], [70, 20, 90, 60])


@pytest.mark.integration
def test_no_trick_is_the_service_embedding_and_tricks_change_it(service):
    photo = engine.load_image(CATALOG / service.index.meta["image"].iloc[0])
    analysis = service.analyse(photo)
    box = np.array([[photo.width * 0.1, photo.height * 0.1, photo.width * 0.9, photo.height * 0.9]], np.float32)
    built = service.embedder.embed(analysis, box)
    assert np.allclose(QueryTricks(service.embedder).embed(analysis, box), built, atol=1e-5)
    for tricks in ({"flip": True}, {"scales": (0.0, 0.2)}, {"scales": (0.3,)}, {"cutout": True}):
        vectors = QueryTricks(service.embedder, **tricks).embed(analysis, box)
        assert vectors.shape == built.shape and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
        assert not np.allclose(vectors, built, atol=1e-3), tricks
