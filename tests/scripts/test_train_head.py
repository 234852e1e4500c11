"""Head training on tiny real data: losses fall, retrieval improves, curator marks move the ranking their way."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from engine.curation.feedback import NOT_SIMILAR, SIMILAR, FeedbackStore
from engine.embedding import EmbeddingConfig, make_embedder
from engine.embedding.head import HeadEmbedder
from engine.index.store import CatalogIndex
from scripts import eval_heads
from scripts import train_head as train_head_script
from tests.conftest import CATALOG
from training.head.data import FeatureCache, SplitRule, shot_views
from training.head.room_views import RoomRecall
from training.head.sets import index_views
from training.head.train import TrainConfig, TrainData, pk_batches, train_head

ALL_TRAIN = SplitRule(val_fraction=0.0)  # every family trains


@pytest.fixture(scope="module")
def shot_cache(effnet_index, tmp_path_factory):
    """Base vectors of 4 augmented shots per product: 3 to train on, 1 held back."""
    embedder = make_embedder(EmbeddingConfig(name="effnet-crop"))
    root = tmp_path_factory.mktemp("cache")
    views = shot_views(CATALOG, 4, ALL_TRAIN, seed=3, products_csv=effnet_index.parent / "products.csv")
    FeatureCache(root, "shots").fill(views, lambda ims, boxes: embedder.embed_crops(list(ims), list(boxes)), False)
    return FeatureCache(root, "shots").load()


def test_training_lowers_the_loss_and_improves_retrieval_of_new_views(effnet_index, shot_cache):
    views, vectors = shot_cache
    held = views.groupby("key").cumcount().to_numpy() == 3
    gallery_views, gallery = index_views(CatalogIndex.load(effnet_index))
    data = TrainData(
        vectors[~held],
        views[~held].reset_index(drop=True),
        {"new views": (vectors[held], views["key"].to_numpy()[held])},
        (gallery, gallery_views["key"].to_numpy()),
    )
    config = TrainConfig(loss="triplet+softmax", steps=120, P=8, K=3, eval_every=40, hidden=64, out_dim=32)
    _, history = train_head(data, config, progress=False)
    losses = [h["loss"] for h in history if "loss" in h]
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
    assert history[-1]["new views R@1"] >= history[0]["new views R@1"]  # untrained head: a random projection
    assert history[-1]["new views R@10"] == 1.0 and history[-1]["new views R@1"] >= 0.75


@pytest.mark.parametrize("loss", ["triplet", "ms", "softmax"])
def test_every_loss_trains(loss, shot_cache):
    views, vectors = shot_cache
    config = TrainConfig(loss=loss, steps=30, P=6, K=3, hidden=32, out_dim=16, family_margin=0.1)
    _, history = train_head(TrainData(vectors, views), config, progress=False)
    losses = [h["loss"] for h in history if "loss" in h]
    assert np.isfinite(losses).all() and np.mean(losses[-5:]) < np.mean(losses[:5])


def test_script_writes_head_curves_and_a_reembedded_index(effnet_index, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LOOKALIKE_TRUSTED_MODELS", str(tmp_path))  # heads made by this test are trusted
    out, index_out = tmp_path / "head.pt", tmp_path / "headed"
    args = ["--index", str(effnet_index), "--cache", str(tmp_path / "cache"), "--shots", "2", "--steps", "40"]
    args += ["--P", "6", "--K", "3", "--hidden", "32", "--out-dim", "16", "--out", str(out)]
    args += ["--plot", str(tmp_path / "curves.png"), "--reembed", str(index_out), "--quiet"]
    assert train_head_script.main(args) == 0
    assert out.is_file() and (tmp_path / "curves.png").stat().st_size > 10_000
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["config"]["loss"] == "triplet+softmax" and len(record["history"]) == 41
    entries = len(engine.CatalogIndex.load(effnet_index).meta)
    assert record["sources"]["shot"] > 0 and 0 < record["sources"]["index"] < entries  # held-out families excluded
    service = engine.load(index_out)
    assert isinstance(service.embedder, HeadEmbedder) and service.index.dim == 16
    assert "Re-embedded" in capsys.readouterr().out


def rank_of(service, image, product_id: str) -> int:
    matches = service.search_box(service.analyse(image), (0, 0, image.width, image.height), k=12)
    return [m.product_id for m in matches].index(product_id)


def test_curator_marks_move_the_ranking_their_way(effnet_index, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOKALIKE_TRUSTED_MODELS", str(tmp_path))  # heads made by this test are trusted
    base = engine.load(effnet_index)
    meta = base.index.meta
    photo = engine.load_image(CATALOG / meta[meta["category"] == "chairs"]["image"].iloc[0])
    query = photo.crop((photo.width * 0.1, photo.height * 0.1, photo.width * 0.9, photo.height * 0.9))
    ranked = [m.product_id for m in base.search_box(base.analyse(query), (0, 0, *query.size), k=12)]
    liked, disliked = ranked[-1], ranked[1]  # a poor match the curator accepts, a good one they reject
    store = FeedbackStore(tmp_path / "app-index")
    query_id = store.add_query(query, source="test")
    store.mark(query_id, liked, SIMILAR)
    store.mark(query_id, disliked, NOT_SIMILAR)

    def train(name: str, feedback: bool):
        args = ["--index", str(effnet_index), "--loss", "softmax", "--steps", "80", "--P", "12", "--K", "1"]
        args += ["--hidden", "64", "--out-dim", "32", "--feedback-weight", "5", "--out", str(tmp_path / f"{name}.pt")]
        args += ["--reembed", str(tmp_path / name), "--quiet"] + (["--feedback", str(store.path)] if feedback else [])
        assert train_head_script.main(args) == 0
        return engine.load(tmp_path / name)

    without, marked = train("without", False), train("marked", True)
    assert rank_of(marked, query, liked) < rank_of(marked, query, disliked)
    assert rank_of(marked, query, liked) < rank_of(without, query, liked)


def test_eval_heads_scores_raw_vectors_and_each_head(effnet_index, tmp_path, capsys):
    import shutil

    from engine.embedding.head import ProjectionHead, save_head

    meta = CatalogIndex.load(effnet_index).meta.drop_duplicates("product_id").head(4)
    queries = []
    for i, image in enumerate(meta["image"]):
        shutil.copyfile(CATALOG / image, tmp_path / f"q{i}.jpg")
        width, height = engine.load_image(tmp_path / f"q{i}.jpg").size
        queries.append({"image": f"q{i}.jpg", "product": image, "box": [0, 0, width, height]})
    (tmp_path / "queries.json").write_text(json.dumps(queries))
    save_head(ProjectionHead(1280, 16, 8), tmp_path / "random.pt", {"name": "effnet-crop", "crop_size": 224})
    args = ["--index", str(effnet_index), "--queries", str(tmp_path), "--heads", str(tmp_path / "random.pt")]
    args += ["--cache", str(tmp_path / "q.npy"), "--doc", str(tmp_path / "B.md")]
    assert eval_heads.main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].startswith("| raw (no head) | - | - | 1.00 |")  # each query is its product's own photo
    assert lines[0].count("|") == lines[3].count("|") == 12 and lines[3].startswith("| random |")
    assert (tmp_path / "q.npy").is_file()
    assert "<!-- head-losses:start -->" in (tmp_path / "B.md").read_text()


def test_batches_bring_a_room_crop_of_each_focus_product():
    keys = np.repeat(np.arange(20), 4)
    focus = np.zeros(len(keys), dtype=bool)
    focus[[3, 7, 11]] = True  # one room crop for products 0, 1 and 2
    batches = pk_batches(keys, 8, 3, np.random.default_rng(0), focus, focus_share=0.25)
    for _ in range(20):
        batch = next(batches).reshape(8, 3)
        assert set(keys[batch[:2, 0]]) <= {0, 1, 2} and focus[batch[:2, 0]].all()  # 2 of 8 products: focus
        assert len(set(keys[batch[:, 0]])) == 8  # 8 distinct products


def write_pairs(folder: Path, views: pd.DataFrame, vectors: np.ndarray, rows: np.ndarray) -> None:
    """A mined-pairs folder whose 'room crops' are the given views (their negatives: another product's view)."""
    folder.mkdir(parents=True)
    pairs = pd.DataFrame({"image": "room.jpg", "product_id": views["product_id"].to_numpy()[rows]})
    pairs[["x0", "y0", "x1", "y1"]] = [0.0, 0.0, 10.0, 10.0]
    pairs = pairs.assign(box_class="chair", confidence=0.5, score=0.5, rank=1, class_fit=1.0)
    pairs.to_csv(folder / "pairs.csv", index=False)
    np.save(folder / "base.npy", vectors[rows])
    np.save(folder / "negatives.npy", vectors[np.roll(rows, 1)])


def test_fine_tuning_on_room_pairs_from_a_head(effnet_index, shot_cache, tmp_path):
    views, vectors = shot_cache
    copy = views.groupby("key").cumcount().to_numpy()
    write_pairs(tmp_path / "train", views, vectors, np.flatnonzero(copy == 0))
    write_pairs(tmp_path / "heldout", views, vectors, np.flatnonzero(copy == 3))
    first = tmp_path / "first.pt"
    args = ["--index", str(effnet_index), "--P", "6", "--K", "3", "--hidden", "32", "--out-dim", "16", "--quiet"]
    args += ["--val-fraction", "0", "--room-eval", str(tmp_path / "heldout")]
    assert train_head_script.main(args + ["--steps", "20", "--out", str(first)]) == 0
    tuned = tmp_path / "tuned.pt"
    rooms = ["--room-pairs", str(tmp_path / "train"), "--room-share", "0.5", "--init", str(first)]
    assert train_head_script.main(args + rooms + ["--steps", "80", "--out", str(tuned)]) == 0
    record = json.loads(tuned.with_suffix(".json").read_text())
    assert record["sources"]["room"] == 12 and record["init"]["path"] == str(first)
    assert record["feedback_triplets"] == 12  # one (room crop, product, other box) triplet per training pair
    started = json.loads(first.with_suffix(".json").read_text())["history"][-1]
    history = record["history"]
    assert history[0]["rooms R@1"] == started["rooms R@1"]  # the run starts from the first head's weights
    assert history[-1]["rooms R@10"] >= history[0]["rooms R@10"] and history[-1]["rooms R@1"] > history[0]["rooms R@1"]


def test_room_recall_counts_a_listed_product_found_by_any_box_of_its_photo():
    gallery, keys = np.eye(12, dtype=np.float32), np.array(list("abcdefghijkl"))  # 12 products, one entry each
    first = np.array([1.0, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0, 0], dtype=np.float32)  # top 10: a..j
    second = np.array([0, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1, 0, 1.0], dtype=np.float32)  # l, b..j
    boxes = np.stack([first / np.linalg.norm(first), second / np.linalg.norm(second)])  # photo 0's box, photo 1's
    recall = RoomRecall(boxes, np.array([0, 1]), [["a", "k"], ["l"]], large={"k", "l"})
    assert recall.figures(lambda x: x, gallery, keys) == {"room recall@10": 0.6667, "room large recall@10": 0.5}
    swapped = RoomRecall(boxes, np.array([1, 0]), [["a", "k"], ["l"]], large={"k", "l"})
    assert swapped.figures(lambda x: x, gallery, keys)["room recall@10"] == 0.0  # a box counts for its own photo
