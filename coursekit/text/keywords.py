"""Keyword tokens: lowercase words without the very common function words.

Keyword search (:mod:`coursekit.retrieval.keywords`: TF-IDF and BM25) and the FAQ generator
(:mod:`coursekit.corpus.faq`, which picks an entry's keywords) both use :func:`keyword_tokens`;
it lives here so that generating the data does not depend on the retrieval package.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
#: a short stopword list for keyword search (question words and negations are kept: they matter)
KEYWORD_STOPWORDS = frozenset(
    "a an the is are was were be been am i my me we our you your it its this that to of in on "
    "for at by with and or do does did can could would should will shall have has had there "
    "please hi hello thanks thank".split()
)


def keyword_tokens(text: str, stopwords: frozenset[str] = KEYWORD_STOPWORDS) -> list[str]:
    """Lowercase word tokens for keyword search, without the very common function words."""
    if not isinstance(text, str):
        raise TypeError(f"keyword_tokens expects a str, got {type(text).__name__}")
    return [t for t in _WORD.findall(text.lower()) if t not in stopwords]


__all__ = ["KEYWORD_STOPWORDS", "keyword_tokens"]
