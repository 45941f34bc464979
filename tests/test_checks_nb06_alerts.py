"""Exercise 06.6 (an alerting rule): the reference passes, a blank is "not attempted yet",
the ready-made rule is refused, and each plausible wrong rule gets its own message."""

from __future__ import annotations

import math

import numpy as np
import pytest
from check_helpers import blank, crash, solution_and_learner_verdicts

from coursekit import sentiment
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED
from coursekit.checks import nb06 as check


def _rule(negative, total, window=6, min_count=5, z=3.0, *, past="before", smooth=True,
          history=True, use_min=True, counts=False):  # fmt: skip
    """The notebook's loop as a learner writes it, with one idea switchable to a wrong one."""
    negative = np.asarray(negative, dtype=float)
    total = np.asarray(total, dtype=float)
    alerts = np.zeros(len(negative), dtype=bool)
    for t in range(len(negative)):
        if past == "before":
            lo, hi = max(0, t - window), t
        elif past == "with_current":
            lo, hi = max(0, t - window + 1), t + 1
        else:  # "all": the whole series but the month itself
            lo, hi = 0, len(negative)
        pn = negative[lo:hi].sum() - (negative[t] if past == "all" else 0)
        pt = total[lo:hi].sum() - (total[t] if past == "all" else 0)
        if (history and pt == 0) or total[t] == 0 or (use_min and negative[t] < min_count):
            continue
        if counts:
            months = negative[max(0, t - window) : t]
            if len(months) == 0:
                continue
            mean, sd = months.mean(), months.std()
            alerts[t] = negative[t] > mean + z * max(sd, math.sqrt(max(mean, 1.0)))
            continue
        p = (pn + 1) / (pt + 2) if smooth else (pn / pt if pt else 0.0)
        if p <= 0:
            alerts[t] = negative[t] > 0
            continue
        if p >= 1:
            continue
        alerts[t] = (negative[t] - total[t] * p) / math.sqrt(total[t] * p * (1 - p)) > z
    return alerts


def reference(negative, total, window=6, min_count=5, z=3.0):
    return _rule(negative, total, window, min_count, z)


def _with(**change):
    return lambda negative, total, window=6, min_count=5, z=3.0: _rule(
        negative, total, window, min_count, z, **change
    )


def test_the_reference_passes_and_says_what_it_saw():
    verdict = check.alerting_rule.evaluate(reference)
    assert verdict.status == PASSED, verdict.line()
    assert "month 8" in verdict.message


def test_the_reference_agrees_with_coursekit_on_every_case():
    for case in check._alert_cases():
        want = sentiment.alert_months(case["neg"], case["tot"], **case["kw"])
        assert np.array_equal(reference(case["neg"], case["tot"], **case["kw"]), want)


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (None, NOT_ATTEMPTED, "still None"),
        (blank, NOT_ATTEMPTED, "NotImplementedError"),
        (crash, NOT_YET, "raised KeyError"),
        ("not a function", NOT_YET, "should be a function"),
        (sentiment.alert_months, NOT_YET, "write your own"),
        (lambda n, t, **kw: sentiment.find_alerts is None or sentiment.alert_months(n, t, **kw),
         NOT_YET, "write your own"),
        (_with(past="all"), NOT_YET, "months after the one you judge"),
        (_with(past="with_current"), NOT_YET, "includes month t itself"),
        (_with(use_min=False), NOT_YET, "fewer than `min_count`"),
        (_with(smooth=False), NOT_YET, "raw past share"),
        (_with(history=False), NOT_YET, "no mentions in its window"),
        (_with(counts=True), NOT_YET, "counts, not shares"),
        (lambda n, t, window=6, min_count=5, z=3.0: np.flatnonzero(reference(n, t)), NOT_YET,
         "not the positions"),
        (lambda n, t, window=6, min_count=5, z=3.0: reference(n, t), NOT_YET, "window=3"),
        (lambda n, t, window=6, min_count=5, z=3.0: np.zeros(len(n)) + 0.5, NOT_YET,
         "not scores"),
    ],
)  # fmt: skip
def test_wrong_rules_get_their_own_message(answer, status, fragment):
    verdict = check.alerting_rule.evaluate(answer)
    assert verdict.status == status, verdict.line()
    assert fragment in verdict.message, verdict.line()
    if status == NOT_YET:
        assert "Hint" in verdict.line()


def test_the_hints_never_hold_the_solution():
    hints = " ".join(check.alerting_rule.hints)
    assert "np.sqrt" not in hints and "+ 2)" not in hints and "for t in" not in hints
    assert len(check.alerting_rule.hints) == 3


def test_the_notebooks_solution_passes_and_its_learner_version_is_not_attempted():
    solved, blank_one = solution_and_learner_verdicts(
        "06_sentiment.ipynb", "def alert_months(", "alert_months", check.alerting_rule, {"np": np}
    )
    assert solved.status == PASSED, solved.line()
    assert blank_one.status == NOT_ATTEMPTED and "Hint" not in blank_one.line()
