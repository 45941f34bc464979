"""Notebook 06's build-it exercise (06.3, a paired bootstrap interval of a macro-F1 difference)
and the absent-class edge case of 06.1: the notebook's own solution passes, a blank one is not
attempted, the ready-made bootstraps are caught, and each plausible wrong idea gets its own
message."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest
from check_helpers import COMMON, assert_verdict
from sklearn.metrics import f1_score

from coursekit import learner, metrics, paths
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED
from coursekit.checks import nb06 as check
from coursekit.sentiment import LABELS

NOTEBOOK = paths.notebooks_dir() / "06_sentiment.ipynb"


def _exercise_source() -> str:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return next(c.source for c in nb.cells if "def bootstrap_diff_ci(" in c.source)


def _define(source: str) -> dict:
    namespace = {"np": np, "LABELS": LABELS}
    exec(compile(source, "06_sentiment.ipynb", "exec"), namespace)  # the notebook's cell
    return namespace


@pytest.fixture(scope="module")
def solution():
    return _define(_exercise_source())["bootstrap_diff_ci"]


# ---------------------------------------------------------------- the wrong ideas
def _codes(*lists):
    index = {label: i for i, label in enumerate(LABELS)}
    return [np.array([index[x] for x in v]) for v in lists]


def _f1_rows(t, p):
    f1 = []
    for c in range(3):
        tp = ((t == c) & (p == c)).sum(1)
        fp = ((t != c) & (p == c)).sum(1)
        fn = ((t == c) & (p != c)).sum(1)
        d = 2 * tp + fp + fn
        f1.append(np.where(d > 0, 2 * tp / np.maximum(d, 1), 0.0))
    return np.mean(f1, axis=0)


def _quantiles(x, level):
    return tuple(float(v) for v in np.quantile(x, [(1 - level) / 2, (1 + level) / 2]))


def unpaired(y, a, b, n_boot=1000, level=0.95, seed=0):
    t, a, b = _codes(y, a, b)
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, len(t), size=(n_boot, len(t)))
    ib = rng.integers(0, len(t), size=(n_boot, len(t)))  # a second draw for model b
    return _quantiles(_f1_rows(t[ia], a[ia]) - _f1_rows(t[ib], b[ib]), level)


def accuracy_diff(y, a, b, n_boot=1000, level=0.95, seed=0):
    t, a, b = _codes(y, a, b)
    idx = np.random.default_rng(seed).integers(0, len(t), size=(n_boot, len(t)))
    return _quantiles((a[idx] == t[idx]).mean(1) - (b[idx] == t[idx]).mean(1), level)


def normal_approx(y, a, b, n_boot=1000, level=0.95, seed=0):
    t, a, b = _codes(y, a, b)
    idx = np.random.default_rng(seed).integers(0, len(t), size=(n_boot, len(t)))
    d = _f1_rows(t[idx], a[idx]) - _f1_rows(t[idx], b[idx])
    return d.mean() - 1.96 * d.std(), d.mean() + 1.96 * d.std()


def per_model(y, a, b, n_boot=1000, level=0.95, seed=0):
    t, a, b = _codes(y, a, b)
    idx = np.random.default_rng(seed).integers(0, len(t), size=(n_boot, len(t)))
    lo_a, hi_a = _quantiles(_f1_rows(t[idx], a[idx]), level)
    lo_b, hi_b = _quantiles(_f1_rows(t[idx], b[idx]), level)
    return lo_a - hi_b, hi_a - lo_b  # the widest difference the two intervals allow


def without_replacement(y, a, b, n_boot=1000, level=0.95, seed=0):
    t, a, b = _codes(y, a, b)
    rng = np.random.default_rng(seed)
    idx = np.stack([rng.permutation(len(t)) for _ in range(n_boot)])
    return _quantiles(_f1_rows(t[idx], a[idx]) - _f1_rows(t[idx], b[idx]), level)


def _f1_over(t, p, counted):
    """Macro-F1 of each row over the labels ``counted`` marks (rows x labels): the slip."""
    f1 = np.stack(
        [
            np.where(d > 0, 2 * tp / np.maximum(d, 1), 0.0)
            for tp, d in (
                (((t == c) & (p == c)).sum(1), (t == c).sum(1) + (p == c).sum(1)) for c in range(3)
            )
        ],
        axis=1,
    )
    return (f1 * counted).sum(1) / counted.sum(1)


def sklearn_labels_present(y, a, b, n_boot=1000, level=0.95, seed=0):
    """scikit-learn's f1_score per resample without labels=: the labels that occur (in the
    resample's truth or that model's predictions) are averaged, absent ones drop out."""
    t, a, b = _codes(y, a, b)
    idx = np.random.default_rng(seed).integers(0, len(t), size=(n_boot, len(t)))
    rt, ra, rb = t[idx], a[idx], b[idx]

    def seen(*rows):
        return np.stack([np.any([(r == c).any(1) for r in rows], 0) for c in range(3)], 1)

    return _quantiles(_f1_over(rt, ra, seen(rt, ra)) - _f1_over(rt, rb, seen(rt, rb)), level)


def labels_of_y_true(y, a, b, n_boot=1000, level=0.95, seed=0):
    """Averages over the labels of y_true: right whenever the truth has all three labels."""
    t, a, b = _codes(y, a, b)
    idx = np.random.default_rng(seed).integers(0, len(t), size=(n_boot, len(t)))
    counted = np.broadcast_to(np.isin(np.arange(3), t), (n_boot, 3))
    return _quantiles(_f1_over(t[idx], a[idx], counted) - _f1_over(t[idx], b[idx], counted), level)


def test_the_sklearn_slip_is_what_a_loop_with_f1_score_computes():
    rng = np.random.default_rng(1)
    y, a, b = (list(rng.choice(LABELS[:2] if k == 0 else LABELS, 12)) for k in range(3))
    yy, aa, bb = (np.asarray(v) for v in (y, a, b))
    idx = np.random.default_rng(0).integers(0, 12, size=(20, 12))
    loop = [
        f1_score(yy[i], aa[i], average="macro") - f1_score(yy[i], bb[i], average="macro")
        for i in idx
    ]
    assert np.allclose(sklearn_labels_present(y, a, b, 20), _quantiles(np.array(loop), 0.95))


def refuses_one_resample(y, a, b, n_boot=1000, level=0.95, seed=0):
    if n_boot < 10:
        raise ValueError("too few resamples")
    return paired_reference(y, a, b, n_boot, level, seed)


def unguarded(y, a, b, n_boot=1000, level=0.95, seed=0):
    t, a, b = _codes(y, a, b)
    idx = np.random.default_rng(seed).integers(0, len(t), size=(n_boot, len(t)))

    def rows(t, p):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.mean(
                [
                    2 * ((t == c) & (p == c)).sum(1) / ((t == c).sum(1) + (p == c).sum(1))
                    for c in range(3)
                ],
                axis=0,
            )

    return _quantiles(rows(t[idx], a[idx]) - rows(t[idx], b[idx]), level)


def fixed_95(y, a, b, n_boot=1000, level=0.95, seed=0):
    t, a, b = _codes(y, a, b)
    idx = np.random.default_rng(seed).integers(0, len(t), size=(n_boot, len(t)))
    return tuple(np.percentile(_f1_rows(t[idx], a[idx]) - _f1_rows(t[idx], b[idx]), [2.5, 97.5]))


def transposed_draw(y, a, b, n_boot=1000, level=0.95, seed=0):
    """Right method, other random numbers: the indices drawn as (n, n_boot), one per column."""
    t, a, b = _codes(y, a, b)
    idx = np.random.default_rng(seed).integers(0, len(t), size=(len(t), n_boot)).T
    return _quantiles(_f1_rows(t[idx], a[idx]) - _f1_rows(t[idx], b[idx]), level)


def paired_reference(y, a, b, n_boot=1000, level=0.95, seed=0):
    """The right answer, restated (vectorised like the notebook's solution)."""
    t, a, b = _codes(y, a, b)
    idx = np.random.default_rng(seed).integers(0, len(t), size=(n_boot, len(t)))
    return _quantiles(_f1_rows(t[idx], a[idx]) - _f1_rows(t[idx], b[idx]), level)


def b_minus_a(y, a, b, n_boot=1000, level=0.95, seed=0):
    return paired_reference(y, b, a, n_boot, level, seed)


# ---------------------------------------------------------------- 06.3
def test_the_notebook_solution_passes(solution):
    verdict = check.bootstrap_diff.evaluate(solution)
    assert_verdict(verdict, PASSED, "Identical models give (0, 0)")
    assert check.bootstrap_diff.evaluate(paired_reference).status == PASSED


def test_the_solution_matches_coursekit_to_the_last_digit_and_fast(solution):
    import time

    rng = np.random.default_rng(0)
    y, a, b = (list(rng.choice(LABELS, 2039)) for _ in range(3))
    start = time.perf_counter()
    low, high = solution(y, a, b)
    assert time.perf_counter() - start < 5  # the notebook's 2,039 test reviews, 1,000 resamples
    ci = metrics.paired_bootstrap(y, a, b, "macro_f1", labels=LABELS)
    assert abs(low - ci.low) < 1e-12 and abs(high - ci.high) < 1e-12


def test_a_blank_exercise_is_not_attempted_without_a_hint():
    blank = _define(learner.strip_solutions(_exercise_source()))
    verdict = check.bootstrap_diff.evaluate(blank["bootstrap_diff_ci"])
    assert_verdict(verdict, NOT_ATTEMPTED)
    # the learner wrote the resampling but not yet the per-row macro-F1: still not attempted
    source = _exercise_source()
    cut = source.index("def bootstrap_diff_ci")
    half = learner.strip_solutions(source[:cut]) + "\n\n\n" + source[cut:]
    assert_verdict(check.bootstrap_diff.evaluate(_define(half)["bootstrap_diff_ci"]), NOT_ATTEMPTED)


@pytest.mark.parametrize(("answer", "status", "fragment"), COMMON)
def test_common_answers(answer, status, fragment):
    assert_verdict(check.bootstrap_diff.evaluate(answer), status, fragment)


def test_calling_the_ready_made_bootstraps_is_caught():
    def uses_coursekit(y, a, b, n_boot=1000, level=0.95, seed=0):
        ci = metrics.paired_bootstrap(y, a, b, n_boot=n_boot, level=level, seed=seed, labels=LABELS)
        return ci.low, ci.high

    def uses_scipy(y, a, b, n_boot=1000, level=0.95, seed=0):
        from scipy import stats

        stats.bootstrap((np.arange(5.0),), np.mean, n_resamples=10, random_state=0)
        return paired_reference(y, a, b, n_boot, level, seed)

    def per_model_with_coursekit(y, a, b, n_boot=1000, level=0.95, seed=0):
        ia = metrics.bootstrap_ci(y, a, n_boot=max(n_boot, 10), level=level, labels=LABELS)
        ib = metrics.bootstrap_ci(y, b, n_boot=max(n_boot, 10), level=level, labels=LABELS)
        return ia.low - ib.high, ia.high - ib.low

    for answer, name in [
        (uses_coursekit, "paired_bootstrap"),
        (uses_scipy, "bootstrap"),
        (per_model_with_coursekit, "bootstrap_ci"),
    ]:
        verdict = check.bootstrap_diff.evaluate(answer)
        assert_verdict(verdict, NOT_YET, f"`{name}`")
        assert "write your own" in verdict.message


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (unpaired, "same resampled rows (paired)"),
        (accuracy_diff, "difference in accuracy"),
        (normal_approx, "normal approximation"),
        (per_model, "one interval per model"),
        (without_replacement, "Draw the indices with replacement"),
        (sklearn_labels_present, "still counts: the mean is over all three labels"),
        (labels_of_y_true, "none of them neutral"),
        (refuses_one_resample, "raised ValueError"),
        (unguarded, "contains NaN"),
        (fixed_95, "use the level you are given (0.9)"),
        (transposed_draw, "close to the expected"),
        (b_minus_a, "for b minus a"),
        (lambda y, a, b, **kw: (0.1, 0.2, 0.3), "two numbers"),
        (lambda y, a, b, **kw: ((0.8, 0.9), (0.7, 0.8)), "one interval per model"),
        (lambda y, a, b, **kw: (0.3, -0.1), "low above high"),
    ],
)
def test_each_wrong_idea_gets_its_own_message(answer, fragment):
    assert_verdict(check.bootstrap_diff.evaluate(answer), NOT_YET, fragment)


