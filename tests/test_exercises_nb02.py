"""Notebook 02's build-it exercise 02.1: a byte-level BPE (merge, train, encode, decode).

The reference solution is the solution notebook's own cell, executed here; each plausible
mistake gets its own message; calling coursekit's BPE or a ``tokenizers`` trainer is
caught; a blank answer is "not attempted" with no hint; the hidden texts decide.
"""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

import nbformat
import pytest

from coursekit import learner, paths
from coursekit import tokenization as tk
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, nb02

NOTEBOOK = paths.notebooks_dir() / "02_tokenization.ipynb"


def _cell(marker: str) -> str:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code" and marker in c.source)


@pytest.fixture(scope="module")
def ns():
    """The notebook's byte table, ``pieces`` and solution ``ByteBPE``, run as in the notebook."""
    namespace = {"Counter": Counter, "pairwise": pairwise, "tk": tk}
    exec(_cell("BYTE_OF = {"), namespace)
    exec(_cell("class ByteBPE"), namespace)
    return namespace


def _status(verdict, status, fragment=""):
    assert verdict.status == status, verdict.line()
    assert fragment in verdict.message, verdict.line()
    if status == NOT_ATTEMPTED:
        assert verdict.line().endswith("not attempted yet."), verdict.line()


def _variant(
    ns,
    *,
    tie="rank",
    weighted=True,
    stop=2,
    small_ok=False,
    overlap=False,
    encode="order",
    shift=0,
    decode="joined",
):
    """The reference ``ByteBPE``, restated with one plausible mistake switched on."""
    BYTE_OF, pieces = ns["BYTE_OF"], ns["pieces"]

    class Variant:
        def __init__(self):
            self.vocab = sorted(BYTE_OF)
            self.rank = {t: i for i, t in enumerate(self.vocab)}
            self.merges = []

        @staticmethod
        def merge(symbols, pair):
            out, i = [], 0
            while i < len(symbols):
                if tuple(symbols[i : i + 2]) == pair:
                    out.append(symbols[i] + symbols[i + 1])
                    i += 1 if overlap else 2  # overlap: does not skip both
                else:
                    out.append(symbols[i])
                    i += 1
            return tuple(out)

        def train(self, texts, vocab_size):
            if vocab_size < 256 and not small_ok:
                raise ValueError("vocab_size below 256")
            words = Counter(tuple(p) for t in texts for p in pieces(t))
            while len(self.vocab) < vocab_size:
                counts = Counter()
                for symbols, n in words.items():
                    for pair in pairwise(symbols):
                        counts[pair] += n if weighted else 1
                if not counts:
                    break
                if tie == "first":
                    pair = max(counts, key=counts.get)
                elif tie == "string":
                    pair = min(counts, key=lambda p: (-counts[p], p))
                else:
                    pair = min(counts, key=lambda p: (-counts[p], self.rank[p[0]], self.rank[p[1]]))
                if counts[pair] < stop:
                    break
                self.merges.append(pair)
                self.rank[pair[0] + pair[1]] = len(self.vocab)
                self.vocab.append(pair[0] + pair[1])
                merged = Counter()
                for symbols, n in words.items():
                    merged[self.merge(symbols, pair)] += n
                words = merged
            return self

        def encode(self, text):
            ids = []
            for piece in pieces(text):
                symbols = tuple(piece)
                order = self.merges[::-1] if encode == "reverse" else self.merges
                for pair in order:
                    symbols = self.merge(symbols, pair)
                ids += [self.rank[s] + shift for s in symbols]
            return ids

        def decode(self, ids):
            if decode == "per_token":
                return "".join(
                    bytes(BYTE_OF[c] for c in self.vocab[i]).decode("utf-8", errors="replace")
                    for i in ids
                )
            if decode == "chars":
                return "".join(self.vocab[i] for i in ids)
            data = bytes(BYTE_OF[c] for i in ids for c in self.vocab[i - shift])
            return data.decode("utf-8", errors="strict" if decode == "strict" else "replace")

    return Variant


