"""What an experimenter checks before believing an A/B test.

**Sample-ratio mismatch (SRM).** Traffic was planned to split in known shares (50/50, or
evenly over k variants). If the observed impression counts stray further from the plan than
chance allows, something between the randomiser and the log is broken (a redirect that loses
some shoppers, a bot filter that hits one variant, a logging bug), and the test's result cannot
be trusted, however significant. :func:`srm_test` is the χ² goodness-of-fit test::

    expected_k = N · share_k,     χ² = Σ_k (n_k - expected_k)² / expected_k,     df = k - 1

**Many comparisons.** Ten tests at α = 5 % give about a 40 % chance of at least one false
alarm when nothing works. :func:`holm` (controls the family-wise error rate, step-down) and
:func:`benjamini_hochberg` (controls the false-discovery rate, step-up) adjust the p-values;
both agree with ``statsmodels.stats.multitest.multipletests`` (tested).

**The unit of analysis.** Shoppers are randomised, impressions are counted. One shopper's
impressions share that shopper's taste, so they are not independent: a z-test that counts
impressions as independent trials underestimates the standard error and raises false alarms
(:func:`simulate_shopper_aa`). The fix analyses per shopper: :func:`cluster_robust_ztest`
compares the same click-through rates with the delta-method (cluster-robust) standard error
computed from per-shopper totals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

# --------------------------------------------------------------------------- sample-ratio mismatch


@dataclass(frozen=True)
class SRMResult:
    """A sample-ratio-mismatch test: the χ² of observed against planned traffic shares."""

    counts: tuple[int, ...]
    expected: tuple[float, ...]
    chi2: float
    df: int
    p_value: float

    @property
    def mismatch(self) -> bool:
        """Whether the split is suspicious at the usual SRM threshold, ``p < 0.01``."""
        return self.p_value < 0.01


def srm_test(counts: Sequence[float], shares: Sequence[float] | None = None) -> SRMResult:
    """χ² goodness-of-fit of the observed ``counts`` (impressions or shoppers per variant)
    against the planned ``shares`` (default: an even split)."""
    observed = np.asarray(counts, dtype=np.float64)
    if observed.ndim != 1 or len(observed) < 2:
        raise ValueError("counts should list the traffic of at least two variants")
    if np.any(observed < 0) or observed.sum() <= 0:
        raise ValueError("counts must be >= 0 and not all 0")
    plan = np.full(len(observed), 1.0) if shares is None else np.asarray(shares, np.float64)
    if plan.shape != observed.shape or np.any(plan <= 0):
        raise ValueError(
            f"shares should give one positive planned share per variant ({len(observed)}), "
            f"got {None if shares is None else list(shares)}"
        )
    expected = observed.sum() * plan / plan.sum()
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    df = len(observed) - 1
    return SRMResult(
        tuple(int(c) for c in observed),
        tuple(float(e) for e in expected),
        chi2,
        df,
        float(stats.chi2.sf(chi2, df)),
    )


def srm_table(logs: pd.DataFrame, by: str = "campaign_id") -> pd.DataFrame:
    """One SRM test per campaign of a campaign log (even split planned): impressions per
    variant, χ², p-value and whether it is a mismatch (p < 0.01)."""
    missing = {by, "variant", "impressions"} - set(logs.columns)
    if missing:
        raise ValueError(f"logs lack the columns {sorted(missing)}; pass load_campaigns()")
    rows = []
    for key, group in logs.groupby(by):
        per_variant = group.groupby("variant")["impressions"].sum()
        res = srm_test(per_variant.to_numpy())
        rows.append(
            {
                by: key,
                "variants": len(per_variant),
                "impressions": " / ".join(f"{n:,}" for n in per_variant),
                "chi2": res.chi2,
                "p": res.p_value,
                "mismatch": res.mismatch,
            }
        )
    return pd.DataFrame(rows)


def lose_traffic(
    logs: pd.DataFrame, campaign: str, variant: str, share: float, seed: int = 0
) -> pd.DataFrame:
    """A deliberately broken copy of a campaign log: ``variant`` of ``campaign`` loses each
    impression (and its click) with probability ``share``, as when a redirect bug sends some
    of its shoppers nowhere. The other rows are unchanged."""
    if not 0 <= share < 1:
        raise ValueError(f"share must be in [0, 1), got {share}")
    rows = (logs["campaign_id"] == campaign) & (logs["variant"] == variant)
    if not rows.any():
        raise ValueError(f"no rows for campaign {campaign!r}, variant {variant!r}")
    rng = np.random.default_rng(seed)
    broken = logs.copy()
    clicks = broken.loc[rows, "clicks"].to_numpy()
    others = broken.loc[rows, "impressions"].to_numpy() - clicks
    kept_clicks = rng.binomial(clicks, 1 - share)
    broken.loc[rows, "clicks"] = kept_clicks
    broken.loc[rows, "impressions"] = kept_clicks + rng.binomial(others, 1 - share)
    return broken


# --------------------------------------------------------------------------- many comparisons


def _p_array(p_values: Sequence[float]) -> np.ndarray:
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError("p_values should be a flat list of p-values")
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    return p


def holm(p_values: Sequence[float], alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Holm's step-down correction: ``(reject, adjusted p-values)``, in the input order.

    Sort the m p-values; compare the k-th smallest (k = 1..m) with ``alpha / (m - k + 1)``;
    reject until the first one that fails, and keep every later one. Controls the chance of
    ANY false alarm (the family-wise error rate) at ``alpha``, and rejects at least as much
    as Bonferroni (``p <= alpha / m``).
    """
    p = _p_array(p_values)
    m = len(p)
    order = np.argsort(p, kind="stable")
    factors = m - np.arange(m)  # m, m-1, ..., 1
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate(p[order] * factors))
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted <= alpha, adjusted


