"""An index records its crop network's input contract; one made with the old contract is never mixed with new
query vectors: it is searched with the input it was built with, and a build with today's default embeds again."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import engine
from catalog.build import BuildConfig, build_catalog
from engine.embedding import EmbeddingConfig, make_embedder
from engine.embedding.head import HeadError
from engine.images import load_image
from engine.index.backends import load_manifest
from engine.index.manifest import IndexMismatchError
from engine.index.store import current_version
from engine.pretrained import DEFAULT_NETWORK, LEGACY_NETWORK
from engine.settings import TRAINED_DETECTOR
from tests.conftest import CATALOG

pytestmark = pytest.mark.integration


def old_manifest(index_dir) -> None:
    """Rewrite the live manifest as a build before the contract was recorded wrote it (no network, no input)."""
    path = current_version(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["embedding"] = {k: v for k, v in manifest["embedding"].items() if k not in ("network", "input")}
    path.write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def legacy_index(tmp_path_factory, small_products):
    """Eight real products built with the legacy contract, its manifest made to look like an old one."""
    root = tmp_path_factory.mktemp("legacy")
    small_products.groupby("category").head(2).head(8).to_csv(root / "products.csv", index=False)
    config = BuildConfig(embedding=EmbeddingConfig(network=LEGACY_NETWORK), views=0)
    build_catalog(CATALOG, root / "index", root / "products.csv", str(TRAINED_DETECTOR), config, progress=False)
    old_manifest(root / "index")
    return root


def test_config_records_the_network_and_its_input_contract():
    data = EmbeddingConfig().to_dict()
    assert data["network"] == DEFAULT_NETWORK
    assert data["input"] == {"mean": [0.5] * 3, "std": [0.5] * 3, "size": 224, "interpolation": "bicubic"}
    assert EmbeddingConfig.from_dict(data) == EmbeddingConfig()
    old = {k: v for k, v in data.items() if k not in ("network", "input")}
    assert EmbeddingConfig.from_dict(old).network == LEGACY_NETWORK  # made before the contract: ImageNet mean/std
    assert EmbeddingConfig.from_dict(old).to_dict()["input"]["mean"] == [0.485, 0.456, 0.406]


def test_an_old_index_is_searched_with_the_input_it_was_built_with(legacy_index):
    service = engine.load(legacy_index / "index")
    assert service.embedder.config.network == LEGACY_NETWORK
    row = pd.read_csv(legacy_index / "products.csv", dtype=str).iloc[0]
    photo = load_image(CATALOG / row["image"])
    matches = service.search_box(service.analyse(photo), (0, 0, *photo.size), k=3)
    assert matches[0].product_id == row["product_id"] and matches[0].score > 0.97


def test_new_queries_are_never_mixed_into_an_old_index(legacy_index):
    with pytest.raises(IndexMismatchError, match="embedding config"):
        engine.load(legacy_index / "index", embedding=EmbeddingConfig())


def test_a_build_with_todays_default_embeds_every_photo_again(legacy_index, tmp_path):
    report = build_catalog(
        CATALOG, legacy_index / "index", legacy_index / "products.csv", str(TRAINED_DETECTOR),
        BuildConfig(embedding=EmbeddingConfig(), views=0), progress=False,
    )  # fmt: skip
    assert report.embedded == 8 and report.unchanged == 0
    recorded = load_manifest(legacy_index / "index")["embedding"]
    assert recorded["network"] == DEFAULT_NETWORK and recorded["input"]["mean"] == [0.5] * 3
    assert engine.load(legacy_index / "index").embedder.config.network == DEFAULT_NETWORK


def test_a_head_trained_on_old_features_is_refused_on_new_ones(tmp_path):
    from engine.embedding.head import ProjectionHead, save_head

    save_head(ProjectionHead(1280, hidden=8, out_dim=4), tmp_path / "old.pt", {"name": "effnet-crop", "crop_size": 224})
    with pytest.raises(HeadError, match=LEGACY_NETWORK):
        make_embedder(EmbeddingConfig().with_head(tmp_path / "old.pt"))
    legacy = EmbeddingConfig(network=LEGACY_NETWORK, crop_size=224).with_head(tmp_path / "old.pt")
    assert make_embedder(legacy).dim == 4
