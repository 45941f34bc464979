"""The copywriter: prompt format, grounding metrics on crafted examples, training, API and CLI inputs."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pandas as pd
import pytest
import torch

from coursekit import copywriter as C

LEXICON = {
    "colour": ["black", "navy", "navy blue", "red", "sage green", "white"],
    "material": ["cotton", "nylon", "organic cotton", "stainless steel"],
    "size": ["1.7 l", "medium", "size M", "size S"],
    "features": ["dishwasher safe", "medium roast", "waterproof"],
}


# --------------------------------------------------------------------------- prompt format


def test_prompt_format_orders_attributes_and_drops_empty_values():
    attrs = {
        "colour": "red",
        "features": ["waterproof", "packable"],
        "category": "apparel",
        "price": 59.9,
        "material": "",
        "zzz": "last",
    }
    assert C.serialise_attributes(attrs) == (
        "colour: red | features: waterproof, packable | price: $59.90 | category: apparel | zzz: last"
    )
    assert C.format_prompt({"colour": "red"}) == "<|attrs|>colour: red<|copy|>"
    assert C.format_prompt({"colour": "red"}, "concise") == (
        "<|attrs|>voice: concise | colour: red<|copy|>"
    )
    with pytest.raises(TypeError, match="dict"):
        C.serialise_attributes("colour=red")


def test_copy_text_is_the_shop_copy_of_the_attributes():
    attrs = {"category": "apparel", "brand": "Kestrel", "colour": "red", "price": 30.5}
    row = {"product_id": "p1", "attributes": attrs, "paragraph": "old copy"}
    text = C.copy_text(row)
    assert text == C.copy_text(pd.DataFrame([row]).iloc[0]) == C.copy_text(attrs)
    assert "Kestrel" in text and "red" in text and "$30.50" in text and "<" not in text
    assert C.copy_text(attrs, voice="technical") != text


def test_training_examples_in_slots_and_in_words():
    products = fake_products(6)
    slots = C.training_examples(products, variants=2, drop=0.0, delexicalise=True)
    words = C.training_examples(products, variants=2, drop=0.0, delexicalise=False)
    assert len(slots) == len(words) == 6 * 3 * 2
    for (sp, sc), (wp, wc), row in zip(slots[::6], words[::6], products.itertuples(), strict=True):
        assert "<price>" in sp and "<price>" in sc and "$" not in sc  # no value in slot text
        assert f"${row.attributes['price']:.2f}" in wp and f"${row.attributes['price']:.2f}" in wc
    # leaving attributes out: the copy never names one the prompt lacks
    dropped = C.training_examples(products, variants=4, drop=0.5, delexicalise=True)
    for prompt, copy in dropped:
        for slot in ("<colour>", "<material>", "<size>", "<price>"):
            assert (slot in copy) == (slot in prompt), (prompt, copy)


def test_copy_loss_equals_the_model_loss():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    model = GPT2LMHeadModel(
        GPT2Config(
            vocab_size=50,
            n_positions=32,
            n_embd=16,
            n_layer=1,
            n_head=2,
            bos_token_id=0,
            eos_token_id=0,
        )
    ).eval()
    ids = torch.randint(0, 50, (3, 10))
    mask = torch.ones_like(ids)
    mask[2, 7:] = 0
    labels = ids.clone()
    labels[:, :4] = -100
    labels[2, 7:] = -100
    want = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    assert torch.allclose(C.copy_loss(model, ids, mask, labels), want, atol=1e-6)


# --------------------------------------------------------------------------- grounding


def test_mentions_and_coverage_on_crafted_examples():
    attrs = {
        "colour": "sage green",
        "material": "stainless steel",
        "size": "1.7 l",
        "price": 49.99,
        "features": ["dishwasher safe", "auto shut-off"],
    }
    text = "A Sage-Green kettle in stainless  steel, 1.7 l, auto shut-off. Only $49.99."
    assert C.missing_attributes(text, attrs) == [("features", "dishwasher safe")]
    assert math.isclose(C.attribute_coverage(text, attrs), 5 / 6)
    assert C.mentions("Tanned and stands tall", "colour", "tan") is False
    assert C.mentions("in TAN leather", "colour", "tan") is True
    assert C.mentions("now 1,299.00 dollars", "price", 1299.0) is True
    assert C.mentions("now $12.99", "price", 12.9) is False
    with pytest.raises(ValueError, match="empty"):
        C.attribute_coverage("text", {})
    with pytest.raises(TypeError, match="str"):
        C.attribute_coverage(None, {"colour": "red"})


def test_hallucinations_on_crafted_examples():
    attrs = {
        "colour": "navy blue",
        "material": "cotton",
        "size": "size M",
        "features": ["waterproof"],
    }
    # every mention is of a given value: nothing invented ("navy" inside "navy blue" is fine)
    ok = "A navy blue cotton jacket, size M, waterproof."
    assert C.hallucinated_attributes(ok, attrs, LEXICON) == []
    bad = "A red organic cotton jacket, size S, dishwasher safe."
    assert sorted(C.hallucinated_attributes(bad, attrs, LEXICON)) == [
        ("colour", "red"),
        ("features", "dishwasher safe"),
        ("material", "organic cotton"),
        ("size", "size S"),
    ]
    # the longest lexicon value wins: "medium roast" is a feature, not the size "medium"
    coffee = {"features": ["dark roast"]}
    assert C.hallucinated_attributes("A medium roast.", coffee, LEXICON) == [
        ("features", "medium roast")
    ]
    # a colour word inside a given name is not blamed
    named = {"name": "Red Rocket Kettle", "colour": "white"}
    assert C.hallucinated_attributes("The Red Rocket Kettle in white.", named, LEXICON) == []


def test_banned_claims_and_prices():
    assert C.banned_claims("Guaranteed to cure back pain!") == ["guarantee", "medical: cures"]
    assert C.banned_claims("Clinically proven, FDA-approved miracle.") == [
        "clinically proven",
        "FDA",
        "miracle",
    ]
    assert C.banned_claims("A cosy, well-made mug.") == []
    assert C.prices_in("Was $1,299.00, now USD 999.5 or $20") == [1299.0, 999.5, 20.0]
    assert C.price_consistent("Only $19.99, yes $19.99.", 19.99)
    assert not C.price_consistent("Only $19.99, was $29.99.", 19.99)
    assert C.price_consistent("No price here.", 19.99)
    assert not C.price_consistent("Only $5.", None)


def test_grounding_score_prefers_faithful_text_and_rerank_orders():
    attrs = {"colour": "navy", "material": "cotton", "price": 20.0}
    good = C.grounding("Navy cotton tee, $20.00.", attrs, LEXICON)
    wrong = C.grounding("Red cotton tee, $25.00, guaranteed.", attrs, LEXICON)
    assert good.coverage == 1.0 and good.score == 1.0
    assert wrong.hallucinated == [("colour", "red")] and not wrong.price_ok
    assert wrong.banned == ["guarantee"]
    assert wrong.score < good.score
    cands = [
        C.Candidate("b", -1.0, wrong, rank_before=0),
        C.Candidate("a", -2.0, good, rank_before=1),
        C.Candidate("c", -0.5, good, rank_before=2),
    ]
    assert [c.text for c in C.rerank_candidates(cands)] == ["c", "a", "b"]


def test_attribute_lexicon_from_products():
    products = fake_products(10)
    lex = C.attribute_lexicon(products)
    assert set(lex) == {"brand", "colour", "material", "size", "features"}
    assert "navy" in lex["colour"] and "waterproof" in lex["features"]


# --------------------------------------------------------------------------- a tiny trained copywriter

COLOURS = ["black", "navy", "red", "white"]
MATERIALS = ["cotton", "nylon", "wool"]
SIZES = ["size S", "size M", "size L"]
FEATURES = ["waterproof", "machine washable", "zippered pockets", "packable design"]


def fake_products(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """Products shaped like coursekit.data.load_products(), with templated copy."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        colour, material, size = rng.choice(COLOURS), rng.choice(MATERIALS), rng.choice(SIZES)
        feats = rng.sample(FEATURES, 2)
        price = float(f"{rng.randint(20, 90)}.99")
        attrs = {
            "category": "apparel",
            "brand": "Kestrel",
            "colour": colour,
            "material": material,
            "size": size,
            "price": price,
            "features": feats,
        }
        rows.append(
            {
                "product_id": f"p{i:03d}",
                "attributes": attrs,
                "title": f"Kestrel {colour} {material} jacket",
                "bullets": [f"{feats[0]}", f"{feats[1]}", size],
                "paragraph": f"A {colour} jacket in {material}, {size}, for ${price:.2f}.",
                "split": "train" if i % 5 else "test",
            }
        )
    return pd.DataFrame(rows)


