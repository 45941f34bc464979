"""Answer search: sentence embeddings, an answer index, keyword baselines, and knowing when to stop.

A shopper types *"where's my parcel??"*; the shop has an FAQ entry *"How do I
track my order?"*. No word is shared, yet they mean the same thing. The recipe:

1. **Embed** every text into one vector. Run the pretrained MiniLM encoder to
   get one vector per token, then take the **mean over the real tokens**
   (the attention mask says which ones; padding must not count)::

       e = sum_t mask_t * h_t / sum_t mask_t          # (batch, 384)

   and scale it to length 1, so that a dot product *is* the cosine similarity
   (:func:`mean_pool`, :func:`embed`; equal to ``sentence-transformers`` on the
   same model to within 1e-5, tested).
2. **Index** the FAQ questions once (:class:`AnswerIndex`: a float32 matrix
   plus ids and payloads, saved as safetensors + JSON). A batch of queries is
   answered with one matrix product ``Q @ E.T`` and a partial sort for the top k.
3. **Compare** with keyword search: TF-IDF (:class:`TfidfRetriever`) and
   Okapi BM25 (:class:`BM25`), scored by top-1 accuracy and mean reciprocal
   rank (:func:`rank_metrics`).
4. **Abstain** when unsure: when the best score is low (the question is about
   something else) or barely ahead of the runner-up (two entries fit), the
   shopper is handed to a person (:data:`HANDOFF_MESSAGE`). Both thresholds are
   chosen on validation paraphrases (:func:`coverage_precision`,
   :func:`choose_threshold`, :func:`fit_abstain_rule`).

:func:`load_faq_index` builds the shop's FAQ index (and its threshold) once
into the artifact cache; ``coursekit ask "where is my order?"`` uses it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import torch

#: the encoder's token limit used by sentence-transformers for all-MiniLM-L6-v2
MAX_LENGTH = 256
#: what the shop says when no FAQ answer is similar enough
HANDOFF_MESSAGE = (
    "I'm not sure I have the right answer to that. "
    "I'm passing your question to a member of our customer-service team, "
    "who will reply within one working day."
)
#: the recipe version of :func:`load_faq_index`; bump it when the recipe changes
FAQ_INDEX_RECIPE = "2"
#: precision the FAQ threshold must reach on the validation paraphrases
FAQ_TARGET_PRECISION = 0.95


# --------------------------------------------------------------------------- embeddings


@functools.lru_cache(maxsize=2)
def load_encoder(model: str | None = None) -> tuple[Any, Any]:
    """The (tokenizer, model) pair, loaded once per process, in eval mode on the CPU.

    ``model=None`` is the course's local MiniLM (:func:`coursekit.env.minilm_path`);
    a Hugging Face hub id is allowed only when the machine is online.
    """
    from transformers import AutoModel, AutoTokenizer

    from coursekit import env

    if model is None:
        source = env.minilm_path()
    else:
        if not isinstance(model, str) or not model.strip():
            raise TypeError("model should be a hub id or a local folder (a non-empty str)")
        source = model
        if not Path(model).expanduser().exists():
            env.require_online(f"the encoder {model!r}")
    tokenizer = AutoTokenizer.from_pretrained(source)
    encoder = AutoModel.from_pretrained(source)
    encoder.eval()
    return tokenizer, encoder


def mean_pool(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average the token vectors of each text, counting only real tokens (mask == 1).

    ``token_embeddings`` is ``(batch, seq, dim)``, ``attention_mask`` is ``(batch, seq)``;
    the result is ``(batch, dim)``. Padding positions get weight 0.
    """
    mask = attention_mask.unsqueeze(-1).to(token_embeddings.dtype)  # (batch, seq, 1)
    summed = (token_embeddings * mask).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=1e-9)
    return summed / counts


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Scale each row to unit length (rows of zeros stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """All pairwise cosine similarities between the rows of ``a`` (n, d) and ``b`` (m, d)."""
    a2, b2 = np.atleast_2d(a), np.atleast_2d(b)
    if a2.shape[-1] != b2.shape[-1]:
        raise ValueError(
            f"embedding sizes differ: {a2.shape[-1]} vs {b2.shape[-1]}; "
            "embed both sides with the same model"
        )
    return normalize(a2) @ normalize(b2).T


def _check_texts(texts: Sequence[str] | str) -> list[str]:
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, Sequence) and not hasattr(texts, "__iter__"):
        raise TypeError(f"texts should be a list of str, not {type(texts).__name__}")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] is a {type(text).__name__}; every text must be a str")
    return texts


