"""Which side of the studio-to-room gap a photo is on, and each side's mean vector taken off before comparing.

A catalogue is photographed on white; shoppers photograph rooms. Every crop-network vector carries a large
component shared by all photos of its kind, and the two kinds' components differ, so a room crop sits closer to
other room crops than to its own product's studio shot. Centring each side on its own mean (measured on crops of
that kind: product shots of the demo catalogues, detector proposals in training room photos) takes that off:
`docs/BENCHMARKS.md`, "Every embedding choice". An index is the catalogue side; a query is the room side
unless the query photo is itself a product shot (one product on white).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

CATALOGUE = "catalogue"  # product shots, and every index entry
ROOM = "room"  # photos of products in use: shoppers' room photos
DOMAINS = (CATALOGUE, ROOM)


def photo_domain(image: Image.Image | None) -> str:
    """CATALOGUE for a product shot on white, else ROOM (no photo: ROOM, as for any query)."""
    from engine.search.query import is_product_shot  # engine.search imports the embedders: import on use

    return CATALOGUE if image is not None and is_product_shot(image) else ROOM


def centred(vectors: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """(N, D) vectors minus a (D,) centre, L2-normalised: (N, D) float32."""
    shifted = np.asarray(vectors, np.float32).reshape(-1, centre.shape[0]) - centre
    return (shifted / np.maximum(np.linalg.norm(shifted, axis=1, keepdims=True), 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class Blend:
    """A head's vector beside its base vector, each centred on its side's mean: for two vectors of this kind the
    cosine is `base_share` x cos(base parts) + (1 - `base_share`) x cos(head parts).

    The base part keeps what the pretrained network sees in real rooms, which a head trained on product shots
    and synthetic scenes loses; the head part keeps what that training taught. Saved in the head's checkpoint.
    """

    base_share: float
    base_centres: dict[str, np.ndarray]  # domain -> (in_dim,) mean base vector of that side
    head_centres: dict[str, np.ndarray]  # domain -> (out_dim,) mean head vector of that side

    def join(self, base: np.ndarray, projected: np.ndarray, domain: str) -> np.ndarray:
        """(N, in_dim) base and (N, out_dim) head vectors of one side -> (N, in_dim + out_dim) unit vectors."""
        share = float(self.base_share)
        return np.concatenate(
            [
                np.sqrt(share) * centred(base, self.base_centres[domain]),
                np.sqrt(1.0 - share) * centred(projected, self.head_centres[domain]),
            ],
            axis=1,
        ).astype(np.float32)

    def to_payload(self) -> dict:
        """Tensors and numbers for `torch.save` (loadable with `weights_only=True`)."""
        return {
            "base_share": float(self.base_share),
            "base": {d: torch.from_numpy(np.asarray(self.base_centres[d], np.float32)) for d in DOMAINS},
            "head": {d: torch.from_numpy(np.asarray(self.head_centres[d], np.float32)) for d in DOMAINS},
        }

    @classmethod
    def from_payload(cls, payload: dict) -> Blend:
        """Inverse of `to_payload`; KeyError for a payload missing a side."""
        base, head = (
            {d: side[d].numpy().astype(np.float32) for d in DOMAINS} for side in (payload["base"], payload["head"])
        )
        return cls(float(payload["base_share"]), base, head)
