"""`build_catalog --ray`: detection and embedding on a local Ray instance give exactly the single-process index."""

import numpy as np
import pandas as pd

from catalog.build import BuildConfig, build_catalog
from engine.index.store import CatalogIndex


def test_ray_build_matches_the_single_process_build(tmp_path, few_images):
    """Photos and their gallery views, embedded on Ray actors, give the single-process index exactly."""
    args = (few_images["images"], None, few_images["csv"], few_images["weights"])
    local = build_catalog(args[0], tmp_path / "local", *args[2:], BuildConfig(batch=3, views=1), progress=False)
    on_ray = BuildConfig(batch=3, views=1, ray="local")
    ray = build_catalog(args[0], tmp_path / "ray", *args[2:], on_ray, progress=False)
    assert ray.failures == local.failures and [image for image, _ in ray.failures] == ["bad.jpg"]
    assert ray.embedded == local.embedded == 8
    one, other = CatalogIndex.load(tmp_path / "local"), CatalogIndex.load(tmp_path / "ray")
    pd.testing.assert_frame_equal(one.meta, other.meta)  # same ids, boxes, classes, product columns
    assert len(one) == len(other) > 8  # whole images plus detected objects
    assert (one.meta["kind"] == "view").sum() == 8 and ray.viewed == local.viewed == 8
    ids = one.meta["id"].to_numpy()
    assert np.allclose(one.vectors(ids), other.vectors(ids), atol=1e-5)
    for key in ("n_vectors", "n_objects", "detector", "embedding", "dim"):
        assert one.manifest[key] == other.manifest[key]
