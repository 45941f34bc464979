"""The deterministic generator of the shop corpus (``coursekit data build``).

There is no open e-commerce data set we may ship, so the course writes its own:
a seed gives byte-identical files (``random.Random`` per section, sorted keys,
``\\n`` line endings). The text is *composed*, not sampled from a handful of
sentences: a review is an opener, aspect clauses drawn from many templates per
aspect and polarity, optional contrast ("…, but …": the clause after *but*
decides), sarcasm, negation, comparisons and context sentences, then its surface
is perturbed (typos, elongation, emoji, HTML remnants, prices, sizes, model
numbers, fake PII). About 3% of ratings disagree with their text, as real ones do.

Honest splits: products are split 70/10/20 into train/validation/test, reviews
follow their product, and every template pool keeps some items (every sixth) for
validation/test reviews only, so a held-out score measures generalisation.

The vocabularies live in :mod:`coursekit.corpus_products`, :mod:`coursekit.corpus_reviews`
and :mod:`coursekit.corpus_faq`; this module composes them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from coursekit import corpus_faq as F
from coursekit import corpus_products as P
from coursekit import corpus_reviews as R
from coursekit import product_copy as PC
from coursekit.schema import ASPECTS as ASPECTS  # the data schema, importable from here as before
from coursekit.schema import CATEGORIES, LABELS, PRODUCT_COLUMNS
from coursekit.schema import PHENOMENA as PHENOMENA
from coursekit.schema import SPLITS as SPLITS

DEFAULT_SEED = 0
N_REVIEWS = 9000
PRODUCTS_PER_CATEGORY = 60
START_DATE = dt.date(2023, 1, 1)
N_DAYS = 731  # 2023-01-01 .. 2024-12-31
LABEL_NOISE = 0.03
PLAIN_SHARE = 1 / 6  # plain-voice reviews added per templated review (see compose_plain_review)
HELDOUT_EVERY = 6  # every sixth item of a pool is reserved for validation/test

# Visible trends in the reviews (notebook 06 finds them):
SHIPPING_SPIKE = {"brand": "Voltix", "start": "2023-11-01", "end": "2024-01-31"}
SMELL_COMPLAINTS = {"brand": "Purelle", "start": "2024-06-01"}  # a reformulation customers dislike

FILES = (
    "shop/products.jsonl",
    "shop/reviews.jsonl",
    "shop/faq.jsonl",
    "shop/faq_paraphrases.jsonl",
    "shop/campaigns.jsonl",
    "nltk_data/corpora/stopwords/english",
    "nltk_data/corpora/stopwords/README",
)
MANIFEST = "MANIFEST.sha256"


# --------------------------------------------------------------------------- helpers


def _rng(seed: int, part: str) -> random.Random:
    """An independent, reproducible stream per section (string seeds are stable across runs)."""
    return random.Random(f"coursekit-shop:{seed}:{part}")


def pool_for(pool: Sequence[str], split: str) -> Sequence[str]:
    """The items of ``pool`` a review of ``split`` may use: train never sees every sixth item."""
    if split == "train" and len(pool) >= HELDOUT_EVERY:
        return [x for i, x in enumerate(pool) if i % HELDOUT_EVERY != HELDOUT_EVERY - 1]
    return pool


def _jsonl(rows: Sequence[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _money(x: float) -> str:
    return f"${x:,.2f}"


# --------------------------------------------------------------------------- products


def generate_products(
    seed: int = DEFAULT_SEED, per_category: int = PRODUCTS_PER_CATEGORY
) -> list[dict]:
    """The catalogue: ``per_category`` products per category with attributes and grounded copy."""
    rng = _rng(seed, "products")
    products: list[dict] = []
    names: set[str] = set()
    for category in CATEGORIES:
        types = P.PRODUCT_TYPES[category]
        for i in range(per_category):
            kind = types[i % len(types)]
            brand = rng.choice(P.BRANDS[category])
            for _ in range(100):
                name = f"{brand} {rng.choice(P.LINE_WORDS)} {kind['name']}"
                if name not in names:
                    break
                brand = rng.choice(P.BRANDS[category])
            names.add(name)
            lo, hi = kind["price"]
            price = (
                round(rng.uniform(lo, hi)) - 0.01
                if hi >= 10
                else round(rng.uniform(lo, hi), 1) - 0.01
            )
            price = max(price, 1.99)
            n_feat = min(len(kind["features"]), rng.choice((2, 2, 3, 3, 3, 4)))
            features = rng.sample(kind["features"], n_feat)
            if "medium roast" in features and "dark roast" in features:
                features.remove("medium roast")
                if len(features) < 2:
                    features.append("fair trade")
            product = {
                "category": category,
                "brand": brand,
                "name": name,
                "noun": P.SINGULAR_NOUN.get(kind["noun"], kind["noun"]),
                "fitted": kind["noun"] in P.FITTED_NOUNS,
                "material": rng.choice(kind["materials"]) or None,
                "colour": rng.choice(kind["colours"]) or None,
                "size": rng.choice(kind["sizes"]),
                "price": float(f"{price:.2f}"),
                "features": features,
            }
            products.append(product)
    order = list(range(len(products)))
    rng.shuffle(order)
    products = [products[i] for i in order]
    for k, p in enumerate(products, start=1):
        p["product_id"] = f"P{k:04d}"
        p["popularity"] = round(math.exp(rng.gauss(0.0, 0.8)), 4)
        p["quality"] = round(rng.gauss(_CATEGORY_QUALITY[p["category"]], 0.55), 4)
        p["attributes"] = attributes_of(p)
    _assign_product_splits(products, rng)
    # the copy has a random stream of its own, so rewording it changes nothing else
    copy_rng = _rng(seed, "product copy")
    for p in products:
        p.update(write_copy(p, copy_rng))
    return products


# latent quality per category: grocery and toys are liked more than electronics or apparel
_CATEGORY_QUALITY = {
    "apparel": -0.15,
    "electronics": -0.3,
    "home & kitchen": 0.05,
    "beauty": 0.0,
    "sports": 0.15,
    "toys": 0.2,
    "grocery": 0.3,
    "pets": 0.1,
}


def attributes_of(product: dict) -> dict[str, Any]:
    """The flat attribute dict the copy is written from (empty fields left out)."""
    attrs: dict[str, Any] = {
        "category": product["category"],
        "brand": product["brand"],
        "name": product["name"],
        "size": product["size"],
        "price": product["price"],
        "features": list(product["features"]),
    }
    if product["colour"]:
        attrs["colour"] = product["colour"]
    if product["material"]:
        attrs["material"] = product["material"]
    return attrs


def _assign_product_splits(products: list[dict], rng: random.Random) -> None:
    """70/10/20 per category, balanced by popularity, so review shares follow the product shares."""
    pattern = ["train"] * 7 + ["validation"] + ["test"] * 2
    for category in CATEGORIES:
        items = sorted(
            (p for p in products if p["category"] == category), key=lambda p: -p["popularity"]
        )
        for start in range(0, len(items), 10):
            block = pattern[:]
            rng.shuffle(block)
            for p, split in zip(items[start : start + 10], block, strict=False):
                p["split"] = split


# ---- marketing copy ---------------------------------------------------------


def write_copy(product: dict, rng: random.Random) -> dict[str, Any]:
    """Title, 3-5 bullets and a paragraph that mention every attribute and nothing else.

    The paragraph is :func:`coursekit.product_copy.write_copy` in one of its prose voices
    (warm or concise, chosen at random), so the catalogue reads like the copy the copywriter
    of notebook 07 learns to write; titles have several styles too. Nothing in the
    copy names a colour, material, size or feature the product does not have.
    """
    attributes = product["attributes"]
    name, size, colour, material = (product[k] for k in ("name", "size", "colour", "material"))
    # title
    title_styles = [f"{name} – {size}", f"{name} ({size})", f"{name}, {size}"]
    if colour:
        title_styles += [
            f"{name} in {_cap(colour)}, {size}",
            f"{name} – {_cap(colour)} / {size}",
            f"{name} | {_cap(colour)} | {size}",
        ]
    title = rng.choice(title_styles)
    # bullets: one per feature, then one spec line, sometimes the price
    bullets = [_cap(f) for f in product["features"]]
    spec = [("Material", material), ("Colour", colour), ("Size", size.removeprefix("size "))]
    bullets.append(" · ".join(f"{k}: {v}" for k, v in spec if v))
    if rng.random() < 0.5 and len(bullets) < 5:
        bullets.append(f"Price: {_money(product['price'])}")
    # paragraph: the shop's copy in one of its prose voices (the bullets are the spec list)
    voice = rng.choice(("warm", "concise"))
    slots = PC.delexicalise(attributes)
    paragraph = PC.fill_slots(PC.write_copy(attributes, voice, rng), slots.values)
    return {"title": title, "bullets": bullets, "paragraph": paragraph}


# --------------------------------------------------------------------------- reviews


class _Slots(dict):
    """Slot values for one template: fixed product facts, random fillers drawn on demand."""

    def __init__(self, gen: _ReviewWriter, fixed: dict[str, str]) -> None:
        super().__init__(fixed)
        self.gen = gen

    def __missing__(self, key: str) -> str:
        value = self.gen.filler(key)
        self[key] = value
        return value


class _ReviewWriter:
    """Composes one review at a time; keeps the phenomena it used."""

    def __init__(
        self, rng: random.Random, product: dict, split: str, brands: Sequence[str]
    ) -> None:
        self.rng, self.product, self.split = rng, product, split
        self.tags: set[str] = set()
        self.aspects: dict[str, str] = {}
        self.brands = [b for b in brands if b != product["brand"]]
        size = product["size"]
        self.fixed = {
            "noun": product["noun"],
            "brand": product["brand"],
            "size": size,
            "colour": product["colour"] or "standard",
            "price": _money(product["price"]),
        }

    def pick(self, pool: Sequence[str]) -> str:
        return self.rng.choice(pool_for(pool, self.split))

    def context(self) -> str:
        """A sentence with no sentiment (who it was for, when, which colour)."""
        pool = (
            R.CONTEXT if self.product["colour"] else [t for t in R.CONTEXT if "{colour}" not in t]
        )
        return self.fill(self.pick(pool))

    def size_talk(self) -> str:
        self.tags.add("size")
        apparel = self.product["category"] == "apparel" or self.product["noun"].endswith("shoes")
        pool = [t.removeprefix("[a] ") for t in R.SIZE_TALK if apparel or not t.startswith("[a]")]
        return self.fill(self.pick(pool))

    def mild_negative(self, aspect: str) -> str:
        self.aspects.setdefault(aspect, "negative")
        pool = R.MILD_NEGATIVE[aspect]
        if not self.product["colour"]:
            pool = [t for t in pool if "{colour}" not in t] or R.MILD_NEGATIVE["shipping"]
        return self.fill(self.pick(pool))

    def filler(self, key: str) -> str:
        r = self.rng
        if key == "good":
            return self.pick(R.GOOD)
        if key == "bad":
            return self.pick(R.BAD)
        if key == "meh":
            return self.pick(R.MEH)
        if key == "very":
            if r.random() < 0.35:
                self.tags.add("intensifier")
                return self.pick(R.VERY) + " "
            return ""
        if key == "days":
            return self.pick(R.DAYS)
        if key == "duration":
            return self.pick(R.DURATIONS)
        if key == "person":
            return self.pick(R.PEOPLE)
        if key == "someone":  # a person who can be a sentence's subject
            return self.pick([p for p in R.PEOPLE if p != "myself"])
        if key == "nth":
            return r.choice(("second", "third", "fourth"))
        if key == "other_brand":
            return r.choice(self.brands)
        if key == "model":
            self.tags.add("model_number")
            return f"{r.choice(R.MODEL_PREFIXES)}-{r.choice((1, 2, 3, 5, 7, 9)) * r.choice((10, 100))}{r.choice(('', '', 'B', 'X', 'S'))}"
        if key == "email":
            return f"{r.choice(R.FIRST_NAMES)}.{r.choice(R.LAST_NAMES)}{r.choice(('', '', str(r.randint(1, 99))))}@{r.choice(R.DOMAINS)}"
        if key == "phone":
            return r.choice(
                ("555-01{:02d}", "(555) 01{:02d}-{:04d}", "+1 555 01{:02d} {:04d}", "555.01{:02d}")
            ).format(r.randint(0, 99), r.randint(0, 9999))
        if key == "url":
            return f"https://www.example.com/{r.choice(('r', 'photos', 'u', 'review'))}/{r.randint(1000, 99999)}"
        if key == "name":
            return _cap(r.choice(R.FIRST_NAMES))
        raise KeyError(key)

    def fill(self, template: str) -> str:
        text = template.format_map(_Slots(self, self.fixed))
        if "{price}" in template:
            self.tags.add("price")
        if "{size}" in template:
            self.tags.add("size")
        return text

    # ---- pieces
    def clause(self, aspect: str, polarity: str) -> str:
        self.aspects.setdefault(aspect, polarity)
        return self.fill(self.pick(_templates(aspect, polarity, self.product["category"])))

    def choose_aspects(self, k: int, among: Sequence[str] | None = None) -> list[str]:
        pool = [
            a for a in R.CATEGORY_ASPECTS[self.product["category"]] if among is None or a in among
        ]
        if not self.product["fitted"] and "size_fit" in pool:
            pool.remove("size_fit")
        weights = [3.0 if i < 3 else 1.0 for i in range(len(pool))]
        chosen: list[str] = []
        while len(chosen) < min(k, len(pool)):
            a = self.rng.choices(pool, weights)[0]
            if a not in chosen:
                chosen.append(a)
        return chosen

    def sentence(self, clause: str) -> str:
        return _cap(clause) + self.rng.choice((".", ".", ".", ".", "!", "!!", "", "..."))

    def contrast(self, first: str, second: str) -> str:
        """Two clauses joined so that the SECOND one carries the verdict."""
        self.tags.add("contrast")
        style = self.rng.randrange(9)
        if style == 0:
            return f"{_cap(first)}. However, {second}."
        if style == 1:
            return f"Although {first}, {second}."
        if style == 2:
            return f"{_cap(first)}. But {second}."
        if style == 3:
            return f"{_cap(first)}; that said, {second}."
        if style == 4:
            return f"Even though {first}, {second}."
        if style == 5:
            return f"{_cap(first)}. Still, {second}."
        if style == 6:
            return f"{_cap(first)}, yet {second}."
        return f"{_cap(first)}, but {second}."


_CATEGORY_CODES = {
    "a": "apparel",
    "e": "electronics",
    "h": "home & kitchen",
    "b": "beauty",
    "s": "sports",
    "t": "toys",
    "g": "grocery",
    "p": "pets",
}


@functools.cache
def _templates(aspect: str, polarity: str, category: str) -> tuple[str, ...]:
    """The clause templates of an aspect and polarity that suit a category ("[eh] ..." = only those)."""
    out = []
    for t in R.CLAUSES[aspect][polarity]:
        m = re.match(r"\[([a-z]+)\] ", t)
        if m:
            if category not in {_CATEGORY_CODES[c] for c in m.group(1)}:
                continue
            t = t[m.end() :]
        out.append(t)
    return tuple(out)


# Minor complaints a happy customer mentions before "but"; serious ones that sink a review.
MINOR_ASPECTS = (
    "shipping",
    "packaging",
    "price",
    "customer_service",
    "ease_of_use",
    "appearance",
    "size_fit",
    "smell",
    "freshness",
)
# Flaws a happy customer can live with: never a fatal one (broken, useless, tastes bad).
CONCEDABLE_ASPECTS = (*MINOR_ASPECTS, "comfort", "battery")
MAJOR_ASPECTS = (
    "quality",
    "durability",
    "performance",
    "battery",
    "taste",
    "effectiveness",
    "pet_approval",
    "comfort",
    "size_fit",
    "smell",
)


def _length_plan(rng: random.Random) -> int:
    """How many body sentences: mostly 1-4, a long tail up to ~12."""
    u = rng.random()
    if u < 0.08:
        return 0
    if u < 0.62:
        return rng.randint(1, 3)
    if u < 0.9:
        return rng.randint(4, 6)
    if u < 0.965:
        return rng.randint(7, 11)
    return rng.randint(12, 24)


_STRUCTURES = {
    "positive": (
        ("simple", 0.36),
        ("negated", 0.2),
        ("contrast", 0.3),
        ("comparison", 0.08),
        ("short", 0.06),
    ),
    "negative": (
        ("simple", 0.26),
        ("negated", 0.18),
        ("contrast", 0.28),
        ("sarcasm", 0.16),
        ("comparison", 0.07),
        ("short", 0.05),
    ),
    "neutral": (
        ("mixed", 0.45),
        ("hedged", 0.2),
        ("negated", 0.12),
        ("contrast", 0.16),
        ("comparison", 0.05),
        ("short", 0.02),
    ),
}
_OPPOSITE = {"positive": "negative", "negative": "positive"}


def compose_review(
    rng: random.Random, product: dict, label: str, split: str, forced: dict[str, str] | None = None
) -> dict:
    """One review whose text a careful reader would label ``label``.

    ``forced`` maps aspects to polarities that must appear (the trends: shipping
    complaints in the spike period, smell complaints after a reformulation).
    """
    w = _ReviewWriter(rng, product, split, P.BRANDS[product["category"]])
    names, weights = zip(*_STRUCTURES[label], strict=True)
    structure = rng.choices(names, weights)[0]
    n_body = _length_plan(rng)
    forced = dict(forced or {})
    parts: list[str] = []

    def body_clauses(n: int, polarity: str, exclude: Sequence[str] = ()) -> list[str]:
        out = []
        aspects = [a for a in w.choose_aspects(n + len(exclude)) if a not in exclude]
        while aspects and len(aspects) < n:  # long reviews come back to an aspect
            aspects.append(rng.choice(aspects))
        for a in aspects[:n]:
            pol = forced.pop(a, polarity)
            out.append(w.sentence(w.clause(a, pol)))
        return out

    def add_forced() -> None:
        for a, pol in list(forced.items()):
            parts.append(w.sentence(w.clause(a, pol)))
            forced.pop(a)

    if structure == "short":
        parts.append(w.fill(w.pick(R.OPENERS[label])))
        if rng.random() < 0.4:
            parts.append(w.fill(w.pick(R.CLOSERS[label])))
        forced.clear()
    elif structure == "sarcasm":
        w.tags.add("sarcasm")
        w.aspects.setdefault("durability", "negative")
        if rng.random() < 0.6:
            parts.append(w.fill(w.pick(R.SARCASM_SUBTLE)))
        else:
            core = f"{w.pick(R.SARCASTIC_PRAISE)}, {w.fill(w.pick(R.SARCASTIC_FAILURES))}."
            tail = w.fill(w.pick(R.SARCASTIC_TAILS))
            parts += [core, tail] if rng.random() < 0.8 else [tail, core]
        if rng.random() < 0.35:
            parts.insert(0, w.context())
        if rng.random() < 0.1:
            parts.append(w.fill(w.pick(R.CLOSERS["negative"])))
        add_forced()
    elif label in ("positive", "negative"):
        opp = _OPPOSITE[label]
        if rng.random() < {"contrast": 0.12, "negated": 0.3}.get(structure, 0.6):
            parts.append(w.fill(w.pick(R.OPENERS[label])))
        if structure == "simple":
            add_forced()
            parts += body_clauses(max(1, n_body), label)
        elif structure == "negated":
            add_forced()
            pool = R.NEGATED_HARD[label] if rng.random() < 0.6 else R.NEGATED[label]
            parts.append(w.sentence(w.fill(w.pick(pool))))
            parts += body_clauses(max(0, n_body - 3), label)
        elif structure == "comparison":
            w.tags.add("comparison")
            w.aspects.setdefault("quality", label)
            add_forced()
            parts.append(w.sentence(w.fill(w.pick(R.COMPARISONS[label]))))
            parts += body_clauses(max(0, n_body - 1), label)
        elif structure == "contrast":
            # the clause after "but" decides; a happy customer concedes a minor point,
            # an unhappy one concedes anything before the serious problem
            u = rng.random()
            if label == "positive":
                forced_first = [a for a, p in forced.items() if p == opp]
                among = MINOR_ASPECTS if u < 0.75 else CONCEDABLE_ASPECTS
                a1 = forced_first[0] if forced_first else w.choose_aspects(1, among)[0]
            else:
                add_forced()
                a1 = w.choose_aspects(1)[0]
            forced.pop(a1, None)
            majors = [a for a in w.choose_aspects(3, MAJOR_ASPECTS) if a != a1]
            a2 = majors[0] if majors else w.choose_aspects(2)[-1]
            mild = label == "positive" and u < 0.25 and a1 in R.MILD_NEGATIVE
            first = w.mild_negative(a1) if mild else w.clause(a1, opp)
            second = w.clause(a2, label)
            parts += body_clauses(max(0, n_body - 3) // 3, label, exclude=(a1, a2))
            add_forced()
            parts.append(w.contrast(first, second))
    else:  # neutral
        if rng.random() < 0.55:
            parts.append(w.fill(w.pick(R.OPENERS["neutral"])))
        if structure == "hedged":
            add_forced()
            parts += body_clauses(max(1, n_body), "neutral")
        elif structure == "mixed":
            add_forced()
            a = w.choose_aspects(3)
            pos = w.clause(a[0], "positive")
            neg = (
                w.mild_negative(a[1])
                if a[1] in R.MILD_NEGATIVE and rng.random() < 0.5
                else w.clause(a[1], "negative")
            )
            if rng.random() < 0.5:
                parts += [w.sentence(pos), w.sentence(neg)]
            else:
                parts += [w.sentence(neg), w.sentence(pos)]
            if n_body > 3:
                parts.append(w.sentence(w.clause(a[2], "neutral")))
            if not parts or parts[0] not in R.OPENERS["neutral"]:  # a reader needs the verdict
                parts.append(w.fill(w.pick(R.CLOSERS["neutral"])))
        elif structure == "negated":
            add_forced()
            parts.append(w.sentence(w.fill(w.pick(R.NEGATED["neutral"]))))
            parts += body_clauses(max(0, n_body - 1), "neutral")
        elif structure == "comparison":
            w.tags.add("comparison")
            w.aspects.setdefault("quality", "neutral")
            add_forced()
            parts.append(w.sentence(w.fill(w.pick(R.COMPARISONS["neutral"]))))
            parts += body_clauses(max(0, n_body - 1), "neutral")
        elif structure == "contrast":
            a1, a2 = w.choose_aspects(2)
            if a1 in R.MILD_NEGATIVE and rng.random() < 0.5:
                first = w.mild_negative(a1)
            else:
                first = w.clause(a1, "positive")
            parts.append(w.contrast(first, w.clause(a2, "neutral")))
            add_forced()
    # real 4- and 2-star reviews hedge about side issues too ("the packaging was okay")
    if (
        label != "neutral"
        and structure in ("simple", "negated", "comparison")
        and rng.random() < 0.25
    ):
        side = [a for a in w.choose_aspects(3) if a not in w.aspects]
        if side:
            parts.insert(
                rng.randint(1, len(parts)) if parts else 0, w.sentence(w.clause(side[0], "neutral"))
            )
    # context sentences, size talk and the closer
    if structure != "short":
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2)) + n_body // 5):
            parts.insert(rng.randint(0, len(parts)), w.context())
        if product["fitted"] and rng.random() < 0.15:
            parts.insert(rng.randint(0, len(parts)), w.size_talk())
        closer_p = {"contrast": 0.12, "negated": 0.25}.get(structure, 0.45)
        if structure != "sarcasm" and rng.random() < closer_p:
            parts.append(w.fill(w.pick(R.CLOSERS[label])))
    seen: set[str] = set()
    parts = [p for p in parts if p and not (p in seen or seen.add(p))]
    text = " ".join(parts)
    text = _perturb(w, text, label, structure)
    tags = set(w.tags)
    if _NEGATION.search(text):
        tags.add("negation")
    if _COMPARISON.search(text):
        tags.add("comparison")
    aspects = [{"aspect": a, "polarity": p} for a, p in w.aspects.items()]
    return {"text": text, "phenomena": sorted(tags), "aspects": aspects, "structure": structure}


def plain_pool(product: dict, label: str) -> list[tuple[str, str]]:
    """The ``(aspect, sentence)`` pairs of ``R.PLAIN[label]`` that suit ``product``.

    Before :func:`pool_for` holds out every sixth one for validation/test reviews.
    """
    allowed = set(R.CATEGORY_ASPECTS[product["category"]])
    if not product["fitted"]:
        allowed.discard("size_fit")
    codes = {c for c, name in _CATEGORY_CODES.items() if name == product["category"]}
    return [
        (aspect, sentence)
        for aspect, cats, sentence in R.PLAIN[label]
        if (not aspect or aspect in allowed) and (not cats or codes & set(cats))
    ]


def compose_plain_review(rng: random.Random, product: dict, label: str, split: str) -> dict:
    """One review in the plain voice: one to three sentences about what happened.

    Draws from ``corpus_reviews.PLAIN`` (only sentences that suit the product's
    category), sometimes with a context sentence, an opener or a closer, and often
    written casually (lower case, commas instead of full stops, no final stop).
    """
    w = _ReviewWriter(rng, product, split, P.BRANDS[product["category"]])
    pool = plain_pool(product, label)
    k = rng.choices((1, 2, 3), (0.45, 0.4, 0.15))[0]
    chosen: list[tuple[str, str]] = []
    for _ in range(k):
        item = w.pick(pool)
        if item not in chosen:
            chosen.append(item)
    parts = []
    for aspect, sentence in chosen:
        if aspect:
            w.aspects.setdefault(aspect, label)
        parts.append(w.fill(sentence))
    if rng.random() < 0.2:
        parts.insert(0, w.fill(w.pick(R.OPENERS[label])).rstrip(".!"))
    if rng.random() < 0.25:
        parts.insert(rng.randint(0, len(parts)), w.context().rstrip("."))
    if rng.random() < 0.15:
        parts.append(w.fill(w.pick(R.CLOSERS[label])).rstrip(".!"))
    if rng.random() < 0.3:  # casual: one run-on line
        text = ", ".join(parts)
        text = text.lower() if rng.random() < 0.6 else _cap(text)
        text += rng.choice(("", "", ".", "!", "!!"))
    else:
        text = " ".join(w.sentence(part) for part in parts)
    text = _perturb(w, text, label, "plain")
    tags = {*w.tags, "plain"}
    if _NEGATION.search(text):
        tags.add("negation")
    aspects = [{"aspect": a, "polarity": p} for a, p in w.aspects.items()]
    return {"text": text, "phenomena": sorted(tags), "aspects": aspects, "structure": "plain"}


_NEGATION = re.compile(
    r"\b(not|no|never|nothing|none|nor|nobody|cannot|without|n't|\w+n't|\w+n&#39;t|wont|dont|cant|didnt|doesnt|isnt|wasnt)\b",
    re.IGNORECASE,
)
_COMPARISON = re.compile(
    r"\b(better|worse) than\b|\bthan my\b|\bstep down\b|\bupgrade from\b", re.IGNORECASE
)


def _perturb(w: _ReviewWriter, text: str, label: str, structure: str) -> str:
    """Surface noise of real reviews. Each kind is recorded in ``w.tags``."""
    r = w.rng
    if r.random() < 0.09:  # typos
        words = text.split(" ")
        hits = 0
        for i, word in enumerate(words):
            core = word.strip(".,!?").lower()
            if core in R.TYPOS and r.random() < 0.6:
                words[i] = word.lower().replace(core, R.TYPOS[core])
                hits += 1
        if hits == 0:
            idx = [i for i, word in enumerate(words) if len(word) > 5 and word.isalpha()]
            if idx:
                i = r.choice(idx)
                word = words[i]
                j = r.randrange(1, len(word) - 2)
                words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
                hits = 1
        if hits:
            w.tags.add("typo")
            text = " ".join(words)
    if r.random() < 0.05:  # elongation
        words = text.split(" ")
        idx = [i for i, word in enumerate(words) if word.strip(".,!?").lower() in R.ELONGATIONS]
        if idx:
            i = r.choice(idx)
            core = words[i].strip(".,!?")
            long = R.ELONGATIONS[core.lower()]
            words[i] = words[i].replace(core, long.upper() if core.isupper() else long)
            text = " ".join(words)
            w.tags.add("elongation")
        elif text.endswith((".", "!")):
            text = text.rstrip(".!") + "!!!"
    if r.random() < 0.04 and structure != "sarcasm":
        text = text.lower()
    elif label == "negative" and r.random() < 0.02:
        text = text.upper()
    if r.random() < 0.1:  # emoji
        kind = "sarcasm" if structure == "sarcasm" else label
        emo = r.choice(R.EMOJI[kind])
        if r.random() < 0.3 and structure != "short":
            emo = emo + " " + r.choice(R.EMOJI[kind])
        text = f"{text} {emo}" if r.random() < 0.8 else f"{emo} {text}"
        w.tags.add("emoji")
    if r.random() < 0.025:  # personal data a scrubber must remove
        text = f"{text} {w.fill(w.pick(R.PII))}"
        w.tags.add("pii")
    if r.random() < 0.05:  # HTML remnants from a scraped page
        w.tags.add("html")
        text = text.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&quot;")
        sentences = re.split(r"(?<=[.!?]) ", text)
        if len(sentences) > 1:
            i = r.randrange(1, len(sentences))
            sentences[i] = r.choice(("<br>", "<br /><br />", "<br/>")) + sentences[i]
            text = " ".join(sentences)
        else:
            text = f"<p>{text}</p>"
    return text


def _date_weights() -> list[float]:
    """More reviews as the shop grows, a November-December peak every year."""
    weights = []
    for d in range(N_DAYS):
        day = START_DATE + dt.timedelta(days=d)
        growth = 1.0 + d / N_DAYS
        season = 1.6 if day.month in (11, 12) else (1.2 if day.month == 1 else 1.0)
        weights.append(growth * season)
    return weights


def _label_probs(product: dict, date: str) -> tuple[list[float], dict[str, str]]:
    q = product["quality"]
    forced: dict[str, str] = {}
    pos, neg = 0.5 + 0.28 * q, 0.3 - 0.22 * q
    if (
        product["brand"] == SHIPPING_SPIKE["brand"]
        and SHIPPING_SPIKE["start"] <= date <= SHIPPING_SPIKE["end"]
    ):
        pos, neg = pos - 0.2, neg + 0.2
        forced["shipping"] = "negative"
    if product["brand"] == SMELL_COMPLAINTS["brand"] and date >= SMELL_COMPLAINTS["start"]:
        pos, neg = pos - 0.15, neg + 0.15
        forced["smell"] = "negative"
    pos, neg = min(max(pos, 0.08), 0.85), min(max(neg, 0.05), 0.8)
    neu = max(0.19, 1.0 - pos - neg)
    total = pos + neg + neu
    return [neg / total, neu / total, pos / total], forced


def generate_reviews(
    products: Sequence[dict], seed: int = DEFAULT_SEED, n_reviews: int = N_REVIEWS
) -> list[dict]:
    """``n_reviews`` reviews over two years, following product popularity and quality.

    Two voices from two independent random streams: ``n_reviews`` composed from aspect
    templates, then ``n_reviews * PLAIN_SHARE`` in the plain voice
    (:func:`compose_plain_review`). Review ids follow the date.
    """
    products = sorted(products, key=lambda p: p["product_id"])
    rows = _review_rows(_rng(seed, "reviews"), products, n_reviews, plain=False)
    rows += _review_rows(
        _rng(seed, "reviews-plain"), products, round(n_reviews * PLAIN_SHARE), plain=True
    )
    rows.sort(key=lambda r: (r["date"], r["product_id"], r["text"]))
    for k, row in enumerate(rows, start=1):
        row["review_id"] = f"R{k:05d}"
    return rows


def _review_rows(rng: random.Random, products: Sequence[dict], n: int, plain: bool) -> list[dict]:
    date_weights = list(_accumulate(_date_weights()))
    prod_weights = list(_accumulate([p["popularity"] for p in products]))
    rows = []
    for _ in range(n):
        product = rng.choices(products, cum_weights=prod_weights)[0]
        day = rng.choices(range(N_DAYS), cum_weights=date_weights)[0]
        date = (START_DATE + dt.timedelta(days=day)).isoformat()
        probs, forced = _label_probs(product, date)
        label = rng.choices(LABELS, probs)[0]
        # a trend shows in a share of the reviews, not in every one
        forced = {
            a: p for a, p in forced.items() if rng.random() < (0.65 if label != "positive" else 0.3)
        }
        if plain:
            review = compose_plain_review(rng, product, label, product["split"])
        else:
            review = compose_review(rng, product, label, product["split"], forced)
        rating = {
            "negative": rng.choice((1, 1, 1, 2, 2)),
            "neutral": 3,
            "positive": rng.choice((5, 5, 5, 4, 4)),
        }[label]
        if (
            rng.random() < LABEL_NOISE
        ):  # the rating disagrees with the text, as real ratings sometimes do
            rating = rng.choice([r for r in (1, 2, 3, 4, 5) if _label_of(r) != label])
            review["phenomena"] = sorted({*review["phenomena"], "label_noise"})
        rows.append(
            {
                "product_id": product["product_id"],
                "category": product["category"],
                "brand": product["brand"],
                "date": date,
                "rating": rating,
                "label": _label_of(rating),
                "text": review["text"],
                "aspects": review["aspects"],
                "phenomena": review["phenomena"],
                "split": product["split"],
            }
        )
    return rows


def _accumulate(xs: Sequence[float]) -> list[float]:
    out, total = [], 0.0
    for x in xs:
        total += x
        out.append(total)
    return out


def _label_of(rating: int) -> str:
    return "negative" if rating <= 2 else ("neutral" if rating == 3 else "positive")


# --------------------------------------------------------------------------- FAQ and campaigns


def generate_faq(seed: int = DEFAULT_SEED) -> tuple[list[dict], list[dict]]:
    """The FAQ (question, answer, topic) and its held-out paraphrases (validation/test)."""
    rng = _rng(seed, "faq")
    faq, paraphrases = [], []
    for k, entry in enumerate(F.FAQ, start=1):
        faq_id = f"F{k:03d}"
        faq.append(
            {
                "faq_id": faq_id,
                "topic": entry["topic"],
                "question": entry["q"],
                "answer": entry["a"],
            }
        )
        paras = list(entry["p"])
        rng.shuffle(paras)
        n_val = max(1, len(paras) // 3)
        for i, text in enumerate(paras):
            paraphrases.append(
                {"faq_id": faq_id, "text": text, "split": "validation" if i < n_val else "test"}
            )
    paraphrases.sort(key=lambda r: (r["split"], r["faq_id"], r["text"]))
    return faq, paraphrases


CAMPAIGNS = (
    (
        "C01",
        "Spring apparel sale",
        (
            "Fresh styles for spring, up to 30% off",
            "Your new favourite tee is here",
            "Spring wardrobe refresh: shop now",
        ),
        (0.031, 0.036, 0.029),
    ),
    (
        "C02",
        "Headphones launch",
        ("Hear every detail: new Voltix headphones", "30 hours of music on one charge"),
        (0.042, 0.048),
    ),
    (
        "C03",
        "Kitchen essentials",
        (
            "Cook more, clean less",
            "Kitchen upgrades under $50",
            "The kettle everyone is talking about",
            "Free delivery on kitchenware",
        ),
        (0.025, 0.032, 0.027, 0.034),
    ),
    (
        "C04",
        "Pet food subscription",
        ("Never run out of dog food again", "Save 15% with Subscribe & Save"),
        (0.051, 0.055),
    ),
    (
        "C05",
        "Holiday toys",
        (
            "Gifts they'll actually play with",
            "Top 10 toys of the season",
            "Order by Dec 18 for Christmas delivery",
        ),
        (0.038, 0.045, 0.058),
    ),
    (
        "C06",
        "Coffee lovers",
        ("Freshly roasted, delivered weekly", "Your morning, upgraded"),
        (0.022, 0.022),
    ),
)
CAMPAIGN_DAYS = 30


def _binomial(rng: random.Random, n: int, p: float) -> int:
    """Exact binomial draw by geometric jumps between successes (fast for small p)."""
    if p <= 0:
        return 0
    log_q = math.log1p(-p)
    k, i = 0, -1
    while True:
        i += int(math.log(1.0 - rng.random()) / log_q) + 1
        if i >= n:
            return k
        k += 1


def generate_campaigns(seed: int = DEFAULT_SEED) -> list[dict]:
    """Daily impressions and clicks of each copy variant, drawn from its known true CTR."""
    rng = _rng(seed, "campaigns")
    rows = []
    start = dt.date(2024, 3, 4)
    for c_idx, (cid, cname, headlines, ctrs) in enumerate(CAMPAIGNS):
        base = rng.randint(1500, 4000)
        for day in range(1, CAMPAIGN_DAYS + 1):
            date = start + dt.timedelta(days=7 * c_idx + day - 1)
            weekend = 1.25 if date.weekday() >= 5 else 1.0
            for v, (headline, ctr) in enumerate(zip(headlines, ctrs, strict=True)):
                mean = base * weekend
                impressions = max(100, int(round(rng.gauss(mean, math.sqrt(mean) * 3))))
                rows.append(
                    {
                        "campaign_id": cid,
                        "campaign": cname,
                        "variant": "ABCD"[v],
                        "headline": headline,
                        "day": day,
                        "date": date.isoformat(),
                        "impressions": impressions,
                        "clicks": _binomial(rng, impressions, ctr),
                        "true_ctr": ctr,
                    }
                )
    return rows


# --------------------------------------------------------------------------- stopwords

STOPWORDS_README = """\
English stopwords for the course "LLMs for e-commerce marketing".

