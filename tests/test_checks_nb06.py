"""Every notebook-06 check passes on the reference answer and fails, specifically, otherwise."""

from __future__ import annotations

import numpy as np
import pytest
from check_helpers import blank, crash
from sklearn.metrics import accuracy_score, f1_score

from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED
from coursekit.checks import nb06 as check

LABELS = ["negative", "neutral", "positive"]
GRID = np.round(np.arange(-0.95, 0.951, 0.05), 2)


# ---------------------------------------------------------------- reference answers
def macro_f1_by_hand(y_true, y_pred):
    scores = []
    for label in LABELS:
        tp = sum(t == label and p == label for t, p in zip(y_true, y_pred, strict=True))
        fp = sum(t != label and p == label for t, p in zip(y_true, y_pred, strict=True))
        fn = sum(t == label and p != label for t, p in zip(y_true, y_pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return sum(scores) / len(scores)


def _labels(scores, low, high):
    return ["negative" if s < low else "positive" if s > high else "neutral" for s in scores]


def choose_thresholds(scores, labels):
    best, pair = -1, None
    for low in GRID:
        for high in GRID[GRID >= low]:
            f1 = f1_score(labels, _labels(scores, low, high), average="macro")
            if f1 > best:
                best, pair = f1, (float(low), float(high))
    return pair


def _per_class_f1(t, p, labels, zero_division=True):
    """Per-class F1 written by hand, as a learner would (so no library metric is called)."""
    scores = []
    for c in labels:
        tp = sum(a == c and b == c for a, b in zip(t, p, strict=True))
        wrong = sum((a == c) != (b == c) for a, b in zip(t, p, strict=True))
        if not zero_division or 2 * tp + wrong:
            scores.append(2 * tp / (2 * tp + wrong))
        else:
            scores.append(0.0)
    return scores


def weighted_f1(t, p):
    support = [sum(a == c for a in t) for c in LABELS]
    return sum(f * n for f, n in zip(_per_class_f1(t, p, LABELS), support, strict=True)) / len(t)


def ece_by_hand(probs, y, n_bins=10):
    conf = probs.max(1)
    correct = probs.argmax(1) == y
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return total


def worst_slice(report, model, min_n=30):
    return str(report.loc[report["n"] >= min_n, model].idxmin())


# ---------------------------------------------------------------- 06.1
def test_macro_f1_passes_on_reference():
    assert check.macro_f1.evaluate(macro_f1_by_hand).status == PASSED


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (None, NOT_ATTEMPTED, "still None"),
        (blank, NOT_ATTEMPTED, "NotImplementedError"),
        (crash, NOT_YET, "raised KeyError"),
        (lambda t, p: "0.7", NOT_YET, "expected"),
        (lambda t, p: [0.7], NOT_YET, "should be a number"),
        (lambda t, p: accuracy_score(t, p), NOT_YET, "accuracy"),
        (weighted_f1, NOT_YET, "weighted-F1"),
        (lambda t, p: float("nan"), NOT_YET, "NaN"),
    ],
)
def test_macro_f1_fails(answer, status, fragment):
    verdict = check.macro_f1.evaluate(answer)
    assert verdict.status == status
    assert fragment in verdict.message


def test_macro_f1_catches_labels_only_from_y_true():
    # a plausible slip: averaging only over classes seen in y_true misses never-true classes
    def seen_only(t, p):
        return float(np.mean(_per_class_f1(t, p, sorted(set(t)))))

    # the last case has no neutral review and no neutral prediction: its F1 is 0 and counts
    verdict = check.macro_f1.evaluate(seen_only)
    assert verdict.status == NOT_YET and "'neutral' occurs in neither list" in verdict.message

    def forgets_zero_division(t, p):
        return float(np.mean(_per_class_f1(t, p, LABELS, zero_division=False)))

    assert check.macro_f1.evaluate(forgets_zero_division).status == NOT_YET


# ---------------------------------------------------------------- 06.2
def test_exercise_ids_follow_the_notebook_order():
    order = [check.macro_f1, check.thresholds, check.bootstrap_diff, check.ece, check.worst_slice]
    assert [c.exercise_id for c in order] == ["06.1", "06.2", "06.3", "06.4", "06.5"]


