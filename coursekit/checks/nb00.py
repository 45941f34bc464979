"""Checks for notebook 00 (setup and tour): two warm-up exercises on the shop data."""

from __future__ import annotations

from typing import Any

from coursekit.checks import (
    CheckFailed,
    exercise,
    expect,
    expect_number_map,
    expect_type,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    require_attempted,
)


@exercise(
    "00.1",
    "label shares in the training split",
    hint=(
        "Only the training split counts, and the question asks for shares, not counts.",
        "Keep the rows whose split is 'train', then count the labels with normalize=True.",
    ),
)
def label_shares(shares: Any) -> None:
    from coursekit.data import LABELS, load_reviews

    got = expect_number_map(require_attempted(shares, "label_shares"), "label_shares")
    missing = [label for label in LABELS if label not in got]
    expect(
        not missing,
        f"`label_shares` has no entry for {missing}; expected the labels {list(LABELS)}",
    )
    extra = sorted(set(got) - set(LABELS))
    expect(
        not extra,
        f"`label_shares` has unexpected keys {extra}; use the `label` column, not `rating`",
    )
    total = sum(got.values())
    expect(
        total < 1.5,
        f"these look like counts (they sum to {total:.0f}); divide by the number of reviews to get shares",
    )
    everything = load_reviews()["label"].value_counts(normalize=True)
    train = load_reviews("train")["label"].value_counts(normalize=True)
    if all(abs(got[k] - everything[k]) < 1e-9 for k in LABELS) and any(
        abs(got[k] - train[k]) > 1e-6 for k in LABELS
    ):
        raise CheckFailed("these are the shares over all splits; use only the training split")
    worst = max(LABELS, key=lambda k: abs(got[k] - train[k]))
    expect(
        abs(got[worst] - train[worst]) < 1e-6,
        f"the share of {worst!r} is {got[worst]:.4f}, expected {train[worst]:.4f}",
    )


@exercise(
    "00.2",
    "category with the lowest average rating",
    hint=(
        "Average the star rating within each category, then look for the smallest average.",
        "Group by the category column, take the mean of the ratings, and use the pandas method that returns the index of the smallest value.",
    ),
)
def worst_category(category: Any) -> None:
    from coursekit.data import load_reviews

    require_attempted(category, "worst_category")
    expect_type(category, str, "worst_category")
    means = load_reviews().groupby("category")["rating"].mean()
    expect(
        category in means.index,
        f"{category!r} is not a category; choose from {sorted(means.index)}",
    )
    expect(
        category != means.idxmax(),
        f"{category!r} has the HIGHEST average rating; look for the lowest",
    )
    expect(
        category == means.idxmin(),
        f"{category!r} averages {means[category]:.2f} stars, but another category averages less",
    )
