"""Tokenization and the token steps: :func:`tokenize`, case, stopwords, negation, stems.

:func:`tokenize` keeps what carries meaning in reviews (prices, model numbers,
contractions, emoticons, emoji, clause punctuation) as single tokens; the steps after it
work on ``list[str]``: :func:`fold_case`, :func:`remove_stopwords` (negations kept),
:func:`mark_negation`, :func:`drop_punctuation` and :func:`stem` (NLTK, cached per word).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any

from coursekit.text.inputs import _check_str
from coursekit.text.wordlists import (
    CLAUSE_PUNCT,
    SCOPE_BREAKERS,
    english_stopwords,
    is_negation,
    safe_stopwords,
)

_EMOJI_CLASS = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff"
_TOKEN_PATTERN = "|".join(
    [
        r"<(?:url|email|phone)>",  # privacy placeholders
        r"[$€£]\s?\d+(?:[.,]\d+)*",  # prices: $19.99, € 5,00
        r"\d+(?:[.,/]\d+)+%?",  # decimals, fractions, dates: 10.5, 1/2
        r"[^\W_]+(?:['\-][^\W_]+)*(?:')?%?",  # words, with inner ' or - : don't, 5-star, XR-200
        r"(?:[:;=][\-^']?[()\[\]dDpP/\\|*]|<3)",  # emoticons
        rf"[{_EMOJI_CLASS}]",  # one emoji per token
        r"[!?.]{1,2}|[,;:]",  # punctuation that matters for scope and tone
    ]
)
_TOKEN_RE = re.compile(_TOKEN_PATTERN)
_TWEET: Any = None


def tokenize(text: str, method: str = "regexp") -> list[str]:
    """Split a review into tokens, keeping what carries meaning in reviews.

    ``"regexp"`` (default, fast) keeps prices, decimals, model numbers, contractions,
    emoticons, emoji and clause punctuation as single tokens. ``"tweet"`` uses
    NLTK's ``TweetTokenizer`` (also review-aware, slower).
    """
    _check_str(text)
    if method == "regexp":
        return _TOKEN_RE.findall(text)
    if method == "tweet":
        global _TWEET
        if _TWEET is None:
            from nltk.tokenize import TweetTokenizer

            _TWEET = TweetTokenizer(preserve_case=True)
        return _TWEET.tokenize(text)
    raise ValueError(f"unknown tokenize method {method!r}; use 'regexp' or 'tweet'")


# --------------------------------------------------------------------------- token steps


def fold_case(tokens: Sequence[str], keep_emphasis: bool = False) -> list[str]:
    """Lowercase every token; with ``keep_emphasis`` ALL-CAPS words (3+ letters) stay shouted.

    "This is TERRIBLE" -> ``["this", "is", "TERRIBLE"]``: shouting is a sentiment signal.
    """
    if keep_emphasis:
        return [t if len(t) >= 3 and t.isupper() and t.isalpha() else t.lower() for t in tokens]
    return [t.lower() for t in tokens]


def remove_stopwords(
    tokens: Sequence[str],
    keep_negations: bool = True,
    stopwords: Iterable[str] | None = None,
) -> list[str]:
    """Drop stopwords with one set lookup per token.

    ``keep_negations=True`` (the default) keeps *not, no, never, don't, ...* even though
    NLTK's list contains them. ``stopwords`` overrides the list (default: NLTK English).
    """
    if isinstance(tokens, str):
        raise TypeError("remove_stopwords expects a list of tokens, not a str: tokenize first")
    if stopwords is None:
        stop = safe_stopwords() if keep_negations else english_stopwords()
    else:
        stop = frozenset(stopwords)
        if keep_negations:
            stop = frozenset(w for w in stop if not is_negation(w))
    return [t for t in tokens if t.lower() not in stop]


def mark_negation(tokens: Sequence[str], prefix: str = "not_", window: int | None = 3) -> list[str]:
    """Prefix the words in a negation's scope: ``["not", "good"]`` -> ``["not", "not_good"]``.

    The scope starts after a negation word and ends at clause punctuation, at
    *but/however/...*, at another negation, or after ``window`` words (``None``: no limit).
    A bag-of-words model then sees "not_good" as its own feature, far from "good".
    """
    if isinstance(tokens, str):
        raise TypeError("mark_negation expects a list of tokens, not a str: tokenize first")
    out: list[str] = []
    left = 0  # words of scope still to mark
    for tok in tokens:
        low = tok.lower()
        if is_negation(low):
            out.append(tok)
            left = window if window is not None else 10**9
        elif low in CLAUSE_PUNCT or low in SCOPE_BREAKERS:
            out.append(tok)
            left = 0
        elif left > 0 and tok[:1].isalnum():
            out.append(prefix + tok)
            left -= 1
        else:
            out.append(tok)
    return out


def drop_punctuation(
    tokens: Sequence[str], keep: Iterable[str] = ("!", "?", "!!", "??")
) -> list[str]:
    """Remove clause punctuation tokens, keeping the ones in ``keep`` (tone: "!" and "?")."""
    keep = frozenset(keep)
    return [t for t in tokens if t in keep or t not in CLAUSE_PUNCT]


@functools.lru_cache(maxsize=4)
def _stemmer(algorithm: str) -> Any:
    from nltk.stem import PorterStemmer, SnowballStemmer

    if algorithm == "porter":
        return PorterStemmer()
    if algorithm == "snowball":
        return SnowballStemmer("english")
    raise ValueError(f"unknown stemmer {algorithm!r}; use 'porter' or 'snowball'")


@functools.lru_cache(maxsize=200_000)
def _stem_word(word: str, algorithm: str) -> str:
    return _stemmer(algorithm).stem(word)


def stem(tokens: Sequence[str], algorithm: str = "porter") -> list[str]:
    """Reduce words to stems with NLTK's Porter or Snowball stemmer (cached per word).

    Only alphabetic words are stemmed, so prices, emoji and placeholders pass through.
    Pitfalls: stems are not words ("battery" -> "batteri"), unrelated words collide
    ("university", "universe" -> "univers") and negation prefixes survive ("not_fit").
    """
    if isinstance(tokens, str):
        raise TypeError("stem expects a list of tokens, not a str: tokenize first")
    _stemmer(algorithm)  # validate early
    return [_stem_word(t, algorithm) if t.isalpha() else t for t in tokens]


__all__ = ["drop_punctuation", "fold_case", "mark_negation", "remove_stopwords", "stem", "tokenize"]
