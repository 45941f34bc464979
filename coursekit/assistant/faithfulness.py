"""Is every fact in a reply supported by the passage? Numbers, amounts, durations and policies.

A reply may only say what its FAQ passage says. The checker pulls the checkable facts out of
both texts and reports the reply's facts that the passage lacks:

* **numbers** (``30``, ``$4.95``, ``14:00``, ``10%``; number words such as *thirty* count as
  digits) and **durations** (a number with its unit: *30 days* is not *30 minutes*);
* **policy terms**: promises a shop is held to (*free*, *full refund*, *store credit*,
  *lifetime*, *no questions asked*...): a reply that grants one the passage does not is
  unfaithful even without a number;
* **words**: when more than :data:`MAX_NEW_WORDS` of the reply's content words (3+ letters,
  not function words) never occur in the passage, the reply says something else.

:func:`unsupported_facts` lists them, :func:`is_faithful` says yes when there are none. It is
deliberately simple (no paraphrase understanding), so it is validated against hand labels
(``tests/fixtures/faithfulness_labels.jsonl``) with accuracy and Cohen's kappa (notebook 11).
"""

from __future__ import annotations

import re

_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fourteen": "14",
    "fifteen": "15", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50",
    "sixty": "60", "ninety": "90", "hundred": "100",
}  # fmt: skip
_UNITS = {
    "minute": "minute", "minutes": "minute", "hour": "hour", "hours": "hour", "day": "day",
    "days": "day", "week": "week", "weeks": "week", "month": "month", "months": "month",
    "year": "year", "years": "year",
}  # fmt: skip
#: promises a reply may only make when the passage makes them
POLICY_TERMS = (
    "free",
    "full refund",
    "refund",
    "store credit",
    "gift card",
    "voucher",
    "discount",
    "lifetime",
    "no questions asked",
    "guarantee",
    "compensation",
    "cash",
    "exchange",
    "express",
    "same day",
    "next day",
    "international",
    "price match",
)
#: the share of a reply's content words that may be missing from the passage
MAX_NEW_WORDS = 0.2
_FUNCTION_WORDS = frozenset(
    "the and for you your our are can not but with this that from have has was were will "
    "yes any all its it's into out when what which who how then than also only just there "
    "here they them their please thanks thank sure".split()
)
_NUM = re.compile(r"(?<![\w.])[$£€]?\d+(?:[.,:]\d+)*%?(?![\w])")
_WORD = re.compile(r"[a-z]+")
_CITATION = re.compile(r"\(from FAQ [^)]*\)")


def _check(text: object, name: str) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{name} should be a str, got {type(text).__name__}")
    return text


def _norm_number(token: str) -> str:
    token = token.strip("$£€%").replace(",", "")
    if re.fullmatch(r"\d+\.0+", token):
        token = token.split(".")[0]
    return token.lstrip("0") or "0"


def numbers(text: str) -> list[str]:
    """The numbers in ``text`` (digits and number words), normalised: ``$4.95`` -> ``4.95``."""
    _check(text, "text")
    text = _CITATION.sub(" ", text).lower()
    out = [_norm_number(m.group()) for m in _NUM.finditer(text)]
    out += [_NUMBER_WORDS[w] for w in _WORD.findall(text) if w in _NUMBER_WORDS]
    return out


def durations(text: str) -> list[str]:
    """``"<number> <unit>"`` pairs (``"30 day"``, ``"60 minute"``): a number and what it counts."""
    _check(text, "text")
    words = re.findall(r"[$£€]?\d+(?:[.,:]\d+)*%?|[a-z]+", _CITATION.sub(" ", text).lower())
    out = []
    for a, b in zip(words, words[1:], strict=False):
        n = _NUMBER_WORDS.get(a, _norm_number(a) if a[:1].isdigit() or a[:1] in "$£€" else None)
        if n is not None and b in _UNITS:
            out.append(f"{n} {_UNITS[b]}")
    return out


def policy_terms(text: str) -> list[str]:
    """The :data:`POLICY_TERMS` found in ``text`` (whole words; *refund* inside *full refund* too)."""
    low = " ".join(_WORD.findall(_CITATION.sub(" ", _check(text, "text")).lower()))
    return [t for t in POLICY_TERMS if re.search(rf"\b{t}\b", low)]


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def new_words(reply: str, passage: str) -> list[str]:
    """The reply's content words (3+ letters, not function words) absent from the passage."""
    have = {_stem(w) for w in _WORD.findall(_check(passage, "passage").lower())}
    words = [w for w in _WORD.findall(_CITATION.sub(" ", _check(reply, "reply")).lower())]
    content = [w for w in words if len(w) >= 3 and w not in _FUNCTION_WORDS]
    return [w for w in dict.fromkeys(content) if _stem(w) not in have]


def unsupported_facts(reply: str, passage: str) -> list[str]:
    """The reply's facts that the passage does not support, e.g. ``["number 14", "policy free"]``.

    The citation ``(from FAQ …)`` is ignored. Order: numbers, durations, policy terms, words.
    """
    _check(reply, "reply")
    if not _check(passage, "passage").strip():
        raise ValueError(
            "the passage is empty; check a reply against the FAQ text it was written from"
        )
    p_num, p_dur, p_pol = set(numbers(passage)), set(durations(passage)), set(policy_terms(passage))
    missing = [f"number {n}" for n in dict.fromkeys(numbers(reply)) if n not in p_num]
    missing += [
        f"duration {d}"
        for d in dict.fromkeys(durations(reply))
        if d not in p_dur and d.split()[0] in p_num
    ]
    missing += [f"policy {t}" for t in policy_terms(reply) if t not in p_pol]
    content = {w for w in _WORD.findall(_CITATION.sub(" ", reply).lower()) if len(w) >= 3}
    novel = new_words(reply, passage)
    if content and len(novel) > MAX_NEW_WORDS * len(content - _FUNCTION_WORDS):
        missing.append("words " + " ".join(novel))
    return missing


def is_faithful(reply: str, passage: str) -> bool:
    """True when every number, duration and policy term of ``reply`` is in ``passage`` and
    few enough of its words are new."""
    return not unsupported_facts(reply, passage)


__all__ = [
    "MAX_NEW_WORDS",
    "POLICY_TERMS",
    "durations",
    "is_faithful",
    "new_words",
    "numbers",
    "policy_terms",
    "unsupported_facts",
]
