"""Checks for notebook 02 (tokenization): a byte-level BPE, padding + mask, offsets, skip-gram.

02.1 is the build-it exercise: the learner's ``ByteBPE`` class (``merge``, ``train``,
``encode``, ``decode``) must learn the same merges, in the same order, as the course's
reference (:func:`coursekit.tokenization.bpe_merges`, ties included) and as Hugging Face
``tokenizers``' ``BpeTrainer`` (through :func:`coursekit.tokenization.train_bpe`, trained on
the same texts with the same vocabulary size plus its one special token), encode to the same
ids as that tokenizer (shifted by one: its id 0 is ``<|endoftext|>``), and decode every id
sequence back to the exact text. Later cells use the learner's class through
:func:`own_or_reference`, with :class:`ReferenceBPE` as the fallback.

02.4 and 02.5 are the two pieces of skip-gram with negative sampling (section 7): the
(center, context) pairs of a sentence and the loss of a batch. The notebook then trains word
vectors with the learner's own pieces (:func:`coursekit.word2vec.train_skipgram`'s
``pairs_fn`` and ``loss_fn``), falling back to coursekit's while a check has not passed.
"""

from __future__ import annotations

import contextlib
import functools
import math
import random
import sys
import types
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

from coursekit import tokenization as tk
from coursekit.checks import (
    CheckFailed,
    NotAttempted,
    UsedReference,
    call,
    call_own,
    exercise,
    expect,
    expect_type,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    own_or_reference,  # noqa: F401 (later cells use the learner's piece once it passes)
)

# --------------------------------------------------------------------------- byte-level BPE

#: GPT-2's table from printable characters to bytes: a printable byte stands for itself, the
#: 68 others (space, newline, control bytes...) are written with the characters after "ÿ".
_PRINTABLE = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
_PRINTABLE += range(ord("®"), ord("ÿ") + 1)
BYTE_OF = {chr(b): b for b in _PRINTABLE} | {
    chr(256 + i): b for i, b in enumerate(b for b in range(256) if b not in _PRINTABLE)
}


def _pieces(text: str) -> list[str]:
    """GPT-2's pre-tokenizer: the words of ``text`` with their leading space, in byte characters."""
    from tokenizers.pre_tokenizers import ByteLevel

    return [piece for piece, _ in ByteLevel(add_prefix_space=False).pre_tokenize_str(text)]


