"""A learned projection head on top of a frozen base embedding (e.g. `effnet-crop`): base vector -> unit vector.

The head is a small MLP with a linear shortcut, trained by `scripts/train_head.py` with metric-learning losses so
that distance means "the same product, or one a shopper would accept in its place". It is part of the
`EmbeddingConfig` (`head` path + `head_sha256`): `engine.embedding.registry.make_embedder` wraps the base
embedder with it, and an index built with one head refuses to be searched with another (or none).

Checkpoint (a `torch.save` dict, loaded with `weights_only=True`)::

    {"format": 1, "state_dict": ..., "arch": {"in_dim", "hidden", "out_dim"},
     "base": {"name", "crop_size", "network"}, "trained": {...free-form facts: loss, steps, data, seconds}}

`base.network` names the crop network whose features the head was trained on (`engine.pretrained`); a head saved
before it was recorded was trained on `LEGACY_NETWORK` features (ImageNet mean/std input).

Format 2 adds `"tail": {"start", "state_dict"}`: the fine-tuned last stages of the base network
(`engine.embedding.tail`), so one file holds the whole learned part of the model.

Format 3 adds `"blend": {"base_share", "base", "head"}` (`engine.embedding.domains.Blend`): the output is the
head's vector beside the base vector, each centred on the mean of its side (catalogue or room), so `apply` takes
the side of the photo the vectors come from.
"""

from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.embedding.base import embed_many, resolve_head_path, split_rows
from engine.embedding.domains import CATALOGUE, Blend, photo_domain
from engine.embedding.tail import load_tail
from engine.files import atomic_writer, file_sha256
from engine.index.manifest import IndexMismatchError
from engine.pretrained import LEGACY_NETWORK

HEAD_FORMAT = 1
TAIL_FORMAT = 2  # a head that carries a fine-tuned backbone tail
BLEND_FORMAT = 3  # a head whose output is blended with its centred base vector (engine.embedding.domains.Blend)
DEFAULT_HIDDEN = 1024
DEFAULT_OUT = 256


class HeadError(IndexMismatchError):
    """A head checkpoint that is missing, corrupt, changed since it was recorded, or made for another base."""


class ProjectionHead(nn.Module):
    """(N, in_dim) base vectors -> (N, out_dim) unit vectors: L2(linear(x) + MLP(x))."""

    def __init__(self, in_dim: int, hidden: int = DEFAULT_HIDDEN, out_dim: int = DEFAULT_OUT, dropout: float = 0.1):
        super().__init__()
        self.arch = {"in_dim": in_dim, "hidden": hidden, "out_dim": out_dim}
        self.shortcut = nn.Linear(in_dim, out_dim, bias=False)
        self.mlp = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(in_dim, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, out_dim)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Project and L2-normalise."""
        return F.normalize(self.shortcut(x) + self.mlp(x), dim=1)


def cpu_state(module: nn.Module) -> dict:
    """A module's state dict, detached, on the CPU."""
    return {k: v.detach().cpu() for k, v in module.state_dict().items()}


def save_head(
    head: ProjectionHead,
    path: str | Path,
    base: dict,
    trained: dict[str, Any] | None = None,
    tail=None,
    blend: Blend | None = None,
) -> str:
    """Write a head checkpoint; `base` names the embedding it sits on ({"name", "crop_size"}). Returns its sha256.

    With `tail` (an `engine.embedding.tail.EffnetTail`), the fine-tuned stages are saved with it (format 2); with
    `blend`, the output is blended with the centred base vector (format 3).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": BLEND_FORMAT if blend else HEAD_FORMAT if tail is None else TAIL_FORMAT,
        "state_dict": cpu_state(head),
        "arch": head.arch,
        "base": base,
        "trained": trained or {},
    }
    if tail is not None:
        payload["tail"] = {"start": tail.start, "state_dict": cpu_state(tail)}
    if blend is not None:
        payload["blend"] = blend.to_payload()
    with atomic_writer(path) as out:
        torch.save(payload, out)
    return file_sha256(path)


@dataclass
class Head:
    """A loaded, verified head in eval mode; `apply` maps numpy base vectors to head vectors."""

    module: ProjectionHead
    path: Path
    sha256: str
    base: dict
    trained: dict
    tail: Any = None  # engine.embedding.tail.EffnetTail: fine-tuned last stages of the base network, or None
    blend: Blend | None = None  # the output joined with the centred base vector (format 3), or None

    @property
    def dim(self) -> int:
        """Output dimension: the head's, plus the base vector's when blended."""
        arch = self.module.arch
        return int(arch["out_dim"]) + (int(arch["in_dim"]) if self.blend else 0)

    @torch.inference_mode()
    def apply(self, vectors: np.ndarray, domain: str = CATALOGUE) -> np.ndarray:
        """(N, in_dim) base vectors of photos of one side (`engine.embedding.domains`) -> (N, dim) unit vectors.

        `domain` matters only for a blended head: index entries are CATALOGUE, a room photo's boxes ROOM.
        """
        x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32)).reshape(-1, self.module.arch["in_dim"])
        projected = self.module(x).numpy().astype(np.float32)  # (N, out_dim)
        return self.blend.join(x.numpy(), projected, domain) if self.blend else projected

    def apply_by_domain(self, vectors: np.ndarray, domains: list[str]) -> np.ndarray:
        """(N, in_dim) base vectors, each of its row's side -> (N, dim): `apply` once per side."""
        out, sides = np.zeros((len(vectors), self.dim), dtype=np.float32), np.asarray(domains)
        for domain in set(domains):
            rows = np.flatnonzero(sides == domain)
            out[rows] = self.apply(vectors[rows], domain)
        return out


