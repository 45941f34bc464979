"""Notebook 09's exercises with hidden inputs: Holm's correction (09.2) and a Thompson-sampling
bandit with its regret (09.5).

The reference is the solution notebook's own cell; the check simulates the learner's bandit on
hidden rates. Each plausible mistake gets its own message; coursekit's bandit is caught.
"""

from __future__ import annotations

import numpy as np
import pytest
from check_helpers import blank

from coursekit import experiments as ex
from coursekit import paths
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, nb09


def _solution() -> dict:
    import nbformat

    nb = nbformat.read(paths.notebooks_dir() / "09_measuring_impact.ipynb", as_version=4)
    namespace: dict = {"np": np}
    for defines in ("holm_reject", "thompson_step", "thompson_run"):
        cell = next(c for c in nb.cells if c.cell_type == "code" and f"def {defines}(" in c.source)
        exec(cell.source, namespace)
    return namespace


@pytest.fixture(scope="module")
def ns():
    return _solution()


def _bandit(ns, update="right", oracle=False, click_rate=None):
    step = ns["thompson_step"]

    def thompson_run(rates, horizon, rng):
        successes, failures = np.zeros(len(rates)), np.zeros(len(rates))
        arms, clicks = np.zeros(horizon, dtype=int), np.zeros(horizon, dtype=bool)
        for t in range(horizon):
            arm = int(np.argmax(rates)) if oracle else step(successes, failures, rng)
            rate = rates[arm] if click_rate is None else click_rate(rates)
            clicked = rng.random() < rate
            if update == "right":
                successes[arm] += clicked
                failures[arm] += not clicked
            elif update == "swapped":
                successes[arm] += not clicked
                failures[arm] += clicked
            arms[t], clicks[t] = arm, clicked
        return arms, clicks

    return thompson_run


def _status(verdict, status, fragment=""):
    assert verdict.status == status, verdict.line()
    assert fragment in verdict.message, verdict.line()


def test_the_notebook_solution_passes(ns):
    verdict = nb09.thompson_bandit.evaluate(ns["thompson_run"], ns["cumulative_regret"])
    _status(verdict, PASSED)


def test_coursekit_reference_loop_would_pass_the_statistics(ns):
    """ex.thompson_run (the notebook's fallback) is a correct bandit: wrapped so that the
    tripwire does not see it, it passes; called directly, it is caught."""
    run = ex.thompson_run
    _status(nb09.thompson_bandit.evaluate(run, ns["cumulative_regret"]), NOT_YET, "itself")
    _status(
        nb09.thompson_bandit.evaluate(
            lambda r, h, g: ex.thompson_run(r, h, g), ns["cumulative_regret"]
        ),
        NOT_YET,
        "calls `thompson_run`",
    )


def test_blank_is_not_attempted_and_gets_no_hint(ns):
    for args in [(blank, ns["cumulative_regret"]), (ns["thompson_run"], blank)]:
        verdict = nb09.thompson_bandit.evaluate(*args)
        assert verdict.status == NOT_ATTEMPTED
        assert verdict.line().endswith("not attempted yet.")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"update": "none"}, "it learns nothing"),
        ({"update": "swapped"}, "WORST copy"),
        ({"oracle": True}, "uses the true rates"),
        ({"click_rate": lambda rates: rates.mean()}, "must come from the shown arm"),
    ],
)
def test_each_plausible_mistake_gets_its_own_message(ns, options, fragment):
    verdict = nb09.thompson_bandit.evaluate(_bandit(ns, **options), ns["cumulative_regret"])
    _status(verdict, NOT_YET, fragment)


@pytest.mark.parametrize(
    ("regret", "fragment"),
    [
        (lambda r, a: r.max() - r[a], "np.cumsum"),
        (lambda r, a: np.cumsum(r[a]), "expected clicks"),
        (lambda r, a: np.cumsum(r[a] - r.max()), "off by"),
    ],
)
def test_each_wrong_regret_gets_its_own_message(ns, regret, fragment):
    _status(nb09.thompson_bandit.evaluate(ns["thompson_run"], regret), NOT_YET, fragment)


def test_edge_cases_no_impressions_and_one_copy(ns):
    def no_empty(rates, horizon, rng):
        return ns["thompson_run"](rates, max(horizon, 1), rng)

    _status(
        nb09.thompson_bandit.evaluate(no_empty, ns["cumulative_regret"]),
        NOT_YET,
        "no impressions",
    )


# --------------------------------------------------------------------------- 09.2 Holm


