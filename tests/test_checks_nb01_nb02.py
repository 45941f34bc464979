"""Every exercise check of notebooks 01 and 02 passes on the solution and fails on mistakes."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from check_helpers import assert_verdict as _assert
from check_helpers import blank, crash

from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, nb01, nb02
from coursekit.text import english_stopwords, is_negation, remove_stopwords
from coursekit.tokenization import pad_batch

# ----------------------------------------------------------------- 01.1 stopword filter

STOP = english_stopwords()


def good_filter(tokens):
    return [
        t
        for t in tokens
        if t not in STOP or t in {"not", "no", "nor", "never"} or t.endswith("n't")
    ]


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_filter, PASSED, "passed"),
        (None, NOT_ATTEMPTED, "still None"),
        (blank, NOT_ATTEMPTED, "NotImplementedError"),
        (crash, NOT_YET, "raised KeyError"),
        ("not a function", NOT_YET, "should be a function"),
        (lambda toks: " ".join(toks), NOT_YET, "should be a list"),
        (lambda toks: [t for t in toks if t not in STOP], NOT_YET, "you removed ['not']"),
        (lambda toks: list(toks), NOT_YET, "are still there"),
        (lambda toks: sorted(good_filter(toks)), NOT_YET, "same order"),
    ],
)
def test_stopword_filter(answer, status, fragment):
    _assert(nb01.stopword_filter.evaluate(answer), status, fragment)


# ----------------------------------------------------------------- 01.2 PII scrubber

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
URL = re.compile(r"(https?://|www\.)\S+")
PHONE = re.compile(r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])?\d{3,4}[\s.-]\d{4}\b")


def good_scrub(text):
    return PHONE.sub("<phone>", URL.sub("<url>", EMAIL.sub("<email>", text)))


def greedy_digits(text):  # a plausible mistake: every number is a "phone"
    return re.sub(r"\d[\d\s().-]*\d", "<phone>", good_scrub(text))


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_scrub, PASSED, "passed"),
        (None, NOT_ATTEMPTED, "still None"),
        (blank, NOT_ATTEMPTED, "NotImplementedError"),
        (crash, NOT_YET, "raised KeyError"),
        (lambda t: None, NOT_YET, "should be a str"),
        (lambda t: EMAIL.sub("<email>", t), NOT_YET, "still visible"),
        (greedy_digits, NOT_YET, "should have been kept"),
    ],
)
def test_pii_scrubber(answer, status, fragment):
    _assert(nb01.pii_scrubber.evaluate(answer), status, fragment)


def test_reference_scrubber_is_not_an_answer():
    from coursekit.text import scrub_pii

    _assert(nb01.pii_scrubber.evaluate(scrub_pii), NOT_YET, "write your own")
    _assert(nb01.pii_scrubber.evaluate(lambda t: scrub_pii(t)), NOT_YET, "calls `scrub_pii`")


# ----------------------------------------------------------------- 01.4 tokens per label

FAKE = pd.DataFrame(
    {
        "review_id": ["r1", "r2", "r3", "r4", "r5"],
        "label": ["negative", "neutral", "positive", "positive", "negative"],
        "split": ["train", "train", "train", "train", "test"],
        "text": [
            "This is not good at all, the zipper broke!!!",
            "It is okay I guess. Fits as expected.",
            "Love it 😍 great fit, soft cotton",
            "Perfect!",
            "Terrible terrible terrible product, do not buy",
        ],
    }
)


@pytest.fixture
def fake_reviews(monkeypatch):
    import coursekit.data

    def load_reviews(split=None):
        return FAKE if split is None else FAKE[FAKE["split"] == split].reset_index(drop=True)

    monkeypatch.setattr(coursekit.data, "load_reviews", load_reviews)
    return FAKE


def _solution(df):
    from coursekit.text import clean

    train = df[df["split"] == "train"]
    lengths = train["text"].map(lambda t: len(clean(t, output="tokens")))
    return lengths.groupby(train["label"]).mean()


def test_tokens_per_label_passes_on_solution(fake_reviews):
    _assert(nb01.tokens_per_label.evaluate(_solution(fake_reviews)), PASSED)
    _assert(nb01.tokens_per_label.evaluate(_solution(fake_reviews).to_dict()), PASSED)


def test_tokens_per_label_mistakes(fake_reviews):
    train = fake_reviews[fake_reviews["split"] == "train"]
    _assert(nb01.tokens_per_label.evaluate(None), NOT_ATTEMPTED, "still None")
    _assert(nb01.tokens_per_label.evaluate([1, 2, 3]), NOT_YET, "should be a dict")
    _assert(nb01.tokens_per_label.evaluate({"positive": 1.0}), NOT_YET, "no entry")
    raw = train["text"].str.split().str.len().groupby(train["label"]).mean()
    _assert(nb01.tokens_per_label.evaluate(raw), NOT_YET, "raw whitespace")
    chars = train["text"].str.len().groupby(train["label"]).mean() * 10
    _assert(nb01.tokens_per_label.evaluate(chars), NOT_YET, "not characters")
    from coursekit.text import clean

    every = fake_reviews["text"].map(lambda t: len(clean(t, output="tokens")))
    _assert(
        nb01.tokens_per_label.evaluate(every.groupby(fake_reviews["label"]).mean()),
        NOT_YET,
        "every split",
    )
    off = _solution(fake_reviews) + 0.5
    _assert(nb01.tokens_per_label.evaluate(off), NOT_YET, "expected")


# 02.1 (the byte-level BPE build-it exercise) is tested in tests/test_exercises_nb02.py.


# ----------------------------------------------------------------- 02.2 padding and mask


def good_pad(seqs, pad_id, max_length=None):
    seqs = [s[:max_length] if max_length is not None else s for s in seqs]
    width = max(len(s) for s in seqs)
    return (
        [s + [pad_id] * (width - len(s)) for s in seqs],
        [[1] * len(s) + [0] * (width - len(s)) for s in seqs],
    )


def mask_by_id(seqs, pad_id, max_length=None):
    ids, _ = good_pad(seqs, pad_id, max_length)
    return ids, [[int(t != pad_id) for t in row] for row in ids]


def left_pad(seqs, pad_id, max_length=None):
    ids, mask = good_pad(seqs, pad_id, max_length)
    return [row[::-1] if pad_id in row else row for row in ids], mask


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_pad, PASSED, "passed"),
        (
            lambda s, p, m=None: tuple(np.array(x) for x in good_pad(s, p, m)),
            PASSED,
            "passed",
        ),
        (lambda s, p, m=None: pad_batch(s, p, m), NOT_YET, "calls `pad_batch`"),
        (pad_batch, NOT_YET, "`pad_batch` itself"),
        (None, NOT_ATTEMPTED, "still None"),
        (blank, NOT_ATTEMPTED, "NotImplementedError"),
        (crash, NOT_YET, "raised KeyError"),
        (lambda s, p, m=None: good_pad(s, p, m)[0], NOT_YET, "should be a tuple"),
        (mask_by_id, NOT_YET, "comparing ids with pad_id"),
        (
            lambda s, p, m=None: (
                good_pad(s, p, m)[0],
                [[1 - x for x in r] for r in good_pad(s, p, m)[1]],
            ),
            NOT_YET,
            "inverted",
        ),
        (lambda s, p, m=None: good_pad(s, p, None), NOT_YET, "expected input_ids"),
        (left_pad, NOT_YET, "on the left"),
    ],
)
def test_pad_and_mask(answer, status, fragment):
    _assert(nb02.pad_and_mask.evaluate(answer), status, fragment)


# ----------------------------------------------------------------- 02.3 covering tokens


def good_cover(offsets, start, end):
    return [i for i, (a, b) in enumerate(offsets) if b > a and a < end and b > start]


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_cover, PASSED, "passed"),
        (None, NOT_ATTEMPTED, "still None"),
        (blank, NOT_ATTEMPTED, "NotImplementedError"),
        (crash, NOT_YET, "raised KeyError"),
        (lambda o, s, e: 3, NOT_YET, "should be a list"),
        (
            lambda o, s, e: [i for i, (a, b) in enumerate(o) if a >= s and b <= e and b > a],
            NOT_YET,
            "expected token indices",
        ),
        (
            lambda o, s, e: [i for i, (a, b) in enumerate(o) if a <= e and b >= s],
            NOT_YET,
            "special token",
        ),
        (nb02.reference_covering_tokens, NOT_YET, "`reference_covering_tokens` itself"),
        (
            lambda o, s, e: nb02.reference_covering_tokens(o, s, e),
            NOT_YET,
            "calls `reference_covering_tokens`",
        ),
    ],
)
def test_covering_tokens(answer, status, fragment):
    _assert(nb02.covering_tokens.evaluate(answer), status, fragment)


def test_negation_helper_agrees_with_check_cases():
    # every negation in the check's cases is kept by the reference filter
    negations = {t for case in nb01.STOPWORD_CASES for t in case if is_negation(t)}
    assert negations == {"not", "don't", "no", "never", "wasn't", "nor"}
    for case in nb01.STOPWORD_CASES:
        kept = remove_stopwords(case)
        assert all(t in kept for t in case if is_negation(t))