def embed(
    texts: Sequence[str] | str,
    model: str | None = None,
    batch_size: int = 64,
    normalize_output: bool = True,
    max_length: int = MAX_LENGTH,
) -> np.ndarray:
    """Sentence embeddings, ``(len(texts), 384)`` float32, unit length by default.

    Tokenize (truncate at ``max_length`` tokens; the model's own limit by default),
    run the encoder, mean-pool over the attention mask, normalise. Texts are sorted
    by length before batching, so each batch pads little (the output keeps the input
    order). The cost grows with the number of tokens: truncating long texts is the
    cheapest speed-up.
    """
    import torch

    texts = _check_texts(texts)
    if batch_size < 1 or max_length < 2:
        raise ValueError(
            f"need batch_size >= 1 and max_length >= 2, got {batch_size}, {max_length}"
        )
    tokenizer, encoder = load_encoder(model)
    dim = int(encoder.config.hidden_size)
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    out = np.empty((len(texts), dim), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=min(int(max_length), MAX_LENGTH),
                return_tensors="pt",
            )
            hidden = encoder(**batch).last_hidden_state
            pooled = mean_pool(hidden, batch["attention_mask"])
            if normalize_output:
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
            out[idx] = pooled.float().numpy()
    return out


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True)
class Hit:
    """One search result: rank (1 = best), the entry's id, text and payload, and its score."""

    rank: int
    id: str
    text: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class AnswerIndex:
    """Unit-length embeddings of the entries (one row each), with ids, texts and payloads.

    ``meta`` holds anything worth saving with the index (the model, a threshold...).
    """

    embeddings: np.ndarray
    ids: list[str]
    texts: list[str]
    payloads: list[dict[str, Any]] = field(default_factory=list)
    model: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        emb = np.asarray(self.embeddings, dtype=np.float32)
        if emb.ndim != 2:
            raise ValueError(
                f"embeddings should be a 2-D (entries, dim) array, got shape {emb.shape}"
            )
        n = emb.shape[0]
        if len(self.ids) != n or len(self.texts) != n:
            raise ValueError(
                f"{n} embeddings but {len(self.ids)} ids and {len(self.texts)} texts; "
                "give one id and one text per row"
            )
        if not self.payloads:
            self.payloads = [{} for _ in range(n)]
        if len(self.payloads) != n:
            raise ValueError(f"{n} embeddings but {len(self.payloads)} payloads")
        self.embeddings = normalize(emb)
        self.ids = [str(i) for i in self.ids]

    # -- building ------------------------------------------------------------
    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        ids: Sequence[Any] | None = None,
        payloads: Sequence[dict[str, Any]] | None = None,
        model: str | None = None,
        batch_size: int = 64,
        meta: dict[str, Any] | None = None,
    ) -> AnswerIndex:
        """Embed ``texts`` and index them. An empty list is refused (nothing to search)."""
        texts = _check_texts(texts)
        if not texts:
            raise ValueError("cannot build an index from 0 texts; give at least one entry")
        ids = [str(i) for i in (ids if ids is not None else range(len(texts)))]
        emb = embed(texts, model=model, batch_size=batch_size)
        return cls(emb, ids, texts, list(payloads or []), model, dict(meta or {}))

    def __len__(self) -> int:
        return int(self.embeddings.shape[0])

    @property
    def dim(self) -> int:
        """The embedding size."""
        return int(self.embeddings.shape[1])

    # -- searching -----------------------------------------------------------
    def search_embeddings(self, queries: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, row indices) for a batch of query embeddings, best first.

        ``queries`` is ``(n, dim)`` (or one ``(dim,)`` vector); both results are ``(n, k)``.
        One matrix product gives every cosine score, ``argpartition`` the top k.
        """
        if len(self) == 0:
            raise ValueError(
                "the index is empty; build it from at least one entry before searching"
            )
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValueError(
                f"query embeddings have size {q.shape[-1]} but the index holds size {self.dim}; "
                "embed queries with the same model as the index"
            )
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        k = min(int(k), len(self))
        scores = normalize(q) @ self.embeddings.T  # (n, entries)
        if k < scores.shape[1]:
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        else:
            top = np.broadcast_to(np.arange(scores.shape[1]), scores.shape).copy()
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        return np.take_along_axis(top_scores, order, axis=1), np.take_along_axis(top, order, axis=1)

    def search(self, queries: str | Sequence[str], k: int = 5) -> list[Hit] | list[list[Hit]]:
        """Embed the query (or queries) and return the top-``k`` :class:`Hit` s.

        One str gives one list of hits; a list of str gives one list per query.
        An empty or blank query is refused with a ``ValueError``.
        """
        single = isinstance(queries, str)
        texts = _check_texts(queries)
        if not texts:
            raise ValueError("no queries given; pass a question (str) or a list of them")
        for text in texts:
            if not text.strip():
                raise ValueError("the query is empty; ask a question with at least one word")
        if len(self) == 0:
            raise ValueError(
                "the index is empty; build it from at least one entry before searching"
            )
        scores, rows = self.search_embeddings(embed(texts, model=self.model), k)
        hits = [
            [
                Hit(r + 1, self.ids[j], self.texts[j], float(s), self.payloads[j])
                for r, (s, j) in enumerate(zip(srow, jrow, strict=True))
            ]
            for srow, jrow in zip(scores, rows, strict=True)
        ]
        return hits[0] if single else hits

    # -- saving --------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write ``embeddings.safetensors`` and ``index.json`` into ``folder``."""
        from safetensors.numpy import save_file

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file(
            {"embeddings": np.ascontiguousarray(self.embeddings)}, folder / "embeddings.safetensors"
        )
        record = {
            "ids": self.ids,
            "texts": self.texts,
            "payloads": self.payloads,
            "model": self.model,
            "dim": self.dim,
            "meta": self.meta,
        }
        (folder / "index.json").write_text(json.dumps(record, ensure_ascii=False, indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> AnswerIndex:
        """Read an index written by :meth:`save`."""
        from safetensors.numpy import load_file

        folder = Path(folder)
        tensors, record = folder / "embeddings.safetensors", folder / "index.json"
        if not tensors.exists() or not record.exists():
            raise FileNotFoundError(
                f"no saved index in {folder} (expected embeddings.safetensors and index.json); "
                "build one with AnswerIndex.build(...).save(folder)"
            )
        emb = load_file(str(tensors))["embeddings"]
        info = json.loads(record.read_text())
        if emb.shape[1] != info["dim"]:
            raise ValueError(
                f"{folder}: the embeddings have size {emb.shape[1]} but index.json says {info['dim']}"
            )
        return cls(emb, info["ids"], info["texts"], info["payloads"], info["model"], info["meta"])


# --------------------------------------------------------------------------- keyword baselines

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
#: a short stopword list for keyword search (question words and negations are kept: they matter)
KEYWORD_STOPWORDS = frozenset(
    "a an the is are was were be been am i my me we our you your it its this that to of in on "
    "for at by with and or do does did can could would should will shall have has had there "
    "please hi hello thanks thank".split()
)


def keyword_tokens(text: str, stopwords: frozenset[str] = KEYWORD_STOPWORDS) -> list[str]:
    """Lowercase word tokens for keyword search, without the very common function words."""
    return [t for t in _WORD.findall(text.lower()) if t not in stopwords]


class TfidfRetriever:
    """TF-IDF vectors (scikit-learn, sublinear tf, unigrams + bigrams) and cosine scores."""

    def __init__(self, docs: Sequence[str], ngram_range: tuple[int, int] = (1, 2)) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs = _check_texts(docs)
        if not docs:
            raise ValueError("cannot fit TF-IDF on 0 documents")
        self.vectorizer = TfidfVectorizer(
            tokenizer=keyword_tokens,
            token_pattern=None,
            lowercase=False,
            ngram_range=ngram_range,
            sublinear_tf=True,
        )
        self.matrix = self.vectorizer.fit_transform(docs)

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """Cosine similarity of each query to each document, ``(n_queries, n_docs)``."""
        q = self.vectorizer.transform(_check_texts(queries))
        return np.asarray((q @ self.matrix.T).todense(), dtype=np.float32)


class BM25:
    """Okapi BM25, the classic keyword ranking function of search engines.

    For a query q and document d (length |d|, average length avgdl)::

        score(q, d) = sum_{t in q} idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b*|d|/avgdl))
        idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))      (never negative)

    ``k1`` caps how much repeating a word helps; ``b`` penalises long documents.
    """

    def __init__(self, docs: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        docs = _check_texts(docs)
        if not docs:
            raise ValueError("cannot fit BM25 on 0 documents")
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"need k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1, self.b = float(k1), float(b)
        tokens = [keyword_tokens(d) for d in docs]
        self.vocab = {w: i for i, w in enumerate(sorted({w for doc in tokens for w in doc}))}
        n_docs = len(docs)
        self.tf = np.zeros((n_docs, len(self.vocab)), dtype=np.float32)
        for row, doc in enumerate(tokens):
            for word, count in Counter(doc).items():
                self.tf[row, self.vocab[word]] = count
        self.doc_len = np.array([len(d) for d in tokens], dtype=np.float32)
        self.avgdl = float(self.doc_len.mean()) if self.doc_len.sum() > 0 else 1.0
        df = (self.tf > 0).sum(axis=0)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = self.k1 * (1 - self.b + self.b * self.doc_len / self.avgdl)  # (n_docs,)
        self._weights = self.idf * self.tf * (self.k1 + 1) / (self.tf + norm[:, None])

    def score_one(self, query: str) -> np.ndarray:
        """BM25 score of one query against every document, ``(n_docs,)``."""
        cols = [self.vocab[w] for w in keyword_tokens(query) if w in self.vocab]
        return (
            self._weights[:, cols].sum(axis=1) if cols else np.zeros(len(self.doc_len), np.float32)
        )

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """BM25 scores, ``(n_queries, n_docs)`` (a repeated query word counts each time)."""
        return np.stack([self.score_one(q) for q in _check_texts(queries)]).astype(np.float32)


# --------------------------------------------------------------------------- evaluation


def ranks_of(scores: np.ndarray, gold: Sequence[int]) -> np.ndarray:
    """The 1-based rank of each query's correct document (ties count against it).

    ``scores`` is ``(n_queries, n_docs)``; ``gold[i]`` is the column of query i's answer.
    """
    scores = np.asarray(scores, dtype=np.float64)
    gold = np.asarray(gold, dtype=int)
    if scores.ndim != 2 or scores.shape[0] != gold.shape[0]:
        raise ValueError(f"scores {scores.shape} and gold ({gold.shape[0]},) do not line up")
    if gold.size and (gold.min() < 0 or gold.max() >= scores.shape[1]):
        raise ValueError(f"gold holds a column outside 0..{scores.shape[1] - 1}")
    target = scores[np.arange(len(gold)), gold]
    return (scores >= target[:, None]).sum(axis=1)


def rank_metrics(scores: np.ndarray, gold: Sequence[int]) -> dict[str, float]:
    """Top-1 accuracy, top-3 accuracy and mean reciprocal rank (MRR = mean of 1/rank)."""
    ranks = ranks_of(scores, gold)
    return {
        "top1": float(np.mean(ranks == 1)),
        "top3": float(np.mean(ranks <= 3)),
        "mrr": float(np.mean(1.0 / ranks)),
    }


# --------------------------------------------------------------------------- abstaining


def coverage_precision(top_scores: Sequence[float], correct: Sequence[bool]) -> pd.DataFrame:
    """For every candidate threshold: the share of questions answered and how many are right.

    Answer when ``score >= threshold``. ``coverage`` = answered / all,
    ``precision`` = right / answered. One row per distinct score, highest threshold first.
    """
    import pandas as pd

    s = np.asarray(top_scores, dtype=np.float64)
    c = np.asarray(correct, dtype=bool)
    if s.shape != c.shape or s.ndim != 1 or len(s) == 0:
        raise ValueError("top_scores and correct must be 1-D, non-empty and the same length")
    order = np.argsort(-s, kind="stable")
    s, c = s[order], c[order]
    answered = np.arange(1, len(s) + 1)
    right = np.cumsum(c)
    last = np.r_[s[1:] != s[:-1], True]  # keep the last row of each run of equal scores
    return pd.DataFrame(
        {
            "threshold": s[last],
            "coverage": answered[last] / len(s),
            "precision": right[last] / answered[last],
        }
    ).reset_index(drop=True)


def choose_threshold(
    top_scores: Sequence[float], correct: Sequence[bool], target_precision: float = 0.95
) -> float:
    """The lowest threshold whose precision is still >= ``target_precision`` (most coverage).

    Choose it on validation questions, then report coverage and precision on test.
    If no threshold reaches the target, the highest score is returned (answer almost nothing).
    """
    curve = coverage_precision(top_scores, correct)
    ok = curve[curve["precision"] >= target_precision]
    return float(ok["threshold"].min()) if len(ok) else float(curve["threshold"].max())


@dataclass(frozen=True)
class AbstainRule:
    """When to answer: the best score is high enough AND clearly ahead of the runner-up.

    * ``min_score``: below it the question looks unlike every FAQ entry (out of scope):
      hand it off to a person;
    * ``min_margin``: below it two entries fit about equally well (the search is torn):
      ask the shopper which one they mean.
    """

    min_score: float
    min_margin: float

    def decide(self, top_scores: np.ndarray) -> np.ndarray:
        """``"answer"``, ``"clarify"`` or ``"handoff"`` for each row of ``(n, 2)`` best and
        second-best scores."""
        top = np.atleast_2d(np.asarray(top_scores, dtype=np.float64))
        second = top[:, 1] if top.shape[1] > 1 else np.zeros(len(top))
        return np.where(
            top[:, 0] < self.min_score,
            "handoff",
            np.where(top[:, 0] - second < self.min_margin, "clarify", "answer"),
        )

    def answers(self, top_scores: np.ndarray) -> np.ndarray:
        """Which questions get an answer straight away (boolean mask)."""
        return self.decide(top_scores) == "answer"


def fit_abstain_rule(
    top_scores: np.ndarray,
    correct: Sequence[bool],
    target_precision: float = 0.95,
    floor_quantile: float = 0.01,
) -> AbstainRule:
    """Fit an :class:`AbstainRule` on VALIDATION questions (all of them answerable).

    ``min_score`` is the ``floor_quantile`` of their best scores: a question scoring lower
    than 99 % of real shop questions is probably about something else. ``min_margin`` is
    the lowest margin (best - second best) that keeps ``target_precision``
    (:func:`choose_threshold`).
    """
    top = np.asarray(top_scores, dtype=np.float64)
    if top.ndim != 2 or top.shape[1] < 2:
        raise ValueError("top_scores should be (questions, 2): the best and second-best scores")
    floor = float(np.quantile(top[:, 0], floor_quantile))
    margin = choose_threshold(top[:, 0] - top[:, 1], correct, target_precision)
    return AbstainRule(round(floor, 6), round(margin, 6))


def answer_or_handoff(hits: Sequence[Hit], rule: AbstainRule) -> str:
    """What to tell the shopper, given one query's hits (best first, k >= 2).

    The best hit's answer; or, when the two best fit about equally well, a question
    asking which one they mean; or, when nothing fits, :data:`HANDOFF_MESSAGE`.
    """
    if not hits:
        raise ValueError("no hits given; search with k >= 2 first")
    second = hits[1].score if len(hits) > 1 else 0.0
    decision = str(rule.decide(np.array([[hits[0].score, second]]))[0])
    if decision == "answer":
        return str(hits[0].payload.get("answer", hits[0].text))
    if decision == "clarify":
        return f"Did you mean: (1) {hits[0].text} or (2) {hits[1].text}"
    return HANDOFF_MESSAGE


# --------------------------------------------------------------------------- recommendations


def most_similar(embeddings: np.ndarray, i: int, k: int = 5) -> np.ndarray:
    """Rows of the ``k`` items most similar to item ``i`` (cosine), best first, never ``i`` itself."""
    emb = normalize(np.asarray(embeddings))
    if not 0 <= i < len(emb):
        raise IndexError(f"item {i} is out of range for {len(emb)} items")
    sims = emb @ emb[i]
    sims[i] = -np.inf
    return np.argsort(-sims, kind="stable")[: min(k, len(emb) - 1)]


def group_mean(embeddings: np.ndarray, groups: Sequence[Any]) -> tuple[list[Any], np.ndarray]:
    """Average the (unit) rows of each group, then renormalise: e.g. one vector per product
    from its reviews. Returns (groups in first-seen order, ``(n_groups, dim)``)."""
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(list(groups)), sort=False)
    sums = np.zeros((len(uniques), embeddings.shape[1]), dtype=np.float64)
    np.add.at(sums, codes, embeddings)
    return list(uniques), normalize(sums)


# --------------------------------------------------------------------------- the shop FAQ


def _faq_fingerprint() -> str:
    from coursekit.data import load_faq, load_faq_paraphrases

    faq, para = load_faq(), load_faq_paraphrases("validation")
    blob = json.dumps(
        [
            faq[["faq_id", "question", "answer"]].values.tolist(),
            para[["faq_id", "text"]].values.tolist(),
        ]
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:10]


def faq_documents(faq: pd.DataFrame) -> list[str]:
    """The text indexed for each FAQ entry: its question (what shoppers' questions resemble)."""
    return faq["question"].astype(str).tolist()


def build_faq_index(target_precision: float = FAQ_TARGET_PRECISION) -> AnswerIndex:
    """Embed the shop's FAQ questions and store the hand-off threshold chosen on validation."""
    from coursekit.data import load_faq, load_faq_paraphrases

    faq = load_faq()
    payloads = [
        {"question": q, "answer": a, "topic": t}
        for q, a, t in zip(faq["question"], faq["answer"], faq["topic"], strict=True)
    ]
    index = AnswerIndex.build(faq_documents(faq), ids=faq["faq_id"].tolist(), payloads=payloads)
    val = load_faq_paraphrases("validation")
    scores, rows = index.search_embeddings(embed(val["text"].tolist()), k=2)
    correct = np.array(index.ids)[rows[:, 0]] == val["faq_id"].astype(str).to_numpy()
    rule = fit_abstain_rule(scores, correct, target_precision)
    index.meta.update(
        {
            "min_score": rule.min_score,
            "min_margin": rule.min_margin,
            "target_precision": target_precision,
            "source": "shop FAQ",
        }
    )
    return index


def load_faq_index(rebuild: bool = False) -> AnswerIndex:
    """The shop's FAQ :class:`AnswerIndex`, built once into the cache (a few seconds), then loaded.

    ``index.meta`` holds the hand-off rule fitted on validation (``min_score``,
    ``min_margin``); :func:`faq_rule` turns it into an :class:`AbstainRule`.
    """
    from coursekit import env
    from coursekit.cache import folder_digest, get_or_build, recipe_key

    version = recipe_key(
        {"faq_index": FAQ_INDEX_RECIPE, "target_precision": FAQ_TARGET_PRECISION},
        data=[_faq_fingerprint()],
        upstream=[folder_digest(env.minilm_path())],
    )
    folder = get_or_build(
        "faq-index", lambda tmp: build_faq_index().save(tmp), version=version, rebuild=rebuild
    )
    return AnswerIndex.load(folder)


def faq_rule(index: AnswerIndex) -> AbstainRule:
    """The :class:`AbstainRule` stored with an index by :func:`build_faq_index`."""
    try:
        return AbstainRule(float(index.meta["min_score"]), float(index.meta["min_margin"]))
    except KeyError:
        raise ValueError(
            "this index has no hand-off rule; build it with build_faq_index()"
        ) from None


__all__ = [
    "BM25",
    "FAQ_TARGET_PRECISION",
    "HANDOFF_MESSAGE",
    "MAX_LENGTH",
    "AbstainRule",
    "AnswerIndex",
    "Hit",
    "TfidfRetriever",
    "answer_or_handoff",
    "build_faq_index",
    "choose_threshold",
    "cosine_similarity",
    "coverage_precision",
    "embed",
    "faq_documents",
    "faq_rule",
    "fit_abstain_rule",
    "group_mean",
    "keyword_tokens",
    "load_encoder",
    "load_faq_index",
    "mean_pool",
    "most_similar",
    "normalize",
    "rank_metrics",
    "ranks_of",
]
