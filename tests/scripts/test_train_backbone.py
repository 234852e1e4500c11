"""`lookalike train-backbone` end to end: maps cached, a time-boxed run resumed, the tuned index searchable."""

import json

import pytest
import torch

import engine
from engine.curation.feedback import NOT_SIMILAR, SIMILAR, FeedbackStore
from engine.embedding import EmbeddingConfig
from engine.embedding.head import HeadEmbedder, load_head
from engine.files import file_sha256
from scripts import train_backbone
from tests.conftest import CATALOG
from training.backbone.train import TuneConfig


def test_script_resumes_a_time_boxed_run_and_reembeds_from_the_photos(effnet_index, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LOOKALIKE_TRUSTED_MODELS", str(tmp_path))  # heads made by this test are trusted
    base = engine.load(effnet_index)
    meta = base.index.meta.drop_duplicates("product_id")
    store = FeedbackStore(tmp_path / "marks")
    query = store.add_query(engine.load_image(CATALOG / meta["image"].iloc[0]), source="test")
    store.mark(query, meta["product_id"].iloc[1], SIMILAR)
    store.mark(query, meta["product_id"].iloc[2], NOT_SIMILAR)
    out, index_out = tmp_path / "tuned.pt", tmp_path / "tuned-index"
    args = ["--index", str(effnet_index), "--cache", str(tmp_path / "cache"), "--shots", "2", "--steps", "8"]
    args += ["--P", "6", "--K", "2", "--eval-every", "4", "--val-fraction", "0", "--out", str(out), "--quiet"]
    args += ["--feedback", str(store.path), "--plot", str(tmp_path / "curves.png"), "--reembed", str(index_out)]
    assert train_backbone.main([*args, "--minutes", "1e-9"]) == 0
    assert "run the same command to resume" in capsys.readouterr().out and not out.exists()
    assert out.with_suffix(".resume.pt").is_file()
    assert train_backbone.main(args) == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert [h["step"] for h in record["history"]] == list(range(9)) and record["feedback_triplets"] == 1
    assert record["config"]["start"] == 6 and record["config"]["out_dim"] == 256  # the committed head's shape
    assert record["init"]["sha256"] == file_sha256(train_backbone.DEFAULT_INIT)
    assert (tmp_path / "curves.png").stat().st_size > 10_000
    service = engine.load(index_out)
    assert isinstance(service.embedder, HeadEmbedder) and service.embedder.base.tail is not None
    assert service.index.manifest["embedding"]["head_sha256"] == file_sha256(out)
    photo = engine.load_image(CATALOG / meta["image"].iloc[3])
    matches = service.search_box(service.analyse(photo), (0, 0, photo.width, photo.height), k=3)
    assert matches[0].product_id == meta["product_id"].iloc[3]  # its entry was re-embedded the way queries are
    assert "Re-embedded" in capsys.readouterr().out
    args = train_backbone.parse_args(["--index", str(effnet_index), "--cache", str(tmp_path), "--init", str(out)])
    config = TuneConfig(start=6)
    model, config = train_backbone.starting_model(args, config, EmbeddingConfig(name="effnet-crop"))
    saved = load_head(out)
    assert model.tail is not saved.tail and model.head is not saved.module  # training never touches the cached copy
    for name, value in saved.tail.state_dict().items():  # --init with a tuned file goes on from its tail
        assert torch.equal(value, model.tail.state_dict()[name]), name
    with pytest.raises(SystemExit, match="--start 6"):
        train_backbone.starting_model(args, TuneConfig(start=5), EmbeddingConfig(name="effnet-crop"))
