"""The text -> text steps of the cleaner: Unicode, HTML, personal data and elongations.

:func:`normalize_unicode` (NFKC, straight quotes), :func:`strip_html` (entities and tags),
:func:`scrub_pii` (URLs, e-mails and phones become ``<url>``, ``<email>``, ``<phone>``) and
:func:`squeeze_elongations` ("soooo" -> "soo", with :func:`word_vocabulary` "sloooow" ->
"slow"). Each is a pure function on ``str`` with its regular expressions compiled once.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Container, Iterable

from coursekit.text.inputs import _check_str

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "\u0060": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\ufe0f": None,  # emoji variation selector
        "\u200d": None,  # zero-width joiner
        "\u200b": None,  # zero-width space
    }
)


def normalize_unicode(text: str, form: str = "NFKC") -> str:
    """Unicode normalisation (NFKC by default) plus straight quotes.

    NFKC folds look-alikes to one code point: full-width ``ＸＬ`` -> ``XL``,
    ligature ``ﬁ`` -> ``fi``, non-breaking space -> space. Curly apostrophes
    become ``'`` so "don’t" and "don't" are the same word.
    """
    _check_str(text)
    return unicodedata.normalize(form, text).translate(_QUOTES)


_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^<>]*>")
_BREAK_TAG = re.compile(r"<\s*(?:br|/p|p|/div|div|li|/li)\b[^<>]*>", re.IGNORECASE)


def strip_html(text: str) -> str:
    """Unescape HTML entities (``&amp;`` -> ``&``) and replace tags with spaces.

    Block tags (``<br>``, ``<p>``, ``<li>``) become ``". "``-free spaces too; a tag is
    ``<`` + letter ... ``>``, so "<3" and "a < b" survive.
    """
    _check_str(text)
    if "<" in text:
        text = _BREAK_TAG.sub(" ", text)
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
        if "<" in text:  # entities can hide tags: "&lt;b&gt;"
            text = _TAG.sub(" ", text)
    return text


URL_TOKEN, EMAIL_TOKEN, PHONE_TOKEN = "<url>", "<email>", "<phone>"
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}\b")
_PHONE = re.compile(
    r"(?<![\w$€£.,-])"  # not glued to a word, price, decimal or model number
    r"(?:"
    r"(?:\+\d{1,3}[\s.-]?)?"  # country code
    r"(?:\(\d{2,4}\)\s?|\d{2,4}[\s.-])"  # area code
    r"\d{3,4}[\s.-]?\d{3,4}"
    r"|\d{3}[.-]\d{4}"  # local number: 555-0123, 555.0123
    r")"
    r"(?![\w.,-]?\d)"
)


def scrub_pii(text: str) -> str:
    """Replace URLs, e-mail addresses and phone numbers with ``<url>``, ``<email>``, ``<phone>``.

    Reviews are shared with models, vendors and logs: personal data should not be.
    Prices (``$19.99``), sizes (``10.5``) and model numbers (``XR-200``) are kept.
    """
    _check_str(text)
    if "@" in text:
        text = _EMAIL.sub(EMAIL_TOKEN, text)
    if "www" in text or "http" in text or "WWW" in text or "HTTP" in text:
        text = _URL.sub(URL_TOKEN, text)
    return _PHONE.sub(PHONE_TOKEN, text)


_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")
_REPEATED_PUNCT = re.compile(r"([!?.])\1{2,}")


_ELONGATED_WORD = re.compile(r"[^\W\d_]*([^\W\d_])\1{2,}[^\W\d_]*")


def squeeze_elongations(text: str, vocabulary: Container[str] | None = None) -> str:
    """Shorten letters repeated 3+ times to two, and punctuation runs to two.

    "soooo goooood!!!!" -> "soo good!!". Two letters are kept because English
    has real double letters ("good", "too"); digits are never touched ("1000").
    With a ``vocabulary`` (lowercase words), an elongated word whose two-letter
    form is unknown but whose one-letter form is known gets the latter:
    "sloooow" -> "slow", "loooove" -> "love".
    """
    _check_str(text)
    if vocabulary is None:
        text = _ELONGATED.sub(r"\1\1", text)
    else:

        def fix(match: re.Match[str]) -> str:
            two = _ELONGATED.sub(r"\1\1", match.group())
            if two.lower() in vocabulary:
                return two
            one = _ELONGATED.sub(r"\1", match.group())
            return one if one.lower() in vocabulary else two

        text = _ELONGATED_WORD.sub(fix, text)
    return _REPEATED_PUNCT.sub(r"\1\1", text)


def word_vocabulary(texts: Iterable[str], min_count: int = 2) -> frozenset[str]:
    """Lowercase words seen at least ``min_count`` times, without elongations: for squeezing."""
    from collections import Counter

    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w.lower() for w in _WORD.findall(_check_str(text)))
    return frozenset(w for w, n in counts.items() if n >= min_count and not _ELONGATED.search(w))


_WORD = re.compile(r"[^\W\d_]+")


__all__ = [
    "EMAIL_TOKEN",
    "PHONE_TOKEN",
    "URL_TOKEN",
    "normalize_unicode",
    "scrub_pii",
    "squeeze_elongations",
    "strip_html",
    "word_vocabulary",
]
