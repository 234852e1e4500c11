"""Product CSVs read defensively, for the builder and for "Add many": any bytes, any row, never a crash.

A row with more or fewer fields than the header, an undecodable byte, a field past the CSV module's size limit,
a repeated column or a product id given twice is skipped (or the column dropped) and listed with its reason;
every other row is kept as text. Only a file without a header or without an `image` column is refused whole.
Prices are parsed strictly (`parse_price`): a plain non-negative amount, with an optional currency sign or code
and thousands separators; `1e308`, `<b>5</b>`, `-5` or `inf` are reported, never read as some other number.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path, PurePosixPath

import pandas as pd

from engine.search.products import INTERNAL_FIELDS

MAX_PRICE = 1e9  # larger prices are data errors (and would distort the price slider)
SHOWN_CHARS = 120  # of a skipped line, in its problem report
CURRENCY = r"[A-Za-z]{0,4}\.?\s?[$€£¥₩₹]?"  # "HK$", "USD ", "€", "kr."
AMOUNT = re.compile(rf"{CURRENCY}\s*(\d{{1,3}}(?:[ ,\u00a0\u202f]\d{{3}})+|\d+)(\.\d+)?\s*{CURRENCY}")


class TableError(ValueError):
    """A product CSV that cannot be used at all (no header, no `image` column); the message names why."""


def read_rows(data: bytes | str, problems: list[str], max_rows: int | None = None) -> pd.DataFrame:
    """The CSV's data rows as text columns (index: data row number - 1); every skipped row is in `problems`."""
    text = _decode(data, problems)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _header(reader)
    columns, kept = _columns(header, problems)
    rows, index, number = [], [], 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as err:  # e.g. a field past the size limit; the reader goes on with the next line
            number += 1
            problems.append(f"malformed CSV line skipped (data row {number}): {err}")
            continue
        number += 1
        if not any(field.strip() for field in fields):
            continue  # a blank line
        if len(fields) != len(header):
            shown = ",".join(fields)[:SHOWN_CHARS]
            problems.append(
                f"malformed CSV line skipped (data row {number}: {len(fields)} fields, the header has "
                f"{len(header)}): {shown}"
            )
            continue
        rows.append([fields[i] for i in kept])
        index.append(number - 1)
        if max_rows is not None and len(rows) > max_rows:
            raise TableError(f"The CSV has more than {max_rows:,} rows; at most {max_rows:,} can be added at once.")
    frame = pd.DataFrame(rows, columns=columns, index=index, dtype=object).astype(str)
    frame["image"] = frame["image"].str.strip()
    if "product_id" in frame:
        frame["product_id"] = frame["product_id"].str.strip()
    return frame


def _decode(data: bytes | str, problems: list[str]) -> str:
    """UTF-8 text (a byte-order mark dropped); undecodable bytes become U+FFFD and are reported once."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        problems.append(f"the CSV is not UTF-8 text ({err.reason} at byte {err.start}): such bytes are shown as �")
        return data.decode("utf-8-sig", errors="replace")


def _header(reader) -> list[str]:
    """The header row's names (stripped); `TableError` when there is none."""
    try:
        header = next(reader)
    except StopIteration:
        header = []
    except csv.Error as err:
        raise TableError(f"The CSV's header cannot be read: {err}") from err
    header = [name.strip() for name in header]
    if not any(header):
        raise TableError("The CSV is empty: it needs a header line with an 'image' column.")
    if "image" not in header:
        raise TableError(f"The CSV needs an 'image' column; it has {header[:20]}.")
    return header


def _columns(header: list[str], problems: list[str]) -> tuple[list[str], list[int]]:
    """(names, positions) of the columns kept: unnamed and repeated columns are dropped and reported, and names
    the index uses itself are renamed (`id` -> `product_id` when the CSV has no `product_id`, `kind` ->
    `product_kind`)."""
    names, kept, present = [], [], set(header)
    for position, name in enumerate(header):
        renamed = f"product_{name}" if name in INTERNAL_FIELDS else name
        if not name:
            problems.append(f"column {position + 1} has no name; ignored")
        elif renamed != name and renamed in present:
            problems.append(f"column '{name}' ignored: the CSV has a '{renamed}' column")
        elif renamed in names:
            problems.append(f"column '{name}' appears twice; the later one is ignored")
        else:
            names.append(renamed)
            kept.append(position)
    return names, kept


def drop_repeated_ids(frame: pd.DataFrame, problems: list[str]) -> pd.DataFrame:
    """Rows whose `product_id` an earlier row already has are skipped and reported."""
    repeated = frame["product_id"].duplicated() & frame["product_id"].ne("")
    for line, product_id in frame.loc[repeated, "product_id"].items():
        problems.append(f"data row {line + 1}: product id '{product_id}' listed twice; later row skipped")
    return frame[~repeated]


def fill_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """An empty `product_id` becomes the image path without its suffix."""
    if "product_id" not in frame.columns:
        frame["product_id"] = ""
    no_id = frame["product_id"].eq("")
    frame.loc[no_id, "product_id"] = frame.loc[no_id, "image"].map(lambda p: str(PurePosixPath(p).with_suffix("")))
    return frame


def parse_price(text) -> float | None:
    """A price as written in a catalogue ('1,299.00', 'HK$ 1 299', '99') -> float; None for anything else."""
    match = AMOUNT.fullmatch(str(text).strip())
    if match is None:
        return None
    value = float(re.sub(r"\D", "", match.group(1)) + (match.group(2) or ""))
    return value if value <= MAX_PRICE else None


def parse_prices(prices: pd.Series | None, problems: list[str]) -> pd.Series | float:
    """Prices as floats; a cell that is not a plain price (see `parse_price`) is left empty and reported."""
    if prices is None:
        return float("nan")
    parsed = prices.map(parse_price)
    for line, raw in prices[parsed.isna() & prices.str.strip().ne("")].items():
        problems.append(f"data row {line + 1}: price '{str(raw)[:40]}' is not a number (a plain amount); left empty")
    return parsed.astype(float)


def read_csv_file(path: Path, problems: list[str]) -> pd.DataFrame:
    """`read_rows` of a file; `TableError` (naming the file) when it cannot be opened or used."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise TableError(f"Cannot read product CSV '{path}': {err}") from err
    try:
        return read_rows(data, problems)
    except TableError as err:
        raise TableError(f"Product CSV '{path}': {err}") from err
