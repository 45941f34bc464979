"""Checks for notebook 09 (measuring impact): z statistic, Holm's correction, sample size,
Thompson step, a bandit."""

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
    expect_close,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    own_or_reference,  # noqa: F401 (later cells use the learner's piece once it passes)
)

#: ready-made answers: calling one of them does not pass the exercise
FORBID_Z = (
    "coursekit.experiments.z_statistic",
    "statsmodels.stats.proportion.proportions_ztest",
)
FORBID_SIZE = (
    "coursekit.experiments.sample_size_per_arm",
    "statsmodels.stats.power.NormalIndPower",
    "statsmodels.stats.power.zt_ind_solve_power",
    "statsmodels.stats.power.tt_ind_solve_power",
)
FORBID_HOLM = (
    "coursekit.experiments.holm",
    "coursekit.experiments.benjamini_hochberg",
    "statsmodels.stats.multitest.multipletests",
)
FORBID_THOMPSON = (
    "coursekit.experiments.thompson_choose",
    "coursekit.experiments.thompson_run",
    "coursekit.experiments.simulate_bandit",
    "coursekit.experiments.thompson",
)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise CheckFailed(
            f"`{name}` should return a number, but it returned a {type(value).__name__}"
        )
    value = float(value)
    if math.isnan(value):
        raise CheckFailed(f"`{name}` returned NaN")
    return value


@exercise(
    "09.1",
    "the two-proportion z statistic",
    hint=(
        "Under the null hypothesis both variants share one click rate: estimate it from the two groups together.",
        "Divide the difference of the two rates by its standard error sqrt(p (1 - p) (1/n_a + 1/n_b)), where p is the pooled rate of both groups.",
    ),
)
def z_statistic(fn: Any) -> None:
    from statsmodels.stats.proportion import proportions_ztest

    cases = [(90, 3000, 150, 3600), (40, 1000, 31, 1200), (500, 20000, 500, 20000)]
    for x_a, n_a, x_b, n_b in cases:
        got = _number(
            call_own(fn, x_a, n_a, x_b, n_b, forbid=FORBID_Z, name="z_statistic"), "z_statistic"
        )
        want = float(proportions_ztest([x_b, x_a], [n_b, n_a])[0])
        if abs(want) > 1e-9 and math.isclose(got, -want, rel_tol=1e-6):
            raise CheckFailed("the sign is flipped: z should be positive when B clicks MORE than A")
        p_a, p_b = x_a / n_a, x_b / n_b
        unpooled = (p_b - p_a) / math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
        if abs(want) > 1e-9 and math.isclose(got, unpooled, rel_tol=1e-6):
            raise CheckFailed(
                "you used the unpooled standard error; under H0 both arms share one rate, "
                "so pool the clicks and impressions"
            )
        expect_close(got, want, f"z_statistic{(x_a, n_a, x_b, n_b)}", atol=1e-6, rtol=1e-6)


# --------------------------------------------------------------------------- 09.2 Holm


def _holm_reference(p: np.ndarray, alpha: float, shift: int = 0) -> np.ndarray:
    """Holm's decisions (``shift=1``: every threshold one test too strict, a mistake)."""
    m = len(p)
    reject = np.zeros(m, dtype=bool)
    for k, i in enumerate(np.argsort(p, kind="stable")):
        if p[i] > alpha / (m - k + shift):
            break
        reject[i] = True
    return reject


def _holm_no_stop(p: np.ndarray, alpha: float) -> np.ndarray:
    reject = np.zeros(len(p), dtype=bool)
    for k, i in enumerate(np.argsort(p, kind="stable")):
        reject[i] = p[i] <= alpha / (len(p) - k)
    return reject


def _holm_sorted_order(p: np.ndarray, alpha: float) -> np.ndarray:
    return _holm_reference(p, alpha)[np.argsort(p, kind="stable")]


def _bh(p: np.ndarray, alpha: float) -> np.ndarray:
    m, order = len(p), np.argsort(p, kind="stable")
    passing = np.nonzero(p[order] <= alpha * np.arange(1, m + 1) / m)[0]
    reject = np.zeros(m, dtype=bool)
    if len(passing):
        reject[order[: passing[-1] + 1]] = True
    return reject