def test_the_wrong_ideas_are_told_apart_on_hidden_sets_too():
    """Not only on the identical models: each wrong idea is named on the other sets as well."""
    cases = check._boot_cases()
    for answer, fragment in [
        (unpaired, "second, different draw"),
        (per_model, "one interval per model"),
        (normal_approx, "normal approximation"),
    ]:
        for case in cases[1:4]:
            got = np.array(
                answer(
                    case["y"], case["a"], case["b"], case["B"], case["level"], case.get("seed", 0)
                ),
                dtype=float,
            )
            message = check._boot_diagnosis(case, got, check._boot_reference(case))
            assert fragment in message, (case["what"], message)


def test_hidden_sets_matter():
    """A function right on the visible toy reviews (and on identical models) only still fails."""
    toy = check._boot_cases()[1]
    toy_answer = paired_reference(toy["y"], toy["a"], toy["b"], toy["B"], toy["level"])

    def hard_coded(y, a, b, n_boot=1000, level=0.95, seed=0):
        return (0.0, 0.0) if list(a) == list(b) else toy_answer

    verdict = check.bootstrap_diff.evaluate(hard_coded)
    assert_verdict(verdict, NOT_YET, "hidden reviews")


def test_hints_are_staged_and_never_a_solution_line():
    hints = check.bootstrap_diff.hints
    assert len(hints) >= 2 and "(" not in hints[0]
    solution_lines = [
        ln.strip()
        for ln in _exercise_source().splitlines()
        if ln.strip() and not ln.strip().startswith("#")
    ]
    for line in solution_lines:
        if len(line) >= 12:
            assert all(line not in h for h in hints), line


