"""Hybrid search: BM25 through ``bm25s`` fused with embeddings by reciprocal-rank fusion.

Keyword search and embeddings fail on different questions: BM25 finds the entry that shares
the shopper's rare words ("invoice", "PO box") even when the sentence is long and rambling,
embeddings find the one that *means* the same with other words. **Reciprocal-rank fusion**
(RRF, Cormack et al. 2009) adds up, for every entry, one over its rank in each list::

    rrf(d) = sum_lists 1 / (k + rank_list(d))          # k = 60 by convention

so only ranks count: BM25's unbounded scores and cosines in [-1, 1] need no common scale, and
an entry near the top of both lists beats one at the top of only one. :func:`ranks_from_scores`
turns any ``(queries, docs)`` score matrix into ranks, :func:`reciprocal_rank_fusion` fuses
several, :class:`KeywordIndex` is the ``bm25s`` index over the course's keyword tokens.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from coursekit.retrieval.embeddings import _check_texts
from coursekit.retrieval.keywords import keyword_tokens

#: the usual RRF constant: large enough that rank 1 and rank 2 differ only a little
RRF_K = 60


def ranks_from_scores(scores: np.ndarray) -> np.ndarray:
    """1-based rank of every document for every query (best = 1; ties keep column order)."""
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] == 0:
        raise ValueError(f"scores should be a (queries, docs) matrix, got shape {scores.shape}")
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, scores.shape[1] + 1)[None, :], axis=1)
    return ranks


def reciprocal_rank_fusion(
    score_matrices: Sequence[np.ndarray], k: int = RRF_K, weights: Sequence[float] | None = None
) -> np.ndarray:
    """Fuse several ``(queries, docs)`` score matrices: ``sum_i w_i / (k + rank_i)``.

    Only each list's ranks are used, so the matrices may be on any scales. Returns a
    ``(queries, docs)`` matrix of fused scores (higher is better).
    """
    if isinstance(score_matrices, np.ndarray) and score_matrices.ndim == 2:
        raise TypeError("give a list of score matrices (one per retriever), not one matrix")
    mats = [np.asarray(m, dtype=np.float64) for m in score_matrices]
    if not mats:
        raise ValueError("nothing to fuse; give at least one score matrix")
    if any(m.shape != mats[0].shape for m in mats):
        raise ValueError(
            f"score matrices differ in shape: {[m.shape for m in mats]}; "
            "score the same queries against the same documents"
        )
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    weights = [1.0] * len(mats) if weights is None else [float(w) for w in weights]
    if len(weights) != len(mats):
        raise ValueError(f"{len(weights)} weights for {len(mats)} score matrices")
    return sum(w / (k + ranks_from_scores(m)) for w, m in zip(weights, mats, strict=True))


class KeywordIndex:
    """Okapi BM25 through the ``bm25s`` library, on :func:`keyword_tokens` (same as :class:`BM25`).

    ``scores(queries)`` is a dense ``(queries, docs)`` matrix, like every retriever here. The
    library scores the Lucene way, without the constant factor ``k1 + 1`` of the textbook
    formula: the scores are :class:`BM25`'s divided by ``k1 + 1``, the ranking is the same.
    """

    def __init__(self, docs: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        import bm25s

        docs = _check_texts(docs)
        if not docs:
            raise ValueError("cannot index 0 documents; give at least one text")
        tokens = [keyword_tokens(d) or ["<empty>"] for d in docs]
        self.vocab = {w: i for i, w in enumerate(sorted({w for t in tokens for w in t}))}
        ids = [[self.vocab[w] for w in t] for t in tokens]
        self.n_docs = len(docs)
        self.bm25 = bm25s.BM25(k1=k1, b=b)
        self.bm25.index(
            bm25s.tokenization.Tokenized(ids=ids, vocab=self.vocab), show_progress=False
        )

    def scores(self, queries: Sequence[str] | str) -> np.ndarray:
        """BM25 score of every query against every document, ``(queries, docs)`` float32."""
        queries = _check_texts(queries)
        out = np.zeros((len(queries), self.n_docs), dtype=np.float32)
        for i, query in enumerate(queries):
            ids = [self.vocab[w] for w in keyword_tokens(query) if w in self.vocab]
            if ids:
                out[i] = self.bm25.get_scores(ids)
        return out


__all__ = ["RRF_K", "KeywordIndex", "ranks_from_scores", "reciprocal_rank_fusion"]
