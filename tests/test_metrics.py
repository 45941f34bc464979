"""coursekit.metrics against scikit-learn (where it has an equivalent) and by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from coursekit import metrics

LABELS = ["negative", "neutral", "positive"]


def _random_labels(n: int = 500, seed: int = 0, agree: float = 0.7):
    rng = np.random.default_rng(seed)
    t = rng.choice(LABELS, size=n, p=[0.3, 0.2, 0.5])
    p = np.where(rng.random(n) < agree, t, rng.choice(LABELS, size=n))
    return t, p


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_point_metrics_match_sklearn(seed):
    t, p = _random_labels(seed=seed)
    assert metrics.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p))
    assert metrics.macro_f1(t, p) == pytest.approx(skm.f1_score(t, p, average="macro"))
    np.testing.assert_array_equal(
        metrics.confusion_matrix(t, p, LABELS), skm.confusion_matrix(t, p, labels=LABELS)
    )
    table = metrics.classification_scores(t, p, LABELS)
    pr, rc, f1, sup = skm.precision_recall_fscore_support(t, p, labels=LABELS, zero_division=0)
    np.testing.assert_allclose(table.loc[LABELS, "precision"], pr)
    np.testing.assert_allclose(table.loc[LABELS, "recall"], rc)
    np.testing.assert_allclose(table.loc[LABELS, "f1"], f1)
    np.testing.assert_array_equal(table.loc[LABELS, "support"], sup)
    assert table.loc["macro avg", "f1"] == pytest.approx(f1.mean())
    assert table.loc["accuracy", "f1"] == pytest.approx(skm.accuracy_score(t, p))


def test_macro_f1_zero_division_and_missing_class_like_sklearn():
    t = ["positive", "positive", "negative", "neutral"]
    p = ["positive", "positive", "positive", "positive"]  # never predicts two classes
    assert metrics.macro_f1(t, p, LABELS) == pytest.approx(
        skm.f1_score(t, p, labels=LABELS, average="macro", zero_division=0)
    )
    # a class absent from both true and predicted labels still counts when listed
    assert metrics.macro_f1(["positive"], ["positive"], LABELS) == pytest.approx(1 / 3)


def test_macro_f1_by_hand():
    # 2x2 case: TP_a=2, FP_a=1, FN_a=0 -> P=2/3, R=1, F1=0.8; class b: TP=1, FN=1 -> F1=2/3
    t = ["a", "a", "b", "b"]
    p = ["a", "a", "a", "b"]
    assert metrics.macro_f1(t, p) == pytest.approx((0.8 + 2 / 3) / 2)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="3 items but y_pred has 2"):
        metrics.macro_f1(["a", "b", "a"], ["a", "b"])
    with pytest.raises(ValueError, match="empty"):
        metrics.accuracy([], [])
    with pytest.raises(ValueError, match="not one of"):
        metrics.macro_f1(["a"], ["zzz"], labels=["a", "b"])
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.bootstrap_ci(["a", "b"] * 10, ["a", "b"] * 10, metric="auc")


def test_bootstrap_interval_contains_point_and_matches_slow_path():
    t, p = _random_labels(n=400)
    fast = metrics.bootstrap_ci(t, p, "macro_f1", n_boot=300, seed=3)
    slow = metrics.bootstrap_ci(
        t, p, lambda a, b: skm.f1_score(a, b, average="macro"), n_boot=300, seed=3
    )
    assert fast.low < fast.value < fast.high
    assert fast.value == pytest.approx(skm.f1_score(t, p, average="macro"))
    # the vectorised and the generic path resample the same indices: identical intervals
    assert fast.low == pytest.approx(slow.low) and fast.high == pytest.approx(slow.high)
    # deterministic for a seed, and the interval shrinks with 4x the data
    assert metrics.bootstrap_ci(t, p, n_boot=300, seed=3) == fast
    t4, p4 = np.tile(t, 4), np.tile(p, 4)
    big = metrics.bootstrap_ci(t4, p4, n_boot=300, seed=3)
    assert (big.high - big.low) < 0.7 * (fast.high - fast.low)
    acc = metrics.bootstrap_ci(t, p, "accuracy", n_boot=300)
    assert acc.value == pytest.approx(skm.accuracy_score(t, p))
    assert str(acc).count("[") == 1


def test_paired_bootstrap_sees_real_difference_and_none():
    t, good = _random_labels(n=600, agree=0.9, seed=5)
    _, bad = _random_labels(n=600, agree=0.5, seed=6)
    bad = np.where(np.random.default_rng(1).random(600) < 0.5, t, bad)
    diff = metrics.paired_bootstrap(t, good, bad, n_boot=500)
    assert diff.low > 0
    same = metrics.paired_bootstrap(t, good, good, n_boot=200)
    assert same.value == 0 and same.low == 0 and same.high == 0


def _probs(n=2000, seed=0, sharp=3.0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), y] += 1.5
    return logits * sharp, y


def test_softmax_and_log_loss_match_sklearn():
    logits, y = _probs()
    p = metrics.softmax(logits)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert metrics.log_loss(p, y) == pytest.approx(skm.log_loss(y, p, labels=[0, 1, 2]))
    assert metrics.softmax([[1000.0, 0.0, 0.0]])[0, 0] == pytest.approx(1.0)  # no overflow
    with pytest.raises(ValueError, match="positive"):
        metrics.softmax(logits, temperature=0)


def test_reliability_bins_match_sklearn_calibration_curve():
    logits, y = _probs()
    p = metrics.softmax(logits)
    bins = metrics.reliability_bins(p, y, n_bins=10)
    correct = (p.argmax(1) == y).astype(int)
    prob_true, prob_pred = calibration_curve(correct, p.max(1), n_bins=10, strategy="uniform")
    np.testing.assert_allclose(bins["accuracy"], prob_true)
    np.testing.assert_allclose(bins["confidence"], prob_pred)
    assert bins["count"].sum() == len(y)


def test_ece_by_hand():
    # two predictions at confidence 0.9 (one right) and one at 0.6 (right)
    probs = np.array([[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [0.2, 0.6, 0.2]])
    y = np.array([0, 1, 1])
    # bin (0.8, 0.9]: acc 0.5, conf 0.9 -> gap 0.4, weight 2/3; bin (0.5, 0.6]: gap 0.4, weight 1/3
    assert metrics.expected_calibration_error(probs, y, n_bins=10) == pytest.approx(0.4)
    with pytest.raises(TypeError, match="integer"):
        metrics.expected_calibration_error(probs, np.array(["a", "b", "b"]))


def test_temperature_scaling_fixes_overconfidence():
    logits, y = _probs(sharp=4.0)  # an over-confident model: true temperature is about 4
    t = metrics.fit_temperature(logits, y)
    assert 2.5 < t < 6.0
    before = metrics.expected_calibration_error(metrics.softmax(logits), y)
    after = metrics.expected_calibration_error(metrics.softmax(logits, t), y)
    assert after < before / 2
    # the temperature never changes the predicted class
    np.testing.assert_array_equal(metrics.softmax(logits, t).argmax(1), logits.argmax(1))
    # an under-confident model gets T < 1
    assert metrics.fit_temperature(logits / 8, y) < 1.0
