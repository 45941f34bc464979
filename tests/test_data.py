"""The shop corpus: determinism, schema, content, honest splits, verification, loaders, CLI."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from scipy import stats

from coursekit import copywriter, corpus, data, paths, product_copy
from coursekit import corpus_products as P
from coursekit import corpus_reviews as R
from coursekit.cli import main as cli


@pytest.fixture(scope="module")
def products():
    return data.load_products()


@pytest.fixture(scope="module")
def reviews():
    return data.load_reviews()


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of the shipped data folder, with COURSEKIT_DATA pointing at it."""
    target = tmp_path / "data"
    shutil.copytree(paths.data_dir(), target, ignore=shutil.ignore_patterns("README.md"))
    monkeypatch.setenv("COURSEKIT_DATA", str(target))
    return target


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_byte_identical_files(tmp_path):
    a = corpus.build(tmp_path / "a", seed=3, n_reviews=300)
    b = corpus.build(tmp_path / "b", seed=3, n_reviews=300)
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    other = corpus.generate(seed=4, n_reviews=300)
    assert other["shop/reviews.jsonl"] != (tmp_path / "a/shop/reviews.jsonl").read_text(
        encoding="utf-8"
    )


def test_build_leaves_no_temporary_folder(tmp_path):
    corpus.build(tmp_path, seed=0, n_reviews=200)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".build-")]
    assert data.verify(tmp_path) == []


def test_shipped_files_match_manifest():
    assert data.verify() == []
    listed = (paths.data_dir() / corpus.MANIFEST).read_text(encoding="utf-8").splitlines()
    assert sorted(line.split("  ", 1)[1] for line in listed) == sorted(corpus.FILES)


def test_shipped_files_are_what_the_generator_writes():
    """The shipped corpus is the default build (seed 0); reviews are covered by the manifest test."""
    products = sorted(corpus.generate_products(corpus.DEFAULT_SEED), key=lambda p: p["product_id"])
    faq, paraphrases = corpus.generate_faq(corpus.DEFAULT_SEED)
    expected = {
        "shop/products.jsonl": corpus._jsonl([corpus.product_row(p) for p in products]),
        "shop/faq.jsonl": corpus._jsonl(faq),
        "shop/faq_paraphrases.jsonl": corpus._jsonl(paraphrases),
        "shop/faq_paraphrases_train.jsonl": corpus._jsonl(
            corpus.generate_faq_train(corpus.DEFAULT_SEED)
        ),
        "shop/faq_out_of_scope.jsonl": corpus._jsonl(
            corpus.generate_faq_out_of_scope(corpus.DEFAULT_SEED)
        ),
        "shop/campaigns.jsonl": corpus._jsonl(corpus.generate_campaigns(corpus.DEFAULT_SEED)),
    }
    for rel, text in expected.items():
        assert (paths.data_dir() / rel).read_text(encoding="utf-8") == text, rel


# --------------------------------------------------------------------------- schema and counts


def test_products_schema_and_counts(products):
    assert list(products.columns) == data.PRODUCT_COLUMNS
    assert len(products) >= 400 and products["product_id"].is_unique
    assert products["category"].nunique() >= 8 and set(products["category"]) == set(data.CATEGORIES)
    assert products["price"].dtype == float and (products["price"] > 0).all()
    assert products["bullets"].map(len).between(3, 5).all()
    assert set(products["split"]) == set(data.SPLITS)
    for attrs in products["attributes"]:
        assert {"category", "brand", "name", "size", "price", "features"} <= set(attrs)
        assert all(isinstance(v, str) for k, v in attrs.items() if k not in ("price", "features"))
    assert products["name"].is_unique


