"""coursekit.word2vec: SGNS pairs, loss and gradient, training, gensim, and the measures."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from coursekit import paths
from coursekit import word2vec as w2v

FIXTURES = paths.repo_root() / "tests" / "fixtures"


def test_words_and_sentences():
    assert w2v.words("Don't buy it! The set-up took 2 hours 😤") == [
        "don't", "buy", "it", "the", "set-up", "took", "hours",
    ]  # fmt: skip
    assert w2v.sentences(["Great!", "123", "ok then"]) == [["great"], ["ok", "then"]]
    with pytest.raises(TypeError, match="list of texts"):
        w2v.sentences("one text")


def test_skipgram_pairs_window_edges_and_errors():
    assert w2v.skipgram_pairs([1, 2, 3], 1) == [(1, 2), (2, 1), (2, 3), (3, 2)]
    assert w2v.skipgram_pairs([1, 2], 5) == [(1, 2), (2, 1)]  # window longer than the sentence
    assert w2v.skipgram_pairs([4], 2) == []
    assert w2v.skipgram_pairs([7, 7], 1) == [(7, 7), (7, 7)]  # same word, other position
    assert len(w2v.skipgram_pairs(list(range(10)), 2)) == 2 * (2 * 10 - 3)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="window"):
            w2v.skipgram_pairs([1, 2, 3], bad)


def _batch(batch=6, k=4, dim=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(*shape, generator=g) for shape in ((batch, dim), (batch, dim), (batch, k, dim))
    ]


def test_sgns_loss_matches_the_formula_and_k_zero():
    c, o, n = _batch()
    by_hand = np.mean(
        [
            -np.log(1 / (1 + np.exp(-(c[i] @ o[i]).item())))
            - sum(np.log(1 / (1 + np.exp((c[i] @ n[i, j]).item()))) for j in range(n.shape[1]))
            for i in range(len(c))
        ]
    )
    assert float(w2v.sgns_loss(c, o, n)) == pytest.approx(by_hand, rel=1e-5)
    no_neg = w2v.sgns_loss(c, o, n[:, :0])
    assert float(no_neg) == pytest.approx(
        float(-torch.nn.functional.logsigmoid((c * o).sum(-1)).mean())
    )
    with pytest.raises(ValueError, match="batch, dim"):
        w2v.sgns_loss(c[0], o, n)
    with pytest.raises(ValueError, match="batch, k, dim"):
        w2v.sgns_loss(c, o, n[:2])


@pytest.mark.parametrize("k", [0, 1, 5])
def test_sgns_grad_matches_autograd(k):
    leaves = [t.double().requires_grad_(True) for t in _batch(k=k, seed=k)]
    autograd = torch.autograd.grad(w2v.sgns_loss(*leaves), leaves)
    written = w2v.sgns_grad(*(t.detach() for t in leaves))
    for a, b in zip(autograd, written, strict=True):
        torch.testing.assert_close(a, b)


def test_noise_distribution_is_three_quarter_power():
    p = w2v.noise_distribution([16, 1, 0])
    assert p.tolist() == pytest.approx([8 / 9, 1 / 9, 0.0])
    with pytest.raises(ValueError, match="counts"):
        w2v.noise_distribution([])
    with pytest.raises(ValueError, match="counts"):
        w2v.noise_distribution([0, 0])


def test_vocabulary_and_errors():
    vocab = w2v.build_vocabulary([["a", "b", "a"], ["c", "a", "b"]], min_count=2)
    assert vocab.words == ["a", "b"] and vocab.counts == [3, 2]
    assert vocab.encode(["c", "b", "a"]) == [1, 0]
    with pytest.raises(ValueError, match="corpus is empty"):
        w2v.build_vocabulary([])
    with pytest.raises(ValueError, match="lower min_count"):
        w2v.build_vocabulary([["a"]], min_count=2)


def _toy_corpus(n=300, seed=0):
    """Two topics that never share a sentence: kitchen words and pet words."""
    rng = np.random.default_rng(seed)
    kitchen = ["kettle", "blender", "mug", "pan", "knife", "toaster"]
    pets = ["dog", "cat", "leash", "litter", "treats", "collar"]
    return [list(rng.choice(kitchen if i % 2 else pets, size=6)) for i in range(n)]


def _same_topic_gap(vectors):
    kitchen = ["kettle", "blender", "mug", "pan", "knife", "toaster"]
    pets = ["dog", "cat", "leash", "litter", "treats", "collar"]
    same = np.mean(
        [vectors.similarity(a, b) for g in (kitchen, pets) for a in g for b in g if a < b]
    )
    cross = np.mean([vectors.similarity(a, b) for a in kitchen for b in pets])
    return same, cross


def test_train_skipgram_puts_shared_contexts_closer_than_random():
    vectors = w2v.train_skipgram(
        _toy_corpus(), dim=16, window=2, k=3, min_count=1, epochs=3, lr=0.05
    )
    same, cross = _same_topic_gap(vectors)
    assert same > cross + 0.3, (same, cross)
    top = [w for w, _ in vectors.most_similar("kettle", topn=3)]
    assert set(top) <= {"blender", "mug", "pan", "knife", "toaster"}


def test_train_skipgram_uses_the_given_pieces_and_is_repeatable():
    calls = []

    def pairs_fn(ids, window):
        calls.append(window)
        return w2v.skipgram_pairs(ids, window)

    a = w2v.train_skipgram(_toy_corpus(40), dim=4, min_count=1, epochs=1, pairs_fn=pairs_fn)
    b = w2v.train_skipgram(_toy_corpus(40), dim=4, min_count=1, epochs=1)
    assert calls and set(calls) == {2}
    np.testing.assert_array_equal(a.vectors, b.vectors)
    with pytest.raises(ValueError, match="no \\(center, context\\) pairs"):
        w2v.train_skipgram([["a"], ["b"]], min_count=1)


def test_gensim_word2vec_learns_topics_and_is_repeatable():
    wv = w2v.word2vec(_toy_corpus(), dim=16, window=2, min_count=1, epochs=50)
    same, cross = _same_topic_gap(wv)
    assert same > cross + 0.3, (same, cross)
    again = w2v.word2vec(_toy_corpus(), dim=16, window=2, min_count=1, epochs=50)
    np.testing.assert_array_equal(wv.vectors, again.vectors)
    with pytest.raises(ValueError, match="corpus is empty"):
        w2v.word2vec([])
    with pytest.raises(ValueError, match="window"):
        w2v.word2vec([["a", "b"]], window=0)


def test_word_categories_and_neighbour_rate():
    texts = ["kettle mug great", "kettle pan great", "dog cat great", "dog leash great"] * 5
    cats = ["home", "home", "pets", "pets"] * 5
    found = w2v.word_categories(texts, cats, min_count=5)
    assert found == {"kettle": "home", "mug": "home", "pan": "home", "dog": "pets", "cat": "pets",
                     "leash": "pets"}  # fmt: skip
    # vectors that separate the two categories perfectly, then ones that mix them
    words = sorted(found)
    clean = w2v.WordVectors(words, np.array([[1.0, 0.1 * i] if found[w] == "home" else [0.1 * i, 1.0]
                                             for i, w in enumerate(words)]))  # fmt: skip
    rate, baseline = w2v.category_neighbour_rate(clean, found, topn=2)
    assert rate == 1.0 and baseline == pytest.approx(6 / 15 * 0 + 2 / 5)
    rng = np.random.default_rng(0)
    noisy = w2v.WordVectors(words, rng.normal(size=(6, 2)))
    assert w2v.category_neighbour_rate(noisy, found, topn=2)[0] < 1.0
    with pytest.raises(ValueError, match="category words"):
        w2v.category_neighbour_rate(clean, found, topn=6)
    with pytest.raises(ValueError, match="categories"):
        w2v.word_categories(["a"], [])


def test_analogy_accuracy():
    words = ["man", "woman", "king", "queen", "apple"]
    vecs = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [5, -3, 2]], dtype=float)
    wv = w2v.WordVectors(words, vecs)
    acc, answers = w2v.analogy_accuracy(
        wv, [("man", "woman", "king", "queen"), ("a", "b", "c", "d")]
    )
    assert acc == 1.0 and answers == ["queen", ""]
    with pytest.raises(ValueError, match="four words"):
        w2v.analogy_accuracy(wv, [("man", "woman", "king")])
    with pytest.raises(ValueError, match="no analogy"):
        w2v.analogy_accuracy(wv, [("a", "b", "c", "d")])


def test_sense_accuracy_static_vectors_score_zero_and_clusters_score_one():
    senses = ["a"] * 4 + ["b"] * 4
    static = np.ones((8, 3))
    assert not w2v.sense_accuracy(static, senses).any()
    clusters = np.array([[1, 0.1 * i] for i in range(4)] + [[0.1 * i, 1] for i in range(4)])
    assert w2v.sense_accuracy(clusters, senses).all()
    same, cross = w2v.sense_gap(clusters, senses)
    assert same > cross
    with pytest.raises(ValueError, match="two senses"):
        w2v.sense_accuracy(static, ["a"] * 8)
    with pytest.raises(ValueError, match="at least 2"):
        w2v.sense_accuracy(static[:5], ["a"] * 4 + ["b"])


def test_handwritten_fixtures_are_well_formed():
    rows = w2v.load_jsonl(FIXTURES / "word_senses.jsonl")
    assert len(rows) >= 48 and {r["word"] for r in rows} >= {"light", "charge", "case", "fit"}
    for row in rows:
        assert w2v.re.search(rf"(?i)\b{row['word']}\b", row["text"]), row
    for word in {r["word"] for r in rows}:
        senses = [r["sense"] for r in rows if r["word"] == word]
        assert len(set(senses)) == 2 and min(senses.count(s) for s in set(senses)) >= 6
    analogies = w2v.load_jsonl(FIXTURES / "shop_analogies.jsonl")
    assert len(analogies) >= 12 and all(set(r) >= {"a", "b", "c", "d"} for r in analogies)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        w2v.load_jsonl(FIXTURES / "nope.jsonl")


def test_contextual_vectors_separate_two_senses_of_light():
    rows = [r for r in w2v.load_jsonl(FIXTURES / "word_senses.jsonl") if r["word"] == "light"]
    vecs = w2v.contextual_vectors([r["text"] for r in rows], [r["word"] for r in rows])
    assert vecs.shape == (len(rows), 384)
    correct = w2v.sense_accuracy(vecs, [r["sense"] for r in rows])
    assert correct.mean() >= 0.75
    with pytest.raises(ValueError, match="does not occur"):
        w2v.contextual_vectors(["a lamp"], ["light"])
