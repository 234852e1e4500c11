"""The benchmark's metric functions on hand-made cases."""

import math

import numpy as np
import pytest

from training import metrics as ev


def test_iou_of_identical_disjoint_touching_nested_and_degenerate_boxes():
    assert ev.iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert ev.iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert ev.iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0  # sharing an edge only
    assert ev.iou((0, 0, 10, 10), (0, 0, 5, 10)) == pytest.approx(0.5)
    assert ev.iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert ev.iou((0, 0, 0, 0), (0, 0, 0, 0)) == 0.0
    assert ev.iou((5, 5, 2, 2), (0, 0, 10, 10)) == 0.0  # inverted box is empty


def test_best_iou_detection_takes_the_first_of_ties_and_handles_no_detections():
    boxes = np.array([[0, 0, 10, 10], [50, 50, 60, 60], [0, 0, 10, 10]], dtype=np.float32)
    assert ev.best_iou_detection(boxes, (0, 0, 10, 10)) == (0, 1.0)
    assert ev.best_iou_detection(boxes, (52, 52, 60, 60)) == (1, pytest.approx(0.64))
    assert ev.best_iou_detection(np.zeros((0, 4)), (0, 0, 10, 10)) == (None, 0.0)
    assert ev.best_iou_detection(boxes, (100, 100, 110, 110)) == (0, 0.0)  # none overlaps: IoU 0, caller misses


def test_recall_at_k():
    ranked = ["a", "b", "c"]
    assert ev.recall_at_k(ranked, "a", 1) == 1.0
    assert ev.recall_at_k(ranked, "c", 1) == 0.0
    assert ev.recall_at_k(ranked, "c", 10) == 1.0  # a short list is fine
    assert ev.recall_at_k(ranked, {"x", "b"}, 2) == 1.0  # any acceptable item
    assert ev.recall_at_k(None, "a", 10) == 0.0  # no detection: a miss
    assert ev.recall_at_k([], "a", 10) == 0.0
    assert ev.recall_at_k(["a", "a"], "a", 1) == 1.0
    assert ev.recall_at_k(ranked, None, 10) == 0.0


def test_precision_at_k_divides_by_k_and_skips_unknown_targets():
    labels = ["sofa", "sofa", "chair", None, float("nan"), ""]
    assert ev.precision_at_k(labels, "sofa", 10) == 0.2  # short list: the missing results count as misses
    assert ev.precision_at_k(labels, "sofa", 2) == 1.0
    assert ev.precision_at_k(labels, "chair", 3) == pytest.approx(1 / 3)
    assert ev.precision_at_k(None, "sofa", 10) == 0.0
    assert math.isnan(ev.precision_at_k(labels, "", 10))  # the query's own label is unknown
    assert math.isnan(ev.precision_at_k(labels, None, 10))
    assert ev.precision_at_k(["", None, "x"], "x", 3) == pytest.approx(1 / 3)  # missing labels never match


def test_mean_ignores_nan_and_none():
    assert ev.mean([1.0, 0.0, float("nan"), None]) == 0.5
    assert ev.mean([]) is None
    assert ev.mean([float("nan")]) is None
    assert ev.mean(x for x in (1, 1, 0)) == pytest.approx(0.6667)


def test_normalise_family_matches_the_scene_synthesizer():
    assert ev.normalise_family("  Friheten ") == "FRIHETEN"
    assert ev.normalise_family(float("nan")) == "" and ev.normalise_family(None) == ""


@pytest.mark.parametrize(
    ("category", "large"),
    [
        ("sofas", True),
        ("Chair", True),
        ("Coffee table", True),
        ("Bed frame", True),
        ("Wardrobe with 3 doors", True),
        ("Chest of 4 drawers", True),
        ("Shelving unit", True),
        ("Bookcase", True),
        ("dressers", True),
        ("TV bench", True),
        ("Pendant lamp", True),
        ("lamps", True),
        ("Rug, flatwoven", True),
        ("Box with lid", False),
        ("Basket", False),
        ("Door", False),
        ("Wall shelf", False),
        ("LED lighting strip", False),
        ("LED cabinet,wall lighting", False),
        ("Cushion cover", False),
        ("Vase", False),
        ("", False),
    ],
)
def test_large_items(category, large):
    assert ev.is_large_item(category) is large


