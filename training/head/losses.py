"""Metric-learning losses for the embedding head, over a P x K batch of unit vectors.

- `batch_hard_triplet`: Hermans et al. 2017; per anchor the farthest positive and the closest negative, with an
  optional smaller margin for negatives of the same family plus a family-level term (hierarchical margins).
- `multi_similarity`: Wang et al. 2019 (MS loss with its pair mining).
- `NormSoftmax`: normalised-softmax / proxy classification (Zhai & Wu 2019): cosine to one learned proxy per
  product, scaled, cross-entropy.
- `feedback_triplet`: plain triplets from curator marks (anchor = query crop, positive = marked similar,
  negative = marked not similar).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def pairwise_distance(emb: torch.Tensor) -> torch.Tensor:
    """(N, D) unit vectors -> (N, N) Euclidean distances (sqrt(2 - 2 cos), clamped for a finite gradient)."""
    return (2.0 - 2.0 * emb @ emb.T).clamp_min(1e-8).sqrt()


def batch_hard_triplet(
    emb: torch.Tensor, labels: torch.Tensor, families: torch.Tensor, margin: float = 0.2, family_margin: float = 0.0
) -> torch.Tensor:
    """Mean over anchors of relu(d(a, hardest p) - min_n (d(a, n) - m(a, n))).

    m is `margin` for negatives of other families and `family_margin` (when > 0) for other products of the same
    family; then a second term asks other-family negatives to be `margin - family_margin` farther than the
    farthest same-family product, so colour variants rank between the product and everything else.
    """
    dist = pairwise_distance(emb)
    same = labels[:, None] == labels[None, :]
    same_family = families[:, None] == families[None, :]
    eye = torch.eye(len(emb), dtype=torch.bool, device=emb.device)
    hardest_pos = dist.masked_fill(~same | eye, 0.0).max(dim=1).values
    margins = torch.full_like(dist, margin)
    if family_margin > 0:
        margins = margins.masked_fill(same_family, family_margin)
    slack = (margins - dist).masked_fill(same, float("-inf")).max(dim=1).values  # max_n m(a, n) - d(a, n)
    loss = F.relu(hardest_pos + slack)
    if family_margin > 0:
        kin = same_family & ~same
        far_kin = dist.masked_fill(~kin, 0.0).max(dim=1).values
        near_other = dist.masked_fill(same_family, float("inf")).min(dim=1).values
        has = kin.any(dim=1) & (~same_family).any(dim=1)
        loss = loss + torch.where(has, F.relu(far_kin - near_other + margin - family_margin), torch.zeros_like(loss))
    return loss[torch.isfinite(loss)].mean()


def multi_similarity(
    emb: torch.Tensor,
    labels: torch.Tensor,
    alpha: float = 2.0,
    beta: float = 50.0,
    base: float = 0.5,
    epsilon: float = 0.1,
) -> torch.Tensor:
    """Multi-similarity loss: pairs mined against each anchor's hardest counterpart, then soft-weighted."""
    sim = emb @ emb.T
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(emb), dtype=torch.bool, device=emb.device)
    pos_mask, neg_mask = same & ~eye, ~same
    min_pos = sim.masked_fill(~pos_mask, float("inf")).min(dim=1, keepdim=True).values
    max_neg = sim.masked_fill(~neg_mask, float("-inf")).max(dim=1, keepdim=True).values
    keep_neg = neg_mask & (sim + epsilon > min_pos)  # negatives harder than the easiest-to-miss positive
    keep_pos = pos_mask & (sim - epsilon < max_neg)  # positives less similar than the hardest negative
    pos_term = torch.log1p((torch.exp(-alpha * (sim - base)) * keep_pos).sum(dim=1)) / alpha
    neg_term = torch.log1p((torch.exp(beta * (sim - base)) * keep_neg).sum(dim=1)) / beta
    return (pos_term + neg_term).mean()


class NormSoftmax(nn.Module):
    """Cross-entropy over scaled cosines to one learned unit proxy per training product."""

    def __init__(self, n_classes: int, dim: int, scale: float = 16.0):
        super().__init__()
        self.proxies = nn.Parameter(torch.randn(n_classes, dim) * 0.01)
        self.scale = scale

    def forward(self, emb: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy of the batch's product classes (indices into the proxies)."""
        logits = self.scale * emb @ F.normalize(self.proxies, dim=1).T
        return F.cross_entropy(logits, classes)


def feedback_triplet(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, margin: float = 0.2):
    """Mean relu(d(a, p) - d(a, n) + margin) over (N, D) unit-vector triplets."""
    d_pos = (anchor - positive).norm(dim=1)
    d_neg = (anchor - negative).norm(dim=1)
    return F.relu(d_pos - d_neg + margin).mean()
