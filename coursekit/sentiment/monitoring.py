"""Opinion monitoring: monthly negative counts per brand and aspect, an alerting rule that
compares each month with the brand's own past, and a score against the corpus's planted events.

The rule (:func:`alert_months`, notebook 06's exercise 06.6): in month ``t`` the baseline is
the share of negative mentions over the ``window`` months *before* ``t`` (add-one smoothed,
so a past with no complaints is not a share of exactly 0); month ``t`` raises an alert when it
has at least ``min_count`` negative mentions and its count is more than ``z`` binomial standard
deviations above what the baseline predicts for that month's mentions. A month whose window
holds no mentions at all never alerts: there is nothing to compare it with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

#: the columns :func:`monthly_counts` returns and :func:`find_alerts` reads
COUNT_COLUMNS = ("brand", "aspect", "month", "negative", "total")


def planted_events(last_month: str = "2024-12") -> list[dict[str, str]]:
    """The corpus generator's two planted events as (brand, aspect, first and last month).

    ``SHIPPING_SPIKE`` (Voltix shipping complaints) and ``SMELL_COMPLAINTS`` (Purelle smell
    complaints, open-ended: it runs to ``last_month``). Months are ``"YYYY-MM"`` strings.
    """
    from coursekit.corpus.reviews import SHIPPING_SPIKE, SMELL_COMPLAINTS

    return [
        {
            "brand": SHIPPING_SPIKE["brand"],
            "aspect": "shipping",
            "start": SHIPPING_SPIKE["start"][:7],
            "end": SHIPPING_SPIKE["end"][:7],
        },
        {
            "brand": SMELL_COMPLAINTS["brand"],
            "aspect": "smell",
            "start": SMELL_COMPLAINTS["start"][:7],
            "end": last_month,
        },
    ]


def review_mentions(labels: Sequence[str], aspect: str = "overall") -> pd.DataFrame:
    """Review-level labels as aspect rows (``doc``, ``aspect``, ``polarity``), to monitor them alike."""
    labels = list(labels)
    return pd.DataFrame({"doc": range(len(labels)), "aspect": aspect, "polarity": labels})


def keyword_mentions(texts: Sequence[str], labels: Sequence[str]) -> pd.DataFrame:
    """The cheap aspect reader: every aspect whose keywords occur in a review, with the review's label.

    No clause splitting and no classifier call per clause (``aspect_sentiment`` does both, too
    slow for every review of two years on a CPU): "a review predicted negative that mentions
    shipping" counts as a shipping complaint. Rows: ``doc``, ``aspect``, ``polarity``.
    """
    from coursekit.sentiment.aspects import find_aspects

    texts, labels = list(texts), list(labels)
    if len(texts) != len(labels):
        raise ValueError(f"{len(labels)} labels for {len(texts)} texts: pass one label per review")
    rows = [
        (doc, a, lab)
        for doc, (t, lab) in enumerate(zip(texts, labels, strict=True))
        for a in find_aspects(t)
    ]
    return pd.DataFrame(rows, columns=["doc", "aspect", "polarity"])


def monthly_counts(reviews: pd.DataFrame, mentions: pd.DataFrame) -> pd.DataFrame:
    """Per brand, aspect and month: the reviews with a negative mention of the aspect
    (``negative``) and all the brand's reviews that month (``total``).

    ``mentions`` has one row per (``doc``, ``aspect``) with its ``polarity``, ``doc`` being the
    row position in ``reviews`` (as :func:`keyword_mentions`, :func:`aspect_sentiment`,
    :func:`gold_aspects` and :func:`review_mentions` give them). The share is per review of the
    brand, not per mention of the aspect: a complaint wave makes the aspect come up *more often*,
    which a share among its own mentions would miss. Months run from the first to the last
    review; a month without reviews is a row of zeros, so each series has one row per calendar
    month. Columns: :data:`COUNT_COLUMNS`, ``month`` as ``"YYYY-MM"``.
    """
    for column in ("brand", "date"):
        if column not in reviews:
            raise ValueError(f"reviews need a {column!r} column (use data.load_reviews())")
    missing = {"doc", "aspect", "polarity"} - set(mentions.columns)
    if missing:
        raise ValueError(
            f"mentions need the columns doc, aspect, polarity; missing {sorted(missing)}"
        )
    docs = mentions["doc"].to_numpy(dtype=int)
    if len(docs) and (docs.min() < 0 or docs.max() >= len(reviews)):
        raise ValueError(
            f"mention doc positions must lie in 0..{len(reviews) - 1}: pass the reviews the "
            "mentions were computed on"
        )
    months = pd.to_datetime(reviews["date"]).dt.strftime("%Y-%m").to_numpy()
    brands = reviews["brand"].to_numpy()
    totals = pd.Series(1, index=pd.MultiIndex.from_arrays([brands, months])).groupby(level=[0, 1])
    totals = totals.size()
    negative = mentions[mentions["polarity"].to_numpy() == "negative"]
    neg_docs = negative["doc"].to_numpy(dtype=int)
    frame = pd.DataFrame(
        {
            "brand": brands[neg_docs],
            "aspect": negative["aspect"].to_numpy(),
            "month": months[neg_docs],
            "doc": neg_docs,
        }
    ).drop_duplicates()
    counted = frame.groupby(["brand", "aspect", "month"]).size()
    all_months = list(pd.period_range(min(months), max(months), freq="M").strftime("%Y-%m"))
    pairs = sorted(
        {(b, a) for b, a in zip(brands[docs], mentions["aspect"].to_numpy(), strict=True)}
    )
    full = pd.MultiIndex.from_tuples(
        [(b, a, m) for b, a in pairs for m in all_months], names=["brand", "aspect", "month"]
    )
    out = pd.DataFrame(index=full).reset_index()
    keys = list(zip(out["brand"], out["aspect"], out["month"], strict=True))
    out["negative"] = counted.reindex(keys, fill_value=0).to_numpy()
    out["total"] = totals.reindex(
        list(zip(out["brand"], out["month"], strict=True)), fill_value=0
    ).to_numpy()
    return out[list(COUNT_COLUMNS)].astype({"negative": int, "total": int})


def _as_counts(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one number per month (1-D), got shape {array.shape}")
    if array.size and (not np.issubdtype(array.dtype, np.number) or (array < 0).any()):
        raise ValueError(f"{name} must hold counts (numbers >= 0)")
    return array.astype(float)


def baseline_z(
    negative: Sequence[float], total: Sequence[float], window: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """Per month: the smoothed past negative share and the month's z-score against it.

    baseline[t] = (negatives in the ``window`` months before t + 1) / (mentions there + 2);
    z[t] = (negative[t] - total[t] * baseline[t]) / sqrt(total[t] * baseline[t] * (1 - baseline[t])).
    Both are NaN where the window holds no mentions or the month has none.
    """
    neg, tot = _as_counts(negative, "negative"), _as_counts(total, "total")
    if neg.shape != tot.shape:
        raise ValueError(f"negative and total differ in length ({neg.size} and {tot.size})")
    if (neg > tot).any():
        raise ValueError("negative is above total in some month: pass (negative, total) counts")
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a whole number of months >= 1, got {window!r}")
    csum_n = np.concatenate([[0.0], np.cumsum(neg)])
    csum_t = np.concatenate([[0.0], np.cumsum(tot)])
    t = np.arange(neg.size)
    lo = np.maximum(0, t - window)
    past_n, past_t = csum_n[t] - csum_n[lo], csum_t[t] - csum_t[lo]
    base = np.where(past_t > 0, (past_n + 1) / (past_t + 2), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (neg - tot * base) / np.sqrt(tot * base * (1 - base))
    z = np.where(tot > 0, z, np.nan)
    return base, z


def alert_months(
    negative: Sequence[float],
    total: Sequence[float],
    window: int = 6,
    min_count: int = 5,
    z: float = 3.0,
) -> np.ndarray:
    """Which months of one series raise an alert (a bool per month); see the module docstring."""
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    _, scores = baseline_z(negative, total, window)
    neg = _as_counts(negative, "negative")
    return (neg >= min_count) & (np.nan_to_num(scores, nan=-np.inf) > z)


def score_months(counts: pd.DataFrame, window: int = 6) -> pd.DataFrame:
    """``counts`` (a :func:`monthly_counts` table) with each month's ``baseline`` and ``z`` added."""
    missing = set(COUNT_COLUMNS) - set(counts.columns)
    if missing:
        raise ValueError(f"counts need the columns {list(COUNT_COLUMNS)} (see monthly_counts)")
    ordered = counts.sort_values(["brand", "aspect", "month"], ignore_index=True)
    base = np.full(len(ordered), np.nan)
    scores = np.full(len(ordered), np.nan)
    for rows in ordered.groupby(["brand", "aspect"], sort=False).indices.values():
        b, zs = baseline_z(
            ordered["negative"].to_numpy()[rows], ordered["total"].to_numpy()[rows], window
        )
        base[rows], scores[rows] = b, zs
    return ordered.assign(baseline=base, z=scores)


