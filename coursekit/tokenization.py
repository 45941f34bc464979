"""Tokenization: byte-pair encoding by hand, and the shop's byte-level BPE tokenizer.

A model never sees text, only integer ids. A tokenizer decides the units:

* whitespace words: tiny code, huge vocabulary, every unseen word is unknown;
* WordPiece (BERT, MiniLM): a fixed subword vocabulary, ``[UNK]`` for characters it lacks;
* byte-level BPE (GPT-2): start from the 256 bytes, so *nothing* is unknown, then
  repeatedly merge the most frequent adjacent pair into a new token.

The BPE training loop, step by step (:func:`bpe_merges`)::

    words   = {("l","o","w"): 5, ("l","o","w","e","r"): 2, ...}   # word -> count
    repeat:  count every adjacent pair, weighted by word count
             pick the most frequent pair (ties: the pair whose tokens entered the vocabulary first)
             replace it everywhere by the merged token, left to right

This is exactly what Hugging Face ``tokenizers`` does, so the hand version gives
the same merges in the same order (tested). :func:`train_bpe` trains the real one;
:func:`load_shop_bpe` builds the course's tokenizer once into the cache, and the
later notebooks (language model, copy generation) load it from there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from transformers import PreTrainedTokenizerFast

#: GPT-2's single special token: beginning, end and padding of a sequence all use it.
END_OF_TEXT = "<|endoftext|>"
#: the version of the recipe in :func:`load_shop_bpe`; bump it when the recipe changes.
SHOP_BPE_RECIPE = "1"

Word = tuple[str, ...]


# --------------------------------------------------------------------------- BPE by hand


def byte_level_words(texts: Iterable[str]) -> Counter[str]:
    """Pre-tokenize like GPT-2 and count the words.

    The byte-level pre-tokenizer splits on spaces and punctuation and maps every
    byte to a printable character, so a leading space becomes ``Ġ``:
    ``"low lower"`` gives ``{"low": 1, "Ġlower": 1}``.
    """
    from tokenizers.pre_tokenizers import ByteLevel

    pre = ByteLevel(add_prefix_space=False)
    counts: Counter[str] = Counter()
    for text in texts:
        _check_str(text)
        counts.update(piece for piece, _ in pre.pre_tokenize_str(text))
    return counts


def split_words(word_counts: Mapping[str, int] | Iterable[str]) -> dict[Word, int]:
    """Start of BPE: every word becomes a tuple of single characters, with its count.

    Accepts ``{word: count}`` or a plain iterable of words (counted here).
    """
    if isinstance(word_counts, str):
        raise TypeError(
            "split_words expects words with counts (a dict) or a list of words, not one str"
        )
    counts = word_counts if isinstance(word_counts, Mapping) else Counter(word_counts)
    out: dict[Word, int] = {}
    for word, n in counts.items():
        _check_str(word)
        if word:
            key = tuple(word)
            out[key] = out.get(key, 0) + int(n)
    return out


def pair_counts(words: Mapping[Word, int]) -> Counter[tuple[str, str]]:
    """How often each adjacent pair of tokens occurs, weighted by word count."""
    counts: Counter[tuple[str, str]] = Counter()
    for symbols, n in words.items():
        for pair in zip(symbols, symbols[1:], strict=False):
            counts[pair] += n
    return counts


def merge_word(symbols: Word, pair: tuple[str, str]) -> Word:
    """Replace every occurrence of ``pair`` in one word, scanning left to right.

    ``("a","a","a")`` merged on ``("a","a")`` gives ``("aa","a")``: occurrences never overlap.
    """
    first, second = pair
    out: list[str] = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == first and symbols[i + 1] == second:
            out.append(first + second)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def merge_pair(words: Mapping[Word, int], pair: tuple[str, str]) -> dict[Word, int]:
    """Apply one merge to every word of the corpus."""
    out: dict[Word, int] = {}
    for symbols, n in words.items():
        merged = merge_word(symbols, pair)
        out[merged] = out.get(merged, 0) + n
    return out


def best_pair(
    counts: Mapping[tuple[str, str], int], rank: Mapping[str, int]
) -> tuple[tuple[str, str], int] | None:
    """The most frequent pair; ties go to the pair whose tokens entered the vocabulary first.

    ``rank`` gives each token its position in the vocabulary (characters sorted by
    code point, then merged tokens in creation order), the same tie-break as ``tokenizers``.
    """
    if not counts:
        return None
    pair = min(counts, key=lambda p: (-counts[p], rank[p[0]], rank[p[1]]))
    return pair, counts[pair]


def bpe_merges(
    word_counts: Mapping[str, int] | Iterable[str], num_merges: int, min_frequency: int = 2
) -> list[tuple[str, str]]:
    """Learn up to ``num_merges`` BPE merges from ``{word: count}``, in order.

    Stops early when the best pair occurs fewer than ``min_frequency`` times.
    Recomputes all pair counts every step: slow (fine for a toy corpus), but
    every step is easy to print. Gives the same merges as ``tokenizers``' ``BpeTrainer``.
    """
    if num_merges < 0:
        raise ValueError(f"num_merges must be >= 0, got {num_merges}")
    words = split_words(word_counts)
    rank = {c: i for i, c in enumerate(sorted({c for w in words for c in w}))}
    merges: list[tuple[str, str]] = []
    while len(merges) < num_merges:
        found = best_pair(pair_counts(words), rank)
        if found is None or found[1] < max(min_frequency, 1):
            break
        pair, _ = found
        merges.append(pair)
        rank.setdefault(pair[0] + pair[1], len(rank))
        words = merge_pair(words, pair)
    return merges


def bpe_encode(word: str, merges: Sequence[tuple[str, str]]) -> list[str]:
    """Split one (pre-tokenized) word with learned merges, applying them in learned order."""
    _check_str(word)
    symbols: Word = tuple(word)
    for pair in merges:
        if len(symbols) < 2:
            break
        symbols = merge_word(symbols, pair)
    return list(symbols)


# --------------------------------------------------------------------------- the real thing


def train_bpe(
    texts: Iterable[str],
    vocab_size: int = 4000,
    min_frequency: int = 2,
    model_max_length: int = 1024,
) -> PreTrainedTokenizerFast:
    """Train a GPT-2 style byte-level BPE with Hugging Face ``tokenizers``.

    * ByteLevel pre-tokenizer and decoder (all 256 bytes in the alphabet: no unknown token);
    * ``<|endoftext|>`` is the bos, eos, pad (and unk) token, as in GPT-2;
    * offsets are trimmed of the leading space, so they highlight words exactly;
    * ``padding_side="right"``.

    Deterministic: the same texts in the same order give the same vocabulary.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if isinstance(texts, str):
        raise TypeError("train_bpe expects an iterable of texts, not a single str")
    if vocab_size < 257:
        raise ValueError(
            f"vocab_size must be at least 257 (256 bytes + {END_OF_TEXT}), got {vocab_size}"
        )
    texts = [_check_str(t) for t in texts]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=[END_OF_TEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=END_OF_TEXT,
        eos_token=END_OF_TEXT,
        unk_token=END_OF_TEXT,
        pad_token=END_OF_TEXT,
        padding_side="right",
        model_max_length=model_max_length,
    )


