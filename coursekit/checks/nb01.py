"""Checks for notebook 01 (text cleaning): stopword filter, PII scrubber, tokens per label."""

from __future__ import annotations

import math
from typing import Any

from coursekit.checks import (
    CheckFailed,
    call,
    exercise,
    expect,
    expect_number_map,
    expect_type,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    require_attempted,
)

#: (review text, strings that must be gone, strings that must stay) for exercise 01.2
PII_CASES: list[tuple[str, list[str], list[str]]] = [
    (
        "Email me at anna.lee@example.com for photos",
        ["anna.lee", "example.com"],
        ["<email>", "photos"],
    ),
    (
        "I wrote to maria.doe@mail.example.com and got no answer",
        ["maria.doe", "mail.example"],
        ["<email>", "answer"],
    ),
    (
        "More photos at https://www.example.com/review/29159",
        ["example.com", "29159"],
        ["<url>", "photos"],
    ),
    ("More pics at www.instapics.com/anna", ["instapics"], ["<url>"]),
    ("Call me on 555-0121 if you have questions", ["0121"], ["<phone>", "questions"]),
    ("Their support line (555.0163) was useful", ["0163"], ["<phone>", "useful"]),
    ("Text (555) 0129-7937 if you want mine", ["0129", "7937"], ["<phone>", "mine"]),
    ("Ring +1 555 201 7788 anytime", ["201", "7788"], ["<phone>"]),
    (
        "Paid $49.99 for size 10.5, model KX-2200, 250 ml",
        [],
        ["$49.99", "10.5", "KX-2200", "250 ml"],
    ),
]

#: token lists for exercise 01.1 (already lowercased and tokenized)
STOPWORD_CASES: list[list[str]] = [
    ["this", "is", "not", "good"],
    ["i", "don't", "like", "the", "color"],
    ["no", "zipper", "and", "never", "again"],
    ["it", "wasn't", "what", "i", "expected", "nor", "was", "the", "size"],
    ["great", "fit", "!"],
    [],
]


@exercise(
    "01.1",
    "negation-safe stopword filter",
    hint=(
        "A stopword list removes 'not' too, which flips a review's meaning: which tokens must survive the filter?",
        "Drop a token if it is a stopword, unless it is a negation (not, no, nor, never, or a word ending in n't). Membership tests are fast in a set.",
    ),
)
def stopword_filter(remove_stopwords: Any) -> None:
    from coursekit.text import english_stopwords
    from coursekit.text import remove_stopwords as reference

    stop = english_stopwords()
    for tokens in STOPWORD_CASES:
        got = call(remove_stopwords, list(tokens), name="remove_stopwords")
        expect_type(got, list, f"remove_stopwords({tokens})")
        want = reference(tokens, keep_negations=True)
        if got == want:
            continue
        lost = [t for t in want if t not in got]
        kept = [t for t in got if t in stop and t not in want]
        if lost:
            raise CheckFailed(
                f"for {tokens} you removed {lost}: negations must survive ('not good' != 'good')"
            )
        if kept:
            raise CheckFailed(f"for {tokens} the stopwords {kept} are still there")
        raise CheckFailed(f"for {tokens} expected {want} (same order), got {got}")


@exercise(
    "01.2",
    "PII scrubber",
    hint=(
        "Replace e-mail addresses before URLs (an address contains a domain), and make the phone pattern strict enough to leave prices, sizes and model numbers alone.",
        "A phone number here is groups of digits joined by a separator (space, dot or dash) that ends in a group of 4 digits, with an optional +country code and area code in front. Substitute <email>, <url> and <phone>.",
    ),
)
def pii_scrubber(scrub: Any) -> None:
    for text, gone, kept in PII_CASES:
        got = call(scrub, text, name="scrub")
        expect_type(got, str, f"scrub({text!r})")
        leaked = [g for g in gone if g in got]
        expect(not leaked, f"scrub({text!r}) returned {got!r}: {leaked} still visible")
        lost = [k for k in kept if k not in got]
        expect(not lost, f"scrub({text!r}) returned {got!r}: {lost} should have been kept")


def expected_tokens_per_label(split: str | None = "train", cleaner: Any = None) -> dict[str, float]:
    """Mean number of tokens per review, per label, after ``cleaner`` (default: coursekit's clean)."""
    from coursekit.data import load_reviews
    from coursekit.text import make_cleaner

    fn = cleaner or make_cleaner(output="tokens")
    reviews = load_reviews(split)
    lengths = reviews["text"].map(lambda t: len(fn(t)))
    return {str(k): float(v) for k, v in lengths.groupby(reviews["label"]).mean().items()}


@exercise(
    "01.3",
    "mean cleaned tokens per review, per label",
    hint=(
        "Clean each training review into tokens, count them, then average the counts per label.",
        "text.clean(..., output='tokens') returns the token list; map its length over the text column and group the lengths by the label column.",
    ),
)
def tokens_per_label(value: Any) -> None:
    from coursekit.data import LABELS

    got = expect_number_map(require_attempted(value, "tokens_per_label"), "tokens_per_label")
    missing = [label for label in LABELS if label not in got]
    expect(
        not missing, f"`tokens_per_label` has no entry for {missing}; use the labels {list(LABELS)}"
    )
    want = expected_tokens_per_label("train")

    def close(a: dict[str, float], b: dict[str, float]) -> bool:
        return all(math.isclose(a[k], b[k], rel_tol=1e-6, abs_tol=1e-6) for k in LABELS)

    if close(got, want):
        return
    if all(got[k] > 20 * want[k] for k in LABELS):
        raise CheckFailed(
            "these numbers are far too large: count tokens (len of the token list), not characters"
        )
    raw = expected_tokens_per_label("train", cleaner=str.split)
    if close(got, raw):
        raise CheckFailed("these are raw whitespace word counts; clean the reviews first")
    if close(got, expected_tokens_per_label(None)):
        raise CheckFailed("these use every split; use only the training split")
    worst = max(LABELS, key=lambda k: abs(got[k] - want[k]))
    raise CheckFailed(
        f"for {worst!r} you have {got[worst]:.3f} tokens per review, expected {want[worst]:.3f}"
    )