class ReferenceBPE:
    """coursekit's byte-level BPE behind the interface of exercise 02.1.

    ``train`` is :func:`~coursekit.tokenization.bpe_merges` on the byte-level words (the
    same merges as ``tokenizers``), ``encode`` is :func:`~coursekit.tokenization.bpe_encode`
    on every piece, ``decode`` joins the tokens' bytes and reads them as UTF-8. Ids are
    positions in ``vocab``: the 256 byte characters by code point, then one token per merge.
    """

    def __init__(self) -> None:
        self.vocab = sorted(BYTE_OF)
        self.rank = {token: i for i, token in enumerate(self.vocab)}
        self.merges: list[tuple[str, str]] = []

    @staticmethod
    def merge(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
        return tk.merge_word(tuple(symbols), tuple(pair))

    def train(self, texts: list[str], vocab_size: int) -> ReferenceBPE:
        if vocab_size < 256:
            raise ValueError(f"vocab_size must be at least 256 (the bytes), got {vocab_size}")
        self.merges = tk.bpe_merges(tk.byte_level_words(texts), vocab_size - len(self.vocab))
        for a, b in self.merges:
            self.rank.setdefault(a + b, len(self.vocab))
            if self.rank[a + b] == len(self.vocab):
                self.vocab.append(a + b)
        return self

    def encode(self, text: str) -> list[int]:
        return [self.rank[s] for p in _pieces(text) for s in tk.bpe_encode(p, self.merges)]

    def decode(self, ids: list[int]) -> str:
        data = bytes(BYTE_OF[ch] for i in ids for ch in self.vocab[i])
        return data.decode("utf-8", errors="replace")


#: the ready-made BPE pieces: calling one of them does not pass 02.1 (exact names)
BPE_FORBID = (
    "coursekit.tokenization.train_bpe",
    "coursekit.tokenization.bpe_merges",
    "coursekit.tokenization.merge_pair",
    "coursekit.tokenization.merge_word",
    "coursekit.tokenization.best_pair",
    "coursekit.tokenization.bpe_encode",
    "coursekit.tokenization.pair_counts",
    "tokenizers.ByteLevelBPETokenizer",
    "tokenizers.implementations.ByteLevelBPETokenizer",
)
#: trainers that are Rust classes (they cannot be subclassed, so :func:`call_own`'s class
#: tripwire cannot wrap them): a recording function stands in for them during the call
TRAINER_FORBID = ("tokenizers.trainers.BpeTrainer",)


@contextlib.contextmanager
def _trainer_wires(learner: Any) -> Iterator[list[str]]:
    """While inside, constructing a :data:`TRAINER_FORBID` class is recorded (by name)."""
    import importlib

    used: list[str] = []
    patches: list[tuple[Any, str, Any]] = []
    func = getattr(learner, "__func__", learner)
    space = getattr(func, "__globals__", {})
    modules = [m for n, m in list(sys.modules.items()) if n.split(".")[0] in {"coursekit"}]
    modules += [v for v in space.values() if isinstance(v, types.ModuleType)]
    try:
        for path in TRAINER_FORBID:
            module, _, name = path.rpartition(".")
            owner = importlib.import_module(module)
            original = getattr(owner, name)

            def wire(*args: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
                used.append(_name)
                return _original(*args, **kw)

            wire = functools.update_wrapper(wire, original, updated=())
            for holder in [owner, *modules]:
                for attr, value in list(vars(holder).items()):
                    if value is original:
                        patches.append((holder, attr, value))
                        setattr(holder, attr, wire)
            for attr, value in list(space.items()):
                if value is original:
                    patches.append((space, attr, value))
                    space[attr] = wire
        yield used
    finally:
        for holder, attr, value in reversed(patches):
            if isinstance(holder, dict):
                holder[attr] = value
            else:
                setattr(holder, attr, value)


def _own(fn: Any, *args: Any, name: str) -> Any:
    """The learner's method, with every ready-made BPE forbidden; a placeholder is 'not yet'."""
    try:
        with _trainer_wires(fn) as used:
            result = call_own(fn, *args, forbid=BPE_FORBID, name=name)
    except NotAttempted:
        raise CheckFailed(
            f"`{name}` still raises NotImplementedError (its own placeholder or one in a "
            "method it calls): write it too, then run the check again"
        ) from None
    if used:  # the first one is what the learner called
        raise UsedReference(
            f"your code calls `{used[0]}`, the ready-made version of what this exercise asks "
            "you to build: write your own, then run the check again"
        )
    return result


def _is_placeholder(fn: Any, *args: Any) -> bool:
    try:
        fn(*args)
    except NotImplementedError:
        return True
    except Exception:  # a wrong attempt: the check reports it
        return False
    return False


#: the toy corpus the notebook shows (the visible example)
TOY_TEXT = [
    "low low low low low lower lower newest newest newest newest newest newest widest widest widest"
]
_SYLLABLES = "ba na zip per so ft cot ton crè me ca fé wo ol fit lo w es t ï".split()
_EXTRAS = ["😍", "👍🏽", "🤷‍♀️", "⭐⭐", "$12.99", "10%", "!!", "crème", "naïve", "Ça"]


def _random_texts(seed: int, n_texts: int = 4, n_words: int = 20) -> list[str]:
    """Shop-like texts from random syllables, with accents, emoji and prices (seeded)."""
    rng = random.Random(seed)
    pool = ["".join(rng.choices(_SYLLABLES, k=rng.randint(1, 3))) for _ in range(n_words)]
    pool += _EXTRAS
    return [" ".join(rng.choices(pool, k=rng.randint(8, 16))) for _ in range(n_texts)]


def hidden_cases() -> list[tuple[str, list[str], int]]:
    """(what, texts, vocab_size) the check trains on; none of these texts is in the notebook.

    Two small texts are crafted so that a tie between equally frequent pairs decides a
    merge: in the first, the pair met first is not the one whose symbols entered the
    vocabulary first; in the second, a merged token ("aa") sorts before a byte ("b") as a
    string but entered the vocabulary after it.
    """
    return [
        ("the notebook's toy corpus", TOY_TEXT, 256 + 100),
        ("a hidden text with a tie", ["xy xy ab ab"], 256 + 10),
        ("a hidden text with a tie after a merge", ["aac aac aac bc bc bc"], 256 + 10),
        ("a hidden shop-like text (accents, emoji)", _random_texts(11), 256 + 40),
        ("another hidden shop-like text", _random_texts(12, n_texts=6), 256 + 400),
        ("a short hidden text (fewer merges than asked for)", ["hello hello", "café"], 1000),
    ]


#: texts the check encodes and decodes with each trained tokenizer (never trained on)
UNSEEN = [
    "Naïve crème brûlée 😍😍 for $12.99!\n",
    "  🤷‍♀️ ça\tva?  ",
    "lowest newer widest",
    "Ω≈ç√ 𝓕ancy — “quotes” 👍🏽",
]


def _pair(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _learned(bpe: Any) -> list[Any]:
    merges = getattr(bpe, "merges", None)
    expect(
        isinstance(merges, (list, tuple)),
        "after `train`, `self.merges` should be the list of learned pairs "
        f"(it is a {type(merges).__name__})",
    )
    merges = [_pair(m) for m in merges]
    for m in merges:
        expect(
            isinstance(m, tuple) and len(m) == 2 and all(isinstance(s, str) for s in m),
            f"each learned merge should be a pair of two str tokens, like ('e', 's'), not {m!r}",
        )
    return merges


def _replay(texts: list[str], merges: list[tuple[str, str]]) -> tuple[dict, dict]:
    """The words and ranks after applying ``merges`` in order (the reference's state)."""
    words: dict[tuple[str, ...], int] = {}
    for text in texts:
        for piece in _pieces(text):
            words[tuple(piece)] = words.get(tuple(piece), 0) + 1
    rank = {token: i for i, token in enumerate(sorted(BYTE_OF))}
    for pair in merges:
        rank.setdefault(pair[0] + pair[1], len(rank))
        words = tk.merge_pair(words, pair)
    return words, rank


def _diagnose(what: str, texts: list[str], got: list, want: list, vocab_size: int) -> None:
    """Raise the most specific message for the first merge where ``got`` leaves ``want``."""
    k = next((i for i, (g, w) in enumerate(zip(got, want, strict=False)) if g != w), None)
    if k is None:
        if len(got) > len(want):
            if len(want) < vocab_size - 256:
                raise CheckFailed(
                    f"on {what} you kept merging after {len(want)} merges, when the best pair "
                    f"occurs only once ({got[len(want)]}): stop when the best pair occurs fewer "
                    "than 2 times"
                )
            raise CheckFailed(
                f"on {what} you learned {len(got)} merges for vocab_size={vocab_size}: the "
                f"vocabulary is the 256 bytes plus one token per merge, so {len(want)} merges"
            )
        raise CheckFailed(
            f"on {what} you stopped after {len(got)} merges; {len(want)} are expected (the "
            f"next is {want[len(got)]}, which occurs at least twice): keep merging until the "
            f"vocabulary has vocab_size={vocab_size} tokens"
        )
    g, w = got[k], want[k]
    words, rank = _replay(texts, want[:k])
    counts = tk.pair_counts(words)
    where = f"on {what}, merge {k + 1}"
    if counts.get(g, 0) == counts[w]:
        tied = [p for p in counts if counts[p] == counts[w]]
        merged = [s for s in (*g, *w) if rank.get(s, 0) >= 256]
        if g == min(tied) and merged:
            raise CheckFailed(
                f"{where}: {g} and {w} both occur {counts[w]} times and you compared them as "
                f"strings; compare ids instead (self.rank): a merged token such as "
                f"{merged[0]!r} comes after all 256 bytes"
            )
        if g == tied[0]:
            raise CheckFailed(
                f"{where}: {g} and {w} both occur {counts[w]} times and you took the first "
                "pair you met; the rule takes the pair whose first symbol entered the "
                "vocabulary first (smaller id in self.rank), then the second symbol"
            )
        raise CheckFailed(
            f"{where}: {g} and {w} both occur {counts[w]} times; a tie goes to the pair whose "
            f"first symbol has the smaller id in self.rank (then the second symbol's), so {w}"
        )
    if g in counts and counts[g] < counts[w]:
        once = {}
        for symbols in words:
            for p in pairwise(symbols):
                once[p] = once.get(p, 0) + 1
        if once.get(g, 0) == max(once.values()):
            raise CheckFailed(
                f"{where}: you picked {g} by counting each distinct word once; weight each "
                f"pair by how often its word occurs ({w} occurs {counts[w]} times, {g} "
                f"{counts[g]})"
            )
        raise CheckFailed(
            f"{where} should be {w} ({counts[w]} times), the most frequent pair; you merged "
            f"{g} ({counts[g]} times)"
        )
    if g not in counts:
        raise CheckFailed(
            f"{where} should be {w} ({counts[w]} times); you merged {g}, a pair that does not "
            "occur in these texts at that point: learn every merge from the texts `train` is "
            "given, rewriting the words after each merge"
        )
    raise CheckFailed(
        f"{where} should be {w} ({counts[w]} times); you merged {g}, which occurs "
        f"{counts[g]} times after the first {k} merges: does `merge` rewrite every word, "
        "left to right, after each merge?"
    )


def _library_ids(library: Any, text: str) -> list[int]:
    return [i - 1 for i in library.backend_tokenizer.encode(text).ids]


def _tokens(bpe: Any, ids: list[int]) -> list[str]:
    vocab = getattr(bpe, "vocab", [])
    return [vocab[i] if isinstance(i, int) and 0 <= i < len(vocab) else f"<{i}>" for i in ids]


def _as_ids(value: Any, name: str) -> list[int]:
    if hasattr(value, "tolist"):
        value = value.tolist()
    expect_type(value, (list, tuple), name)
    expect(
        all(isinstance(i, int) and not isinstance(i, bool) for i in value),
        f"`{name}` should be a list of int ids, got {list(value)[:5]!r}",
    )
    return list(value)


def _clip(text: str, limit: int = 48) -> str:
    """``repr(text)``, cut to ``limit`` characters for a one-line message."""
    return repr(text) if len(text) <= limit else repr(text[: limit - 1]) + "…"


def _check_encode(bpe: Any, text: str, expected: Any, what: str) -> None:
    """``bpe.encode(text) == expected(text)``; a failure names the first piece that differs."""
    from tokenizers.pre_tokenizers import ByteLevel

    got = _as_ids(_own(bpe.encode, text, name="encode"), f"encode({_clip(text)})")
    want = expected(text)
    if got == want:
        return
    shift = {g - w for g, w in zip(got, want, strict=False)}
    if len(got) == len(want) and len(shift) == 1:
        raise CheckFailed(
            f"with the tokenizer trained on {what}, encode({_clip(text)}) gives ids {got[:6]}, "
            f"expected {want[:6]} (off by {shift.pop()}): a token's id is its position in "
            "self.vocab, self.rank[token]"
        )
    for _, (a, b) in ByteLevel(add_prefix_space=False).pre_tokenize_str(text):
        part = text[a:b]
        mine = _as_ids(_own(bpe.encode, part, name="encode"), f"encode({_clip(part)})")
        if mine != expected(part):
            text, got, want = part, mine, expected(part)
            break
    mine, theirs = _tokens(bpe, got), _tokens(bpe, want)
    if "".join(mine) == "".join(theirs):
        raise CheckFailed(
            f"with the tokenizer trained on {what}, encode({_clip(text)}) gives tokens "
            f"{mine[:12]}, expected {theirs[:12]}: replay self.merges on each piece in the "
            "order they were learned (the first merge first), each on the whole piece"
        )
    raise CheckFailed(
        f"with the tokenizer trained on {what}, encode({_clip(text)}) gives tokens "
        f"{mine[:12]}, expected {theirs[:12]} (one id per token of each piece, for every piece)"
    )


def _check_round_trip(bpe: Any, text: str, what: str) -> None:
    try:
        ids = _own(bpe.encode, text, name="encode")
        back = _own(bpe.decode, list(ids), name="decode")
    except CheckFailed as err:
        if "UnicodeDecodeError" in str(err):
            raise CheckFailed(
                f"with the tokenizer {what}, decode raised UnicodeDecodeError on the ids of "
                f"{_clip(text)}: a character's bytes can sit in two tokens (è is 2 bytes, 😍 is 4); "
                "join the bytes of all tokens first, then decode once"
            ) from None
        raise
    expect_type(back, str, f"decode(encode({_clip(text)}))")
    if back == text:
        return
    if back == "".join(_tokens(bpe, ids)):
        raise CheckFailed(
            f"with the tokenizer {what}, decode returns the byte characters {_clip(back)} (Ġ is a "
            "space): map each character back to its byte with BYTE_OF, then read the bytes "
            "as UTF-8"
        )
    if "\ufffd" in back and "\ufffd" not in text:
        raise CheckFailed(
            f"with the tokenizer {what}, decode(encode({_clip(text)})) gives {_clip(back)}: you decoded "
            "each token on its own, but a character's bytes can sit in two tokens (è is 2 "
            "bytes, 😍 is 4); join the bytes of all tokens first, then decode once"
        )
    raise CheckFailed(
        f"with the tokenizer {what}, decode(encode({_clip(text)})) gives {_clip(back)}"
    )


def _check_merge(bpe: Any) -> None:
    cases = [
        (("a", "a", "a"), ("a", "a"), ("aa", "a")),
        (("a", "a", "a", "a"), ("a", "a"), ("aa", "aa")),
        (("l", "o", "w", "lo", "w"), ("lo", "w"), ("l", "o", "w", "low")),
        (("Ġ", "n", "e", "w"), ("e", "w"), ("Ġ", "n", "ew")),
        (("x",), ("a", "b"), ("x",)),
    ]
    for symbols, pair, want in cases:
        got = _pair(_own(bpe.merge, symbols, pair, name="merge"))
        expect(
            got == want,
            f"merge({symbols}, {pair}) gives {got!r}, expected {want}: scan left to right, "
            "and after merging a pair skip both of its symbols",
        )


@exercise(
    "02.1",
    "byte-level BPE: train, encode, decode",
    hint=(
        "Work through the skeleton in order: merge first, scanning left to right without "
        "overlaps; then the training loop: count, choose, stop, record, rewrite the words; "
        "then encode and decode. Each rule in the exercise text is one thing the check tests.",
        "In train, a pair's count is the sum of the counts of the words it occurs in; among "
        "equally frequent pairs take the one whose first symbol has the smaller id in "
        "self.rank (then the second symbol's); stop when no pair occurs twice; each merge "
        "adds its token at the end of self.vocab and to self.rank.",
        "encode replays self.merges on each piece, in the order they were learned, then looks "
        "every symbol up in self.rank; decode turns every character of every token into its "
        "byte with BYTE_OF, joins all of them into one bytes object and decodes that once, "
        "with errors set to replace.",
    ),
)
def byte_bpe(bpe_class: Any) -> str:
    """``ByteBPE`` matches the reference and ``tokenizers`` merge for merge, ids and round trip.

    Visible: the notebook's toy corpus. Hidden (built here, seeded): two texts crafted so
    that a tie decides a merge, shop-like random texts with accents, emoji and prices, a
    short text that runs out of pairs before ``vocab_size``, texts it was not trained on.
    Edge cases: empty text (no merges, ``[]``, ``""``), ``vocab_size=256`` (no merges, every
    byte its own token: a character split across tokens must still decode), ``vocab_size``
    below 256 (``ValueError``), an id sequence that stops inside a character (``"\ufffd"``).
    Merges are compared with :func:`~coursekit.tokenization.bpe_merges` and, where the two
    agree (always, on the pinned ``tokenizers``: tested), with ``BpeTrainer``'s; ids are
    compared with the ``tokenizers`` encoding when the merges agree, else with the reference.
    """
    if bpe_class is None or bpe_class is Ellipsis:
        raise NotAttempted("`ByteBPE` is still a placeholder")
    if not isinstance(bpe_class, type):
        bpe_class = type(bpe_class)  # an instance: its class
    fresh = call(bpe_class, name="ByteBPE")
    methods = ("merge", "train", "encode", "decode")
    missing = [m for m in methods if not callable(getattr(fresh, m, None))]
    expect(not missing, f"`ByteBPE` needs the methods {', '.join(missing)} (see the skeleton)")
    probes = [
        (fresh.merge, ("a", "b"), ("a", "b")),
        (call(bpe_class, name="ByteBPE").train, ["ab ab"], 257),
        (call(bpe_class, name="ByteBPE").encode, "ab"),
        (call(bpe_class, name="ByteBPE").decode, [66]),
    ]
    blanks = [_is_placeholder(fn, *args) for fn, *args in probes]
    if all(blanks):
        raise NotAttempted("every method of `ByteBPE` still raises NotImplementedError")
    vocab = getattr(fresh, "vocab", None)
    expect(
        isinstance(vocab, list) and vocab == sorted(BYTE_OF),
        "a new `ByteBPE` should start with self.vocab = the 256 byte characters in code-point "
        "order, as the skeleton sets it up",
    )
    if not blanks[0]:
        _check_merge(fresh)

    hf_checked = 0
    for what, texts, vocab_size in hidden_cases():
        want = ReferenceBPE().train(texts, vocab_size)
        library = tk.train_bpe(texts, vocab_size=vocab_size + 1)  # + <|endoftext|>
        library_agrees = tk.tokenizer_merges(library) == want.merges
        bpe = call(bpe_class, name="ByteBPE")
        _own(bpe.train, list(texts), vocab_size, name="train")
        got = _learned(bpe)
        if got != want.merges:
            _diagnose(what, texts, got, want.merges, vocab_size)
        expect(
            list(getattr(bpe, "vocab", []))[256:] == want.vocab[256:],
            f"on {what} your merges are right, but self.vocab does not end with the merged "
            "tokens in the order they were learned",
        )
        if library_agrees:  # its ids are ours plus one: its id 0 is <|endoftext|>
            expected = functools.partial(_library_ids, library)
            hf_checked += 1
        else:
            expected = want.encode
        for text in [*texts[:2], *UNSEEN]:
            _check_encode(bpe, text, expected, what)
            _check_round_trip(bpe, text, f"trained on {what}")

    # edge cases the exercise text defines
    untrained = call(bpe_class, name="ByteBPE")
    _own(untrained.train, list(UNSEEN), 256, name="train")
    expect(
        _learned(untrained) == [],
        "train(texts, vocab_size=256) should learn no merges: the 256 bytes fill the vocabulary",
    )
    for text in UNSEEN:
        _check_encode(untrained, text, ReferenceBPE().encode, "vocab_size=256")
        _check_round_trip(untrained, text, "of 256 bytes (every byte its own token)")
    for texts in ([""], []):
        empty = call(bpe_class, name="ByteBPE")
        _own(empty.train, texts, 300, name="train")
        expect(_learned(empty) == [], f"train({texts}, 300) should learn no merges")
        got = _own(empty.encode, "", name="encode")
        expect(list(got) == [], f'encode("") should be [], got {got!r}')
        back = _own(empty.decode, [], name="decode")
        expect(back == "", f'decode([]) should be "", got {back!r}')
    small = call(bpe_class, name="ByteBPE")
    try:
        _own(small.train, ["low low low"], 255, name="train")
    except UsedReference:
        raise
    except CheckFailed as err:
        expect(
            "raised ValueError" in str(err),
            f"train(texts, vocab_size=255) should raise a ValueError, but {err}",
        )
    else:
        raise CheckFailed(
            "train(texts, vocab_size=255) returned normally: a byte-level vocabulary holds at "
            "least the 256 bytes, so raise a ValueError"
        )
    cut = ReferenceBPE().encode("😍")[:2]  # the first 2 of the emoji's 4 bytes
    try:
        back = _own(call(bpe_class, name="ByteBPE").decode, cut, name="decode")
    except CheckFailed as err:
        if "UnicodeDecodeError" not in str(err):
            raise
        raise CheckFailed(
            "decode raised UnicodeDecodeError on ids that stop inside a character (a model "
            'can generate those): decode the bytes with errors="replace"'
        ) from None
    expect(
        back == "\ufffd",
        f"decode of the first 2 bytes of 😍 should be '\\ufffd' (errors=\"replace\"), got {back!r}",
    )
    agree = " and tokenizers' BpeTrainer" if hf_checked else ""
    return (
        f"Your BPE matches coursekit's{agree} merge for merge on {len(hidden_cases())} texts "
        "(ties included) and round-trips accents and emoji."
    )


# --------------------------------------------------------------------------- padding


def _as_list_rows(value: Any, name: str) -> list[list[int]]:
    if hasattr(value, "tolist"):
        value = value.tolist()
    expect_type(value, (list, tuple), name)
    rows = []
    for row in value:
        if hasattr(row, "tolist"):
            row = row.tolist()
        expect_type(row, (list, tuple), f"each row of {name}")
        try:
            rows.append([int(x) for x in row])
        except (TypeError, ValueError):
            raise CheckFailed(f"`{name}` should hold integers") from None
    return rows


#: calling the course's padding does not pass 02.2
PAD_FORBID = ("coursekit.tokenization.pad_batch",)


def _hidden_batches(seed: int = 2) -> list[tuple[list[list[int]], int, int | None]]:
    """Random batches (seeded): some rows hold the pad id as a real token, some are empty."""
    rng = random.Random(seed)
    cases = []
    for max_length in (None, 4, 2, None):
        pad_id = rng.choice([0, 1, 50256])
        rows = [
            [rng.choice([pad_id, 7, 8, 9, 42]) for _ in range(rng.randint(0, 6))]
            for _ in range(rng.randint(2, 4))
        ]
        rows[0] += [5]  # never an all-empty batch
        cases.append((rows, pad_id, max_length))
    return cases


@exercise(
    "02.2",
    "right padding and attention mask",
    hint=(
        "Every row must end up as long as the longest one (after truncating to max_length), and the mask says which positions are real.",
        "Right padding appends pad_id at the end of each short row; the mask holds 1 for each real token and 0 for each pad.",
    ),
)
def pad_and_mask(fn: Any) -> None:
    """Visible cases, then seeded hidden batches; calling ``tk.pad_batch`` does not pass."""
    from coursekit.tokenization import pad_batch

    cases = [
        ([[5, 6, 7], [8]], 0, None),
        ([[1, 2, 3, 4, 5], [6, 7], [9]], 0, 3),
        ([[42, 0], [7]], 0, None),  # a real token with the pad id (GPT-2: eos == pad)
        ([[3]], 1, None),
        *_hidden_batches(),
    ]
    for seqs, pad_id, max_length in cases:
        want_ids, want_mask = pad_batch(seqs, pad_id, max_length)
        got = call_own(
            fn,
            [list(s) for s in seqs],
            pad_id,
            max_length,
            forbid=PAD_FORBID,
            name="pad_and_mask",
        )
        expect_type(got, tuple, "pad_and_mask(...)")
        expect(len(got) == 2, "`pad_and_mask` should return (input_ids, attention_mask)")
        ids = _as_list_rows(got[0], "input_ids")
        mask = _as_list_rows(got[1], "attention_mask")
        args = f"sequences={seqs}, pad_id={pad_id}, max_length={max_length}"
        if ids != want_ids:
            left = [
                [pad_id] * (len(w) - len(s[: max_length or None])) + s[: max_length or None]
                for s, w in zip(seqs, want_ids, strict=False)
            ]
            expect(ids != left, f"for {args} you padded on the left; pad on the right")
            raise CheckFailed(f"for {args} expected input_ids {want_ids}, got {ids}")
        if mask != want_mask:
            inverted = [[1 - m for m in row] for row in want_mask]
            expect(mask != inverted, "your mask is inverted: 1 marks real tokens, 0 marks padding")
            by_id = [[int(t != pad_id) for t in row] for row in want_ids]
            expect(
                mask != by_id,
                f"for {args} you built the mask by comparing ids with pad_id, so a real token "
                f"with that id is hidden; use the lengths (expected {want_mask})",
            )
            raise CheckFailed(f"for {args} expected attention_mask {want_mask}, got {mask}")


# --------------------------------------------------------------------------- offsets


def reference_covering_tokens(offsets: Any, start: int, end: int) -> list[int]:
    """The indices of the tokens whose ``(a, b)`` span overlaps ``[start, end)`` (not special)."""
    return [i for i, (a, b) in enumerate(offsets) if b > a and a < end and b > start]


#: calling the reference of later cells does not pass 02.3
COVER_FORBID = ("coursekit.checks.nb02.reference_covering_tokens",)


def _hidden_offsets(seed: int = 3) -> list[tuple[list[tuple[int, int]], int, int]]:
    """Offsets like a real tokenizer's (gaps for spaces, special tokens at both ends), spans."""
    rng = random.Random(seed)
    cases = []
    for _ in range(3):
        offsets, pos = [(0, 0)], 0
        for _ in range(rng.randint(4, 9)):
            pos += rng.choice([0, 1])  # a space between words, or none
            width = rng.randint(1, 5)
            offsets.append((pos, pos + width))
            pos += width
        offsets.append((0, 0))
        for _ in range(3):
            start = rng.randint(0, pos)
            cases.append((offsets, start, rng.randint(start, pos)))
    return cases


@exercise(
    "02.3",
    "tokens covering a character span",
    hint=(
        "A token covers the span when their character ranges overlap at all; special tokens have an empty range.",
        "With a token's offsets (a, b) and the span [start, end), they overlap when a < end and b > start; skip tokens whose range is empty.",
    ),
)
def covering_tokens(fn: Any) -> None:
    """Visible cases, then seeded hidden offsets; calling the reference does not pass."""
    offsets = [(0, 0), (0, 3), (3, 8), (9, 13), (14, 20), (20, 21), (0, 0)]
    # text: "The zipper broke quickly." -> "The", " zipper"... with trimmed offsets
    cases = [
        (offsets, (4, 8), [2]),  # inside one token
        (offsets, (0, 8), [1, 2]),
        (offsets, (5, 15), [2, 3, 4]),  # partial overlaps count
        (offsets, (8, 9), []),  # the space between tokens
        (offsets, (14, 21), [4, 5]),
        (offsets, (0, 0), []),
    ]
    cases += [
        (offs, (s, e), reference_covering_tokens(offs, s, e)) for offs, s, e in _hidden_offsets()
    ]
    for offs, (start, end), want in cases:
        got = call_own(
            fn,
            list(offs),
            start,
            end,
            forbid=COVER_FORBID,
            name="covering_tokens",
        )
        if hasattr(got, "tolist"):
            got = got.tolist()
        expect_type(got, (list, tuple), f"covering_tokens(offsets, {start}, {end})")
        got = [int(i) for i in got]
        if got != want:
            special = {i for i, (a, b) in enumerate(offs) if b <= a}
            if special & set(got):
                raise CheckFailed(
                    f"for span ({start}, {end}) you included a special token (offset (0, 0)); skip them"
                )
            raise CheckFailed(
                f"for span ({start}, {end}) expected token indices {want}, got {got} "
                f"(offsets {offs})"
            )


# --------------------------------------------------------------------------- skip-gram pairs

#: calling the course's pairs (or its loss) does not pass 02.4 (or 02.5)
PAIRS_FORBID = ("coursekit.word2vec.skipgram_pairs",)
LOSS_FORBID = ("coursekit.word2vec.sgns_loss", "coursekit.word2vec.sgns_grad")


def reference_skipgram_pairs(ids: Any, window: int) -> list[tuple[int, int]]:
    """(center, context) for every other position at most ``window`` away (coursekit's)."""
    from coursekit.word2vec import skipgram_pairs

    return skipgram_pairs(ids, window)


def reference_sgns_loss(center: Any, context: Any, negatives: Any) -> Any:
    """The mean SGNS loss of a batch (coursekit's :func:`~coursekit.word2vec.sgns_loss`)."""
    from coursekit.word2vec import sgns_loss

    return sgns_loss(center, context, negatives)


def _pairs_variants(ids: list[int], window: int) -> dict[str, list[tuple[int, int]]]:
    """Plausible wrong pairs for one sentence, each with the mistake it shows."""
    n = len(ids)
    at = range(n)
    return {
        "self": [(ids[i], ids[j]) for i in at for j in range(max(0, i - window), min(n, i + window + 1))],
        "short": [
            (ids[i], ids[j]) for i in at for j in range(max(0, i - window + 1), min(n, i + window)) if j != i
        ],
        "long": [
            (ids[i], ids[j]) for i in at for j in range(max(0, i - window - 1), min(n, i + window + 2)) if j != i
        ],
        "right": [(ids[i], ids[j]) for i in at for j in range(i + 1, min(n, i + window + 1))],
        "values": [
            (ids[i], ids[j])
            for i in at
            for j in range(max(0, i - window), min(n, i + window + 1))
            if ids[j] != ids[i]
        ],
        "wrap": [
            (ids[i], ids[j % n]) for i in at for j in range(i - window, min(n, i + window + 1)) if j != i
        ],
    }  # fmt: skip


_PAIRS_MESSAGES = {
    "self": "you paired each word with itself too: a position is never its own context "
    "(skip the center's own position)",
    "short": "your window is one word too narrow: window={w} means up to {w} words on each "
    "side, the {w}th one included",
    "long": "your window is one word too wide: window={w} means up to {w} words on each "
    "side, not {w1}",
    "right": "you only paired each center with the words after it: the context is on both "
    "sides, before and after",
    "values": "you skipped context words equal to the center word; skip the center's "
    "position, not its value (a word repeated nearby is a real context)",
    "wrap": "near the start your window wrapped around to the end of the sentence (a "
    "negative index in Python counts from the end): stop at the sentence's first word",
}


def _hidden_sentences(seed: int = 4) -> list[tuple[list[int], int]]:
    rng = random.Random(seed)
    cases = []
    for window in (1, 2, 3, 5):
        n = rng.randint(3, 9)
        cases.append(([rng.randint(0, 6) for _ in range(n)], window))
    return cases


def _as_pairs(value: Any, name: str) -> list[tuple[int, int]]:
    if hasattr(value, "tolist"):
        value = value.tolist()
    expect_type(value, (list, tuple), name)
    out = []
    for pair in value:
        if hasattr(pair, "tolist"):
            pair = pair.tolist()
        expect(
            isinstance(pair, (list, tuple)) and len(pair) == 2,
            f"each item of {name} should be a (center, context) pair, got {pair!r}",
        )
        out.append((int(pair[0]), int(pair[1])))
    return out


@exercise(
    "02.4",
    "skip-gram (center, context) pairs",
    hint=(
        "Walk over the positions of the sentence; for each one, look at the positions around "
        "it, at most `window` away on either side, and stay inside the sentence.",
        "For position i the context positions run from max(0, i - window) to "
        "min(len(ids) - 1, i + window), both included, leaving out i itself (the position, "
        "not the value); a window below 1 is a ValueError.",
    ),
)
def skipgram_pairs(fn: Any) -> str:
    """Visible sentence, edge cases, seeded hidden sentences; pairs compared as a multiset."""
    cases: list[tuple[list[int], int]] = [
        ([0, 1, 2, 3], 1),
        ([10, 11, 12, 13, 14], 2),
        ([7, 7, 8], 1),  # a word repeated next to itself
        ([3, 4], 5),  # a window longer than the sentence
        ([9], 2),  # one word: no pairs
        ([], 1),  # nothing
        *_hidden_sentences(),
    ]
    for ids, window in cases:
        got = _as_pairs(
            call_own(fn, list(ids), window, forbid=PAIRS_FORBID, name="skipgram_pairs"),
            f"skipgram_pairs({ids}, {window})",
        )
        want = reference_skipgram_pairs(ids, window)
        if Counter(got) == Counter(want):
            continue
        for mistake, wrong in _pairs_variants(ids, window).items():
            if Counter(wrong) != Counter(want) and Counter(got) == Counter(wrong):
                raise CheckFailed(
                    f"for ids={ids}, window={window}: "
                    + _PAIRS_MESSAGES[mistake].format(w=window, w1=window + 1)
                )
        raise CheckFailed(
            f"skipgram_pairs({ids}, {window}) gives {len(got)} pairs {sorted(got)[:8]}, "
            f"expected {len(want)}: {sorted(want)[:8]}"
        )
    try:
        call_own(fn, [1, 2, 3], 0, forbid=PAIRS_FORBID, name="skipgram_pairs")
    except UsedReference:
        raise
    except CheckFailed as err:
        expect(
            "raised ValueError" in str(err),
            f"skipgram_pairs(ids, window=0) should raise a ValueError, but {err}",
        )
    else:
        raise CheckFailed(
            "skipgram_pairs(ids, window=0) returned normally: a window below 1 has no context, "
            "raise a ValueError"
        )
    return f"Right on {len(cases)} sentences, edge cases included."


# --------------------------------------------------------------------------- SGNS loss


def _loss_variants(c: Any, o: Any, n: Any) -> dict[str, Any]:
    """The loss with one plausible mistake each (``c``, ``o``: (B, d); ``n``: (B, k, d))."""
    import torch
    import torch.nn.functional as F

    pos = (c * o).sum(-1)
    neg = torch.einsum("bd,bkd->bk", c, n)
    right = -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1))
    scores = torch.cat([pos[:, None], neg], dim=1)
    return {
        "sign": -(F.logsigmoid(pos) + F.logsigmoid(neg).sum(-1)).mean(),
        "softmax": -torch.log_softmax(scores, dim=1)[:, 0].mean(),
        "sum": right.sum(),
        "mean_k": -(F.logsigmoid(pos) + F.logsigmoid(-neg).mean(-1).nan_to_num(0.0)).mean(),
        "plus": -right.mean(),
        "no_log": -(torch.sigmoid(pos) + torch.sigmoid(-neg).sum(-1)).mean(),
    }


_LOSS_MESSAGES = {
    "sign": "the negatives' term has the wrong sign: a negative n_k should score LOW, so its "
    "term is log σ(-c·n_k), with the minus inside the sigmoid",
    "softmax": "that is a softmax over the positive and the k negatives; skip-gram with "
    "negative sampling scores each pair on its own with a sigmoid (log σ), no normalising",
    "sum": "you summed over the batch; average over the pairs (the mean), so the loss does "
    "not grow with the batch size",
    "mean_k": "you averaged the k negatives' terms; add them up (Σ over k), one term per negative",
    "plus": "your loss has the opposite sign: it is the NEGATIVE log-likelihood, so "
    "-(log σ(c·o) + Σ log σ(-c·n_k)), which training makes small",
    "no_log": "you used σ itself; the loss takes the log of the sigmoid (log σ, "
    "torch.nn.functional.logsigmoid is the stable way)",
}


def _loss_cases(seed: int = 5) -> list[tuple[str, Any, Any, Any]]:
    import torch

    g = torch.Generator().manual_seed(seed)
    cases = []
    for what, batch, k, dim in [
        ("a batch of 4 pairs, k=3, dim=5", 4, 3, 5),
        ("one pair (batch of 1), k=2", 1, 2, 6),
        ("k=0 (no negatives)", 3, 0, 4),
        ("a hidden batch of 16 pairs, k=5, dim=8", 16, 5, 8),
        ("a hidden batch with large vectors", 8, 4, 6),
    ]:
        scale = 4.0 if "large" in what else 1.0
        c = torch.randn(batch, dim, generator=g) * scale
        o = torch.randn(batch, dim, generator=g) * scale
        n = torch.randn(batch, k, dim, generator=g) * scale
        cases.append((what, c, o, n))
    return cases


@exercise(
    "02.5",
    "skip-gram negative-sampling loss",
    hint=(
        "Score each pair with a dot product: the real context should score high, each "
        "negative low. Turn the scores into log-probabilities with a sigmoid, not a softmax.",
        "Per pair: minus (log σ of the center·context dot product, plus the sum over the k "
        "negatives of log σ of MINUS the center·negative dot product); then the mean over "
        "the batch. torch.einsum or a batched matrix product gives the (batch, k) dots.",
    ),
)
def sgns_loss(fn: Any) -> str:
    """Reference value and gradients on visible and hidden batches, k=0 included."""
    import torch

    for what, c, o, n in _loss_cases():
        want = reference_sgns_loss(c, o, n)
        leaves = [t.clone().requires_grad_(True) for t in (c, o, n)]
        got = call_own(fn, *leaves, forbid=LOSS_FORBID, name="sgns_loss")
        expect(
            isinstance(got, torch.Tensor),
            f"sgns_loss should return a torch tensor (so training can backpropagate), got a "
            f"{type(got).__name__}",
        )
        expect(
            got.numel() == 1,
            f"sgns_loss should return one number (a scalar), got shape {tuple(got.shape)}; "
            "take the mean over the batch",
        )
        value = float(got.detach())
        if not math.isclose(value, float(want), rel_tol=1e-4, abs_tol=1e-5):
            for mistake, wrong in _loss_variants(c, o, n).items():
                if not math.isclose(float(wrong), float(want), rel_tol=1e-4, abs_tol=1e-5) and (
                    math.isclose(value, float(wrong), rel_tol=1e-4, abs_tol=1e-5)
                ):
                    raise CheckFailed(f"on {what}: " + _LOSS_MESSAGES[mistake])
            raise CheckFailed(f"on {what} your loss is {value:.5g}, expected {float(want):.5g}")
        expect(
            got.requires_grad,
            f"on {what} the loss is right but carries no gradient: compute it with torch "
            "operations on the inputs (no .item(), .numpy() or .detach())",
        )
        grads = torch.autograd.grad(got.reshape(()), leaves, allow_unused=True)
        ref_leaves = [t.clone().requires_grad_(True) for t in (c, o, n)]
        ref_grads = torch.autograd.grad(reference_sgns_loss(*ref_leaves), ref_leaves)
        for name, mine, ref in zip(
            ("center", "context", "negatives"), grads, ref_grads, strict=True
        ):
            mine = torch.zeros_like(ref) if mine is None else mine
            expect(
                torch.allclose(mine, ref, rtol=1e-4, atol=1e-6),
                f"on {what} the loss value is right but its gradient for `{name}` is not: "
                "do not detach or round any part of it",
            )
    return "Same value and gradients as coursekit's on 5 batches (k=0 included)."
