"""The answer index: :class:`AnswerIndex` (embeddings, ids, texts, payloads) and its :class:`Hit` s.

Built once from the entries' texts, searched for a batch of queries with one matrix product
and a partial sort for the top k, saved as ``embeddings.safetensors`` + ``index.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from coursekit.retrieval.embeddings import _check_texts, embed, normalize


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
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        per_id = len(self) // len(set(self.ids))  # an entry indexed as several texts
        scores, rows = self.search_embeddings(embed(texts, model=self.model), k * per_id)
        hits = []
        for srow, jrow in zip(scores, rows, strict=True):
            seen: set[str] = set()
            found: list[Hit] = []
            for s, j in zip(srow, jrow, strict=True):
                if self.ids[j] not in seen and len(found) < k:  # an entry's best text only
                    seen.add(self.ids[j])
                    found.append(
                        Hit(len(found) + 1, self.ids[j], self.texts[j], float(s), self.payloads[j])
                    )
            hits.append(found)
        return hits[0] if single else hits

    def entry_scores(self, queries: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Cosine of every query embedding to every ENTRY (an entry indexed as several texts
        scores its best one): ``(n, entries)`` and the entries' ids, in first-seen order."""
        self.search_embeddings(queries, k=1)  # checks the index and the query sizes
        q = normalize(np.atleast_2d(np.asarray(queries, dtype=np.float32)))
        full = q @ self.embeddings.T
        unique = list(dict.fromkeys(self.ids))
        col = {i: c for c, i in enumerate(unique)}
        out = np.full((full.shape[0], len(unique)), -np.inf, dtype=np.float32)
        for j, entry_id in enumerate(self.ids):
            c = col[entry_id]
            out[:, c] = np.maximum(out[:, c], full[:, j])
        return out, unique

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


__all__ = ["AnswerIndex", "Hit"]
