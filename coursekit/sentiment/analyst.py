"""The analyst's view: negative share per aspect and brand, the brand table, label trends."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from coursekit.schema import LABELS

# --------------------------------------------------------------------------- analyst's view

POLARITY_SCORE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}


def aspect_table(
    aspects: pd.DataFrame, reviews: pd.DataFrame, by: str = "brand", min_mentions: int = 5
) -> pd.DataFrame:
    """Share of negative mentions of each aspect per ``by`` (brand, product_id, category).

    ``aspects`` has ``doc`` = row position in ``reviews`` (see :func:`aspect_sentiment`).
    Cells with fewer than ``min_mentions`` mentions are NaN, so a single
    angry review does not top the chart.
    """
    keyed = aspects.assign(key=reviews[by].to_numpy()[aspects["doc"].to_numpy()])
    keyed = keyed.assign(negative=(keyed["polarity"] == "negative").astype(float))
    grouped = keyed.groupby(["key", "aspect"])["negative"]
    share = grouped.mean().unstack()
    counts = grouped.size().unstack()
    share = share.where(counts >= min_mentions)
    share.index.name = by
    return share


def brand_table(
    reviews: pd.DataFrame,
    labels: Sequence[str],
    aspects: pd.DataFrame,
    by: str = "brand",
    min_mentions: int = 5,
) -> pd.DataFrame:
    """The analyst's table: per ``by`` value, reviews, share negative, and the worst aspect.

    ``labels`` are review-level predictions (one per row of ``reviews``);
    ``aspects`` comes from :func:`aspect_sentiment` on the same reviews. The
    worst aspect is the one with the largest share of negative mentions among
    aspects with at least ``min_mentions`` mentions. Sorted by share negative.
    """
    if len(labels) != len(reviews):
        raise ValueError(f"{len(labels)} labels for {len(reviews)} reviews")
    keys = reviews[by].to_numpy()
    negative = pd.Series(np.asarray(labels) == "negative", index=keys)
    table = negative.groupby(level=0).agg(["size", "mean"])
    table.columns = ["reviews", "share_negative"]
    per_aspect = aspect_table(aspects, reviews, by=by, min_mentions=min_mentions)
    filled = per_aspect.fillna(-1.0)
    worst = filled.idxmax(axis=1).where(filled.max(axis=1) >= 0)
    table["worst_aspect"] = worst.reindex(table.index)
    table["worst_aspect_share_negative"] = [
        per_aspect.loc[k, a] if isinstance(a, str) else np.nan
        for k, a in zip(table.index, table["worst_aspect"], strict=True)
    ]
    table.index.name = by
    return table.sort_values(["share_negative", "reviews"], ascending=[False, False])


def trend(reviews: pd.DataFrame, labels: Sequence[str], freq: str = "M") -> pd.DataFrame:
    """Share of each label per period (``freq``: ``"M"`` months, ``"Q"`` quarters) from ``date``."""
    dates = pd.to_datetime(reviews["date"])
    period = dates.dt.to_period(freq).dt.to_timestamp()
    frame = pd.DataFrame({"period": period.to_numpy(), "label": list(labels)})
    table = pd.crosstab(frame["period"], frame["label"], normalize="index")
    table["n"] = frame.groupby("period").size()
    return table.reindex(columns=[*[lab for lab in LABELS if lab in table], "n"])


__all__ = ["POLARITY_SCORE", "aspect_table", "brand_table", "trend"]