def head_network(base: dict) -> str:
    """The crop network a head's base vectors come from (heads saved before it was recorded: the legacy one)."""
    return str(base.get("network", LEGACY_NETWORK))


def fits(base: dict, config) -> bool:
    """Whether a head's recorded base is `config`'s method (and crop network and crop side, for methods that run
    one)."""
    from engine.embedding.base import CROP_NETWORK_METHODS

    crops = config.name in CROP_NETWORK_METHODS
    same_network = not crops or head_network(base) == config.network
    same_side = not crops or int(base.get("crop_size", config.crop_size)) == config.crop_size
    return base.get("name") == config.name and same_network and same_side


def check_head_base(head: Head, config) -> None:
    """Raise `HeadError` unless the head was trained on `config`'s method and crop network (an EmbeddingConfig)."""
    if not fits(head.base, config):
        raise HeadError(
            f"Embedding head '{head.path}' was trained on {head.base.get('name')} features of "
            f"{head_network(head.base)} at {head.base.get('crop_size')} px, not {config.name} features of "
            f"{config.network} at {config.crop_size} px: retrain or drop the head."
        )


def head_fits(path: str | Path, config) -> bool:
    """Whether the head file at `path` was trained on `config`'s method and crop network."""
    return fits(load_head(path).base, config)


def default_head_for(config) -> str | None:
    """The default head (`engine.settings.default_head`) when it was trained on `config`'s features, else None."""
    from engine.settings import default_head

    head = default_head()
    return head if head and head_fits(head, config) else None


def load_head(path: str | Path, expected_sha256: str = "", base_name: str = "") -> Head:
    """Load and verify a head checkpoint.

    Raises `HeadError` when the file is missing or unreadable, when its sha256 differs from `expected_sha256`
    (the head recorded in an index manifest was retrained or replaced since), or when it was trained on
    another base embedding than `base_name`.
    """
    resolved = resolve_head_path(path)
    stamp = (resolved.stat().st_mtime_ns, resolved.stat().st_size) if resolved.is_file() else None
    return _load_head(str(resolved), expected_sha256, base_name, stamp)


@functools.lru_cache(maxsize=8)
def _load_head(path: str, expected_sha256: str, base_name: str, stamp: tuple | None) -> Head:
    """Cached by (path, sha256, base, file stamp): a process loads each head once, and again if it was rewritten."""
    if not Path(path).is_file():
        raise HeadError(f"Embedding head '{path}' not found. Train one with scripts/train_head.py.")
    sha = file_sha256(path)
    if expected_sha256 and sha != expected_sha256:
        raise HeadError(
            f"Embedding head '{path}' has sha256 {sha[:12]}…, but {expected_sha256[:12]}… was recorded: it was "
            "retrained or replaced. Re-embed the index with this head (scripts/reembed_index.py) or restore it."
        )
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        module = ProjectionHead(**payload["arch"])
        module.load_state_dict(payload["state_dict"])
        network = head_network(payload["base"])
        tail = (
            load_tail(int(payload["tail"]["start"]), payload["tail"]["state_dict"], network)
            if "tail" in payload
            else None
        )
    except (OSError, RuntimeError, KeyError, TypeError, ValueError, EOFError, pickle.UnpicklingError) as err:
        raise HeadError(f"Embedding head '{path}' cannot be loaded: {err}") from err  # weights_only refuses code
    if base_name and payload["base"].get("name") != base_name:
        raise HeadError(f"Embedding head '{path}' was trained on '{payload['base'].get('name')}', not '{base_name}'.")
    blend = Blend.from_payload(payload["blend"]) if "blend" in payload else None
    return Head(module.eval(), Path(path), sha, dict(payload["base"]), dict(payload.get("trained", {})), tail, blend)


@dataclass
class HeadEmbedder:
    """The base embedder followed by the head: boxes -> base vectors -> head vectors."""

    config: Any  # engine.embedding.base.EmbeddingConfig (with head and head_sha256 set)
    base: Any  # engine.embedding.base.Embedder
    head: Head
    queries: bool = False  # embeds shoppers' photos: each on its own side (photo_domain), else the catalogue side

    @property
    def dim(self) -> int:
        """The head's output width."""
        return self.head.dim

    def domain(self, image) -> str:
        """The side a photo's vectors are put on: its own for a query photo, the catalogue's for an index entry."""
        return photo_domain(image) if self.queries and self.head.blend else CATALOGUE

    def embed(self, analysis, boxes: np.ndarray) -> np.ndarray:
        """(N, 4) source-pixel boxes -> (N, head dim) float32 unit vectors."""
        return self.head.apply(self.base.embed(analysis, boxes), self.domain(analysis.image))

    def embed_crops(self, images: list, boxes: list) -> np.ndarray:
        """One box per photo through a crop-based base (`embed_crops`), then the head: (N, head dim)."""
        return self.head.apply_by_domain(self.base.embed_crops(images, boxes), [self.domain(i) for i in images])

    def embed_many(self, analyses: list, boxes: list[np.ndarray]) -> list[np.ndarray]:
        """Per image (N_i, head dim) vectors: the base embeds across images, the head runs once per side."""
        base = embed_many(self.base, analyses, boxes)
        if not base:
            return []
        domains = [side for a, b in zip(analyses, base) for side in [self.domain(a.image)] * len(b)]  # once a photo
        return split_rows(self.head.apply_by_domain(np.concatenate(base), domains), [len(b) for b in base])