Written for this project (not copied from NLTK) in NLTK's layout, one word a line,
so that nltk.corpus.stopwords.words("english") works offline once coursekit.data
has put data/nltk_data on nltk.data.path. Like NLTK's own list it INCLUDES the
negations (not, no, nor, never, don't, isn't, wasn't ... and the fragments "don",
"isn", "t" that a letters-only cleaner leaves behind): removing them flips
"not good" into "good", which notebook 01 demonstrates. Licence: CC0.
"""

STOPWORDS = """
i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves
he him his himself she she's her hers herself it it's its itself they them their theirs themselves
what which who whom this that that'll these those am is are was were be been being have has had
having do does did doing a an the and but if or because as until while of at by for with about
against between into through during before after above below to from up down in out on off over
under again further then once here there when where why how all any both each few more most other
some such no nor not never only own same so than too very s t can will just don don't should
should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn
hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan
shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't
""".split()


# --------------------------------------------------------------------------- build


def product_row(p: dict) -> dict:
    """The public columns of a product (latent popularity/quality stay inside the generator)."""
    return {k: p[k] for k in PRODUCT_COLUMNS}


def generate(seed: int = DEFAULT_SEED, n_reviews: int = N_REVIEWS) -> dict[str, str]:
    """Every file of the corpus as text, keyed by its path relative to the data folder."""
    products = generate_products(seed)
    reviews = generate_reviews(products, seed, n_reviews)
    faq, paraphrases = generate_faq(seed)
    return {
        "shop/products.jsonl": _jsonl(
            [product_row(p) for p in sorted(products, key=lambda p: p["product_id"])]
        ),
        "shop/reviews.jsonl": _jsonl(reviews),
        "shop/faq.jsonl": _jsonl(faq),
        "shop/faq_paraphrases.jsonl": _jsonl(paraphrases),
        "shop/campaigns.jsonl": _jsonl(generate_campaigns(seed)),
        "nltk_data/corpora/stopwords/english": "".join(w + "\n" for w in STOPWORDS),
        "nltk_data/corpora/stopwords/README": STOPWORDS_README,
    }


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_text(files: dict[str, bytes]) -> str:
    """``sha256sum``-compatible manifest: ``<hex>  <relative path>`` per line, sorted."""
    return "".join(
        f"{hashlib.sha256(b).hexdigest()}  {name}\n" for name, b in sorted(files.items())
    )


def build(out_dir: str | Path, seed: int = DEFAULT_SEED, n_reviews: int = N_REVIEWS) -> list[Path]:
    """Generate the corpus and write it under ``out_dir``; returns the written paths.

    Files are written to a temporary folder first and moved into place only when
    all are complete, then the manifest is refreshed, so an interrupted build never
    leaves a half-written corpus behind.
    """
    import os
    import shutil
    import tempfile

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    payload = {k: v.encode("utf-8") for k, v in generate(seed, n_reviews).items()}
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=out))
    try:
        for rel, data in payload.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as fh:
                fh.write(data)
        (tmp / MANIFEST).write_bytes(manifest_text(payload).encode())
        written = []
        for rel in [*payload, MANIFEST]:
            final = out / rel
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, final)
            written.append(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return written
