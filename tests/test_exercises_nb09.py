"""Notebook 09's build-it exercise: a Thompson-sampling bandit and its regret (09.4).

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
    for defines in ("thompson_step", "thompson_run"):
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
