"""Grounding checks: does a text stick to the attributes it was written from?

Generated copy can be fluent and wrong. For a text and the attributes it was written
from:

* *coverage*: the share of given attribute values the text mentions;
* *hallucinations*: brands, colours, materials, sizes or feature claims from the
  catalogue that the text mentions although the product does not have them;
* *banned claims*: "guaranteed", medical promises and the like;
* *price consistency*: every price in the text equals the product's price.

:func:`grounding` gathers them in a :class:`Grounding`, whose score reranks candidates;
:func:`grounded_bad_words` turns the catalogue values a product lacks into token
sequences that decoding may not write.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coursekit import product_copy
from coursekit.copywriter.prompts import format_value, ordered_names

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: attribute kinds whose catalogue values count as hallucinated when the product lacks them
HALLUCINATION_KINDS = ("brand", "colour", "material", "size", "features")


#: claims the shop never makes in copy: (label, pattern)
BANNED_CLAIMS: tuple[tuple[str, str], ...] = (
    ("guarantee", r"\bguarantee(d|s)?\b"),
    ("risk-free", r"\brisk[- ]free\b"),
    ("100% claim", r"\b100 ?% (safe|natural|effective|satisfaction)"),
    ("medical: cures", r"\b(cures?|cured|curing)\b"),
    ("medical: heals", r"\b(heals?|healing)\b"),
    ("medical: treats", r"\btreats? (pain|injur\w*|arthritis|disease\w*|insomnia|anxiety)"),
    ("medical: prevents", r"\bprevents? (disease|illness|injur\w*|cancer|infection)"),
    ("clinically proven", r"\bclinically (proven|tested)\b"),
    ("doctor recommended", r"\bdoctors? recommend(ed)?\b"),
    ("FDA", r"\bfda[- ]approved\b"),
    ("miracle", r"\bmiracle\b"),
)


# --------------------------------------------------------------------------- grounding


@functools.lru_cache(maxsize=65_536)  # the lexicon's values are normalised for every candidate
def _norm(text: str) -> str:
    text = text.lower().replace("-", " ").replace("_", " ")
    return re.sub(r"\s+", " ", text).strip()


_ALNUM = re.compile(r"[a-z0-9]+")


@functools.lru_cache(maxsize=65_536)
def _pieces(norm: str) -> frozenset[str]:
    """The runs of letters and digits of a normalised text (a phrase matches only if all occur)."""
    return frozenset(_ALNUM.findall(norm))


@functools.lru_cache(maxsize=4096)  # the catalogue's few hundred values, matched per candidate
def _value_pattern(value: str) -> re.Pattern[str]:
    words = [re.escape(w) for w in _norm(value).split(" ") if w]
    body = r"[\s\-]+".join(words)
    return re.compile(rf"(?<![a-z0-9]){body}(?![a-z0-9])", re.IGNORECASE)


_PRICE = re.compile(r"(?:\$|usd\s?)(\d{1,3}(?:,\d{3})*(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)", re.I)


def prices_in(text: str) -> list[float]:
    """Every price written with a ``$`` (or ``USD``) in ``text``: ``"$1,299.00"`` → ``[1299.0]``."""
    _check_text(text)
    return [float(m.replace(",", "")) for m in _PRICE.findall(text)]


def price_consistent(text: str, price: float | None) -> bool:
    """True when every price in ``text`` equals ``price`` (to the cent); no price at all is fine."""
    found = prices_in(text)
    if price is None:
        return not found
    return all(abs(p - float(price)) < 0.005 for p in found)


def _values(name: str, value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if str(v).strip()]
    return [format_value(name, value)]


def mentions(text: str, name: str, value: Any) -> bool:
    """Whether ``text`` mentions one attribute value (case, hyphens and spacing ignored).

    Prices match by number (``$59.99`` or ``59.99``); other values as whole words.
    """
    _check_text(text)
    if name == "price":
        try:
            target = float(str(value).replace("$", "").replace(",", ""))
        except ValueError:
            return False
        numbers = [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]
        return any(abs(n - target) < 0.005 for n in numbers)
    return bool(_value_pattern(str(value)).search(_norm(text)))


def attribute_items(attributes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The checkable ``(name, value)`` items: a list value gives one item per element."""
    if not isinstance(attributes, Mapping):
        raise TypeError(f"attributes must be a dict, got {type(attributes).__name__}")
    items = []
    for name in ordered_names(attributes):
        items.extend((name, v) for v in _values(name, attributes[name]))
    return items


