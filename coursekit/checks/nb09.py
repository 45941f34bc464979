"""Checks for notebook 09 (measuring impact): z statistic, sample size, Thompson step, regret."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from coursekit.checks import (
    CheckFailed,
    call,
    exercise,
    expect,
    expect_close,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
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
        got = _number(call(fn, x_a, n_a, x_b, n_b, name="z_statistic"), "z_statistic")
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


@exercise(
    "09.2",
    "impressions needed per arm",
    hint=(
        "The sample size grows with the square of (the z for significance + the z for power) and shrinks with the square of the effect you want to see.",
        "Use the normal quantiles for 1 - alpha/2 and for the power; the variance terms are 2 p̄(1 - p̄) under the null (p̄ the mean rate) and p_a(1 - p_a) + p_b(1 - p_b) under the alternative; round up.",
    ),
)
def sample_size(fn: Any) -> None:
    from coursekit.experiments import sample_size_per_arm

    for p_a, p_b, alpha, power in [(0.03, 0.036, 0.05, 0.8), (0.10, 0.12, 0.01, 0.9)]:
        got = _number(call(fn, p_a, p_b, alpha, power, name="sample_size"), "sample_size")
        want = sample_size_per_arm(p_a, p_b, alpha, power)
        if abs(got - 2 * want) <= 2:
            raise CheckFailed("that is the total for both arms; the question asks per arm")
        one_sided = sample_size_per_arm(p_a, p_b, 2 * alpha, power)
        if abs(got - one_sided) <= 1 and one_sided != want:
            raise CheckFailed(
                "this is the one-sided sample size; a two-sided test uses z at 1 - alpha/2"
            )
        expect(
            abs(got - want) <= 1,
            f"sample_size{(p_a, p_b, alpha, power)} is {got:.0f}, expected about {want}",
        )
        expect(float(got).is_integer(), f"round up to a whole number of impressions (got {got})")


@exercise(
    "09.3",
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
    first = call(fn, np.zeros(3), np.zeros(3), rng, name="thompson_step")
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


@exercise(
    "09.4",
    "cumulative regret",
    hint=(
        "Regret counts the clicks lost against always showing the best arm, added up over time.",
        "One step's regret is the best rate minus the rate of the arm shown; return the running total over the steps.",
    ),
)
def cumulative_regret(fn: Any) -> None:
    rates = np.array([0.02, 0.05, 0.03])
    arms = np.array([0, 2, 1, 1, 0, 1])
    want = np.cumsum(rates.max() - rates[arms])
    got = call(fn, rates.copy(), arms.copy(), name="cumulative_regret")
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
