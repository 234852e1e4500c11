"""Detector copies for shoppers uploading at once: each forward gets its own maps, the same as one copy's."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine.detection.detector import Detector, DetectorConfig
from engine.detection.replicas import ReplicaPool
from engine.images import load_image
from engine.settings import default_weights, sample_rooms_dir

pytestmark = pytest.mark.integration  # the shipped detector on real room photos

ROOMS = sample_rooms_dir()


def room_photos(n: int) -> list:
    paths = sorted(p for p in ROOMS.glob("*.jpg"))[:n]
    return [load_image(p) for p in paths]


@pytest.mark.skipif(not ROOMS.is_dir(), reason="sample room photos not available")
def test_concurrent_uploads_on_two_copies_get_their_own_boxes_and_maps():
    photos = room_photos(6)
    single = Detector(default_weights(), DetectorConfig(imgsz=480, conf=0.1))
    expected = [single.analyse([photo])[0] for photo in photos]
    pool = Detector(default_weights(), DetectorConfig(imgsz=480, conf=0.1), replicas=2)
    got: list = [None] * len(photos)
    start = threading.Barrier(len(photos))

    def upload(i: int) -> None:
        start.wait()
        got[i] = pool.analyse([photos[i]])[0]

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(len(photos))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for want, have in zip(expected, got):
        assert [d.class_name for d in have.detections] == [d.class_name for d in want.detections]
        assert np.allclose([d.box for d in have.detections], [d.box for d in want.detections], atol=0.5)
        for a, b in zip(have.feature_maps, want.feature_maps):  # another forward's maps would differ
            assert a.shape == b.shape and np.allclose(a.numpy(), b.numpy(), atol=1e-3)


def test_a_pool_needs_a_replica_and_copies_never_share_weights():
    with pytest.raises(ValueError, match="at least one replica"):
        ReplicaPool(Detector("yolo11n.yaml").model, 0)
    pool = Detector("yolo11n.yaml", DetectorConfig(imgsz=320), replicas=2)._pool
    first, second = (next(r.model.parameters()) for r in pool.replicas)
    assert len(pool) == 2 and first.data_ptr() != second.data_ptr() and first.equal(second)
