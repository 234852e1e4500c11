"""Stored product thumbnails: the store refuses foreign names and files; the service serves them, else the photo."""

import hashlib
import io

import pytest
from PIL import Image

import engine
from engine.thumbnails import THUMB_SIDE, Thumbnails, thumbnail_jpeg

SHA = "0123456789abcdef0123456789abcdef01234567"


def test_a_thumbnail_fits_the_side_and_is_never_enlarged():
    big = Image.new("RGB", (1000, 500), (10, 200, 30))
    small = Image.new("RGBA", (40, 20), (10, 200, 30, 128))
    assert Image.open(io.BytesIO(thumbnail_jpeg(big))).size == (THUMB_SIDE, THUMB_SIDE // 2)
    assert Image.open(io.BytesIO(thumbnail_jpeg(small))).size == (40, 20)


def test_the_store_keeps_only_sha1_names_inside_its_folder(tmp_path):
    store = Thumbnails.of_index(tmp_path)
    store.put(SHA, Image.new("RGB", (500, 400), "white"))
    data = store.jpeg(SHA)
    assert data is not None and Image.open(io.BytesIO(data)).size == (320, 256)
    assert store.stored() == {SHA}
    for hostile in ("../../etc/passwd", SHA.upper(), SHA + "/..", "", "nan", f"../{SHA}"):
        assert store.path(hostile) is None and store.jpeg(hostile) is None
        with pytest.raises(ValueError):
            store.put(hostile, Image.new("RGB", (8, 8)))
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [f"{SHA}.jpg"]


def test_a_file_that_is_not_one_of_ours_is_ignored(tmp_path):
    store = Thumbnails.of_index(tmp_path)
    store.folder.mkdir()
    (store.folder / f"{SHA}.jpg").write_text("<svg onload=alert(1)>")
    assert store.jpeg(SHA) is None
    (store.folder / f"{SHA}.jpg").write_bytes(b"\xff\xd8" + bytes(2 << 20))  # starts like a JPEG, far too big
    assert store.jpeg(SHA) is None


def test_prune_drops_only_photos_no_longer_kept(tmp_path):
    store = Thumbnails.of_index(tmp_path)
    other = "f" * 40
    for digest in (SHA, other):
        store.put(digest, Image.new("RGB", (8, 8)))
    assert store.prune({SHA}) == 1 and store.stored() == {SHA}


def test_the_service_serves_stored_thumbnails_else_the_photo(service):
    """The build stored one thumbnail per readable photo; a match names its own; a bad name falls back."""
    meta = service.index.meta.drop_duplicates("image")
    row = meta.iloc[0]
    photo = service.image_path(row["image"])
    assert row["content_hash"] == hashlib.sha1(photo.read_bytes()).hexdigest()
    stored = service.thumbnails.jpeg(row["content_hash"])
    assert stored is not None and service.thumbnail(row["image"], row["content_hash"]) == stored
    assert service.thumbnails.stored() == set(meta["content_hash"])  # every indexed photo, nothing else
    made = service.thumbnail(row["image"], "../../../etc/passwd")  # not a sha1: made from the photo
    assert Image.open(io.BytesIO(made)).size == Image.open(io.BytesIO(stored)).size
    small = Image.open(io.BytesIO(service.thumbnail(row["image"], row["content_hash"], 100)))
    assert max(small.size) == 100
    image = engine.load_image(photo)
    match = service.search_box(service.analyse(image), (0, 0, *image.size), k=1)[0]
    assert match.content_hash in service.thumbnails.stored()
    with pytest.raises(engine.ImageLoadError):
        service.thumbnail("bad/not-an-image.jpg")
