"""A product shot is searched by its product's box (its non-white pixels); a room photo by its largest detection."""

import pytest
from PIL import Image, ImageDraw

from engine.detection.detector import Detection
from engine.search.query import default_query_box, is_product_shot, product_shot_box
from engine.settings import shared_data_dir

DATA = shared_data_dir()


@pytest.mark.integration
def test_catalogue_photos_are_product_shots_and_rooms_are_not():
    shot = Image.open(next((DATA / "ikea-catalog" / "sofas").glob("*.jpg")))
    room = Image.open(next((DATA / "ikea-rooms" / "rooms").glob("*.jpg")))
    assert is_product_shot(shot)
    assert not is_product_shot(room) and product_shot_box(room) is None
    x0, y0, x1, y1 = product_shot_box(shot)
    assert (
        0 <= x0 < x1 <= shot.width and 0 <= y0 < y1 <= shot.height and (x1 - x0) * (y1 - y0) < shot.width * shot.height
    )


def test_an_all_white_shot_is_its_own_box():
    assert product_shot_box(Image.new("RGB", (120, 80), "white")) == (0.0, 0.0, 120.0, 80.0)


def test_default_box_the_product_in_a_shot_else_largest_detection():
    shot = Image.new("RGB", (300, 200), "white")
    ImageDraw.Draw(shot).rectangle((100, 50, 200, 150), fill=(90, 60, 30))  # pixels 100..200 inclusive
    shot.putpixel((20, 20), (0, 0, 0))  # a lone speck is not the product
    small, large = Detection((0, 0, 10, 10), "chair", 0.9), Detection((100, 50, 200, 150), "table", 0.4)
    box, why = default_query_box(shot, [small, large])
    assert why.startswith("product photo")
    assert box[0] <= 100 and box[1] <= 50 and box[2] >= 201 and box[3] >= 151  # the whole product …
    assert box == pytest.approx((100, 50, 201, 151), abs=3)  # … and little more
    busy = Image.new("RGB", (300, 200), (120, 100, 90))
    assert default_query_box(busy, [small, large])[0] == large.box
    assert default_query_box(busy, [])[0] == (0.0, 0.0, 300.0, 200.0)


@pytest.mark.integration
def test_a_resaved_copy_puts_its_original_first_even_beside_a_near_identical_sibling():
    import io

    from engine.search.products import Match
    from engine.search.query import promote_copy

    root = DATA / "ikea-catalog"
    # LANDSKRONA 3-seat, wood legs (190) and metal legs (191): the same shot but for the legs
    original = Image.open(root / "sofas" / "190.jpg").convert("RGB")
    buffer = io.BytesIO()
    original.resize((175, 175)).save(buffer, "JPEG", quality=75)
    copy = Image.open(io.BytesIO(buffer.getvalue()))
    matches = [Match(1, "sofas/191", 0.99, "sofas/191.jpg"), Match(2, "sofas/190", 0.98, "sofas/190.jpg")]
    promoted = promote_copy(copy, matches, root.joinpath)
    assert [(m.rank, m.product_id) for m in promoted] == [(1, "sofas/190"), (2, "sofas/191")]
    other = Image.open(next((root / "chairs").glob("*.jpg")))  # not a copy of either: the order stays
    assert promote_copy(other, matches, root.joinpath) == matches