TINY = C.TrainConfig(
    n_embd=32,
    n_layer=1,
    n_head=2,
    n_positions=128,
    max_length=96,
    batch_size=8,
    epochs=2,
    lr=3e-3,
    extra_catalogues=0,
)


@pytest.fixture(scope="module")
def small_bpe():
    from coursekit.tokenization import train_bpe

    texts = []
    for row in fake_products(40).itertuples():
        texts += [row.title, *row.bullets, row.paragraph, C.serialise_attributes(row.attributes)]
    return train_bpe(texts, vocab_size=400)


@pytest.fixture(scope="module")
def writer_dir(tmp_path_factory, small_bpe):
    """A copywriter trained through the default code path, on a small BPE stand-in."""
    import copy

    mp = pytest.MonkeyPatch()
    mp.setattr("coursekit.tokenization.load_shop_bpe", lambda: copy.deepcopy(small_bpe))
    folder = tmp_path_factory.mktemp("copywriter")
    try:
        C.train_copywriter(fake_products(40), TINY, out_dir=folder)
    finally:
        mp.undo()
    return folder


@pytest.fixture(scope="module")
def writer(writer_dir):
    return C.read_copywriter(writer_dir)


def test_training_saves_safetensors_and_is_deterministic(writer_dir, small_bpe, monkeypatch):
    import copy

    assert (writer_dir / "model.safetensors").exists()
    assert not list(writer_dir.glob("*.bin"))
    monkeypatch.setattr("coursekit.tokenization.load_shop_bpe", lambda: copy.deepcopy(small_bpe))
    again = C.train_copywriter(fake_products(40), TINY)
    saved = C.read_copywriter(writer_dir)
    for (name, a), (_, b) in zip(
        again.model.state_dict().items(), saved.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    assert again.meta["losses"] == saved.meta["losses"]
    assert saved.meta["n_train"] == 32
    assert saved.meta["n_examples"] == 32 * 3 * TINY.variants  # every voice, `variants` times
    assert saved.delexicalised
    assert saved.attribute_names == [
        "brand",
        "material",
        "colour",
        "size",
        "features",
        "price",
        "category",
    ]
    assert saved.lexicon["colour"] == COLOURS


def test_training_decays_matrices_only_and_leaves_the_model_on_the_cpu(small_bpe, monkeypatch):
    """The copywriter trains through train.fit: AdamW decays matrices, not biases or norms."""
    import copy

    monkeypatch.setattr("coursekit.tokenization.load_shop_bpe", lambda: copy.deepcopy(small_bpe))
    # lr 0 leaves only decoupled weight decay (p <- p - lr * wd * p): nothing would move at all
    # if it were applied nowhere; tiny lr and huge decay make decay dominate the update
    config = replace(TINY, lr=1e-4, weight_decay=2000.0, epochs=1, warmup=0.0)
    writer = C.train_copywriter(fake_products(40), config)
    state = writer.model.state_dict()
    ln = state["transformer.h.0.ln_1.weight"]
    assert torch.allclose(ln, torch.ones_like(ln), atol=0.05)  # Adam's steps only: ~lr each
    fresh = C._model_and_tokenizer(None, config)[0].state_dict()
    w = state["transformer.h.0.attn.c_attn.weight"]
    assert w.norm() < 0.5 * fresh["transformer.h.0.attn.c_attn.weight"].norm()  # decayed
    assert all(t.device.type == "cpu" for t in state.values())


def test_prompt_tokens_are_single_special_tokens(writer):
    ids = writer.tokenizer(C.format_prompt({"colour": "red"}))["input_ids"]
    toks = writer.tokenizer.convert_ids_to_tokens(ids)
    assert toks[0] == C.ATTRS_TOKEN and toks[-1] == C.COPY_TOKEN
    # a slot is one token, and it takes the space before it
    toks = writer.tokenizer.convert_ids_to_tokens(writer.tokenizer("for <price>.")["input_ids"])
    assert toks[-2:] == ["<price>", "."] and "Ġ" not in toks


def test_slot_model_writes_the_given_values_and_never_an_absent_slot(writer):
    attrs = {"category": "apparel", "brand": "Zyxwv", "colour": "ultraviolet", "price": 12.34}
    cands = writer.generate(attrs, n=6, seed=0, max_new_tokens=60, ground=True, rerank=False)
    for c in cands:
        assert c.slot_text is not None and "<" not in c.text, c.text  # every slot filled
        assert all(abs(p - 12.34) < 0.005 for p in C.prices_in(c.text)), c.text
        assert not any(tok in c.slot_text for tok in ("<material>", "<size>", "<feature_1>"))


def test_generate_returns_reranked_seeded_candidates(writer):
    attrs = {"category": "apparel", "colour": "red", "material": "wool", "price": 30.99}
    state = torch.random.get_rng_state()
    a = C.generate(attrs, n=4, strategy="top_p", seed=1, copywriter=writer, max_new_tokens=30)
    assert torch.equal(state, torch.random.get_rng_state())  # the global RNG is left alone
    b = C.generate(attrs, n=4, strategy="top_p", seed=1, copywriter=writer, max_new_tokens=30)
    c = C.generate(attrs, n=4, strategy="top_p", seed=2, copywriter=writer, max_new_tokens=30)
    assert len(a) == 4 and all(isinstance(x, C.Candidate) for x in a)
    assert [x.text for x in a] == [x.text for x in b]
    assert [x.text for x in a] != [x.text for x in c]
    scores = [x.score for x in a]
    assert scores == sorted(scores, reverse=True)
    assert sorted(x.rank_before for x in a) == [0, 1, 2, 3]
    assert all(0.0 <= x.grounding.coverage <= 1.0 and x.logprob < 0 for x in a)
    raw = writer.generate(attrs, n=4, seed=1, max_new_tokens=30, rerank=False)
    assert [x.rank_before for x in raw] == [0, 1, 2, 3]


def test_odd_sentences_cost_score_and_the_model_knows_its_shapes(writer):
    g = C.grounding("Red, $30.99.", {"colour": "red", "price": 30.99}, {})
    plain = C.Candidate(text="a", logprob=-0.5, grounding=g)
    odd = C.Candidate(text="b", logprob=-0.1, grounding=g, odd_sentences=1, rank_before=1)
    assert odd.score < plain.score  # an odd sentence outweighs a better log-probability
    assert C.rerank_candidates([odd, plain])[0] is plain
    shapes = set(writer.meta["sentence_shapes"])
    assert "Yours for <price>." in shapes or "Just <price>." in shapes
    assert not any("$" in s for s in shapes)  # shapes are slot text
    cands = writer.generate({"colour": "red", "price": 30.99}, n=3, seed=0, max_new_tokens=40)
    assert all(c.odd_sentences >= 0 for c in cands)


def test_grounded_bad_words(small_bpe):
    lexicon = {"colour": ["navy", "navy blue", "red", "green"], "material": ["wool", "merino wool"]}
    attrs = {"colour": "navy blue", "material": "wool"}
    banned = {small_bpe.decode(ids) for ids in C.grounded_bad_words(small_bpe, attrs, lexicon)}
    assert {" red", "red", " Red", "Red", " green", " merino wool", "Merino wool"} <= banned
    # a given value, or a catalogue value inside one, is never banned
    assert not banned & {" navy", "navy", " navy blue", " wool", "wool", " Wool"}
    # nor a sequence that starts the tokens of a given value (" red" would ban " reduced")
    tricky = C.grounded_bad_words(small_bpe, {"material": "reduced fat"}, {"colour": ["red"]})
    starts = small_bpe(" reduced fat", add_special_tokens=False)["input_ids"]
    assert all(starts[: len(ids)] != ids for ids in tricky)


def test_grounded_generation_never_writes_a_banned_value(writer):
    attrs = {"category": "apparel", "colour": "red", "material": "wool", "price": 30.99}
    plain = writer.generate(attrs, n=8, seed=0, max_new_tokens=40, rerank=False)
    grounded = writer.generate(attrs, n=8, seed=0, max_new_tokens=40, rerank=False, ground=True)
    assert sum(len(c.grounding.hallucinated) for c in grounded) <= sum(
        len(c.grounding.hallucinated) for c in plain
    )
    banned = [w for ids in C.grounded_bad_words(writer.tokenizer, attrs, writer.lexicon)
              for w in [writer.tokenizer.decode(ids)] if w.startswith(" ")]  # fmt: skip
    for c in grounded:
        for value in banned:
            assert value not in " " + c.text, (value, c.text)


def test_generate_many_batches_products_with_their_own_bans(writer):
    products = [
        {"category": "apparel", "colour": "red", "material": "wool", "price": 30.99},
        {"brand": "Zyxwv", "colour": "ultraviolet", "price": 12.34},  # a shorter prompt
        {"category": "apparel", "colour": "red", "material": "wool", "price": 30.99},
    ]
    # greedy: the same text as one product alone, left padding and all
    greedy = writer.generate_many(products, n=1, strategy="greedy", max_new_tokens=30)
    for attrs, (cand,) in zip(products, greedy, strict=True):
        alone = writer.generate(attrs, n=1, strategy="greedy", max_new_tokens=30)[0]
        assert cand.text == alone.text
        assert cand.logprob == pytest.approx(alone.logprob, abs=1e-4)
    # sampled, grounded: each product gets n candidates, seeded, with no banned value
    state = torch.random.get_rng_state()
    runs = [
        writer.generate_many(products, n=3, seed=4, ground=True, max_new_tokens=40)
        for _ in range(2)
    ]
    assert torch.equal(state, torch.random.get_rng_state())
    assert [[c.text for c in cs] for cs in runs[0]] == [[c.text for c in cs] for cs in runs[1]]
    assert [len(cs) for cs in runs[0]] == [3, 3, 3]
    for attrs, cands in zip(products, runs[0], strict=True):
        banned = [writer.tokenizer.decode(ids)
                  for ids in C.grounded_bad_words(writer.tokenizer, attrs, writer.lexicon)]  # fmt: skip
        for c in cands:
            assert c.grounding is not None and "<" not in c.text
            assert not [v for v in banned if v.startswith(" ") and v in " " + c.text], c.text
        assert [c.score for c in cands] == sorted((c.score for c in cands), reverse=True)
    assert "<material>" not in " ".join(c.slot_text for c in runs[0][1])  # no material given
    with pytest.raises(TypeError, match="list of attribute dicts"):
        writer.generate_many({"colour": "red"})
    with pytest.raises(ValueError, match="unknown attribute name"):
        writer.generate_many([{"colour": "red"}, {"colur": "red"}])


def test_generate_greedy_and_beam(writer):
    attrs = {"colour": "navy"}
    greedy = writer.generate(attrs, n=1, strategy="greedy", max_new_tokens=20)
    assert len(greedy) == 1
    # temperature without sampling changes nothing: the articles' mistake
    hot = writer.generate(attrs, n=1, strategy="greedy", max_new_tokens=20, temperature=5.0)
    assert hot[0].text == greedy[0].text
    beams = writer.generate(attrs, n=2, strategy="beam", max_new_tokens=20)
    assert len(beams) == 2


def test_generate_bad_inputs(writer):
    with pytest.raises(ValueError, match="unknown attribute name.*colur.*knows: brand"):
        writer.generate({"colur": "red"})
    with pytest.raises(ValueError, match="empty"):
        writer.generate({})
    with pytest.raises(ValueError, match="empty"):
        writer.generate({"colour": "", "features": []})
    with pytest.raises(TypeError, match="dict"):
        writer.generate("colour=red")
    with pytest.raises(ValueError, match="unknown strategy 'nucleus'"):
        writer.generate({"colour": "red"}, strategy="nucleus")
    with pytest.raises(ValueError, match="n=1, or a sampling strategy"):
        writer.generate({"colour": "red"}, n=3, strategy="greedy")
    with pytest.raises(ValueError, match="positive int"):
        writer.generate({"colour": "red"}, n=0)


def test_perplexity_is_finite(writer):
    ppl = writer.perplexity(fake_products(40).head(6))
    assert 1.0 < ppl < 400
    with pytest.raises(ValueError, match="no products to measure"):
        writer.perplexity(fake_products(40).head(0))


def test_missing_model_says_how_to_train(tmp_path):
    with pytest.raises(FileNotFoundError, match="coursekit copy --train"):
        C.read_copywriter(tmp_path)
    with pytest.raises(FileNotFoundError, match="coursekit copy --train"):
        C.load_copywriter(tmp_path / "nowhere")


def test_base_model_option_fine_tunes_a_local_model(tmp_path, small_bpe, monkeypatch):
    """The `base_model="gpt2"` code path, exercised offline on a tiny local GPT-2."""
    import copy

    from transformers import GPT2Config, GPT2LMHeadModel

    base = tmp_path / "tiny-gpt2"
    tok = copy.deepcopy(small_bpe)
    GPT2LMHeadModel(
        GPT2Config(vocab_size=len(tok), n_positions=128, n_embd=32, n_layer=1, n_head=2)
    ).save_pretrained(base)
    tok.save_pretrained(base)

    def offline(what):
        raise AssertionError("a local folder must not need the hub")

    monkeypatch.setattr("coursekit.env.require_online", offline)
    tuned = C.train_copywriter(
        fake_products(16), TINY, base_model=str(base), out_dir=tmp_path / "o"
    )
    assert tuned.meta["base_model"] == str(base)
    from coursekit.product_copy import SLOT_TOKENS

    special = 2 + len(SLOT_TOKENS)  # <|attrs|>, <|copy|> and the slots
    assert tuned.model.get_input_embeddings().weight.shape[0] == len(tok) + special
    back = C.read_copywriter(tmp_path / "o")
    assert back.generate({"colour": "red"}, n=2, max_new_tokens=10)


def test_base_model_from_hub_fails_fast_offline(monkeypatch):
    from coursekit.env import OfflineError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OfflineError, match="base_model='gpt2'"):
        C.train_copywriter(fake_products(10), TINY, base_model="gpt2")


