"""Checks on ``fixtures/handwritten_questions.jsonl``, a hand-written evaluation set for FAQ search.

The fixture holds customer questions written by a person, the way people really write to a
shop: a story first, typos, vague words and few of the FAQ's own keywords. Each line is
``{"id", "faq_id", "text"}``; ``faq_id`` names the one FAQ entry that answers the question, or
is ``null`` for a question the FAQ does not answer (product advice, chit-chat, job requests,
near-miss topics, gibberish, prompt injection).

It is an **out-of-distribution** set for answer search: it is never used for training,
threshold fitting or choosing settings, only to report how a finished search copes with
questions unlike the generated paraphrases. These tests are pure data checks (no models), so
they run in well under a second.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from coursekit import data
from coursekit.text import english_stopwords

FIXTURE = Path(__file__).parent / "fixtures" / "handwritten_questions.jsonl"
KEYS = {"id", "faq_id", "text"}

MIN_IN_SCOPE = 90
MIN_OUT_OF_SCOPE = 55
MIN_DISTINCT_FAQ_IDS = 60


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def faq():
    return data.load_faq()


def in_scope(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["faq_id"] is not None]


def normalise(text: str) -> str:
    """Lower case, punctuation dropped, whitespace squeezed: 'Where's it?' == 'wheres it'."""
    text = re.sub(r"[^\w\s]", "", text.lower().replace("\u2019", "'"))
    return " ".join(text.split())


def content_words(text: str) -> set[str]:
    """Lower-cased words minus the course's (NLTK English) stopwords."""
    words = re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("\u2019", "'"))
    stop = english_stopwords()
    return {w for w in words if w not in stop}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def mean_overlap(pairs: list[tuple[str, str]], faq) -> float:
    """Mean Jaccard overlap between each text and the question of its FAQ entry."""
    question = dict(zip(faq["faq_id"], faq["question"], strict=True))
    scores = [jaccard(content_words(text), content_words(question[fid])) for fid, text in pairs]
    return sum(scores) / len(scores)


def test_every_line_is_json_with_exactly_the_expected_keys():
    for n, line in enumerate(FIXTURE.read_text(encoding="utf-8").splitlines(), start=1):
        row = json.loads(line)  # a bad line fails here, with its number in the traceback
        assert isinstance(row, dict) and set(row) == KEYS, f"line {n}: {row}"
        assert re.fullmatch(r"q\d{3}", row["id"]), f"line {n}: bad id {row['id']!r}"
        assert row["faq_id"] is None or isinstance(row["faq_id"], str), f"line {n}"
        assert isinstance(row["text"], str) and row["text"].strip(), f"line {n}: empty text"


def test_ids_and_texts_are_unique(rows):
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate ids"
    texts = [normalise(r["text"]) for r in rows]
    dupes = sorted({t for t in texts if texts.count(t) > 1})
    assert not dupes, f"duplicate texts: {dupes}"


def test_faq_ids_exist(rows, faq):
    unknown = {r["faq_id"] for r in in_scope(rows)} - set(faq["faq_id"])
    assert not unknown, f"faq_ids not in the FAQ: {sorted(unknown)}"


def test_counts_and_coverage(rows, faq):
    answered = in_scope(rows)
    assert len(answered) >= MIN_IN_SCOPE
    assert len(rows) - len(answered) >= MIN_OUT_OF_SCOPE
    covered = {r["faq_id"] for r in answered}
    assert len(covered) >= MIN_DISTINCT_FAQ_IDS
    topic = dict(zip(faq["faq_id"], faq["topic"], strict=True))
    missing = set(faq["topic"]) - {topic[fid] for fid in covered}
    assert not missing, f"FAQ topics without a question: {sorted(missing)}"


def test_in_scope_questions_vary_in_length(rows):
    lengths = [len(r["text"].split()) for r in in_scope(rows)]
    assert min(lengths) >= 4 and max(lengths) <= 40
    assert any(n <= 6 for n in lengths) and any(n >= 30 for n in lengths)


def test_no_text_copies_a_faq_question_or_a_generated_paraphrase(rows, faq):
    seen = {normalise(q) for q in faq["question"]}
    seen |= {normalise(t) for t in data.load_faq_paraphrases()["text"]}  # every split
    copied = [r["id"] for r in rows if normalise(r["text"]) in seen]
    assert not copied, f"texts equal to a FAQ question or a paraphrase: {copied}"


def test_questions_share_fewer_words_with_the_faq_than_generated_paraphrases(rows, faq):
    ours = mean_overlap([(r["faq_id"], r["text"]) for r in in_scope(rows)], faq)
    generated = data.load_faq_paraphrases("test")
    theirs = mean_overlap(list(zip(generated["faq_id"], generated["text"], strict=True)), faq)
    print(
        f"mean word overlap with the FAQ question: handwritten {ours:.3f}, generated {theirs:.3f}"
    )
    assert ours < theirs
