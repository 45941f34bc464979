"""Checks for notebook 06 (sentiment): macro-F1 by hand, thresholds, a paired bootstrap
interval, ECE, the worst slice, an alerting rule; the fairness gap (06.7) lives in
:mod:`coursekit.checks.nb06_fairness` and is re-exported here."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from coursekit.checks import (
    CheckFailed,
    call,
    call_own,
    exercise,
    expect,
    expect_type,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    own_or_reference,  # noqa: F401 (the notebook uses the learner's interval through it)
)
from coursekit.checks.intervals import near as _near
from coursekit.checks.intervals import percentile_mistake
from coursekit.checks.intervals import quantile_ends as _interval
from coursekit.schema import LABELS

#: ready-made answers: calling one of them does not pass the exercise
FORBID_F1 = (
    "coursekit.metrics.macro_f1",
    "coursekit.metrics.classification_scores",
    "sklearn.metrics.f1_score",
    "sklearn.metrics.fbeta_score",
    "sklearn.metrics.precision_recall_fscore_support",
    "sklearn.metrics.classification_report",
)
FORBID_THRESHOLDS = ("coursekit.sentiment.choose_thresholds",)
FORBID_ECE = ("coursekit.metrics.expected_calibration_error", "coursekit.metrics.reliability_bins")

#: (y_true, y_pred) pairs for exercise 06.1, chosen so accuracy, micro-, weighted-
#: and macro-F1 all differ, one with a class that is never predicted; the last one has a class
#: (neutral) in neither list, the edge case the notebook's text defines: its F1 is 0 and it counts
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
    (
        ["negative", "negative", "negative", "positive", "positive"],
        ["negative", "positive", "negative", "positive", "negative"],
    ),
]


def _sk_f1(t: list[str], p: list[str], average: str) -> float:
    return _sk_f1_over(t, p, list(LABELS), average)


def _sk_f1_over(t: list[str], p: list[str], labels: list[str], average: str = "macro") -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(t, p, labels=labels, average=average, zero_division=0))


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
        absent = [c for c in LABELS if c not in t and c not in p]
        try:
            answer = call_own(fn, list(t), list(p), forbid=FORBID_F1, name="macro_f1_by_hand")
        except CheckFailed as err:
            if absent and "ZeroDivisionError" in str(err):
                raise CheckFailed(
                    f"{absent[0]!r} occurs in neither list here, so 2·TP + FP + FN is 0 for it "
                    "and your division fails: that label's F1 is 0"
                ) from None
            raise
        got = _as_number(answer, f"macro_f1_by_hand({len(t)} reviews)")
        want = _sk_f1(t, p, "macro")
        if math.isclose(got, want, abs_tol=1e-6):
            continue
        seen = sorted(set(t) | set(p))
        if absent and math.isclose(got, _sk_f1_over(t, p, seen), abs_tol=1e-6):
            raise CheckFailed(
                f"{absent[0]!r} occurs in neither list here: its F1 is 0 and it still counts, "
                f"so the mean is over all {len(LABELS)} labels ({want:.3f}), not over the "
                f"{len(seen)} that occur ({got:.3f})"
            )
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
    got = call_own(
        fn, scores.copy(), list(labels), forbid=FORBID_THRESHOLDS, name="choose_thresholds"
    )
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


# --------------------------------------------------------------------------- 06.3 bootstrap

#: the toy reviews of the notebook's section 1: exercise 06.3's visible example compares
#: ``TOY_PRED`` with a model that says "positive" to all of them
TOY_TRUE = ["negative"] * 2 + ["neutral"] * 2 + ["positive"] * 4
TOY_PRED = ["negative", "positive", "neutral", "positive", "positive", "positive", "positive"]
TOY_PRED += ["neutral"]

#: what ``bootstrap_diff_ci`` may not call: the course's and scipy's ready-made bootstraps
BOOTSTRAP_FORBID = [
    "coursekit.metrics.paired_bootstrap",
    "coursekit.metrics.bootstrap_ci",
    "coursekit.metrics._fast_metric",
    "scipy.stats.bootstrap",
]


def _codes(values: Any) -> np.ndarray:
    index = {label: i for i, label in enumerate(LABELS)}
    return np.array([index[str(v)] for v in values], dtype=np.int64)


def _f1_rows(t: np.ndarray, p: np.ndarray, counted: np.ndarray | None = None) -> np.ndarray:
    """Macro-F1 of each row of the label-code arrays ``t``, ``p`` (one resample per row).

    The notebook's convention: a label's F1 is 0 when 2·TP + FP + FN is 0, and the mean is over
    all three labels. ``counted`` (rows × labels, bool) averages over those labels only instead:
    the plausible wrong conventions (labels present in the resample, scikit-learn's default).
    """
    f1 = np.zeros((t.shape[0], len(LABELS)))
    for c in range(len(LABELS)):
        tp = ((t == c) & (p == c)).sum(axis=1)
        fp = ((t != c) & (p == c)).sum(axis=1)
        fn = ((t == c) & (p != c)).sum(axis=1)
        denom = 2 * tp + fp + fn
        f1[:, c] = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    if counted is None:
        return f1.mean(axis=1)
    return (f1 * counted).sum(axis=1) / np.maximum(counted.sum(axis=1), 1)


def _present(*rows: np.ndarray) -> np.ndarray:
    """Per row and label: whether the label occurs in any of ``rows`` (same shape each)."""
    return np.stack(
        [np.any([(r == c).any(axis=1) for r in rows], axis=0) for c in range(len(LABELS))], axis=1
    )


def _noisy(rng: np.random.Generator, y: list[str], accuracy: float) -> list[str]:
    """``y`` with about ``1 - accuracy`` of its labels replaced by one of the two others."""
    codes = _codes(y)
    wrong = rng.random(len(codes)) > accuracy
    other = (codes + rng.integers(1, 3, len(codes))) % len(LABELS)
    return [LABELS[c] for c in np.where(wrong, other, codes)]


def _boot_cases() -> list[dict[str, Any]]:
    """The visible toy case, then hidden seeded sets and the edge cases the notebook names."""
    rng = np.random.default_rng(2006)
    cases = []
    y = list(rng.choice(LABELS, 40))
    same = _noisy(rng, y, 0.7)
    cases.append(dict(what="two identical models", y=y, a=same, b=list(same), B=200, level=0.95))
    cases.append(
        dict(
            what="the toy reviews of section 1 (toy_pred against always 'positive')",
            y=TOY_TRUE,
            a=TOY_PRED,
            b=["positive"] * len(TOY_TRUE),
            B=1000,
            level=0.95,
        )
    )
    y = list(rng.choice(LABELS, 300, p=[0.3, 0.2, 0.5]))
    cases.append(
        dict(
            what="300 hidden reviews",
            y=np.array(y),  # an array, like y_test
            a=_noisy(rng, y, 0.85),
            b=_noisy(rng, y, 0.7),
            B=500,
            level=0.95,
            seed=11,
        )
    )
    y = list(rng.permutation(["negative"] * 9 + ["neutral"] * 2 + ["positive"] * 13))
    cases.append(
        dict(
            what="24 hidden reviews, 2 of them neutral (many resamples have none), level=0.9",
            y=y,
            a=_noisy(rng, y, 0.8),
            b=_noisy(rng, y, 0.6),
            B=1000,
            level=0.9,
            seed=5,
        )
    )
    y = list(rng.choice(["negative", "positive"], 30))
    cases.append(
        dict(
            what="30 hidden reviews, none of them neutral (the models still predict it)",
            y=y,
            a=_noisy(rng, y, 0.9),
            b=_noisy(rng, y, 0.65),
            B=400,
            level=0.95,
            seed=7,
        )
    )
    y = list(rng.choice(LABELS, 50))
    cases.append(
        dict(
            what="n_boot=1 (one resample)",
            y=y,
            a=_noisy(rng, y, 0.8),
            b=_noisy(rng, y, 0.5),
            B=1,
            level=0.95,
            seed=3,
        )
    )
    return cases


def _boot_reference(case: dict[str, Any]) -> dict[str, Any]:
    """The reference interval of ``case`` and the pieces the wrong ideas are built from.

    The seed convention the notebook states: ``rng = np.random.default_rng(seed)``, then one
    ``rng.integers(0, n, size=(n_boot, n))`` (row r: the reviews of resample r), both models
    scored on the same rows, the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles.
    """
    n_boot, level = case["B"], case["level"]
    t, a, b = _codes(case["y"]), _codes(case["a"]), _codes(case["b"])
    n = len(t)
    rng = np.random.default_rng(case.get("seed", 0))
    idx = rng.integers(0, n, size=(n_boot, n))
    parts = dict(t=t, a=a, b=b, idx=idx, idx2=rng.integers(0, n, size=(n_boot, n)))
    parts["fa"], parts["fb"] = _f1_rows(t[idx], a[idx]), _f1_rows(t[idx], b[idx])
    parts["diffs"] = parts["fa"] - parts["fb"]
    parts["want"] = _interval(parts["diffs"], level)
    full = np.arange(n)[None, :]
    parts["point"] = float(_f1_rows(t[full], a[full])[0] - _f1_rows(t[full], b[full])[0])
    return parts


def _boot_diagnosis(case: dict[str, Any], got: np.ndarray, ref: dict[str, Any]) -> str:
    """Why ``got`` is not the reference interval on ``case``: one message per wrong idea."""
    level, n_boot = case["level"], case["B"]
    t, a, b, idx, idx2 = ref["t"], ref["a"], ref["b"], ref["idx"], ref["idx2"]
    fa, fb, diffs, want, point = ref["fa"], ref["fb"], ref["diffs"], ref["want"], ref["point"]
    rows_t, rows_a, rows_b = t[idx], a[idx], b[idx]
    where = f"on {case['what']},"
    shown = f"({got[0]:.4f}, {got[1]:.4f})"

    if np.isnan(got).any():
        return (
            f"{where} your interval contains NaN: a resample can miss a label entirely "
            "(2·TP + FP + FN = 0), and that label's F1 is then 0, not 0/0"
        )
    if got[0] > got[1] + 1e-12:
        return f"{where} your interval {shown} has low above high: return (low, high)"
    qa, qb = _interval(fa, level), _interval(fb, level)
    if _near(got, qa - qb, (qa[0] - qb[1], qa[1] - qb[0]), qa, qb):
        return (
            f"{where} that is built from one interval per model; take the difference inside "
            "each resample first, then the percentiles of those n_boot differences"
        )
    if np.allclose(want, 0.0, atol=1e-12):
        return (
            f"{where} each resample scores both models on the same reviews, so every difference "
            f"is exactly 0 and the interval is (0, 0); yours is {shown}: score both models on "
            "the same resampled rows (paired)"
        )
    if want[1] - want[0] > 1e-9 and _near(got, (point, point)):
        return (
            f"{where} both ends equal the difference on all the reviews ({point:.4f}): every "
            "resample holds each review exactly once. Draw the indices with replacement, so some "
            "reviews repeat and others drop out"
        )
    if _near(got, -want[::-1]):
        return f"{where} your interval {shown} is for b minus a; the difference is a minus b"
    if _near(got, _interval(fa - _f1_rows(t[idx2], b[idx2]), level)):
        return (
            f"{where} model b was scored on a second, different draw of reviews: a paired "
            "bootstrap scores both models on the same rows of one index array"
        )
    accuracy = (rows_a == rows_t).mean(axis=1) - (rows_b == rows_t).mean(axis=1)
    if _near(got, _interval(accuracy, level)):
        return (
            f"{where} that is the interval of the difference in accuracy; score each resample "
            "with macro-F1 (the mean of the three per-label F1)"
        )
    in_y_true = np.broadcast_to(_present(t[None, :]), (n_boot, len(LABELS)))
    variants = [
        _f1_rows(rows_t, rows_a, _present(rows_t)) - _f1_rows(rows_t, rows_b, _present(rows_t)),
        _f1_rows(rows_t, rows_a, in_y_true) - _f1_rows(rows_t, rows_b, in_y_true),
        # scikit-learn's default: the labels in the truth or in that model's predictions
        _f1_rows(rows_t, rows_a, _present(rows_t, rows_a))
        - _f1_rows(rows_t, rows_b, _present(rows_t, rows_b)),
    ]
    if _near(got, *[_interval(d, level) for d in variants]):
        return (
            f"{where} you averaged over the labels that occur; as in 06.1 a label missing from a "
            "resample (or from y_true) has F1 = 0 and still counts: the mean is over all three "
            "labels"
        )
    wrong = percentile_mistake(got, diffs, (float(diffs.mean()), point), level, "differences")
    if wrong:
        return f"{where} {wrong}"
    expected = f"({want[0]:.4f}, {want[1]:.4f})"
    if np.abs(got - want).max() <= 0.3 * (want[1] - want[0]) + 1e-9:
        return (
            f"{where} {shown} is close to the expected {expected} but not equal: draw the "
            "indices first, in one rng.integers call of shape (n_boot, n), and read the ends "
            "with np.quantile's default interpolation, as the text says"
        )
    return (
        f"{where} (n_boot={n_boot}, level={level}, seed={case.get('seed', 0)}) expected "
        f"{expected}, got {shown}"
    )


def _two_numbers(got: Any) -> np.ndarray:
    expect_type(got, (tuple, list, np.ndarray), "bootstrap_diff_ci(...)")
    if len(got) == 2 and all(np.ndim(x) == 1 and len(x) == 2 for x in got):
        raise CheckFailed(
            "you returned one interval per model; return two numbers (low, high): the interval "
            "of the difference a minus b"
        )
    expect(
        len(got) == 2,
        f"return two numbers (low, high), got {len(got)} values (the difference on all the "
        "reviews is not part of the answer)",
    )
    values = []
    for x in got:
        if isinstance(x, (bool, str)) or x is None or np.ndim(x) != 0:
            raise CheckFailed(f"`bootstrap_diff_ci(...)` should return numbers, got {x!r}")
        values.append(float(x))
    return np.array(values)


@exercise(
    "06.3",
    "a paired bootstrap interval for a difference",
    hint=(
        "Resample the reviews, not the models: each bootstrap round draws one set of review "
        "indices, scores both models on exactly those reviews and keeps one difference; the "
        "interval is read off the n_boot differences.",
        "Indexing the label codes with the (n_boot, n) index array gives one resample per row; "
        "per label, count TP, FP and FN along each row (axis 1) and give a zero denominator "
        "an F1 of 0; the two ends are quantiles of the differences, not a mean plus or minus a "
        "spread.",
        "Identical models must give exactly (0, 0): if yours do not, the two models were scored "
        "on different rows. A label missing from a resample still counts in the mean (F1 = 0), "
        "and the quantiles for level are (1 - level) / 2 and (1 + level) / 2.",
    ),
)
def bootstrap_diff(fn: Any) -> str:
    toy = (math.nan, math.nan)
    for case in _boot_cases():
        y = case["y"]
        got = call_own(
            fn,
            y.copy() if isinstance(y, np.ndarray) else list(y),
            list(case["a"]),
            list(case["b"]),
            n_boot=case["B"],
            level=case["level"],
            seed=case.get("seed", 0),
            forbid=BOOTSTRAP_FORBID,
            name="bootstrap_diff_ci",
        )
        pair = _two_numbers(got)
        ref = _boot_reference(case)
        if not np.isnan(pair).any() and np.allclose(pair, ref["want"], atol=1e-9):
            if case["what"].startswith("the toy"):
                toy = tuple(pair)
            continue
        raise CheckFailed(_boot_diagnosis(case, pair, ref))
    return (
        f"Identical models give (0, 0); on the toy reviews, toy_pred minus always 'positive' "
        f"lies in [{toy[0]:.2f}, {toy[1]:.2f}]."
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
    "06.4",
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
            call_own(fn, probs.copy(), y.copy(), bins, forbid=FORBID_ECE, name="ece_by_hand"),
            "ece_by_hand(...)",
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
    "06.5",
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


# --------------------------------------------------------------------------- 06.6 alerting rule

#: what ``alert_months`` may not call: the course's rule and its pieces
FORBID_ALERTS = (
    "coursekit.sentiment.alert_months",
    "coursekit.sentiment.baseline_z",
    "coursekit.sentiment.find_alerts",
)

#: the visible example of exercise 06.6: one brand-aspect series of 12 months, its complaints
#: jump in month 8 (0-based); the notebook prints it
EXAMPLE_NEGATIVE = [2, 3, 1, 2, 3, 2, 2, 4, 14, 9, 3, 2]
EXAMPLE_TOTAL = [20, 24, 18, 22, 25, 21, 23, 30, 34, 28, 24, 22]


def _seasonal_series(rng: np.random.Generator, months: int, rate: float, base: int) -> tuple:
    """Mention counts with a November-December peak (1.8x) and a steady negative share."""
    season = np.array([1.8 if m % 12 in (10, 11) else 1.0 for m in range(months)])
    total = rng.poisson(base * season).astype(int)
    return rng.binomial(total, rate).astype(int), total


def _alert_cases() -> list[dict[str, Any]]:
    """The visible example, then hidden seeded series and the edge cases the text names."""
    rng = np.random.default_rng(2606)
    cases = [
        dict(what="the example series above", neg=EXAMPLE_NEGATIVE, tot=EXAMPLE_TOTAL, kw={}),
    ]
    neg, tot = _seasonal_series(rng, 24, 0.2, 30)
    cases.append(
        dict(what="a hidden 24-month series with a steady share and a busy November-December",
             neg=neg, tot=tot, kw={})
    )  # fmt: skip
    neg, tot = _seasonal_series(rng, 24, 0.15, 25)
    spike = rng.binomial(tot[14:17], 0.55)
    neg[14:17] = spike
    cases.append(dict(what="a hidden series with a spike in months 14-16", neg=neg, tot=tot, kw={}))
    neg = np.array([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 6, 1, 0, 0])
    tot = np.array([9, 8, 10, 11, 0, 0, 9, 10, 12, 9, 12, 10, 0, 11])
    cases.append(
        dict(what="a hidden series with months of zero reviews and no complaints before month 10",
             neg=neg, tot=tot, kw={})
    )  # fmt: skip
    neg = np.array([0, 0, 5, 1, 2, 1, 0, 2])
    tot = np.array([1, 2, 25, 20, 22, 18, 21, 19])
    cases.append(dict(what="a hidden new brand whose first reviews have no complaint", neg=neg,
                      tot=tot, kw={}))  # fmt: skip
    neg = np.array([12, 2, 1, 3, 2, 1, 2, 2])
    tot = np.array([12, 15, 14, 16, 15, 13, 15, 14])
    cases.append(dict(what="a hidden series whose first month is all complaints", neg=neg,
                      tot=tot, kw={}))  # fmt: skip
    neg = np.array([0, 0, 0, 0, 0, 13, 2, 3, 2, 12])
    tot = np.array([0, 0, 0, 0, 0, 13, 20, 22, 19, 24])
    cases.append(dict(what="a hidden brand with no reviews before month 5", neg=neg, tot=tot,
                      kw={}))  # fmt: skip
    neg = np.array([1, 0, 1, 1, 0, 1, 4, 4, 1, 0])
    tot = np.array([10, 9, 11, 10, 9, 10, 4, 5, 10, 9])
    cases.append(dict(what="a hidden quiet brand with two small bad months", neg=neg, tot=tot,
                      kw={}))  # fmt: skip
    neg, tot = _seasonal_series(rng, 18, 0.25, 12)
    neg[9] = min(tot[9], neg[9] + 6)
    cases.append(
        dict(what="a hidden series with window=3, min_count=2, z=2.5", neg=neg, tot=tot,
             kw=dict(window=3, min_count=2, z=2.5))
    )  # fmt: skip
    cases.append(dict(what="a one-month series", neg=np.array([7]), tot=np.array([7]), kw={}))
    return cases


def _alert_reference(neg: Any, tot: Any, window: int = 6, min_count: int = 5, z: float = 3.0):
    from coursekit.sentiment.monitoring import alert_months

    return alert_months(neg, tot, window=window, min_count=min_count, z=z)


def _variant(neg: Any, tot: Any, *, window: int = 6, min_count: int = 5, z: float = 3.0,
             past: str = "before", smooth: bool = True, need_history: bool = True,
             use_min: bool = True) -> np.ndarray:  # fmt: skip
    """The rule with one idea changed: the wrong answers the diagnosis recognises."""
    n_, t_ = np.asarray(neg, dtype=float), np.asarray(tot, dtype=float)
    out = np.zeros(len(n_), dtype=bool)
    for t in range(len(n_)):
        if past == "before":
            idx = list(range(max(0, t - window), t))
        elif past == "with_current":
            idx = list(range(max(0, t - window + 1), t + 1))
        elif past == "all_others":
            idx = [k for k in range(len(n_)) if k != t]
        elif past == "centred":
            idx = [k for k in range(max(0, t - window), min(len(n_), t + window + 1)) if k != t]
        else:  # "one_more": window + 1 months
            idx = list(range(max(0, t - window - 1), t))
        pn, pt = n_[idx].sum(), t_[idx].sum()
        if use_min and n_[t] < min_count:
            continue
        if t_[t] == 0 or (need_history and pt == 0):
            continue
        base = (pn + 1) / (pt + 2) if smooth else (pn / pt if pt else 0.0)
        if base <= 0:
            out[t] = n_[t] > 0
            continue
        if base >= 1:
            continue
        out[t] = (n_[t] - t_[t] * base) / math.sqrt(t_[t] * base * (1 - base)) > z
    return out


def _count_variant(neg: Any, tot: Any, *, window: int = 6, min_count: int = 5,
                   z: float = 3.0) -> np.ndarray:  # fmt: skip
    """Counts instead of shares: the month's count against the mean count of its past months."""
    n_ = np.asarray(neg, dtype=float)
    out = np.zeros(len(n_), dtype=bool)
    for t in range(1, len(n_)):
        past = n_[max(0, t - window) : t]
        mean, sd = past.mean(), past.std()
        if n_[t] >= min_count:
            out[t] = n_[t] > mean + z * max(sd, math.sqrt(max(mean, 1.0)))
    return out


_ALERT_MISTAKES: list[tuple[str, dict[str, Any], str]] = [
    ("with_current", {},
     "your baseline includes month t itself, so a spike raises its own baseline and hides: "
     "use the `window` months before t, not t"),
    ("one_more", {},
     "your window holds window + 1 months; the baseline is the `window` months just before t"),
    ("before", {"use_min": False},
     "you alert on months with fewer than `min_count` complaints: with a handful of mentions "
     "two angry reviews look like a spike; require negative[t] >= min_count"),
    ("before", {"smooth": False},
     "your baseline is the raw past share: where the past has no complaint it is 0 and any "
     "complaint is an infinite z; add one to the complaints and two to the mentions"),
    ("before", {"need_history": False},
     "you alert on a month with no mentions in its window: with no past there is nothing to "
     "compare with, so such a month never alerts"),
    ("all_others", {},
     "your baseline uses months after the one you judge (the whole series): a monitor only "
     "knows the past, so use the `window` months before month t"),
    ("centred", {},
     "your baseline takes months on both sides of month t; the months after t have not "
     "happened yet when the alert must go out: use the `window` months before it"),
]  # fmt: skip


def _as_mask(got: Any, n: int) -> np.ndarray:
    expect_type(got, (list, tuple, np.ndarray), "alert_months(...)")
    values = np.asarray(got)
    if values.ndim != 1 or len(values) != n:
        if values.ndim == 1 and len(values) < n and np.issubdtype(values.dtype, np.integer):
            raise CheckFailed(
                f"return one True/False per month ({n} values), not the positions of the "
                "alerting months"
            )
        raise CheckFailed(f"return one True/False per month: {n} values, got shape {values.shape}")
    if values.dtype != bool:
        if not (np.issubdtype(values.dtype, np.number) and np.isin(values, (0, 1)).all()):
            raise CheckFailed("return True/False per month (a bool array), not scores")
    return values.astype(bool)


def _alert_diagnosis(case: dict[str, Any], got: np.ndarray, want: np.ndarray) -> str:
    neg, tot, kw = case["neg"], case["tot"], case["kw"]
    where = f"on {case['what']},"
    for past, change, message in _ALERT_MISTAKES:
        if np.array_equal(got, _variant(neg, tot, past=past, **change, **kw)):
            return f"{where} {message}"
    if np.array_equal(got, _count_variant(neg, tot, **kw)):
        return (
            f"{where} you compared counts, not shares: a busy month has more complaints "
            "simply because it has more reviews; compare negative[t] with total[t] times the "
            "past share"
        )
    base, _ = _baseline_z(neg, tot, kw.get("window", 6))
    shares = np.divide(np.asarray(neg, float), np.asarray(tot, float), where=np.asarray(tot) > 0,
                       out=np.zeros(len(neg)))  # fmt: skip
    extra = np.flatnonzero(got & ~want)
    for t in extra:
        if not np.isnan(base[t]) and shares[t] <= base[t]:
            return (
                f"{where} you alert in month {t}, whose negative share ({shares[t]:.2f}) is not "
                f"above its past share ({base[t]:.2f}): that month only has more reviews; "
                "compare shares, not counts"
            )
    t = int(np.flatnonzero(got != want)[0])
    return (
        f"{where} month {t} ({int(neg[t])} of {int(tot[t])} negative) should "
        f"{'' if want[t] else 'not '}alert, yours does{' not' if want[t] else ''}"
    )


def _baseline_z(neg: Any, tot: Any, window: int) -> tuple[np.ndarray, np.ndarray]:
    from coursekit.sentiment.monitoring import baseline_z

    return baseline_z(neg, tot, window)


@exercise(
    "06.6",
    "an alerting rule",
    hint=(
        "Judge each month against the months before it only, and compare shares of complaints "
        "rather than counts: a busy month has more of everything.",
        "For month t: the window is the `window` months just before t; skip the month when that "
        "window has no mentions or the month has fewer than `min_count` complaints; the "
        "baseline share is smoothed (add one complaint and two mentions).",
        "The score is how many binomial standard deviations the month's complaints lie above "
        "total[t] times the baseline share; alert when it is above `z`.",
    ),
)
def alerting_rule(fn: Any) -> str:
    n_alerts = 0
    for case in _alert_cases():
        neg, tot, kw = case["neg"], case["tot"], case["kw"]
        got = call_own(
            fn,
            np.array(neg).copy(),
            np.array(tot).copy(),
            **kw,
            forbid=FORBID_ALERTS,
            name="alert_months",
        )
        mask = _as_mask(got, len(neg))
        want = _alert_reference(neg, tot, **kw)
        if not np.array_equal(mask, want):
            raise CheckFailed(_alert_diagnosis(case, mask, want))
        n_alerts += int(mask.sum())
    return (
        f"{n_alerts} alerts over the {len(_alert_cases())} series, the example's month 8 among "
        "them, and none on the busy Novembers, the first months or the empty ones."
    )


from coursekit.checks.nb06_fairness import (  # noqa: E402 (06.7, its own module)
    EXAMPLE_ERRORS,
    EXAMPLE_GROUP,
    group_gap,
)

__all__ = [
    "EXAMPLE_ERRORS",
    "EXAMPLE_GROUP",
    "alerting_rule",
    "bootstrap_diff",
    "ece",
    "group_gap",
    "hint",
    "macro_f1",
    "own_or_reference",
    "thresholds",
    "worst_slice",
]
