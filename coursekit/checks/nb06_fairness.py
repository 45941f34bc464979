"""Check for notebook 06's fairness section: exercise 06.7, an interval for a group's error gap.

The learner writes ``group_gap_ci(errors, in_group, n_boot, level, seed)``: the gap between a
group's error rate and the other reviews', with a percentile bootstrap interval in which the
group and the rest are resampled **independently** (they are different reviews), by the seed
convention the notebook states. :func:`gap_reference` is that convention; it equals
``coursekit.sentiment.group_gaps`` on a single group (tested).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from coursekit.checks import CheckFailed, UsedReference, call_own, exercise, expect
from coursekit.checks.intervals import near as _near
from coursekit.checks.intervals import percentile_mistake
from coursekit.checks.intervals import quantile_ends as _ends

#: ready-made answers: calling one of them does not pass the exercise
FORBID_GAP = (
    "coursekit.sentiment.group_gaps",
    "coursekit.sentiment.fairness.group_gaps",
    "scipy.stats.bootstrap",
)

#: the visible example: 30 reviews, the first 8 in the group (3 of them misread), 2 errors
#: among the other 22
EXAMPLE_ERRORS = [1, 0, 1, 0, 0, 1, 0, 0] + [0] * 10 + [1] + [0] * 10 + [1]
EXAMPLE_GROUP = [True] * 8 + [False] * 22


def _arrays(errors: Any, in_group: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(errors, dtype=float), np.asarray(in_group, dtype=bool)


def _draws(
    inside: np.ndarray, rest: np.ndarray, n_boot: int, seed: int, rest_first: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The resampled error rates of the group and of the rest, by the notebook's convention."""
    rng = np.random.default_rng(seed)
    first, second = (rest, inside) if rest_first else (inside, rest)
    a = first[rng.integers(0, len(first), size=(n_boot, len(first)))].mean(axis=1)
    b = second[rng.integers(0, len(second), size=(n_boot, len(second)))].mean(axis=1)
    return (b, a) if rest_first else (a, b)


