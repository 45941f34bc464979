"""Measuring impact online: A/B tests, the peeking trap, and multi-armed bandits.

**A/B test on click-through rate.** Variant A shows copy to ``n_a`` shoppers and
gets ``x_a`` clicks, B gets ``x_b`` of ``n_b``. With ``p = x / n``::

    diff = p_b - p_a
    z    = diff / sqrt(p (1 - p) (1/n_a + 1/n_b)),   p = (x_a + x_b) / (n_a + n_b)   (pooled, under H0)
    CI   = diff ± z_{1-α/2} sqrt(p_a(1-p_a)/n_a + p_b(1-p_b)/n_b)                     (Wald, unpooled)

(:func:`two_proportion_ztest`; equal to ``statsmodels`` and ``scipy``, tested.)
**Sample size** per arm to detect ``p_a -> p_b`` with power ``1 - β``
(:func:`sample_size_per_arm`)::

    n = (z_{1-α/2} sqrt(2 p̄ (1 - p̄)) + z_{1-β} sqrt(p_a(1-p_a) + p_b(1-p_b)))² / (p_b - p_a)²

**Peeking.** Looking at the p-value every day and stopping at the first
``p < 0.05`` makes false alarms far more common than 5 % (:func:`simulate_peeking`).

**Bandits** shift traffic to the better copy *while* learning. Each policy maps
the counts so far to the next arm, for many independent runs at once (arrays
of shape ``(runs, arms)``): :func:`epsilon_greedy`, :func:`ucb1`,
:func:`thompson` (Beta-Bernoulli), and :func:`explore_then_commit` (an A/B test,
then ship the winner). :func:`simulate_bandit` plays a policy against fixed
click rates and records the **regret**: the clicks lost against always
showing the best copy, ``sum_t (max_k μ_k - μ_{a_t})``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

# --------------------------------------------------------------------------- A/B tests


def _check_counts(x: float, n: float, name: str) -> None:
    if n <= 0:
        raise ValueError(f"{name}: the number of impressions must be > 0, got {n}")
    if x < 0 or x > n:
        raise ValueError(f"{name}: clicks must be between 0 and the impressions ({n}), got {x}")


def z_statistic(clicks_a: float, n_a: float, clicks_b: float, n_b: float) -> float:
    """The pooled two-proportion z statistic of B against A (positive when B clicks more)."""
    _check_counts(clicks_a, n_a, "A")
    _check_counts(clicks_b, n_b, "B")
    p_a, p_b = clicks_a / n_a, clicks_b / n_b
    pooled = (clicks_a + clicks_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 0.0
    return (p_b - p_a) / se


def diff_confint(
    clicks_a: float, n_a: float, clicks_b: float, n_b: float, alpha: float = 0.05
) -> tuple[float, float]:
    """Wald confidence interval for ``p_b - p_a`` (unpooled standard error)."""
    _check_counts(clicks_a, n_a, "A")
    _check_counts(clicks_b, n_b, "B")
    p_a, p_b = clicks_a / n_a, clicks_b / n_b
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    half = float(stats.norm.ppf(1 - alpha / 2)) * se
    return (p_b - p_a - half, p_b - p_a + half)


@dataclass(frozen=True)
class ZTestResult:
    """The outcome of a two-proportion z-test (B against A)."""

    p_a: float
    p_b: float
    diff: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    alpha: float

    @property
    def significant(self) -> bool:
        """Whether ``p_value < alpha``."""
        return self.p_value < self.alpha

    @property
    def relative_lift(self) -> float:
        """``diff / p_a``: the change in click-through rate relative to A."""
        return self.diff / self.p_a if self.p_a > 0 else math.nan


def two_proportion_ztest(
    clicks_a: float,
    n_a: float,
    clicks_b: float,
    n_b: float,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> ZTestResult:
    """z-test for a difference in click-through rate, with the CI of the difference.

    ``alternative`` is ``"two-sided"``, ``"larger"`` (B > A) or ``"smaller"`` (B < A).
    """
    z = z_statistic(clicks_a, n_a, clicks_b, n_b)
    if alternative == "two-sided":
        p_value = 2 * stats.norm.sf(abs(z))
    elif alternative == "larger":
        p_value = stats.norm.sf(z)
    elif alternative == "smaller":
        p_value = stats.norm.cdf(z)
    else:
        raise ValueError(
            f"alternative must be 'two-sided', 'larger' or 'smaller', not {alternative!r}"
        )
    low, high = diff_confint(clicks_a, n_a, clicks_b, n_b, alpha)
    p_a, p_b = clicks_a / n_a, clicks_b / n_b
    return ZTestResult(p_a, p_b, p_b - p_a, z, float(p_value), low, high, alpha)


def sample_size_per_arm(p_a: float, p_b: float, alpha: float = 0.05, power: float = 0.8) -> int:
    """Impressions needed in EACH arm to detect ``p_a -> p_b`` (two-sided test), rounded up."""
    if not (0 < p_a < 1 and 0 < p_b < 1):
        raise ValueError(f"rates must be strictly between 0 and 1, got {p_a} and {p_b}")
    if p_a == p_b:
        raise ValueError("p_a == p_b: no sample size can detect a difference of 0")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise ValueError("alpha and power must be strictly between 0 and 1")
    p_bar = (p_a + p_b) / 2
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    num = z_a * math.sqrt(2 * p_bar * (1 - p_bar)) + z_b * math.sqrt(
        p_a * (1 - p_a) + p_b * (1 - p_b)
    )
    return math.ceil(num**2 / (p_b - p_a) ** 2)


def power_two_proportions(p_a: float, p_b: float, n_per_arm: float, alpha: float = 0.05) -> float:
    """Probability that a two-sided z-test with ``n_per_arm`` per arm detects ``p_a -> p_b``."""
    if n_per_arm <= 0:
        raise ValueError(f"n_per_arm must be > 0, got {n_per_arm}")
    p_bar = (p_a + p_b) / 2
    se0 = math.sqrt(2 * p_bar * (1 - p_bar) / n_per_arm)
    se1 = math.sqrt((p_a * (1 - p_a) + p_b * (1 - p_b)) / n_per_arm)
    z_a = stats.norm.ppf(1 - alpha / 2)
    d = abs(p_b - p_a)
    return float(stats.norm.sf((z_a * se0 - d) / se1) + stats.norm.cdf((-z_a * se0 - d) / se1))


# --------------------------------------------------------------------------- peeking


def simulate_ab_looks(
    p_a: float,
    p_b: float,
    n_per_look: int,
    n_looks: int,
    n_experiments: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """z statistics at every look of many simulated A/B tests, ``(n_experiments, n_looks)``.

    Each look adds ``n_per_look`` impressions per arm; clicks are binomial draws.
    """
    if n_per_look < 1 or n_looks < 1 or n_experiments < 1:
        raise ValueError("n_per_look, n_looks and n_experiments must all be >= 1")
    clicks = rng.binomial(n_per_look, [p_a, p_b], size=(n_experiments, n_looks, 2)).cumsum(axis=1)
    n = n_per_look * np.arange(1, n_looks + 1)[None, :]
    rate = clicks / n[..., None]
    pooled = clicks.sum(axis=2) / (2 * n)
    se = np.sqrt(pooled * (1 - pooled) * 2 / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (rate[..., 1] - rate[..., 0]) / se, 0.0)
    return z


def simulate_peeking(
    p: float,
    n_per_look: int,
    n_looks: int,
    n_experiments: int = 10_000,
    alpha: float = 0.05,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """A/A tests (no real difference) checked after every look.

    Returns, per look ``l``: ``peeking`` = share of experiments that have already
    been declared significant at some look <= l (stop at the first p < alpha), and
    ``fixed`` = share significant if you look only once, at look l. ``fixed`` stays
    near alpha; ``peeking`` keeps growing.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    z = simulate_ab_looks(p, p, n_per_look, n_looks, n_experiments, rng)
    hit = np.abs(z) > stats.norm.ppf(1 - alpha / 2)
    return pd.DataFrame(
        {
            "look": np.arange(1, n_looks + 1),
            "impressions_per_arm": n_per_look * np.arange(1, n_looks + 1),
            "peeking": np.logical_or.accumulate(hit, axis=1).mean(axis=0),
            "fixed": hit.mean(axis=0),
        }
    )


