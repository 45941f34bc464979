"""Fairness across groups of reviews: each group's error rate with a bootstrap interval,
its gap to the other reviews with an interval, and the groups the notebook looks at.

A *disparity* is a gap in error rate between one group of reviews (very short ones, one
category, reviews written by people ...) and the rest. With a few dozen reviews in a group a
gap of ten points can be luck, so every gap comes with a percentile bootstrap interval: the
group and the rest are resampled independently (they are different reviews), ``n_boot`` times.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from coursekit.sentiment.slices import n_words

#: word-count bins of :func:`length_groups`: (name, fewest words, most words)
LENGTH_BINS: tuple[tuple[str, int, int], ...] = (
    ("1-8 words", 1, 8),
    ("9-25 words", 9, 25),
    ("26-59 words", 26, 59),
    ("60+ words", 60, 10**9),
)

_LETTER = re.compile(r"[^\W\d_]")


def is_emoji_only(text: str) -> bool:
    """True when ``text`` has no letter or digit at all (emoji, punctuation, spaces)."""
    return bool(text.strip()) and not _LETTER.search(text) and not re.search(r"\d", text)


def length_groups(texts: Sequence[str]) -> dict[str, np.ndarray]:
    """One mask per :data:`LENGTH_BINS` bin of whitespace word counts."""
    words = n_words(texts)
    return {name: (words >= lo) & (words <= hi) for name, lo, hi in LENGTH_BINS}


def review_groups(reviews: pd.DataFrame) -> dict[str, np.ndarray]:
    """The groups notebook 06 checks: length, voice, typos, emoji, category.

    ``voice=plain`` are the plain-voice reviews (the corpus's ``plain`` tag), ``voice=template``
    the others; ``typo`` the misspelled ones (the nearest the corpus has to non-native phrasing);
    ``emoji`` reviews with an emoji; ``category=...`` one group per category.
    """
    if "text" not in reviews or "phenomena" not in reviews:
        raise ValueError("reviews need 'text' and 'phenomena' columns (use data.load_reviews())")
    texts = reviews["text"].tolist()
    tags = reviews["phenomena"].map(lambda xs: set(xs) if xs is not None else set())
    has = {t: tags.map(lambda s, t=t: t in s).to_numpy(dtype=bool) for t in ("plain", "typo")}
    groups = length_groups(texts)
    groups["voice=plain"] = has["plain"]
    groups["voice=template"] = ~has["plain"]
    groups["typo"] = has["typo"]
    groups["emoji"] = tags.map(lambda s: "emoji" in s).to_numpy(dtype=bool)
    if "category" in reviews:
        for cat in sorted(reviews["category"].unique()):
            groups[f"category={cat}"] = (reviews["category"] == cat).to_numpy()
    return groups


def _errors(y_true: Any, y_pred: Any) -> np.ndarray:
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(
            f"y_true and y_pred must be two lists of the same length, got {t.shape} and {p.shape}"
        )
    return (t != p).astype(float)


def _resampled_means(values: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    idx = rng.integers(0, len(values), size=(n_boot, len(values)))
    return values[idx].mean(axis=1)


def group_gaps(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    groups: dict[str, Any],
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    min_size: int = 10,
) -> pd.DataFrame:
    """Per group: its size, error rate with an interval, and its gap to the other reviews.

    ``groups`` maps a name to a boolean mask over the reviews. ``gap`` is the group's error
    rate minus the rest's, ``gap_low``/``gap_high`` its percentile bootstrap interval (group
    and rest resampled independently); ``clear`` says the interval excludes 0. Groups with
    fewer than ``min_size`` reviews (or no rest) are left out: their rate is mostly noise.
    Sorted by gap, largest first.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if n_boot < 10:
        raise ValueError(f"n_boot={n_boot} is too few resamples; use 1000 or more")
    errors = _errors(y_true, y_pred)
    rng = np.random.default_rng(seed)
    alpha = (1 - level) / 2
    rows = []
    for name, mask in groups.items():
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != errors.shape:
            raise ValueError(f"group {name!r} has {mask.size} flags for {errors.size} reviews")
        inside, rest = errors[mask], errors[~mask]
        if len(inside) < min_size or len(rest) == 0:
            continue
        boot_in = _resampled_means(inside, n_boot, rng)
        boot_gap = boot_in - _resampled_means(rest, n_boot, rng)
        low, high = np.quantile(boot_in, [alpha, 1 - alpha])
        gap_low, gap_high = np.quantile(boot_gap, [alpha, 1 - alpha])
        rows.append(
            {
                "group": name,
                "n": int(mask.sum()),
                "error": float(inside.mean()),
                "error_low": float(low),
                "error_high": float(high),
                "gap": float(inside.mean() - rest.mean()),
                "gap_low": float(gap_low),
                "gap_high": float(gap_high),
                "clear": bool(gap_low > 0 or gap_high < 0),
            }
        )
    columns = ["n", "error", "error_low", "error_high", "gap", "gap_low", "gap_high", "clear"]
    if not rows:
        return pd.DataFrame(columns=columns).rename_axis("group")
    return pd.DataFrame(rows).set_index("group").sort_values("gap", ascending=False)


def route(
    primary: Sequence[str], fallback: Sequence[str], use_fallback: Sequence[bool]
) -> list[str]:
    """``fallback``'s label where ``use_fallback`` is True, ``primary``'s elsewhere."""
    p, f, m = np.asarray(primary), np.asarray(fallback), np.asarray(use_fallback, dtype=bool)
    if not (p.shape == f.shape == m.shape):
        raise ValueError(
            f"three lists of the same length expected, got {p.size}, {f.size}, {m.size}"
        )
    return np.where(m, f, p).tolist()


__all__ = [
    "LENGTH_BINS",
    "group_gaps",
    "is_emoji_only",
    "length_groups",
    "review_groups",
    "route",
]
