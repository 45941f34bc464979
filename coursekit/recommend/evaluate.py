"""Offline ranking metrics: hit rate@k and NDCG@k, per shopper and with bootstrap intervals.

For one shopper with ranked recommendations ``r_1, r_2, ...`` and a set of relevant items:

* **hit@k** is 1 if any of the first ``k`` is relevant;
* **DCG@k** = ``Σ_{i ≤ k, r_i relevant} 1 / log2(i + 1)``; **NDCG@k** divides it by the best
  possible DCG (all relevant items first), so it lies in [0, 1] and rewards a hit at rank 1
  more than at rank 10. With one held-out purchase, NDCG@k = ``1 / log2(rank + 1)``.

A shopper with no relevant item scores 0 (nothing can be found). The average over shoppers
gets a percentile-bootstrap interval (:func:`mean_interval`, resampling shoppers, the
:class:`coursekit.metrics.Interval` of the other notebooks).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from coursekit.metrics import Interval


def top_k(scores: np.ndarray, k: int = 10) -> np.ndarray:
    """Column indices of each row's ``k`` highest scores, best first (ties: lower index first)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f"scores must be 2-D (shoppers × items), got shape {scores.shape}")
    if k < 1:
        raise ValueError(f"k must be 1 or more, got {k}")
    return np.argsort(-scores, axis=1, kind="stable")[:, : min(k, scores.shape[1])]


def hit_at_k(ranked: Sequence[Any], relevant: Collection[Any], k: int = 10) -> float:
    """1.0 if any of the first ``k`` of ``ranked`` is in ``relevant``, else 0.0."""
    return float(any(r in relevant for r in list(ranked)[:k]))


def ndcg_at_k(ranked: Sequence[Any], relevant: Collection[Any], k: int = 10) -> float:
    """NDCG@k with binary relevance (see the module docstring); 0.0 when nothing is relevant.
    A repeated item counts once, at its first rank."""
    if k < 1:
        raise ValueError(f"k must be 1 or more, got {k}")
    relevant = set(relevant)
    if not relevant:
        return 0.0
    seen: set[Any] = set()
    dcg = 0.0
    for i, r in enumerate(list(ranked)[:k], start=1):
        if r in relevant and r not in seen:
            dcg += 1.0 / math.log2(i + 1)
        seen.add(r)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(relevant)) + 1))
    return dcg / ideal


def mean_interval(values: Sequence[float], n_boot: int = 1000, seed: int = 0) -> Interval:
    """The mean of per-shopper ``values`` with a 95% percentile-bootstrap interval."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or len(v) == 0:
        raise ValueError("values must be a non-empty 1-D list of per-shopper scores")
    idx = np.random.default_rng(seed).integers(0, len(v), size=(n_boot, len(v)))
    low, high = np.quantile(v[idx].mean(axis=1), [0.025, 0.975])
    return Interval(float(v.mean()), float(low), float(high))


def rank_metrics(
    scores: np.ndarray,
    relevant: Sequence[Collection[int]],
    k: int = 10,
) -> dict[str, np.ndarray]:
    """Per-shopper ``hit`` and ``ndcg`` at ``k``: row ``u`` of ``scores`` against the set of
    relevant column indices ``relevant[u]``."""
    ranked = top_k(scores, k)
    if len(relevant) != len(ranked):
        raise ValueError(f"{len(relevant)} relevant sets for {len(ranked)} rows of scores")
    hits = np.array([hit_at_k(r, rel, k) for r, rel in zip(ranked, relevant, strict=True)])
    ndcg = np.array([ndcg_at_k(r, rel, k) for r, rel in zip(ranked, relevant, strict=True)])
    return {"hit": hits, "ndcg": ndcg}


def summarise(per_shopper: dict[str, np.ndarray], seed: int = 0) -> dict[str, Interval]:
    """``{"hit": Interval, "ndcg": Interval}`` from :func:`rank_metrics`' output."""
    return {name: mean_interval(v, seed=seed) for name, v in per_shopper.items()}


__all__ = ["hit_at_k", "mean_interval", "ndcg_at_k", "rank_metrics", "summarise", "top_k"]
