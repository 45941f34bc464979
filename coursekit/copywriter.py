"""The shop's copywriter: a small GPT that writes product copy from attributes, and its grounding checks.

**Prompt format.** The voice and the attributes are serialised in a fixed order between
two special tokens, and the copy follows::

    <|attrs|>voice: warm | category: shoes | brand: Trailfox | price: $59.99<|copy|>Meet …<|endoftext|>

The model is a GPT-2-architecture network (``GPT2LMHeadModel``) trained *from
scratch* on the training products' attribute → copy pairs (the shop's copy templates of
:mod:`coursekit.product_copy`, three voices, attributes randomly left out), with the
loss on the copy tokens only (the attributes are given, not predicted).

**Slots.** A small model trained on 336 products learns their brands, names and prices:
given a product it has never seen, it writes the ones it knows. So by default
(``TrainConfig.delexicalise``) it never sees a value: the prompt lists slot tokens
(``brand: <brand> | price: <price>``), the model writes ``"… for <price>."``, and
:func:`coursekit.product_copy.fill_slots` puts the values back after decoding; a value
cannot be misspelt or replaced by a catalogue habit. ``delexicalise=False`` trains the
same model on the words themselves, the comparison notebook 07 measures.

It reuses the shop's byte-level BPE (:func:`coursekit.tokenization.load_shop_bpe`) plus
the special tokens, and trains deterministically in under a minute on a laptop CPU.
:func:`load_copywriter` builds it once into the artifact cache (safetensors) and
loads it from there afterwards. ``train_copywriter(base_model="gpt2")`` fine-tunes
the real GPT-2 instead when online (never the default).

**Grounding.** Generated copy can be fluent and wrong. For a text and the
attributes it was written from:

* *coverage*: the share of given attribute values the text mentions;
* *hallucinations*: brands, colours, materials, sizes or feature claims from the
  catalogue that the text mentions although the product does not have them;
* *banned claims*: "guaranteed", medical promises and the like;
* *price consistency*: every price in the text equals the product's price.

:func:`generate` samples several candidates and reranks them by these scores.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import random
import re
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursekit import product_copy

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import torch

ATTRS_TOKEN = "<|attrs|>"
COPY_TOKEN = "<|copy|>"
#: the recipe of :func:`load_copywriter`'s cached model; bump it when training changes
RECIPE = "6"
#: attribute names in the order the prompt lists them (others follow, sorted): roughly the
#: order in which the copy mentions them; the category last, next to the copy, whose tone
#: it sets
ATTRIBUTE_ORDER = (
    "voice",
    "brand",
    "name",
    "material",
    "colour",
    "size",
    "features",
    "price",
    "category",
)
#: attribute kinds whose catalogue values count as hallucinated when the product lacks them
HALLUCINATION_KINDS = ("brand", "colour", "material", "size", "features")

#: decoding settings behind each ``strategy`` name of :func:`generate`
STRATEGIES: dict[str, dict[str, Any]] = {
    "greedy": {"do_sample": False, "num_beams": 1},
    "beam": {"do_sample": False, "num_beams": 4, "early_stopping": True},
    "temperature": {"do_sample": True, "temperature": 0.8, "top_k": 0},
    "top_k": {"do_sample": True, "top_k": 20},
    "top_p": {"do_sample": True, "top_p": 0.9, "top_k": 0, "temperature": 0.8},
}

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


# --------------------------------------------------------------------------- the prompt


def format_value(name: str, value: Any) -> str:
    """One attribute value as prompt text: prices as ``$59.99``, lists joined by commas."""
    if name == "price" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return product_copy.format_price(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def ordered_names(names: Iterable[str]) -> list[str]:
    """Attribute names in prompt order: :data:`ATTRIBUTE_ORDER` first, then the rest sorted."""
    names = list(names)
    known = [n for n in ATTRIBUTE_ORDER if n in names]
    return known + sorted(n for n in names if n not in ATTRIBUTE_ORDER)


def serialise_attributes(attributes: Mapping[str, Any]) -> str:
    """``{"colour": "red", "category": "shoes"}`` → ``"category: shoes | colour: red"``.

    Empty values (``None``, ``""``, ``[]``) are left out.
    """
    if not isinstance(attributes, Mapping):
        raise TypeError(f"attributes must be a dict, got {type(attributes).__name__}")
    parts = []
    for name in ordered_names(attributes):
        value = attributes[name]
        if value is None or value == "" or (isinstance(value, (list, tuple)) and not value):
            continue
        parts.append(f"{name}: {format_value(name, value)}")
    return " | ".join(parts)


def format_prompt(attributes: Mapping[str, Any], voice: str | None = None) -> str:
    """The text the model continues: ``<|attrs|>voice: … | …<|copy|>``."""
    if voice is not None:
        attributes = {**attributes, "voice": voice}
    return f"{ATTRS_TOKEN}{serialise_attributes(attributes)}{COPY_TOKEN}"


def _attributes_of(product: Any) -> dict[str, Any]:
    if isinstance(product, Mapping):
        return dict(product.get("attributes", product))
    return dict(product.attributes)


def copy_text(product: Any, voice: str = "warm", seed: int = 0) -> str:
    """The shop's copy for a product (a row, or its attributes) in one voice.

    Written by :func:`coursekit.product_copy.write_copy`; ``seed`` picks the phrasing.
    """
    return example_pair(_attributes_of(product), voice, random.Random(seed), False)[1]


def example_pair(
    attributes: Mapping[str, Any], voice: str, rng: random.Random, delexicalise: bool
) -> tuple[str, str]:
    """One ``(prompt, copy)`` training pair: in slots or in words."""
    slots = product_copy.delexicalise(attributes)
    slot_text = product_copy.write_copy(attributes, voice, rng)
    if delexicalise:
        return format_prompt(slots.attributes, voice), slot_text
    return format_prompt(attributes, voice), product_copy.fill_slots(slot_text, slots.values)


#: attributes :func:`training_examples` may leave out, so the model learns to do without
OPTIONAL_ATTRIBUTES = ("brand", "name", "material", "colour", "size", "price")


def training_examples(
    products: pd.DataFrame,
    variants: int = 2,
    drop: float = 0.15,
    delexicalise: bool = True,
    seed: int = 0,
) -> list[tuple[str, str]]:
    """``(prompt, copy)`` pairs: every product in every voice, ``variants`` times each.

    In each variant every optional attribute is left out with probability ``drop``, and a
    feature list may be cut short (never below one) or lengthened with other features of
    the category (up to :data:`coursekit.product_copy.MAX_FEATURES`), so the model meets
    products without a colour, a price or a brand, and longer lists than the catalogue's;
    the copy mentions exactly what the variant has.
    """
    rng = random.Random(seed)
    rows = list(products.sort_values("product_id").itertuples(index=False))
    pool: dict[str, list[str]] = {}  # every feature of each category, for longer lists
    for r in rows:
        for f in r.attributes.get("features") or []:
            pool.setdefault(r.attributes.get("category", ""), []).append(f)
    pairs = []
    for r in rows:
        for voice in product_copy.VOICES:
            for _ in range(variants):
                attrs = dict(r.attributes)
                for key in OPTIONAL_ATTRIBUTES:
                    if key in attrs and rng.random() < drop:
                        del attrs[key]
                feats = list(attrs.get("features") or [])
                if len(feats) > 1 and rng.random() < drop:
                    feats = rng.sample(feats, rng.randint(1, len(feats) - 1))
                elif feats and rng.random() < drop:  # up to MAX_FEATURES, from the category
                    others = sorted(set(pool.get(attrs.get("category", ""), [])) - set(feats))
                    room = product_copy.MAX_FEATURES - len(feats)
                    feats += rng.sample(others, min(len(others), rng.randint(1, 2), room))
                if feats:
                    attrs["features"] = feats
                pairs.append(example_pair(attrs, voice, rng, delexicalise))
    return pairs


def examples_from_products(
    products: pd.DataFrame, delexicalise: bool = False, voice: str = "warm"
) -> list[tuple[str, str]]:
    """``(prompt, copy)`` pairs, one per product in ``product_id`` order (for evaluation)."""
    rows = products.sort_values("product_id").itertuples(index=False)
    return [
        example_pair(r.attributes, voice, random.Random(i), delexicalise)
        for i, r in enumerate(rows)
    ]


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


# --------------------------------------------------------------------------- the model


@dataclass
class TrainConfig:
    """Size of the copywriter and how it is trained (the defaults take ~30 s on 2 CPU cores).

    Two epochs: measured on the validation products, a third one changed neither the
    perplexity (1.25) nor coverage, hallucinations or well-formed sentences, and cost half
    as much time again (``benchmarks/copywriting.py --recipes``).
    """

    n_embd: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_positions: int = 512
    dropout: float = 0.0
    max_length: int = 192
    batch_size: int = 16
    epochs: int = 2
    lr: float = 3e-3
    warmup: float = 0.05
    weight_decay: float = 0.01
    seed: int = 0
    threads: int = 2
    #: ``"fp32"``, ``"bf16"`` or ``"auto"`` (what the device does natively: :mod:`coursekit.env`)
    precision: str = "fp32"
    #: the model reads and writes slot tokens instead of values (see the module docstring)
    delexicalise: bool = True
    #: training copies per product and voice, each with other attributes left out
    variants: int = 2
    #: the chance that :func:`training_examples` leaves out each optional attribute
    drop: float = 0.15
    #: synthetic catalogues added to the training products (:func:`synthetic_products`)
    extra_catalogues: int = 0


@dataclass
class Copywriter:
    """A trained copywriter: model, tokenizer and what it knows about the catalogue."""

    model: Any
    tokenizer: Any
    attribute_names: list[str]
    lexicon: dict[str, list[str]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def delexicalised(self) -> bool:
        """Whether the model writes slot tokens (filled with the values after decoding)."""
        return bool(self.meta.get("config", {}).get("delexicalise", False))

    def prompt(self, attributes: Mapping[str, Any], voice: str = "warm") -> str:
        """The prompt this model continues for ``attributes``: in slots or in words."""
        attributes = self.check_attributes(attributes)
        if self.delexicalised:
            attributes = product_copy.delexicalise(attributes).attributes
        return format_prompt(attributes, voice)

    def decode(self, ids: Any, attributes: Mapping[str, Any]) -> str:
        """Generated token ids → text, up to the first end-of-text, slots filled."""
        import torch

        raw = self._decode(torch.as_tensor(ids))
        if not self.delexicalised:
            return raw
        return product_copy.fill_slots(raw, product_copy.delexicalise(attributes).values)

    def check_attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """Validate user attributes: a non-empty dict of known names; returns the non-empty ones."""
        if not isinstance(attributes, Mapping):
            raise TypeError(f"attributes must be a dict, got {type(attributes).__name__}")
        unknown = [k for k in attributes if k not in self.attribute_names or k == "voice"]
        if unknown:
            raise ValueError(
                f"unknown attribute name(s): {', '.join(map(str, unknown))}; "
                f"the copywriter knows: {', '.join(self.attribute_names)}"
            )
        kept = {k: v for k, v in attributes.items() if _values(k, v)}
        if not kept:
            raise ValueError(
                "attributes are empty: give at least one, e.g. {'category': 'shoes', 'colour': 'red'}"
            )
        return kept

    def generate(
        self,
        attributes: Mapping[str, Any],
        n: int = 3,
        strategy: str = "top_p",
        seed: int = 0,
        max_new_tokens: int = 120,
        rerank: bool = True,
        ground: bool = False,
        voice: str = "warm",
        **overrides: Any,
    ) -> list[Candidate]:
        """Write ``n`` candidates for ``attributes``, best first when ``rerank``.

        ``strategy`` is a key of :data:`STRATEGIES`; ``overrides`` change its settings
        (e.g. ``temperature=1.2``). Sampling uses its own RNG seeded with ``seed``,
        so the same call gives the same text and leaves the global RNG alone.
        ``voice`` is one of :data:`coursekit.product_copy.VOICES`. ``ground=True``
        forbids, while decoding, what the product lacks: the catalogue values it does not
        have (:func:`grounded_bad_words`) and, for a delexicalised model, the slots it has
        no value for.
        """
        return self.generate_many(
            [attributes],
            n=n,
            strategy=strategy,
            seed=seed,
            max_new_tokens=max_new_tokens,
            rerank=rerank,
            ground=ground,
            voice=voice,
            **overrides,
        )[0]

    def generate_many(
        self,
        products: Sequence[Mapping[str, Any]],
        n: int = 3,
        strategy: str = "top_p",
        seed: int = 0,
        max_new_tokens: int = 120,
        rerank: bool = True,
        ground: bool = False,
        voice: str = "warm",
        **overrides: Any,
    ) -> list[list[Candidate]]:
        """:meth:`generate` for several products at once: one list of candidates per product.

        The prompts are padded on the left and decoded in one ``model.generate`` call, which
        is several times faster than one call per product on a CPU (the model is small, so
        each decoding step costs mostly Python overhead, paid once per step instead of once
        per product and step). Each product still gets its own ban list when ``ground``
        (:class:`coursekit.generate.BannedSequences`). The samples come from one RNG seeded
        with ``seed``, so a product's text depends on the batch it was written in: the same
        call gives the same texts; a product alone gives what :meth:`generate` gives.
        """
        import torch
        from transformers import LogitsProcessorList

        from coursekit.generate import BannedSequences

        if isinstance(products, Mapping) or not isinstance(products, Sequence) or not products:
            raise TypeError("products must be a non-empty list of attribute dicts")
        checked = [self.check_attributes(attributes) for attributes in products]
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; choose from: {', '.join(STRATEGIES)}")
        if voice not in product_copy.VOICES:
            raise ValueError(
                f"unknown voice {voice!r}; choose from: {', '.join(product_copy.VOICES)}"
            )
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        settings = {**STRATEGIES[strategy], **overrides}
        if not settings.get("do_sample") and n > settings.get("num_beams", 1):
            raise ValueError(
                f"strategy {strategy!r} gives at most {settings.get('num_beams', 1)} different "
                "text(s); use n=1, or a sampling strategy (top_p, top_k, temperature) for more"
            )
        slots = [product_copy.delexicalise(a) for a in checked]
        if ground:
            bans = []
            for attributes, slotted in zip(checked, slots, strict=True):
                bad = grounded_bad_words(self.tokenizer, attributes, self.lexicon)
                if self.delexicalised:
                    absent = [t for t in product_copy.SLOT_TOKENS if t not in slotted.values]
                    bad += [[self.tokenizer.convert_tokens_to_ids(t)] for t in absent]
                bans.append(bad)
            settings["logits_processor"] = LogitsProcessorList([BannedSequences(bans)])
        prompts = [
            format_prompt(s.attributes if self.delexicalised else a, voice)
            for a, s in zip(checked, slots, strict=True)
        ]
        encoded = self.tokenizer(prompts)["input_ids"]
        width = max(len(ids) for ids in encoded)
        room = self.model.config.n_positions - width
        if room < 1:
            raise ValueError(f"the prompt ({width} tokens) fills the model's context")
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in encoded])
        attention_mask = torch.tensor(
            [[0] * (width - len(ids)) + [1] * len(ids) for ids in encoded]
        )
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)
            out = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention_mask,
                max_new_tokens=min(max_new_tokens, room),
                num_return_sequences=n,
                pad_token_id=pad,
                eos_token_id=self.tokenizer.eos_token_id,
                **settings,
            )
        logprobs = _mean_logprobs(
            self.model,
            out,
            attention_mask.repeat_interleave(n, dim=0),
            self.tokenizer.eos_token_id,
        )
        known = set(self.meta.get("sentence_shapes", []))
        results = []
        for b, (attributes, slotted) in enumerate(zip(checked, slots, strict=True)):
            cands = []
            for i in range(n):
                row = b * n + i
                raw = self._decode(out[row, width:])
                text = product_copy.fill_slots(raw, slotted.values) if self.delexicalised else raw
                shapes = product_copy.sentence_shapes(product_copy.to_slots(raw, slotted.values))
                cands.append(
                    Candidate(
                        text=text,
                        logprob=logprobs[row],
                        grounding=grounding(text, attributes, self.lexicon),
                        rank_before=i,
                        slot_text=raw if self.delexicalised else None,
                        odd_sentences=sum(s not in known for s in shapes) if known else 0,
                    )
                )
            results.append(rerank_candidates(cands) if rerank else cands)
        return results

    def _decode(self, ids: torch.Tensor) -> str:
        """The generated tokens up to the first end-of-text, slot tokens kept as text."""
        ids = ids.tolist()
        eos = self.tokenizer.eos_token_id
        ids = ids[: ids.index(eos)] if eos in ids else ids
        text = self.tokenizer.decode(ids, skip_special_tokens=False)
        text = text.replace(ATTRS_TOKEN, "").replace(COPY_TOKEN, "")
        return product_copy.space_slots(text).strip()

    def perplexity(self, products: pd.DataFrame, batch_size: int = 32) -> float:
        """Perplexity of the copy tokens of ``products`` (exp of the mean cross-entropy).

        Measured on the model's own representation (slot text for a delexicalised model),
        so it compares checkpoints of one kind, not a slot model with a word model.
        """
        from coursekit import lm

        pairs = examples_from_products(products, delexicalise=self.delexicalised)
        if not pairs:
            raise ValueError("no products to measure: give at least one row with attributes")
        batches = _batches(self.tokenizer, pairs, 10_000)
        return math.exp(lm.mean_nll(self.model, _loader(batches, batch_size, shuffle=False)))


@dataclass
class Candidate:
    """One generated text with its grounding and its model log-probability."""

    text: str
    logprob: float
    grounding: Grounding
    rank_before: int = 0
    #: what a delexicalised model wrote, before its slots were filled
    slot_text: str | None = None
    #: sentences whose shape (values as slots) the training copy never has: glued or cut
    #: templates such as "Choose it in <colour> and is made of <material>."
    odd_sentences: int = 0

    @property
    def score(self) -> float:
        """Reranking score: grounding first, then ``0.05`` per odd sentence; the mean token
        log-probability breaks the remaining ties."""
        return self.grounding.score - 0.05 * self.odd_sentences + 0.01 * self.logprob

    def as_row(self) -> dict[str, Any]:
        """A flat dict for a DataFrame row."""
        g = self.grounding
        return {
            "text": self.text,
            "score": round(self.score, 4),
            "coverage": round(g.coverage, 4),
            "missing": len(g.missing),
            "hallucinated": len(g.hallucinated),
            "banned": len(g.banned),
            "repeated": len(g.repeated),
            "odd sentences": self.odd_sentences,
            "price_ok": g.price_ok,
            "logprob": round(self.logprob, 4),
        }


def rerank_candidates(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Best first: highest :attr:`Candidate.score`; the original order breaks exact ties."""
    return sorted(candidates, key=lambda c: (-c.score, c.rank_before))