def test_sliding_windows_go_coarse_to_fine_inside_the_image():
    windows = ev.sliding_windows(400, 300, 30)
    assert windows.shape == (30, 4)
    assert windows[0].tolist() == [0, 0, 400, 300]  # the whole image first, then 2x2, 3x3 and 4x4 grids
    assert (windows[:, 0] >= 0).all() and (windows[:, 2] <= 400 + 1e-3).all() and (windows[:, 3] <= 300 + 1e-3).all()
    assert (windows[:, 2] > windows[:, 0]).all() and (windows[:, 3] > windows[:, 1]).all()
    assert len({tuple(w) for w in windows.round(1).tolist()}) == 30
    assert ev.sliding_windows(400, 300, 3).tolist() == windows[:3].tolist()
    assert ev.sliding_windows(400, 300, 0).shape == (0, 4)


def test_found_products_unions_the_top_k_of_every_box():
    assert ev.found_products([["a", "b", "c"], ["d", "a"]], 2) == {"a", "b", "d"}
    assert ev.found_products([], 10) == set()


def test_ranked_metrics_score_misses_as_zero_and_skip_unknown_families():
    import pandas as pd

    products = pd.DataFrame(
        {
            "family": ["A", "A", "B", ""],
            "category": ["sofas", "sofas", "chairs", "chairs"],
            "cls": ["sofa", "sofa", "chair", "chair"],
        },
        index=["p1", "p2", "p3", "p4"],
    )
    records = [
        {"product_id": "p1", "given": ["p2", "p1", "p3"], "detected": None},  # no detection: a miss
        {"product_id": "p3", "given": ["p3", "p4"], "detected": ["p3"]},
        {"product_id": "p4", "given": ["p4"], "detected": ["p1"]},  # p4's family is unknown
    ]
    given = ev.ranked_metrics(records, "given", products, k=2)
    assert given["recall@1"] == pytest.approx(0.6667) and given["recall@2"] == 1.0
    assert given["family_p@2"] == pytest.approx(0.75)  # (2/2 + 1/2) / 2: the unknown family is skipped
    assert given["category_p@2"] == pytest.approx((1.0 + 1.0 + 0.5) / 3, abs=1e-4)
    detected = ev.ranked_metrics(records, "detected", products, k=2)
    assert detected["recall@1"] == pytest.approx(0.3333) and detected["family_p@2"] == 0.25
    assert detected["class_p@2"] == pytest.approx(0.5 / 3, abs=1e-4)


def test_room_recall_pools_the_listed_products_of_every_room():
    found = [["a", "b", "x"], []]
    truth = [["a", "b", "c"], ["d"]]
    assert ev.room_recall(found, truth, lambda p: True) == {"n_products": 4, "recall@10": 0.5}
    assert ev.room_recall(found, truth, lambda p: p in {"c", "d"}) == {"n_products": 2, "recall@10": 0.0}
    assert ev.room_recall(found, truth, lambda p: False) == {"n_products": 0, "recall@10": None}


def test_shown_precision_pools_drawn_boxes_over_rooms():
    assert ev.shown_precision([["a", "x", None], ["b"]], [["a", "b"], ["c"]]) == 0.25
    assert ev.shown_precision([[], []], [["a"], ["b"]]) is None


def test_a_group_scores_its_best_entry():
    rng = np.random.default_rng(0)
    scores, groups = rng.normal(size=(5, 30)), rng.permutation(np.arange(30) % 7)
    expected = np.full((5, 7), -np.inf)
    np.maximum.at(expected.T, groups, scores.T)  # the slow reference: one entry at a time
    assert np.array_equal(ev.best_per_group(scores, groups), expected)
