"""The shop's copy templates, slots (delexicalisation) and the plain fact check."""

from __future__ import annotations

import json
import random

import pytest

from coursekit import data, paths
from coursekit import product_copy as P

#: the skillet of the hand-written products (cast iron, 26 cm, pre-seasoned, oven safe, $34.99)
SKILLET = next(
    row["attributes"]
    for line in (paths.repo_root() / "tests/fixtures/handwritten_products.jsonl").open()
    if (row := json.loads(line))["attributes"]["name"] == "Copperleaf Cast Iron Skillet"
)


def test_delexicalise_takes_every_value_out():
    s = P.delexicalise({**SKILLET, "colour": "", "features": ["pre-seasoned", " "]})
    assert s.attributes == {
        "category": "home & kitchen",
        "brand": "<brand>",
        "name": "<brand> <name>",  # the name starts with the brand: split, never repeated
        "material": "<material>",
        "size": "<size>",
        "features": ["<feature_1>"],
        "price": "<price>",
    }
    assert s.values["<name>"] == "Cast Iron Skillet" and s.values["<price>"] == "$34.99"
    assert s.values["<category>"] == "home & kitchen"
    assert s.values["<benefit>"] == P.benefit_line("home & kitchen", SKILLET["name"])
    other = P.delexicalise({"brand": "Acme", "name": "Kettle by Acme"})
    assert other.attributes["name"] == "<name>" and other.values["<name>"] == "Kettle by Acme"
    with pytest.raises(ValueError, match="at most 6"):
        P.delexicalise({"features": [f"f{i}" for i in range(7)]})
    with pytest.raises(TypeError, match="dict"):
        P.delexicalise("brand=Acme")


def test_fill_slots_capitalises_sentence_starts_and_keeps_unknown_slots():
    values = {"<feature_1>": "pre-seasoned", "<price>": "$34.99"}
    text = "Highlights: <feature_1>. <feature_1> too.\n- <feature_1>\nOnly <price>. <colour>"
    assert P.fill_slots(text, values) == (
        "Highlights: pre-seasoned. Pre-seasoned too.\n- Pre-seasoned\nOnly $34.99. <colour>"
    )
    assert P.unfilled_slots(P.fill_slots(text, values)) == ["<colour>"]
    assert P.space_slots("for<price>.\n-<feature_1>\n<brand><name>") == (
        "for <price>.\n- <feature_1>\n<brand> <name>"
    )
    assert P.format_price(42.5) == "$42.50" and P.format_price(1299) == "$1299.00"
    with pytest.raises(TypeError, match="number"):
        P.format_price("42.50")


@pytest.mark.parametrize("voice", P.VOICES)
def test_copy_names_every_given_value_and_nothing_else(voice):
    """Over the whole catalogue, with attributes left out at random: the training copy is exact."""
    rng = random.Random(0)
    for attrs in data.load_products()["attributes"]:
        attrs = {k: v for k, v in attrs.items() if k == "category" or rng.random() > 0.25}
        text = P.fill_slots(P.write_copy(attrs, voice, rng), P.delexicalise(attrs).values)
        check = P.fact_check(text, attrs)
        assert check.coverage == 1.0 and not check.invented, (text, check)
        assert not P.unfilled_slots(text) and not P.repeated_words(text), text
        if attrs.get("brand") and str(attrs.get("name", "")).startswith(attrs["brand"]):
            assert text.count(attrs["brand"]) == 1, text  # never "the Acme Kettle from Acme"


def test_write_copy_varies_and_rejects_an_unknown_voice():
    texts = {P.write_copy(SKILLET, "warm", random.Random(seed)) for seed in range(20)}
    assert len(texts) >= 8
    assert P.write_copy(SKILLET, "warm", random.Random(3)) == P.write_copy(
        SKILLET, "warm", random.Random(3)
    )
    with pytest.raises(ValueError, match="unknown voice 'shouty'.*warm, concise, technical"):
        P.write_copy(SKILLET, "shouty")


def test_fact_check_on_crafted_texts():
    good = "The Copperleaf Cast Iron Skillet: 26 cm, cast iron, pre-seasoned, oven safe. $34.99, home & kitchen"
    check = P.fact_check(good, SKILLET)
    assert check.coverage == 1.0 and not check.hallucinated and check.price_exact
    bad = "Meet the Copperleaf Skillet in red, made of aluminium. Pre-seasoned. Only $50.99!"
    check = P.fact_check(bad, SKILLET)
    assert check.hallucinated and check.price_exact is False
    assert set(check.invented) == {"red", "aluminium", "$50.99"}
    assert "oven safe" in check.missing and "26 cm" in check.missing
    # the price written another way is not the given price written exactly
    assert P.fact_check("34.99 dollars", {"price": 34.99}).price_exact is False
    # no price given: any price in the text is invented
    assert P.fact_check("Only $5.00", {"brand": "Acme"}).invented == ["$5.00"]
    # a colour word inside a given value is not invented
    assert not P.fact_check("In slate grey.", {"colour": "slate grey"}).invented
    with pytest.raises(ValueError, match="empty"):
        P.fact_check("text", {"colour": ""})
    with pytest.raises(TypeError, match="str"):
        P.fact_check(None, SKILLET)


def test_sentence_shapes_and_well_formed():
    text = "Meet the <brand> <name>. <benefit> Yours for <price>.\n- <feature_1>\n- <feature_2>"
    shapes = P.sentence_shapes(text)
    assert shapes == [
        "Meet the <brand> <name>.",
        "<benefit>",
        "Yours for <price>.",
        "- <feature>",
        "- <feature>",
    ]
    known = set(shapes)
    assert P.well_formed(text, known) == 1.0
    assert (
        P.well_formed("Meet the <brand> <name>. Choose it in <colour> and is made of.", known)
        == 0.5
    )
    assert P.well_formed("", known) == 0.0
    values = {"<brand>": "Acme", "<name>": "Pan", "<price>": "$5.00"}
    line = P.benefit_line("pets", "Acme Pan")
    assert P.to_slots(f"Meet the Acme Pan. {line} Yours for $5.00.", values) == (
        "Meet the <brand> <name>. <benefit> Yours for <price>."
    )


def test_fluency_helpers():
    vocab = P.words_of(["Meet the skillet. Only for you."])
    attrs = {"name": "Copperleaf Skillet"}
    assert P.unknown_words("Meet the Copperleaf deskish skillet", vocab, attrs) == ["deskish"]
    assert P.repeated_words("the the skillet skillet, and more") == ["the", "skillet"]
    assert P.repeated_words("Size: size 32, and, and") == []  # punctuation between: no stutter
    assert P.repeated_words("a b c") == []
