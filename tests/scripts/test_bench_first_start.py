"""The first-start and restart benchmarks: when searching starts, the build's cost in plain passes, a restart."""

from __future__ import annotations

import pytest

from engine.settings import shared_data_dir
from scripts import bench_first_start as bench
from scripts import bench_restart

ROOMS = shared_data_dir() / "ikea-rooms"


def result(install=None) -> dict:
    ours = {"images": 300, "searchable_s": 25.0, "seconds": 30.0, "summary": "300 images", "load": [1.0, 1.5]}
    base = {"images": 300, "searchable_s": 200.0, "seconds": 400.0, "summary": "300 images", "load": [1.2, 1.1]}
    builds = {"baseline": base, "this checkout": ours}
    return {"what": "the first 300 photos", "builds": builds, "plain_seconds": 10.0, "install_seconds": install}


def test_the_report_compares_the_baseline_with_this_checkout_in_plain_passes():
    text = bench.markdown(result())
    assert "| baseline | 300 | 200 | 400 | 0.8 | 40.0 | 1.2, 1.1 |" in text
    assert "| this checkout | 300 | 25 | 30 | 10.0 | 3.0 | 1.0, 1.5 |" in text
    assert "whole first start" not in text


def test_the_whole_first_start_adds_the_install_to_searching():
    assert "whole first start to searching 175 s (target ≤ 300)" in bench.markdown(result(install=150.0))


@pytest.mark.integration
@pytest.mark.skipif(not (ROOMS / "products.csv").is_file(), reason="IKEA rooms catalogue not available")
def test_the_plain_pass_runs_the_default_crop_network_over_real_photos():
    photos = sorted((ROOMS / "products").glob("*.jpg"))[:3]
    assert 0 < bench.plain_pass_seconds(photos) < 120


def test_the_restart_report_names_each_run_and_the_target():
    runs = [{"health_s": 0.7, "usable_s": 10.5, "builders_left": 0}]
    text = bench_restart.markdown({"date": "2026-12-06", "machine": "2 cores", "load": 1.2, "runs": runs})
    assert "| 1 | 0.7 | 10.5 | 0 |" in text
    assert "within 10 s" in text
