"""Product colours in the index metadata: stored by every build, added to an older index without re-embedding."""

from __future__ import annotations

import shutil

from catalog.build import build_catalog
from engine.index.store import CatalogIndex
from engine.search.colors import parse_colors


def test_an_index_built_before_colours_gets_them_on_the_next_update(tmp_path, small_catalog, built_index):
    out = tmp_path / "index"
    shutil.copytree(built_index[0], out)
    old = CatalogIndex.load(out)
    expected = old.meta.set_index("id")["colors"]
    old.replace_meta(old.meta.drop(columns=["colors"]))  # as an index built before colours were stored
    old.save(out)
    report = build_catalog(small_catalog["images"], out, small_catalog["csv"], "yolo11n.yaml", progress=False)
    assert report.embedded == 0 and report.unchanged == 60  # nothing was embedded again
    updated = CatalogIndex.load(out).meta.set_index("id")["colors"]
    assert updated.notna().all() and (updated == expected.loc[updated.index]).all()
    assert all(parse_colors(value) is not None for value in updated)
