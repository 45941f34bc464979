"""The hand-written shoppers (``tests/fixtures/handwritten_shoppers.jsonl``): rule 1's set.

Each line is a shopper as a person would describe them (a new puppy, a first flat, marathon
training...): ``id``, ``story``, ``history`` (real product ids, oldest first) and
``next_types``, the product types such a shopper would plausibly buy next, judged by hand
before any model was run. They are never used to train or to choose settings; a recommendation
list *hits* when one of its products is of a listed type.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from coursekit import paths

FIXTURE = "handwritten_shoppers.jsonl"


def load_handwritten_shoppers(path: str | Path | None = None) -> pd.DataFrame:
    """The hand-written shoppers: id, story, history (list of product ids), next_types."""
    path = Path(path) if path is not None else paths.repo_root() / "tests" / "fixtures" / FIXTURE
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: restore it with `git checkout tests/fixtures/`"
        )
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return pd.DataFrame(rows, columns=["id", "story", "history", "next_types"])


def handwritten_matrix(hand: pd.DataFrame, items: list[str]) -> np.ndarray:
    """``(shoppers, items)`` purchase counts of the hand-written histories."""
    index = pd.Index(items)
    matrix = np.zeros((len(hand), len(items)))
    for row, history in enumerate(hand["history"]):
        cols = index.get_indexer(history)
        if (cols < 0).any():
            raise ValueError(f"{hand['id'].iloc[row]}: a product id of its history is not in items")
        np.add.at(matrix[row], cols, 1.0)
    return matrix


def handwritten_relevant(hand: pd.DataFrame, item_types: list[str]) -> list[set[int]]:
    """For each hand-written shopper, the item columns whose type is one of its next_types."""
    return [
        {j for j, t in enumerate(item_types) if t in set(wanted)} for wanted in hand["next_types"]
    ]


__all__ = ["FIXTURE", "handwritten_matrix", "handwritten_relevant", "load_handwritten_shoppers"]