def test_thresholds_passes_on_reference(capsys):
    check.thresholds(choose_thresholds)
    out = capsys.readouterr().out
    assert out.startswith("✅ Exercise 06.2") and "macro-F1" in out


def _accuracy_thresholds(scores, labels):
    return max(
        ((float(lo), float(hi)) for lo in GRID for hi in GRID if lo <= hi),
        key=lambda pair: accuracy_score(labels, _labels(scores, *pair)),
    )


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (None, NOT_ATTEMPTED, "still None"),
        (blank, NOT_ATTEMPTED, "NotImplementedError"),
        (crash, NOT_YET, "raised KeyError"),
        (lambda s, y: 0.1, NOT_YET, "should be a tuple or list"),
        (lambda s, y: (0.1, 0.2, 0.3), NOT_YET, "two numbers"),
        (lambda s, y: (0.5, -0.5), NOT_YET, "above high"),
        (lambda s, y: (-0.05, 0.05), NOT_YET, "the best pair on the grid gives"),
        (_accuracy_thresholds, NOT_YET, "maximise accuracy"),
    ],
)
def test_thresholds_fail(answer, status, fragment):
    verdict = check.thresholds.evaluate(answer)
    assert verdict.status == status
    assert fragment in verdict.message


# ---------------------------------------------------------------- 06.4
def test_ece_passes_on_reference():
    assert check.ece.evaluate(ece_by_hand).status == PASSED


def _bins_by_hand(probs, y, n_bins):
    """(share, accuracy, confidence) of every non-empty bin, binned as ece_by_hand does."""
    conf, correct = probs.max(1), probs.argmax(1) == y
    edges = np.linspace(0, 1, n_bins + 1)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            rows.append((inside.mean(), correct[inside].mean(), conf[inside].mean()))
    return np.array(rows)


def _unweighted(probs, y, n_bins=10):
    _, acc, conf = _bins_by_hand(probs, y, n_bins).T
    return float(np.abs(acc - conf).mean())


def _signed(probs, y, n_bins=10):
    share, acc, conf = _bins_by_hand(probs, y, n_bins).T
    return float((share * (acc - conf)).sum())


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (None, NOT_ATTEMPTED, "still None"),
        (blank, NOT_ATTEMPTED, "NotImplementedError"),
        (crash, NOT_YET, "raised KeyError"),
        (lambda p, y, b: "0.1", NOT_YET, "expected"),
        (lambda p, y, b: None, NOT_YET, "should be a number"),
        (_unweighted, NOT_YET, "averaged the bins equally"),
        (_signed, NOT_YET, "absolute gap"),
        (lambda p, y, b: float(np.mean(p.max(1)) - np.mean(p.argmax(1) == y)), NOT_YET, "expected"),
    ],
)
def test_ece_fails(answer, status, fragment):
    verdict = check.ece.evaluate(answer)
    assert verdict.status == status
    assert fragment in verdict.message


# ---------------------------------------------------------------- 06.5
def test_worst_slice_passes_on_reference():
    assert check.worst_slice.evaluate(worst_slice).status == PASSED


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (None, NOT_ATTEMPTED, "still None"),
        (blank, NOT_ATTEMPTED, "NotImplementedError"),
        (crash, NOT_YET, "raised KeyError"),
        (lambda r, m, n: r[m].min(), NOT_YET, "should be a str"),
        (lambda r, m, n: str(r[m].idxmin()), NOT_YET, "only 12 reviews"),
        (lambda r, m, n: str(r.loc[r["n"] >= n, m].idxmax()), NOT_YET, "LOWEST"),
        (lambda r, m, n: str(r.loc[r["n"] >= n, "vader"].idxmin()), NOT_YET, "column of the model"),
        (lambda r, m, n: "contrast", NOT_YET, "worst vader slice"),
    ],
)
def test_worst_slice_fails(answer, status, fragment):
    verdict = check.worst_slice.evaluate(answer)
    assert verdict.status == status
    assert fragment in verdict.message


def test_checks_print_exactly_one_line(capsys):
    check.macro_f1(None)
    check.worst_slice(lambda r, m, n: 1 / 0)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and all(line.startswith(("⏳", "❌")) for line in lines)