def pocock_boundary(
    n_looks: int, alpha: float = 0.05, n_sims: int = 200_000, rng: np.random.Generator | None = None
) -> float:
    """The constant |z| threshold that keeps the false-alarm rate at ``alpha`` over ``n_looks``
    equally spaced looks (Pocock's boundary), found by simulating the z path under H0."""
    rng = rng if rng is not None else np.random.default_rng(0)
    steps = rng.standard_normal((n_sims, n_looks)).cumsum(axis=1)
    z = steps / np.sqrt(np.arange(1, n_looks + 1))
    return float(np.quantile(np.abs(z).max(axis=1), 1 - alpha))


# --------------------------------------------------------------------------- bandit policies

#: a policy: (successes, pulls, t, rng, size) -> the arms to show next, shape (runs, size).
#: ``successes`` and ``pulls`` are (runs, arms) counts so far; ``t`` is the number of
#: impressions already shown; ``size`` impressions are chosen before the counts are updated.
Policy = Callable[[np.ndarray, np.ndarray, int, np.random.Generator, int], np.ndarray]


def _argmax_random_ties(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row-wise argmax; equal maxima are broken at random (not always the first arm)."""
    noise = rng.random(values.shape)
    best = values == values.max(axis=-1, keepdims=True)
    return np.where(best, noise, -1.0).argmax(axis=-1)


def _repeat(arm: np.ndarray, size: int) -> np.ndarray:
    return np.repeat(arm[:, None], size, axis=1)


def epsilon_greedy(epsilon: float = 0.1) -> Policy:
    """With probability ε show a random copy, otherwise the best observed rate so far.

    Untried arms are tried first.
    """
    if not 0 <= epsilon <= 1:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")

    def choose(
        successes: np.ndarray, pulls: np.ndarray, t: int, rng: np.random.Generator, size: int = 1
    ) -> np.ndarray:
        means = np.where(pulls > 0, successes / np.maximum(pulls, 1), np.inf)
        greedy = _repeat(_argmax_random_ties(means, rng), size)
        runs, arms = pulls.shape
        explore = rng.random((runs, size)) < epsilon
        return np.where(explore, rng.integers(0, arms, size=(runs, size)), greedy)

    choose.__name__ = f"epsilon_greedy({epsilon:g})"
    return choose


def ucb1(c: float = 2.0) -> Policy:
    """Optimism: pick the highest ``mean + sqrt(c · ln t / n)`` (UCB1 uses c = 2).

    Every arm is tried once first; the bonus shrinks as an arm is shown more.
    """

    def choose(
        successes: np.ndarray, pulls: np.ndarray, t: int, rng: np.random.Generator, size: int = 1
    ) -> np.ndarray:
        total = pulls.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            bonus = np.sqrt(c * np.log(np.maximum(total, 1)) / pulls)
            value = np.where(pulls > 0, successes / np.maximum(pulls, 1) + bonus, np.inf)
        return _repeat(_argmax_random_ties(value, rng), size)

    choose.__name__ = "ucb1"
    return choose


def thompson_choose(
    successes: np.ndarray,
    failures: np.ndarray,
    rng: np.random.Generator,
    prior: tuple[float, float] = (1.0, 1.0),
) -> np.ndarray:
    """One Thompson-sampling step: draw ``θ_k ~ Beta(a + successes_k, b + failures_k)``
    for every arm and pick the largest draw (works on one vector or a (runs, arms) array)."""
    a, b = prior
    draws = rng.beta(a + np.asarray(successes, float), b + np.asarray(failures, float))
    return draws.argmax(axis=-1)


def thompson_run(
    rates: Sequence[float], horizon: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One Thompson-sampling bandit, one impression at a time (the loop notebook 09 builds).

    Each impression: one Beta(1 + successes, 1 + failures) draw per arm, the largest draw's arm
    is shown, the shopper clicks with that arm's true rate (``rng.random() < rate``), and only
    the shown arm's counts change. Returns ``(arms, clicks)``, one entry per impression.
    :func:`simulate_bandit` does the same for many runs at once, vectorised.
    """
    rates_arr = np.asarray(rates, dtype=np.float64)
    if rates_arr.ndim != 1 or len(rates_arr) < 1 or horizon < 0:
        raise ValueError("rates should list the arms' click rates and horizon be >= 0")
    successes, failures = np.zeros(len(rates_arr)), np.zeros(len(rates_arr))
    arms, clicks = np.empty(horizon, dtype=np.int64), np.empty(horizon, dtype=bool)
    for t in range(horizon):
        arm = int(thompson_choose(successes, failures, rng))
        clicked = bool(rng.random() < rates_arr[arm])
        successes[arm] += clicked
        failures[arm] += not clicked
        arms[t], clicks[t] = arm, clicked
    return arms, clicks


def thompson(prior: tuple[float, float] = (1.0, 1.0)) -> Policy:
    """Thompson sampling with a Beta(a, b) prior on each arm's click rate (Beta(1, 1) = uniform).

    Each arm is shown with the probability that it is the best, given the data so far
    (one fresh posterior draw per impression).
    """
    a, b = prior

    def choose(
        successes: np.ndarray, pulls: np.ndarray, t: int, rng: np.random.Generator, size: int = 1
    ) -> np.ndarray:
        runs, arms = pulls.shape
        alpha = (a + successes)[:, None, :]
        beta = (b + pulls - successes)[:, None, :]
        return rng.beta(alpha, beta, size=(runs, size, arms)).argmax(axis=-1)

    choose.__name__ = "thompson"
    return choose


def explore_then_commit(n_per_arm: int) -> Policy:
    """An A/B test, then ship: split traffic evenly until every arm has ``n_per_arm``
    impressions, then always show the arm with the best observed rate."""
    if n_per_arm < 1:
        raise ValueError(f"n_per_arm must be >= 1, got {n_per_arm}")

    def choose(
        successes: np.ndarray, pulls: np.ndarray, t: int, rng: np.random.Generator, size: int = 1
    ) -> np.ndarray:
        runs, arms = pulls.shape
        exploring = (pulls.min(axis=1) < n_per_arm)[:, None]
        round_robin = np.broadcast_to((t + np.arange(size)) % arms, (runs, size))
        best = _repeat(_argmax_random_ties(successes / np.maximum(pulls, 1), rng), size)
        return np.where(exploring, round_robin, best)

    choose.__name__ = f"ab_test_then_ship({n_per_arm})"
    return choose


# --------------------------------------------------------------------------- simulation


@dataclass
class BanditRun:
    """A policy played ``runs`` times for ``horizon`` impressions against fixed rates."""

    policy: str
    rates: np.ndarray  # (arms,)
    arms: np.ndarray  # (runs, horizon) chosen arm at each step
    clicks: np.ndarray  # (runs, horizon) bool

    @property
    def regret(self) -> np.ndarray:
        """Cumulative expected regret, ``(runs, horizon)``: clicks lost vs the best arm."""
        return np.cumsum(self.rates.max() - self.rates[self.arms], axis=1)

    def final_regret(self) -> np.ndarray:
        """Regret at the horizon, one value per run."""
        return (self.rates.max() - self.rates[self.arms]).sum(axis=1)

    def best_arm_share(self, last: int | None = None) -> float:
        """Share of the (last ``last``) impressions that went to the best arm."""
        arms = self.arms if last is None else self.arms[:, -last:]
        return float(np.mean(arms == int(self.rates.argmax())))


def simulate_bandit(
    policy: Policy,
    rates: Sequence[float],
    horizon: int,
    runs: int = 100,
    seed: int = 0,
    batch: int = 1,
) -> BanditRun:
    """Play ``policy`` for ``horizon`` impressions in ``runs`` independent runs at once.

    The policy sees the counts after every ``batch`` impressions (``batch=1``: after each
    one; a real ad server often updates hourly, i.e. in batches). Clicks come from
    uniforms drawn from ``seed`` alone (``click = u[run, t] < rate[arm]``), so every policy
    simulated with the same seed faces the same shoppers (common random numbers: fairer
    comparisons, smaller error bands).
    """
    rates_arr = np.asarray(rates, dtype=np.float64)
    if rates_arr.ndim != 1 or len(rates_arr) < 2:
        raise ValueError("rates should list at least two arms' click rates")
    if np.any((rates_arr < 0) | (rates_arr > 1)):
        raise ValueError("rates must be probabilities in [0, 1]")
    if horizon < 1 or runs < 1 or batch < 1:
        raise ValueError("horizon, runs and batch must be >= 1")
    shoppers = np.random.default_rng([seed, 0])
    rng = np.random.default_rng([seed, 1])
    n_arms = len(rates_arr)
    successes = np.zeros((runs, n_arms))
    pulls = np.zeros((runs, n_arms))
    arms = np.empty((runs, horizon), dtype=np.int16)
    clicks = np.empty((runs, horizon), dtype=bool)
    offset = (np.arange(runs) * n_arms)[:, None]  # (run, arm) -> one flat counter
    for t in range(0, horizon, batch):
        size = min(batch, horizon - t)
        arm = np.asarray(policy(successes, pulls, t, rng, size), dtype=np.int64).reshape(runs, size)
        click = shoppers.random((runs, size)) < rates_arr[arm]
        flat = (offset + arm).ravel()
        pulls += np.bincount(flat, minlength=runs * n_arms).reshape(runs, n_arms)
        successes += np.bincount(flat, weights=click.ravel(), minlength=runs * n_arms).reshape(
            runs, n_arms
        )
        arms[:, t : t + size], clicks[:, t : t + size] = arm, click
    return BanditRun(getattr(policy, "__name__", "policy"), rates_arr, arms, clicks)


def regret_frame(results: Sequence[BanditRun], points: int = 60) -> pd.DataFrame:
    """Long table (policy, run, impressions, regret) at ``points`` evenly spaced steps,
    ready for ``sns.lineplot(..., errorbar=("pi", 80))``."""
    frames = []
    for res in results:
        horizon = res.arms.shape[1]
        steps = np.unique(np.linspace(1, horizon, points).round().astype(int))
        reg = res.regret[:, steps - 1]
        runs = np.repeat(np.arange(reg.shape[0]), len(steps))
        frames.append(
            pd.DataFrame(
                {
                    "policy": res.policy,
                    "run": runs,
                    "impressions": np.tile(steps, reg.shape[0]),
                    "regret": reg.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def regret_table(results: Sequence[BanditRun]) -> pd.DataFrame:
    """Per policy: mean regret at the horizon, its 10-90 % range over runs, clicks,
    and the share of the last 10 % of impressions that went to the best arm."""
    rows = []
    for res in results:
        final = res.final_regret()
        last = max(1, res.arms.shape[1] // 10)
        rows.append(
            {
                "policy": res.policy,
                "regret_mean": final.mean(),
                "regret_p10": np.quantile(final, 0.1),
                "regret_p90": np.quantile(final, 0.9),
                "clicks_mean": res.clicks.sum(axis=1).mean(),
                "best_arm_share_end": res.best_arm_share(last),
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "BanditRun",
    "Policy",
    "ZTestResult",
    "diff_confint",
    "epsilon_greedy",
    "explore_then_commit",
    "pocock_boundary",
    "power_two_proportions",
    "regret_frame",
    "regret_table",
    "sample_size_per_arm",
    "simulate_ab_looks",
    "simulate_bandit",
    "simulate_peeking",
    "thompson",
    "thompson_choose",
    "thompson_run",
    "two_proportion_ztest",
    "ucb1",
    "z_statistic",
]
