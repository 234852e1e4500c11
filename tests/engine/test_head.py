"""The embedding head: checkpoints verified by sha256 and base, applied by the embedder, index mismatches refused."""

import numpy as np
import pandas as pd
import pytest
import torch

import engine
from catalog.build import BuildConfig, build_catalog
from catalog.reembed import reembed_index
from engine.embedding import EmbeddingConfig, make_embedder
from engine.embedding.head import HeadEmbedder, HeadError, ProjectionHead, load_head, save_head
from engine.index.manifest import IndexMismatchError
from engine.index.store import CatalogIndex
from tests.conftest import CATALOG

BASE = {"name": "color-hist", "crop_size": 224}  # 512-d, no network: fast


def write_head(path, seed: int, in_dim: int = 512, base: dict = BASE) -> str:
    torch.manual_seed(seed)
    return save_head(ProjectionHead(in_dim, hidden=32, out_dim=16), path, base, {"config": {"loss": "test"}})


@pytest.fixture(scope="module")
def heads(tmp_path_factory):
    root = tmp_path_factory.mktemp("heads")
    write_head(root / "a.pt", 0)
    write_head(root / "b.pt", 1)
    return root


@pytest.fixture(scope="module")
def base_index(tmp_path_factory):
    """12 real catalogue products indexed with color-hist (random yolo11n weights: whole-image entries)."""
    root = tmp_path_factory.mktemp("head-index")
    table = pd.read_csv(CATALOG / "products.csv", dtype=str, keep_default_na=False).groupby("category").head(2)
    table.to_csv(root / "products.csv", index=False)
    config = BuildConfig(embedding=EmbeddingConfig(name="color-hist"))
    build_catalog(CATALOG, root / "base", root / "products.csv", "yolo11n.yaml", config, progress=False)
    return root / "base"


def test_checkpoint_round_trip_gives_unit_vectors(heads):
    head = load_head(heads / "a.pt")
    vectors = head.apply(np.random.default_rng(0).normal(size=(5, 512)))
    assert vectors.shape == (5, 16) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.array_equal(vectors, load_head(heads / "a.pt").apply(np.random.default_rng(0).normal(size=(5, 512))))
    assert head.trained["config"]["loss"] == "test" and len(head.sha256) == 64


def test_changed_missing_or_foreign_heads_are_refused(heads, tmp_path):
    config = EmbeddingConfig(name="color-hist").with_head(heads / "a.pt")
    with pytest.raises(HeadError, match="retrained or replaced"):
        load_head(heads / "b.pt", config.head_sha256)
    with pytest.raises(HeadError, match="not found"):
        load_head(tmp_path / "none.pt")
    write_head(tmp_path / "effnet.pt", 0, 1280, {"name": "effnet-crop", "crop_size": 224})
    with pytest.raises(HeadError, match="trained on 'effnet-crop'"):
        make_embedder(EmbeddingConfig(name="color-hist").with_head(tmp_path / "effnet.pt"))
    assert issubclass(HeadError, IndexMismatchError)  # the app explains it like any index mismatch


def test_config_records_the_head_and_round_trips(heads):
    config = EmbeddingConfig(name="color-hist").with_head(heads / "a.pt")
    assert config.head_sha256 == load_head(heads / "a.pt").sha256
    assert EmbeddingConfig.from_dict(config.to_dict()) == config
    assert config.base == EmbeddingConfig(name="color-hist")
    old = {k: v for k, v in EmbeddingConfig().to_dict().items() if not k.startswith("head")}
    assert EmbeddingConfig.from_dict(old) == EmbeddingConfig()  # manifests written before heads existed


@pytest.mark.integration
def test_reembedded_index_matches_a_build_with_the_head_and_refuses_other_heads(
    base_index, heads, tmp_path, monkeypatch
):
    monkeypatch.setenv("LOOKALIKE_TRUSTED_MODELS", str(heads))  # heads made by this test are trusted
    out = reembed_index(base_index, tmp_path / "headed", heads / "a.pt")
    base = CatalogIndex.load(base_index)
    head = load_head(heads / "a.pt")
    ids = base.meta["id"].to_numpy()
    assert out.dim == 16 and np.allclose(out.vectors(ids), head.apply(base.vectors(ids)), atol=1e-6)

    service = engine.load(tmp_path / "headed")
    assert isinstance(service.embedder, HeadEmbedder)
    photo = engine.load_image(CATALOG / base.meta["image"].iloc[0])
    analysis = service.analyse(photo)
    top = service.search_box(analysis, (0, 0, photo.width, photo.height), k=1)[0]
    assert top.product_id == base.meta["product_id"].iloc[0] and top.score > 0.99

    with pytest.raises(IndexMismatchError):
        engine.load(tmp_path / "headed", embedding=service.embedding.with_head(heads / "b.pt"))
    with pytest.raises(IndexMismatchError):
        engine.load(tmp_path / "headed", embedding=service.embedding.base)
    with pytest.raises(IndexMismatchError):
        engine.load(base_index, embedding=service.embedding)
    with pytest.raises(IndexMismatchError, match="already has a head"):
        reembed_index(tmp_path / "headed", tmp_path / "twice", heads / "a.pt")


@pytest.mark.integration
def test_reembedding_keeps_an_explicit_index_type_and_refuses_compressed_vectors(base_index, heads, tmp_path):
    base = CatalogIndex.load(base_index)
    ids = base.meta["id"].to_numpy()
    hnsw = CatalogIndex.from_vectors(base.vectors(ids), base.meta.reset_index(drop=True), base.manifest, "HNSW16,Flat")
    hnsw.save(tmp_path / "hnsw")
    assert reembed_index(tmp_path / "hnsw", tmp_path / "headed", heads / "a.pt").factory == "HNSW16,Flat"
    assert CatalogIndex.load(tmp_path / "headed").manifest["index_auto"] is False

    sq8 = CatalogIndex.from_vectors(base.vectors(ids), base.meta.reset_index(drop=True), base.manifest, "HNSW16,SQ8")
    sq8.save(tmp_path / "sq8")
    with pytest.raises(IndexMismatchError, match="compressed vectors"):
        reembed_index(tmp_path / "sq8", tmp_path / "lossy", heads / "a.pt")
    assert not (tmp_path / "lossy").exists()


@pytest.mark.integration
def test_a_retrained_head_file_is_refused_by_its_index(base_index, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOKALIKE_TRUSTED_MODELS", str(tmp_path))  # heads made by this test are trusted
    write_head(tmp_path / "h.pt", 0)
    reembed_index(base_index, tmp_path / "headed", tmp_path / "h.pt")
    write_head(tmp_path / "h.pt", 2)  # retrained in place: same path, other weights
    with pytest.raises(IndexMismatchError, match="not among the trusted checkpoints"):
        engine.load(tmp_path / "headed")  # found by the recorded sha256 only: the changed file is not it
    recorded = CatalogIndex.load(tmp_path / "headed").manifest["embedding"]["head_sha256"]
    with pytest.raises(HeadError, match="retrained or replaced"):  # the file named directly: its sha256 is checked
        load_head(tmp_path / "h.pt", expected_sha256=recorded)


def test_a_malicious_head_is_never_unpickled_even_with_a_matching_sha256(tmp_path):
    from engine.files import file_sha256

    marker, evil = tmp_path / "pwned", tmp_path / "evil-head.pt"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    torch.save({"format": 1, "arch": Payload()}, evil)
    with pytest.raises(HeadError, match="cannot be loaded"):
        load_head(evil, expected_sha256=file_sha256(evil))
    assert not marker.exists()
