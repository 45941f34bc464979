"""Scoring a search: the rank of each query's correct entry and :func:`rank_metrics`.

From a ``(n_queries, n_docs)`` score matrix (any retriever's) and the gold column of each
query: top-1 and top-3 accuracy and the mean reciprocal rank (ties count against).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def ranks_of(scores: np.ndarray, gold: Sequence[int]) -> np.ndarray:
    """The 1-based rank of each query's correct document (ties count against it).

    ``scores`` is ``(n_queries, n_docs)``; ``gold[i]`` is the column of query i's answer.
    """
    scores = np.asarray(scores, dtype=np.float64)
    gold = np.asarray(gold, dtype=int)
    if scores.ndim != 2 or scores.shape[0] != gold.shape[0]:
        raise ValueError(f"scores {scores.shape} and gold ({gold.shape[0]},) do not line up")
    if gold.size and (gold.min() < 0 or gold.max() >= scores.shape[1]):
        raise ValueError(f"gold holds a column outside 0..{scores.shape[1] - 1}")
    target = scores[np.arange(len(gold)), gold]
    return (scores >= target[:, None]).sum(axis=1)


def rank_metrics(scores: np.ndarray, gold: Sequence[int]) -> dict[str, float]:
    """Top-1 accuracy, top-3 accuracy and mean reciprocal rank (MRR = mean of 1/rank)."""
    ranks = ranks_of(scores, gold)
    return {
        "top1": float(np.mean(ranks == 1)),
        "top3": float(np.mean(ranks <= 3)),
        "mrr": float(np.mean(1.0 / ranks)),
    }


__all__ = ["rank_metrics", "ranks_of"]
