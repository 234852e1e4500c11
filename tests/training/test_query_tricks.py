"""Query-side tricks: without a trick they reproduce the index's own embedding; each trick keeps unit vectors."""

import numpy as np
import pytest

import engine
from tests.conftest import CATALOG
from training.query_tricks import QueryTricks, grown, mirrored


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
    for tricks in ({"flip": True}, {"scales": (0.0, 0.2)}, {"scales": (0.3,)}):
        vectors = QueryTricks(service.embedder, **tricks).embed(analysis, box)
        assert vectors.shape == built.shape and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
        assert not np.allclose(vectors, built, atol=1e-3), tricks
