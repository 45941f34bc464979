"""The prompt format, and the ``(prompt, copy)`` pairs the copywriter learns from.

The voice and the attributes are serialised in a fixed order between two special
tokens, and the copy follows::

    <|attrs|>voice: warm | category: shoes | brand: Trailfox | price: $59.99<|copy|>Meet …<|endoftext|>

:func:`training_examples` writes the training pairs (the shop's copy templates of
:mod:`coursekit.product_copy`, three voices, attributes randomly left out), in slots or
in words; ``_batches`` and ``_loader`` turn pairs into token ids with the loss on the
copy tokens only.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from coursekit import product_copy

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

ATTRS_TOKEN = "<|attrs|>"
COPY_TOKEN = "<|copy|>"


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


# --------------------------------------------------------------------------- token ids


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


__all__ = [
    "ATTRIBUTE_ORDER",
    "ATTRS_TOKEN",
    "COPY_TOKEN",
    "OPTIONAL_ATTRIBUTES",
    "copy_text",
    "example_pair",
    "examples_from_products",
    "format_prompt",
    "format_value",
    "ordered_names",
    "serialise_attributes",
    "training_examples",
]
