"""The curators' SQLite stores next to an index, and the roles: one transaction per write, who and when kept."""

import pandas as pd
import pytest

from engine.curation.curated_boxes import CuratedBox, CuratedBoxes
from engine.curation.managed_products import ManagedProducts, apply_edits
from engine.curation.roles import app_mode, password_from, password_matches


def test_curated_boxes_are_kept_per_product_with_a_history(tmp_path):
    store = CuratedBoxes(tmp_path)
    saved = store.set(CuratedBox("sofas/1", "sofas/1.jpg", "abc", (1, 2, 30, 40), True, "ana"))
    assert saved.at > 0 and store.get("sofas/1") == saved
    store.set(CuratedBox("sofas/1", "sofas/1.jpg", "abc", (5, 6, 70, 80), False, "ben"))
    assert CuratedBoxes(tmp_path).get("sofas/1").box == (5, 6, 70, 80)  # a new store object: the same file
    assert store.clear("sofas/1", "cy") and not store.clear("sofas/1", "cy")
    assert store.all() == {}
    assert [(h[1], h[2], h[4]) for h in store.history()] == [
        ("set", "1.0,2.0,30.0,40.0", "ana"),
        ("set", "5.0,6.0,70.0,80.0", "ben"),
        ("clear", "", "cy"),
    ]
    with pytest.raises(ValueError, match="x1 > x0"):
        store.set(CuratedBox("p", "p.jpg", "h", (10, 10, 5, 20)))


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    store = ManagedProducts(tmp_path)
    good = {"product_id": "a", "image": "@managed/a.jpg", "name": "A"}
    with pytest.raises(ValueError, match="managed folder"):
        store.add([good, {"product_id": "b", "image": "../b.jpg"}])
    with pytest.raises(KeyError):  # fails inside the transaction, after the first product was written
        store.add([good, {"image": "@managed/b.jpg", "name": "no id"}])
    assert store.added() == [] and store.history() == []


def test_edits_apply_to_a_build_table(tmp_path):
    store = ManagedProducts(tmp_path)
    store.add([{"product_id": "new", "image": "@managed/n.jpg", "name": "New", "price": 5.0, "colour": "red"}], "ana")
    freed = store.remove(["old", "new"], "ben")
    assert freed == ["@managed/n.jpg"]
    store.add([{"product_id": "new2", "image": "@managed/m.jpg", "name": "New 2", "price": None}], "ana")
    table = pd.DataFrame(
        {
            "product_id": ["old", "kept", "sneaky"],
            "image": ["o.jpg", "k.jpg", "@managed/x.jpg"],
            "price": [1.0, 2.0, 3.0],
        }
    )
    edited, problems = apply_edits(table, store)
    assert edited["product_id"].tolist() == ["kept", "new2"]
    assert edited["price"].iloc[1] != edited["price"].iloc[1]  # missing: NaN
    assert problems == ["image '@managed/x.jpg' uses the reserved prefix @managed/; row skipped"]


def test_roles(monkeypatch):
    monkeypatch.delenv("LOOKALIKE_MODE", raising=False)
    assert app_mode() == "curator"
    assert password_matches("s3cret", "s3cret") and not password_matches("s3cre", "s3cret")
    assert not password_matches("", "") and not password_matches("x", None)
    assert password_from({"LOOKALIKE_CURATOR_PASSWORD": "env"}, {"curator_password": "secret"}) == "env"
    assert password_from({}, {"curator_password": "secret"}) == "secret" and password_from({}, None) is None
    monkeypatch.setenv("LOOKALIKE_MODE", "shop")
    assert not password_matches("s3cret", "s3cret")  # a public shop: no password opens anything
    monkeypatch.setenv("LOOKALIKE_MODE", "admin")
    with pytest.raises(ValueError, match="'shop' or 'curator'"):
        app_mode()