def _mean_logprobs(
    model: Any, sequences: torch.Tensor, prompt_mask: torch.Tensor, eos_id: int, chunk: int = 16
) -> list[float]:
    """Mean log-probability of each row's generated tokens up to and including its first eos.

    ``prompt_mask`` is the attention mask of the (left-padded) prompts; the generated tokens
    follow them. Scored ``chunk`` rows at a time, so the logits stay small.
    """
    import torch

    width = prompt_mask.shape[1]
    mask = torch.cat(
        [prompt_mask, torch.ones_like(sequences[:, width:], dtype=prompt_mask.dtype)], dim=1
    )
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    out = []
    with torch.no_grad():
        for start in range(0, len(sequences), chunk):
            rows = slice(start, start + chunk)
            logits = model(
                sequences[rows], attention_mask=mask[rows], position_ids=positions[rows]
            ).logits[:, width - 1 : -1]
            new = sequences[rows, width:]
            logp = logits.log_softmax(-1).gather(-1, new[..., None]).squeeze(-1)
            for row, toks in zip(logp, new, strict=True):
                ends = (toks == eos_id).nonzero()
                length = int(ends[0]) + 1 if len(ends) else len(toks)
                out.append(float(row[:length].mean()))
    return out


# --------------------------------------------------------------------------- training