def gap_reference(
    errors: Any, in_group: Any, n_boot: int = 1000, level: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """``(gap, low, high)`` by the convention of exercise 06.7."""
    e, m = _arrays(errors, in_group)
    inside, rest = e[m], e[~m]
    if len(inside) == 0 or len(rest) == 0:
        raise ValueError("the group and the rest must both have at least one review")
    boot_in, boot_rest = _draws(inside, rest, n_boot, seed)
    low, high = _ends(boot_in - boot_rest, level)
    return float(inside.mean() - rest.mean()), float(low), float(high)


def _gap_cases() -> list[dict[str, Any]]:
    """The visible example, then hidden sets and the edge cases the notebook names."""
    rng = np.random.default_rng(2007)
    cases = [
        dict(what="the example above", e=EXAMPLE_ERRORS, m=EXAMPLE_GROUP, B=1000, level=0.95),
    ]
    m = rng.random(500) < 0.12
    e = (rng.random(500) < np.where(m, 0.2, 0.08)).astype(int)
    cases.append(
        dict(what="500 hidden reviews, a group of 12 %", e=e, m=m, B=1000, level=0.95, seed=3)
    )
    m = rng.random(120) < 0.45  # a big group: its gap to the rest is not its gap to everyone
    e = (rng.random(120) < np.where(m, 0.3, 0.1)).astype(bool)
    cases.append(
        dict(
            what="120 hidden reviews given as lists (errors as True/False, in_group as 0/1), "
            "level=0.9",
            e=[bool(x) for x in e],
            m=[int(x) for x in m],
            B=400,
            level=0.9,
            seed=4,
        )
    )
    m = np.zeros(60, dtype=bool)
    m[[2, 17]] = True
    e = (rng.random(60) < 0.15).astype(int)
    e[2] = 1
    cases.append(dict(what="a group of two reviews", e=e, m=m, B=300, level=0.95, seed=8))
    cases.append(
        dict(
            what="no errors at all",
            e=np.zeros(40, dtype=int),
            m=np.arange(40) < 10,
            B=200,
            level=0.95,
            seed=1,
        )  # fmt: skip
    )
    e = (rng.random(50) < 0.2).astype(int)
    cases.append(dict(what="n_boot=1", e=e, m=np.arange(50) % 5 == 0, B=1, level=0.95, seed=2))
    return cases


def _gap_diagnosis(case: dict[str, Any], got: np.ndarray) -> str:
    """Why ``got`` is not the reference ``(gap, low, high)`` on ``case``: one message per idea."""
    n_boot, level, seed = case["B"], case["level"], case.get("seed", 0)
    e, m = _arrays(case["e"], case["m"])
    inside, rest = e[m], e[~m]
    gap = float(inside.mean() - rest.mean())
    boot_in, boot_rest = _draws(inside, rest, n_boot, seed)
    want = np.array([gap, *_ends(boot_in - boot_rest, level)])
    where = f"on {case['what']},"
    shown = f"({got[0]:.4f}, {got[1]:.4f}, {got[2]:.4f})"

    if np.isnan(got).any():
        return f"{where} your answer {shown} contains NaN"
    if np.asarray(case["m"]).dtype.kind in "iu" and abs(got[0] - gap) > 1e-9:
        return (
            f"{where} in_group came as 0/1 integers, and indexing with integers picks the "
            "reviews at positions 0 and 1 (and ~ turns them into -1 and -2): turn it into "
            "booleans first (np.asarray(in_group, dtype=bool))"
        )
    if abs(got[0] + gap) < 1e-9 and abs(gap) > 1e-12:
        return f"{where} your gap {got[0]:+.4f} is the rest minus the group; the gap is group minus rest"
    if abs(got[0] - (inside.mean() - e.mean())) < 1e-9 and abs(gap) > 1e-12:
        return (
            f"{where} you compared the group with all the reviews, itself included; compare it "
            "with the other reviews (the rest), which it is not part of"
        )
    if abs(got[0] - gap) > 1e-9:
        return (
            f"{where} the gap should be the group's error rate ({inside.mean():.4f}) minus the "
            f"rest's ({rest.mean():.4f}) = {gap:+.4f}; yours is {got[0]:+.4f}"
        )
    ends = got[1:]
    if ends[0] > ends[1] + 1e-12:
        return f"{where} your interval has low above high: return (gap, low, high)"
    if _near(ends, _ends(boot_in, level)):
        return (
            f"{where} that is the interval of the group's own error rate; the question is the "
            "gap, so take group minus rest inside each resample"
        )
    if _near(ends, _ends(boot_in - rest.mean(), level)):
        return (
            f"{where} only the group was resampled, the rest's error rate held fixed: the rest "
            "is a sample too, so resample it as well (second draw)"
        )
    if _near(ends, _ends(inside.mean() - boot_rest, level)):
        return f"{where} only the rest was resampled: resample the group as well (first draw)"
    swapped_in, swapped_rest = _draws(inside, rest, n_boot, seed, rest_first=True)
    if _near(ends, _ends(swapped_in - swapped_rest, level)):
        return (
            f"{where} you drew the rest's indices first; the convention is the group's first, "
            "then the rest's, from the same generator"
        )
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(e), size=(n_boot, len(e)))
    pooled_e, pooled_m = e[idx], m[idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = (pooled_e * pooled_m).sum(1) / pooled_m.sum(1) - (pooled_e * ~pooled_m).sum(1) / (
            ~pooled_m
        ).sum(1)
    if not np.isnan(pooled).any() and _near(ends, _ends(pooled, level)):
        return (
            f"{where} you resampled all the reviews together and split each resample by group, "
            "so the group's size changes from one resample to the next; resample the group and "
            "the rest separately, each at its own size"
        )
    diffs = boot_in - boot_rest
    wrong = percentile_mistake(ends, diffs, (gap, float(diffs.mean())), level, "resampled gaps")
    if wrong:
        return f"{where} {wrong}"
    expected = f"({want[0]:.4f}, {want[1]:.4f}, {want[2]:.4f})"
    return (
        f"{where} (n_boot={n_boot}, level={level}, seed={seed}) expected {expected}, got {shown}; "
        "follow the seed convention exactly: one generator, the group's draw first, each an "
        "rng.integers call of shape (n_boot, size)"
    )


def _three_numbers(got: Any) -> np.ndarray:
    expect(
        isinstance(got, (tuple, list, np.ndarray)) and len(got) == 3,
        f"return three numbers (gap, low, high), got {got!r}"[:200],
    )
    values = []
    for x in got:
        if isinstance(x, (bool, str)) or x is None or np.ndim(x) != 0:
            raise CheckFailed(f"`group_gap_ci(...)` should return numbers, got {x!r}"[:200])
        values.append(float(x))
    return np.array(values)


def _must_refuse(fn: Any, errors: list[int], in_group: list[bool], what: str) -> None:
    try:  # the check feeds it an empty side: numpy's "mean of empty slice" is not the learner's
        with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            call_own(fn, errors, in_group, n_boot=100, forbid=FORBID_GAP, name="group_gap_ci")
    except UsedReference:
        raise
    except CheckFailed as err:
        expect(
            "raised ValueError" in str(err),
            f"group_gap_ci with {what} should raise a ValueError, but {err}",
        )
    else:
        raise CheckFailed(
            f"group_gap_ci with {what} returned normally: there is no gap to measure, raise a "
            "ValueError that says so"
        )


@exercise(
    "06.7",
    "an interval for a group's error gap",
    hint=(
        "The group and the rest are different reviews, so each is resampled on its own, at its "
        "own size; each round gives one gap, and the interval is read off those gaps.",
        "Split the errors with the boolean mask first (the group, and the rest with ~mask); one "
        "generator, two rng.integers draws of shape (n_boot, size): the group's, then the "
        "rest's. Mean along each row, subtract, then the two quantiles.",
        "The gap itself is computed on all the reviews, not from the resamples. Integers 0/1 "
        "as a mask index positions, not reviews: convert to booleans. An empty group, or a "
        "group holding every review, is a ValueError.",
    ),
)
def group_gap(fn: Any) -> str:
    example = (np.nan, np.nan, np.nan)
    for case in _gap_cases():
        e, m = case["e"], case["m"]
        got = call_own(
            fn,
            e.copy() if isinstance(e, np.ndarray) else list(e),
            m.copy() if isinstance(m, np.ndarray) else list(m),
            n_boot=case["B"],
            level=case["level"],
            seed=case.get("seed", 0),
            forbid=FORBID_GAP,
            name="group_gap_ci",
        )
        triple = _three_numbers(got)
        want = gap_reference(e, m, case["B"], case["level"], case.get("seed", 0))
        if np.isnan(triple).any() or not np.allclose(triple, want, atol=1e-9):
            raise CheckFailed(_gap_diagnosis(case, triple))
        if case["what"] == "the example above":
            example = tuple(triple)
    _must_refuse(fn, [0, 1, 0, 1], [False] * 4, "an empty group")
    _must_refuse(fn, [0, 1, 0, 1], [True] * 4, "a group holding every review")
    verdict = "8 reviews cannot tell" if example[1] <= 0 <= example[2] else "a clear gap"
    return (
        f"On the example the group's error rate is {example[0]:+.2f} above the rest's, "
        f"with a 95 % interval [{example[1]:+.2f}, {example[2]:+.2f}]: {verdict}."
    )


__all__ = [
    "EXAMPLE_ERRORS",
    "EXAMPLE_GROUP",
    "FORBID_GAP",
    "gap_reference",
    "group_gap",
]
