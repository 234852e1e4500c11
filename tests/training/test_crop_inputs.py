"""The crop-input benchmark's pieces: product boxes, pooling, exact top-k and the room figures, on hand-made data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from scripts.bench_crop_network import parse_variant, table
from training.crop_inputs import Variant, pooled, product_box, rmac, room_scores, top_k, with_flip


def test_product_box_is_the_non_white_region():
    pixels = np.full((100, 120, 3), 255, np.uint8)
    pixels[20:60, 30:90] = (120, 80, 40)
    assert product_box(Image.fromarray(pixels)) == (30.0, 20.0, 90.0, 60.0)
    assert product_box(Image.fromarray(np.full((10, 10, 3), 250, np.uint8))) == (0.0, 0.0, 10.0, 10.0)


def test_average_and_gem_pooling_give_unit_vectors_that_differ_on_peaky_maps():
    maps = torch.zeros(2, 4, 3, 3)
    maps[0, 0] = 1.0
    maps[1, 1, 0, 0] = 9.0  # one hot cell: GeM weighs it more than the average does
    maps[1, 2] = 1.0
    out = pooled(maps)
    assert set(out) == {"avg", "gem", "rmac"} and out["avg"].shape == (2, 4)
    assert torch.allclose(out["gem"].norm(dim=1), torch.ones(2))
    assert out["gem"][1, 1] > out["avg"][1, 1]


def test_rmac_sums_unit_region_maxima_over_three_grids():
    maps = torch.zeros(1, 2, 6, 6)
    maps[0, 0, 0, 0] = 5.0  # a corner peak in channel 0: in 1 + 1 + 1 of the 14 regions
    maps[0, 1] = 1.0  # channel 1 is everywhere: in all 14 regions, each region's unit vector leans on it
    total = rmac(maps)
    assert total.shape == (1, 2)
    assert total[0, 1] > total[0, 0] > 0  # the average would favour the peak channel far less evenly
    uniform = rmac(torch.ones(1, 3, 7, 7))
    assert torch.allclose(uniform / uniform.norm(), torch.full((1, 3), 3**-0.5))


def test_flip_rows_are_the_normalised_mean_of_plain_and_mirrored():
    plain = {"avg": torch.tensor([[1.0, 0.0]])}
    mirrored = {"avg": torch.tensor([[0.0, 1.0]])}
    out = with_flip(plain, mirrored)
    assert set(out) == {"avg", "avg+flip"}
    assert torch.allclose(out["avg+flip"], torch.tensor([[2**-0.5, 2**-0.5]]))


def test_top_k_is_exact_cosine_order():
    rng = np.random.default_rng(0)
    gallery = rng.normal(size=(50, 8)).astype(np.float32)
    gallery /= np.linalg.norm(gallery, axis=1, keepdims=True)
    ids = np.array([f"p{i}" for i in range(50)])
    ranked = top_k(gallery[[3, 7]], gallery, ids, k=5)
    assert [r[0] for r in ranked] == ["p3", "p7"] and all(len(r) == 5 for r in ranked)


def test_room_scores_count_found_products_precision_and_chance():
    products = pd.DataFrame({"image": ["a", "b", "c", "d"], "category": ["Sofa", "Vase", "Chair", "Mug"]})
    rooms = [{"products": ["a", "b", "z"], "boxes": [[0, 0, 1, 1], [0, 0, 2, 2]], "shown": [0]}]
    ranked = [["c", "a"], ["d", "c"]]  # "a" found by the first proposal, whose first match "c" is not listed
    figures = room_scores(rooms, ranked, products)
    assert figures["all"] == pytest.approx(0.5) and figures["large"] == 1.0  # "z" is not in the catalogue
    assert figures["precision"] == 0.0 and figures["chance"] == pytest.approx(3 / 4)


def test_variants_parse_and_render():
    assert parse_variant("efficientnet-lite2:260") == Variant("efficientnet-lite2", 260)
    assert parse_variant("efficientnet-lite0") == Variant("efficientnet-lite0", 224)
    assert parse_variant("efficientnet-lite0:288:flip") == Variant("efficientnet-lite0", 288, flip=True)
    assert Variant("efficientnet-lite0", 288, flip=True).key == "efficientnet-lite0-288-flip"
    assert "| efficientnet-lite0 | 224 | avg |" in table(
        [{"network": "efficientnet-lite0", "size": 224, "pooling": "avg"}]
    )
