"""Uploaded products: photos checked and stored by content in the managed folder; hostile zips and CSVs refused."""

import io
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from catalog import uploads
from catalog.uploads import UploadError, ZipPhotos, one_product, read_batch, safe_name, store_photo
from engine.curation.catalogue_files import ImageFiles, OutsideCatalogueError, managed_dir
from engine.images import ImageLoadError
from tests.conftest import jpeg_bytes, truncated_jpeg


def photo(seed: int) -> bytes:
    """A 400x300 JPEG of smooth colour noise (only decodability and content matter here, so no shared data)."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    return jpeg_bytes(small.resize((400, 300), Image.BICUBIC), quality=90)


SOFA, CHAIR = photo(1), photo(2)


def zipped(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def files_under(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())


def test_a_photo_is_stored_once_by_content_inside_the_managed_folder(tmp_path):
    first = store_photo(SOFA, tmp_path)
    assert first.startswith("@managed/") and store_photo(SOFA, tmp_path) == first
    path = ImageFiles.of_index(tmp_path / "catalogue", tmp_path).path(first)
    assert path.parent == managed_dir(tmp_path) and Image.open(path).format == "JPEG"
    assert files_under(tmp_path) == [f"managed/images/{first.removeprefix('@managed/')}"]
    with pytest.raises(ImageLoadError):
        store_photo(b"not a photo at all", tmp_path)


def test_image_paths_never_lead_outside_their_folders(tmp_path):
    catalogue = tmp_path / "catalogue"
    (catalogue / "sofas").mkdir(parents=True)
    (catalogue / "sofas" / "1.jpg").write_bytes(SOFA)
    files = ImageFiles.of_index(catalogue, tmp_path)
    (managed_dir(tmp_path)).mkdir(parents=True)
    (managed_dir(tmp_path) / "link.jpg").symlink_to(catalogue / "sofas" / "1.jpg")
    for image in ("../products.csv", "/etc/passwd", "@managed/../../x.jpg", "@managed/link.jpg", "@managed//etc/x"):
        with pytest.raises(OutsideCatalogueError):
            files.path(image)
    assert files.path("sofas/1.jpg") == catalogue / "sofas" / "1.jpg"


def test_a_batch_adds_the_good_rows_and_lists_every_bad_one(tmp_path):
    csv = (
        b"product_id,image,name,category,price,url,colour\n"
        b"new/sofa,photos/sofa.jpg,New sofa,sofas,1 299.00,https://example.com/s,grey\n"
        b"new/chair,photos/chair.jpg,New chair,chairs,n/a,,red\n"
        b"taken,photos/chair.jpg,Taken id,chairs,1,,\n"
        b"slip,../../evil.jpg,Zip slip,x,1,,\n"
        b"abs,/etc/passwd,Absolute,x,1,,\n"
        b"missing,photos/none.jpg,Missing,x,1,,\n"
        b"text,notes.jpg,Text,x,1,,\n"
        b"cut,cut.jpg,Truncated,x,1,,\n"
        b"link,link.jpg,Link,x,1,,\n"
        b"new/sofa,photos/chair.jpg,Same id twice,x,1,,\n"
    )
    members = {"photos/sofa.jpg": SOFA, "photos/chair.jpg": CHAIR, "notes.jpg": b"hello", "cut.jpg": truncated_jpeg()}
    members["../../evil.jpg"] = SOFA
    batch = read_batch(csv, zipped(members, {"link.jpg": "/etc/passwd"}), tmp_path, {"taken"})
    assert [p["product_id"] for p in batch.products] == ["new/sofa", "new/chair"]
    sofa = batch.products[0]
    assert (sofa["name"], sofa["category"], sofa["price"], sofa["url"], sofa["colour"]) == (
        "New sofa",
        "sofas",
        1299.0,
        "https://example.com/s",
        "grey",
    )
    problems = "\n".join(batch.problems)
    for expected in (
        "'n/a' is not a number",
        "'taken' is already",
        "'../../evil.jpg': not a plain",
        "'/etc/passwd'",
        "photos/none.jpg': not in the zip",
        "notes.jpg': ",
        "cut.jpg': ",
        "link.jpg': a link",
        "'new/sofa' is already",
    ):
        assert expected in problems, (expected, problems)
    assert len(batch.problems) == 9
    assert files_under(tmp_path) == sorted(f"managed/images/{p['image'][9:]}" for p in batch.products)


def test_zip_bombs_and_broken_uploads_are_refused_with_a_reason(tmp_path, monkeypatch):
    with pytest.raises(UploadError, match="cannot be read"):
        ZipPhotos(b"PK\x03\x04 not really a zip")
    monkeypatch.setattr(uploads, "MAX_ZIP_MEMBERS", 3)
    with pytest.raises(UploadError, match="holds 4 files"):
        ZipPhotos(zipped({f"{i}.jpg": b"x" for i in range(4)}))
    zeros = bytes(8 * 2**20)  # compresses to a few kB
    monkeypatch.setattr(uploads, "MAX_ZIP_BYTES", 4 * 2**20)
    with pytest.raises(UploadError, match="unpacks to more than 4 MB"):
        ZipPhotos(zipped({"bomb.jpg": zeros}))
    monkeypatch.setattr(uploads, "MAX_ZIP_BYTES", 64 * 2**20)
    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 2**20)
    with pytest.raises(UploadError, match="larger than 1 MB"):
        ZipPhotos(zipped({"bomb.jpg": zeros})).read("bomb.jpg")
    with pytest.raises(UploadError, match="'image' column"):
        read_batch(b"name,price\nx,1\n", zipped({}), tmp_path, set())
    assert not (tmp_path / "managed").exists()


def test_safe_names():
    assert safe_name("a/./b\\c.jpg") == "a/b/c.jpg"
    assert [safe_name(n) for n in ("../a.jpg", "/a.jpg", "C:/a.jpg", "a/../../b", "", "a\x00.jpg")] == [None] * 6


def test_one_product_gets_an_id_from_its_name_and_refuses_a_bad_price(tmp_path):
    product = one_product(SOFA, {"name": "Grey Sofa!", "price": "1,099", "url": "https://x.test"}, tmp_path, set())
    assert product["product_id"] == "added/grey-sofa" and product["price"] == 1099.0
    again = one_product(SOFA, {"name": "Grey Sofa!"}, tmp_path, {"added/grey-sofa"})
    assert again["product_id"].startswith("added/grey-sofa-")
    with pytest.raises(UploadError, match="not a number"):
        one_product(CHAIR, {"name": "x", "price": "cheap"}, tmp_path, set())
    with pytest.raises(ImageLoadError):
        one_product(jpeg_bytes(Image.new("RGB", (4, 4)))[:20], {"name": "x"}, tmp_path, set())
