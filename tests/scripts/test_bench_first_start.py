"""The first-start benchmark's report: the build alone, and the whole first start against its target."""

from __future__ import annotations

from scripts import bench_first_start as bench


def test_the_report_adds_the_install_to_the_build_and_names_the_target():
    build = {"demo": "ikea-rooms", "seconds": 240.0, "images": 2292, "summary": "2292 images: 2292 embedded"}
    alone = bench.markdown({"build": build, "load": 0.4, "install_seconds": None})
    assert "| build 2,292 product photos | 240 (9.6 images/s) | |" in alone and "whole first start" not in alone
    whole = bench.markdown({"build": build, "load": 0.4, "install_seconds": 150.0})
    assert "| whole first start | 390 | ≤ 300 |" in whole
