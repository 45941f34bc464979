"""Comparing ways to search the FAQ, on generated AND hand-written questions.

A search variant is three choices (:class:`SearchVariant`):

* the **encoder**: pretrained MiniLM (``"base"``), MiniLM fine-tuned on the shop's training
  paraphrases (``"shop"``, :func:`~coursekit.retrieval.finetune.load_faq_encoder`), or also on
  the out-of-scope training questions as negatives (``"shop-oos"``); ``"shop-strong"`` and
  ``"shop-strong-oos"`` train two layers for 180 steps (about two CPU minutes each to build);
* what each FAQ entry is **indexed as**: its question (``"question"``), its question and answer
  (``"question+answer"``), or both, the entry scoring the better of the two (``"both"``);
* **keywords**: none, BM25 alone (``"bm25"``), or BM25 fused with the embeddings by
  reciprocal-rank fusion (``"rrf"``); BM25 indexes the question, or question + answer for
  the two other choices of ``docs``;
* **rerank**: none, or the cross-encoder re-ranker (``"cross"``,
  :mod:`~coursekit.retrieval.rerank`) re-ordering the first stage's top
  :data:`~coursekit.retrieval.rerank.RERANK_TOP_K`, its score then deciding hand-offs too.

:func:`variant_scores` scores questions against every entry (plus the cosine used to decide
hand-offs); :func:`compare_variants` fits each variant's hand-off rule on VALIDATION and
reports top-1, top-3, MRR and hand-off rates per question set (the score floor fitted to hand
off generated out-of-scope validation questions, :func:`~coursekit.retrieval.abstain.fit_handoff_floor`). :func:`load_handwritten_questions`
reads the hand-written set (never used to choose anything).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from coursekit.retrieval.abstain import AbstainRule, fit_abstain_rule
from coursekit.retrieval.evaluation import rank_metrics

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

ENCODERS = ("base", "shop", "shop-oos", "shop-strong", "shop-strong-oos")
DOCS = ("question", "question+answer", "both")
KEYWORDS = ("none", "bm25", "rrf")
RERANKS = ("none", "cross")
_ENCODER_NAMES = {
    "base": "base",
    "shop": "fine-tuned",
    "shop-oos": "fine-tuned (+ out-of-scope negatives)",
    "shop-strong": "fine-tuned (2 layers, 180 steps)",
    "shop-strong-oos": "fine-tuned (2 layers, 180 steps, + out-of-scope negatives)",
}
#: the fine-tuning recipe of each fine-tuned encoder: EncoderRecipe keyword arguments
_ENCODER_RECIPES: dict[str, dict[str, Any]] = {
    "shop": {},
    "shop-oos": {"out_of_scope": True},
    "shop-strong": {"trained_layers": 2, "steps": 180},
    "shop-strong-oos": {"trained_layers": 2, "steps": 180, "out_of_scope": True},
}


@dataclass(frozen=True)
class SearchVariant:
    """One way to search the FAQ (see the module doc)."""

    encoder: str = "base"
    docs: str = "question"
    keywords: str = "none"
    rerank: str = "none"

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("encoder", self.encoder, ENCODERS),
            ("docs", self.docs, DOCS),
            ("keywords", self.keywords, KEYWORDS),
            ("rerank", self.rerank, RERANKS),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {value!r}")

    @property
    def name(self) -> str:
        if self.keywords == "bm25":
            text = f"BM25 on {self.docs}"
        else:
            text = f"{_ENCODER_NAMES[self.encoder]} MiniLM on {self.docs}"
            text += " + BM25 (RRF)" if self.keywords == "rrf" else ""
        return text + (" + cross-encoder re-ranker" if self.rerank == "cross" else "")


def entry_texts(faq: pd.DataFrame, docs: str) -> list[list[str]]:
    """The text(s) indexed per entry: ``[questions]``, ``[question+answer]`` or both lists."""
    questions = faq["question"].astype(str).tolist()
    both = (faq["question"].astype(str) + " " + faq["answer"].astype(str)).tolist()
    return {"question": [questions], "question+answer": [both], "both": [questions, both]}[docs]


def encoder_folder(encoder: str) -> str | None:
    """``None`` (pretrained MiniLM) or the fine-tuned encoder's folder (built on first use)."""
    if encoder == "base":
        return None
    from coursekit.retrieval.finetune import EncoderRecipe, load_faq_encoder

    return str(load_faq_encoder(recipe=EncoderRecipe(**_ENCODER_RECIPES[encoder])))


