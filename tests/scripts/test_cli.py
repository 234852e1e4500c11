"""The command lines: the `lookalike` command that routes to every script, and build_catalog.py and search.py,
run in-process and as real processes on the session's small index."""

import importlib
import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from scripts import build_catalog, cli, search

ROOT = Path(__file__).resolve().parents[2]


def lookalike(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """`lookalike ARGS` as a real process running this checkout's code (`python -m scripts.cli`)."""
    command = [sys.executable, "-m", "scripts.cli", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def script_commands() -> dict[tuple[str, ...], str]:
    """Every `lookalike` command that runs a script: its words, e.g. ("bench", "index"), and the script's module."""
    found = {}
    for name, (target, _) in cli.COMMANDS.items():
        table = target if isinstance(target, dict) else {name: (target, "")}
        for sub, (module, _) in table.items():
            if isinstance(module, str):
                found[(name, sub) if table is target else (name,)] = module
    return found


def test_lookalike_lists_every_command_and_refuses_an_unknown_one():
    listed = lookalike("--help")
    assert listed.returncode == 0
    names = [line.split()[0] for line in listed.stdout.split("commands:\n")[1].splitlines()]
    assert names == list(cli.COMMANDS)
    bench = lookalike("bench", "--help").stdout.split("commands:\n")[1]
    assert [line.split()[0] for line in bench.splitlines()] == list(cli.BENCHMARKS)
    unknown = lookalike("bench", "nope")
    assert unknown.returncode == 2 and "lookalike bench: unknown command 'nope'" in unknown.stderr
    assert lookalike().returncode == 2
    serve = lookalike("serve", "--help")
    assert serve.returncode == 0 and "options go to `streamlit run`" in serve.stdout


def test_every_script_with_a_main_has_a_command():
    scripts = {p.stem for p in (ROOT / "scripts").glob("*.py") if "\ndef main(" in p.read_text()} - {"cli"}
    assert sorted(script_commands().values()) == sorted(scripts)


@pytest.mark.parametrize("words", list(script_commands()), ids=" ".join)
def test_every_command_shows_its_own_scripts_help(words, monkeypatch, capsys):
    module = importlib.import_module(f"scripts.{script_commands()[words]}")
    monkeypatch.setattr(sys, "argv", ["script.py"])
    with pytest.raises(SystemExit) as direct:
        module.main(["--help"])  # python scripts/NAME.py --help
    own = capsys.readouterr().out
    with pytest.raises(SystemExit) as routed:
        cli.main([*words, "--help"])
    shown = capsys.readouterr().out
    assert direct.value.code == routed.value.code == 0
    assert shown.startswith(f"usage: lookalike {' '.join(words)} [-h]")
    assert shown.split("\n\n", 1)[1] == own.split("\n\n", 1)[1]  # the script's description and flags, word for word


def test_lookalike_search_finds_a_catalogue_photo(built_index, small_catalog):
    image = small_catalog["images"] / "sofas" / "1.jpg"
    done = lookalike("search", "--index", str(built_index[0]), "--image", str(image), "--k", "3", "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [r["rank"] for r in results] == [1, 2, 3] and results[0]["product_id"] == "sofas/1"


@pytest.mark.integration  # real processes: each imports torch
def test_the_installed_project_runs_scripts_as_files_and_as_the_lookalike_command(tmp_path):
    """What scripts/setup.sh installs (pip install -e .): both work from any folder."""
    as_file = subprocess.run([sys.executable, str(ROOT / "scripts" / "search.py"), "--help"], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    not_installed = f"{as_file.stderr}\n(is the project installed? scripts/setup.sh installs it: pip install -e .)"
    assert as_file.returncode == 0 and as_file.stdout.startswith("usage: search.py"), not_installed
    command = Path(sys.executable).parent / "lookalike"
    installed = subprocess.run([command, "compact", "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert installed.returncode == 0 and installed.stdout.startswith("usage: lookalike compact"), installed.stderr


def test_the_package_holds_every_module_and_the_lookalike_command(tmp_path):
    """A wheel built from pyproject.toml: every module of the project's packages, and the `lookalike` entry point."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = sorted({p.rstrip("*") for p in patterns if (ROOT / p.rstrip("*")).is_dir()})
    assert {"engine", "catalog", "pages", "scripts"} <= set(packages)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for package in packages:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", "dist", "."]
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, timeout=300)
    with zipfile.ZipFile(next((tmp_path / "dist").glob("lookalike-*.whl"))) as wheel:
        names = set(wheel.namelist())
        entry_points = wheel.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    modules = {str(p.relative_to(tmp_path)) for package in packages for p in (tmp_path / package).rglob("*.py")}
    assert modules <= names and len(modules) > 100
    assert "[console_scripts]\nlookalike = scripts.cli:main" in entry_points


def test_search_json_lists_ranked_products(built_index, small_catalog, capsys):
    image = small_catalog["images"] / "sofas" / "1.jpg"
    assert search.main(["--index", str(built_index[0]), "--image", str(image), "--k", "3", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["rank"] for r in results] == [1, 2, 3]
    assert set(results[0]) == {"rank", "product_id", "score", "similarity", "image", "name", "category", "price", "url"}
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


@pytest.mark.parametrize("option", [["--views", "-1"], ["--max-objects", "-2"], ["--batch", "0"]])
def test_build_refuses_counts_that_cannot_be_meant(tmp_path, capsys, option):
    with pytest.raises(SystemExit) as exited:
        build_catalog.main(["--images", str(tmp_path), "--out", str(tmp_path / "idx"), *option])
    assert exited.value.code == 2 and f"argument {option[0]}: must be at least" in capsys.readouterr().err
    assert not (tmp_path / "idx").exists()


def test_lookalike_build_prints_a_summary_with_every_problem(small_catalog, tmp_path):
    args = ["build", "--images", str(small_catalog["images"]), "--products", str(small_catalog["csv"])]
    done = lookalike(*args, "--out", str(tmp_path / "idx"), "--weights", "yolo11n.yaml")
    assert done.returncode == 0, done.stderr
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