def _holm_variant(ns, mistake):
    """The notebook's holm_reject with one plausible mistake."""

    def holm_reject(p_values, alpha=0.05):
        p = np.asarray(p_values, dtype=float)
        m = len(p)
        order = np.argsort(p, kind="stable")
        reject = np.zeros(m, dtype=bool)
        for k, i in enumerate(order):
            threshold = alpha / (m - k + 1) if mistake == "shifted" else alpha / (m - k)
            if mistake == "bonferroni":
                threshold = alpha / m
            if mistake == "fixed alpha":
                threshold = 0.05 / (m - k)
            if p[i] > threshold:
                if mistake == "no stop":
                    continue
                break
            reject[i] = True
        if mistake == "sorted":
            return reject[order]
        return reject

    return holm_reject


def test_holm_reference_passes_and_agrees_with_statsmodels(ns):
    from statsmodels.stats.multitest import multipletests

    _status(nb09.holm_reject.evaluate(ns["holm_reject"]), PASSED)
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = np.round(rng.random(int(rng.integers(1, 15))) ** 3, 3)  # rounding makes ties
        assert ns["holm_reject"](list(p)).tolist() == multipletests(p, method="holm")[0].tolist()
    assert ns["holm_reject"]([1.0, 1.0]).tolist() == [False, False]


def test_holm_blank_and_ready_made_versions(ns):
    verdict = nb09.holm_reject.evaluate(blank)
    assert verdict.status == NOT_ATTEMPTED and verdict.line().endswith("not attempted yet.")
    _status(nb09.holm_reject.evaluate(lambda p, a=0.05: ex.holm(p, a)[0]), NOT_YET, "calls `holm`")
    from statsmodels.stats.multitest import multipletests

    _status(
        nb09.holm_reject.evaluate(lambda p, a=0.05: multipletests(p, a, method="holm")[0]),
        NOT_YET,
        "calls `multipletests`",
    )
    _status(nb09.holm_reject.evaluate(lambda p, a=0.05: "reject"), NOT_YET, "True/False")


@pytest.mark.parametrize(
    ("answer", "fragment"),
    [
        (lambda p, a=0.05: np.asarray(p) <= a, "no correction"),
        ("bonferroni", "Bonferroni"),
        ("sorted", "sorted order"),
        ("no stop", "STOPS at the first"),
        ("bh", "Benjamini-Hochberg"),
        ("shifted", "off by one"),
        ("fixed alpha", "ignores the `alpha`"),
    ],
)
def test_holm_each_plausible_mistake_gets_its_own_message(ns, answer, fragment):
    if answer == "bh":
        answer = _bh_by_hand
    elif isinstance(answer, str):
        answer = _holm_variant(ns, answer)
    _status(nb09.holm_reject.evaluate(answer), NOT_YET, fragment)


def _bh_by_hand(p_values, alpha=0.05):
    p = np.asarray(p_values, dtype=float)
    m, order = len(p), np.argsort(p, kind="stable")
    ok = np.nonzero(p[order] <= alpha * np.arange(1, m + 1) / m)[0]
    reject = np.zeros(m, dtype=bool)
    if len(ok):
        reject[order[: ok[-1] + 1]] = True
    return reject


def test_holm_hidden_inputs_catch_an_answer_right_only_on_the_visible_lists(ns):
    visible = {
        (0.01, 0.04, 0.03, 0.005): [True, False, False, True],
        (0.001, 0.013, 0.2, 0.5): [True, True, False, False],
    }

    def memorised(p_values, alpha=0.05):
        return visible.get(tuple(p_values), [False] * len(p_values))

    _status(nb09.holm_reject.evaluate(memorised), NOT_YET, "expected")


def test_holm_edge_cases_ties_and_p_equal_to_one(ns):
    def breaks_ties_badly(p_values, alpha=0.05):  # ties: only the first of equal p-values
        out = ns["holm_reject"](p_values, alpha)
        seen = set()
        for i, p in enumerate(p_values):
            if p in seen:
                out[i] = False
            seen.add(p)
        return out

    _status(nb09.holm_reject.evaluate(breaks_ties_badly), NOT_YET, "0.01, 0.01")

    def one_is_rejected(p_values, alpha=0.05):  # p = 1 must never be rejected
        out = ns["holm_reject"](p_values, alpha)
        return [bool(o) or p == 1.0 for o, p in zip(out, p_values, strict=True)]

    _status(nb09.holm_reject.evaluate(one_is_rejected), NOT_YET, "1.0")
