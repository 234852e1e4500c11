"""Tuning the network tail with the head on a small real set: the loss falls, retrieval improves, runs resume."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from engine.embedding import EmbeddingConfig
from engine.embedding.head import ProjectionHead
from engine.embedding.tail import new_tail
from engine.index.store import CatalogIndex
from training.backbone.maps import fill_map_cache
from training.backbone.train import TuneConfig, TunedModel, tune
from training.head.data import FeatureCache, SplitRule
from training.head.train import TrainData

ALL_TRAIN = SplitRule(val_fraction=0.0)  # every family trains
CROP = EmbeddingConfig.crop_size  # the side the effnet_index fixture's crops are embedded at
MAP_SIZE = int(np.prod(new_tail(6).map_shape(CROP)))  # one cached map, flattened: 192 x 9 x 9 at 288 px


@pytest.fixture(scope="module")
def map_data(effnet_index, tmp_path_factory) -> TrainData:
    """Prefix maps (tail start 6) of 12 products: index entries as the gallery, 4 augmented shots each (1 held)."""
    root = fill_map_cache(tmp_path_factory.mktemp("maps"), [CatalogIndex.load(effnet_index)], 6, ALL_TRAIN, shots=4)
    gallery_views, gallery = FeatureCache(root, "index-ikea-catalog").load()
    views, maps = FeatureCache(root, "shot-ikea-catalog-4x").load()
    assert maps.shape[1] == MAP_SIZE and len(gallery) == len(CatalogIndex.load(effnet_index))
    held = views.groupby("key").cumcount().to_numpy() == 3
    evals = {"new views": (maps[held], views["key"].to_numpy()[held])}
    return TrainData(
        maps[~held], views[~held].reset_index(drop=True), evals, (gallery, gallery_views["key"].to_numpy())
    )


def fresh_model(seed: int = 0, hidden: int = 64, out_dim: int = 32) -> TunedModel:
    torch.manual_seed(seed)
    tail = new_tail(6)
    return TunedModel(tail, ProjectionHead(1280, hidden, out_dim), tail.map_shape(CROP))


def test_tuning_the_tail_lowers_the_loss_and_improves_retrieval_of_new_views(map_data):
    model = fresh_model()
    before = {k: v.clone() for k, v in model.tail.state_dict().items()}
    config = TuneConfig(loss="triplet+softmax", steps=60, P=8, K=3, eval_every=20, hidden=64, out_dim=32, lr=1e-3)
    outcome = tune(map_data, model, config, progress=False)
    losses = [h["loss"] for h in outcome.history if "loss" in h]
    assert outcome.finished and np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
    first, last = outcome.history[0], outcome.history[-1]
    assert last["new views R@1"] > first["new views R@1"] and last["new views R@10"] == 1.0
    after = model.tail.state_dict()
    assert not torch.equal(before["conv_head.weight"], after["conv_head.weight"])  # the tail itself learned
    assert torch.equal(before["bn2.running_mean"], after["bn2.running_mean"])  # its statistics are frozen


def test_a_time_boxed_run_stops_and_the_same_call_resumes_it(map_data, tmp_path):
    resume = tmp_path / "state.pt"
    config = TuneConfig(loss="triplet", steps=12, P=6, K=2, eval_every=6, hidden=32, out_dim=16, minutes=1e-9)
    stopped = tune(map_data, fresh_model(0, 32, 16), config, resume, progress=False)
    assert not stopped.finished and [h["step"] for h in stopped.history] == [0, 1]
    assert torch.load(resume, weights_only=True)["step"] == 1
    done = tune(map_data, fresh_model(1, 32, 16), replace(config, minutes=0), resume, progress=False)
    assert done.finished and [h["step"] for h in done.history] == list(range(13))
    assert done.history[1] == stopped.history[1]  # the history carried over, the step was not run again
    again = tune(map_data, fresh_model(2, 32, 16), replace(config, minutes=0), resume, progress=False)
    for name, value in done.model.state_dict().items():  # a finished state resumes to the same weights
        assert torch.equal(value, again.model.state_dict()[name]), name
    with pytest.raises(ValueError, match="other settings.*steps"):
        tune(map_data, fresh_model(0, 32, 16), replace(config, steps=20), resume, progress=False)


def test_query_views_keep_known_products_and_photos_inside_their_folder(tmp_path):
    from training.backbone.maps import query_views

    queries = [
        {"image": "q1.jpg", "product_id": "sofas/1", "family": "Ektorp", "box": [0, 0, 5, 5]},
        {"image": "../outside.jpg", "product_id": "sofas/1", "box": [0, 0, 5, 5]},  # leads out of the folder
        {"image": "q3.jpg", "product_id": "sofas/404", "box": [0, 0, 5, 5]},  # in no catalogue
        {"image": "q4.jpg", "product_id": "7", "box": [1, 2, 3, 4]},  # found in the second catalogue
    ]
    (tmp_path / "queries.json").write_text(json.dumps(queries))
    views = query_views(tmp_path, {"cat-a:sofas/1", "cat-b:7"}, ["cat-a", "cat-b"])
    assert views["key"].tolist() == ["cat-a:sofas/1", "cat-b:7"] and views["box"].tolist()[1] == [1, 2, 3, 4]
    assert views["family"].tolist()[0] == "EKTORP" and set(views["source"]) == {"query"}


def write_room_folder(folder, meta) -> None:
    """A mined-pairs folder whose 'room photos' are catalogue photos: each pair's box is its product's whole photo."""
    folder.mkdir(parents=True)
    rows = meta.drop_duplicates("product_id").head(4)
    pairs = rows[["image", "product_id", "x0", "y0", "x1", "y1"]].assign(rank=[1, 2, 60, 3])
    pairs.to_csv(folder / "pairs.csv", index=False)
    vectors = np.zeros((len(pairs), 1280), dtype=np.float32)
    np.save(folder / "base.npy", vectors)
    np.save(folder / "negatives.npy", vectors)
    boxes = rows[["x0", "y0", "x1", "y1"]].to_numpy(np.float32)
    np.savez(folder / "boxes.npz", base=vectors, room=np.arange(len(rows)), box=boxes, box_class=np.array([""] * 4))
    rooms = [{"image": image, "listed": [pid]} for image, pid in zip(rows["image"], rows["product_id"])]
    (folder / "rooms.json").write_text(json.dumps(rooms))


def test_room_pairs_and_room_boxes_become_maps_read_from_the_catalogue_folder(effnet_index, map_data, tmp_path):
    from engine.curation.catalogue_files import OutsideCatalogueError
    from training.backbone.rooms import room_sets
    from training.head.train import embed_numpy

    index = CatalogIndex.load(effnet_index)
    write_room_folder(tmp_path / "pairs", index.meta)
    extra, recall = room_sets(tmp_path / "cache", 6, tmp_path / "pairs", tmp_path / "pairs", [index], max_rank=50)
    ((views, maps),) = extra
    assert len(views) == 3 and set(views["source"]) == {"room"} and maps.shape == (3, MAP_SIZE)  # rank 60 dropped
    assert recall.base.shape == (4, MAP_SIZE) and np.array_equal(recall.base[0], maps[0])  # the same crop
    model = fresh_model()
    gallery = embed_numpy(model, map_data.gallery[0])
    figures = recall.figures(lambda x: embed_numpy(model, x), gallery, map_data.gallery[1])
    assert set(figures) == {"room recall@10", "room large recall@10"}
    pairs = pd.read_csv(tmp_path / "pairs" / "pairs.csv").assign(image="../../etc/passwd")
    pairs.to_csv(tmp_path / "pairs" / "pairs.csv", index=False)
    with pytest.raises(OutsideCatalogueError):
        room_sets(tmp_path / "cache2", 6, tmp_path / "pairs", None, [index], max_rank=50)
