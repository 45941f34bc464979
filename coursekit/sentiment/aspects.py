"""Per-aspect polarity: sentence and clause splitting, keyword matching and the classifier.

:func:`aspect_sentiment` classifies the clauses that mention each aspect;
:func:`gold_aspects` and :func:`evaluate_aspects` score it against the corpus's labels.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from coursekit.schema import LABELS
from coursekit.sentiment.inputs import check_texts

# --------------------------------------------------------------------------- aspects

#: words that signal each aspect in a clause (lower-case, matched at word starts, so
#: "deliver" also finds "delivered"); the aspect names are the corpus's ``data.ASPECTS``
# fmt: off
ASPECT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "quality": ("quality", "build", "built", "well made", "well-made", "poorly made",
                "craftsmanship", "material", "fabric", "stitching", "finish", "sturdy", "flimsy",
                "premium", "solid"),
    "price": ("price", "priced", "pricey", "value", "money", "worth", "cost", "expensive",
              "overpriced", "steal", "bargain", "deal", "paid", "pay", "rip-off", "rip off",
              "afford", "$"),
    "shipping": ("shipping", "shipped", "deliver", "courier", "tracking", "arrived", "arrive",
                 "late", "early", "package", "parcel", "turned up", "received it", "lost in",
                 "got lost", "showed up", "got here", "dispatch"),
    "customer_service": ("seller", "support", "customer service", "service", "replied", "reply",
                         "replies", "respon", "refund", "replacement", "return", "helpful", "rude",
                         "polite", "email", "message", "ignored"),
    "durability": ("durab", "held up", "holds up", "last", "falling apart", "survived", "wear",
                   "scratch", "snapped", "cracked", "fell apart", "falls apart", "broke", "died",
                   "stopped working", "still going", "still works"),
    "packaging": ("packaging", "packaged", "packed", "box", "wrapped", "wrapping", "gift",
                  "dented", "crushed", "torn", "seal", "leak", "lid"),
    "size_fit": ("fit", "size", "sizing", "runs small", "runs large", "runs big", "tight", "loose",
                 "too small", "too big", "true to size"),
    "comfort": ("comfort", "comfy", "uncomfortable", "blister", "digs", "itchy", "breathab",
                "soft", "rough", "breaking in", "break in"),
    "appearance": ("look", "design", "colour", "color", "gorgeous", "beautiful", "stylish",
                   "picture", "photo", "faded", "sleek", "ugly", "plain", "pretty"),
    "battery": ("battery", "charge", "charging", "charger", "recharg", "drain"),
    "performance": ("performance", "perform", "work", "does the job", "heat", "quiet", "loud",
                    "rattl", "heats", "powerful", "cuts", "noise", "noisy", "suction"),
    "ease_of_use": ("instruction", "assembl", "set up", "set-up", "setup", "easy", "intuitive",
                    "manual", "simple to", "confusing", "hard to use", "figured", "breeze"),
    "smell": ("smell", "scent", "stink", "odour", "odor", "fragran", "chemical"),
    "taste": ("taste", "tasty", "flavour", "flavor", "delicious", "bland", "homemade"),
    "freshness": ("fresh", "stale", "expir", "best before", "date"),
    "effectiveness": ("result", "effective", "ineffective", "difference", "absorb", "irritat",
                      "greasy", "doing much", "wonders"),
    "pet_approval": ("cat", "cats", "dog", "dogs", "pet", "pets", "pup", "puppy", "kitten"),
}
# fmt: on


def split_clauses(text: str, splitter: Any | None = None) -> list[str]:
    """Sentences (``coursekit.text.split_sentences``), each cut again at contrast words.

    "Great fabric, but shipping took forever." -> ["Great fabric,", "but shipping took forever."]
    so each aspect gets the polarity of its own clause.
    """
    from coursekit.text import split_sentences

    clauses: list[str] = []
    for sent in split_sentences(text, splitter):
        pieces = re.split(
            r"(?i)(?<=[\w,;)])\s+(?=(?:but|although|though|however|yet|while)\b)|;\s*", sent
        )
        clauses.extend(p.strip() for p in pieces if p and p.strip())
    return clauses


@functools.lru_cache(maxsize=8)
def _aspect_patterns(items: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, Any]]:
    """One compiled regex per aspect: keywords of 5+ letters match as word prefixes
    ("deliver" -> "delivered"), shorter ones as whole words with a plain suffix
    ("cat" -> "cats", not "category")."""
    out = []
    for aspect, words in items:
        parts = []
        for w in words:
            body = re.escape(w)
            if not w[0].isalnum():
                parts.append(body)
            elif len(w) >= 5:
                parts.append(rf"\b{body}")
            else:
                parts.append(rf"\b{body}(?:s|es|ed|d|ing)?\b")
        out.append((aspect, re.compile("|".join(parts))))
    return out


def find_aspects(clause: str, keywords: dict[str, Sequence[str]] | None = None) -> list[str]:
    """Aspects whose keywords occur in ``clause`` (case-insensitive), in keyword-table order."""
    keywords = ASPECT_KEYWORDS if keywords is None else keywords
    items = tuple((a, tuple(ws)) for a, ws in keywords.items())
    low = clause.lower()
    return [aspect for aspect, pattern in _aspect_patterns(items) if pattern.search(low)]


def aspect_sentiment(
    clf: Any,
    texts: Sequence[str],
    keywords: dict[str, Sequence[str]] | None = None,
    splitter: Any | None = None,
) -> pd.DataFrame:
    """Per-aspect polarity of each review: classify the clauses that mention the aspect.

    Returns one row per (review position ``doc``, ``aspect``) found, with the
    ``polarity`` (label of the averaged clause probabilities), its
    ``confidence`` and the ``evidence`` clause(s). One batched classifier call
    for all clauses.
    """
    texts = check_texts(texts)
    records: list[tuple[int, str, str]] = []
    for doc, text in enumerate(texts):
        for clause in split_clauses(text, splitter):
            for aspect in find_aspects(clause, keywords):
                records.append((doc, aspect, clause))
    if not records:
        return pd.DataFrame(columns=["doc", "aspect", "polarity", "confidence", "evidence"])
    frame = pd.DataFrame(records, columns=["doc", "aspect", "evidence"])
    unique = sorted(set(frame["evidence"]))
    probs = np.asarray(clf.predict_proba(unique))
    row_of = {c: i for i, c in enumerate(unique)}
    frame["_p"] = [probs[row_of[c]] for c in frame["evidence"]]
    labels = list(getattr(clf, "labels", LABELS))
    rows = []
    for (doc, aspect), g in frame.groupby(["doc", "aspect"], sort=True):
        p = np.mean(np.stack(g["_p"].to_list()), axis=0)
        rows.append(
            {
                "doc": int(doc),
                "aspect": aspect,
                "polarity": labels[int(p.argmax())],
                "confidence": float(p.max()),
                "evidence": " | ".join(dict.fromkeys(g["evidence"])),
            }
        )
    return pd.DataFrame(rows)


def gold_aspects(reviews: pd.DataFrame) -> pd.DataFrame:
    """The corpus's aspect labels as rows (``doc``, ``aspect``, ``polarity``); ``doc`` = row position."""
    rows = [
        {"doc": i, "aspect": a["aspect"], "polarity": a["polarity"]}
        for i, aspects in enumerate(reviews["aspects"])
        for a in (aspects if isinstance(aspects, Iterable) else [])
    ]
    return pd.DataFrame(rows, columns=["doc", "aspect", "polarity"])


def evaluate_aspects(predicted: pd.DataFrame, gold: pd.DataFrame) -> pd.DataFrame:
    """Per aspect: gold mentions, share found (``coverage``), and accuracy / macro-F1 where found."""
    from coursekit import metrics

    merged = gold.merge(
        predicted[["doc", "aspect", "polarity"]],
        on=["doc", "aspect"],
        how="left",
        suffixes=("", "_pred"),
    )
    rows = []
    for aspect, g in [("all", merged), *merged.groupby("aspect", sort=True)]:
        found = g.dropna(subset=["polarity_pred"])
        row = {"aspect": aspect, "n": len(g), "coverage": len(found) / max(1, len(g))}
        if len(found):
            row["accuracy"] = metrics.accuracy(found["polarity"], found["polarity_pred"])
            row["macro_f1"] = metrics.macro_f1(found["polarity"], found["polarity_pred"], LABELS)
        else:
            row["accuracy"] = row["macro_f1"] = math.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("aspect")


__all__ = [
    "ASPECT_KEYWORDS",
    "aspect_sentiment",
    "evaluate_aspects",
    "find_aspects",
    "gold_aspects",
    "split_clauses",
]
