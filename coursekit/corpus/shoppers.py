"""Shoppers, their profiles and dated view/purchase histories, and the products' launch dates.

Each shopper has a profile a marketer would recognise (segment, region, sizes, pets, kids,
cooking, sports, price band) and a *latent* taste built from it: a weight per product type
(a dog owner's weight on dog food is high, a shopper without pets barely looks at the pet
aisle), a favourite brand per category and a preferred place in each type's price range.
The histories then mix that taste with what makes personalisation hard:

* **seasonality**: rain jackets in autumn, tents in summer, toys before Christmas;
* **repeat purchases** of consumables (coffee, cat litter, shampoo...) at their own pace,
  usually the same product again;
* **noise and best-sellers**: about one purchase in six ignores the taste (gifts, trends),
  drawn by the products' latent popularity, which also tilts every ordinary choice;
* **new products**: some products (each with chance ``LAUNCH_SHARE``; 72 of 480 in the
  shipped files) launch during the two years
  (``product_launches.jsonl``); nothing is viewed or bought before its launch.

Most purchases come with views of one or two alternatives of the same type, the same day
(the view of the product bought itself is implied, not written). One random stream (``_rng(seed, "shoppers")``) makes the files byte for
byte reproducible; the other corpus files do not depend on it.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from coursekit import corpus_products as P
from coursekit.corpus.helpers import DEFAULT_SEED, _rng

N_SHOPPERS = 2000
START = dt.date(2023, 1, 1)
N_DAYS = 731  # 2023-01-01 .. 2024-12-31
LAUNCH_SHARE = 0.2  # share of products launched after the start
NOISE_SHARE = 0.16  # purchases that ignore the shopper's taste (gifts, trends)

SEGMENTS = (
    "student",
    "young professional",
    "family",
    "pet household",
    "outdoor & fitness",
    "home cook",
    "beauty enthusiast",
    "retiree",
)
REGIONS = ("north", "south", "east", "west", "capital")
SPORTS = ("running", "yoga", "hiking", "gym")
PRICE_BANDS = ("budget", "mid", "premium")
_PRICE_TARGET = {"budget": 0.15, "mid": 0.5, "premium": 0.85}

# product type (its name in the catalogue) -> the category it belongs to
TYPE_CATEGORY: dict[str, str] = {
    t["name"]: category for category, types in P.PRODUCT_TYPES.items() for t in types
}
TYPE_PRICE: dict[str, tuple[float, float]] = {
    t["name"]: t["price"] for types in P.PRODUCT_TYPES.values() for t in types
}

# consumables: product type -> typical days between two purchases
CONSUMABLES: dict[str, int] = {
    "Whole Bean Coffee": 30,
    "Green Tea Bags": 40,
    "Extra Virgin Olive Oil": 60,
    "Crunchy Granola": 30,
    "Dark Chocolate Bar": 35,
    "Durum Wheat Pasta": 35,
    "Protein Bars": 30,
    "Grain-Free Dog Food": 30,
    "Clumping Cat Litter": 25,
    "Crunchy Cat Treats": 30,
    "Repair Shampoo": 50,
    "Daily Moisturiser": 60,
    "Crew Socks 6-Pack": 120,
}

DOG_TYPES = (
    "Grain-Free Dog Food",
    "Orthopedic Dog Bed",
    "Reflective Dog Leash",
    "Durable Chew Toy",
)
CAT_TYPES = ("Clumping Cat Litter", "Cat Tree Tower", "Crunchy Cat Treats")
KITCHEN_TYPES = (
    "Electric Kettle",
    "Non-Stick Frying Pan",
    "Countertop Blender",
    "Chef Knife Set",
    "Food Storage Containers",
    "Extra Virgin Olive Oil",
    "Durum Wheat Pasta",
    "Whole Bean Coffee",
)
SPORT_TYPES: dict[str, tuple[str, ...]] = {
    "running": (
        "Running Shoes",
        "Insulated Water Bottle",
        "Fitness Smartwatch",
        "Crew Socks 6-Pack",
    ),
    "yoga": ("Yoga Mat", "Resistance Band Set", "Insulated Water Bottle", "Green Tea Bags"),
    "hiking": ("Hiking Backpack", "Camping Tent", "Rain Jacket", "Insulated Water Bottle"),
    "gym": ("Adjustable Dumbbells", "Resistance Band Set", "Protein Bars", "Fitness Smartwatch"),
}
# segment -> category weights (1 = ordinary interest)
_SEGMENT_CATEGORY: dict[str, dict[str, float]] = {
    "student": {"electronics": 3.0, "apparel": 2.0, "grocery": 1.5, "home & kitchen": 0.6},
    "young professional": {"electronics": 2.0, "apparel": 1.5, "home & kitchen": 1.5},
    "family": {"toys": 4.0, "home & kitchen": 1.5, "grocery": 1.5},
    "pet household": {"pets": 3.0, "home & kitchen": 1.2},
    "outdoor & fitness": {"sports": 4.0, "apparel": 1.3},
    "home cook": {"home & kitchen": 3.0, "grocery": 3.0},
    "beauty enthusiast": {"beauty": 5.0, "apparel": 1.5},
    "retiree": {"home & kitchen": 2.0, "grocery": 2.0, "electronics": 0.5},
}
# month (1-12) -> multiplier, for the seasonal product types
_SEASON: dict[str, dict[int, float]] = {
    "Rain Jacket": {9: 3.0, 10: 4.0, 11: 3.0, 6: 0.3, 7: 0.3},
    "Knit Sweater": {10: 2.5, 11: 3.5, 12: 3.5, 1: 3.0, 6: 0.2, 7: 0.2, 8: 0.3},
    "Pullover Hoodie": {10: 2.0, 11: 2.0, 12: 2.0, 1: 2.0, 7: 0.5},
    "Camping Tent": {5: 3.0, 6: 4.0, 7: 4.0, 8: 3.0, 11: 0.2, 12: 0.2, 1: 0.2},
    "Hiking Backpack": {5: 2.0, 6: 2.5, 7: 2.5, 8: 2.0},
    "Insulated Water Bottle": {6: 2.0, 7: 2.5, 8: 2.0},
    "Wrap Dress": {5: 2.0, 6: 2.5, 7: 2.5, 12: 0.5, 1: 0.5},
    "Yoga Mat": {1: 2.5, 2: 1.5},
    "Running Shoes": {1: 2.0, 3: 1.5, 4: 1.5},
    "Adjustable Dumbbells": {1: 3.0, 2: 1.5},
    "Eau de Parfum": {2: 2.0, 12: 3.0},
    "Dark Chocolate Bar": {2: 2.0, 12: 2.5},
    "Plush Teddy Bear": {12: 3.0},
}
_TOY_CHRISTMAS = {11: 2.0, 12: 4.0}


def product_type(name: str) -> str:
    """The product type of a product ``name`` ("Auralis Core Wireless Headphones" ->
    "Wireless Headphones"); raises ``ValueError`` for a name of no known type."""
    for t in sorted(TYPE_CATEGORY, key=len, reverse=True):
        if name.endswith(t):
            return t
    raise ValueError(f"{name!r} ends with no product type of the catalogue (see TYPE_CATEGORY)")


def _date(day: int) -> str:
    return (START + dt.timedelta(days=day)).isoformat()


def generate_launches(products: list[dict], seed: int = DEFAULT_SEED) -> dict[str, int]:
    """Launch day (0 = 2023-01-01) of every product: most at the start, a fifth later."""
    rng = _rng(seed, "launches")
    launches = {}
    for p in sorted(products, key=lambda p: p["product_id"]):
        late = rng.random() < LAUNCH_SHARE
        launches[p["product_id"]] = rng.randrange(60, 600) if late else 0
    return launches


def _profile(rng: random.Random) -> dict:
    segment = rng.choice(SEGMENTS)
    pets: list[str] = []
    if segment == "pet household":
        pets = rng.choice((["dog"], ["cat"], ["dog", "cat"], ["dog"], ["cat"]))
    elif rng.random() < 0.15:
        pets = [rng.choice(("dog", "cat"))]
    kids = segment == "family" or (segment not in ("student", "retiree") and rng.random() < 0.15)
    sport = []
    if segment == "outdoor & fitness":
        sport = sorted(rng.sample(SPORTS, rng.choice((1, 1, 2))))
    elif rng.random() < 0.3:
        sport = [rng.choice(SPORTS)]
    if segment == "home cook":
        cooking = "keen"
    else:
        cooking = rng.choices(("keen", "basic", "none"), weights=(0.15, 0.55, 0.3))[0]
    band_weights = {"student": (0.7, 0.25, 0.05), "retiree": (0.3, 0.5, 0.2)}
    price_band = rng.choices(PRICE_BANDS, weights=band_weights.get(segment, (0.3, 0.45, 0.25)))[0]
    top = rng.choice(("S", "M", "M", "L", "L", "XL"))
    return {
        "segment": segment,
        "profile": {
            "region": rng.choice(REGIONS),
            "sizes": {"top": top, "shoe": rng.choice(("8", "9", "10", "11"))},
            "pets": pets,
            "kids": kids,
            "cooking": cooking,
            "sport": sport,
            "price_band": price_band,
        },
    }


def _type_weights(person: dict, rng: random.Random) -> dict[str, float]:
    """The latent taste: a weight per product type, from the profile times personal noise."""
    prof = person["profile"]
    cat_w = _SEGMENT_CATEGORY[person["segment"]]
    weights = {}
    for t, category in TYPE_CATEGORY.items():
        w = cat_w.get(category, 1.0)
        if category == "pets":
            owned = (DOG_TYPES if "dog" in prof["pets"] else ()) + (
                CAT_TYPES if "cat" in prof["pets"] else ()
            )
            w = 12.0 if t in owned else 0.03
        if category == "toys":
            w *= 3.0 if prof["kids"] else 0.3
        if t in KITCHEN_TYPES:
            w *= {"keen": 4.0, "basic": 1.0, "none": 0.3}[prof["cooking"]]
        for s in prof["sport"]:
            if t in SPORT_TYPES[s]:
                w *= 6.0
        weights[t] = w * math.exp(rng.gauss(0.0, 0.8))
    return weights


def _product_weight(p: dict, favourite: str | None, target: float, launch: int, day: int) -> float:
    if launch > day:
        return 0.0
    lo, hi = TYPE_PRICE[p["type"]]
    rel = min(max((p["price"] - lo) / max(hi - lo, 1e-9), 0.0), 1.0)
    w = p["popularity"] * math.exp(-((rel - target) ** 2) / 0.08)
    if p["brand"] == favourite:
        w *= 4.0
    return w


def generate_shoppers(
    products: list[dict], seed: int = DEFAULT_SEED, n_shoppers: int = N_SHOPPERS
) -> tuple[list[dict], list[dict], dict[str, int]]:
    """Shoppers (id, segment, profile, joined), events (shopper_id, product_id, kind, date)
    sorted by shopper then date, and each product's launch day."""
    launches = generate_launches(products, seed)
    rng = _rng(seed, "shoppers")
    catalogue = sorted(
        (
            {
                "product_id": p["product_id"],
                "brand": p["brand"],
                "category": p["category"],
                "price": p["price"],
                "popularity": p["popularity"],
                "type": product_type(p["name"]),
            }
            for p in products
        ),
        key=lambda p: p["product_id"],
    )
    by_type: dict[str, list[dict]] = {}
    for p in catalogue:
        by_type.setdefault(p["type"], []).append(p)
    types = sorted(by_type)
    brands = {c: sorted({p["brand"] for p in catalogue if p["category"] == c}) for c in P.BRANDS}
    shoppers, events = [], []
    for k in range(1, n_shoppers + 1):
        sid = f"S{k:04d}"
        person = _profile(rng)
        taste = _type_weights(person, rng)
        favourite = {
            c: (rng.choice(bs) if rng.random() < 0.7 else None) for c, bs in sorted(brands.items())
        }
        target = _PRICE_TARGET[person["profile"]["price_band"]]
        joined = rng.randrange(0, 450)
        n = min(4 + int(rng.expovariate(1 / 6)), 30)
        gap = (N_DAYS - 1 - joined) / n
        day = joined
        last_bought: dict[str, tuple[int, dict]] = {}  # consumable type -> (day, product)
        rows = []
        for _ in range(n):
            day += max(1, round(rng.expovariate(1 / gap)))
            if day >= N_DAYS:
                break
            month = (START + dt.timedelta(days=day)).month
            due = [
                t
                for t, (d, _p) in sorted(last_bought.items())
                if day - d >= CONSUMABLES[t] * rng.uniform(0.7, 1.4)
            ]
            if due and rng.random() < 0.45:
                t = rng.choice(due)
                previous = last_bought[t][1]
                if rng.random() < 0.75:
                    chosen = previous
                else:
                    pool = [p for p in by_type[t] if launches[p["product_id"]] <= day]
                    chosen = rng.choice(pool)
            else:
                noise = rng.random() < NOISE_SHARE
                season = [_SEASON.get(t, {}).get(month, 1.0) for t in types]
                season = [
                    s * (_TOY_CHRISTMAS.get(month, 1.0) if TYPE_CATEGORY[t] == "toys" else 1.0)
                    for s, t in zip(season, types, strict=True)
                ]
                tw = season if noise else [taste[t] * s for t, s in zip(types, season, strict=True)]
                t = rng.choices(types, weights=tw)[0]
                pool = by_type[t]
                if noise:
                    pw = [p["popularity"] ** 2 * (launches[p["product_id"]] <= day) for p in pool]
                else:
                    pw = [
                        _product_weight(
                            p, favourite[p["category"]], target, launches[p["product_id"]], day
                        )
                        for p in pool
                    ]
                if not any(pw):
                    continue
                chosen = rng.choices(pool, weights=pw)[0]
            if chosen["type"] in CONSUMABLES:
                last_bought[chosen["type"]] = (day, chosen)
            alternatives = [
                p
                for p in by_type[chosen["type"]]
                if p is not chosen and launches[p["product_id"]] <= day
            ]
            viewed = rng.sample(alternatives, min(len(alternatives), rng.choice((0, 1, 1, 2))))
            for p in viewed:
                rows.append((day, "view", p["product_id"]))
            rows.append((day, "purchase", chosen["product_id"]))
        if not any(kind == "purchase" for _, kind, _ in rows):
            continue
        shoppers.append({"shopper_id": sid, "joined": _date(joined), **person})
        for d, kind, pid in rows:
            events.append({"shopper_id": sid, "product_id": pid, "kind": kind, "date": _date(d)})
    return shoppers, events, launches


def launch_rows(launches: dict[str, int]) -> list[dict]:
    """``product_launches.jsonl`` rows: product_id, launch_date, sorted by product."""
    return [{"product_id": p, "launch_date": _date(d)} for p, d in sorted(launches.items())]


__all__ = [
    "CONSUMABLES",
    "N_SHOPPERS",
    "SEGMENTS",
    "TYPE_CATEGORY",
    "generate_launches",
    "generate_shoppers",
    "launch_rows",
    "product_type",
]
