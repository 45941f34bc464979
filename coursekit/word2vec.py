"""Word embeddings: skip-gram with negative sampling (SGNS) by hand, gensim's Word2Vec, senses.

Notebook 02 (section 7) builds word vectors three ways and measures what they learn:

* by hand: :func:`skipgram_pairs` turns a sentence's ids into (center, context) pairs,
  :func:`sgns_loss` scores a batch against ``k`` negatives drawn from the unigram
  distribution raised to 3/4 (:func:`noise_distribution`), and :func:`train_skipgram` trains
  the two embedding tables through the course's one loop, :func:`coursekit.train.fit`;
* with the field's library: :func:`word2vec` (gensim, one worker thread and a fixed seed,
  so a run is repeatable on one machine);
* what the vectors know: :func:`category_neighbour_rate` (do a word's nearest neighbours
  come from the same product category, against a random baseline), :func:`analogy_accuracy`
  (``a : b :: c : ?`` on a hand-written list) and :func:`sense_accuracy` (leave-one-out
  nearest-centroid sense of a word in context), with MiniLM's contextual token vectors from
  :func:`contextual_vectors` against a static vector that is the same in every sentence.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

#: a word for the embeddings: letters, with an inner apostrophe or hyphen ("don't", "set-up")
WORD_RE = re.compile(r"[a-z]+(?:['-][a-z]+)*")


def words(text: str) -> list[str]:
    """The lowercased words of ``text`` (no punctuation, numbers or emoji)."""
    if not isinstance(text, str):
        raise TypeError(f"text should be a str, got {type(text).__name__}")
    return WORD_RE.findall(text.lower())


def sentences(texts: Sequence[str]) -> list[list[str]]:
    """Every text as its list of :func:`words`, empty ones dropped (gensim's input format)."""
    if isinstance(texts, str):
        raise TypeError("texts should be a list of texts, not one str: wrap it in a list")
    return [w for w in (words(t) for t in texts) if w]


# --------------------------------------------------------------------------- SGNS by hand


def skipgram_pairs(ids: Sequence[int], window: int) -> list[tuple[int, int]]:
    """The (center, context) pairs of one sentence: every other position at most ``window`` away.

    In order of the center's position, then the context's; a position is never its own
    context, and the window stops at the sentence's ends.
    """
    if not isinstance(window, int) or isinstance(window, bool) or window < 1:
        raise ValueError(f"window must be an int of at least 1, got {window!r}")
    ids = list(ids)
    return [
        (ids[i], ids[j])
        for i in range(len(ids))
        for j in range(max(0, i - window), min(len(ids), i + window + 1))
        if j != i
    ]


def sgns_loss(center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor) -> torch.Tensor:
    """Mean skip-gram negative-sampling loss of a batch.

    ``center`` and ``context`` are ``(batch, dim)``, ``negatives`` is ``(batch, k, dim)``
    (``k`` may be 0). Per pair: ``-log σ(c·o) - Σ_k log σ(-c·n_k)``.
    """
    if center.dim() != 2 or context.shape != center.shape:
        raise ValueError(
            f"center and context should both be (batch, dim), got {tuple(center.shape)} "
            f"and {tuple(context.shape)}"
        )
    if negatives.dim() != 3 or negatives.shape[0] != center.shape[0]:
        raise ValueError(
            f"negatives should be (batch, k, dim) with batch {center.shape[0]}, "
            f"got {tuple(negatives.shape)}"
        )
    positive = nn.functional.logsigmoid((center * context).sum(-1))
    negative = nn.functional.logsigmoid(-torch.einsum("bd,bkd->bk", center, negatives)).sum(-1)
    return -(positive + negative).mean()


def sgns_grad(
    center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The gradient of :func:`sgns_loss` with respect to its three inputs, written out.

    With ``s = σ(c·o)`` and ``t_k = σ(c·n_k)``, one pair's loss has
    ``∂/∂c = (s - 1) o + Σ_k t_k n_k``, ``∂/∂o = (s - 1) c``, ``∂/∂n_k = t_k c``
    (each divided by the batch size, as the loss is a mean).
    """
    batch = center.shape[0]
    s = torch.sigmoid((center * context).sum(-1, keepdim=True))  # (batch, 1)
    t = torch.sigmoid(torch.einsum("bd,bkd->bk", center, negatives)).unsqueeze(-1)  # (b, k, 1)
    g_center = (s - 1) * context + (t * negatives).sum(1)
    g_context = (s - 1) * center
    g_negatives = t * center.unsqueeze(1)
    return g_center / batch, g_context / batch, g_negatives / batch


def noise_distribution(counts: Sequence[int] | np.ndarray, power: float = 0.75) -> torch.Tensor:
    """The negative-sampling distribution: each word's count to the power 3/4, normalised."""
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 1 or counts.size == 0 or (counts < 0).any() or counts.sum() == 0:
        raise ValueError("counts should be a non-empty 1-D list of non-negative word counts")
    probs = counts**power
    return torch.tensor(probs / probs.sum(), dtype=torch.float32)


@dataclass(frozen=True)
class Vocabulary:
    """Words kept for training (at least ``min_count`` occurrences), most frequent first."""

    words: list[str]
    counts: list[int]

    @property
    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def encode(self, sentence: Sequence[str]) -> list[int]:
        """The ids of the sentence's known words (unknown words are dropped, as in gensim)."""
        index = self.index
        return [index[w] for w in sentence if w in index]


def build_vocabulary(corpus: Sequence[Sequence[str]], min_count: int = 1) -> Vocabulary:
    """Count the words of ``corpus`` (lists of words), keep those seen ``min_count`` times."""
    if isinstance(corpus, str) or not corpus:
        raise ValueError("corpus is empty: give a list of sentences, each a list of words")
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    counts = Counter(w for sentence in corpus for w in sentence)
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    if not kept:
        raise ValueError(f"no word occurs {min_count} times: lower min_count or give more text")
    return Vocabulary(kept, [counts[w] for w in kept])


@dataclass
class SkipGramOutput:
    """What :class:`SkipGram` returns: the loss, and the positive pair's score as ``logits``."""

    loss: torch.Tensor
    logits: torch.Tensor


class SkipGram(nn.Module):
    """Two embedding tables: ``center`` (the word vectors kept) and ``context`` (for scoring).

    ``forward`` draws ``k`` negatives per pair from ``noise`` (the global torch generator,
    seeded by :func:`coursekit.train.fit`) and returns ``loss_fn(c, o, n)``.
    """

    def __init__(
        self,
        vocab_size: int,
        dim: int,
        noise: torch.Tensor,
        k: int = 5,
        loss_fn: Callable[..., torch.Tensor] = sgns_loss,
    ) -> None:
        super().__init__()
        if vocab_size < 1 or dim < 1 or k < 0:
            raise ValueError(f"need vocab_size, dim >= 1 and k >= 0, got {vocab_size}, {dim}, {k}")
        self.center = nn.Embedding(vocab_size, dim)
        self.context = nn.Embedding(vocab_size, dim)
        nn.init.uniform_(self.center.weight, -0.5 / dim, 0.5 / dim)  # as word2vec.c
        nn.init.zeros_(self.context.weight)
        self.register_buffer("noise", noise)
        self.k = k
        self.loss_fn = loss_fn

    def forward(self, center: torch.Tensor, labels: torch.Tensor) -> SkipGramOutput:
        c, o = self.center(center), self.context(labels)
        drawn = torch.multinomial(self.noise, len(center) * self.k, replacement=True)
        n = self.context(drawn.view(len(center), self.k))
        return SkipGramOutput(self.loss_fn(c, o, n), (c * o).sum(-1))


class _Pairs(torch.utils.data.Dataset):
    """(center, context) rows, fetched a whole batch of indices at a time (no per-pair Python)."""

    def __init__(self, pairs: torch.Tensor) -> None:
        self.pairs = pairs

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, rows: list[int]) -> dict[str, torch.Tensor]:
        batch = self.pairs[torch.as_tensor(rows)]
        return {"center": batch[:, 0], "labels": batch[:, 1]}


class WordVectors:
    """Word vectors with gensim's two questions: ``most_similar`` and ``similarity`` (cosine)."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray) -> None:
        if len(words) != len(vectors):
            raise ValueError(f"{len(words)} words but {len(vectors)} vectors")
        self.index_to_key = list(words)
        self.key_to_index = {w: i for i, w in enumerate(self.index_to_key)}
        self.vectors = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        self._unit = self.vectors / np.maximum(norms, 1e-12)

    def __contains__(self, word: str) -> bool:
        return word in self.key_to_index

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self._id(word)]

    def _id(self, word: str) -> int:
        if word not in self.key_to_index:
            raise KeyError(f"{word!r} is not in the vocabulary (seen fewer than min_count times?)")
        return self.key_to_index[word]

    def similarity(self, a: str, b: str) -> float:
        return float(self._unit[self._id(a)] @ self._unit[self._id(b)])

    def most_similar(self, word: str, topn: int = 10) -> list[tuple[str, float]]:
        scores = self._unit @ self._unit[self._id(word)]
        scores[self._id(word)] = -np.inf
        best = np.argsort(-scores, kind="stable")[:topn]
        return [(self.index_to_key[i], float(scores[i])) for i in best]


def train_skipgram(
    corpus: Sequence[Sequence[str]],
    *,
    dim: int = 50,
    window: int = 2,
    k: int = 5,
    min_count: int = 3,
    epochs: int = 3,
    lr: float = 0.01,
    batch_size: int = 256,
    seed: int = 0,
    pairs_fn: Callable[[Sequence[int], int], Any] = skipgram_pairs,
    loss_fn: Callable[..., torch.Tensor] = sgns_loss,
) -> WordVectors:
    """Train SGNS word vectors on ``corpus`` (lists of words) with :func:`coursekit.train.fit`.

    ``pairs_fn`` and ``loss_fn`` are the pieces notebook 02 has the learner write; the
    defaults are this module's. Returns the ``center`` table as :class:`WordVectors`.
    """
    from coursekit import env, train

    vocab = build_vocabulary(corpus, min_count)
    pairs = [p for sentence in corpus for p in pairs_fn(vocab.encode(sentence), window)]
    if not pairs:
        raise ValueError("no (center, context) pairs: the sentences have fewer than 2 known words")
    env.seed_everything(seed)  # the tables' initial values
    model = SkipGram(len(vocab.words), dim, noise_distribution(vocab.counts), k, loss_fn)
    dataset = _Pairs(torch.tensor(pairs, dtype=torch.long))
    batches = torch.utils.data.BatchSampler(
        torch.utils.data.RandomSampler(dataset), batch_size, drop_last=False
    )
    loader = torch.utils.data.DataLoader(dataset, sampler=batches, batch_size=None)
    train.fit(
        model,
        loader,
        epochs=epochs,
        lr=lr,
        weight_decay=0.0,
        warmup_ratio=0.0,
        max_grad_norm=None,
        progress=False,
        seed=seed,
    )
    return WordVectors(vocab.words, model.center.weight.detach().numpy().copy())


# --------------------------------------------------------------------------- gensim


def word2vec(
    corpus: Sequence[Sequence[str]],
    *,
    dim: int = 50,
    window: int = 3,
    k: int = 5,
    min_count: int = 3,
    epochs: int = 10,
    seed: int = 0,
) -> Any:
    """gensim's skip-gram Word2Vec (``sg=1``, ``negative=k``) on ``corpus``; its ``.wv``.

    One worker thread and a fixed seed: the same machine gives the same vectors every run
    (several threads would interleave updates differently each time). Another processor can
    still differ in the last bits, so report what the vectors do, not their digits.
    """
    from gensim.models import Word2Vec

    if isinstance(corpus, str) or not corpus:
        raise ValueError("corpus is empty: give a list of sentences, each a list of words")
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    model = Word2Vec(
        [list(s) for s in corpus],
        vector_size=dim,
        window=window,
        min_count=min_count,
        sg=1,
        negative=k,
        epochs=epochs,
        seed=seed,
        workers=1,
    )
    return model.wv


# --------------------------------------------------------------------------- what they learn


def word_categories(
    texts: Sequence[str], categories: Sequence[str], *, min_count: int = 10, purity: float = 0.9
) -> dict[str, str]:
    """Words that belong to one product category: at least ``purity`` of their uses are there.

    Counted over ``texts`` (one category each); words seen fewer than ``min_count`` times
    are left out. "blender" is home & kitchen; "great" belongs to no category.
    """
    if len(texts) != len(categories):
        raise ValueError(f"{len(texts)} texts but {len(categories)} categories")
    by_word: dict[str, Counter[str]] = {}
    for text, category in zip(texts, categories, strict=True):
        for w in words(text):
            by_word.setdefault(w, Counter())[category] += 1
    out = {}
    for w, counts in by_word.items():
        (top, n), total = counts.most_common(1)[0], sum(counts.values())
        if total >= min_count and n / total >= purity:
            out[w] = top
    return out


def category_neighbour_rate(
    vectors: Any, categories: dict[str, str], topn: int = 10
) -> tuple[float, float]:
    """(rate, baseline): how often a category word's nearest category words share its category.

    For every word of ``categories`` in ``vectors``, its ``topn`` nearest neighbours among
    the other category words (cosine); ``rate`` is the share in the same category,
    ``baseline`` the share a random pick would give (same-category pairs among all pairs).
    """
    known = [w for w in sorted(categories) if w in vectors]
    if len(known) <= topn:
        raise ValueError(f"only {len(known)} category words have vectors; need more than {topn}")
    unit = np.stack([np.asarray(vectors[w], dtype=float) for w in known])
    unit /= np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    labels = np.array([categories[w] for w in known])
    nearest = np.argsort(-sims, axis=1, kind="stable")[:, :topn]
    rate = float((labels[nearest] == labels[:, None]).mean())
    same = labels[:, None] == labels[None, :]
    baseline = float((same.sum() - len(known)) / (len(known) * (len(known) - 1)))
    return rate, baseline


def load_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The rows of a JSON-lines file (a hand-written fixture)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: check the path (tests/fixtures/...)")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def analogy_accuracy(vectors: Any, analogies: Sequence[Sequence[str]]) -> tuple[float, list[str]]:
    """``a : b :: c : d`` solved as the nearest word to ``b - a + c`` (not a, b or c).

    Returns (accuracy over the rows whose four words all have vectors, the answers in order;
    ``""`` for a skipped row). No row with known words raises a ``ValueError``.
    """
    words_ = list(vectors.index_to_key)
    unit = np.stack([np.asarray(vectors[w], dtype=float) for w in words_])
    unit /= np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    index = {w: i for i, w in enumerate(words_)}
    answers, hits = [], []
    for row in analogies:
        if len(row) != 4:
            raise ValueError(f"an analogy has four words a, b, c, d; got {list(row)}")
        if not all(w in index for w in row):
            answers.append("")
            continue
        a, b, c, d = (index[w] for w in row)
        scores = unit @ (unit[b] - unit[a] + unit[c])
        scores[[a, b, c]] = -np.inf
        guess = words_[int(np.argmax(scores))]
        answers.append(guess)
        hits.append(guess == row[3])
    if not hits:
        raise ValueError("no analogy has all four words in the vocabulary")
    return float(np.mean(hits)), answers


@torch.no_grad()
def contextual_vectors(
    texts: Sequence[str],
    targets: Sequence[str],
    tokenizer: Any = None,
    encoder: Any = None,
    batch_size: int = 32,
) -> np.ndarray:
    """MiniLM's vector of ``targets[i]`` inside ``texts[i]``: its tokens' last hidden states, averaged.

    The word is found as a whole word (case-insensitive, first occurrence); the tokens that
    cover its characters come from the tokenizer's offsets (notebook 02, section 6).
    ``tokenizer``/``encoder`` default to the course's MiniLM (``retrieval.load_encoder``);
    texts go through it ``batch_size`` at a time (padding is masked, so a text's vectors do
    not depend on its batch).
    """
    if len(texts) != len(targets):
        raise ValueError(f"{len(texts)} texts but {len(targets)} target words")
    if tokenizer is None or encoder is None:
        from coursekit.retrieval import load_encoder

        tokenizer, encoder = load_encoder()
    spans = []
    for text, target in zip(texts, targets, strict=True):
        match = re.search(rf"(?i)\b{re.escape(target)}\b", text)
        if match is None:
            raise ValueError(f"{target!r} does not occur as a word in {text!r}")
        spans.append(match.span())
    out = []
    for lo in range(0, len(texts), batch_size):
        enc = tokenizer(
            list(texts[lo : lo + batch_size]),
            padding=True,
            truncation=True,
            return_offsets_mapping=True,
            return_tensors="pt",
        )
        offsets = enc.pop("offset_mapping").tolist()
        hidden = encoder(**enc).last_hidden_state
        for row, (start, end) in enumerate(spans[lo : lo + batch_size]):
            cover = [i for i, (a, b) in enumerate(offsets[row]) if b > a and a < end and b > start]
            out.append(hidden[row, cover].mean(0).numpy())
    return np.stack(out)


def sense_accuracy(vectors: np.ndarray, senses: Sequence[str]) -> np.ndarray:
    """Leave-one-out nearest-centroid sense: for each row, is it closest to its own sense?

    Each row is compared (cosine) with the mean of the *other* rows of every sense; returns a
    boolean array (correct or not per row). Identical rows (a static vector) all tie, and a
    tie counts as wrong, so a vector that ignores context scores 0.
    """
    x = np.asarray(vectors, dtype=float)
    labels = np.asarray(senses)
    kinds = sorted(set(labels.tolist()))
    if len(x) != len(labels) or len(kinds) < 2:
        raise ValueError("need one sense per vector and at least two senses")
    if min(Counter(labels.tolist()).values()) < 2:
        raise ValueError("each sense needs at least 2 examples for leave-one-out")
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    correct = np.zeros(len(x), dtype=bool)
    for i in range(len(x)):
        keep = np.arange(len(x)) != i
        scores = {}
        for kind in kinds:
            centroid = x[keep & (labels == kind)].mean(0)
            scores[kind] = float(x[i] @ centroid / max(np.linalg.norm(centroid), 1e-12))
        best = max(scores.values())
        winners = [kind for kind, s in scores.items() if best - s < 1e-6]
        correct[i] = winners == [labels[i]]
    return correct


def sense_gap(vectors: np.ndarray, senses: Sequence[str]) -> tuple[float, float]:
    """(mean cosine of same-sense pairs, mean cosine of cross-sense pairs)."""
    x = np.asarray(vectors, dtype=float)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    labels = np.asarray(senses)
    sims = x @ x.T
    same = labels[:, None] == labels[None, :]
    off = ~np.eye(len(x), dtype=bool)
    return float(sims[same & off].mean()), float(sims[~same].mean())
