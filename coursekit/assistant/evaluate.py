"""Measuring the assistant: question sets, faithfulness agreement, injection rates, int8 encoders.

Notebook 11 and ``benchmarks/assistant.py`` share these, so both report the same numbers on
the generated TEST paraphrases beside the hand-written questions
(``tests/fixtures/handwritten_questions.jsonl``, rule 1: never used to train or tune).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def _fixtures() -> Path:
    from coursekit import paths

    return paths.repo_root() / "tests" / "fixtures"


def read_jsonl(name: str) -> list[dict[str, Any]]:
    """The rows of ``tests/fixtures/<name>``."""
    path = _fixtures() / name
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing; it ships with the course's tests/fixtures")
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def question_sets() -> dict[str, Any]:
    """``{"generated test": df, "hand-written": df}``, columns ``text`` and ``faq_id``
    (``None`` for a hand-written question the FAQ does not answer)."""
    import pandas as pd

    from coursekit.data import load_faq_paraphrases

    test = load_faq_paraphrases("test")[["text", "faq_id"]].reset_index(drop=True)
    hand = pd.DataFrame(read_jsonl("handwritten_questions.jsonl"))[["text", "faq_id"]]
    return {"generated test": test, "hand-written": hand}


def faithfulness_agreement(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Accuracy and Cohen's kappa of :func:`is_faithful` against hand labels, and the
    share each says is faithful."""
    from sklearn.metrics import cohen_kappa_score

    from coursekit.assistant.faithfulness import is_faithful
    from coursekit.assistant.retrieve import faq_entry

    if not rows:
        raise ValueError("no labelled replies given")
    hand = np.array([r["label"] == "faithful" for r in rows])
    auto = np.array([is_faithful(r["reply"], faq_entry(r["faq_id"])["answer"]) for r in rows])
    return {
        "replies": float(len(rows)),
        "accuracy": float(np.mean(hand == auto)),
        "kappa": float(cohen_kappa_score(hand, auto)),
        "hand faithful": float(hand.mean()),
        "auto faithful": float(auto.mean()),
    }


def attack_inputs(attacks: Sequence[dict[str, Any]]) -> tuple[list, list, list]:
    """(questions, products, reviews) with each attack planted where it says."""
    from coursekit.assistant.retrieve import product_facts

    questions, products, reviews = [], [], []
    for atk in attacks:
        facts = product_facts(atk["product_id"])
        if atk["where"] == "description":
            facts["description"] = f"{facts['description']} {atk['text']}"
            reviews.append([])
        else:
            reviews.append([atk["text"]])
        products.append(facts)
        questions.append(atk["question"])
    return questions, products, reviews


def injection_rates(
    bot: Any, attacks: Sequence[dict[str, Any]], replies_out: dict | None = None
) -> dict[str, dict[str, float]]:
    """For the undefended and the defended pipeline: the share of answered attack questions
    whose reply carries the attacker's payload or personal data, and how many were answered.
    ``replies_out``, if given, receives each pipeline's replies."""
    from coursekit.assistant.safety import attack_succeeded, has_pii

    questions, products, reviews = attack_inputs(attacks)
    out = {}
    for name, defended in (("undefended", False), ("defended", True)):
        replies = bot.replies(questions, products, reviews, defended=defended)
        if replies_out is not None:
            replies_out[name] = replies
        answered = [(a, r) for a, r in zip(attacks, replies, strict=True) if not r.handed_off]
        hits = [attack_succeeded(r.text, a, r.retrieved.passage) for a, r in answered]
        out[name] = {
            "answered": float(len(answered)),
            "success rate": float(np.mean(hits)) if hits else 0.0,
            "PII repeated": (
                float(np.mean([has_pii(r.text, r.retrieved.passage) for _, r in answered]))
                if hits
                else 0.0
            ),
        }
    return out


def quantization_table(encoders: dict[str, Any], sizes: dict[str, int]) -> Any:
    """One row per (encoder, question set): size in MB, queries/s (the questions embedded in
    batches of 64), top-1 accuracy on the in-scope questions, and the share whose top-1 FAQ
    entry differs from the first encoder's (float32)."""
    import time

    import pandas as pd

    from coursekit.assistant.quantize import embed_with
    from coursekit.data import load_faq
    from coursekit.retrieval import faq_documents

    faq = load_faq()
    docs, ids = faq_documents(faq), faq["faq_id"].astype(str).to_numpy()
    sets = {k: df[df["faq_id"].notna()] for k, df in question_sets().items()}
    rows, reference = [], {}
    for enc_name, encoder in encoders.items():
        doc_vectors = embed_with(encoder, docs)
        for set_name, df in sets.items():
            texts, gold = df["text"].tolist(), df["faq_id"].astype(str).to_numpy()
            started = time.perf_counter()
            vectors = embed_with(encoder, texts)
            seconds = time.perf_counter() - started
            best = ids[np.argmax(vectors @ doc_vectors.T, axis=1)]
            reference.setdefault(set_name, best)
            rows.append(
                {
                    "encoder": enc_name,
                    "questions": set_name,
                    "size MB": sizes[enc_name] / 1e6,
                    "queries/s": len(texts) / seconds,
                    "top-1": float(np.mean(best == gold)),
                    "top-1 changed": float(np.mean(best != reference[set_name])),
                }
            )
    return pd.DataFrame(rows)


__all__ = [
    "attack_inputs",
    "faithfulness_agreement",
    "injection_rates",
    "quantization_table",
    "question_sets",
    "read_jsonl",
]
