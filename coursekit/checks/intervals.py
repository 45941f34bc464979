"""Percentile-bootstrap helpers shared by the interval exercises' checks (06.3 and 06.7)."""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

import numpy as np


def quantile_ends(values: np.ndarray, level: float) -> np.ndarray:
    """The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of ``values``."""
    return np.quantile(values, [(1 - level) / 2, (1 + level) / 2])


def near(got: np.ndarray, *candidates: Any) -> bool:
    """``got`` equals one of ``candidates`` to 1e-9."""
    return any(np.allclose(got, np.asarray(c, dtype=float), atol=1e-9) for c in candidates)


def percentile_mistake(
    got: np.ndarray, diffs: np.ndarray, centres: tuple[float, ...], level: float, what: str
) -> str | None:
    """The percentile-interval mistakes 06.3 and 06.7 share, or None: a normal approximation
    around one of ``centres``, the 95 % interval for another level, percents to np.quantile."""
    z = NormalDist().inv_cdf((1 + level) / 2)
    spreads = [float(diffs.std(ddof=d)) for d in (0, 1) if len(diffs) > d]
    normal = [(c - k * s, c + k * s) for c in centres for s in spreads for k in (z, 1.96)]
    if any(abs((got[0] + got[1]) / 2 - c) < 1e-9 for c in centres) or near(got, *normal):
        return (
            "your interval is symmetric, a mean ± z·sd (normal approximation); the percentile "
            f"bootstrap reads two quantiles of the {what} themselves"
        )
    if level != 0.95 and near(got, quantile_ends(diffs, 0.95)):
        return f"that is the 95 % interval; use the level you are given ({level})"
    if near(got, np.quantile(diffs, [(1 - level) / 200, (1 + level) / 200])):
        return (
            "np.percentile takes percents (0 to 100), np.quantile fractions (0 to 1): your ends "
            "are far out in the lower tail"
        )
    return None


__all__ = ["near", "percentile_mistake", "quantile_ends"]