def benjamini_hochberg(
    p_values: Sequence[float], alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Benjamini-Hochberg's step-up correction: ``(reject, adjusted p-values)``, input order.

    Sort the m p-values; find the LARGEST k with ``p_(k) <= k alpha / m`` and reject the k
    smallest. Controls the expected share of false alarms among the discoveries (the false
    discovery rate) at ``alpha``: more discoveries than Holm, with a different promise.
    """
    p = _p_array(p_values)
    m = len(p)
    order = np.argsort(p, kind="stable")
    ranks = np.arange(1, m + 1)
    adjusted_sorted = np.minimum(1.0, np.minimum.accumulate((p[order] * m / ranks)[::-1])[::-1])
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted <= alpha, adjusted


# --------------------------------------------------------------------------- unit of analysis


def cluster_robust_ztest(
    clicks_a: np.ndarray, impressions_a: np.ndarray, clicks_b: np.ndarray, impressions_b: np.ndarray
) -> tuple[float, float]:
    """z and two-sided p of B's click-through rate against A's, with shoppers as the unit.

    The inputs are per-shopper totals (one entry per shopper). The rate is still
    ``Σ clicks / Σ impressions``; its variance comes from the shoppers (delta method, the
    cluster-robust standard error): ``var = Σ (c_i - rate · k_i)² / (Σ k_i)²``.
    """
    parts = []
    for clicks, imps in ((clicks_a, impressions_a), (clicks_b, impressions_b)):
        c, k = np.asarray(clicks, np.float64), np.asarray(imps, np.float64)
        if c.shape != k.shape or c.ndim != 1 or k.sum() <= 0:
            raise ValueError("pass per-shopper clicks and impressions, two 1-D arrays each")
        rate = c.sum() / k.sum()
        n = len(c)
        var = ((c - rate * k) ** 2).sum() / k.sum() ** 2 * n / max(n - 1, 1)
        parts.append((rate, var))
    (r_a, v_a), (r_b, v_b) = parts
    se = math.sqrt(v_a + v_b)
    z = (r_b - r_a) / se if se > 0 else 0.0
    return z, float(2 * stats.norm.sf(abs(z)))


def simulate_shopper_aa(
    n_experiments: int = 1_000,
    shoppers_per_arm: int = 1_000,
    impressions_per_shopper: float = 10.0,
    ctr: float = 0.04,
    concentration: float = 5.0,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """A/A tests where SHOPPERS are randomised and each sees several impressions.

    Every shopper has their own click rate, ``Beta(ctr · c, (1 - ctr) · c)`` with
    ``c = concentration`` (smaller: shoppers differ more), and sees ``1 + Poisson(m - 1)``
    impressions (``m = impressions_per_shopper``). Both arms are the same, so every
    significant result is a false alarm. Returns one row per experiment: ``p_impressions``
    (pooled z-test counting impressions as independent) and ``p_shoppers`` (the
    cluster-robust z-test of :func:`cluster_robust_ztest`, vectorised).
    """
    if n_experiments < 1 or shoppers_per_arm < 2 or impressions_per_shopper < 1:
        raise ValueError(
            "need n_experiments >= 1, shoppers_per_arm >= 2, impressions_per_shopper >= 1"
        )
    if not 0 < ctr < 1 or concentration <= 0:
        raise ValueError("ctr must be in (0, 1) and concentration > 0")
    rng = np.random.default_rng(seed)
    shape = (n_experiments, 2, shoppers_per_arm)
    rate = rng.beta(ctr * concentration, (1 - ctr) * concentration, size=shape)
    k = 1 + rng.poisson(impressions_per_shopper - 1, size=shape)
    c = rng.binomial(k, rate)
    clicks, imps = c.sum(axis=2), k.sum(axis=2)  # (experiments, arms)
    rates = clicks / imps
    pooled = clicks.sum(axis=1) / imps.sum(axis=1)
    se_naive = np.sqrt(pooled * (1 - pooled) * (1 / imps[:, 0] + 1 / imps[:, 1]))
    n = shoppers_per_arm
    var = ((c - rates[..., None] * k) ** 2).sum(axis=2) / imps.astype(float) ** 2 * n / (n - 1)
    se_robust = np.sqrt(var.sum(axis=1))
    diff = rates[:, 1] - rates[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        z_naive = np.where(se_naive > 0, diff / se_naive, 0.0)
        z_robust = np.where(se_robust > 0, diff / se_robust, 0.0)
    return pd.DataFrame(
        {
            "p_impressions": 2 * stats.norm.sf(np.abs(z_naive)),
            "p_shoppers": 2 * stats.norm.sf(np.abs(z_robust)),
            "se_ratio": se_robust / np.where(se_naive > 0, se_naive, np.nan),
        }
    )
