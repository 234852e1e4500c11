"""The command lines: build_catalog.py and search.py, run in-process on the session's small index."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import build_catalog  # noqa: E402
import search  # noqa: E402


def test_search_json_lists_ranked_products(built_index, small_catalog, capsys):
    image = small_catalog["images"] / "sofas" / "1.jpg"
    assert search.main(["--index", str(built_index[0]), "--image", str(image), "--k", "3", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["rank"] for r in results] == [1, 2, 3]
    assert set(results[0]) == {"rank", "product_id", "score", "image", "name", "category", "price", "url"}
    assert results[0]["product_id"] == "sofas/1"  # whole image (no detection with random weights) finds itself
    assert results[0]["score"] >= results[1]["score"] >= results[2]["score"]


def test_search_with_a_box_prints_a_table(built_index, small_catalog, capsys):
    image = small_catalog["images"] / "chairs" / small_catalog_first(small_catalog, "chairs")
    args = ["--index", str(built_index[0]), "--image", str(image), "--box", "10,10,200,220", "--k", "2"]
    assert search.main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Query box (10, 10, 200, 220) (given box)") and len(out) == 3


def test_search_reports_bad_input_without_a_traceback(built_index, tmp_path, capsys):
    fake = tmp_path / "fake.jpg"
    fake.write_text("no image here")
    assert search.main(["--index", str(built_index[0]), "--image", str(fake)]) == 2
    assert "not an image" in capsys.readouterr().err
    assert search.main(["--index", str(tmp_path / "none"), "--image", str(fake)]) == 2
    assert "build_catalog.py" in capsys.readouterr().err


def test_build_refuses_a_missing_folder(tmp_path, capsys):
    assert build_catalog.main(["--images", str(tmp_path / "nope"), "--out", str(tmp_path / "idx")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_build_cli_prints_a_summary_with_every_problem(small_catalog, tmp_path):
    args = [sys.executable, str(ROOT / "scripts" / "build_catalog.py"), "--images", str(small_catalog["images"])]
    args += ["--products", str(small_catalog["csv"]), "--out", str(tmp_path / "idx"), "--weights", "yolo11n.yaml"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, check=True)
    assert "unreadable: bad/truncated.jpg" in done.stdout and "table: data row" in done.stdout
    assert "60 embedded" in done.stdout.splitlines()[-1]
    assert "Embedding catalogue" in done.stderr  # the progress bar


def small_catalog_first(small_catalog, category: str) -> str:
    return sorted(p.name for p in (small_catalog["images"] / category).iterdir())[0]


def test_build_picks_the_default_head_only_for_its_base_embedding(tmp_path, monkeypatch):
    from engine.embedding.head import ProjectionHead, save_head

    build = build_catalog
    head = tmp_path / "hist-head.pt"
    save_head(ProjectionHead(512, hidden=8, out_dim=4), head, {"name": "color-hist", "crop_size": 224})
    monkeypatch.setenv("LOOKALIKE_HEAD", str(head))
    args = ["--images", str(tmp_path), "--out", str(tmp_path / "index")]
    assert build.chosen_head(build.parse_args([*args, "--embedding", "color-hist"])) == str(head)
    assert build.chosen_head(build.parse_args([*args, "--embedding", "effnet-crop"])) is None  # other base
    assert build.chosen_head(build.parse_args([*args, "--embedding", "color-hist", "--head", "none"])) is None
    monkeypatch.setenv("LOOKALIKE_HEAD", "none")
    assert build.chosen_head(build.parse_args([*args, "--embedding", "color-hist"])) is None


def shoppers_copy(path: Path, scale: float = 0.7, quality: int = 75) -> bytes:
    """A catalogue photo as a shopper would have it: resized and re-saved as JPEG (other bytes, other pixels)."""
    from PIL import Image

    from tests.conftest import jpeg_bytes

    image = Image.open(path).convert("RGB")
    return jpeg_bytes(image.resize((round(image.width * scale), round(image.height * scale))), quality=quality)


def test_every_catalogue_photo_finds_its_own_product_first_with_the_defaults(default_catalog_index, small_products):
    import engine
    from tests.conftest import CATALOG

    service = engine.load(default_catalog_index)
    misses = []
    for product_id, image_path in zip(small_products["product_id"], small_products["image"]):
        image = engine.load_image(shoppers_copy(CATALOG / image_path))
        top = service.search_photo(service.analyse(image), k=1)[0][0]
        misses += [] if top.product_id == product_id else [(product_id, top.product_id)]
    assert not misses, misses


def test_search_cli_finds_a_resaved_catalogue_photo_by_default(default_catalog_index, small_products, tmp_path, capsys):
    from tests.conftest import CATALOG

    for product_id, image_path in list(zip(small_products["product_id"], small_products["image"]))[::20]:
        copy = tmp_path / "copy.jpg"
        copy.write_bytes(shoppers_copy(CATALOG / image_path, scale=0.5))
        assert search.main(["--index", str(default_catalog_index), "--image", str(copy), "--k", "1", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)[0]["product_id"] == product_id


def test_search_refine_keeps_matches_under_a_price(built_index, small_catalog, capsys):
    image = small_catalog["images"] / "sofas" / small_catalog_first(small_catalog, "sofas")
    args = ["--index", str(built_index[0]), "--image", str(image), "--k", "5", "--refine", "under 1500 hkd"]
    assert search.main(args) == 0
    assert "refined by price: at most 1,500" in capsys.readouterr().out
    assert search.main([*args, "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 5 and all(r["price"] <= 1500 for r in results)
