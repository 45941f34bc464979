"""Exercise 06.7 (an interval for a group's error gap): the reference passes and equals
coursekit's ``group_gaps``, a blank is "not attempted yet", the ready-made function is refused,
and each plausible wrong answer gets its own message."""

from __future__ import annotations

import numpy as np
import pytest
from check_helpers import blank, crash, solution_and_learner_verdicts

from coursekit import sentiment
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, nb06_fairness
from coursekit.checks import nb06 as check


def _gap(errors, in_group, n_boot=1000, level=0.95, seed=0, *, mask="bool", compare="rest",
         resample="both", order="group_first", pooled=False, sign=1, ends="quantile",
         raise_empty=True):  # fmt: skip
    """The notebook's solution as a learner writes it, with one idea switchable to a wrong one."""
    e = np.asarray(errors, dtype=float)
    m = np.asarray(in_group, dtype=bool) if mask == "bool" else np.asarray(in_group)
    inside, rest = e[m], e[~m]  # with mask="raw", 0/1 integers index positions
    if raise_empty and (len(inside) == 0 or len(rest) == 0):
        raise ValueError("the group and the rest must both have at least one review")
    other = e if compare == "all" else rest
    gap = sign * (inside.mean() - other.mean())
    rng = np.random.default_rng(seed)
    if pooled:
        idx = rng.integers(0, len(e), size=(n_boot, len(e)))
        pe, pm = e[idx], np.asarray(in_group, dtype=bool)[idx]
        diffs = (pe * pm).sum(1) / pm.sum(1) - (pe * ~pm).sum(1) / (~pm).sum(1)
    else:
        draws = {}
        for name in ("group", "rest") if order == "group_first" else ("rest", "group"):
            values = inside if name == "group" else rest
            draws[name] = values[rng.integers(0, len(values), size=(n_boot, len(values)))].mean(1)
        boot_in = (
            draws["group"] if resample in ("both", "group") else np.full(n_boot, inside.mean())
        )
        boot_rest = draws["rest"] if resample in ("both", "rest") else np.full(n_boot, rest.mean())
        diffs = sign * (boot_in - boot_rest)
    if ends == "normal":
        return gap, gap - 1.96 * diffs.std(), gap + 1.96 * diffs.std()
    if ends == "percent":
        low, high = np.quantile(diffs, [(1 - level) / 200, (1 + level) / 200])
    else:
        low, high = np.quantile(diffs, [(1 - level) / 2, (1 + level) / 2])
    return float(gap), float(low), float(high)


def _with(**change):
    return lambda errors, in_group, n_boot=1000, level=0.95, seed=0: _gap(
        errors, in_group, n_boot, level, seed, **change
    )


def test_the_reference_passes_and_reads_the_example():
    verdict = check.group_gap.evaluate(_gap)
    assert verdict.status == PASSED, verdict.line()
    assert "8 reviews cannot tell" in verdict.message
    assert check.group_gap.evaluate(nb06_fairness.gap_reference).status == PASSED


@pytest.mark.parametrize("case", nb06_fairness._gap_cases(), ids=lambda c: c["what"][:30])
def test_the_convention_equals_coursekits_group_gaps(case):
    errors = np.asarray(case["e"], dtype=int)
    mask = np.asarray(case["m"], dtype=bool)
    if case["B"] < 10:
        pytest.skip("group_gaps refuses fewer than 10 resamples")
    table = sentiment.group_gaps(
        errors, np.zeros(len(errors), dtype=int), {"g": mask}, n_boot=case["B"],
        level=case["level"], seed=case.get("seed", 0), min_size=1,
    )  # fmt: skip
    want = table.loc["g", ["gap", "gap_low", "gap_high"]].to_numpy(dtype=float)
    got = nb06_fairness.gap_reference(case["e"], case["m"], case["B"], case["level"],
                                      case.get("seed", 0))  # fmt: skip
    np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (None, NOT_ATTEMPTED, "still None"),
        (blank, NOT_ATTEMPTED, "NotImplementedError"),
        (crash, NOT_YET, "raised KeyError"),
        (lambda e, m, **kw: sentiment.group_gaps(e, np.zeros(len(e)), {"g": m}, **kw),
         NOT_YET, "write your own"),
        (_with(sign=-1), NOT_YET, "rest minus the group"),
        (_with(compare="all"), NOT_YET, "with all the reviews, itself included"),
        (_with(resample="group"), NOT_YET, "only the group was resampled"),
        (_with(resample="rest"), NOT_YET, "only the rest was resampled"),
        (_with(order="rest_first"), NOT_YET, "rest's indices first"),
        (_with(pooled=True), NOT_YET, "resampled all the reviews together"),
        (_with(ends="normal"), NOT_YET, "normal approximation"),
        (_with(ends="percent"), NOT_YET, "np.percentile takes percents"),
        (_with(mask="raw"), NOT_YET, "0/1 integers"),
        (_with(raise_empty=False), NOT_YET, "raise a ValueError that says so"),
        (lambda e, m, n_boot=1000, level=0.95, seed=0: _gap(e, m, n_boot, 0.95, seed), NOT_YET,
         "use the level you are given"),
        (lambda e, m, n_boot=1000, level=0.95, seed=0: _gap(e, m, n_boot, level, seed)[1:],
         NOT_YET, "three numbers"),
    ],
)  # fmt: skip
def test_wrong_answers_get_their_own_message(answer, status, fragment):
    verdict = check.group_gap.evaluate(answer)
    assert verdict.status == status, verdict.line()
    assert fragment in verdict.message, verdict.line()
    if status == NOT_YET:
        assert "Hint" in verdict.line()


def test_the_hints_never_hold_the_solution():
    hints = " ".join(check.group_gap.hints)
    assert "rng.integers(0" not in hints and "np.quantile(" not in hints
    assert len(check.group_gap.hints) == 3


def test_the_notebooks_solution_passes_and_its_learner_version_is_not_attempted():
    solved, blank_one = solution_and_learner_verdicts(
        "06_sentiment.ipynb", "def group_gap_ci(", "group_gap_ci", check.group_gap, {"np": np}
    )
    assert solved.status == PASSED, solved.line()
    assert blank_one.status == NOT_ATTEMPTED and "Hint" not in blank_one.line()
