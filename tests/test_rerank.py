"""Tests for coursekit.retrieval.rerank: hard negatives, the cross-encoder's training and re-ranking."""

from __future__ import annotations

import numpy as np
import pytest

from coursekit import retrieval as rt
from coursekit.retrieval import rerank as rr


def _has_faq() -> bool:
    try:
        from coursekit.data import load_faq

        return len(load_faq()) > 0
    except Exception:
        return False


needs_faq = pytest.mark.skipif(not _has_faq(), reason="the shop corpus (data/shop) is not built")

#: a few shop questions and their entries (the FAQ's ids), for a tiny training run
QUESTIONS = [
    "where is my parcel right now",
    "i'd like my money back for the jumper",
    "the bank keeps refusing my card",
    "forgot the secret word to log in",
]
LABELS = ["F001", "F029", "F049", "F059"]


def test_hard_negatives_are_the_best_wrong_entries():
    scores = np.array([[0.9, 0.8, 0.1, 0.7], [0.2, 0.3, 0.9, 0.95]])
    got = rr.hard_negatives(scores, gold=[0, 3], n=2)
    assert got.tolist() == [[1, 3], [2, 1]]  # never the question's own entry
    with pytest.raises(ValueError, match="n must be 1..3"):
        rr.hard_negatives(scores, gold=[0, 3], n=4)
    with pytest.raises(ValueError, match="one gold entry per question"):
        rr.hard_negatives(scores, gold=[0], n=1)


def test_rerank_reorders_only_the_top_k(monkeypatch):
    """The cross-encoder's scores replace the top k; the rest keeps its order below them."""
    seen = {}

    def fake_scores(folder, questions, entries, **_):
        seen["pairs"] = list(zip(questions, entries, strict=True))
        return np.array([float(len(e)) for e in entries])  # longest entry wins

    monkeypatch.setattr(rr, "rerank_scores", fake_scores)
    entries = ["a", "bbb", "cc", "dddd"]
    first = np.array([[0.9, 0.8, 0.7, 0.1]])
    out = rr.rerank_top_k("unused", ["q"], first, entries, k=3)
    assert seen["pairs"] == [("q", "a"), ("q", "bbb"), ("q", "cc")]  # only the top 3 are read
    assert np.argsort(-out[0]).tolist() == [1, 2, 0, 3]  # re-ordered; entry 3 stays last
    with pytest.raises(ValueError, match="k must be 1..4"):
        rr.rerank_top_k("unused", ["q"], first, entries, k=5)
    with pytest.raises(ValueError, match="should be"):
        rr.rerank_top_k("unused", ["q", "r"], first, entries)


def test_rerank_scores_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="one entry per question"):
        rr.rerank_scores(tmp_path, ["a", "b"], ["x"])
    with pytest.raises(FileNotFoundError, match="load_cross_encoder"):
        rr.rerank_scores(tmp_path, ["a"], ["x"])
    assert rr.rerank_scores(tmp_path, [], []).shape == (0,)


@needs_faq
def test_train_cross_encoder_rejects_bad_labels(tmp_path):
    with pytest.raises(ValueError, match="unknown FAQ id 'F999'"):
        rr.train_cross_encoder(tmp_path, queries=["where is it"], labels=["F999"])
    with pytest.raises(ValueError, match="one FAQ id"):
        rr.train_cross_encoder(tmp_path, queries=["a", "b"], labels=["F001"])
    with pytest.raises(ValueError, match="trained_layers must be"):
        rr.train_cross_encoder(tmp_path, rr.CrossEncoderRecipe(trained_layers=9), QUESTIONS, LABELS)


@needs_faq
def test_a_tiny_cross_encoder_learns_its_training_pairs(tmp_path):
    """A few steps on four questions (top layer only): each question's own entry ends up
    scored above the bi-encoder's best wrong ones, and the folder reloads (safetensors)."""
    from coursekit.data import load_faq

    faq = load_faq()
    entries = rr.pair_texts(faq)
    row_of = {f: i for i, f in enumerate(faq["faq_id"])}
    recipe = rr.CrossEncoderRecipe(
        steps=24, batch_questions=2, negatives=3, trained_layers=1, lr=1e-3, max_length=48
    )
    folder = rr.train_cross_encoder(tmp_path / "ce", recipe, QUESTIONS, LABELS)
    assert (folder / "head.safetensors").exists() and (folder / "model.safetensors").exists()
    gold = [row_of[f] for f in LABELS]
    first = rt.embed(QUESTIONS) @ rt.embed(entries).T
    negatives = rr.hard_negatives(first, gold, 3)
    for i, (q, g, neg) in enumerate(zip(QUESTIONS, gold, negatives, strict=True)):
        rows = [g, *neg]
        s = rr.rerank_scores(folder, [q] * 4, [entries[e] for e in rows], priors=first[i, rows])
        assert s[0] > s[1:].max(), q
    reranked = rr.rerank_top_k(folder, QUESTIONS, first, entries, k=4)
    assert (reranked.argmax(axis=1) == np.array(gold)).all()
    # the same on one question's hits, as `coursekit ask --rerank` does
    hits = [
        rt.Hit(
            r,
            faq["faq_id"].iloc[e],
            faq["question"].iloc[e],
            0.5,
            {"question": faq["question"].iloc[e], "answer": faq["answer"].iloc[e]},
        )
        for r, e in enumerate((*negatives[0], gold[0]), start=1)
    ]
    again = rr.rerank_hits(folder, QUESTIONS[0], hits)
    assert again[0].id == LABELS[0] and [h.rank for h in again] == [1, 2, 3, 4]
    assert again[0].score >= again[1].score
    with pytest.raises(ValueError, match="no hits"):
        rr.rerank_hits(folder, QUESTIONS[0], [])


def test_search_variant_with_a_reranker_is_named_and_checked():
    assert rt.SearchVariant("base", "both", rerank="cross").name == (
        "base MiniLM on both + cross-encoder re-ranker"
    )
    with pytest.raises(ValueError, match="rerank must be one of"):
        rt.SearchVariant(rerank="bm25")


@needs_faq
def test_ask_with_rerank_uses_the_rerankers_order_and_rule(monkeypatch, capsys):
    """``coursekit ask --rerank``: the search's top 5 go through rerank_hits, the reply is
    decided by the re-ranker's rule (both stubbed: building them takes minutes)."""
    from coursekit import cli
    from coursekit.retrieval import rerank as module

    seen = {}

    def fake_hits(folder, question, hits):
        seen["k"] = len(hits)
        return [rt.Hit(r, h.id, h.text, 10.0 - r, h.payload) for r, h in enumerate(hits[::-1], 1)]

    monkeypatch.setattr(module, "load_cross_encoder", lambda: "unused")
    monkeypatch.setattr(module, "load_rerank_rule", lambda: rt.AbstainRule(5.0, 0.5))
    monkeypatch.setattr(rt, "load_cross_encoder", lambda: "unused")
    monkeypatch.setattr(rt, "load_rerank_rule", lambda: rt.AbstainRule(5.0, 0.5))
    monkeypatch.setattr(rt, "rerank_hits", fake_hits)
    assert cli.main(["ask", "--rerank", "where", "is", "my", "order?"]) == 0
    out = capsys.readouterr().out
    assert seen["k"] == rr.RERANK_TOP_K
    assert "re-ranker score 9.000" in out and "answer   :" in out
