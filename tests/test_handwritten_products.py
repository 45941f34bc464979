"""Checks on ``fixtures/handwritten_products.jsonl``, a hand-written test set for the copywriter.

The fixture holds new products typed in by a person the way a marketer fills in the shop's
product form: brands and product types the generated catalogue does not have (smart speaker,
skillet, e-reader, aquarium heater, climbing chalk, beard oil, rain poncho, ...), feature
phrases unlike the catalogue's, odd prices (42.50, 7.25, 1,299.00), varied casing and missing
attributes. Each line is ``{"id", "attributes", "note"}``; ``attributes`` uses the copywriter's
attribute names and ``note`` says what makes the product unusual.

It is an **out-of-distribution** check of the copywriter: written by hand, never used for
training or for choosing settings (decoding strategy, reranking, thresholds), only to report
how a finished copywriter copes with products unlike the ones it learned from. These tests are
pure data checks (no models): they read the fixture and ``data/shop/products.jsonl`` with
``json`` only.

One exception to the novelty rule is deliberate: ``hp02`` (Copperleaf Cast Iron Skillet) keeps
the catalogue brand Copperleaf on a product type the catalogue never sells, a known brand in
a new setting. :data:`KNOWN_BRAND_IDS` names it; every other brand is new.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "handwritten_products.jsonl"
CATALOGUE = ROOT / "data" / "shop" / "products.jsonl"

ROW_KEYS = {"id", "attributes", "note"}
ATTRIBUTE_KEYS = {"category", "brand", "name", "material", "colour", "size", "features", "price"}
STRING_KEYS = ("category", "brand", "name", "material", "colour", "size")
CATEGORIES = {
    "electronics",
    "grocery",
    "home & kitchen",
    "pets",
    "sports",
    "beauty",
    "apparel",
    "toys",
}

MIN_PRODUCTS = 48
MIN_PER_CATEGORY = 4
MAX_FEATURES = 5
#: attribute -> least number of products that leave it out
MIN_MISSING = {"colour": 12, "material": 12, "size": 4, "price": 3}
MIN_SINGLE_FEATURE = 3
MIN_ODD_CENTS = 10
MAX_SHARED_FEATURE_SHARE = 0.25
#: ids allowed to use a catalogue brand (see the module docstring)
KNOWN_BRAND_IDS = {"hp02"}

#: two products fixed in advance; the fixture must hold them exactly as given
REQUIRED: dict[str, dict[str, Any]] = {
    "Nordvik Pulse Smart Speaker": {
        "category": "electronics",
        "brand": "Nordvik",
        "name": "Nordvik Pulse Smart Speaker",
        "material": "fabric",
        "colour": "grey",
        "features": ["voice control", "multi-room audio"],
        "price": 79.0,
    },
    "Copperleaf Cast Iron Skillet": {
        "category": "home & kitchen",
        "brand": "Copperleaf",
        "name": "Copperleaf Cast Iron Skillet",
        "material": "cast iron",
        "size": "26 cm",
        "features": ["pre-seasoned", "oven safe"],
        "price": 34.99,
    },
}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """One dict per non-blank line of a JSON Lines file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def is_number(value: object) -> bool:
    """True for an int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def cents(price: float) -> int:
    """The cents of a price: 42.5 -> 50, 34.99 -> 99, 1299.0 -> 0."""
    return round(price * 100) % 100


def lowered(values: list[str]) -> set[str]:
    return {v.strip().lower() for v in values}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return read_jsonl(FIXTURE)


@pytest.fixture(scope="module")
def products(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row["attributes"] for row in rows]


@pytest.fixture(scope="module")
def catalogue() -> list[dict[str, Any]]:
    if not CATALOGUE.exists():
        pytest.skip(f"{CATALOGUE} not found (run `coursekit prepare` to write the shop data)")
    return read_jsonl(CATALOGUE)


def test_fixture_parses_into_objects(rows: list[dict[str, Any]]) -> None:
    assert rows, "the fixture is empty"
    assert all(isinstance(row, dict) for row in rows)


def test_enough_products(rows: list[dict[str, Any]]) -> None:
    assert len(rows) >= MIN_PRODUCTS


def test_ids_unique(rows: list[dict[str, Any]]) -> None:
    ids = [row["id"] for row in rows]
    repeated = [i for i, n in Counter(ids).items() if n > 1]
    assert not repeated, f"repeated ids: {repeated}"
    assert all(isinstance(i, str) and i for i in ids)


def test_only_allowed_keys(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        assert set(row) == ROW_KEYS, row.get("id")
        assert isinstance(row["attributes"], dict), row["id"]
        extra = set(row["attributes"]) - ATTRIBUTE_KEYS
        assert not extra, f"{row['id']}: unknown attribute(s) {sorted(extra)}"


def test_notes_are_written(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        assert isinstance(row["note"], str) and row["note"].strip(), row["id"]


def test_category_required_and_known(products: list[dict[str, Any]]) -> None:
    for product in products:
        assert product.get("category") in CATEGORIES, product.get("name")


def test_attribute_types(products: list[dict[str, Any]]) -> None:
    for product in products:
        name = product.get("name")
        for key in STRING_KEYS:
            if key in product:
                value = product[key]
                assert isinstance(value, str) and value.strip(), f"{name}: {key}={value!r}"
                assert value == value.strip(), f"{name}: {key} has stray spaces"
        features = product.get("features")
        assert isinstance(features, list) and 1 <= len(features) <= MAX_FEATURES, name
        for feature in features:
            assert isinstance(feature, str) and feature.strip(), f"{name}: feature {feature!r}"
        if "price" in product:
            price = product["price"]
            assert is_number(price) and price > 0, f"{name}: price={price!r}"
            assert round(price, 2) == price, f"{name}: price {price} has more than 2 decimals"


def test_names_and_brands_given(products: list[dict[str, Any]]) -> None:
    for product in products:
        assert "name" in product and "brand" in product, product
        assert product["brand"].lower() in product["name"].lower(), product["name"]


def test_names_unique(products: list[dict[str, Any]]) -> None:
    names = Counter(product["name"].lower() for product in products)
    assert not [n for n, k in names.items() if k > 1]


def test_every_category_covered(products: list[dict[str, Any]]) -> None:
    counts = Counter(product["category"] for product in products)
    thin = {c: counts.get(c, 0) for c in CATEGORIES if counts.get(c, 0) < MIN_PER_CATEGORY}
    assert not thin, f"categories with fewer than {MIN_PER_CATEGORY} products: {thin}"


@pytest.mark.parametrize("key", sorted(MIN_MISSING))
def test_missing_attributes(products: list[dict[str, Any]], key: str) -> None:
    missing = sum(key not in product for product in products)
    assert missing >= MIN_MISSING[key], f"only {missing} products without {key}"


def test_some_products_have_one_feature(products: list[dict[str, Any]]) -> None:
    single = sum(len(product["features"]) == 1 for product in products)
    assert single >= MIN_SINGLE_FEATURE


def test_prices_are_not_all_99_cents(products: list[dict[str, Any]]) -> None:
    odd = [p["price"] for p in products if "price" in p and cents(p["price"]) != 99]
    assert len(odd) >= MIN_ODD_CENTS, f"only {len(odd)} prices without 99 cents"


def test_cents_helper() -> None:
    assert cents(42.5) == 50
    assert cents(34.99) == 99
    assert cents(1299.0) == 0
    assert cents(0.95) == 95


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_required_products_exactly(products: list[dict[str, Any]], name: str) -> None:
    found = [product for product in products if product.get("name") == name]
    assert found == [REQUIRED[name]]


def test_no_catalogue_brands(rows: list[dict[str, Any]], catalogue: list[dict[str, Any]]) -> None:
    known = lowered([product["brand"] for product in catalogue])
    shared = {row["id"] for row in rows if row["attributes"]["brand"].lower() in known}
    assert shared == KNOWN_BRAND_IDS, f"catalogue brands used by {sorted(shared)}"


def test_no_catalogue_names(
    products: list[dict[str, Any]], catalogue: list[dict[str, Any]]
) -> None:
    known = lowered([product["name"] for product in catalogue])
    shared = [product["name"] for product in products if product["name"].lower() in known]
    assert not shared, f"catalogue product names: {shared}"


def test_few_catalogue_features(
    products: list[dict[str, Any]], catalogue: list[dict[str, Any]]
) -> None:
    known = lowered([feature for product in catalogue for feature in product["features"]])
    features = [feature for product in products for feature in product["features"]]
    shared = [feature for feature in features if feature.strip().lower() in known]
    share = len(shared) / len(features)
    assert share <= MAX_SHARED_FEATURE_SHARE, f"{share:.0%} catalogue features: {shared}"