#: plausible wrong answers, each with its message (reported when it explains every answer)
HOLM_MISTAKES = (
    (
        lambda p, a: p <= a,
        "no correction: each p-value is compared with alpha itself; with many tests, divide alpha "
        "by the number of tests still in play",
    ),
    (
        lambda p, a: p <= a / len(p),
        "that is Bonferroni (every p-value against alpha / m); Holm relaxes the threshold step by "
        "step: the k-th smallest p-value is compared with alpha / (m - k + 1)",
    ),
    (
        _holm_sorted_order,
        "the decisions come back in sorted order; return them in the order of the input "
        "p-values (campaign by campaign)",
    ),
    (
        _holm_no_stop,
        "Holm STOPS at the first sorted p-value that fails its threshold: every larger p-value "
        "is kept too, even one that would pass its own threshold",
    ),
    (
        _bh,
        "that is Benjamini-Hochberg (the k-th smallest against k·alpha/m, step-up); Holm "
        "compares the k-th smallest with alpha / (m - k + 1) and stops at the first failure",
    ),
    (
        lambda p, a: _holm_reference(p, a, shift=1),
        "off by one: the smallest p-value is compared with alpha / m (all m tests still in "
        "play), the largest with alpha itself",
    ),
    (
        lambda p, a: _holm_reference(p, 0.05),
        "your answer ignores the `alpha` argument (it uses 0.05 whatever alpha is)",
    ),
)


def _decisions(value: Any, m: int, p: list[float]) -> np.ndarray:
    try:
        got = np.asarray(value)
    except (TypeError, ValueError):
        got = np.asarray([])
    if got.shape != (m,) or not (
        got.dtype == bool or (np.issubdtype(got.dtype, np.number) and np.isin(got, (0, 1)).all())
    ):
        raise CheckFailed(
            f"`holm_reject({p})` should return {m} True/False decisions, one per p-value, "
            f"but it returned {_show(value)}"
        )
    return got.astype(bool)


def _show(value: Any) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) < 80 else text[:77] + "..."


@exercise(
    "09.2",
    "Holm's step-down correction",
    hint=(
        "Holm looks at the p-values from the smallest up; each needs to clear a threshold that "
        "depends on how many tests are still in play, and the first one that fails ends the "
        "search.",
        "Sort the p-values (remember where each came from); the k-th smallest, k = 1..m, must "
        "be <= alpha / (m - k + 1). Reject until the first failure, keep everything after it, "
        "and return the decisions in the input order.",
    ),
)
def holm_reject(fn: Any) -> str:
    """Visible: a few small lists; each plausible mistake has a list on which it differs.
    Edge cases: ties, p = 1, a single p-value, alpha other than 0.05. Hidden: 40 seeded sets of
    3-30 p-values (some real effects among nulls), compared with Holm as statsmodels does it."""
    cases: list[tuple[list[float], float]] = [
        ([0.01, 0.04, 0.03, 0.005], 0.05),
        ([0.001, 0.013, 0.2, 0.5], 0.05),  # Holm 2, Bonferroni 1
        ([0.3, 0.001, 0.02], 0.05),  # unsorted input
        ([0.02, 0.021, 0.03], 0.05),  # the first fails: stop, although 0.03 <= 0.05
        ([0.001, 0.013, 0.02, 0.03, 0.2], 0.05),  # Holm 1, Benjamini-Hochberg 4
        ([0.02, 0.3], 0.05),  # 0.02 <= 0.05 / 2
        ([0.01, 0.01, 0.5], 0.05),  # ties
        ([0.02, 0.02, 0.02], 0.05),  # ties that all fail
        ([1.0, 1.0], 0.05),
        ([0.04], 0.05),
        ([1.0], 0.05),
        ([0.02, 0.04, 0.3], 0.1),  # alpha 0.1: Holm rejects two, at 0.05 none
    ]
    hidden = np.random.default_rng(93)
    for _ in range(40):
        m = int(hidden.integers(3, 31))
        real = hidden.random(m) < 0.4
        p = np.where(real, hidden.beta(0.3, 12, m), hidden.random(m))
        cases.append(([float(x) for x in np.round(p, 5)], float(hidden.choice([0.05, 0.1]))))
    answers = [
        _decisions(
            call_own(fn, list(p_list), alpha, forbid=FORBID_HOLM, name="holm_reject"),
            len(p_list),
            p_list,
        )
        for p_list, alpha in cases
    ]
    wrong = [
        (p_list, alpha, got)
        for (p_list, alpha), got in zip(cases, answers, strict=True)
        if not (got == _holm_reference(np.array(p_list), alpha)).all()
    ]
    if wrong:
        p_list, alpha, got = wrong[0]
        for mistake, message in HOLM_MISTAKES:  # a mistake that explains every answer
            if all(
                (out == mistake(np.array(p), a)).all()
                for (p, a), out in zip(cases, answers, strict=True)
            ):
                raise CheckFailed(f"on p-values {p_list} (alpha {alpha}): {message}")
        want = _holm_reference(np.array(p_list), alpha)
        raise CheckFailed(
            f"holm_reject({p_list}, alpha={alpha}) rejected {got.tolist()}, expected "
            f"{want.tolist()}"
        )
    return (
        f"{len(cases)} sets of p-values (ties, p = 1, a single test, alpha 0.05 and 0.1) match "
        "Holm's decisions."
    )


