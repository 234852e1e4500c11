"""The first-start benchmark's report: when searching starts, the whole build, its cost in plain passes."""

from __future__ import annotations

from scripts import bench_first_start as bench


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