def tokenizer_merges(tokenizer: object) -> list[tuple[str, str]]:
    """The learned merges of a BPE tokenizer (``tokenizers.Tokenizer`` or a transformers fast one)."""
    import json

    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    model = json.loads(backend.to_str())["model"]
    if model.get("type") != "BPE":
        raise ValueError(f"not a BPE tokenizer (model type {model.get('type')!r})")
    return [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]


def shop_corpus_texts() -> list[str]:
    """The text the shop tokenizer learns from: train-split product copy and reviews.

    Product copy is title, bullets and paragraph; validation and test products and
    reviews are left out so that no held-out text shapes the vocabulary.
    Order is fixed (by id), so training is reproducible.
    """
    from coursekit import data

    products = data.load_products()
    products = products[products["split"] == "train"].sort_values("product_id")
    texts: list[str] = []
    for row in products.itertuples(index=False):
        texts.append(str(row.title))
        texts.extend(str(b) for b in row.bullets)
        texts.append(str(row.paragraph))
    reviews = data.load_reviews(split="train").sort_values("review_id")
    texts.extend(str(t) for t in reviews["text"])
    return texts


def shop_bpe_version(texts: Sequence[str] | None = None) -> str:
    """The shop tokenizer's cache version: its recipe and a fingerprint of its training text.

    Models trained with the shop tokenizer put this in their own cache version, so a
    regenerated corpus retrains them too.
    """
    from coursekit.cache import recipe_key

    texts = shop_corpus_texts() if texts is None else texts
    return recipe_key({"shop_bpe": SHOP_BPE_RECIPE}, data=["\x00".join(texts)])


