"""The shop FAQ: its :class:`~coursekit.retrieval.index.AnswerIndex` and hand-off rule, built once.

:func:`build_faq_index` embeds the FAQ entries the way :data:`SHIPPED_VARIANT` says (the search
variant that did best on the VALIDATION paraphrases, see :mod:`coursekit.retrieval.variants`
and notebook 08) and fits the hand-off rule on validation: the answerable paraphrases against
the generated out-of-scope questions (``load_faq_out_of_scope("validation")``);
:func:`load_faq_index` caches it under a key made of :data:`FAQ_INDEX_RECIPE`, the variant,
the target precision, the FAQ data and the encoder; :func:`faq_rule` reads the rule.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coursekit.retrieval.abstain import AbstainRule, fit_abstain_rule
from coursekit.retrieval.embeddings import embed
from coursekit.retrieval.index import AnswerIndex
from coursekit.retrieval.variants import SearchVariant, encoder_folder, entry_texts

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: the recipe version of :func:`load_faq_index`; bump it when the recipe changes
FAQ_INDEX_RECIPE = "4"
#: what ``coursekit ask`` searches with (notebook 08, ``benchmarks/retrieval_experiments.py``):
#: pretrained MiniLM, each entry indexed as its question and as question + answer. BM25 fusion
#: does worse on validation; the cross-encoder re-ranker ties it (0.916 top-1 on validation). The encoder fine-tuned on the harder
#: training questions edges it there (0.926 vs 0.916 top-1 on question + answer: two validation
#: questions of 190); shipping it would make every user of this index (notebook 11, ``ask``)
#: build the encoder first, so it is left for a re-measurement on an idle machine.
SHIPPED_VARIANT = SearchVariant(encoder="base", docs="both", keywords="none")
#: precision the FAQ threshold must reach on the validation paraphrases
FAQ_TARGET_PRECISION = 0.95


def _faq_fingerprint() -> str:
    from coursekit.data import load_faq, load_faq_out_of_scope, load_faq_paraphrases

    faq, para = load_faq(), load_faq_paraphrases("validation")
    blob = json.dumps(
        [
            faq[["faq_id", "question", "answer"]].values.tolist(),
            para[["faq_id", "text"]].values.tolist(),
            load_faq_out_of_scope("validation")["text"].tolist(),
        ]
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


def faq_documents(faq: pd.DataFrame) -> list[str]:
    """The text indexed for each FAQ entry: its question (what shoppers' questions resemble)."""
    return faq["question"].astype(str).tolist()


def build_faq_index(
    target_precision: float = FAQ_TARGET_PRECISION, variant: SearchVariant = SHIPPED_VARIANT
) -> AnswerIndex:
    """Embed the shop's FAQ entries as ``variant`` says and store the hand-off rule fitted on
    validation. Embedding variants only (keyword fusion is compared in notebook 08, not shipped)."""
    from coursekit.data import load_faq, load_faq_out_of_scope, load_faq_paraphrases

    if variant.keywords != "none":
        raise ValueError("the FAQ index holds embeddings; choose a variant with keywords='none'")
    faq = load_faq()
    payloads = [
        {"question": q, "answer": a, "topic": t}
        for q, a, t in zip(faq["question"], faq["answer"], faq["topic"], strict=True)
    ]
    texts = entry_texts(faq, variant.docs)
    n = len(texts)
    index = AnswerIndex.build(
        [t for part in texts for t in part],
        ids=faq["faq_id"].tolist() * n,
        payloads=payloads * n,
        model=encoder_folder(variant.encoder),
    )
    index.texts = faq["question"].astype(str).tolist() * n  # a hit shows the FAQ question
    val = load_faq_paraphrases("validation")
    scores, ids = index.entry_scores(embed(val["text"].tolist(), model=index.model))
    top2 = np.argsort(-scores, axis=1, kind="stable")[:, :2]
    correct = np.array(ids)[top2[:, 0]] == val["faq_id"].astype(str).to_numpy()
    outside, _ = index.entry_scores(
        embed(load_faq_out_of_scope("validation")["text"].tolist(), model=index.model)
    )
    rule = fit_abstain_rule(
        np.take_along_axis(scores, top2, axis=1),
        correct,
        target_precision,
        out_of_scope_top=outside.max(axis=1),
    )
    index.meta.update(
        {
            "min_score": rule.min_score,
            "min_margin": rule.min_margin,
            "target_precision": target_precision,
            "variant": variant.name,
            "source": "shop FAQ",
        }
    )
    return index


def load_faq_index(rebuild: bool = False) -> AnswerIndex:
    """The shop's FAQ :class:`AnswerIndex`, built once into the cache (a few seconds), then loaded.

    ``index.meta`` holds the hand-off rule fitted on validation (``min_score``,
    ``min_margin``); :func:`faq_rule` turns it into an :class:`AbstainRule`.
    """
    from coursekit import env
    from coursekit.cache import folder_digest, get_or_build, recipe_key

    encoder = encoder_folder(SHIPPED_VARIANT.encoder)  # the fine-tuned one is built first
    version = recipe_key(
        {
            "faq_index": FAQ_INDEX_RECIPE,
            "target_precision": FAQ_TARGET_PRECISION,
            "variant": SHIPPED_VARIANT.name,
        },
        data=[_faq_fingerprint()],
        upstream=[folder_digest(env.minilm_path()), Path(encoder or "base").name],
    )
    folder = get_or_build(
        "faq-index", lambda tmp: build_faq_index().save(tmp), version=version, rebuild=rebuild
    )
    index = AnswerIndex.load(folder)
    index.model = encoder  # where the encoder is on this machine (the cache may have moved)
    return index


def faq_rule(index: AnswerIndex) -> AbstainRule:
    """The :class:`AbstainRule` stored with an index by :func:`build_faq_index`."""
    try:
        return AbstainRule(float(index.meta["min_score"]), float(index.meta["min_margin"]))
    except KeyError:
        raise ValueError(
            "this index has no hand-off rule; build it with build_faq_index()"
        ) from None


__all__ = [
    "FAQ_INDEX_RECIPE",
    "FAQ_TARGET_PRECISION",
    "SHIPPED_VARIANT",
    "build_faq_index",
    "faq_documents",
    "faq_rule",
    "load_faq_index",
]
