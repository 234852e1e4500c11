"""A product shot is searched whole; a room photo by its largest detection."""

from PIL import Image, ImageDraw

from engine.detector import Detection
from engine.query import default_query_box, is_product_shot
from engine.settings import shared_data_dir

DATA = shared_data_dir()


def test_catalogue_photos_are_product_shots_and_rooms_are_not():
    shot = Image.open(next((DATA / "ikea-catalog" / "sofas").glob("*.jpg")))
    room = Image.open(next((DATA / "ikea-rooms" / "rooms").glob("*.jpg")))
    assert is_product_shot(shot)
    assert not is_product_shot(room)


def test_default_box_whole_photo_for_a_shot_else_largest_detection():
    shot = Image.new("RGB", (300, 200), "white")
    ImageDraw.Draw(shot).rectangle((100, 50, 200, 150), fill=(90, 60, 30))
    small, large = Detection((0, 0, 10, 10), "chair", 0.9), Detection((100, 50, 200, 150), "table", 0.4)
    assert default_query_box(shot, [small, large])[0] == (0.0, 0.0, 300.0, 200.0)
    busy = Image.new("RGB", (300, 200), (120, 100, 90))
    assert default_query_box(busy, [small, large])[0] == large.box
    assert default_query_box(busy, [])[0] == (0.0, 0.0, 300.0, 200.0)
