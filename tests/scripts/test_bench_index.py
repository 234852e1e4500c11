"""scripts/bench_index.py end to end on a tiny catalogue: JSON, the Markdown section, the summary line, re-rendering."""

import json

import pytest

from scripts import bench_index


@pytest.mark.integration
def test_tiny_run_writes_json_markdown_and_a_summary_last(tmp_path, capsys):
    doc, out = tmp_path / "BENCH.md", tmp_path / "r.json"
    args = ["--n", "1500", "--n", "3000", "--dim", "16", "--queries", "20", "--types", "Flat", "HNSW32,SQ8"]
    assert bench_index.main([*args, "--doc", str(doc), "--json", str(out), "--note", "tiny"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("default Flat at N=3,000 (synthetic, dim 16): recall@10 1.0, p50 ")
    results = json.loads(out.read_text())
    assert {(r["n"], r["type"]) for r in results["runs"]} == {
        (n, t) for n in (1500, 3000) for t in ("Flat", "HNSW32,SQ8")
    }
    hnsw = next(r for r in results["runs"] if r["type"] == "HNSW32,SQ8")
    assert hnsw["recall_at_10"] >= 0.9 and hnsw["sweep"] and hnsw["bytes_per_vector"] > 16
    text = doc.read_text()
    assert "<!-- index-scaling:start -->" in text and "| synthetic | 3,000 | HNSW32,SQ8 |" in text and "tiny" in text
    doc.unlink()
    assert bench_index.main([*args, "--doc", str(doc), "--from-json", str(out)]) == 0
    assert doc.read_text() == text
