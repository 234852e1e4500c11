"""Which vector index for which catalogue: the size-based default, IVF sizing, default and command-line parameters.

Exact search (`Flat`) is the default up to `FLAT_MAX_VECTORS`, where it stops meeting the latency target; above
it, an IVF with SQ8 codes. The measurements behind both choices are in docs/BENCHMARKS.md and docs/SCALING.md.
"""

from __future__ import annotations

import math
import re

FLAT_MAX_VECTORS = 50_000  # where exact search stops meeting the latency target (docs/SCALING.md)
LARGE_CODEC = "SQ8"  # above it: IVF (nlist ≈ 4·sqrt(N)) with SQ8 codes, the one type that met every 1e6 target
HNSW_EF_CONSTRUCTION = 100  # FAISS's 40 capped HNSW32,SQ8 at recall 0.85-0.89 on 1e6 vectors; 100 gave 0.97
TRAIN_MAX = 100_000  # training sample for SQ/PQ/ITQ (IVF: up to 256 * nlist, at least 40 * nlist)
HNSW_EF_SEARCH = 128


def choose_factory(n_vectors: int) -> str:
    """The default index for `n_vectors`: exact `Flat` up to `FLAT_MAX_VECTORS`, else e.g. `IVF4096,SQ8`."""
    return "Flat" if n_vectors <= FLAT_MAX_VECTORS else ivf_factory(n_vectors, LARGE_CODEC)


def keeps_factory(factory: str, n_vectors: int) -> bool:
    """Whether an automatically chosen index still suits `n_vectors` (with slack, so updates do not flap)."""
    if factory == "Flat":
        return n_vectors <= FLAT_MAX_VECTORS
    nlist = ivf_nlist(factory)
    if nlist and factory == f"IVF{nlist},{LARGE_CODEC}":
        ideal = ivf_nlist(ivf_factory(n_vectors))
        return n_vectors > FLAT_MAX_VECTORS // 2 and ideal // 2 <= nlist <= ideal * 2
    return choose_factory(n_vectors) == factory


def ivf_factory(n_vectors: int, codec: str = "SQ8") -> str:
    """An IVF factory string with nlist ≈ 4·sqrt(N) rounded to a power of two, e.g. `IVF1024,SQ8`."""
    nlist = 2 ** round(math.log2(max(16.0, 4 * math.sqrt(max(n_vectors, 1)))))
    return f"IVF{min(nlist, 65536)},{codec}"


def ivf_nlist(factory: str) -> int | None:
    """The number of inverted lists named in a factory string (None when it is not an IVF)."""
    match = re.search(r"IVF(\d+)", factory)
    return int(match.group(1)) if match else None


def default_params(factory: str) -> dict:
    """Default parameters for a factory string: efSearch/efConstruction for HNSW, nprobe for IVF, rerank for ITQ."""
    params: dict = {}
    if "HNSW" in factory:
        params.update(efSearch=HNSW_EF_SEARCH, efConstruction=HNSW_EF_CONSTRUCTION)
    lists = ivf_nlist(factory)
    if lists:
        params["nprobe"] = min(lists, max(8, lists // 16))
    if factory.startswith("ITQ"):
        params["rerank"] = 20
    if factory.endswith("RFlat") or "Refine(" in factory:
        params["k_factor_rf"] = 4
    return params


def train_size(factory: str, n_vectors: int) -> int:
    """How many vectors train a factory: all of them up to `TRAIN_MAX`; IVF gets 40..256 points per list."""
    lists = ivf_nlist(factory)
    wanted = TRAIN_MAX
    if lists:
        wanted = min(256 * lists, max(TRAIN_MAX, 40 * lists))
    return min(n_vectors, wanted)


def parse_params(items: list[str]) -> dict:
    """Command-line search parameters: ["efSearch=96", "nprobe=8"] -> {"efSearch": 96, "nprobe": 8}."""
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"expected NAME=VALUE, got '{item}'")
        params[name] = int(value) if value.lstrip("-").isdigit() else float(value)
    return params
