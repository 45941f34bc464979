"""The offline split of shopping histories: each shopper's last purchase is the test, the one
before it the validation, and the model only sees what happened *before* the purchase it is
asked to predict.

A purchase comes with same-day views of alternatives of the same type, so holding out the
purchase row alone leaks its product type through the views: :func:`leave_last_out` cuts every
shopper's history at the *date* of the held-out purchase (events on that day and later go).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EVENT_COLUMNS = ("shopper_id", "product_id", "kind", "date")


@dataclass(frozen=True)
class Split:
    """The leave-last-out split of an event log.

    * ``train``: every event strictly before each evaluated shopper's validation purchase
      (all events of shoppers with too few purchases to evaluate);
    * ``validation``: one row per evaluated shopper, the second-to-last purchase;
    * ``train_full``: every event strictly before the test purchase (``train`` plus the
      validation day), what the final model is fitted on;
    * ``test``: one row per evaluated shopper, the last purchase.
    """

    train: pd.DataFrame
    validation: pd.DataFrame
    train_full: pd.DataFrame
    test: pd.DataFrame


def check_events(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` with its columns checked; raises a one-line error naming the fix."""
    if not isinstance(events, pd.DataFrame):
        raise TypeError(
            f"events must be a pandas DataFrame (load_events()), not {type(events).__name__}"
        )
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if missing:
        raise ValueError(f"events lacks the columns {missing}; use load_events() or add them")
    return events


def cut_before(events: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """The events of each shopper strictly before the date of their row in ``targets``
    (shoppers absent from ``targets`` keep every event)."""
    cut = targets.set_index("shopper_id")["date"]
    limit = events["shopper_id"].map(cut)
    keep = limit.isna() | (events["date"] < limit)
    return events[keep.to_numpy()].reset_index(drop=True)


def leave_last_out(events: pd.DataFrame, min_purchases: int = 3) -> Split:
    """Split ``events`` per shopper (see :class:`Split`); shoppers with fewer than
    ``min_purchases`` purchases are not evaluated, their events only train."""
    events = check_events(events)
    if min_purchases < 3:
        raise ValueError(
            f"min_purchases={min_purchases}: a shopper needs a test, a validation and at least "
            "one training purchase (use 3 or more)"
        )
    events = events.sort_values(["shopper_id", "date"], kind="stable").reset_index(drop=True)
    buys = events[events["kind"] == "purchase"]
    rank = buys.groupby("shopper_id").cumcount(ascending=False)  # 0 = the last purchase
    counts = buys.groupby("shopper_id")["product_id"].transform("size")
    evaluated = counts >= min_purchases
    test = buys[evaluated & (rank == 0)].reset_index(drop=True)
    validation = buys[evaluated & (rank == 1)].reset_index(drop=True)
    return Split(
        train=cut_before(events, validation),
        validation=validation,
        train_full=cut_before(events, test),
        test=test,
    )


def interaction_matrix(
    events: pd.DataFrame,
    shoppers: list[str],
    items: list[str],
    view_weight: float = 0.0,
) -> np.ndarray:
    """``(len(shoppers), len(items))`` counts: purchases + ``view_weight`` × views.

    Rows follow ``shoppers`` and columns ``items``; events of other shoppers or items are
    ignored.
    """
    events = check_events(events)
    row = pd.Index(shoppers).get_indexer(events["shopper_id"])
    col = pd.Index(items).get_indexer(events["product_id"])
    weight = np.where(events["kind"].to_numpy() == "purchase", 1.0, float(view_weight))
    ok = (row >= 0) & (col >= 0) & (weight > 0)
    matrix = np.zeros((len(shoppers), len(items)), dtype=np.float64)
    np.add.at(matrix, (row[ok], col[ok]), weight[ok])
    return matrix


__all__ = [
    "EVENT_COLUMNS",
    "Split",
    "check_events",
    "cut_before",
    "interaction_matrix",
    "leave_last_out",
]