def _batches(tokenizer: Any, examples: Sequence[tuple[str, str]], max_length: int) -> dict:
    """Token ids, attention masks and labels (prompt tokens masked with -100), unpadded."""
    eos = tokenizer.eos_token
    prompts = tokenizer([p for p, _ in examples])["input_ids"]
    fulls = tokenizer([p + c + eos for p, c in examples])["input_ids"]
    ids, masks, labels = [], [], []
    for p, f in zip(prompts, fulls, strict=True):
        f = f[:max_length]
        ids.append(f)
        masks.append([1] * len(f))
        labels.append([-100] * len(p) + f[len(p) :])
    return {"input_ids": ids, "attention_mask": masks, "labels": labels}


def _loader(batches: dict, batch_size: int, shuffle: bool, seed: int = 0) -> Any:
    """A ``DataLoader`` over :func:`_batches`' rows, padded per batch (labels with -100)."""
    from coursekit import train_utils

    rows = [
        dict(zip(batches, values, strict=True)) for values in zip(*batches.values(), strict=True)
    ]
    return train_utils.make_loader(
        rows,
        batch_size=batch_size,
        max_length=None,
        shuffle=shuffle,
        group_by_length=False,
        seed=seed,
    )


def add_prompt_tokens(tokenizer: Any) -> Any:
    """Add ``<|attrs|>``, ``<|copy|>`` and the slot tokens as special tokens (and a pad token)."""
    from tokenizers import AddedToken

    # a slot token swallows the space before it: "for <price>" is two tokens, not three
    slots = [
        AddedToken(t, lstrip=True, special=True, normalized=False) for t in product_copy.SLOT_TOKENS
    ]
    tokenizer.add_special_tokens({"additional_special_tokens": [ATTRS_TOKEN, COPY_TOKEN, *slots]})
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _model_and_tokenizer(base_model: str | None, config: TrainConfig) -> tuple[Any, Any]:
    from transformers import AutoTokenizer, GPT2LMHeadModel

    if base_model is None:
        from coursekit.lm import tiny_gpt_config
        from coursekit.tokenization import load_shop_bpe

        tokenizer = add_prompt_tokens(load_shop_bpe())
        cfg = tiny_gpt_config(
            vocab_size=len(tokenizer),
            n_positions=config.n_positions,
            n_embd=config.n_embd,
            n_layer=config.n_layer,
            n_head=config.n_head,
            dropout=config.dropout,
            # GPT-2's tanh GELU as one fused kernel, not gelu_new's five elementwise ops:
            # the same function (to float rounding), a sixth less training time
            activation_function="gelu_pytorch_tanh",
        )
        for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
            setattr(cfg, key, tokenizer.eos_token_id)
        return GPT2LMHeadModel(cfg), tokenizer
    if not Path(base_model).is_dir():
        from coursekit.env import require_online

        require_online(f"base_model={base_model!r}")
    tokenizer = add_prompt_tokens(AutoTokenizer.from_pretrained(base_model))
    model = GPT2LMHeadModel.from_pretrained(base_model)
    model.resize_token_embeddings(len(tokenizer))
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def synthetic_products(
    n_catalogues: int, exclude_names: Iterable[str] = (), seed: int = 1000
) -> pd.DataFrame:
    """Extra training products: the shop's catalogue generator run with other seeds.

    A small model trained on a few hundred products memorises their copy; to learn to
    *copy* facts from the prompt it must see many more combinations of names, colours,
    sizes, features and prices. ``n_catalogues`` catalogues (480 products each) from
    :func:`coursekit.corpus.generate_products` with seeds ``seed + 1 … seed + n`` give
    them. Products whose name is in ``exclude_names`` (pass the validation and test
    products' names) are dropped, so held-out products stay unseen. Every row has
    ``split == "train"`` and a ``product_id`` starting with ``S``.
    """
    import pandas as pd

    from coursekit import corpus

    if not isinstance(n_catalogues, int) or n_catalogues < 0:
        raise ValueError(f"n_catalogues must be an int >= 0, got {n_catalogues!r}")
    excluded = set(exclude_names)
    rows = []
    for k in range(1, n_catalogues + 1):
        for product in corpus.generate_products(seed=seed + k):
            if product["name"] in excluded:
                continue
            row = corpus.product_row(product)
            row.update(product_id=f"S{k}-{product['product_id']}", split="train")
            rows.append(row)
    return pd.DataFrame(rows, columns=list(corpus.PRODUCT_COLUMNS))


