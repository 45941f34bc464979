"""Sentence splitting with a Punkt model trained on the shop's own reviews.

:func:`train_sentence_splitter` trains NLTK's unsupervised ``PunktTrainer`` (no labels, no
download) and prunes the false abbreviations repetitive text teaches it
(:func:`prune_abbreviations`); :func:`default_sentence_splitter` is the one trained on the
train-split reviews, and :func:`split_sentences` uses it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from coursekit.text.inputs import _check_str
from coursekit.text.steps import normalize_unicode, strip_html

if TYPE_CHECKING:  # pragma: no cover
    from nltk.tokenize.punkt import PunktSentenceTokenizer


def train_sentence_splitter(texts: Iterable[str], prune: bool = True) -> PunktSentenceTokenizer:
    """Train NLTK's unsupervised Punkt sentence splitter on ``texts``.

    Punkt learns abbreviations ("approx.", "vs."), collocations and sentence
    starters from raw text: no labels, no download. On repetitive text it also
    learns false abbreviations: a stock phrase such as "Couldn't be happier." makes
    "happier" look like a word that always carries a period. With ``prune=True``
    an abbreviation is kept only if, in the training text, it is mostly followed by
    a lowercase word or a digit (it continues the sentence), as real ones are.
    """
    from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer

    if isinstance(texts, str):
        raise TypeError("train_sentence_splitter expects an iterable of texts, not one str")
    body = "\n\n".join(_check_str(t) for t in texts)
    if not body.strip():
        raise ValueError("train_sentence_splitter needs some non-empty text")
    trainer = PunktTrainer()
    trainer.INCLUDE_ALL_COLLOCS = False
    trainer.train(body, finalize=True)
    splitter = PunktSentenceTokenizer(trainer.get_params())
    return prune_abbreviations(splitter, body) if prune else splitter


def learned_abbreviations(splitter: PunktSentenceTokenizer) -> list[str]:
    """The abbreviations a Punkt splitter knows (lowercase, without the final period)."""
    return sorted(splitter._params.abbrev_types)


def prune_abbreviations(splitter: PunktSentenceTokenizer, text: str) -> PunktSentenceTokenizer:
    """A copy of ``splitter`` keeping only the abbreviations ``text`` continues after.

    See :func:`abbreviations_continuing`; the splitter passed in is not changed.
    """
    import copy

    from nltk.tokenize.punkt import PunktSentenceTokenizer

    params = copy.deepcopy(splitter._params)
    params.abbrev_types = set(abbreviations_continuing(text, params.abbrev_types))
    return PunktSentenceTokenizer(params)


def abbreviations_continuing(
    text: str, candidates: Iterable[str], min_share: float = 0.5
) -> list[str]:
    """The ``candidates`` (lowercase, no final period) that ``text`` mostly continues after.

    For every ``word.`` whose ``word`` is a candidate, look at the next token: a
    lowercase letter or a digit means the sentence goes on ("approx. 5 cm"),
    anything else (capital, emoji, end of text) means it probably ended.
    """
    wanted = {c.lower() for c in candidates}
    seen: dict[str, int] = dict.fromkeys(wanted, 0)
    goes_on: dict[str, int] = dict.fromkeys(wanted, 0)
    tokens = text.split()
    for tok, nxt in zip(tokens, tokens[1:] + [""], strict=True):
        if not tok.endswith("."):
            continue
        word = tok[:-1].lower().lstrip("(\"'")
        if word in seen:
            seen[word] += 1
            if nxt[:1].islower() or nxt[:1].isdigit():
                goes_on[word] += 1
    return sorted(w for w in wanted if seen[w] and goes_on[w] / seen[w] >= min_share)


@functools.lru_cache(maxsize=1)
def default_sentence_splitter() -> PunktSentenceTokenizer:
    """The Punkt splitter trained on the shop's train-split reviews (built once per process)."""
    from coursekit import data

    reviews = data.load_reviews(split="train").sort_values("review_id")
    return train_sentence_splitter(strip_html(normalize_unicode(t)) for t in reviews["text"])


def split_sentences(text: str, splitter: PunktSentenceTokenizer | None = None) -> list[str]:
    """Split a review into sentences with a corpus-trained Punkt model.

    ``splitter`` defaults to :func:`default_sentence_splitter`. HTML is stripped and
    Unicode normalised first; an ellipsis followed by a capital also ends a sentence
    ("It charges fast... Would buy again!" is two). Empty or whitespace-only text gives ``[]``.
    """
    _check_str(text)
    if not text.strip():
        return []
    model = splitter if splitter is not None else default_sentence_splitter()
    text = " ".join(strip_html(normalize_unicode(text)).split())
    out: list[str] = []
    for sent in model.tokenize(text):
        out.extend(s for s in _ELLIPSIS_BREAK.split(sent) if s.strip())
    return out


# Punkt never ends a sentence at "..." on its own; in reviews "... Next" almost always does.
_ELLIPSIS_BREAK = re.compile(r"(?<=\.\.\.)\s+(?=[A-Z])")


__all__ = [
    "abbreviations_continuing",
    "default_sentence_splitter",
    "learned_abbreviations",
    "prune_abbreviations",
    "split_sentences",
    "train_sentence_splitter",
]