# --------------------------------------------------------------------------- CLI


def test_cli_parse_attributes():
    from coursekit.cli import UserError
    from coursekit.commands.copy import parse_attributes

    assert parse_attributes(["colour=red", "price=$1,299.50", "features=a, b ,"]) == {
        "colour": "red",
        "price": 1299.5,
        "features": ["a", "b"],
    }
    assert parse_attributes(["features=3,000 mm rating, two doors"]) == {
        "features": ["3,000 mm rating", "two doors"]  # a comma between digits stays
    }
    for bad, msg in [
        (["colour"], "NAME=VALUE"),
        (["=red"], "NAME=VALUE"),
        (["price=cheap"], "number"),
        (["colour=red", "colour=blue"], "twice"),
    ]:
        with pytest.raises(UserError, match=msg):
            parse_attributes(bad)


def test_cli_bad_inputs_and_output(writer_dir, capsys):
    from coursekit.cli import main

    model = ["--model", str(writer_dir)]
    assert main(["copy", *model]) == 2
    assert "no attributes given" in capsys.readouterr().err
    assert main(["copy", "--attr", "colur=red", *model]) == 2
    err = capsys.readouterr().err
    assert "unknown attribute name(s): colur" in err and "colour" in err
    assert main(["copy", "--attr", "colour=", *model]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["copy", "--attr", "colour=red", "--n", "0", *model]) == 2
    assert "--n must be at least 1" in capsys.readouterr().err
    assert main(["copy", "--attr", "colour=red", "--model", str(writer_dir / "nope")]) == 2
    assert "coursekit copy --train" in capsys.readouterr().err
    assert (
        main(["copy", "--attr", "colour=red", "--attr", "material=wool", "--n", "2", *model]) == 0
    )
    out = capsys.readouterr().out
    assert out.count("coverage") == 2 and "#1" in out and "#2" in out
    assert main(["copy", "--attr", "colour=red", "--json", "--n", "2", *model]) == 0
    import json

    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["rank"] for r in rows] == [1, 2] and {"coverage", "hallucinated"} <= set(rows[0])