def train_copywriter(
    products: pd.DataFrame | None = None,
    config: TrainConfig | None = None,
    base_model: str | None = None,
    out_dir: str | os.PathLike | None = None,
    lexicon_products: pd.DataFrame | None = None,
) -> Copywriter:
    """Train a copywriter on the ``split == "train"`` products' attribute → copy pairs.

    * ``base_model=None`` (default): a tiny GPT-2 from scratch on the shop BPE;
    * ``base_model="gpt2"`` (or a local folder): fine-tune that pretrained model, after
      checking that the hub is reachable (``coursekit.env.require_online``).

    ``config.extra_catalogues`` synthetic catalogues (:func:`synthetic_products`) join
    the training products, minus any product named like one of ``products``' held-out
    (non-train) products. Deterministic for a fixed ``config`` (seeded init and
    shuffling, fixed threads). Saves to ``out_dir`` (safetensors) when given. Takes
    about two minutes on a CPU with the default config.
    """
    import torch

    from coursekit import env

    if products is None:
        from coursekit import data

        products = data.load_products()
    config = config or TrainConfig()
    train = products[products["split"] == "train"] if "split" in products else products
    if len(train) == 0:
        raise ValueError("no training products (split == 'train')")
    n_shop = len(train)
    if config.extra_catalogues:
        import pandas as pd

        named = "split" in products and "name" in products
        held = products.loc[products["split"] != "train", "name"] if named else []
        extra = synthetic_products(config.extra_catalogues, exclude_names=held)
        train = pd.concat([train, extra[[c for c in train.columns if c in extra]]])
    previous_threads = torch.get_num_threads()
    env.set_threads(config.threads)
    env.seed_everything(config.seed)
    started = time.perf_counter()
    try:
        model, tokenizer = _model_and_tokenizer(base_model, config)
        pairs = training_examples(
            train, config.variants, config.drop, config.delexicalise, seed=config.seed
        )
        batches = _batches(tokenizer, pairs, config.max_length)
        losses = _train_loop(model, batches, config)
    finally:
        torch.set_num_threads(previous_threads)
    # the same copies in slots (one rng, so the same phrasing): the shapes reranking knows
    slot_pairs = (
        pairs
        if config.delexicalise
        else training_examples(train, config.variants, config.drop, True, seed=config.seed)
    )
    model.eval()
    names = sorted({k for attrs in train["attributes"] for k in attrs})
    writer = Copywriter(
        model=model,
        tokenizer=tokenizer,
        attribute_names=ordered_names(names),
        lexicon=attribute_lexicon(products if lexicon_products is None else lexicon_products),
        meta={
            "recipe": RECIPE,
            "base_model": base_model,
            "config": asdict(config),
            "n_train": len(train),
            "n_examples": len(batches["input_ids"]),
            "n_shop_products": n_shop,
            "n_params": sum(p.numel() for p in model.parameters()),
            "train_seconds": round(time.perf_counter() - started, 1),
            "losses": losses,
            "sentence_shapes": sorted(
                {shape for _, copy in slot_pairs for shape in product_copy.sentence_shapes(copy)}
            ),
        },
    )
    if out_dir is not None:
        save_copywriter(writer, out_dir)
    return writer


