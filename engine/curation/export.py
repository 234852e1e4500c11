"""Tables as CSV that spreadsheets open safely: a text cell that could start a formula is prefixed with a quote."""

from __future__ import annotations

import csv

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # OWASP CSV injection: what Excel / LibreOffice evaluate


def neutralised(value):
    """A text cell starting with =, +, -, @, tab or carriage return gets a leading ' (shown as text); others as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_csv(table: pd.DataFrame) -> bytes:
    """UTF-8 CSV of a table (header, no index): text cells neutralised and quoted (line breaks stay inside their
    cell), numbers unquoted."""
    table = table.copy()
    table.columns = [neutralised(str(column)) for column in table.columns]
    for column in table.columns:
        if table[column].dtype == object or pd.api.types.is_string_dtype(table[column]):
            table[column] = table[column].map(neutralised)
    return table.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8")
