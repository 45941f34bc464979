"""Multi-armed bandits: policies that shift traffic to the better copy *while* learning.

Each policy maps the counts so far to the next arm, for many independent runs at once (arrays
of shape ``(runs, arms)``): :func:`epsilon_greedy`, :func:`ucb1`, :func:`thompson`
(Beta-Bernoulli), and :func:`explore_then_commit` (an A/B test, then ship the winner).
:func:`simulate_bandit` plays a policy against fixed click rates and records the **regret**:
the clicks lost against always showing the best copy, ``sum_t (max_k μ_k - μ_{a_t})``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

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
