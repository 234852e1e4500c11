"""Catalogue embedding on a Ray cluster (Ray Data): the same rows and vectors as the single-process build.

`catalog.build.build_catalog` calls `embed_images_ray` instead of embedding in-process when
`BuildConfig.ray` is set. The images to embed become a Ray dataset (`ray.data.from_items`); `map_batches`
runs `EmbedBatches` in a pool of actors, each loading the detector and embedder once and reusing
`catalog.build`'s own decode and embed steps; the driver collects the results, puts them back in the order
of the single-process build and numbers them the same way. Index writing stays on the driver.

Every Ray node needs the project importable (this folder on `PYTHONPATH`, as set here, or the same image),
and the images folder and detector weights at the same paths (a shared filesystem).
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd

from engine.settings import PROJECT_ROOT


class EmbedBatches:
    """Ray Data callable class: the detector and embedder load once per actor, then embed batch after batch."""

    def __init__(self, files, weights: str, config, views: bool = False) -> None:
        import torch

        from engine.detection.detector import Detector
        from engine.embedding import make_embedder

        torch.set_num_threads(1)
        self.files, self.config, self.views = files, config, views
        self.detector = Detector(weights, config.detector)
        self.embedder = make_embedder(config.embedding, self.detector)
        self.dim = int(self.embedder.dim)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Images of one batch -> one output row per indexed object or gallery view (or per unreadable image,
        with `error`)."""
        names = [str(name) for name in batch["image"]]
        order = dict(zip(names, batch["order"].tolist()))
        hashes = dict(zip(names, (str(h) for h in batch["hash"])))
        rows, vectors, report = self._embed(names, hashes)
        entry = [sum(r["image"] == row["image"] for r in rows[:i]) for i, row in enumerate(rows)]
        blank = np.zeros(self.dim, dtype=np.float32)
        failed = [(order[name], -1, "", blank, reason) for name, reason in report.failures]
        out = [(order[r["image"]], e, json.dumps(r), v, "") for r, e, v in zip(rows, entry, vectors)] + failed
        columns = ("order", "entry", "row", "vector", "error")
        result = {name: np.array([item[i] for item in out]) for i, name in enumerate(columns) if name != "vector"}
        result["vector"] = np.stack([item[3] for item in out]).astype(np.float32)
        return result

    def _embed(self, names: list[str], hashes: dict[str, str]):
        """(row dicts, (N, D) vectors, report) of the photos, or of their gallery views, as `catalog.build` does."""
        from catalog.embed_images import BuildReport, decode_batch, embed_batch
        from catalog.views import embed_views

        report = BuildReport()
        if self.views:
            rows, vectors = embed_views(
                self.files, names, hashes, self.detector, self.embedder, self.config, report, 0, lambda _: None
            )
            return rows.to_dict("records"), vectors, report
        decoded = decode_batch(self.files, names, report)
        rows, blocks = embed_batch(decoded, self.detector, self.embedder, self.config, hashes, 0)
        vectors = np.concatenate(blocks) if blocks else np.zeros((0, self.dim), dtype=np.float32)
        return rows, vectors, report


def embed_images_ray(files, todo: list[str], hashes: dict, weights: str, config, report, next_id: int, views=False):
    """Detect and embed `todo` on Ray; returns (object rows, (N, D) vectors) exactly as `catalog.build` would.

    `views`: render and embed the photos' gallery views instead (`catalog.views.embed_views`)."""
    try:
        import ray
    except ImportError as err:
        raise ModuleNotFoundError(
            "--ray needs the optional scale-out packages: pip install -r requirements-scale.txt "
            "(or scripts/setup.sh --scale)"
        ) from err

    from catalog.embed_images import OBJECT_COLUMNS

    started = not ray.is_initialized()
    if started:
        _init(config.ray)
    try:
        items = [{"image": name, "hash": hashes[name], "order": i} for i, name in enumerate(todo)]
        workers = max(1, min(len(items) // max(config.batch, 1) + 1, int(ray.cluster_resources().get("CPU", 1))))
        dataset = ray.data.from_items(items, override_num_blocks=workers).map_batches(
            EmbedBatches,
            fn_constructor_args=(files, weights, config, views),  # files: an engine...catalogue_files.ImageFiles
            batch_size=config.batch,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=workers),
            num_cpus=1,
        )
        results = sorted(dataset.take_all(), key=lambda item: (int(item["order"]), int(item["entry"])))
    finally:
        if started:
            ray.shutdown()
    report.failures += [(todo[int(item["order"])], str(item["error"])) for item in results if item["error"]]
    found = [item for item in results if not item["error"]]
    rows = [{**json.loads(str(item["row"])), "id": next_id + i} for i, item in enumerate(found)]
    dim = len(results[0]["vector"])
    vectors = np.stack([item["vector"] for item in found]) if found else np.zeros((0, dim), dtype=np.float32)
    return pd.DataFrame(rows, columns=OBJECT_COLUMNS), vectors.astype(np.float32)


def _init(address: str, attempts: int = 3) -> None:
    """Connect to a cluster ("auto", "ray://host:10001") or start a local one ("local"), retrying start-up timeouts."""
    import ray

    options = {"runtime_env": {"env_vars": {"PYTHONPATH": str(PROJECT_ROOT)}}, "log_to_driver": False}
    if address == "local":
        options["include_dashboard"] = False
    else:
        options["address"] = address
    for attempt in range(1, attempts + 1):
        try:
            ray.init(**options)
            return
        except Exception:  # e.g. "Failed to get node info: Deadline Exceeded" on an overloaded machine
            ray.shutdown()
            if attempt == attempts:
                raise
            time.sleep(2 * attempt)