def missing_attributes(text: str, attributes: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The given ``(name, value)`` items that ``text`` does not mention."""
    return [(n, v) for n, v in attribute_items(attributes) if not mentions(text, n, v)]


def attribute_coverage(text: str, attributes: Mapping[str, Any]) -> float:
    """Share of the given attribute values that ``text`` mentions (1.0 when all are there)."""
    items = attribute_items(attributes)
    if not items:
        raise ValueError("attributes are empty: nothing to cover")
    return 1.0 - len(missing_attributes(text, attributes)) / len(items)


def attribute_lexicon(
    products: pd.DataFrame, kinds: Sequence[str] = HALLUCINATION_KINDS
) -> dict[str, list[str]]:
    """Every value the catalogue uses for each attribute kind (what the model could invent)."""
    lexicon: dict[str, dict[str, str]] = {k: {} for k in kinds}
    for attrs in products["attributes"]:
        for kind in kinds:
            for value in _values(kind, attrs.get(kind)):
                lexicon[kind].setdefault(_norm(value), value)
    return {k: sorted(v.values(), key=str.lower) for k, v in lexicon.items() if v}


def hallucinated_attributes(
    text: str, attributes: Mapping[str, Any], lexicon: Mapping[str, Sequence[str]]
) -> list[tuple[str, str]]:
    """Catalogue values the text mentions that the product does not have: ``[(kind, value)]``.

    Every given value and every lexicon value is looked up as whole words; where
    mentions overlap, the longest wins. So "navy" inside a given "navy blue", or a
    colour inside the given product name, is not blamed, while "organic cotton" for a
    product made of plain "cotton" is. Each remaining lexicon mention is a hallucination.
    """
    _check_text(text)
    norm = _norm(text)
    given = {_norm(v) for _, v in attribute_items(attributes)}
    phrases: list[tuple[str, str | None, str]] = [(v, None, v) for v in given]
    phrases += [
        (_norm(v), kind, v)
        for kind, values in lexicon.items()
        for v in values
        if _norm(v) not in given
    ]
    # longest first; on equal length a given value before a lexicon value
    phrases.sort(key=lambda p: (-len(p[0]), p[1] is not None, p[0]))
    taken = [False] * len(norm)
    found: list[tuple[str, str]] = []
    present = _pieces(norm)
    for phrase, kind, value in phrases:
        if not phrase or not _pieces(phrase) <= present:  # cannot match: skip the regex
            continue
        for match in _value_pattern(phrase).finditer(norm):
            a, b = match.span()
            if any(taken[a:b]):
                continue
            taken[a:b] = [True] * (b - a)
            if kind is not None and (kind, value) not in found:
                found.append((kind, value))
    return found


def banned_claims(text: str) -> list[str]:
    """Labels of the :data:`BANNED_CLAIMS` that ``text`` makes."""
    _check_text(text)
    return [label for label, pattern in BANNED_CLAIMS if re.search(pattern, text, re.IGNORECASE)]


_FORM_IDS: weakref.WeakKeyDictionary[Any, dict[int, dict[str, list[int]]]] = (
    weakref.WeakKeyDictionary()
)


def _encode_forms(tokenizer: Any, forms: Sequence[str]) -> list[list[int]]:
    """Token ids of each text (no special tokens), remembered per tokenizer.

    Every grounded ``generate`` encodes nearly the whole catalogue lexicon again; the
    tokenizer is deterministic, so each form is encoded once.
    """
    # keyed by the vocabulary size too: adding tokens to a tokenizer changes its encodings
    known = _FORM_IDS.setdefault(tokenizer, {}).setdefault(len(tokenizer), {})
    new = [f for f in dict.fromkeys(forms) if f not in known]
    if new:  # one batched tokenizer call for what is new
        known.update(zip(new, tokenizer(new, add_special_tokens=False)["input_ids"], strict=True))
    return [known[f] for f in forms]


def grounded_bad_words(
    tokenizer: Any, attributes: Mapping[str, Any], lexicon: Mapping[str, Sequence[str]]
) -> list[list[int]]:
    """Token sequences to forbid while writing copy for ``attributes`` (``bad_words_ids``).

    Every catalogue value the product does *not* have, as written after a space or at
    the start of a text, in lower case and capitalised. Left out: values that appear
    inside a given value ("navy" when the colour is "navy blue"), and sequences that start
    the tokens of a given value (banning " red" would also ban " reduced").
    ``generate(..., bad_words_ids=...)`` then cannot finish any of them: hallucinations of
    catalogue values are prevented instead of only being caught afterwards.
    """
    given_values = [str(v) for _, v in attribute_items(attributes)]
    given_norm = [_norm(v) for v in given_values]

    def forms(values: Iterable[str]) -> list[str]:
        cased = {c for v in values for c in (v, v.lower(), v[:1].upper() + v[1:])}
        return sorted(prefix + form for form in cased for prefix in (" ", ""))

    absent = [
        value
        for values in lexicon.values()
        for value in values
        if not any(_value_pattern(value).search(g) for g in given_norm)
    ]
    given_forms, absent_forms = forms(given_values), forms(absent)
    encoded = _encode_forms(tokenizer, given_forms + absent_forms)
    given_prefixes = {
        tuple(ids[:i]) for ids in encoded[: len(given_forms)] for i in range(1, len(ids) + 1)
    }
    banned = {tuple(ids) for ids in encoded[len(given_forms) :] if ids}
    return [list(seq) for seq in sorted(banned - given_prefixes)]


@dataclass
class Grounding:
    """How well one text sticks to its attributes, and the score used for reranking."""

    coverage: float
    missing: list[tuple[str, str]]
    hallucinated: list[tuple[str, str]]
    banned: list[str]
    price_ok: bool
    #: features the text names more than once (a stuck decoder, not a fact error)
    repeated: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        """``coverage − 0.5·hallucinations − 1·banned − 1·(wrong price) − 0.25·repeats``.

        Higher is better. Slots the text could not fill (a delexicalised model wrote
        ``<colour>`` for a product without one) count as hallucinations.
        """
        return (
            self.coverage
            - 0.5 * len(self.hallucinated)
            - 1.0 * len(self.banned)
            - (0.0 if self.price_ok else 1.0)
            - 0.25 * len(self.repeated)
        )


def repeated_features(text: str, attributes: Mapping[str, Any]) -> list[str]:
    """The given features that ``text`` mentions more than once."""
    norm = _norm(text)
    features = _values("features", attributes.get("features"))
    return [f for f in features if len(_value_pattern(f).findall(norm)) > 1]


def grounding(
    text: str, attributes: Mapping[str, Any], lexicon: Mapping[str, Sequence[str]]
) -> Grounding:
    """All grounding measures of ``text`` against ``attributes`` (see :class:`Grounding`)."""
    price = attributes.get("price")
    unfilled = [("slot", t) for t in product_copy.unfilled_slots(text)]
    return Grounding(
        coverage=attribute_coverage(text, attributes),
        missing=missing_attributes(text, attributes),
        hallucinated=hallucinated_attributes(text, attributes, lexicon) + unfilled,
        banned=banned_claims(text),
        price_ok=price_consistent(text, None if price is None else float(price)),
        repeated=repeated_features(text, attributes),
    )


def _check_text(text: object) -> None:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")


__all__ = [
    "BANNED_CLAIMS",
    "HALLUCINATION_KINDS",
    "Grounding",
    "attribute_coverage",
    "attribute_items",
    "attribute_lexicon",
    "banned_claims",
    "grounded_bad_words",
    "grounding",
    "hallucinated_attributes",
    "mentions",
    "missing_attributes",
    "price_consistent",
    "prices_in",
    "repeated_features",
]