def copy_loss(
    model: Any, ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Mean next-token cross-entropy over the copy tokens only.

    Equal to ``model(..., labels=labels).loss``, but the output layer (the biggest
    matrix of a tiny model) is applied only where a label exists: the prompt and the
    padding never go through it, which saves about a fifth of the training time.
    """
    import torch

    hidden = model.transformer(input_ids=ids, attention_mask=mask).last_hidden_state
    target = labels[:, 1:]
    keep = target != -100
    logits = model.lm_head(hidden[:, :-1][keep])
    return torch.nn.functional.cross_entropy(logits, target[keep])


def _train_loop(model: Any, batches: dict, config: TrainConfig) -> list[float]:
    """:func:`coursekit.train.fit` on :func:`copy_loss`; returns the mean loss of every 10 steps.

    The course's one training loop: AdamW with decay on matrices only, warm-up then linear
    decay, clipped gradients, on the best device there is (the model comes back on the CPU,
    where generation of a model this small is fastest). Batches are shuffled, not grouped by
    length: grouping would save about a seventh of the time, but make each batch one voice.
    """
    import types

    import torch

    from coursekit import train

    class Objective(torch.nn.Module):
        """``objective(**batch).loss`` for ``fit``; keeps every training step's loss."""

        def __init__(self, lm: Any):
            super().__init__()
            self.lm = lm
            self.step_losses: list[float] = []

        def forward(self, input_ids: Any, attention_mask: Any, labels: Any) -> Any:
            loss = copy_loss(self.lm, input_ids, attention_mask, labels)
            if self.training:
                self.step_losses.append(float(loss.detach()))
            return types.SimpleNamespace(loss=loss)

    loader = _loader(batches, config.batch_size, shuffle=True, seed=config.seed)
    objective = Objective(model)
    train.fit(
        objective,
        loader,
        epochs=config.epochs,
        lr=config.lr,
        weight_decay=config.weight_decay,
        warmup_ratio=config.warmup,
        precision=config.precision,
        progress=False,
        seed=config.seed,
    )
    model.to("cpu")
    steps = objective.step_losses
    return [round(sum(steps[i : i + 10]) / 10, 4) for i in range(0, len(steps) - 9, 10)]


# --------------------------------------------------------------------------- scoring


@functools.lru_cache(maxsize=1)
def shop_copy_style() -> tuple[frozenset[str], frozenset[str]]:
    """The sentence shapes and the words of the shop's training copy (for fluency checks).

    Shapes (:func:`coursekit.product_copy.sentence_shapes`) of the slot copy of every
    training product in every voice, and the words of the same copy written out.
    """
    from coursekit import data

    products = data.load_products()
    train = products[products["split"] == "train"]
    slots = training_examples(train, variants=4, drop=0.25, delexicalise=True, seed=1)
    words = training_examples(train, variants=1, drop=0.0, delexicalise=False, seed=1)
    shapes = {shape for _, copy in slots for shape in product_copy.sentence_shapes(copy)}
    return frozenset(shapes), frozenset(product_copy.words_of(c for _, c in words))


def grade_copy(
    candidate: Candidate, attributes: Mapping[str, Any], lexicon: Mapping[str, Sequence[str]]
) -> dict[str, Any]:
    """One written text, graded: a row of :func:`score_copy` (see there for the columns)."""
    shapes, vocabulary = shop_copy_style()
    attrs = {k: v for k, v in attributes.items() if product_copy._present(v)}
    text = candidate.text
    check = product_copy.fact_check(text, attrs)
    values = product_copy.delexicalise(attrs).values
    slot_text = candidate.slot_text or product_copy.to_slots(text, values)
    checker = grounding(text, attrs, lexicon)
    return {
        "text": text,
        "coverage": check.coverage,
        "hallucinated": check.hallucinated,
        "price exact": check.price_exact,
        "checker coverage": checker.coverage,
        "checker hallucinated": bool(checker.hallucinated),
        "well formed": product_copy.well_formed(slot_text, set(shapes)),
        "repeated word": bool(product_copy.repeated_words(text)),
        "unknown word": bool(product_copy.unknown_words(text, set(vocabulary), attrs)),
    }


def score_copy(
    writer: Copywriter,
    attributes: Sequence[Mapping[str, Any]],
    n: int = 3,
    strategy: str = "top_p",
    ground: bool = True,
    seed: int = 0,
    batch_size: int = 16,
) -> pd.DataFrame:
    """One row per product: the best of ``n`` candidates (``coursekit copy``'s defaults), graded.

    Written ``batch_size`` products at a time (:meth:`Copywriter.generate_many`).

    Columns: ``text``; the plain fact check (:func:`coursekit.product_copy.fact_check`):
    ``coverage``, ``hallucinated``, ``price exact``; the course's grounding checker beside
    it: ``checker coverage``, ``checker hallucinated``; and fluency: ``well formed`` (share
    of sentences shaped like the shop's copy), ``repeated word``, ``unknown word``.
    """
    import pandas as pd

    attributes = list(attributes)
    rows = []
    for start in range(0, len(attributes), batch_size):
        chunk = attributes[start : start + batch_size]
        written = writer.generate_many(chunk, n=n, strategy=strategy, seed=seed, ground=ground)
        rows += [
            grade_copy(cands[0], a, writer.lexicon) for cands, a in zip(written, chunk, strict=True)
        ]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- saving and loading

_META = "copywriter.json"


def save_copywriter(writer: Copywriter, folder: str | os.PathLike) -> Path:
    """Save model (safetensors), tokenizer and metadata into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    writer.model.save_pretrained(str(folder))
    writer.tokenizer.save_pretrained(str(folder))
    meta = {**writer.meta, "attribute_names": writer.attribute_names, "lexicon": writer.lexicon}
    (folder / _META).write_text(json.dumps(meta, indent=1, sort_keys=True))
    return folder


def read_copywriter(folder: str | os.PathLike) -> Copywriter:
    """Load a copywriter saved by :func:`save_copywriter` (no training, no download)."""
    from transformers import AutoTokenizer, GPT2LMHeadModel

    folder = Path(folder)
    if not (folder / _META).exists() or not (folder / "model.safetensors").exists():
        raise FileNotFoundError(
            f"no trained copywriter in {folder}; train one with `coursekit copy --train` "
            "or `coursekit.copywriter.load_copywriter()` (about a minute on a CPU)"
        )
    meta = json.loads((folder / _META).read_text())
    model = GPT2LMHeadModel.from_pretrained(str(folder)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    return Copywriter(
        model=model,
        tokenizer=tokenizer,
        attribute_names=meta.pop("attribute_names"),
        lexicon=meta.pop("lexicon"),
        meta=meta,
    )


def _fingerprint(products: pd.DataFrame) -> str:
    text = "\x00".join(p + c for p, c in examples_from_products(products))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def _cache_version(products: pd.DataFrame, config: TrainConfig | None = None) -> str:
    """The cache key: recipe, training data, every training setting and the tokenizer."""
    from coursekit.cache import recipe_key
    from coursekit.tokenization import shop_bpe_version

    return recipe_key(
        {"copywriter": RECIPE, "config": config or TrainConfig()},
        data=[_fingerprint(products[products["split"] == "train"])],
        upstream=[shop_bpe_version()],
    )


def is_cached(config: TrainConfig | None = None) -> bool:
    """Whether the course copywriter for the current corpus is already in the cache."""
    from coursekit import data
    from coursekit.cache import is_built

    return is_built("copywriter", _cache_version(data.load_products(), config))


def load_copywriter(
    path: str | os.PathLike | None = None,
    build: bool = True,
    rebuild: bool = False,
    config: TrainConfig | None = None,
) -> Copywriter:
    """The course's copywriter: from ``path``, or from the cache (trained there if missing).

    ``config`` picks another recipe (e.g. ``TrainConfig(delexicalise=False)``, the model
    that writes words), cached under its own key. The cache version includes a
    fingerprint of the training data and every setting, so a regenerated corpus or a
    changed default gets a freshly trained model. With ``build=False`` a missing model
    is a ``FileNotFoundError`` that says how to train it, instead of a minute of training.
    """
    if path is not None:
        return read_copywriter(path)
    from coursekit import data
    from coursekit.cache import get_or_build, is_built

    products = data.load_products()
    version = _cache_version(products, config)
    if not build and not is_built("copywriter", version):
        raise FileNotFoundError(
            "the copywriter is not trained yet; train it once with `coursekit copy --train` "
            "or `coursekit.copywriter.load_copywriter()` (about a minute on a CPU)"
        )

    def build_into(folder: Path) -> None:
        train_copywriter(products, config=config, out_dir=folder)

    return read_copywriter(get_or_build("copywriter", build_into, version, rebuild=rebuild))


#: epochs of :func:`load_words_copywriter`'s model (the slot model's default is 2)
WORDS_EPOCHS = 3


def load_words_copywriter(build: bool = True, rebuild: bool = False) -> Copywriter:
    """The comparison model of notebook 07: the default recipe, reading and writing words.

    ``load_copywriter(config=TrainConfig(delexicalise=False, epochs=3))``, cached under its
    own key. It gets one epoch more than the slot model: spelling the catalogue's values
    takes longer to learn than writing slots (validation coverage 0.12 after two epochs,
    0.58 after three: ``benchmarks/copywriting.py --recipes``), and the comparison should not be won by
    undertraining the loser.
    """
    config = TrainConfig(delexicalise=False, epochs=WORDS_EPOCHS)
    return load_copywriter(build=build, rebuild=rebuild, config=config)


_DEFAULT: dict[str, Copywriter] = {}


def generate(
    attributes: Mapping[str, Any],
    n: int = 3,
    strategy: str = "top_p",
    seed: int = 0,
    copywriter: Copywriter | None = None,
    **kwargs: Any,
) -> list[Candidate]:
    """Write ``n`` candidate copies for ``attributes``, reranked by grounding (best first).

    Uses the cached course copywriter unless one is given. See :meth:`Copywriter.generate`.
    """
    if copywriter is None:
        if "default" not in _DEFAULT:
            _DEFAULT["default"] = load_copywriter()
        copywriter = _DEFAULT["default"]
    return copywriter.generate(attributes, n=n, strategy=strategy, seed=seed, **kwargs)


__all__ = [
    "ATTRS_TOKEN",
    "BANNED_CLAIMS",
    "COPY_TOKEN",
    "STRATEGIES",
    "Candidate",
    "Copywriter",
    "Grounding",
    "TrainConfig",
    "attribute_coverage",
    "attribute_items",
    "attribute_lexicon",
    "banned_claims",
    "copy_text",
    "example_pair",
    "examples_from_products",
    "format_prompt",
    "generate",
    "grade_copy",
    "grounded_bad_words",
    "grounding",
    "hallucinated_attributes",
    "load_copywriter",
    "load_words_copywriter",
    "mentions",
    "missing_attributes",
    "price_consistent",
    "prices_in",
    "read_copywriter",
    "repeated_features",
    "score_copy",
    "shop_copy_style",
    "rerank_candidates",
    "save_copywriter",
    "serialise_attributes",
    "synthetic_products",
    "train_copywriter",
    "training_examples",
]