def find_alerts(
    counts: pd.DataFrame, window: int = 6, min_count: int = 5, z: float = 3.0
) -> pd.DataFrame:
    """Every (brand, aspect, month) alert of :func:`alert_months` over a :func:`monthly_counts` table.

    Returns one row per alert with the month's counts, its ``baseline`` share and ``z``,
    sorted by month, brand and aspect.
    """
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    scored = counts if {"baseline", "z"} <= set(counts.columns) else score_months(counts, window)
    hits = (scored["negative"] >= min_count) & (scored["z"].fillna(-np.inf) > z)
    out = scored[hits.to_numpy()]
    columns = ["brand", "aspect", "month", "negative", "total", "baseline", "z"]
    return out[columns].sort_values(["month", "brand", "aspect"], ignore_index=True)


def _month_index(month: str) -> int:
    year, mon = (int(x) for x in month.split("-"))
    return 12 * year + mon - 1


def score_alerts(
    alerts: pd.DataFrame, events: Sequence[dict[str, str]] | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Score alerts against known events: which were found, how late, and the false alarms.

    An event (brand, aspect, start, end) is *found* when an alert on its brand and aspect falls
    between its first and last month; ``delay`` is the months from its start to that first
    alert. An alert on an event's brand inside its months but on another aspect is
    ``related``; any other alert is a *false alarm*. Returns the events table and the counts
    ``{"alerts", "found", "related", "false_alarms"}``.
    """
    events = planted_events() if events is None else list(events)
    rows, explained = [], np.zeros(len(alerts), dtype=bool)
    related = np.zeros(len(alerts), dtype=bool)
    month_idx = np.array([_month_index(m) for m in alerts["month"]], dtype=int)
    for event in events:
        start, end = _month_index(event["start"]), _month_index(event["end"])
        inside = (alerts["brand"].to_numpy() == event["brand"]) & (month_idx >= start)
        inside &= month_idx <= end
        on_aspect = inside & (alerts["aspect"].to_numpy() == event["aspect"])
        explained |= on_aspect
        related |= inside & ~on_aspect
        first = int(month_idx[on_aspect].min()) if on_aspect.any() else None
        rows.append(
            {
                **event,
                "found": first is not None,
                "first_alert": alerts["month"].to_numpy()[month_idx == first][0]
                if first is not None
                else None,
                "delay_months": first - start if first is not None else math.nan,
            }
        )
    related &= ~explained
    summary = {
        "alerts": len(alerts),
        "found": sum(r["found"] for r in rows),
        "related": int(related.sum()),
        "false_alarms": int((~explained & ~related).sum()),
    }
    return pd.DataFrame(rows), summary


def choose_z(
    counts: pd.DataFrame,
    until: str,
    budget: int,
    grid: Sequence[float] = tuple(np.round(np.arange(2.0, 6.01, 0.25), 2)),
    window: int = 6,
    min_count: int = 5,
) -> float:
    """The smallest ``z`` on ``grid`` that raises at most ``budget`` alerts in the months up to
    ``until`` (``"YYYY-MM"``, included): the rule is tuned on a past period, never on the months
    it is judged on."""
    scored = score_months(counts, window)  # a month's z only looks back: scoring first is fair
    past = scored[scored["month"] <= until]
    if past.empty:
        raise ValueError(f"no months up to {until!r} in counts: pass a later month")
    for value in sorted(grid):
        if len(find_alerts(past, window, min_count, value)) <= budget:
            return float(value)
    raise ValueError(f"no z on the grid keeps the alerts up to {until} within {budget}: widen grid")


__all__ = [
    "COUNT_COLUMNS",
    "alert_months",
    "baseline_z",
    "choose_z",
    "find_alerts",
    "keyword_mentions",
    "monthly_counts",
    "planted_events",
    "review_mentions",
    "score_alerts",
    "score_months",
]
