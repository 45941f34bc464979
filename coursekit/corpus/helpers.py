"""Shared pieces of the generator: the per-section random streams, held-out pools, formatting.

The seed and size defaults (:data:`DEFAULT_SEED`, :data:`N_REVIEWS`) and
:data:`HELDOUT_EVERY` live here, since every section uses them.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence

DEFAULT_SEED = 0
N_REVIEWS = 9000
HELDOUT_EVERY = 6  # every sixth item of a pool is reserved for validation/test


def _rng(seed: int, part: str) -> random.Random:
    """An independent, reproducible stream per section (string seeds are stable across runs)."""
    return random.Random(f"coursekit-shop:{seed}:{part}")


def pool_for(pool: Sequence[str], split: str) -> Sequence[str]:
    """The items of ``pool`` a review of ``split`` may use: train never sees every sixth item."""
    if split == "train" and len(pool) >= HELDOUT_EVERY:
        return [x for i, x in enumerate(pool) if i % HELDOUT_EVERY != HELDOUT_EVERY - 1]
    return pool


def _jsonl(rows: Sequence[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _money(x: float) -> str:
    return f"${x:,.2f}"
