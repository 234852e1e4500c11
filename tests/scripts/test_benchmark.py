"""make_queries.py and benchmark.py end to end: real cut-outs, real YOLO (random weights), real FAISS.

The index is the session's 60-product ikea-catalog index (`built_index`); the queries paste 6 of its products.
Random weights detect nothing, so detected-box figures are 0 while the given-box figures are real.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from scripts import benchmark, make_queries
from tests.conftest import CATALOG
from training.detector.rooms import room_split
from training.queries import MIN_TARGET_VISIBLE
from training.report import TABLE_HEADERS, render_row

ROOT = Path(__file__).resolve().parents[2]

# three families the detector's training split holds out (seed 0, 10 %) and three it trains on
QUERY_PRODUCTS = ["sofas/5", "chairs/989", "tables/764", "sofas/1", "beds/720", "lamps/1210"]
QUERY_KEYS = {"image", "product", "box", "product_id", "family", "category", "class", "visible", "size"}
RANKED_KEYS = {"recall@1", "recall@10", "family_p@10", "category_p@10", "class_p@10"}
HEADER_KEYS = {"mode", "date", "index", "embedding", "dim", "weights", "weights_sha256", "family_column", "split"}


@pytest.fixture(scope="module")
def products_csv(tmp_path_factory, small_products) -> Path:
    """A products.csv with the 6 query products (image paths relative to the ikea-catalog)."""
    path = tmp_path_factory.mktemp("products") / "products.csv"
    small_products.set_index("product_id").loc[QUERY_PRODUCTS].reset_index().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def query_dir(tmp_path_factory, products_csv) -> Path:
    """6 queries made by the command line."""
    out = tmp_path_factory.mktemp("queries")
    args = ["--images", str(CATALOG), "--products", str(products_csv), "--out", str(out), "--n", "6"]
    assert make_queries.main([*args, "--seed", "7", "--imgsz", "320"]) == 0
    return out


def test_queries_json_has_the_fixed_format(query_dir, products_csv):
    records = json.loads((query_dir / "queries.json").read_text())
    table = pd.read_csv(products_csv, dtype=str)
    assert [r["image"] for r in records] == [f"q{i:04d}.jpg" for i in range(1, 7)]
    assert sorted(r["product"] for r in records) == sorted(table["image"])  # 6 distinct targets
    for record in records:
        assert set(record) >= QUERY_KEYS
        width, height = Image.open(query_dir / record["image"]).size
        x0, y0, x1, y1 = record["box"]
        assert all(isinstance(v, int) for v in record["box"])
        assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height and max(width, height) == 320
        assert [width, height] == record["size"]
        assert record["visible"] >= MIN_TARGET_VISIBLE
        assert record["product"] not in record["distractors"]


def test_same_seed_same_bytes_other_seed_other_scenes(tmp_path, query_dir, products_csv):
    def make(out: Path, seed: str) -> None:
        args = ["--images", str(CATALOG), "--products", str(products_csv), "--out", str(out), "--n", "6"]
        make_queries.main([*args, "--seed", seed, "--imgsz", "320"])

    make(tmp_path / "again", "7")
    make(tmp_path / "other", "8")
    for name in ["queries.json", *(f"q{i:04d}.jpg" for i in range(1, 7))]:
        assert (tmp_path / "again" / name).read_bytes() == (query_dir / name).read_bytes(), name
    assert (tmp_path / "other" / "queries.json").read_bytes() != (query_dir / "queries.json").read_bytes()


def assert_fraction(value, where: str) -> None:
    """A figure is a number in [0, 1]."""
    assert isinstance(value, float) and not math.isnan(value) and 0.0 <= value <= 1.0, (where, value)


def last_line(capsys) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def query_run(built_index, service, query_dir, tmp_path_factory) -> tuple[Path, str]:
    """The benchmark run once in query mode: its JSON file and its printed output."""
    out = tmp_path_factory.mktemp("bench") / "queries.json"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setattr(benchmark.engine, "load", lambda index_dir: service)  # the session's loaded index
        assert benchmark.main(["--index", str(built_index[0]), "--queries", str(query_dir), "--json", str(out)]) == 0
    return out, printed.getvalue()


def test_query_mode_reports_every_figure(query_run):
    out, printed = query_run
    line = printed.strip().splitlines()[-1]
    result = json.loads(out.read_text())
    assert set(result) >= HEADER_KEYS and result["embedding"] == "effnet-crop" and result["weights"] == "yolo11n.yaml"
    assert result["family_column"] == "family" and result["n_queries"] == 6 and result["n_held_out"] == 3
    for group in ("all", "held_out"):
        assert set(result[group]["given"]) == RANKED_KEYS
        assert set(result[group]["detected"]) == RANKED_KEYS | {"detection_recall@0.5"}
        for key, value in result[group]["given"].items():
            assert_fraction(value, f"{group}/given/{key}")
        # random weights detect nothing: a detected-box figure above 0 would mean a silent fall-back to the given box
        assert result[group]["detected"] == dict.fromkeys(RANKED_KEYS | {"detection_recall@0.5"}, 0.0)
        for stage in ("detect", "embed", "search"):
            stats = result[group]["latency"][stage]
            assert stats["n"] >= result[group]["n"] and 0 < stats["p50_ms"] <= stats["p95_ms"]
    assert result["all"]["given"]["category_p@10"] > 0  # the index has 10 products per category
    assert (
        result["all"]["given"]["recall@10"] > 0
        and result["all"]["given"]["recall@1"] <= result["all"]["given"]["recall@10"]
    )
    assert len(result["per_query"]) == 6
    assert line.startswith("summary: effnet-crop R@1 ") and "(given box)" in line and "det-recall" in line


def test_rooms_mode_with_and_without_windows(built_index, service, query_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(benchmark.engine, "load", lambda index_dir: service)  # the session's loaded index
    rooms = tmp_path / "rooms"
    rooms.mkdir()
    records = json.loads((query_dir / "queries.json").read_text())[:2]
    lines = ["image,room_type,products"]
    for record in records:
        (rooms / record["image"]).write_bytes((query_dir / record["image"]).read_bytes())
        listed = " ".join([record["product"], *record["distractors"], "lamps/not-in-index.jpg"])
        lines.append(f"{record['image']},Living Room,{listed}")
    (rooms / "rooms.csv").write_text("\n".join(lines) + "\n")
    listed_in_index = sum(1 + len(record["distractors"]) for record in records)
    for extra in ([], ["--fallback-windows", "4"]):
        out = tmp_path / f"rooms{len(extra)}.json"
        args = ["--index", str(built_index[0]), "--rooms", str(rooms), "--json", str(out), *extra]
        assert benchmark.main(args) == 0
        result = json.loads(out.read_text())
        assert set(result) >= HEADER_KEYS and result["n_rooms"] == 2 and result["n_missing_products"] == 2
        for group in ("all", "large", "held_out"):
            assert set(result[group]) == {"n_products", "recall@10"}
        assert result["all"]["n_products"] == listed_in_index and 1 <= result["large"]["n_products"] <= listed_in_index
        for group in ("all", "large"):
            assert_fraction(result[group]["recall@10"], group)
        assert result["windows_per_room"] == (4.0 if extra else 0.0)
        # random weights: no boxes, so only the windows can find anything
        assert result["detections_per_room"] == 0 and result["rooms_without_detections"] == 2
        assert len(result["per_room"]) == 2
        assert last_line(capsys).startswith("summary: effnet-crop rooms recall@10 ")
    detector, original = service.detector, service.detector.config
    effnet_yaml = str(ROOT / "models" / "yolo11n-effnet.yaml")
    out = tmp_path / "rooms-conf.json"  # query-time detector overrides are applied and recorded
    args = ["--index", str(built_index[0]), "--rooms", str(rooms), "--json", str(out), "--conf", "1e-06"]
    assert benchmark.main([*args, "--max-det", "3", "--query-weights", effnet_yaml]) == 0
    assert service.detector is detector and service.detector.config == original  # the shared service is untouched
    result = json.loads(out.read_text())
    assert result["query_detector"]["conf"] == 1e-06 and result["query_overrides"]["max_det"] == 3
    assert result["query_weights_sha256"] != result["weights_sha256"]  # the queries used the other detector
    assert 0 < result["detections_per_room"] <= 3  # random weights score about 1e-4: a 1e-6 threshold passes boxes
    row = render_row(result)
    assert row.startswith("| effnet-crop, conf 1e-06, max_det 3 | yolo11n-effnet.yaml | 2 all |")
    assert 0 < result["chance"] <= 1 and result["shown_per_room"] <= 10
    assert (result["shown_precision"] is None) == (result["shown_per_room"] == 0)  # None exactly when none is drawn
    for part in ("train", "heldout"):  # rooms are split by photo, as the detector's training data
        out = tmp_path / f"rooms-{part}.json"
        assert (
            benchmark.main(
                ["--index", str(built_index[0]), "--rooms", str(rooms), "--json", str(out), "--room-split", part]
            )
            == 0
        )
        expected = sum(room_split(r["image"]) == part for r in records)
        assert json.loads(out.read_text())["n_rooms"] == expected
    plain = json.loads((tmp_path / "rooms0.json").read_text())
    windows = json.loads((tmp_path / "rooms2.json").read_text())
    assert plain["all"]["recall@10"] == 0.0 and windows["all"]["recall@10"] >= plain["all"]["recall@10"]


def test_table_mode_renders_one_row_per_run(query_run, tmp_path, capsys):
    out, _ = query_run
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text("# Benchmarks\n\nintro\n")
    assert benchmark.main(["--table", str(out), str(out), "--doc", str(doc), "--section", "retrieval"]) == 0
    assert capsys.readouterr().out.startswith(TABLE_HEADERS["queries"])
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\nintro\n") and "<!-- retrieval:start -->" in text
    rows = [line for line in text.splitlines() if line.startswith("| effnet-crop | yolo11n.yaml | 6 |")]
    assert len(rows) == 2 and rows[0].count("|") == TABLE_HEADERS["queries"].count("|")
    assert render_row(json.loads(out.read_text())) == rows[0]
