"""A build publishes a searchable index while it grows, and an interrupted build goes on where it stopped."""

from __future__ import annotations

import numpy as np
import pytest

from catalog import grow
from catalog.build import BuildConfig, build_catalog
from engine.index.backends import load_index, load_manifest
from engine.index.store import current_version
from tests.conftest import CATALOG, copied_catalogue

pytestmark = pytest.mark.slow
PHOTOS = 20
RANDOM = "yolo11n.yaml"  # product shots never reach the detector: its weights do not matter here


class InterruptedBuildError(Exception):
    """Stands for a build killed part-way (the builder's SIGTERM raises `background.BuildStopped` the same way)."""


@pytest.fixture
def small_parts(monkeypatch):
    """Publish after every 8 photos, looked at every 4, with no wait between versions."""
    monkeypatch.setattr(grow, "PUBLISH_PHOTOS", 8)
    monkeypatch.setattr(grow, "PUBLISH_PART", 4)
    monkeypatch.setattr(grow, "PUBLISH_SECONDS", 0.0)


@pytest.fixture
def catalogue(tmp_path):
    """20 real ikea-catalog photos and their table."""
    if not CATALOG.is_dir():
        pytest.skip(f"no catalogue at {CATALOG}")
    copied_catalogue(tmp_path, PHOTOS)
    return {"images": tmp_path / "photos", "csv": tmp_path / "products.csv", "out": tmp_path / "index"}


def build(catalogue, config=None, on_progress=None):
    args = (catalogue["images"], catalogue["out"], catalogue["csv"], RANDOM, config or BuildConfig())
    return build_catalog(*args, progress=False, on_progress=on_progress)


def stop_after(catalogue, photos: int):
    """An `on_progress` that records the live versions it sees and interrupts the build after `photos`."""
    seen = []

    def step(done: int, total: int) -> None:
        if (catalogue["out"] / "CURRENT").is_file():
            manifest = load_manifest(catalogue["out"])
            seen.append((current_version(catalogue["out"]).name, manifest["n_images"], manifest["pending_images"]))
        if done >= photos:
            raise InterruptedBuildError

    return step, seen


def test_a_first_build_is_searchable_before_it_ends_and_says_how_much(catalogue, small_parts):
    step, seen = stop_after(catalogue, PHOTOS + 1)  # never interrupts: records only
    report = build(catalogue, on_progress=step)
    partial = {(version, n, pending) for version, n, pending in seen if pending}
    assert len({version for version, _, _ in partial}) >= 2  # published more than once while it grew
    assert all(0 < n < PHOTOS and n + pending == PHOTOS for _, n, pending in partial)
    manifest = load_manifest(catalogue["out"])
    assert manifest["pending_images"] == 0 and manifest["n_images"] == PHOTOS and report.embedded == PHOTOS
    index = load_index(catalogue["out"])
    scores, _ = index.search(index.vectors(index.meta["id"].to_numpy()[:1]), 1)
    assert scores[0, 0] == pytest.approx(1.0, abs=1e-4)


def test_an_interrupted_build_goes_on_from_what_it_published(catalogue, small_parts):
    step, _ = stop_after(catalogue, 14)
    with pytest.raises(InterruptedBuildError):
        build(catalogue, on_progress=step)
    published = load_manifest(catalogue["out"])["n_images"]
    assert 8 <= published < PHOTOS
    report = build(catalogue)
    assert report.unchanged == published and report.embedded == PHOTOS - published
    assert load_manifest(catalogue["out"])["n_images"] == PHOTOS


def test_an_interrupted_views_pass_goes_on_from_what_it_published(catalogue, small_parts):
    build(catalogue)
    step, _ = stop_after(catalogue, 14)
    with pytest.raises(InterruptedBuildError):
        build(catalogue, BuildConfig(views=2), on_progress=step)
    meta = load_index(catalogue["out"]).meta
    viewed = meta.loc[meta["kind"] == "view", "image"].nunique()
    assert 8 <= viewed < PHOTOS and np.all(meta.loc[meta["kind"] == "view"].groupby("image").size() == 2)
    report = build(catalogue, BuildConfig(views=2))
    assert report.embedded == 0 and report.viewed == PHOTOS - viewed  # not from 0 again
    assert (load_index(catalogue["out"]).meta["kind"] == "view").sum() == 2 * PHOTOS
