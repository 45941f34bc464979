"""A/B tests on click-through rate: the z-test, its confidence interval, power and sample size.

Variant A shows copy to ``n_a`` shoppers and gets ``x_a`` clicks, B gets ``x_b`` of ``n_b``.
With ``p = x / n``::

    diff = p_b - p_a
    z    = diff / sqrt(p (1 - p) (1/n_a + 1/n_b)),   p = (x_a + x_b) / (n_a + n_b)   (pooled, under H0)
    CI   = diff ± z_{1-α/2} sqrt(p_a(1-p_a)/n_a + p_b(1-p_b)/n_b)                     (Wald, unpooled)

(:func:`two_proportion_ztest`; equal to ``statsmodels`` and ``scipy``, tested.)
**Sample size** per arm to detect ``p_a -> p_b`` with power ``1 - β``
(:func:`sample_size_per_arm`)::

    n = (z_{1-α/2} sqrt(2 p̄ (1 - p̄)) + z_{1-β} sqrt(p_a(1-p_a) + p_b(1-p_b)))² / (p_b - p_a)²
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats


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