def variant_scores(
    variant: SearchVariant,
    faq: pd.DataFrame,
    queries: Sequence[str],
    embeddings: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(ranking scores, cosines)``, both ``(queries, entries)``: rank by the first, decide
    hand-offs on the second (the cosine of the embeddings; BM25 alone uses its own scores).
    With ``rerank="cross"`` both are the re-ranked scores (:func:`~coursekit.retrieval.rerank.rerank_top_k`).

    ``embeddings`` caches ``{key: matrix}`` between calls (queries and entries, per encoder).
    """
    ranking, confidence = _first_stage(variant, faq, queries, embeddings)
    if variant.rerank == "none":
        return ranking, confidence
    from coursekit.retrieval.rerank import load_cross_encoder, pair_texts, rerank_top_k

    reranked = rerank_top_k(load_cross_encoder(), list(queries), ranking, pair_texts(faq))
    return reranked, reranked


def _first_stage(
    variant: SearchVariant,
    faq: pd.DataFrame,
    queries: Sequence[str],
    embeddings: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The first stage of :func:`variant_scores` (embeddings, keywords or both)."""
    from coursekit.retrieval.embeddings import embed
    from coursekit.retrieval.hybrid import KeywordIndex, reciprocal_rank_fusion

    queries = list(queries)
    if not queries:
        raise ValueError("no questions to score; give at least one")
    cache = embeddings if embeddings is not None else {}
    keyword = None
    if variant.keywords != "none":
        kw_docs = entry_texts(faq, "question" if variant.docs == "question" else "question+answer")
        keyword = KeywordIndex(kw_docs[0]).scores(queries)
        if variant.keywords == "bm25":
            return keyword, keyword
    model = encoder_folder(variant.encoder)

    def embedded(key: str, texts: list[str]) -> np.ndarray:
        full = (variant.encoder, key, len(texts), hash(tuple(texts)))
        if full not in cache:
            cache[full] = embed(texts, model=model)
        return cache[full]

    q = embedded("queries", queries)
    cosines = np.max(
        [q @ embedded(f"docs-{i}", t).T for i, t in enumerate(entry_texts(faq, variant.docs))],
        axis=0,
    )
    if keyword is None:
        return cosines, cosines
    return reciprocal_rank_fusion([cosines, keyword]), cosines


def decide(ranking: np.ndarray, confidence: np.ndarray, rule: AbstainRule) -> np.ndarray:
    """The rule's decision per question: best and runner-up by ``ranking``, judged on ``confidence``."""
    top2 = np.argsort(-ranking, axis=1, kind="stable")[:, :2]
    return rule.decide(np.take_along_axis(confidence, top2, axis=1))


def fit_variant_rule(
    ranking: np.ndarray, confidence: np.ndarray, gold: Sequence[int], target_precision: float = 0.95
) -> AbstainRule:
    """The hand-off rule of a variant, fitted on VALIDATION questions.

    ``gold`` is each question's entry row, ``-1`` for an out-of-scope question: with some of
    those the score floor separates them from the answerable ones
    (:func:`~coursekit.retrieval.abstain.fit_handoff_floor`), without, it is a quantile of
    the answerable questions' scores.
    """
    gold = np.asarray(gold)
    scope = gold >= 0
    if not scope.any():
        raise ValueError("the validation questions need some answerable ones (gold >= 0)")
    top2 = np.argsort(-ranking, axis=1, kind="stable")[:, :2]
    best2 = np.take_along_axis(confidence, top2, axis=1)
    correct = top2[scope, 0] == gold[scope]
    outside = best2[~scope, 0] if (~scope).any() else None
    return fit_abstain_rule(best2[scope], correct, target_precision, out_of_scope_top=outside)


def load_handwritten_questions() -> pd.DataFrame:
    """The hand-written questions (``tests/fixtures/handwritten_questions.jsonl``): id, faq_id, text.

    ``faq_id`` is ``None`` for a question the FAQ does not answer. Used only to REPORT a
    finished search, never to train or choose it.
    """
    import pandas as pd

    from coursekit import paths

    path = paths.repo_root() / "tests" / "fixtures" / "handwritten_questions.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; it ships with the course's repository")
    lines = path.read_text(encoding="utf-8").splitlines()
    return pd.DataFrame([json.loads(line) for line in lines if line.strip()])


def _missing(value: Any) -> bool:
    """``None`` or a float NaN (pandas' missing value): an out-of-scope question."""
    return value is None or (isinstance(value, float) and value != value)


def compare_variants(
    variants: Sequence[SearchVariant],
    question_sets: dict[str, tuple[Sequence[str], Sequence[str | None]]],
    faq: pd.DataFrame,
    target_precision: float = 0.95,
) -> pd.DataFrame:
    """One row per (variant, question set): top-1, top-3, MRR, in-scope and out-of-scope handed off.

    ``question_sets`` maps a name to ``(texts, faq_ids)`` (``None`` = out of scope) and must
    hold ``"validation"``: each variant's hand-off rule is fitted there (on its out-of-scope
    questions too, when it has some), then applied to all.
    """
    import pandas as pd

    if "validation" not in question_sets:
        raise ValueError(
            "question_sets needs a 'validation' set: the hand-off rules are fitted there"
        )
    row_of = {str(f): i for i, f in enumerate(faq["faq_id"])}
    cache: dict[str, Any] = {}
    rows = []
    for variant in variants:
        scored = {}
        for set_name, (texts, ids) in question_sets.items():
            ids = [None if _missing(f) else str(f) for f in ids]
            unknown = sorted({f for f in ids if f is not None} - set(row_of))
            if unknown:
                raise ValueError(f"{set_name}: unknown FAQ id {unknown[0]!r}")
            gold = np.array([row_of[f] if f is not None else -1 for f in ids])
            scored[set_name] = (*variant_scores(variant, faq, texts, cache), gold)
        rule = fit_variant_rule(*scored["validation"], target_precision)
        for set_name, (ranking, confidence, gold) in scored.items():
            scope = gold >= 0
            handoff = decide(ranking, confidence, rule) == "handoff"
            metrics = rank_metrics(ranking[scope], gold[scope])
            rows.append(
                {
                    "variant": variant.name,
                    "questions": set_name,
                    **metrics,
                    "in-scope handed off": float(handoff[scope].mean()),
                    "out-of-scope handed off": (
                        float(handoff[~scope].mean()) if (~scope).any() else float("nan")
                    ),
                }
            )
    return pd.DataFrame(rows)


__all__ = [
    "DOCS",
    "ENCODERS",
    "KEYWORDS",
    "RERANKS",
    "SearchVariant",
    "compare_variants",
    "decide",
    "encoder_folder",
    "entry_texts",
    "fit_variant_rule",
    "load_handwritten_questions",
    "variant_scores",
]
