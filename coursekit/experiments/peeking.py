"""The peeking trap and the winner's curse, simulated.

**Peeking.** Looking at the p-value every day and stopping at the first ``p < 0.05`` makes
false alarms far more common than 5 % (:func:`simulate_peeking`); Pocock's constant boundary
(:func:`pocock_boundary`) spends the 5 % over the looks instead.

**The winner's curse.** When the effect is real, the tests that stop early are the ones whose
noise happened to push the estimate up: the lift reported at an early stop exaggerates the
true lift (:func:`simulate_early_stops`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def _paths(
    p_a: float,
    p_b: float,
    n_per_look: int,
    n_looks: int,
    n_experiments: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """z statistics and differences ``p̂_b - p̂_a`` at every look, each ``(experiments, looks)``."""
    if n_per_look < 1 or n_looks < 1 or n_experiments < 1:
        raise ValueError("n_per_look, n_looks and n_experiments must all be >= 1")
    clicks = rng.binomial(n_per_look, [p_a, p_b], size=(n_experiments, n_looks, 2)).cumsum(axis=1)
    n = n_per_look * np.arange(1, n_looks + 1)[None, :]
    rate = clicks / n[..., None]
    pooled = clicks.sum(axis=2) / (2 * n)
    se = np.sqrt(pooled * (1 - pooled) * 2 / n)
    diff = rate[..., 1] - rate[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, diff / se, 0.0)
    return z, diff


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
    return _paths(p_a, p_b, n_per_look, n_looks, n_experiments, rng)[0]


def simulate_early_stops(
    p_a: float,
    p_b: float,
    n_per_look: int,
    n_looks: int,
    n_experiments: int = 10_000,
    alpha: float = 0.05,
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """A/B tests with a REAL difference, stopped at the first look with ``p < alpha``.

    One row per experiment: ``stop_look`` (the first significant look, or ``n_looks`` when
    none was), ``stopped_early`` (significant before the last look), ``significant`` (at some
    look), ``estimate`` (the difference ``p̂_b - p̂_a`` reported when the test stopped) and
    ``estimate_fixed`` (the difference at the last look, had nobody peeked). The ratio
    ``estimate / (p_b - p_a)`` among significant stops measures the winner's curse.
    """
    if p_a == p_b:
        raise ValueError("p_a == p_b: the winner's curse needs a real difference")
    rng = rng if rng is not None else np.random.default_rng(0)
    z, diff = _paths(p_a, p_b, n_per_look, n_looks, n_experiments, rng)
    hit = np.abs(z) > stats.norm.ppf(1 - alpha / 2)
    significant = hit.any(axis=1)
    stop = np.where(significant, hit.argmax(axis=1), n_looks - 1)
    rows = np.arange(n_experiments)
    return pd.DataFrame(
        {
            "stop_look": stop + 1,
            "stopped_early": significant & (stop < n_looks - 1),
            "significant": significant,
            "estimate": diff[rows, stop],
            "estimate_fixed": diff[:, -1],
        }
    )


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