@exercise(
    "09.3",
    "impressions needed per arm",
    hint=(
        "The sample size grows with the square of (the z for significance + the z for power) and shrinks with the square of the effect you want to see.",
        "Use the normal quantiles for 1 - alpha/2 and for the power; the variance terms are 2 p̄(1 - p̄) under the null (p̄ the mean rate) and p_a(1 - p_a) + p_b(1 - p_b) under the alternative; round up.",
    ),
)
def sample_size(fn: Any) -> str:
    """Against ``ex.sample_size_per_arm`` (±1) on two visible and five hidden seeded designs
    (a drop as well as a rise), and against statsmodels' power solver as a sanity check."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    from coursekit.experiments import sample_size_per_arm

    rng = np.random.default_rng(92)
    designs = [(0.03, 0.036, 0.05, 0.8), (0.10, 0.12, 0.01, 0.9)]
    for _ in range(5):
        p_a = float(np.round(rng.uniform(0.01, 0.2), 3))
        lift = float(rng.choice([-0.25, 0.1, 0.2, 0.5]))
        designs.append(
            (
                p_a,
                round(p_a * (1 + lift), 4),
                float(rng.choice([0.05, 0.1])),
                float(rng.choice([0.8, 0.9])),
            )
        )
    gaps = []
    for p_a, p_b, alpha, power in designs:
        got = _number(
            call_own(fn, p_a, p_b, alpha, power, forbid=FORBID_SIZE, name="sample_size"),
            "sample_size",
        )
        want = sample_size_per_arm(p_a, p_b, alpha, power)
        if abs(got - 2 * want) <= 2:
            raise CheckFailed("that is the total for both arms; the question asks per arm")
        one_sided = sample_size_per_arm(p_a, p_b, 2 * alpha, power)
        if abs(got - one_sided) <= 1 and one_sided != want:
            raise CheckFailed(
                "this is the one-sided sample size; a two-sided test uses z at 1 - alpha/2"
            )
        if got < 0:
            raise CheckFailed(f"sample_size{(p_a, p_b, alpha, power)} is negative ({got:.0f})")
        expect(
            abs(got - want) <= 1,
            f"sample_size{(p_a, p_b, alpha, power)} is {got:.0f}, expected about {want}",
        )
        expect(float(got).is_integer(), f"round up to a whole number of impressions (got {got})")
        h = proportion_effectsize(p_b, p_a)
        sm = NormalIndPower().solve_power(effect_size=abs(h), alpha=alpha, power=power)
        gaps.append(abs(got - sm) / sm)
    return (
        f"statsmodels' arcsine approximation agrees within {max(gaps):.0%} on "
        f"{len(designs)} designs."
    )


@exercise(
    "09.4",
    "one Thompson-sampling step",
    hint=(
        "Thompson sampling draws one plausible click rate per arm from its posterior and shows the arm with the best draw.",
        "With a uniform prior the posterior is Beta(1 + successes, 1 + failures); draw with the given rng and return the index of the largest draw, as an int.",
    ),
)
def thompson_step(fn: Any) -> None:
    rng = np.random.default_rng(9)
    successes = np.array([8.0, 4.0, 0.0])
    failures = np.array([2.0, 6.0, 2.0])
    # with no data at all every arm must still be possible (the prior is Beta(1, 1))
    first = call_own(
        fn, np.zeros(3), np.zeros(3), rng, forbid=FORBID_THOMPSON, name="thompson_step"
    )
    expect(
        isinstance(first, (int, np.integer)),
        f"`thompson_step` should return an arm index (int), but it returned {type(first).__name__}",
    )
    picks = np.array(
        [
            int(call(fn, successes.copy(), failures.copy(), rng, name="thompson_step"))
            for _ in range(2000)
        ]
    )
    expect(
        picks.min() >= 0 and picks.max() <= 2,
        f"arm indices must be 0, 1 or 2; got {sorted(set(picks.tolist()))}",
    )
    share = np.bincount(picks, minlength=3) / len(picks)
    if share.max() > 0.999:
        raise CheckFailed(
            f"you always pick arm {int(share.argmax())}: that is greedy, not Thompson sampling; "
            "draw from each arm's Beta posterior and pick the largest DRAW"
        )

    def p_best(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        draws = np.random.default_rng(0).beta(a, b, size=(100_000, 3))
        return np.bincount(draws.argmax(axis=1), minlength=3) / 100_000

    ref = p_best(1 + successes, 1 + failures)
    mistakes = {
        "successes and failures are swapped (Beta(1 + failures, 1 + successes))": p_best(
            1 + failures, 1 + successes
        ),
        "the second Beta parameter should be 1 + failures, not 1 + all impressions": p_best(
            1 + successes, 1 + successes + failures
        ),
    }
    for message, probs in mistakes.items():
        if np.abs(share - probs).max() < 0.04 < np.abs(share - ref).max():
            raise CheckFailed(message)
    worst = int(np.abs(share - ref).argmax())
    expect(
        np.abs(share - ref).max() < 0.04,
        f"arm {worst} was picked {share[worst]:.0%} of the time, expected about {ref[worst]:.0%}; "
        "use Beta(1 + successes, 1 + failures)",
    )


def _regrets(run: Any, regret: Any, rates: np.ndarray, horizon: int, runs: int) -> np.ndarray:
    """Final regret of ``runs`` runs of the learner's bandit, measured by their own regret."""
    finals, shown = [], []
    for r in range(runs):
        out = call_own(
            run,
            rates.copy(),
            horizon,
            np.random.default_rng([94, r]),
            forbid=FORBID_THOMPSON,
            name="thompson_run",
        )
        expect(
            isinstance(out, tuple) and len(out) == 2,
            f"`thompson_run` should return (arms, clicks), but it returned {type(out).__name__}",
        )
        arms, clicks = (np.asarray(x) for x in out)
        expect(
            arms.shape == (horizon,) and clicks.shape == (horizon,),
            f"`thompson_run(rates, {horizon}, rng)` should return two arrays of {horizon} "
            f"entries, got shapes {arms.shape} and {clicks.shape}",
        )
        expect(
            np.issubdtype(arms.dtype, np.integer) and arms.min() >= 0 and arms.max() < len(rates),
            f"the arms shown must be indices 0 to {len(rates) - 1}",
        )
        curve = np.asarray(call(regret, rates.copy(), arms.copy(), name="cumulative_regret"), float)
        finals.append(float(curve[-1]))
        shown.append((arms, clicks.astype(bool)))
    arms_all = np.concatenate([a for a, _ in shown])
    clicks_all = np.concatenate([c for _, c in shown])
    for k, rate in enumerate(rates):  # clicks come from the arm that was shown
        pulled = arms_all == k
        n = int(pulled.sum())
        if n >= 200:
            observed = float(clicks_all[pulled].mean())
            if abs(observed - rate) > 5 * math.sqrt(rate * (1 - rate) / n) + 0.01:
                raise CheckFailed(
                    f"arm {k} (true rate {rate:.2f}) was clicked {observed:.0%} of the times it "
                    "was shown: the click must come from the shown arm's rate, rng.random() < rates[arm]"
                )
    if all((a == int(np.argmax(rates))).all() for a, _ in shown):
        raise CheckFailed(
            "your bandit shows the best copy from the very first impression: it uses the true "
            "rates, which the shop never knows; choose from the clicks seen so far"
        )
    return np.array(finals)


