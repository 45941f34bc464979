"""The shoppers, their events and the launch dates: determinism, schema, order, real signal."""

from __future__ import annotations

import pytest

from coursekit import corpus, data, paths
from coursekit.corpus import shoppers as S


@pytest.fixture(scope="module")
def shoppers():
    return data.load_shoppers()


@pytest.fixture(scope="module")
def events():
    return data.load_events()


@pytest.fixture(scope="module")
def products():
    return data.load_products()


def test_shipped_files_are_what_the_generator_writes():
    products = sorted(corpus.generate_products(corpus.DEFAULT_SEED), key=lambda p: p["product_id"])
    people, events, launches = S.generate_shoppers(products, corpus.DEFAULT_SEED)
    expected = {
        "shop/shoppers.jsonl": corpus._jsonl(people),
        "shop/events.jsonl": corpus._jsonl(events),
        "shop/product_launches.jsonl": corpus._jsonl(S.launch_rows(launches)),
    }
    for rel, text in expected.items():
        assert (paths.data_dir() / rel).read_text(encoding="utf-8") == text, rel


def test_same_seed_same_histories_and_another_seed_differs():
    products = corpus.generate_products(1)
    a = S.generate_shoppers(products, 1, n_shoppers=60)
    b = S.generate_shoppers(products, 1, n_shoppers=60)
    c = S.generate_shoppers(products, 2, n_shoppers=60)
    assert a == b
    assert a[1] != c[1]


def test_schema_and_size(shoppers, events):
    assert len(shoppers) > 1900 and shoppers["shopper_id"].is_unique
    assert set(shoppers["segment"]) == set(S.SEGMENTS)
    assert set(events["kind"]) == {"view", "purchase"}
    assert set(events["shopper_id"]) == set(shoppers["shopper_id"])
    assert (paths.data_dir() / "shop" / "events.jsonl").stat().st_size < 4_000_000
    assert shoppers["pets"].map(lambda p: set(p) <= {"dog", "cat"}).all()
    assert set(shoppers["price_band"]) == {"budget", "mid", "premium"}


def test_dates_ordered_after_joining_and_launch(shoppers, events, products):
    assert events["product_id"].isin(products["product_id"]).all()
    assert events["date"].between("2023-01-01", "2024-12-31").all()
    grouped = events.groupby("shopper_id", sort=False)["date"]
    assert grouped.apply(lambda d: d.is_monotonic_increasing).all()
    joined = events["shopper_id"].map(shoppers.set_index("shopper_id")["joined"])
    assert (events["date"] > joined).all()
    launch = events["product_id"].map(data.load_launches().set_index("product_id")["launch_date"])
    assert (events["date"] >= launch).all()
    late = (data.load_launches()["launch_date"] > "2023-01-01").mean()
    assert 0.1 < late < 0.3
    # one purchase a day per shopper, so "the last purchase" is well defined
    buys = events[events["kind"] == "purchase"]
    assert not buys.duplicated(["shopper_id", "date"]).any()


def _share(buys, mask, category_of, category):
    sub = buys[mask]
    return (sub["product_id"].map(category_of) == category).mean()


def test_profiles_shape_the_baskets(shoppers, events, products):
    buys = events[events["kind"] == "purchase"]
    profile = shoppers.set_index("shopper_id")
    category_of = products.set_index("product_id")["category"]
    pets = buys["shopper_id"].map(profile["pets"].map(bool))
    kids = buys["shopper_id"].map(profile["kids"])
    assert _share(buys, pets, category_of, "pets") > 8 * _share(buys, ~pets, category_of, "pets")
    assert _share(buys, kids, category_of, "toys") > 4 * _share(buys, ~kids, category_of, "toys")


def test_seasons_repeats_and_noise(events, products):
    buys = events[events["kind"] == "purchase"].copy()
    buys["type"] = buys["product_id"].map(
        products.set_index("product_id")["name"].map(S.product_type)
    )
    month = buys["date"].str[5:7]
    tents = buys[buys["type"] == "Camping Tent"]
    summer = tents["date"].str[5:7].isin(["06", "07", "08"]).mean()
    assert summer > 0.4  # a quarter of the year, far more than a quarter of the tents
    assert (month[buys["type"] == "Knit Sweater"].isin(["11", "12", "01"])).mean() > 0.4
    again = buys.duplicated(["shopper_id", "product_id"])
    assert 0.08 < again.mean() < 0.4
    assert buys.loc[again, "type"].isin(list(S.CONSUMABLES)).mean() > 0.6
    top = buys["product_id"].value_counts(normalize=True)
    assert top.iloc[0] < 0.03 and top.index.size > 450  # best-sellers, not a few items only


def test_product_type_names_every_product(products):
    assert products["name"].map(S.product_type).isin(list(S.TYPE_CATEGORY)).all()
    with pytest.raises(ValueError, match="no product type"):
        S.product_type("Mystery Box")
