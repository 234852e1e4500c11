"""The default install holds what the app needs; the scale-out backends are optional and say how to get them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.index import milvus_client

ROOT = Path(__file__).resolve().parent.parent
SCALE_ONLY = ("pymilvus", "milvus-lite", "ray")


def requirement_names(name: str) -> set[str]:
    """The package names a requirements file pins (not those it includes)."""
    names = set()
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            names.add(line.split("==")[0].split("[")[0].split(">")[0].strip().lower())
    return names


def test_the_default_install_leaves_out_milvus_and_ray():
    assert not requirement_names("requirements.txt") & set(SCALE_ONLY)
    assert set(SCALE_ONLY) <= requirement_names("requirements-scale.txt")


def test_the_test_install_includes_the_scale_backends_so_their_tests_run():
    dev = (ROOT / "requirements-dev.txt").read_text()
    assert "-r requirements-scale.txt" in dev
    assert "-r requirements.txt" in (ROOT / "requirements-scale.txt").read_text()


def test_milvus_without_its_packages_says_how_to_install_them(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pymilvus", None)  # as if not installed: importing it raises ImportError
    with pytest.raises(ModuleNotFoundError, match="requirements-scale.txt"):
        milvus_client.connect(tmp_path)
