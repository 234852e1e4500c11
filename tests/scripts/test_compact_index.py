"""scripts/compact_index.py: drops HNSW tombstones, switches the index type, sets search parameters."""

import numpy as np
import pandas as pd

from engine.index.store import CatalogIndex
from scripts import compact_index


def test_compaction_drops_tombstones_then_switches_type(tmp_path, capsys):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(500, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = CatalogIndex.from_vectors(vectors, pd.DataFrame({"id": np.arange(500)}), {"dim": 16}, "HNSW32")
    index.remove(np.arange(0, 500, 5))
    index.save(tmp_path)
    assert compact_index.main(["--index", str(tmp_path), "--param", "efSearch=50"]) == 0
    assert "HNSW32 (500 stored, 100 removed) -> HNSW32 (400 stored, 0 removed)" in capsys.readouterr().out
    compacted = CatalogIndex.load(tmp_path)
    assert compacted.manifest["index"]["params"] == {"efSearch": 50, "efConstruction": 100} and len(compacted) == 400
    assert compact_index.main(["--index", str(tmp_path), "--factory", "IVF8,Flat", "--param", "nprobe=8"]) == 0
    switched = CatalogIndex.load(tmp_path)
    assert switched.factory == "IVF8,Flat" and switched.manifest["index_auto"] is False
    assert switched.search(vectors[7], 1)[1][0, 0] == 7  # exact when every list is probed
    assert compact_index.main(["--index", str(tmp_path / "none")]) == 2
