"""Count baselines: :class:`UnigramLM` and :class:`BigramLM` with add-k smoothing.

They are fitted on id sequences (from :func:`coursekit.lm.data.encode_texts`) and score
exactly the tokens :func:`coursekit.lm.evaluation.perplexity` scores: every token after the
first of each sequence. The perplexity a neural model has to beat.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence


class _CountLM:
    """Shared code of the count models: fit on id sequences, score the protocol's tokens."""

    def __init__(self, vocab_size: int, k: float = 1.0) -> None:
        if vocab_size < 1:
            raise ValueError(f"vocab_size must be positive, got {vocab_size}")
        if k <= 0:
            raise ValueError(f"add-k smoothing needs k > 0 (else unseen tokens get p = 0), got {k}")
        self.vocab_size, self.k = int(vocab_size), float(k)
        self.fitted = False

    def fit(self, sequences: Iterable[Sequence[int]]) -> _CountLM:  # pragma: no cover - abstract
        raise NotImplementedError

    def log_prob(self, prev: int, token: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def mean_nll(self, sequences: Iterable[Sequence[int]]) -> float:
        """Mean negative log-probability of every token after the first of each sequence."""
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call .fit(sequences)")
        total, count = 0.0, 0
        for seq in _as_sequences(sequences):
            for prev, tok in zip(seq, seq[1:], strict=False):
                total -= self.log_prob(prev, tok)
                count += 1
        if count == 0:
            raise ValueError("no token to score: every sequence is shorter than 2")
        return total / count

    def perplexity(self, sequences: Iterable[Sequence[int]]) -> float:
        """``exp(mean_nll)`` over the same tokens :func:`perplexity` scores."""
        return math.exp(self.mean_nll(sequences))


class UnigramLM(_CountLM):
    """``p(w) = (count(w) + k) / (N + k·V)``: ignores the context entirely."""

    def fit(self, sequences: Iterable[Sequence[int]]) -> UnigramLM:
        """Count every predicted token (all but the first of each sequence)."""
        self.counts: Counter[int] = Counter()
        for seq in _as_sequences(sequences):
            self.counts.update(seq[1:])
        self.total = sum(self.counts.values())
        self.fitted = True
        return self

    def log_prob(self, prev: int, token: int) -> float:
        """``log p(token)`` (``prev`` is ignored)."""
        denom = self.total + self.k * self.vocab_size
        return math.log((self.counts.get(token, 0) + self.k) / denom)


class BigramLM(_CountLM):
    """``p(b | a) = (count(a, b) + k) / (count(a) + k·V)``: one token of context."""

    def fit(self, sequences: Iterable[Sequence[int]]) -> BigramLM:
        """Count adjacent pairs and their left tokens."""
        self.pairs: Counter[tuple[int, int]] = Counter()
        self.left: Counter[int] = Counter()
        for seq in _as_sequences(sequences):
            pairs = list(zip(seq, seq[1:], strict=False))
            self.pairs.update(pairs)
            self.left.update(a for a, _ in pairs)
        self.fitted = True
        return self

    def log_prob(self, prev: int, token: int) -> float:
        """``log p(token | prev)``."""
        num = self.pairs.get((prev, token), 0) + self.k
        return math.log(num / (self.left.get(prev, 0) + self.k * self.vocab_size))


def _as_sequences(sequences: Iterable[Sequence[int]]) -> list[list[int]]:
    if isinstance(sequences, str):
        raise TypeError("expected a list of id sequences (e.g. from encode_texts), not a str")
    out = []
    for seq in sequences:
        if isinstance(seq, str):
            raise TypeError("expected id sequences, got a str: encode the texts first")
        out.append([int(t) for t in seq])
    return out


__all__ = ["BigramLM", "UnigramLM"]