def test_reviews_schema_and_counts(reviews):
    assert list(reviews.columns) == data.REVIEW_COLUMNS
    assert len(reviews) >= 8000 and reviews["review_id"].is_unique
    assert reviews["rating"].between(1, 5).all()
    expected = reviews["rating"].map(
        lambda r: "negative" if r <= 2 else "neutral" if r == 3 else "positive"
    )
    assert (reviews["label"] == expected).all()
    assert reviews["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert reviews["date"].min() < "2023-02-01" and reviews["date"].max() > "2024-12-01"
    assert reviews["review_id"].tolist() == sorted(reviews["review_id"])
    for aspects in reviews["aspects"].head(2000):
        for a in aspects:
            assert a["aspect"] in data.ASPECTS and a["polarity"] in data.LABELS
    assert set(reviews["phenomena"].explode().dropna()) <= set(data.PHENOMENA)


def test_label_balance(reviews):
    share = reviews["label"].value_counts(normalize=True)
    assert 0.45 <= share["positive"] <= 0.55
    assert 0.25 <= share["negative"] <= 0.35
    assert 0.15 <= share["neutral"] <= 0.21


def test_every_phenomenon_is_present(reviews):
    counts = Counter(reviews["phenomena"].explode().dropna())
    for tag in data.PHENOMENA:
        assert counts[tag] >= 100, (tag, counts[tag])
    assert 0.02 <= counts["label_noise"] / len(reviews) <= 0.04


def test_surface_phenomena_are_really_in_the_text(reviews):
    def tagged(tag):
        return reviews[reviews["phenomena"].map(lambda t: tag in t)]["text"]

    assert tagged("html").str.contains(r"&amp;|&#39;|&quot;|<br|<p>").mean() > 0.95
    assert tagged("pii").str.contains(r"example\.(?:com|org|net)|555").all()
    assert tagged("price").str.contains(r"\$\d").all()
    assert tagged("model_number").str.contains(r"\b[A-Z]{2}-\d+", case=False).all()
    emoji = re.compile("[\U0001f100-\U0001faff\u2700-\u27bf\u2b50]")
    assert tagged("emoji").map(lambda t: bool(emoji.search(t))).all()
    texts = " ".join(reviews["text"]).lower()
    for phrase in (
        "not bad",
        "never again",
        "don't buy",
        "wasn't worth",
        "recieved",
        "sooo",
        "better than my old",
    ):
        assert phrase in texts, phrase


def test_review_lengths_have_a_long_tail(reviews):
    words = reviews["text"].str.split().str.len()
    assert words.min() <= 3 and words.max() >= 100 and 15 <= words.median() <= 35


def test_shipping_spike_is_visible(reviews):
    """Voltix gets far more negative shipping aspects in its spike window than before it."""

    def share(frame):
        hits = frame["aspects"].map(lambda a: {"aspect": "shipping", "polarity": "negative"} in a)
        return hits.mean()

    voltix = reviews[reviews["brand"] == corpus.SHIPPING_SPIKE["brand"]]
    window = voltix["date"].between(corpus.SHIPPING_SPIKE["start"], corpus.SHIPPING_SPIKE["end"])
    assert share(voltix[window]) > 3 * share(voltix[~window])


# --------------------------------------------------------------------------- honest splits


def test_test_products_are_unseen_in_train(products, reviews):
    split_of = dict(zip(products["product_id"], products["split"], strict=True))
    assert (reviews["product_id"].map(split_of) == reviews["split"]).all()
    by_split = {s: set(reviews.loc[reviews["split"] == s, "product_id"]) for s in data.SPLITS}
    assert (
        not by_split["train"] & by_split["test"] and not by_split["train"] & by_split["validation"]
    )
    shares = reviews["split"].value_counts(normalize=True)
    assert abs(shares["train"] - 0.7) < 0.04 and abs(shares["test"] - 0.2) < 0.04


def test_held_out_surface_forms_never_reach_train(reviews):
    assert list(corpus.pool_for(["a", "b", "c", "d", "e", "f", "g"], "train")) == [
        "a",
        "b",
        "c",
        "d",
        "e",
        "g",
    ]
    assert list(corpus.pool_for(["a", "b", "c", "d", "e", "f"], "test")) == [
        "a",
        "b",
        "c",
        "d",
        "e",
        "f",
    ]
    held = [R.OPENERS["negative"][5], R.CLOSERS["positive"][11], R.SARCASTIC_TAILS[5]]
    train = " ".join(reviews.loc[reviews["split"] == "train", "text"])
    evaluation = " ".join(reviews.loc[reviews["split"] != "train", "text"])
    for phrase in held:
        assert phrase not in train and phrase in evaluation, phrase


def test_plain_voice_reviews(reviews):
    plain = reviews[reviews["phenomena"].map(lambda t: "plain" in t)]
    assert len(plain) == round(corpus.N_REVIEWS * corpus.PLAIN_SHARE)
    assert set(plain["label"]) == set(data.LABELS) and set(plain["split"]) == set(data.SPLITS)
    assert plain["text"].str.len().median() < reviews["text"].str.len().median()
    products = {p["product_id"]: p for p in corpus.generate_products(corpus.DEFAULT_SEED)}
    for row in plain.itertuples():
        if "label_noise" in row.phenomena:  # written for another label than the rating's
            continue
        product = products[row.product_id]
        pool = corpus.plain_pool(product, row.label)
        # the sentences suit the product: no battery talk about socks
        assert {a["aspect"] for a in row.aspects} <= {a for a, _ in pool if a}
        if row.split == "train":  # held-out sentences (every sixth) stay out of train
            held = [s for i, (_, s) in enumerate(pool) if i % corpus.HELDOUT_EVERY == 5]
            text = row.text.lower().replace("&#39;", "'")
            for sentence in held:
                if "{" not in sentence:
                    assert sentence.lower() not in text, (sentence, row.text)


def test_plain_voice_leaves_the_templated_reviews_unchanged():
    products = sorted(corpus.generate_products(3), key=lambda p: p["product_id"])
    both = corpus.generate_reviews(products, seed=3, n_reviews=120)
    templated = corpus._review_rows(corpus._rng(3, "reviews"), products, 120, plain=False)
    templated.sort(key=lambda r: (r["date"], r["product_id"], r["text"]))
    assert len(both) == 120 + round(120 * corpus.PLAIN_SHARE)
    assert [r["text"] for r in both if "plain" not in r["phenomena"]] == [
        r["text"] for r in templated
    ]


# --------------------------------------------------------------------------- grounded copy


def _copy(row) -> str:
    return " ".join([row.title, *row.bullets, row.paragraph]).lower()


def _lexicon(products, column):
    values = set(products[column].dropna())
    return sorted(values, key=len, reverse=True)


def test_copy_mentions_every_attribute(products):
    for row in products.itertuples():
        text = _copy(row)
        for key, value in row.attributes.items():
            values = value if isinstance(value, list) else [value]
            for v in values:
                needle = f"{v:,.2f}" if key == "price" else str(v).lower()
                assert needle in text, (row.product_id, key, v)


def _pattern(values) -> re.Pattern[str]:
    alternatives = "|".join(
        re.escape(v.lower()) for v in sorted(set(values), key=len, reverse=True)
    )
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def test_copy_never_mentions_another_colour_or_material(products):
    catalogue = [
        *_lexicon(products, "colour"),
        *_lexicon(products, "material"),
        *_lexicon(products, "size"),
    ]
    catalogue += [f for fs in products["features"] for f in fs]
    anything = _pattern(catalogue)
    for row in products.itertuples():
        own = [
            v
            for v in (row.name, row.colour, row.material, row.size, *row.features)
            if isinstance(v, str)
        ]
        rest = _pattern(own).sub(" # ", _copy(row))
        found = anything.search(rest)
        assert found is None, (row.product_id, found and found.group(0))


def test_paragraphs_read_like_the_copywriters_training_copy(products):
    """The catalogue's paragraphs are the shop's voices (notebook 07), sentence for sentence."""
    shapes, _ = copywriter.shop_copy_style()
    for row in products.itertuples():
        slot_text = product_copy.to_slots(
            row.paragraph, product_copy.delexicalise(row.attributes).values
        )
        odd = [s for s in product_copy.sentence_shapes(slot_text) if s not in shapes]
        assert not odd, (row.product_id, odd)
        assert not product_copy.unfilled_slots(row.paragraph), row.product_id


def test_copy_styles_vary(products):
    openings = Counter(p.split(" ")[0] for p in products["paragraph"])
    assert len(openings) >= 5
    assert (
        products["title"].str.contains(r" \| ").any()
        and products["title"].str.contains(r"\(").any()
    )


# --------------------------------------------------------------------------- FAQ and campaigns


def test_faq_and_paraphrases():
    faq, para = data.load_faq(), data.load_faq_paraphrases()
    assert len(faq) >= 80 and faq["question"].is_unique and faq["faq_id"].is_unique
    assert set(faq["topic"]) >= {
        "orders",
        "shipping",
        "returns",
        "sizes",
        "warranty",
        "payment",
        "account",
        "products",
    }
    per_faq = para.groupby("faq_id").size()
    assert set(per_faq.index) == set(faq["faq_id"]) and per_faq.min() >= 5
    assert set(para["split"]) == {"validation", "test"}
    assert len(data.load_faq_paraphrases("validation")) + len(
        data.load_faq_paraphrases("test")
    ) == len(para)
    assert not set(para["text"].str.lower()) & set(faq["question"].str.lower())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def _ngrams(texts, n):
    return {tuple(w[i : i + n]) for t in texts for w in [_words(t)] for i in range(len(w) - n + 1)}


def test_faq_training_paraphrases_cover_every_entry():
    faq, train = data.load_faq(), data.load_faq_paraphrases("train")
    assert set(train["split"]) == {"train"}
    per_faq = train.groupby("faq_id").size()
    assert set(per_faq.index) == set(faq["faq_id"]) and per_faq.min() >= 8
    assert set(train["kind"]) == {"question", "story", "keywords", "mixed", "situation"}
    assert train["text"].str.strip().str.len().gt(0).all()
    assert corpus.generate_faq_train(0) == corpus.generate_faq_train(0)  # deterministic


def test_faq_training_templates_and_vocabulary_are_disjoint_from_held_out():
    """No template phrase of the training generator, and no run of 4 words of a training
    question, appears in a hand-written validation/test paraphrase."""
    from coursekit import corpus_faq_train as T

    held_out = data.load_faq_paraphrases()["text"].tolist()
    train = data.load_faq_paraphrases("train")["text"].tolist()
    assert not set(map(str.lower, train)) & set(map(str.lower, held_out))
    assert not _ngrams(train, 4) & _ngrams(held_out, 4)
    phrases = [
        *(p for rewrites in T.OPENING_REWRITES.values() for p in rewrites),
        *T.OPENERS,
        *T.CLOSERS,
        *(s for stories in T.STORIES.values() for s in stories),
        *(s for situations in T.SITUATIONS for s in situations),
        *T.SETTINGS,
        *(s for synonyms in T.SYNONYMS.values() for s in synonyms),
        *(f.replace("{words}", "").replace("{q}", "").replace("{a}", "") for f in T.KEYWORD_FRAMES),
        *(f.replace("{q}", "").replace("{a}", "") for f in T.MIXED_FRAMES),
    ]
    held_text = [" ".join(_words(t)) for t in held_out]
    for phrase in phrases:
        words = _words(phrase)
        if len(words) >= 2:  # single words (hey, ta...) are too common to own
            needle = " " + " ".join(words) + " "
            assert not any(needle in f" {h} " for h in held_text), phrase


def test_out_of_scope_questions_are_deterministic_and_split():
    from coursekit import corpus_faq_out_of_scope as O

    oos = data.load_faq_out_of_scope()
    assert corpus.generate_faq_out_of_scope(0) == corpus.generate_faq_out_of_scope(0)
    assert corpus.generate_faq_out_of_scope(1) != corpus.generate_faq_out_of_scope(0)
    assert set(oos["kind"]) == set(O.TEMPLATES)
    sizes = oos.groupby(["split", "kind"]).size()
    for (split, _kind), n in sizes.items():
        assert n == O.SPLIT_SIZES[split]
    assert oos["text"].is_unique and oos["text"].str.strip().str.len().gt(0).all()
    assert len(data.load_faq_out_of_scope("validation")) == sum(
        O.SPLIT_SIZES["validation"] for _ in O.TEMPLATES
    )
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_faq_out_of_scope("dev")


def test_out_of_scope_splits_share_no_template():
    """Each kind's train, validation and test templates differ (not even after filling the
    slots), and every question comes from a template of its own split."""
    from coursekit import corpus_faq_out_of_scope as O

    for kind, by_split in O.TEMPLATES.items():
        assert set(by_split) == set(O.SPLIT_SIZES), kind
        skeletons = {
            split: {re.sub(r"\{\w+\}", "{}", t) for t in templates}
            for split, templates in by_split.items()
        }
        for a in skeletons:
            for b in skeletons:
                if a < b:
                    assert not skeletons[a] & skeletons[b], (kind, a, b)
    oos = data.load_faq_out_of_scope()
    for row in oos.itertuples():
        assert 0 <= row.template < len(O.TEMPLATES[row.kind][row.split]), row.text
    untouched = oos[oos["text"].str.lower().str.contains("waterproof")]
    assert set(untouched["split"]) == {"train"}  # a train-only template stays in train
    by_split = {s: set(oos.loc[oos["split"] == s, "text"]) for s in O.SPLIT_SIZES}
    assert not by_split["train"] & by_split["validation"]
    assert not by_split["validation"] & by_split["test"]


def test_out_of_scope_questions_borrow_no_in_scope_wording():
    """No run of 4 words of an out-of-scope question appears in an FAQ question or in any
    of its paraphrases (hand-written or generated)."""
    faq = data.load_faq()
    in_scope = (
        faq["question"].tolist()
        + data.load_faq_paraphrases()["text"].tolist()
        + data.load_faq_paraphrases("train")["text"].tolist()
    )
    oos = data.load_faq_out_of_scope()["text"].tolist()
    assert not set(map(str.lower, oos)) & set(map(str.lower, in_scope))
    assert not _ngrams(oos, 4) & _ngrams(in_scope, 4)


def test_campaigns():
    logs = data.load_campaigns()
    assert list(logs.columns) == data.CAMPAIGN_COLUMNS
    variants = logs.groupby("campaign_id")["variant"].nunique()
    assert len(variants) >= 4 and variants.between(2, 4).all()
    assert (
        logs["day"].max() == corpus.CAMPAIGN_DAYS and (logs["clicks"] <= logs["impressions"]).all()
    )
    agg = logs.groupby(["campaign_id", "variant"])[["clicks", "impressions", "true_ctr"]].agg(
        {"clicks": "sum", "impressions": "sum", "true_ctr": "first"}
    )
    observed = agg["clicks"] / agg["impressions"]
    assert ((observed - agg["true_ctr"]).abs() < 0.006).all()
    assert agg["true_ctr"].between(0.02, 0.06).all()
    # the variants split one randomised stream: no sample-ratio mismatch (scipy's χ²)
    for campaign, impressions in agg["impressions"].groupby(level=0):
        assert stats.chisquare(impressions.to_numpy()).pvalue > 0.01, campaign


# --------------------------------------------------------------------------- verification and errors


def test_verify_catches_a_missing_file(data_copy):
    (data_copy / "shop" / "faq.jsonl").unlink()
    problems = data.verify()
    assert (
        len(problems) == 1
        and "shop/faq.jsonl" in problems[0]
        and "coursekit data build" in problems[0]
    )
    with pytest.raises(data.DataError, match="coursekit data build"):
        data.load_faq()


def test_verify_catches_a_corrupted_file(data_copy):
    path = data_copy / "shop" / "reviews.jsonl"
    path.write_bytes(path.read_bytes()[:-200] + b"garbage\n")
    problems = data.verify()
    assert (
        len(problems) == 1
        and "shop/reviews.jsonl" in problems[0]
        and "git checkout data/" in problems[0]
    )
    with pytest.raises(data.DataError, match="checksum") as err:
        data.load_reviews()
    assert isinstance(err.value, FileNotFoundError) and "\n" not in str(err.value)


def test_verify_without_manifest(tmp_path):
    assert "coursekit data build" in data.verify(tmp_path)[0]


def test_loaders_return_copies(reviews):
    first = data.load_reviews()
    first.loc[0, "text"] = "changed"
    assert data.load_reviews().loc[0, "text"] == reviews.loc[0, "text"]


def test_split_argument_is_checked():
    assert set(data.load_reviews("test")["split"]) == {"test"}
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_reviews("dev")
    with pytest.raises(ValueError, match="split must be one of"):
        data.load_faq_paraphrases("dev")


def test_reviews_dataset_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    ds = data.load_reviews_dataset()
    assert set(ds) == set(data.SPLITS)
    assert ds["train"].features["label"].names == list(data.LABELS)
    assert sum(len(ds[s]) for s in ds) == len(data.load_reviews())
    test = data.load_reviews("test")
    assert ds["test"]["text"][:5] == test["text"].head(5).tolist()


def test_hub_source_fails_fast_offline(monkeypatch):
    from coursekit.env import OfflineError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(OfflineError, match="offline"):
        data.load_reviews_dataset(source="amazon_polarity")


# --------------------------------------------------------------------------- NLTK stopwords


def test_nltk_stopwords_work_offline_and_keep_negations():
    import nltk
    from nltk.corpus import stopwords

    assert data.register_nltk_data() in nltk.data.path
    words = stopwords.words("english")
    assert 150 <= len(words) <= 185 and len(set(words)) == len(words)
    for w in ("not", "no", "nor", "never", "don't", "isn't", "wasn't", "don", "t", "the", "and"):
        assert w in words, w
    assert not {"good", "bad", "great", "product"} & set(words)


def test_importing_coursekit_data_is_enough_for_nltk():
    import subprocess
    import sys

    code = "import coursekit.data; from nltk.corpus import stopwords; print('not' in stopwords.words('english'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


# --------------------------------------------------------------------------- CLI


def test_cli_verify_ok(capsys):
    assert cli(["data", "verify"]) == 0
    assert re.search(r"all \d+ files OK", capsys.readouterr().out)


def test_cli_verify_reports_problems(data_copy, capsys):
    (data_copy / "shop" / "campaigns.jsonl").write_text("{}\n", encoding="utf-8")
    assert cli(["data", "verify"]) == 1
    assert "shop/campaigns.jsonl" in capsys.readouterr().err


def test_cli_build(tmp_path, capsys):
    out = tmp_path / "built"
    assert cli(["data", "build", "--out", str(out), "--seed", "1", "--n-reviews", "200"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert data.verify(out) == []
    assert cli(["data", "verify", "--data-dir", str(out)]) == 0
    assert cli(["data", "build", "--out", str(out), "--n-reviews", "5"]) == 2


def test_vocabulary_is_consistent():
    assert set(R.CATEGORY_ASPECTS) == set(P.CATEGORIES)
    for aspects in R.CATEGORY_ASPECTS.values():
        assert set(aspects) <= set(R.ASPECTS)
    for aspect, by_polarity in R.CLAUSES.items():
        assert aspect in R.ASPECTS and set(by_polarity) == set(data.LABELS)
        for category in P.CATEGORIES:
            if aspect in R.CATEGORY_ASPECTS[category]:
                for polarity in data.LABELS:
                    assert corpus._templates(aspect, polarity, category), (
                        aspect,
                        polarity,
                        category,
                    )
    assert Path(corpus.__file__).parent.with_name("corpus_faq.py").exists()