# ---------------------------------------------------------------- 06.1's absent class
def test_macro_f1_counts_a_class_absent_from_both_lists():
    def over_labels_seen(y_true, y_pred):  # averages over the labels that occur, by hand
        seen = sorted(set(y_true) | set(y_pred))
        scores = []
        for label in seen:
            tp = sum(t == label and p == label for t, p in zip(y_true, y_pred, strict=True))
            wrong = sum((t == label) != (p == label) for t, p in zip(y_true, y_pred, strict=True))
            scores.append(2 * tp / (2 * tp + wrong))
        return sum(scores) / len(scores)

    assert_verdict(
        check.macro_f1.evaluate(over_labels_seen), NOT_YET, "'neutral' occurs in neither list"
    )

    def divides_by_zero(y_true, y_pred):
        scores = []
        for label in LABELS:
            tp = sum(t == label and p == label for t, p in zip(y_true, y_pred, strict=True))
            fp = sum(t != label and p == label for t, p in zip(y_true, y_pred, strict=True))
            fn = sum(t == label and p != label for t, p in zip(y_true, y_pred, strict=True))
            scores.append(2 * tp / (2 * tp + fp + fn))
        return sum(scores) / len(scores)

    assert_verdict(check.macro_f1.evaluate(divides_by_zero), NOT_YET, "your division fails")
