"""CSV export: formula-like text cells are neutralised, numbers and ordinary text are kept."""

import io

import pandas as pd

from engine.curation.export import neutralised, safe_csv


def test_formula_cells_get_a_quote_and_the_rest_is_untouched():
    table = pd.DataFrame(
        {
            "name": ['=HYPERLINK("http://evil")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "sofa", "a=b"],
            "score": [0.5, -0.25, 1.0, 0.0, 0.1, 0.2, 0.3, 0.4],
        }
    )
    back = pd.read_csv(io.BytesIO(safe_csv(table)), keep_default_na=False)
    assert list(back["name"])[:4] == ['\'=HYPERLINK("http://evil")', "'+1", "'-2+3", "'@SUM(A1)"]
    assert list(back["name"])[6:] == ["sofa", "a=b"]
    assert back["score"].tolist() == table["score"].tolist()  # negative numbers stay numbers
    assert neutralised("\tx") == "'\tx" and neutralised(5) == 5 and neutralised("") == ""


def test_header_cells_are_neutralised_too():
    assert safe_csv(pd.DataFrame({"=cmd": ["ok"]})).decode().splitlines() == ['"\'=cmd"', '"ok"']


def test_a_line_break_stays_inside_its_cell():
    back = pd.read_csv(io.BytesIO(safe_csv(pd.DataFrame({"n": ["a\rb", "c\nd"], "x": [1, 2]}))))
    assert len(back) == 2 and back["x"].tolist() == [1, 2]
