"""Grading written copy: the plain fact check, the grounding checker and fluency, per product."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from coursekit import product_copy
from coursekit.copywriter.grounding_checks import grounding
from coursekit.copywriter.prompts import training_examples

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from coursekit.copywriter.writer import Candidate, Copywriter

# --------------------------------------------------------------------------- scoring


@functools.lru_cache(maxsize=1)
def shop_copy_style() -> tuple[frozenset[str], frozenset[str]]:
    """The sentence shapes and the words of the shop's training copy (for fluency checks).

    Shapes (:func:`coursekit.product_copy.sentence_shapes`) of the slot copy of every
    training product in every voice, and the words of the same copy written out.
    """
    from coursekit import data

    products = data.load_products()
    train = products[products["split"] == "train"]
    slots = training_examples(train, variants=4, drop=0.25, delexicalise=True, seed=1)
    words = training_examples(train, variants=1, drop=0.0, delexicalise=False, seed=1)
    shapes = {shape for _, copy in slots for shape in product_copy.sentence_shapes(copy)}
    return frozenset(shapes), frozenset(product_copy.words_of(c for _, c in words))


def grade_copy(
    candidate: Candidate, attributes: Mapping[str, Any], lexicon: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """One written text, graded: a row of :func:`score_copy` (see there for the columns)."""
    shapes, vocabulary = shop_copy_style()
    attrs = {k: v for k, v in attributes.items() if product_copy._present(v)}
    text = candidate.text
    check = product_copy.fact_check(text, attrs)
    values = product_copy.delexicalise(attrs).values
    slot_text = candidate.slot_text or product_copy.to_slots(text, values)
    checker = grounding(text, attrs, lexicon)
    return {
        "text": text,
        "coverage": check.coverage,
        "hallucinated": check.hallucinated,
        "price exact": check.price_exact,
        "checker coverage": checker.coverage,
        "checker hallucinated": bool(checker.hallucinated),
        "well formed": product_copy.well_formed(slot_text, set(shapes)),
        "repeated word": bool(product_copy.repeated_words(text)),
        "unknown word": bool(product_copy.unknown_words(text, set(vocabulary), attrs)),
    }


def score_copy(
    writer: Copywriter,
    attributes: Sequence[Mapping[str, Any]],
    n: int = 3,
    strategy: str = "top_p",
    ground: bool = True,
    seed: int = 0,
    batch_size: int = 16,
) -> pd.DataFrame:
    """One row per product: the best of ``n`` candidates (``coursekit copy``'s defaults), graded.

    Written ``batch_size`` products at a time (:meth:`Copywriter.generate_many`).

    Columns: ``text``; the plain fact check (:func:`coursekit.product_copy.fact_check`):
    ``coverage``, ``hallucinated``, ``price exact``; the course's grounding checker beside
    it: ``checker coverage``, ``checker hallucinated``; and fluency: ``well formed`` (share
    of sentences shaped like the shop's copy), ``repeated word``, ``unknown word``.
    """
    import pandas as pd

    attributes = list(attributes)
    rows = []
    for start in range(0, len(attributes), batch_size):
        chunk = attributes[start : start + batch_size]
        written = writer.generate_many(chunk, n=n, strategy=strategy, seed=seed, ground=ground)
        rows += [
            grade_copy(cands[0], a, writer.lexicon) for cands, a in zip(written, chunk, strict=True)
        ]
    return pd.DataFrame(rows)


__all__ = [
    "grade_copy",
    "score_copy",
    "shop_copy_style",
]