def test_02_1_the_notebook_solution_passes(ns):
    _status(nb02.byte_bpe.evaluate(ns["ByteBPE"]), PASSED, "merge for merge")
    _status(nb02.byte_bpe.evaluate(_variant(ns)), PASSED)  # the restated reference too


def test_02_1_the_fallback_of_later_cells_agrees_with_the_solution(ns):
    for _, texts, vocab_size in nb02.hidden_cases():
        mine = ns["ByteBPE"]().train(texts, vocab_size)
        ref = nb02.ReferenceBPE().train(texts, vocab_size)
        assert mine.merges == ref.merges and mine.vocab == ref.vocab
        for text in nb02.UNSEEN:
            assert mine.encode(text) == ref.encode(text)
            assert ref.decode(ref.encode(text)) == text


def test_02_1_blank_is_not_attempted_and_gets_no_hint(ns):
    blank_ns = dict(ns)
    exec(learner.strip_solutions(_cell("class ByteBPE")), blank_ns)
    _status(nb02.byte_bpe.evaluate(blank_ns["ByteBPE"]), NOT_ATTEMPTED)
    _status(nb02.byte_bpe.evaluate(None), NOT_ATTEMPTED)


def test_02_1_a_half_written_class_is_not_yet_and_names_the_missing_method(ns):
    class NoDecode(ns["ByteBPE"]):
        def decode(self, ids):
            raise NotImplementedError("replace this line with your solution")

    _status(nb02.byte_bpe.evaluate(NoDecode), NOT_YET, "`decode` still raises NotImplementedError")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"tie": "first"}, "the first pair you met"),
        ({"tie": "string"}, "compared them as strings"),
        ({"weighted": False}, "counting each distinct word once"),
        ({"stop": 1}, "stop when the best pair occurs fewer than 2 times"),
        ({"stop": 3}, "keep merging until the vocabulary has"),
        ({"small_ok": True}, "vocab_size=255) returned normally"),
        ({"overlap": True}, "skip both of its symbols"),
        ({"encode": "reverse"}, "in the order they were learned"),
        ({"shift": 1}, "off by 1"),
        ({"decode": "per_token"}, "you decoded each token on its own"),
        ({"decode": "chars"}, "map each character back to its byte"),
        ({"decode": "strict"}, 'errors="replace"'),
    ],
)
def test_02_1_each_plausible_mistake_gets_its_own_message(ns, options, fragment):
    _status(nb02.byte_bpe.evaluate(_variant(ns, **options)), NOT_YET, fragment)


def test_02_1_the_forbidden_names_are_exact_and_resolve():
    assert set(nb02.BPE_FORBID) >= {
        f"coursekit.tokenization.{n}"
        for n in ("train_bpe", "bpe_merges", "merge_pair", "merge_word", "best_pair", "bpe_encode")
    }
    assert {"tokenizers.ByteLevelBPETokenizer", "tokenizers.trainers.BpeTrainer"} <= {
        *nb02.BPE_FORBID,
        *nb02.TRAINER_FORBID,
    }
    import importlib

    for path in (*nb02.BPE_FORBID, *nb02.TRAINER_FORBID):
        module, _, name = path.rpartition(".")
        assert hasattr(importlib.import_module(module), name), path


def _uses(ns, train):
    class Uses(ns["ByteBPE"]):
        pass

    Uses.train = train
    return Uses


