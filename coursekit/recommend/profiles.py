"""Shopper profiles read from purchase histories: what a marketer would write on a card.

:func:`product_types` names each product's type from its name ("... Wireless Headphones");
:func:`profiles_from_history` turns each shopper's purchases into a small profile: the top
categories, the usual place in each type's price range (budget / mid / premium), the pets the
basket reveals (dog food, cat litter...), kids (toys), cooking (kitchen gear and staples), and
the consumables bought more than once. The generator's declared profiles
(``load_shoppers()``) let the notebook measure how often a profile read from history is right.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from coursekit.corpus.shoppers import (
    CAT_TYPES,
    CONSUMABLES,
    DOG_TYPES,
    KITCHEN_TYPES,
    TYPE_CATEGORY,
    product_type,
)
from coursekit.corpus.shoppers import TYPE_PRICE as _TYPE_PRICE
from coursekit.recommend.split import check_events


def product_types(products: pd.DataFrame) -> pd.Series:
    """Each product's type, indexed by product_id (from ``load_products()``)."""
    return pd.Series(
        [product_type(n) for n in products["name"]], index=products["product_id"], name="type"
    )


def _band(position: float) -> str:
    return "budget" if position < 1 / 3 else ("mid" if position < 2 / 3 else "premium")


def profiles_from_history(events: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """One row per shopper with purchases: n_purchases, top_categories (the two most bought,
    most first), price_band, pets (sorted list), kids, cooking, buys_again (consumable types
    bought twice or more)."""
    buys = check_events(events)
    buys = buys[buys["kind"] == "purchase"]
    info = products.set_index("product_id")
    types = product_types(products)
    lo = types.map(lambda t: _TYPE_PRICE[t][0])
    hi = types.map(lambda t: _TYPE_PRICE[t][1])
    position = ((info["price"] - lo) / (hi - lo)).clip(0.0, 1.0)
    rows = []
    for shopper, group in buys.groupby("shopper_id", sort=True):
        pids = group["product_id"]
        bought = types.reindex(pids).tolist()
        counts = pd.Series([TYPE_CATEGORY[t] for t in bought]).value_counts(sort=False)
        counts = counts.sort_index().sort_values(ascending=False, kind="stable")
        repeat = pd.Series(bought).value_counts()
        rows.append(
            {
                "shopper_id": shopper,
                "n_purchases": len(pids),
                "top_categories": counts.index[:2].tolist(),
                "price_band": _band(float(np.median(position.reindex(pids)))),
                "pets": sorted(
                    {"dog" for t in bought if t in DOG_TYPES}
                    | {"cat" for t in bought if t in CAT_TYPES}
                ),
                "kids": any(TYPE_CATEGORY[t] == "toys" for t in bought),
                "cooking": sum(t in KITCHEN_TYPES for t in bought) >= 2,
                "buys_again": sorted(t for t, n in repeat.items() if n >= 2 and t in CONSUMABLES),
            }
        )
    return pd.DataFrame(rows)


__all__ = ["product_types", "profiles_from_history"]
