"""Tests for coursekit.tokenization: BPE by hand == tokenizers, the shop BPE contract."""

from __future__ import annotations

import random

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from coursekit import tokenization as tk

TOY = [
    "low low low low low lower lower newest newest newest newest newest newest widest widest widest",
    "aaaa aaa aa banana bandana ananas",
]


def _hf_merges(texts: list[str], vocab_size: int = 2000, min_frequency: int = 2) -> list:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[tk.END_OF_TEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tk.tokenizer_merges(tok)


@pytest.fixture(scope="module")
def small_bpe():
    rng = random.Random(0)
    words = ["".join(rng.choice("abcdeé") for _ in range(rng.randint(1, 7))) for _ in range(200)]
    texts = [" ".join(rng.choices(words, k=30)) + " 😀 $19.99" for _ in range(60)]
    return tk.train_bpe(texts, vocab_size=400), texts


# ----------------------------------------------------------------- BPE by hand


def test_split_and_pair_counts():
    words = tk.split_words({"low": 5, "lower": 2})
    assert words == {("l", "o", "w"): 5, ("l", "o", "w", "e", "r"): 2}
    counts = tk.pair_counts(words)
    assert counts[("l", "o")] == 7 and counts[("w", "e")] == 2 and counts[("e", "r")] == 2


def test_merge_word_is_left_to_right_without_overlap():
    assert tk.merge_word(("a", "a", "a"), ("a", "a")) == ("aa", "a")
    assert tk.merge_word(("a", "a", "a", "a"), ("a", "a")) == ("aa", "aa")
    assert tk.merge_word(("x",), ("a", "a")) == ("x",)


def test_best_pair_tie_break_uses_vocabulary_rank():
    counts = {("b", "c"): 3, ("a", "b"): 3, ("c", "d"): 1}
    rank = {"a": 0, "b": 1, "c": 2, "d": 3}
    assert tk.best_pair(counts, rank) == (("a", "b"), 3)
    assert tk.best_pair({}, rank) is None


def test_hand_bpe_matches_tokenizers_on_toy_corpus():
    hand = tk.bpe_merges(tk.byte_level_words(TOY), num_merges=1000)
    assert hand == _hf_merges(TOY)
    assert hand[:2] == [("e", "s"), ("es", "t")]


def test_hand_bpe_matches_tokenizers_on_random_corpus_with_ties():
    rng = random.Random(1)
    words = ["".join(rng.choice("abcde") for _ in range(rng.randint(1, 8))) for _ in range(150)]
    texts = [" ".join(rng.choices(words, k=40)) for _ in range(30)]
    hand = tk.bpe_merges(tk.byte_level_words(texts), num_merges=10_000)
    assert len(hand) > 100
    assert hand == _hf_merges(texts, vocab_size=10_000)


def test_bpe_merges_limits_and_errors():
    assert tk.bpe_merges({"ab": 5}, num_merges=0) == []
    assert tk.bpe_merges({"ab": 1}, num_merges=5) == []  # below min_frequency
    assert tk.bpe_merges({"ab": 1}, num_merges=5, min_frequency=1) == [("a", "b")]
    with pytest.raises(ValueError):
        tk.bpe_merges({"ab": 5}, num_merges=-1)
    with pytest.raises(TypeError):
        tk.split_words("low lower")
    assert tk.bpe_merges({}, num_merges=3) == []


def test_bpe_encode_applies_merges_in_order():
    merges = tk.bpe_merges({"lowest": 3, "low": 5}, num_merges=10)
    assert tk.bpe_encode("low", merges) == ["low"]
    assert "".join(tk.bpe_encode("lower", merges)) == "lower"
    assert tk.bpe_encode("", merges) == []
    with pytest.raises(TypeError):
        tk.bpe_encode(None, merges)


def test_byte_level_words_marks_spaces():
    counts = tk.byte_level_words(["low lower", "low"])
    assert counts == {"low": 2, "Ġlower": 1}
    assert tk.byte_level_words([""]) == {}
    with pytest.raises(TypeError):
        tk.byte_level_words([3])


# ----------------------------------------------------------------- train_bpe contract


def test_train_bpe_gpt2_conventions(small_bpe):
    tok, _ = small_bpe
    assert tok.bos_token == tok.eos_token == tok.pad_token == tk.END_OF_TEXT
    assert tok.padding_side == "right"
    assert tok.convert_tokens_to_ids(tk.END_OF_TEXT) == 0
    assert len(tok) <= 400
    assert tok.backend_tokenizer.pre_tokenizer.__class__.__name__ == "ByteLevel"


def test_train_bpe_round_trips_anything(small_bpe):
    tok, _ = small_bpe
    for text in ["abc dé", "🛍️ never seen ЖЖЖ 中文", "", "  two  spaces ", "x" * 5000]:
        ids = tok(text)["input_ids"]
        assert tok.unk_token_id not in ids or text == ""  # byte-level: nothing is unknown
        assert tok.decode(ids) == text


def test_train_bpe_padding_mask_offsets(small_bpe):
    tok, _ = small_bpe
    enc = tok(["abc de", "a"], padding=True, return_offsets_mapping=True)
    n = len(enc["input_ids"][0])
    assert enc["attention_mask"][1] == [1] + [0] * (n - 1)
    assert enc["input_ids"][1][1:] == [tok.pad_token_id] * (n - 1)
    spans = ["abc de"[a:b] for a, b in enc["offset_mapping"][0]]
    assert "".join(spans) == "abcde"  # trimmed offsets: no leading spaces
    enc = tok(["abc de " * 50], truncation=True, max_length=8)
    assert len(enc["input_ids"][0]) == 8


def test_train_bpe_is_deterministic(small_bpe):
    tok, texts = small_bpe
    again = tk.train_bpe(texts, vocab_size=400)
    assert again.get_vocab() == tok.get_vocab()
    assert tk.tokenizer_merges(again) == tk.tokenizer_merges(tok)


def test_train_bpe_bad_input():
    with pytest.raises(TypeError):
        tk.train_bpe("just one string")
    with pytest.raises(TypeError):
        tk.train_bpe(["ok", None])
    with pytest.raises(ValueError):
        tk.train_bpe(["ok"], vocab_size=100)


def test_load_shop_bpe_builds_once_and_reloads(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path))
    texts = ["great fit, soft cotton tee", "not good: the zipper broke", "runs small, size up"] * 20
    calls = []

    def fake_corpus():
        calls.append(1)
        return texts

    monkeypatch.setattr(tk, "shop_corpus_texts", fake_corpus)
    first = tk.load_shop_bpe(vocab_size=300)
    folders = [p for p in tmp_path.iterdir() if p.name.startswith("shop-bpe-300-v")]
    assert len(folders) == 1 and (folders[0] / "tokenizer.json").exists()
    mtime = (folders[0] / "tokenizer.json").stat().st_mtime_ns
    second = tk.load_shop_bpe(vocab_size=300)
    assert (folders[0] / "tokenizer.json").stat().st_mtime_ns == mtime  # loaded, not rebuilt
    assert second.get_vocab() == first.get_vocab()
    assert second.pad_token == tk.END_OF_TEXT and second.padding_side == "right"
    text = "not good: the zipper broke"
    assert second(text)["input_ids"] == first(text)["input_ids"]


# ----------------------------------------------------------------- helpers


def test_pad_batch_masks_by_length_not_by_id():
    ids, mask = tk.pad_batch([[5, 0], [7]], pad_id=0)  # a real id equal to the pad id
    assert ids == [[5, 0], [7, 0]]
    assert mask == [[1, 1], [1, 0]]
    ids, mask = tk.pad_batch([[1, 2, 3], [4]], pad_id=9, max_length=2)
    assert ids == [[1, 2], [4, 9]] and mask == [[1, 1], [1, 0]]
    assert tk.pad_batch([], pad_id=0) == ([], [])
    with pytest.raises(ValueError):
        tk.pad_batch([[1]], pad_id=0, max_length=-1)


def test_highlight():
    assert tk.highlight("Great fit", [(0, 0), (0, 5), (6, 9)]) == "[Great]|[fit]"
    with pytest.raises(TypeError):
        tk.highlight(None, [])
