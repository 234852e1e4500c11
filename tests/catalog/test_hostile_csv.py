"""Any CSV, any row: the builder's table reader and "Add many" skip and list each bad row and keep the rest; a fuzz
over hundreds of generated malformed CSVs lets no exception escape; prices are read strictly; a lying zip costs
one decompression, not one per row."""

from __future__ import annotations

import io
import random
import struct
import zipfile

import numpy as np
import pytest
from PIL import Image

from catalog.csv_rows import TableError, parse_price
from catalog.products import read_products
from catalog.uploads import UploadError, read_batch
from tests.conftest import jpeg_bytes

PHOTO = jpeg_bytes(Image.fromarray(np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)))


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"):
        (folder / name).write_bytes(PHOTO)
    return folder


def table(tmp_path, images, text: str | bytes):
    csv = tmp_path / "products.csv"
    csv.write_bytes(text.encode() if isinstance(text, str) else text)
    return read_products(images, csv)


def test_short_rows_both_id_columns_repeated_ids_and_absurd_prices_are_listed_and_the_rest_kept(tmp_path, images):
    result = table(
        tmp_path,
        images,
        "id,product_id,image,name,price\n"
        '1,p/a,a.jpg,Sofa A,"1,299.00"\n'
        "2,p/b,b.jpg\n"  # short row
        "3,p/c,c.jpg,Sofa C,1e308\n"
        "4,p/d,d.jpg,Sofa D,<b>5</b>\n"
        "5,p/a,e.jpg,Same id,-5\n"
        "6,p/x,a.jpg,Extra,1,2,3\n",  # extra columns
    )
    frame = result.frame
    assert list(frame["product_id"]) == ["p/a", "p/c", "p/d"]
    assert frame["price"].iloc[0] == 1299.0 and frame["price"].iloc[1:].isna().all()
    problems = "\n".join(result.problems)
    for expected in (
        "column 'id' ignored",
        "data row 2: 3 fields, the header has 5",
        "price '1e308' is not a number",
        "price '<b>5</b>' is not a number",
        "product id 'p/a' listed twice",
        "data row 6: 7 fields",
    ):
        assert expected in problems, (expected, problems)


def test_a_bare_id_column_still_names_the_products(tmp_path, images):
    result = table(tmp_path, images, "id,image\nx1,a.jpg\nx2,b.jpg\n")
    assert list(result.frame["product_id"]) == ["x1", "x2"] and result.problems == []


def test_undecodable_bytes_and_huge_fields_skip_only_their_rows(tmp_path, images):
    text = b"product_id,image,name\n\xff\xfe,a.jpg,x\nbig,b.jpg," + b"z" * 300_000 + b"\nok,c.jpg,fine\n"
    result = table(tmp_path, images, text)
    assert list(result.frame["product_id"]) == ["\ufffd\ufffd", "ok"]
    assert any("not UTF-8" in p for p in result.problems) and any("field limit" in p for p in result.problems)


def test_a_csv_without_an_image_column_is_refused_with_a_reason(tmp_path, images):
    for text in ("", "\n\n", "name,price\nx,1\n", '"unterminated\n'):
        with pytest.raises(TableError, match="image|empty"):
            table(tmp_path, images, text)


@pytest.mark.parametrize(
    ("text", "price"),
    [("1,299.00", 1299.0), ("HK$ 1 299", 1299.0), ("99", 99.0), ("12.50 USD", 12.5), ("€5", 5.0), ("0", 0.0)],
)
def test_plain_prices_are_read(text, price):
    assert parse_price(text) == price


@pytest.mark.parametrize("text", ["1e308", "<b>5</b>", "-5", "inf", "nan", "1,2,3", "5 - 7", "1e3", "10000000000"])
def test_absurd_prices_are_refused(text):
    assert parse_price(text) is None


CELLS = [
    "a.jpg",
    "b.jpg",
    "../a.jpg",
    "/etc/passwd",
    "",
    " ",
    "x\x00y",
    '"',
    '"quoted, comma"',
    "1e308",
    "<b>5</b>",
    "-5",
    '=HYPERLINK("http://evil.example")',
    "https://evil.example",
    "\u202e",
    "\r",
    "z" * 140_000,
    "nan",
    "None",
]
HEADERS = ["image", "product_id", "id", "name", "price", "kind", "", "url", "category"]


def garbage_csv(rng: random.Random) -> bytes:
    """A header of random known and odd names, then rows of random length and content; sometimes binary junk."""
    header = rng.sample(HEADERS, rng.randint(1, len(HEADERS))) + rng.choice([[], ["image"], ["id", "product_id"]])
    lines = [",".join(header)] if rng.random() > 0.05 else []
    for _ in range(rng.randint(0, 30)):
        cells = [rng.choice(CELLS) for _ in range(max(0, len(header) + rng.randint(-3, 3)))]
        lines.append(",".join(cells))
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    if rng.random() < 0.15:
        data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 200)))
    if rng.random() < 0.1:
        data = b"\xef\xbb\xbf" + data
    return data


FUZZ_CASES = 220


def test_fuzz_the_builders_csv_reading(tmp_path, images):
    rng, outcomes = random.Random(25), {"table": 0, "refused": 0}
    for case in range(FUZZ_CASES):
        try:
            result = table(tmp_path, images, garbage_csv(rng))
        except TableError as err:
            assert str(err), case
            outcomes["refused"] += 1
            continue
        frame = result.frame
        assert frame["image"].isin(["a.jpg", "b.jpg"]).all(), case  # only files inside the folder
        assert all(isinstance(v, str) for v in frame["product_id"]) and not frame["product_id"].duplicated().any(), case
        assert frame["price"].dropna().between(0, 1e9).all(), case
        outcomes["table"] += 1
    assert min(outcomes.values()) > 20, outcomes  # both outcomes were exercised


def test_fuzz_the_add_many_upload(tmp_path):
    rng, archive, added = random.Random(52), zipped({"a.jpg": PHOTO, "b.jpg": PHOTO}), 0
    for case in range(FUZZ_CASES):
        try:
            batch = read_batch(garbage_csv(rng), archive, tmp_path, set())
        except UploadError as err:
            assert str(err), case
            continue
        assert all(isinstance(p["product_id"], str) and p["image"].startswith("@managed/") for p in batch.products)
        added += len(batch.products)
    assert added > 20


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def lying_zip(declared: int = 1024) -> bytes:
    """A zip whose first member declares `declared` bytes but inflates to 8 MiB, then a good photo."""
    data = bytearray(zipped({"liar.jpg": bytes(8 * 2**20), "good.jpg": PHOTO}))
    central = data.index(b"PK\x01\x02")  # the first member's central-directory entry: its size at +24
    data[central + 24 : central + 28] = struct.pack("<I", declared)
    return bytes(data)


def test_a_lying_zip_member_is_unpacked_once_and_stops_the_zip(tmp_path):
    csv = "product_id,image\n" + "".join(f"p{i},liar.jpg\n" for i in range(200)) + "last,good.jpg\n"
    batch = read_batch(csv.encode(), lying_zip(), tmp_path, set())
    assert batch.products == []
    assert "damaged in the zip" in batch.problems[0] and "CRC" in batch.problems[0]
    assert all("not read: the zip is damaged ('liar.jpg'" in p for p in batch.problems[1:])
    assert len(batch.problems) == 201
