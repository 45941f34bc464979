"""Checks for notebook 06 (sentiment): macro-F1 by hand, thresholds, ECE, the worst slice."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from coursekit.checks import (
    CheckFailed,
    call,
    exercise,
    expect,
    expect_type,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
)
from coursekit.schema import LABELS

#: (y_true, y_pred) pairs for exercise 06.1, chosen so accuracy, micro-, weighted-
#: and macro-F1 all differ, one with a class that is never predicted
F1_CASES: list[tuple[list[str], list[str]]] = [
    (
        ["negative", "negative", "neutral", "positive", "positive", "positive", "positive"],
        ["negative", "positive", "neutral", "positive", "neutral", "neutral", "positive"],
    ),
    (
        ["negative", "neutral", "neutral", "positive", "positive", "positive"],
        ["negative", "positive", "positive", "positive", "positive", "negative"],
    ),
    (
        ["positive"] * 8 + ["negative"] * 2 + ["neutral"] * 2,
        ["positive"] * 7 + ["negative"] + ["negative", "positive"] + ["neutral", "negative"],
    ),
]


def _sk_f1(t: list[str], p: list[str], average: str) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(t, p, labels=list(LABELS), average=average, zero_division=0))


def _as_number(value: Any, name: str) -> float:
    if isinstance(value, bool) or value is None:
        raise CheckFailed(f"`{name}` should be a number, but it is {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CheckFailed(
            f"`{name}` should be a number, but it is a {type(value).__name__}"
        ) from None
    expect(
        not math.isnan(number),
        f"`{name}` is NaN; guard the divisions where a class has no predictions",
    )
    return number


@exercise(
    "06.1",
    "macro-F1 by hand",
    hint=(
        "Macro-F1 is the plain mean of one F1 per label; each label's F1 comes from its true positives, false positives and false negatives.",
        "Per label, F1 = 2·TP / (2·TP + FP + FN), and 0 when the label occurs in neither list; average over the 3 labels.",
    ),
)
def macro_f1(fn: Any) -> None:
    from sklearn.metrics import accuracy_score

    for t, p in F1_CASES:
        got = _as_number(
            call(fn, list(t), list(p), name="macro_f1_by_hand"),
            f"macro_f1_by_hand({len(t)} reviews)",
        )
        want = _sk_f1(t, p, "macro")
        if math.isclose(got, want, abs_tol=1e-6):
            continue
        if math.isclose(got, _sk_f1(t, p, "weighted"), abs_tol=1e-6):
            raise CheckFailed(
                f"you computed weighted-F1 ({got:.3f}); macro-F1 is the plain mean of the per-class F1 ({want:.3f})"
            )
        if math.isclose(got, float(accuracy_score(t, p)), abs_tol=1e-6):
            raise CheckFailed(
                f"you computed accuracy (= micro-F1, {got:.3f}); macro-F1 is {want:.3f}"
            )
        raise CheckFailed(f"for y_true={t} and y_pred={p} expected {want:.4f}, got {got:.4f}")


def _threshold_data(seed: int = 6) -> tuple[np.ndarray, list[str]]:
    """Synthetic validation scores: a large positive class, small negative and neutral ones."""
    rng = np.random.default_rng(seed)
    n = {"negative": 60, "neutral": 40, "positive": 300}
    centre = {"negative": -0.6, "neutral": 0.1, "positive": 0.7}
    scores, labels = [], []
    for lab, k in n.items():
        scores.append(np.clip(rng.normal(centre[lab], 0.3, k), -1, 1))
        labels += [lab] * k
    return np.round(np.concatenate(scores), 3), labels


def _labels_at(scores: np.ndarray, low: float, high: float) -> list[str]:
    return [LABELS[c] for c in np.where(scores < low, 0, np.where(scores > high, 2, 1))]


@exercise(
    "06.2",
    "choose the thresholds on validation",
    hint=(
        "Try every pair of thresholds on the grid and keep the pair whose labels score best on the validation split (never on test).",
        "Only pairs with low <= high make sense; turn scores into labels with sentiment.scores_to_labels and score them with metrics.macro_f1.",
    ),
)
def thresholds(fn: Any) -> None:
    from coursekit.metrics import accuracy, macro_f1
    from coursekit.sentiment import choose_thresholds

    scores, labels = _threshold_data()
    got = call(fn, scores.copy(), list(labels), name="choose_thresholds")
    expect_type(got, (tuple, list), "choose_thresholds(...)")
    expect(len(got) == 2, f"return two numbers (low, high), got {len(got)} values")
    low, high = (_as_number(x, "threshold") for x in got)
    expect(low <= high, f"low={low} is above high={high}: the neutral band would be empty")
    best = macro_f1(labels, _labels_at(scores, *choose_thresholds(scores, labels)), LABELS)
    mine = macro_f1(labels, _labels_at(scores, low, high), LABELS)
    if mine >= best - 1e-9:
        return f"low={low:.2f}, high={high:.2f}, validation macro-F1 {mine:.3f}."
    acc_pair = max(
        (
            (lo, hi)
            for lo in np.round(np.arange(-0.95, 0.951, 0.05), 2)
            for hi in np.round(np.arange(-0.95, 0.951, 0.05), 2)
            if lo <= hi
        ),
        key=lambda pair: accuracy(labels, _labels_at(scores, *pair)),
    )
    if math.isclose(low, acc_pair[0]) and math.isclose(high, acc_pair[1]):
        raise CheckFailed(
            "these thresholds maximise accuracy, which ignores the small neutral class; maximise macro-F1"
        )
    raise CheckFailed(
        f"your thresholds give validation macro-F1 {mine:.3f}; the best pair on the grid gives {best:.3f}"
    )


def _ece_cases() -> list[tuple[np.ndarray, np.ndarray, int]]:
    """Probabilities under-confident at low confidence and over-confident at high confidence."""
    rng = np.random.default_rng(3)
    cases = []
    for n, bins in ((200, 10), (57, 5), (500, 15)):
        conf = rng.uniform(0.34, 1.0, n)
        correct = rng.random(n) < 0.55 + 0.3 * (conf - 0.34)
        y = rng.integers(0, 3, n)
        top = np.where(correct, y, (y + rng.integers(1, 3, n)) % 3)
        probs = np.repeat(((1 - conf) / 2)[:, None], 3, axis=1)
        probs[np.arange(n), top] = conf
        cases.append((probs, y, bins))
    return cases


@exercise(
    "06.3",
    "expected calibration error by hand",
    hint=(
        "Group the predictions by how confident they were: in a calibrated model each group's accuracy equals its mean confidence.",
        "Confidence is the largest probability; use n_bins equal-width bins of (0, 1]; ECE adds, over the bins, each bin's share of the predictions times |accuracy - mean confidence|.",
    ),
)
def ece(fn: Any) -> None:
    from coursekit.metrics import expected_calibration_error, reliability_bins

    for probs, y, bins in _ece_cases():
        got = _as_number(
            call(fn, probs.copy(), y.copy(), bins, name="ece_by_hand"), "ece_by_hand(...)"
        )
        want = expected_calibration_error(probs, y, bins)
        if math.isclose(got, want, abs_tol=1e-4):
            continue
        table = reliability_bins(probs, y, bins)
        unweighted = float((table["accuracy"] - table["confidence"]).abs().mean())
        if math.isclose(got, unweighted, abs_tol=1e-4):
            raise CheckFailed(
                "you averaged the bins equally; weight each bin by its share of the predictions (n_b / n)"
            )
        signed = float((table["count"] / len(y) * (table["accuracy"] - table["confidence"])).sum())
        if math.isclose(got, signed, abs_tol=1e-4):
            raise CheckFailed(
                "over- and under-confident bins cancel out: take the absolute gap |acc - conf| per bin"
            )
        raise CheckFailed(
            f"with {len(y)} predictions and n_bins={bins} expected {want:.4f}, got {got:.4f}"
        )


def _slice_report() -> Any:
    import pandas as pd

    return pd.DataFrame(
        {
            "n": [1000, 140, 90, 12, 60, 300],
            "vader": [0.62, 0.41, 0.45, 0.20, 0.55, 0.60],
            "minilm": [0.93, 0.88, 0.84, 0.50, 0.90, 0.95],
        },
        index=pd.Index(["all", "negation", "contrast", "sarcasm", "emoji", "long"], name="slice"),
    )


@exercise(
    "06.4",
    "find the error slice",
    hint=(
        "Small slices are noisy: ignore the slices with fewer than min_n reviews, then look for the model's worst score.",
        "Filter the report's rows on its n column, then take the index label of the minimum of the model's column, as a str.",
    ),
)
def worst_slice(fn: Any) -> None:
    report = _slice_report()
    got = call(fn, report.copy(), "minilm", 30, name="worst_slice")
    expect_type(got, str, "worst_slice(report, 'minilm', 30)")
    if got == "sarcasm":
        raise CheckFailed(
            "'sarcasm' has only 12 reviews: a score on so few is noise; drop slices with n < min_n first"
        )
    if got == "long":
        raise CheckFailed(
            "that is the best slice; the error slice is the one with the LOWEST score"
        )
    if got == "negation":
        raise CheckFailed(
            "'negation' is the worst slice for vader; use the column of the model you were given"
        )
    expect(got == "contrast", f"expected 'contrast', got {got!r}")
    got = call(fn, report.copy(), "vader", 10, name="worst_slice")
    expect(got == "sarcasm", f"with min_n=10 the worst vader slice is 'sarcasm', got {got!r}")


__all__ = ["ece", "macro_f1", "thresholds", "worst_slice"]