def load_shop_bpe(vocab_size: int = 4000, rebuild: bool = False) -> PreTrainedTokenizerFast:
    """The course's byte-level BPE tokenizer, trained on the shop corpus and cached.

    Built once with :func:`train_bpe` into ``coursekit.cache`` (``shop-bpe-<vocab_size>``)
    with ``save_pretrained``; later calls just load it (``AutoTokenizer`` works on the
    folder too). The cache version includes a fingerprint of the corpus, so a
    regenerated corpus gets a fresh tokenizer.
    """
    from transformers import PreTrainedTokenizerFast

    from coursekit.cache import get_or_build

    texts = shop_corpus_texts()

    def build(folder: Path) -> None:
        train_bpe(texts, vocab_size=vocab_size).save_pretrained(str(folder))

    folder = get_or_build(
        f"shop-bpe-{vocab_size}", build, version=shop_bpe_version(texts), rebuild=rebuild
    )
    return PreTrainedTokenizerFast.from_pretrained(str(folder))


# --------------------------------------------------------------------------- helpers


def pad_batch(
    sequences: Sequence[Sequence[int]], pad_id: int, max_length: int | None = None
) -> tuple[list[list[int]], list[list[int]]]:
    """Right-pad (and truncate to ``max_length``) a batch of id lists; return ``(ids, mask)``.

    The mask is 1 on real tokens and 0 on padding. It is built from the lengths,
    not by comparing ids with ``pad_id``: in GPT-2 style tokenizers the pad id *is*
    the end-of-text id, so a real ``<|endoftext|>`` would be masked by mistake.
    """
    rows = [list(s) for s in sequences]
    if max_length is not None:
        if max_length < 0:
            raise ValueError(f"max_length must be >= 0, got {max_length}")
        rows = [r[:max_length] for r in rows]
    width = max((len(r) for r in rows), default=0)
    ids = [r + [pad_id] * (width - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (width - len(r)) for r in rows]
    return ids, mask


def highlight(text: str, offsets: Sequence[tuple[int, int]], sep: str = "|") -> str:
    """Mark each token's span of the original ``text`` with ``[...]``, joined by ``sep``.

    Spans of length 0 (special tokens) are skipped. Uses character offsets from
    ``tokenizer(text, return_offsets_mapping=True)``.
    """
    _check_str(text)
    return sep.join(f"[{text[a:b]}]" for a, b in offsets if b > a)


def _check_str(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    return text


__all__ = [
    "END_OF_TEXT",
    "best_pair",
    "bpe_encode",
    "bpe_merges",
    "byte_level_words",
    "highlight",
    "load_shop_bpe",
    "merge_pair",
    "merge_word",
    "pad_batch",
    "pair_counts",
    "shop_corpus_texts",
    "split_words",
    "tokenizer_merges",
    "train_bpe",
]
