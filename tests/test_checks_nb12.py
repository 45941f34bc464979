"""The checks of notebook 12: the split (12.1), NDCG@k (12.2) and the ALS half-step (12.3).

Each check passes the reference answer (the notebook's own cell), says "not attempted yet" on
the blank the learner version ships, catches coursekit's version, and gives each plausible
wrong answer its own message.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from check_helpers import COMMON, assert_verdict, solution_and_learner_verdicts

from coursekit import recommend as rc
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, nb12

NOTEBOOK = "12_recommendations.ipynb"

# --------------------------------------------------------------------------- 12.1


def split_ok(events):
    buys = events[events["kind"] == "purchase"].sort_values("date", kind="stable")
    counts = buys.groupby("shopper_id")["product_id"].transform("size")
    test = buys[counts >= 2].groupby("shopper_id").tail(1)
    cut = events["shopper_id"].map(test.set_index("shopper_id")["date"])
    return events[cut.isna() | (events["date"] < cut)], test


def split_row_only(events):
    history, test = split_ok(events)
    return events.drop(index=test.index), test


def split_file_order(events):
    buys = events[events["kind"] == "purchase"]
    test = buys[buys.groupby("shopper_id")["product_id"].transform("size") >= 2]
    test = test.groupby("shopper_id").tail(1)
    cut = events["shopper_id"].map(test.set_index("shopper_id")["date"])
    return events[cut.isna() | (events["date"] < cut)], test


def split_everyone(events):
    buys = events[events["kind"] == "purchase"].sort_values("date", kind="stable")
    test = buys.groupby("shopper_id").tail(1)
    cut = events["shopper_id"].map(test.set_index("shopper_id")["date"])
    return events[cut.isna() | (events["date"] < cut)], test


def split_last_event(events):
    last = events.sort_values("date", kind="stable").groupby("shopper_id").tail(1)
    return events.drop(index=last.index), last


def split_global(events):
    history, test = split_ok(events)
    return events[events["date"] < test["date"].min()], test


def split_history_too_short(events):
    history, test = split_ok(events)
    return history[history["kind"] == "purchase"], test


def split_coursekit(events):
    s = rc.leave_last_out(events)
    return s.train_full, s.test


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        *COMMON,
        (split_ok, PASSED, ""),
        (split_row_only, NOT_YET, "leakage"),
        (split_file_order, NOT_YET, "not in date order"),
        (split_everyone, NOT_YET, "at least two purchases"),
        (split_last_event, NOT_YET, "last *purchase*"),
        (split_global, NOT_YET, "one global date"),
        (split_history_too_short, NOT_YET, "the history is not"),
        (lambda e: split_ok(e)[1], NOT_YET, "pair"),
        (rc.leave_last_out, NOT_YET, "write your own"),
        (split_coursekit, NOT_YET, "write your own"),
    ],
)
def test_split_last(answer, status, fragment):
    assert_verdict(nb12.split_last.evaluate(answer), status, fragment)


# --------------------------------------------------------------------------- 12.2


def ndcg_ok(ranked, relevant, k=10):
    if not relevant:
        return 0.0
    seen, dcg = set(), 0.0
    for i, item in enumerate(ranked[:k], start=1):
        if item in relevant and item not in seen:
            dcg += 1 / math.log2(i + 1)
        seen.add(item)
    return dcg / sum(1 / math.log2(i + 1) for i in range(1, min(k, len(relevant)) + 1))


def ndcg_reciprocal_rank(ranked, relevant, k=10):
    for i, item in enumerate(ranked[:k], start=1):
        if item in relevant:
            return 1 / i
    return 0.0


def ndcg_unnormalised(ranked, relevant, k=10):
    return sum(
        1 / math.log2(i + 1) for i, r in enumerate(dict.fromkeys(ranked[:k]), 1) if r in relevant
    )


def ndcg_ideal_all(ranked, relevant, k=10):
    if not relevant:
        return 0.0
    dcg = ndcg_ok(ranked, relevant, k) * sum(
        1 / math.log2(i + 1) for i in range(1, min(k, len(relevant)) + 1)
    )
    return dcg / sum(1 / math.log2(i + 1) for i in range(1, len(relevant) + 1))


def ndcg_counts_repeats(ranked, relevant, k=10):
    if not relevant:
        return 0.0
    dcg = sum(1 / math.log2(i + 1) for i, r in enumerate(ranked[:k], 1) if r in relevant)
    return dcg / sum(1 / math.log2(i + 1) for i in range(1, min(k, len(relevant)) + 1))


def ndcg_divides_by_zero(ranked, relevant, k=10):
    seen, dcg = set(), 0.0
    for i, item in enumerate(ranked[:k], start=1):
        if item in relevant and item not in seen:
            dcg += 1 / math.log2(i + 1)
        seen.add(item)
    return dcg / sum(1 / math.log2(i + 1) for i in range(1, min(k, len(relevant)) + 1))


def ndcg_log_of_rank(ranked, relevant, k=10):
    return ndcg_ok(ranked, relevant, k) if ranked[0] in relevant else 0.5


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        *COMMON,
        (ndcg_ok, PASSED, ""),
        (ndcg_reciprocal_rank, NOT_YET, "reciprocal rank"),
        (ndcg_unnormalised, NOT_YET, "without dividing by the ideal"),
        (ndcg_ideal_all, NOT_YET, "min(k, len(relevant))"),
        (ndcg_counts_repeats, NOT_YET, "counted twice"),
        (ndcg_divides_by_zero, NOT_YET, "ZeroDivisionError"),
        (ndcg_log_of_rank, NOT_YET, "should be"),
        (lambda r, rel, k=10: None, NOT_YET, "should return a number"),
        (rc.ndcg_at_k, NOT_YET, "write your own"),
        (lambda r, rel, k=10: rc.ndcg_at_k(r, rel, k), NOT_YET, "write your own"),
    ],
)
def test_ndcg_at_k(answer, status, fragment):
    assert_verdict(nb12.ndcg_at_k.evaluate(answer), status, fragment)


# --------------------------------------------------------------------------- 12.3


def als_ok(Y, R, reg, alpha):
    k = Y.shape[1]
    X = np.zeros((R.shape[0], k))
    gram = Y.T @ Y + reg * np.eye(k)
    for u in range(R.shape[0]):
        bought = np.flatnonzero(R[u])
        if len(bought) == 0:
            continue
        Yu, c = Y[bought], 1 + alpha * R[u, bought]
        X[u] = np.linalg.solve(gram + (Yu.T * (c - 1)) @ Yu, Yu.T @ c)
    return X


def _dense(Y, R, reg, alpha, confidence, preference, with_gram=True):
    k = Y.shape[1]
    X = np.zeros((R.shape[0], k))
    for u in range(R.shape[0]):
        c, p = confidence(R[u]), preference(R[u])
        A = (Y.T * c) @ Y if with_gram else (Y.T * (c * (R[u] > 0))) @ Y
        X[u] = np.linalg.solve(A + reg * np.eye(k), Y.T @ (c * p))
    return X


def als_no_one(Y, R, reg, alpha):
    return _dense(Y, R, reg, alpha, lambda r: alpha * r, lambda r: (r > 0) * 1.0)


def als_counts(Y, R, reg, alpha):
    return _dense(Y, R, reg, alpha, lambda r: 1 + alpha * r, lambda r: r)


def als_no_reg(Y, R, reg, alpha):
    return _dense(Y, R, 0.0, alpha, lambda r: 1 + alpha * r, lambda r: (r > 0) * 1.0)


def als_observed_only(Y, R, reg, alpha):
    return _dense(Y, R, reg, alpha, lambda r: 1 + alpha * r, lambda r: (r > 0) * 1.0, False)


def als_explicit(Y, R, reg, alpha):
    return R @ Y @ np.linalg.inv(Y.T @ Y + reg * np.eye(Y.shape[1]))


def als_transposed(Y, R, reg, alpha):
    return als_ok(Y, R, reg, alpha).T


def als_nan_for_empty(Y, R, reg, alpha):
    X = als_ok(Y, R, reg, alpha)
    X[~R.any(axis=1)] = np.nan
    return X


def als_item_step(Y, R, reg, alpha):
    return als_ok(Y, R, reg, alpha) * 1.1


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        *COMMON,
        (als_ok, PASSED, ""),
        (als_no_one, NOT_YET, "1 + alpha·r"),
        (als_counts, NOT_YET, "counts as the preference"),
        (als_no_reg, NOT_YET, "no regularisation"),
        (als_observed_only, NOT_YET, "start from YᵀY"),
        (als_explicit, NOT_YET, "explicit-feedback"),
        (als_transposed, NOT_YET, "one row per shopper"),
        (als_nan_for_empty, NOT_YET, "zero vector"),
        (als_item_step, NOT_YET, "shopper row"),
        (rc.als_user_step, NOT_YET, "write your own"),
        (lambda Y, R, reg, alpha: rc.als_user_step(Y, R, reg, alpha), NOT_YET, "write your own"),
    ],
)
def test_als_user_step(answer, status, fragment):
    assert_verdict(nb12.als_user_step.evaluate(answer), status, fragment)


@pytest.mark.parametrize(
    ("marker", "name", "check"),
    [
        ("def split_last(", "split_last", nb12.split_last),
        ("def ndcg_at_k(", "ndcg_at_k", nb12.ndcg_at_k),
        ("def als_user_step(", "als_user_step", nb12.als_user_step),
    ],
)
def test_notebook_cell_passes_and_its_learner_blank_is_not_attempted(marker, name, check):
    solved, blank = solution_and_learner_verdicts(
        NOTEBOOK, marker, name, check, {"np": np, "pd": pd, "math": math}
    )
    assert solved.status == PASSED, solved.line()
    assert blank.status == NOT_ATTEMPTED, blank.line()
