"""Review sentiment: three models side by side, error slices, explanations and aspects.

A shop reads thousands of reviews a week; it needs each one labelled
*negative*, *neutral* or *positive*, and it needs to know **where** the labels
are wrong. Three models, from cheapest to best:

1. :class:`VaderBaseline`: a hand-built lexicon (VADER) gives a compound score
   in [-1, 1]; two thresholds, chosen on validation, cut it into 3 classes.
2. :func:`train_tfidf`: word and character n-grams of the cleaned text
   (``coursekit.text``), TF-IDF weighted, into a logistic regression.
3. :func:`train_classifier`: the pretrained MiniLM encoder fine-tuned for
   3 classes with ``coursekit.train.fit``, on a subset (at most 2,000 reviews
   per label, so the majority *positive* class is cut down) small enough
   to train in one to three minutes on a laptop CPU (bf16 or fp32). :func:`load_classifier`
   returns a :class:`SentimentClassifier` with ``predict`` and ``predict_proba``.

Around them: :func:`slice_masks` (negation, contrast, sarcasm, emoji, typos,
length, category) for error analysis, :func:`occlusion` + :func:`render_html` /
:func:`render_text` for token-level explanations, and
:func:`aspect_sentiment` for per-aspect polarity (sentence and clause
splitting + the classifier).

The default classifier lives in the artifact cache (``sentiment-minilm``), shared
by notebook 06 and ``coursekit sentiment``. Checkpoints are safetensors only.

The code lives in submodules, one per topic; every name is re-exported here, so
``from coursekit import sentiment; sentiment.load_classifier()`` is the way to use them:

* :mod:`~coursekit.sentiment.inputs`: :func:`check_texts`, the input check every model uses;
* :mod:`~coursekit.sentiment.baselines`: VADER (:class:`VaderBaseline`) and TF-IDF + LR;
* :mod:`~coursekit.sentiment.classifier`: the MiniLM fine-tune, :class:`TrainConfig`,
  its cache key (:func:`cache_version`) and :func:`load_classifier`;
* :mod:`~coursekit.sentiment.slices`: error slices and per-slice scores;
* :mod:`~coursekit.sentiment.explain`: occlusion explanations and their rendering;
* :mod:`~coursekit.sentiment.aspects`: clause splitting and per-aspect polarity;
* :mod:`~coursekit.sentiment.analyst`: the analyst's tables (brands, aspects, trends);
* :mod:`~coursekit.sentiment.monitoring`: monthly counts per brand and aspect, the alerting
  rule (:func:`alert_months`, :func:`find_alerts`) and its score on the planted events;
* :mod:`~coursekit.sentiment.fairness`: error rates per group of reviews and their gaps,
  with bootstrap intervals (:func:`group_gaps`).

The label set :data:`LABELS` comes from :mod:`coursekit.schema`.
"""

# Every name of the former single module is re-exported, the ones __all__ leaves out too.
# ruff: noqa: F401

from __future__ import annotations

from coursekit.schema import LABELS
from coursekit.sentiment.analyst import POLARITY_SCORE, aspect_table, brand_table, trend
from coursekit.sentiment.aspects import (
    ASPECT_KEYWORDS,
    _aspect_patterns,
    aspect_sentiment,
    evaluate_aspects,
    find_aspects,
    gold_aspects,
    split_clauses,
)
from coursekit.sentiment.baselines import (
    _VADER,
    VaderBaseline,
    _vader,
    choose_thresholds,
    scores_to_labels,
    train_tfidf,
    vader_scores,
)
from coursekit.sentiment.classifier import (
    META_FILE,
    MODEL_NAME,
    MODEL_VERSION,
    TRAIN_HINT,
    SentimentClassifier,
    TrainConfig,
    _fine_tune,
    balanced_subset,
    build_default_classifier,
    cache_version,
    default_model_path,
    load_classifier,
    train_classifier,
)
from coursekit.sentiment.explain import _WORD, Explanation, occlusion, render_html, render_text
from coursekit.sentiment.fairness import (
    LENGTH_BINS,
    group_gaps,
    is_emoji_only,
    length_groups,
    review_groups,
    route,
)
from coursekit.sentiment.inputs import check_texts
from coursekit.sentiment.monitoring import (
    COUNT_COLUMNS,
    alert_months,
    baseline_z,
    choose_z,
    find_alerts,
    keyword_mentions,
    monthly_counts,
    planted_events,
    review_mentions,
    score_alerts,
    score_months,
)
from coursekit.sentiment.slices import (
    HARD_SLICES,
    LONG_WORDS,
    SHORT_WORDS,
    n_words,
    slice_masks,
    slice_report,
)

__all__ = [
    "ASPECT_KEYWORDS",
    "COUNT_COLUMNS",
    "LENGTH_BINS",
    "alert_months",
    "baseline_z",
    "choose_z",
    "find_alerts",
    "group_gaps",
    "is_emoji_only",
    "keyword_mentions",
    "length_groups",
    "monthly_counts",
    "planted_events",
    "review_groups",
    "review_mentions",
    "route",
    "score_alerts",
    "HARD_SLICES",
    "LABELS",
    "Explanation",
    "SentimentClassifier",
    "TrainConfig",
    "VaderBaseline",
    "aspect_sentiment",
    "aspect_table",
    "balanced_subset",
    "brand_table",
    "build_default_classifier",
    "check_texts",
    "choose_thresholds",
    "default_model_path",
    "evaluate_aspects",
    "find_aspects",
    "gold_aspects",
    "load_classifier",
    "occlusion",
    "render_html",
    "render_text",
    "scores_to_labels",
    "slice_masks",
    "slice_report",
    "split_clauses",
    "train_classifier",
    "train_tfidf",
    "vader_scores",
]
