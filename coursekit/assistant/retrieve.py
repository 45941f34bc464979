"""Retrieval for the assistant: ONE function, :func:`retrieve`, between the shop and its FAQ search.

Today it calls notebook 08's pipeline (:func:`coursekit.retrieval.load_faq_index`, its
hand-off rule :func:`~coursekit.retrieval.faq_rule`, ``index.search`` and
:func:`~coursekit.retrieval.answer_or_handoff`); point it at a better retriever and the whole
assistant follows. :func:`product_facts` reads a product's attributes from
``data/shop/products.jsonl`` (:func:`coursekit.data.load_products`) for product questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: the sentence used when the assistant hands a shopper to a person (notebook 08's message)
from coursekit.retrieval.abstain import HANDOFF_MESSAGE


@dataclass(frozen=True)
class Retrieved:
    """What the assistant knows for one question.

    ``faq_id``/``passage``/``topic``/``title`` describe the best FAQ entry, ``score`` its
    cosine similarity, ``handed_off`` whether the hand-off rule says "not sure" (too low a
    score, or two entries about equally good).
    """

    question: str
    faq_id: str
    passage: str
    title: str
    topic: str
    score: float
    handed_off: bool


def _check_question(question: Any) -> str:
    if not isinstance(question, str):
        raise TypeError(f"question should be a str, got {type(question).__name__}")
    if not question.strip():
        raise ValueError('the question is empty; ask something like "where is my order?"')
    return question.strip()


def retrieve(question: str, index: Any = None) -> Retrieved:
    """The best FAQ entry for ``question`` and whether the assistant should hand off.

    ``index``: an :class:`~coursekit.retrieval.AnswerIndex` with a hand-off rule in its
    ``meta`` (default: the shop's cached FAQ index, built on first use).
    """
    return retrieve_many([question], index)[0]


def retrieve_many(questions: list[str], index: Any = None) -> list[Retrieved]:
    """:func:`retrieve` for a list of questions with one batched search."""
    from coursekit.retrieval import answer_or_handoff, faq_rule, load_faq_index

    qs = [_check_question(q) for q in questions]
    index = load_faq_index() if index is None else index
    if len(index.ids) == 0:
        raise ValueError(
            "the FAQ index is empty; build it with coursekit.retrieval.load_faq_index()"
        )
    rule = faq_rule(index)
    out = []
    for q, hits in zip(qs, index.search(qs, k=min(2, len(index.ids))), strict=True):
        best = hits[0]
        answer = best.payload.get("answer", best.text)
        out.append(
            Retrieved(
                question=q,
                faq_id=str(best.id),
                passage=str(answer),
                title=str(best.payload.get("question", best.text)),
                topic=str(best.payload.get("topic", "")),
                score=round(float(best.score), 6),
                handed_off=answer_or_handoff(hits, rule) != answer,
            )
        )
    return out


def reciprocal_rank_fusion(rankings: list[list[str]], k: int = 60) -> list[str]:
    """Fuse ranked lists of ids: each id scores ``sum 1 / (k + rank)`` over the lists holding
    it (rank 1 = first); every id once, best first, ties by id."""
    if isinstance(rankings, str) or not isinstance(k, int) or k < 0:
        raise TypeError("rankings should be a list of lists of ids and k an int >= 0")
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda d: (-scores[d], d))


def faq_entry(faq_id: str) -> dict[str, str]:
    """The FAQ entry ``faq_id`` (``faq_id``, ``topic``, ``question``, ``answer``)."""
    from coursekit.data import load_faq

    faq = load_faq()
    rows = faq[faq["faq_id"] == faq_id]
    if not isinstance(faq_id, str) or len(rows) == 0:
        raise KeyError(
            f"unknown FAQ id {faq_id!r}; ids look like 'F001' (see coursekit.data.load_faq())"
        )
    return {k: str(v) for k, v in rows.iloc[0][["faq_id", "topic", "question", "answer"]].items()}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def find_product(question: str) -> dict[str, Any] | None:
    """The catalogue product whose name the question mentions best (all name words), or None."""
    from coursekit.data import load_products

    words = _words(_check_question(question))
    best, best_len = None, 0
    for row in load_products().itertuples():
        name = _words(row.name)
        if name and name <= words and len(name) > best_len:
            best, best_len = row, len(name)
    return None if best is None else product_facts(best.product_id)


def product_facts(product_id: str) -> dict[str, Any]:
    """A product's structured attributes (name, brand, price, colour, material, size, features)."""
    from coursekit.data import load_products

    products = load_products()
    rows = products[products["product_id"] == product_id]
    if len(rows) == 0:
        raise KeyError(f"unknown product id {product_id!r}; ids look like 'P0001'")
    row = rows.iloc[0]
    facts = {"product_id": product_id, **dict(row["attributes"])}
    facts["description"] = str(row["paragraph"])
    return facts


__all__ = [
    "HANDOFF_MESSAGE",
    "Retrieved",
    "faq_entry",
    "find_product",
    "product_facts",
    "reciprocal_rank_fusion",
    "retrieve",
    "retrieve_many",
]
