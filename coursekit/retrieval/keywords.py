"""Keyword baselines: :class:`TfidfRetriever` and Okapi :class:`BM25`.

Both see the words of :func:`keyword_tokens` (lowercase, without the very common function
words of :data:`KEYWORD_STOPWORDS`; both live in :mod:`coursekit.text.keywords` and are
re-exported here) and return a ``(n_queries, n_docs)`` score matrix, the
same shape the embedding search is scored on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from coursekit.retrieval.embeddings import _check_texts
from coursekit.text.keywords import _WORD, KEYWORD_STOPWORDS, keyword_tokens  # noqa: F401


class TfidfRetriever:
    """TF-IDF vectors (scikit-learn, sublinear tf, unigrams + bigrams) and cosine scores."""

    def __init__(self, docs: Sequence[str], ngram_range: tuple[int, int] = (1, 2)) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs = _check_texts(docs)
        if not docs:
            raise ValueError("cannot fit TF-IDF on 0 documents")
        self.vectorizer = TfidfVectorizer(
            tokenizer=keyword_tokens,
            token_pattern=None,
            lowercase=False,
            ngram_range=ngram_range,
            sublinear_tf=True,
        )
        self.matrix = self.vectorizer.fit_transform(docs)

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each query to each document, ``(n_queries, n_docs)``."""
        q = self.vectorizer.transform(_check_texts(queries))
        return np.asarray((q @ self.matrix.T).todense(), dtype=np.float32)


class BM25:
    """Okapi BM25, the classic keyword ranking function of search engines.

    For a query q and document d (length |d|, average length avgdl)::

        score(q, d) = sum_{t in q} idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b*|d|/avgdl))
        idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))      (never negative)

    ``k1`` caps how much repeating a word helps; ``b`` penalises long documents.
    """

    def __init__(self, docs: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        docs = _check_texts(docs)
        if not docs:
            raise ValueError("cannot fit BM25 on 0 documents")
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"need k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1, self.b = float(k1), float(b)
        tokens = [keyword_tokens(d) for d in docs]
        self.vocab = {w: i for i, w in enumerate(sorted({w for doc in tokens for w in doc}))}
        n_docs = len(docs)
        self.tf = np.zeros((n_docs, len(self.vocab)), dtype=np.float32)
        for row, doc in enumerate(tokens):
            for word, count in Counter(doc).items():
                self.tf[row, self.vocab[word]] = count
        self.doc_len = np.array([len(d) for d in tokens], dtype=np.float32)
        self.avgdl = float(self.doc_len.mean()) if self.doc_len.sum() > 0 else 1.0
        df = (self.tf > 0).sum(axis=0)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = self.k1 * (1 - self.b + self.b * self.doc_len / self.avgdl)  # (n_docs,)
        self._weights = self.idf * self.tf * (self.k1 + 1) / (self.tf + norm[:, None])

    def score_one(self, query: str) -> np.ndarray:
        """BM25 score of one query against every document, ``(n_docs,)``."""
        cols = [self.vocab[w] for w in keyword_tokens(query) if w in self.vocab]
        return (
            self._weights[:, cols].sum(axis=1) if cols else np.zeros(len(self.doc_len), np.float32)
        )

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """BM25 scores, ``(n_queries, n_docs)`` (a repeated query word counts each time)."""
        return np.stack([self.score_one(q) for q in _check_texts(queries)]).astype(np.float32)


__all__ = ["BM25", "KEYWORD_STOPWORDS", "TfidfRetriever", "keyword_tokens"]
