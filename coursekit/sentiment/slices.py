"""Error slices: boolean masks over the reviews (negation, contrast, sarcasm, emoji, typos,
length, category) and each model's score on every slice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from coursekit.schema import LABELS

# --------------------------------------------------------------------------- error slices

HARD_SLICES: tuple[str, ...] = ("negation", "contrast", "sarcasm")
SHORT_WORDS = 8
LONG_WORDS = 60


def n_words(texts: Iterable[str]) -> np.ndarray:
    """Whitespace word count of each text."""
    return np.array([len(t.split()) for t in texts])


def slice_masks(
    reviews: pd.DataFrame,
    phenomena: Sequence[str] = ("negation", "contrast", "sarcasm", "emoji", "typo"),
    short_words: int = SHORT_WORDS,
    long_words: int = LONG_WORDS,
    by_category: bool = True,
) -> dict[str, np.ndarray]:
    """Boolean masks over ``reviews`` rows, one per slice, ``"all"`` first.

    Phenomenon slices come from the corpus's ``phenomena`` tags; ``short``
    (``<= short_words`` words) and ``long`` (``>= long_words``) from the text;
    ``category=...`` slices when ``by_category``.
    """
    tags = reviews["phenomena"].map(lambda xs: set(xs) if isinstance(xs, Iterable) else set())
    words = n_words(reviews["text"])
    masks: dict[str, np.ndarray] = {"all": np.ones(len(reviews), dtype=bool)}
    for tag in phenomena:
        masks[tag] = tags.map(lambda s, tag=tag: tag in s).to_numpy(dtype=bool)
    masks[f"short (<= {short_words} words)"] = words <= short_words
    masks[f"long (>= {long_words} words)"] = words >= long_words
    if by_category and "category" in reviews:
        for cat in sorted(reviews["category"].unique()):
            masks[f"category={cat}"] = (reviews["category"] == cat).to_numpy()
    return masks


def slice_report(
    y_true: Sequence[str],
    predictions: dict[str, Sequence[str]],
    masks: dict[str, np.ndarray],
    metric: str = "macro_f1",
    min_size: int = 1,
) -> pd.DataFrame:
    """One row per slice: its size and each model's ``metric`` on it (``macro_f1`` or ``accuracy``)."""
    from coursekit import metrics

    fn = {"macro_f1": lambda t, p: metrics.macro_f1(t, p, LABELS), "accuracy": metrics.accuracy}
    if metric not in fn:
        raise ValueError(f"metric must be 'macro_f1' or 'accuracy', got {metric!r}")
    y = np.asarray(y_true)
    rows = []
    for name, mask in masks.items():
        mask = np.asarray(mask, dtype=bool)
        if mask.sum() < min_size:
            continue
        row: dict[str, Any] = {"slice": name, "n": int(mask.sum())}
        for model, pred in predictions.items():
            row[model] = fn[metric](y[mask], np.asarray(pred)[mask])
        rows.append(row)
    return pd.DataFrame(rows).set_index("slice")


__all__ = ["HARD_SLICES", "LONG_WORDS", "SHORT_WORDS", "n_words", "slice_masks", "slice_report"]
