"""`lookalike blend-head`: both sides' centres measured with real Lite0 on real photos, the held-out rooms never."""

import numpy as np
import pandas as pd
import pytest

from engine.detection.detector import Detector
from engine.embedding import EmbeddingConfig, make_embedder
from engine.embedding.domains import CATALOGUE, ROOM
from engine.embedding.head import load_head
from engine.images import load_image
from engine.search.query import product_shot_box
from engine.settings import TRAINED_HEAD, default_weights
from scripts.blend_head import main
from tests.conftest import CATALOG, ROOMS, SECOND_ROOM, TEST_ROOM
from training.head.blend import BlendRecipe, blend_head, room_items

pytestmark = pytest.mark.integration  # the shipped detector, real ImageNet weights, real photos

PLAIN_HEAD = TRAINED_HEAD.parent / "head-lite0.pt"  # the trained head the shipped blend was made from


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A 3-product catalogue and a rooms folder listing one training-split room and one held-out room."""
    root = tmp_path_factory.mktemp("blend")
    for name, source in (("catalogue", CATALOG), ("rooms", ROOMS)):
        (root / name).mkdir()
        for sub in ("sofas", "chairs") if name == "catalogue" else ("rooms",):
            (root / name / sub).symlink_to(source / sub, target_is_directory=True)
    table = pd.read_csv(CATALOG / "products.csv", dtype=str, keep_default_na=False)
    table[table["category"].isin(["sofas", "chairs"])].head(3).to_csv(root / "catalogue" / "products.csv", index=False)
    rooms = pd.read_csv(ROOMS / "rooms.csv", dtype=str, keep_default_na=False)
    rooms[rooms["image"].isin([TEST_ROOM, SECOND_ROOM])].to_csv(root / "rooms" / "rooms.csv", index=False)
    return root


def test_room_proposals_come_from_training_photos_only(folders):
    items = room_items(Detector(default_weights()), folders / "rooms")
    assert [path.name for path, _ in items] == [TEST_ROOM.split("/")[-1]]  # SECOND_ROOM is held out
    assert len(items[0][1]) > 0


def test_the_catalogue_centre_is_the_mean_of_the_product_shots_base_vectors(folders, tmp_path):
    head = load_head(PLAIN_HEAD)
    out = tmp_path / "blend.pt"
    blend_head(head, out, [folders / "catalogue"], folders / "rooms", Detector(default_weights()), BlendRecipe(288))
    blended = load_head(out)
    assert blended.base["crop_size"] == 288 and blended.dim == 1280 + 256
    assert blended.trained["blend"]["crops"][CATALOGUE] == 3 and blended.trained["blend"]["crops"][ROOM] > 0
    base = make_embedder(EmbeddingConfig(crop_size=288))
    table = pd.read_csv(folders / "catalogue" / "products.csv", dtype=str)
    photos = [load_image(folders / "catalogue" / image) for image in table["image"]]
    vectors = base.embed_crops(photos, [np.asarray(product_shot_box(p), np.float32) for p in photos])
    assert np.allclose(blended.blend.base_centres[CATALOGUE], vectors.mean(0), atol=1e-5)
    assert np.allclose(blended.blend.head_centres[CATALOGUE], head.apply(vectors).mean(0), atol=1e-5)
    assert not np.allclose(blended.blend.base_centres[ROOM], blended.blend.base_centres[CATALOGUE], atol=1e-2)
    with pytest.raises(ValueError, match="already blended"):
        blend_head(blended, tmp_path / "twice.pt", [folders / "catalogue"], folders / "rooms", None)


def test_the_command_refuses_a_share_outside_zero_to_one(tmp_path):
    with pytest.raises(SystemExit, match="between 0 and 1"):
        main(["--head", str(PLAIN_HEAD), "--out", str(tmp_path / "x.pt"), "--base-share", "1.5"])
