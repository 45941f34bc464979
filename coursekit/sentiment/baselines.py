"""The two baselines: VADER's lexicon score cut at two thresholds, and TF-IDF + LR.

1. :class:`VaderBaseline`: a hand-built lexicon (VADER) gives a compound score
   in [-1, 1]; two thresholds, chosen on validation, cut it into 3 classes.
2. :func:`train_tfidf`: word and character n-grams of the cleaned text
   (``coursekit.text``), TF-IDF weighted, into a logistic regression.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coursekit.schema import LABELS
from coursekit.sentiment.inputs import check_texts

# --------------------------------------------------------------------------- 1. VADER


def vader_scores(texts: str | Iterable[str]) -> np.ndarray:
    """VADER's compound score in [-1, 1] for each text (rule-based, no training)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = _vader()
    assert isinstance(analyzer, SentimentIntensityAnalyzer)
    return np.array([analyzer.polarity_scores(t)["compound"] for t in check_texts(texts)])


_VADER: list[Any] = []


def _vader() -> Any:
    if not _VADER:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _VADER.append(SentimentIntensityAnalyzer())
    return _VADER[0]


def scores_to_labels(scores: Sequence[float], low: float, high: float) -> list[str]:
    """Cut scores into classes: ``< low`` negative, ``> high`` positive, else neutral."""
    if low > high:
        raise ValueError(f"low threshold {low} is above high threshold {high}")
    s = np.asarray(scores, dtype=float)
    codes = np.where(s < low, 0, np.where(s > high, 2, 1))
    return [LABELS[c] for c in codes]


def choose_thresholds(
    scores: Sequence[float],
    labels: Sequence[str],
    grid: Sequence[float] | None = None,
) -> tuple[float, float]:
    """The ``(low, high)`` pair on ``grid`` that maximises macro-F1 of :func:`scores_to_labels`.

    Use validation scores: thresholds picked on test would flatter the baseline.
    Ties go to the first pair found (lowest ``low``, then lowest ``high``).
    """
    from coursekit.metrics import macro_f1

    s = np.asarray(scores, dtype=float)
    y = list(labels)
    if len(s) != len(y):
        raise ValueError(f"{len(s)} scores but {len(y)} labels")
    grid = np.round(np.arange(-0.95, 0.951, 0.05), 2) if grid is None else np.asarray(grid)
    best, best_pair = -1.0, (float(grid[0]), float(grid[0]))
    for lo in grid:
        for hi in grid[grid >= lo]:
            f1 = macro_f1(y, scores_to_labels(s, lo, hi), LABELS)
            if f1 > best + 1e-12:
                best, best_pair = f1, (float(lo), float(hi))
    return best_pair


@dataclass
class VaderBaseline:
    """VADER's compound score cut into 3 classes at two thresholds."""

    low: float = -0.05
    high: float = 0.05

    def fit(self, texts: Iterable[str], labels: Sequence[str]) -> VaderBaseline:
        """Choose the thresholds that maximise macro-F1 on these (validation) texts."""
        self.low, self.high = choose_thresholds(vader_scores(texts), labels)
        return self

    def predict(self, texts: str | Iterable[str]) -> list[str]:
        """Labels for ``texts``."""
        return scores_to_labels(vader_scores(texts), self.low, self.high)


# --------------------------------------------------------------------------- 2. TF-IDF


def train_tfidf(
    texts: Iterable[str],
    labels: Sequence[str],
    *,
    C: float = 4.0,
    cleaner: Callable[[str], Any] | None = None,
    char_ngrams: tuple[int, int] = (2, 5),
    word_ngrams: tuple[int, int] = (1, 2),
    min_df: int = 2,
) -> Any:
    """Fit word + character n-gram TF-IDF features and a logistic regression.

    Words come from ``cleaner`` (default: ``coursekit.text.make_cleaner`` with
    negations kept and marked, so "not good" yields ``not_good``); character
    n-grams of the lower-cased raw text catch typos ("grate" ~ "great") and
    emoji. Returns a fitted scikit-learn ``Pipeline`` with ``predict`` and
    ``predict_proba``.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    texts = check_texts(texts)
    if cleaner is None:
        from coursekit.text import make_cleaner

        cleaner = make_cleaner(negation_scope=True, stopwords=False)
    words = TfidfVectorizer(
        preprocessor=cleaner,
        tokenizer=str.split,
        token_pattern=None,
        lowercase=False,
        ngram_range=word_ngrams,
        min_df=min_df,
        sublinear_tf=True,
    )
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=char_ngrams, min_df=min_df, sublinear_tf=True
    )
    model = Pipeline(
        [
            ("features", FeatureUnion([("words", words), ("chars", chars)])),
            ("clf", LogisticRegression(C=C, max_iter=2000)),
        ]
    )
    return model.fit(texts, list(labels))


__all__ = [
    "VaderBaseline",
    "choose_thresholds",
    "scores_to_labels",
    "train_tfidf",
    "vader_scores",
]
