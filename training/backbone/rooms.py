"""Mined room pairs and room boxes as prefix maps: real room crops for the tail to train on, and room recall.

The head trainer uses the pairs' stored base vectors; a tail needs the crops' maps instead, so each pair's box
(and, for the recall curve, every box of every held-out photo) is cut from its room photo again and cached under
`cache/rooms-{start}/`, apart from the catalogue's training maps: a run uses them only when asked.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from engine.curation.catalogue_files import ImageFiles
from engine.embedding import EmbeddingConfig
from training.backbone.maps import map_encoder
from training.head.data import FeatureCache
from training.head.room_views import RoomPairs, RoomRecall, room_views
from training.head.sets import index_views

BOX_COLUMNS = ["x0", "y0", "x1", "y1"]


def cached_maps(cache: Path, start: int, name: str, views: pd.DataFrame, encode) -> tuple[pd.DataFrame, np.ndarray]:
    """Maps of room crops (views with `path` and `box`), cached under `cache/rooms-{start}/name`."""
    store = FeatureCache(Path(cache) / f"rooms-{start}", name)
    store.fill(views, encode, progress=False)
    return store.load()


def pair_views(rooms: RoomPairs, files: ImageFiles) -> pd.DataFrame:
    """The training pairs of products in the index as views (source 'room') with their photo and box."""
    pairs, base, _ = rooms.train
    known = pairs["product_id"].isin(set(index_views(rooms.index)[0]["product_id"])).to_numpy()
    views, _ = room_views(pairs, base, rooms.index)
    views["path"] = [str(files.path(image)) for image in pairs.loc[known, "image"]]
    views["box"] = pairs.loc[known, BOX_COLUMNS].astype(float).to_numpy().tolist()
    return views


def box_views(folder: Path, files: ImageFiles) -> pd.DataFrame:
    """Every stored box of a pairs folder's photos (boxes.npz, rooms.json) as a view with its photo."""
    arrays = np.load(folder / "boxes.npz", allow_pickle=False)
    images = [room["image"] for room in json.loads((folder / "rooms.json").read_text(encoding="utf-8"))]
    paths = [str(files.path(images[int(i)])) for i in arrays["room"]]
    return pd.DataFrame({"key": "", "source": "room-box", "path": paths, "box": arrays["box"].tolist()})


def room_sets(
    cache: Path,
    start: int,
    train_dir: Path | None,
    eval_dir: Path | None,
    indexes: list,
    max_rank: int | None = None,
    device: str = "cpu",
) -> tuple[tuple, RoomRecall | None]:
    """((pair views, their maps),) to train on, and room recall on the eval photos computed from maps."""
    rooms = RoomPairs.load(train_dir, eval_dir, indexes, max_rank)
    if rooms.index is None:
        return (), None
    files = ImageFiles(Path(rooms.index.manifest["images_root"]))  # refuses names that lead out of the catalogue
    encode = map_encoder(EmbeddingConfig(name="effnet-crop"), start, device)
    extra = ()
    if rooms.train:
        name = f"pairs-{train_dir.name}-rank-{max_rank or 'all'}"
        extra = (cached_maps(cache, start, name, pair_views(rooms, files), encode),)
    recall = None
    if rooms.recall is not None:
        _, maps = cached_maps(cache, start, f"boxes-{eval_dir.name}", box_views(eval_dir, files), encode)
        recall = RoomRecall(maps, rooms.recall.room, rooms.recall.listed, rooms.recall.large)
    return extra, recall
