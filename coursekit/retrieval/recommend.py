"""Recommendations from embeddings: :func:`most_similar` items and :func:`group_mean` vectors.

The same unit vectors that answer questions also find neighbours: the items closest to one
item (never itself), or one vector per group (a product from its reviews).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from coursekit.retrieval.embeddings import normalize


def most_similar(embeddings: np.ndarray, i: int, k: int = 5) -> np.ndarray:
    """Rows of the ``k`` items most similar to item ``i`` (cosine), best first, never ``i`` itself."""
    emb = normalize(np.asarray(embeddings))
    if not 0 <= i < len(emb):
        raise IndexError(f"item {i} is out of range for {len(emb)} items")
    sims = emb @ emb[i]
    sims[i] = -np.inf
    return np.argsort(-sims, kind="stable")[: min(k, len(emb) - 1)]


def group_mean(embeddings: np.ndarray, groups: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
    """Average the (unit) rows of each group, then renormalise: e.g. one vector per product
    from its reviews. Returns (groups in first-seen order, ``(n_groups, dim)``)."""
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(list(groups)), sort=False)
    sums = np.zeros((len(uniques), embeddings.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, embeddings)
    return list(uniques), normalize(sums)


__all__ = ["group_mean", "most_similar"]