@exercise(
    "09.5",
    "a Thompson-sampling bandit, measured by its regret",
    hint=(
        "After each impression only the copy that was shown learns something: a click is a "
        "success for it, no click a failure. Regret adds up what each impression lost against "
        "the best copy.",
        "Per impression: choose with your thompson_step, draw the click with rng.random() < "
        "rates[arm], add it to that arm's successes or failures and record both. Regret: the "
        "running total of the best rate minus the shown arm's rate.",
    ),
)
def thompson_bandit(run: Any, regret: Any) -> str:
    """``thompson_run`` and ``cumulative_regret``, checked by simulation.

    Visible: the regret of six given impressions. Hidden: three seeded sets of 3 or 4 true
    rates, 12 runs of 1,500 impressions each; the learner's mean regret must be close to
    coursekit's vectorised Thompson sampling on the same rates (and far below showing the
    copies uniformly). Edge cases: no impressions (empty arrays) and a single copy.
    """
    from coursekit import experiments as ex

    rates = np.array([0.02, 0.05, 0.03])
    arms = np.array([0, 2, 1, 1, 0, 1])
    want = np.cumsum(rates.max() - rates[arms])
    got = call(regret, rates.copy(), arms.copy(), name="cumulative_regret")
    try:
        got_arr = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(
            f"`cumulative_regret` should return an array, but it returned {type(got).__name__}"
        ) from None
    expect(
        got_arr.shape == want.shape,
        f"`cumulative_regret` should give one value per step, shape {want.shape}; got {got_arr.shape}",
    )
    if np.allclose(got_arr, rates.max() - rates[arms]):
        raise CheckFailed("these are per-step regrets; accumulate them with np.cumsum")
    if np.allclose(got_arr, np.cumsum(rates[arms])):
        raise CheckFailed(
            "this is the expected clicks; regret is what you lose against the best arm"
        )
    expect_close(got_arr, want, "cumulative_regret(rates, arms)", atol=1e-12)
    out = call_own(
        run, rates.copy(), 0, np.random.default_rng(0), forbid=FORBID_THOMPSON, name="thompson_run"
    )
    expect(
        isinstance(out, tuple) and len(out) == 2 and all(len(x) == 0 for x in out),
        "`thompson_run(rates, 0, rng)` (no impressions) should return two empty arrays",
    )
    out = call_own(
        run,
        np.array([0.3]),
        50,
        np.random.default_rng(0),
        forbid=FORBID_THOMPSON,
        name="thompson_run",
    )
    expect(
        isinstance(out, tuple) and len(out) == 2 and (np.asarray(out[0]) == 0).all(),
        "with a single copy, `thompson_run` must show arm 0 every time",
    )
    hidden = np.random.default_rng(94)
    for _ in range(3):
        k = int(hidden.integers(3, 5))
        rates = np.round(np.sort(hidden.uniform(0.05, 0.3, k)), 3)
        rates[-1] = round(rates[-2] + hidden.uniform(0.08, 0.15), 3)  # a clear best copy
        hidden.shuffle(rates)
        horizon, runs = 1500, 12
        yours = _regrets(run, regret, rates, horizon, runs).mean()
        theirs = (
            ex.simulate_bandit(ex.thompson(), rates, horizon, runs=runs, seed=94)
            .final_regret()
            .mean()
        )
        uniform = horizon * (rates.max() - rates.mean())
        if yours > 0.8 * uniform:
            raise CheckFailed(
                f"your bandit lost {yours:.0f} clicks in {horizon} impressions, like showing the "
                f"copies at random ({uniform:.0f}): it learns nothing. After each impression, add "
                "the click (or the miss) to the shown arm's successes (or failures)"
                if yours < 1.2 * uniform
                else f"your bandit lost {yours:.0f} clicks, more than showing the copies at random "
                f"({uniform:.0f}): it moves traffic to the WORST copy. A click is a success"
            )
        if yours > 2.0 * theirs + 5:
            raise CheckFailed(
                f"your bandit lost {yours:.0f} clicks per run on hidden rates {rates.tolist()}, "
                f"Thompson sampling about {theirs:.0f}: check that each impression draws afresh "
                "from the posteriors of ALL arms"
            )
    return (
        "On three hidden sets of rates your bandit loses about as few clicks as coursekit's "
        "Thompson sampling, far fewer than showing the copies at random."
    )