# --------------------------------------------------------------------------- synthetic products


def test_synthetic_products_leave_held_out_products_out():
    from coursekit import data

    shop = data.load_products()
    held = set(shop.loc[shop["split"] != "train", "name"])
    plain = C.synthetic_products(2)
    extra = C.synthetic_products(2, exclude_names=held)
    assert len(plain) == 2 * len(shop)
    assert 0 < len(plain) - len(extra) < 0.1 * len(plain)  # a few names recur across seeds
    assert not set(extra["name"]) & held
    assert set(extra["split"]) == {"train"}
    assert extra["product_id"].is_unique and extra["product_id"].str.startswith("S").all()
    assert list(extra.columns) == list(shop.columns)
    # a different catalogue from the shop's, yet the same copy style: every fact in the copy
    assert not set(extra["paragraph"]) & set(shop["paragraph"])
    assert all(C.attribute_coverage(r.paragraph, r.attributes) == 1.0 for r in extra.itertuples())
    # deterministic
    pd.testing.assert_frame_equal(extra, C.synthetic_products(2, exclude_names=held))


def test_synthetic_products_rejects_a_bad_count():
    with pytest.raises(ValueError, match="n_catalogues must be an int >= 0"):
        C.synthetic_products(-1)
    assert C.synthetic_products(0).empty


def test_training_adds_synthetic_catalogues_but_no_held_out_name(monkeypatch, small_bpe):
    import copy
    from dataclasses import replace

    from coursekit import data

    seen = {}

    def spy(model, batches, config):
        seen["n"] = len(batches["input_ids"])
        return []

    shop = data.load_products()
    held = set(shop.loc[shop["split"] != "train", "name"])
    monkeypatch.setattr("coursekit.tokenization.load_shop_bpe", lambda: copy.deepcopy(small_bpe))
    monkeypatch.setattr(C.training, "_train_loop", spy)  # where train_copywriter looks it up
    writer = C.train_copywriter(shop, replace(TINY, extra_catalogues=1))
    n_extra = len(C.synthetic_products(1, exclude_names=held))
    assert writer.meta["n_shop_products"] == int((shop["split"] == "train").sum())
    assert writer.meta["n_train"] == writer.meta["n_shop_products"] + n_extra
    assert seen["n"] == writer.meta["n_examples"] == writer.meta["n_train"] * 3 * TINY.variants
