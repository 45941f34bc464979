"""The reviews: templated and plain-voice reviews, their labels, dates and trends.

:func:`compose_review` writes one review of a given label from aspect templates
(contrast, sarcasm, negation, comparisons ...), :func:`compose_plain_review` one in the
plain voice, and :func:`generate_reviews` draws the whole set over two years.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

from coursekit import corpus_products as P
from coursekit import corpus_reviews as R
from coursekit.corpus.helpers import DEFAULT_SEED, N_REVIEWS, _cap, _rng
from coursekit.corpus.review_writer import (
    _CATEGORY_CODES,
    _COMPARISON,
    _NEGATION,
    _perturb,
    _ReviewWriter,
)
from coursekit.schema import LABELS

START_DATE = dt.date(2023, 1, 1)
N_DAYS = 731  # 2023-01-01 .. 2024-12-31
LABEL_NOISE = 0.03
PLAIN_SHARE = 1 / 6  # plain-voice reviews added per templated review (see compose_plain_review)

# Visible trends in the reviews (notebook 06 finds them):
SHIPPING_SPIKE = {"brand": "Voltix", "start": "2023-11-01", "end": "2024-01-31"}
SMELL_COMPLAINTS = {"brand": "Purelle", "start": "2024-06-01"}  # a reformulation customers dislike


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