def test_02_1_calling_coursekit_or_a_tokenizers_trainer_is_caught(ns):
    def with_bpe_merges(self, texts, vocab_size):
        if vocab_size < 256:
            raise ValueError(vocab_size)
        self.merges = tk.bpe_merges(tk.byte_level_words(texts), vocab_size - 256)
        for a, b in self.merges:
            self.rank[a + b] = len(self.vocab)
            self.vocab.append(a + b)
        return self

    def with_train_bpe(self, texts, vocab_size):
        self.merges = tk.tokenizer_merges(tk.train_bpe(texts, vocab_size=vocab_size + 1))
        return self

    def with_trainer(self, texts, vocab_size):
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        )
        tok.train_from_iterator(texts, trainer=trainer)
        self.merges = tk.tokenizer_merges(tok)
        return self

    def with_byte_level(self, texts, vocab_size):
        from tokenizers import ByteLevelBPETokenizer

        tok = ByteLevelBPETokenizer()
        tok.train_from_iterator(texts, vocab_size=vocab_size, show_progress=False)
        self.merges = tk.tokenizer_merges(tok._tokenizer)
        return self

    for train, name in [
        (with_bpe_merges, "`bpe_merges`"),
        (with_train_bpe, "`train_bpe`"),
        (with_trainer, "`BpeTrainer`"),
        (with_byte_level, "`ByteLevelBPETokenizer`"),
    ]:
        _status(nb02.byte_bpe.evaluate(_uses(ns, train)), NOT_YET, f"calls {name}")

    class MergeWord(ns["ByteBPE"]):
        @staticmethod
        def merge(symbols, pair):
            return tk.merge_word(symbols, pair)

    _status(nb02.byte_bpe.evaluate(MergeWord), NOT_YET, "calls `merge_word`")

    class Subclass(nb02.ReferenceBPE):
        pass

    _status(nb02.byte_bpe.evaluate(Subclass), NOT_YET, "write your own")


def test_02_1_hidden_texts_matter(ns):
    """A class that learns the visible toy corpus' merges whatever it is given cannot pass."""
    toy = ns["ByteBPE"]().train(nb02.TOY_TEXT, 256 + 100)

    class Memorised(ns["ByteBPE"]):
        def train(self, texts, vocab_size):
            if vocab_size < 256:
                raise ValueError(vocab_size)
            self.merges, self.vocab, self.rank = list(toy.merges), list(toy.vocab), dict(toy.rank)
            return self

    verdict = nb02.byte_bpe.evaluate(Memorised)
    _status(verdict, NOT_YET, "hidden")


def test_02_1_hidden_texts_agree_with_tokenizers_and_hold_the_ties_they_promise(ns):
    cases = nb02.hidden_cases()
    assert not any(t in _cell("toy_text = [") for _, texts, _ in cases[1:] for t in texts)
    for _, texts, vocab_size in cases:
        ref = nb02.ReferenceBPE().train(texts, vocab_size)
        hf = tk.train_bpe(texts, vocab_size=vocab_size + 1)
        assert tk.tokenizer_merges(hf) == ref.merges
    # non-ASCII, an early stop by vocab size and an early stop for lack of pairs
    text = " ".join(t for _, texts, _ in cases for t in texts)
    assert "è" in text and "😍" in text
    sizes = [(len(nb02.ReferenceBPE().train(t, v).merges), v - 256) for _, t, v in cases]
    assert any(n == want for n, want in sizes) and any(n < want for n, want in sizes)
    # the crafted ties: each wrong tie rule leaves the reference on its own case
    for options, case in [({"tie": "first"}, 1), ({"tie": "string"}, 2)]:
        _, texts, vocab_size = cases[case]
        wrong = _variant(ns, **options)().train(texts, vocab_size).merges
        assert wrong != nb02.ReferenceBPE().train(texts, vocab_size).merges
    _, texts, vocab_size = cases[1]
    assert _variant(ns, tie="string")().train(texts, vocab_size).merges == (
        nb02.ReferenceBPE().train(texts, vocab_size).merges
    )


def test_02_1_hints_are_staged_and_the_first_has_no_code():
    hints = nb02.byte_bpe.hints
    assert len(hints) == 3
    assert "(" not in hints[0] and "=" not in hints[0]
