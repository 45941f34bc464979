"""The catalogue: products with attributes, their 70/10/20 split and grounded marketing copy."""

from __future__ import annotations

import math
import random
from typing import Any

from coursekit import corpus_products as P
from coursekit import product_copy as PC
from coursekit.corpus.helpers import DEFAULT_SEED, _cap, _money, _rng
from coursekit.schema import CATEGORIES

PRODUCTS_PER_CATEGORY = 60


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
