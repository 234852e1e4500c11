"""A fine-tuned network tail: the split is exact, it travels in the head file, and the embedder uses it."""

import numpy as np
import pytest
import torch
from PIL import Image

from engine.embedding import EmbeddingConfig, make_embedder
from engine.embedding.crop import EffnetCropEmbedder
from engine.embedding.head import HeadEmbedder, ProjectionHead, load_head, save_head
from engine.embedding.tail import EffnetTail, new_tail, prefix_maps
from engine.pretrained import DEFAULT_NETWORK, crop_network

EFFNET = {"name": "effnet-crop", "crop_size": EmbeddingConfig.crop_size, "network": DEFAULT_NETWORK}
pytestmark = pytest.mark.integration  # each test runs EfficientNet-Lite0 on the CPU: seconds, not milliseconds


@pytest.mark.parametrize("start", [4, 5, 6])
def test_an_imagenet_tail_after_the_prefix_is_the_whole_network(start):
    model, tail = crop_network(), new_tail(start)
    crops = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        whole = model.forward_head(model.forward_features(crops), pre_logits=True)  # (2, 1280)
        maps = prefix_maps(model, crops, start)
        split = tail(maps)
    assert tuple(maps.shape[1:]) == tail.map_shape(224)
    assert torch.allclose(whole, split, atol=1e-5)


def test_batch_norms_keep_their_statistics_in_train_mode():
    tail = new_tail(6).train()
    norms = [m for m in tail.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and not any(m.training for m in norms)
    before = norms[0].running_mean.clone()
    tail(torch.randn(4, *tail.map_shape(224)) * 5)
    assert torch.equal(before, norms[0].running_mean)


def test_starts_outside_the_last_stages_are_refused():
    with pytest.raises(ValueError, match="starts at one of the stages"):
        EffnetTail(crop_network(), 2)


def tuned_checkpoint(path, seed: int = 0) -> tuple[EffnetTail, ProjectionHead]:
    """A start-6 tail with perturbed weights and a small head, saved as one file."""
    torch.manual_seed(seed)
    tail, head = new_tail(6), ProjectionHead(1280, hidden=32, out_dim=16).eval()
    with torch.no_grad():
        tail.conv_head.weight.add_(0.05 * torch.randn_like(tail.conv_head.weight))
    save_head(head, path, EFFNET, {"config": {"loss": "test"}}, tail=tail)
    return tail, head


def test_the_tail_travels_in_the_head_file_and_replaces_the_last_stages(tmp_path):
    tail, head = tuned_checkpoint(tmp_path / "tuned.pt")
    loaded = load_head(tmp_path / "tuned.pt", base_name="effnet-crop")
    assert loaded.tail is not None and loaded.tail.start == 6
    for name, value in tail.state_dict().items():
        assert torch.equal(value, loaded.tail.state_dict()[name]), name
    embedder = make_embedder(EmbeddingConfig(name="effnet-crop").with_head(tmp_path / "tuned.pt"))
    assert isinstance(embedder, HeadEmbedder) and embedder.base.tail is embedder.head.tail is not None
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8))
    box = np.array([20, 30, 220, 200], dtype=np.float32)
    tuned = embedder.head.apply(embedder.base.embed_crops([photo], [box]))
    with torch.no_grad():
        expected = head(torch.from_numpy(EffnetCropEmbedder(EmbeddingConfig(), tail=tail).embed_crops([photo], [box])))
    imagenet = head(torch.from_numpy(EffnetCropEmbedder(EmbeddingConfig()).embed_crops([photo], [box])))
    assert np.allclose(tuned, expected.numpy(), atol=1e-5)
    assert not np.allclose(tuned, imagenet.detach().numpy(), atol=1e-3)  # the tuned tail changes the vector


def test_a_head_without_a_tail_keeps_the_plain_format(tmp_path):
    save_head(ProjectionHead(1280, 16, 8), tmp_path / "plain.pt", EFFNET)
    payload = torch.load(tmp_path / "plain.pt", weights_only=True)
    assert payload["format"] == 1 and "tail" not in payload
    assert load_head(tmp_path / "plain.pt").tail is None


def test_a_tail_needs_the_effnet_crop_embedding(tmp_path):
    tail = new_tail(6)
    save_head(ProjectionHead(1280, 16, 8), tmp_path / "roi.pt", {**EFFNET, "name": "effnet-roi"}, tail=tail)
    with pytest.raises(ValueError, match="needs 'effnet-crop'"):
        make_embedder(EmbeddingConfig(name="effnet-roi").with_head(tmp_path / "roi.pt"))


@pytest.fixture
def tiny_effnet_index(tmp_path):
    """3 real product photos copied to a folder of their own, indexed with effnet-crop (whole-image entries)."""
    from catalog.build import BuildConfig, build_catalog
    from tests.conftest import copied_catalogue

    copied_catalogue(tmp_path, 3)
    config = BuildConfig(embedding=EmbeddingConfig(name="effnet-crop"))
    build_catalog(tmp_path / "photos", tmp_path / "base", tmp_path / "products.csv", "yolo11n.yaml", config)
    return tmp_path


def test_reembedding_with_a_tail_reads_the_photos_again_and_refuses_changed_ones(tiny_effnet_index, monkeypatch):
    monkeypatch.setenv("LOOKALIKE_TRUSTED_MODELS", str(tiny_effnet_index))  # heads made by this test are trusted
    from catalog.reembed import reembed_index
    from engine.index.manifest import IndexMismatchError
    from engine.index.store import CatalogIndex

    root = tiny_effnet_index
    tuned_checkpoint(root / "tuned.pt")
    index = reembed_index(root / "base", root / "tuned", root / "tuned.pt", progress=False)
    embedder = make_embedder(EmbeddingConfig.from_dict(index.manifest["embedding"]))
    meta = index.meta.reset_index(drop=True)
    photo = Image.open(root / "photos" / meta["image"][0]).convert("RGB")
    box = meta.loc[0, ["x0", "y0", "x1", "y1"]].to_numpy(np.float32)
    expected = embedder.head.apply(embedder.base.embed_crops([photo], [box]))[0]
    assert np.allclose(index.vectors(meta["id"].to_numpy()[:1])[0], expected, atol=1e-5)
    assert len(CatalogIndex.load(root / "tuned")) == len(CatalogIndex.load(root / "base"))
    assert index.manifest["head"]["tail_start"] == 6
    photo.rotate(90).save(root / "photos" / meta["image"][0])  # the photo changed since the build
    with pytest.raises(IndexMismatchError, match="changed since"):
        reembed_index(root / "base", root / "again", root / "tuned.pt", progress=False)
    assert not (root / "again").exists()
