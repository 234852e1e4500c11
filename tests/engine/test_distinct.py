"""The boxes a shopper sees: overlapping candidates merge, at most `limit` are drawn, the rest stay available."""

from engine.detection.detector import Detection
from engine.detection.distinct import distinct_detections


def det(box, conf, label="chair"):
    return Detection(tuple(float(v) for v in box), label, conf)


def test_overlapping_boxes_merge_class_agnostically():
    found = [det((0, 0, 100, 100), 0.9, "sofa"), det((5, 5, 100, 102), 0.6, "bed"), det((200, 0, 300, 90), 0.5)]
    shown, rest = distinct_detections(found)
    assert shown == [0, 2] and rest == [1]


def test_a_box_inside_a_bigger_one_of_the_same_label_merges_but_another_label_stays():
    big = det((0, 0, 200, 200), 0.9, "table")
    part_same = det((10, 10, 90, 90), 0.5, "table")
    vase_on_it = det((20, 20, 60, 60), 0.5, "decor")
    shown, rest = distinct_detections([big, part_same, vase_on_it])
    assert shown == [0, 2] and rest == [1]


def test_limit_and_low_confidence_go_to_the_rest_most_confident_first():
    found = [det((i * 50, 0, i * 50 + 40, 40), 0.9 - i * 0.05) for i in range(14)] + [det((0, 900, 9, 909), 0.1)]
    shown, rest = distinct_detections(found, limit=10)
    assert shown == list(range(10))
    assert rest == [10, 11, 12, 13, 14]


def test_no_detections():
    assert distinct_detections([]) == ([], [])
