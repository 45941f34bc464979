"""A cross-encoder re-ranker: read the question and an FAQ entry TOGETHER, score the pair.

The bi-encoder (:func:`~coursekit.retrieval.embed`) turns the question and each entry into
one vector each, separately, and compares them with a dot product: fast (the entries are
embedded once), but the question never "sees" the entry. A **cross-encoder** feeds the
pair as one sequence, ``[CLS] question [SEP] FAQ question + answer [SEP]``, so every layer's
attention mixes the two, and a one-logit head reads a relevance score::

    h     = MiniLM(question, entry)                  # (tokens, 384), the pair as one text
    score = 20 * cos(question, entry) + w @ mean(h) + b   # one number per pair

The first term is the bi-encoder's cosine (the **prior**); the head starts at zero, so the
re-ranker starts exactly as the first stage's ranking and learns corrections from the pair.

Too slow to score all entries for every question, so it **re-ranks**: the bi-encoder keeps
its top-k candidates (:data:`RERANK_TOP_K`) and the cross-encoder re-orders them.

Training (:func:`train_cross_encoder`) goes through the course's one loop,
:func:`coursekit.train.fit`, on the generated TRAINING paraphrases: each question comes with
its own entry and the bi-encoder's best WRONG entries (**hard negatives**, the ones it
confuses), and the loss is a softmax over that small list (the right entry should win).
Only the top layers and the head learn; the frozen bottom runs once per pair
(:func:`~coursekit.retrieval.finetune.hidden_states_at`), which keeps the build to a few
minutes on a laptop CPU. :func:`load_cross_encoder` caches it (safetensors);
:func:`rerank_scores` scores pairs and :func:`rerank_top_k` re-orders a score matrix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

#: the recipe version of :func:`load_cross_encoder`; bump it when the recipe changes
CROSS_ENCODER_RECIPE = "2"
#: how many of the bi-encoder's candidates the cross-encoder re-orders
RERANK_TOP_K = 5
#: below the re-ranked list: the rest of the entries keep the bi-encoder's order this far down
_BELOW = 1000.0


@dataclass(frozen=True)
class CrossEncoderRecipe:
    """The re-ranker's training settings (small on purpose: a laptop CPU builds it)."""

    questions: int = 576  # training questions used (drawn evenly over the entries)
    negatives: int = 3  # hard negatives per question, from the bi-encoder's top candidates
    steps: int = 72
    batch_questions: int = 8  # a batch holds batch_questions * (1 + negatives) pairs
    lr: float = 2e-4
    max_length: int = 64  # tokens of the pair (the entry is cut, never the question)
    trained_layers: int = 2
    #: the pair's score is ``prior_scale * first-stage cosine + head(...)``: the head starts at
    #: zero, so the re-ranker starts as the bi-encoder's ranking and learns corrections
    prior_scale: float = 20.0
    seed: int = 0


def pair_texts(faq: Any) -> list[str]:
    """The entry side of each pair: the FAQ question, then its answer."""
    return (faq["question"].astype(str) + " " + faq["answer"].astype(str)).tolist()


def _pair_batches(
    tokenizer: Any,
    questions: Sequence[str],
    entries: Sequence[str],
    max_length: int,
    batch_size: int,
) -> Iterator[Any]:
    """The (question, entry) pairs tokenized together, ``batch_size`` pairs at a time."""
    for start in range(0, len(questions), batch_size):
        yield tokenizer(
            list(questions[start : start + batch_size]),
            list(entries[start : start + batch_size]),
            padding=True,
            truncation="only_second",
            max_length=max_length,
            return_tensors="pt",
        )


def _pair_hidden(
    encoder: Any,
    tokenizer: Any,
    questions: Sequence[str],
    entries: Sequence[str],
    layer: int,
    max_length: int,
    batch_size: int = 64,
) -> list[Any]:
    """Each pair's token vectors after ``layer`` layers (``(tokens, dim)``, no padding)."""
    import torch

    out: list[Any] = []
    with torch.inference_mode():
        for batch in _pair_batches(tokenizer, questions, entries, max_length, batch_size):
            hidden = encoder(**batch, output_hidden_states=True).hidden_states[layer]
            for row in range(len(hidden)):
                n = int(batch["attention_mask"][row].sum())
                out.append(hidden[row, :n].clone())
    return out


def _scorer(encoder: Any, first_trained: int, head: Any) -> Any:
    """The top layers + head as a module: ``forward(hidden, mask, labels)`` -> ``.loss``, ``.logits``."""
    import torch
    import torch.nn.functional as nnf

    from coursekit.retrieval.embeddings import mean_pool
    from coursekit.retrieval.finetune import top_layers_forward

    class CrossScorer(torch.nn.Module):
        """Pairs -> one logit each; the loss is a softmax over each question's list of pairs
        (the first pair of a list is the right entry)."""

        def __init__(self) -> None:
            super().__init__()
            self.layers = encoder.encoder.layer[first_trained:]  # the same modules
            self.config = encoder.config
            self.head = head

        def score(self, hidden: Any, mask: Any) -> Any:
            h = top_layers_forward(self.layers, self.config, hidden, mask)
            return self.head(mean_pool(h, mask)).squeeze(-1)

        def forward(self, hidden, mask, prior, labels):  # noqa: ANN001
            logits = (prior + self.score(hidden, mask)).view(len(labels), -1)
            return SimpleNamespace(loss=nnf.cross_entropy(logits, labels), logits=logits)

    return CrossScorer()


def hard_negatives(scores: np.ndarray, gold: Sequence[int], n: int) -> np.ndarray:
    """Per question, the ``n`` best-scored entries that are NOT its own (``(questions, n)``)."""
    scores = np.asarray(scores, dtype=np.float64)
    gold = np.asarray(gold)
    if scores.ndim != 2 or len(gold) != len(scores):
        raise ValueError("scores should be (questions, entries) with one gold entry per question")
    if not 0 < n < scores.shape[1]:
        raise ValueError(f"n must be 1..{scores.shape[1] - 1} (the entries minus the right one)")
    masked = scores.copy()
    masked[np.arange(len(gold)), gold] = -np.inf
    return np.argsort(-masked, axis=1, kind="stable")[:, :n]


def train_cross_encoder(
    folder: str | Path,
    recipe: CrossEncoderRecipe = CrossEncoderRecipe(),
    queries: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
) -> Path:
    """Train MiniLM's top layers + a one-logit head as a re-ranker; save into ``folder``.

    By default on the shop's generated TRAINING paraphrases (``recipe.questions`` of them,
    spread evenly over the entries); ``queries``/``labels`` (FAQ ids) replace them (tests).
    Hard negatives come from pretrained MiniLM's ranking of the entries (question + answer).
    """
    import torch
    from torch.utils.data import DataLoader
    from transformers import AutoModel, AutoTokenizer

    from coursekit import env
    from coursekit.data import load_faq, load_faq_paraphrases
    from coursekit.retrieval.embeddings import embed
    from coursekit.retrieval.finetune import _pad
    from coursekit.train import fit

    faq = load_faq()
    if queries is None:
        train = load_faq_paraphrases("train")
        per_entry = max(1, recipe.questions // len(faq))
        train = train.sample(frac=1.0, random_state=recipe.seed).groupby("faq_id").head(per_entry)
        queries, labels = train["text"].tolist(), train["faq_id"].tolist()
    if labels is None or len(queries) != len(labels) or not len(queries):
        raise ValueError("give one FAQ id (labels) per training question, and at least one")
    row_of = {f: i for i, f in enumerate(faq["faq_id"].astype(str))}
    unknown = sorted({str(f) for f in labels} - set(row_of))
    if unknown:
        raise ValueError(
            f"unknown FAQ id {unknown[0]!r}; labels must be faq_id values of load_faq()"
        )
    gold = np.array([row_of[str(f)] for f in labels])
    entries = pair_texts(faq)
    cosines = embed(list(queries)) @ embed(entries).T  # the bi-encoder's (the prior)
    negatives = hard_negatives(cosines, gold, recipe.negatives)
    group = 1 + recipe.negatives
    pair_q = [q for q in queries for _ in range(group)]
    pair_e = [entries[e] for g, neg in zip(gold, negatives, strict=True) for e in (g, *neg)]

    env.seed_everything(recipe.seed)
    tokenizer = AutoTokenizer.from_pretrained(env.minilm_path())
    encoder = AutoModel.from_pretrained(env.minilm_path())
    encoder.eval()
    first = encoder.config.num_hidden_layers - recipe.trained_layers
    if not 0 <= first < encoder.config.num_hidden_layers:
        raise ValueError(f"trained_layers must be 1..{encoder.config.num_hidden_layers}")
    hidden = _pair_hidden(encoder, tokenizer, pair_q, pair_e, first, recipe.max_length)
    for p in encoder.parameters():
        p.requires_grad_(False)
    for p in encoder.encoder.layer[first:].parameters():
        p.requires_grad_(True)
    head = torch.nn.Linear(encoder.config.hidden_size, 1)
    torch.nn.init.zeros_(head.weight)
    torch.nn.init.zeros_(head.bias)
    model = _scorer(encoder, first, head)
    lists = [
        (hidden[i * group : (i + 1) * group], [float(cosines[i, e]) for e in (g, *neg)])
        for i, (g, neg) in enumerate(zip(gold, negatives, strict=True))
    ]

    def collate(rows: list[tuple[list[Any], list[float]]]) -> dict[str, Any]:
        h, m = _pad([pair for row, _ in rows for pair in row])
        prior = recipe.prior_scale * torch.tensor([c for _, cos in rows for c in cos])
        # labels: the right pair is the first of each list (fit counts the rows by them)
        return {
            "hidden": h,
            "mask": m,
            "prior": prior,
            "labels": torch.zeros(len(rows), dtype=torch.long),
        }

    loader = DataLoader(
        lists,
        batch_size=recipe.batch_questions,
        shuffle=True,
        drop_last=len(lists) > recipe.batch_questions,
        generator=torch.Generator().manual_seed(recipe.seed),
        collate_fn=collate,
    )
    fit(
        model,
        loader,
        epochs=-(-recipe.steps // max(1, len(loader))),
        lr=recipe.lr,
        max_steps=recipe.steps,
        precision="fp32",
        device="cpu",
        progress=False,
        seed=recipe.seed,
    )
    from coursekit.retrieval.checkpoint import save_finetuned

    return save_finetuned(folder, encoder, tokenizer, recipe, {"head": head})


def load_cross_encoder(rebuild: bool = False) -> Path:
    """The folder of the shop's re-ranker (built once into the cache, a few minutes on a CPU)."""
    from coursekit import env
    from coursekit.cache import folder_digest, get_or_build, recipe_key
    from coursekit.data import load_faq, load_faq_paraphrases

    train, faq = load_faq_paraphrases("train"), load_faq()
    version = recipe_key(
        {"cross_encoder": CROSS_ENCODER_RECIPE, **asdict(CrossEncoderRecipe())},
        data=["\n".join(train["faq_id"] + "\t" + train["text"]), "\n".join(pair_texts(faq))],
        upstream=[folder_digest(env.minilm_path())],
    )
    return get_or_build(
        "faq-reranker", lambda tmp: train_cross_encoder(tmp), version=version, rebuild=rebuild
    )


_LOADED: dict[str, tuple[Any, Any, Any]] = {}


def _load(folder: str | Path) -> tuple[Any, Any, Any]:
    import torch
    from transformers import AutoConfig

    from coursekit.retrieval.checkpoint import load_finetuned

    folder = Path(folder)
    if not (folder / "head.safetensors").exists():
        raise FileNotFoundError(
            f"{folder} holds no re-ranker (head.safetensors); build it with load_cross_encoder()"
        )
    key = str(folder.resolve())
    if key not in _LOADED:
        head = torch.nn.Linear(AutoConfig.from_pretrained(folder).hidden_size, 1)
        tokenizer, encoder = load_finetuned(folder, {"head": head})
        _LOADED[key] = (tokenizer, encoder, head.eval())
    return _LOADED[key]


def rerank_scores(
    folder: str | Path,
    questions: Sequence[str],
    entries: Sequence[str],
    priors: Sequence[float] | None = None,
    batch_size: int = 32,
) -> np.ndarray:
    """The re-ranker's score of each (question, entry) pair, row by row (higher = better).

    ``priors``: each pair's first-stage cosine; the score is then
    ``prior_scale * prior + head(pair)`` as in training. Without them, the head's part alone.
    """
    import torch

    from coursekit.retrieval.embeddings import mean_pool

    questions, entries = list(questions), list(entries)
    if len(questions) != len(entries):
        raise ValueError(
            f"{len(questions)} questions but {len(entries)} entries: give one entry per question"
        )
    if not questions:
        return np.zeros(0, dtype=np.float32)
    if any(not str(q).strip() for q in questions):
        raise ValueError("a question is empty; give the shopper's text")
    if priors is not None and len(priors) != len(questions):
        raise ValueError(f"{len(priors)} priors for {len(questions)} pairs: give one per pair")
    tokenizer, encoder, head = _load(folder)
    recipe = json.loads((Path(folder) / "recipe.json").read_text(encoding="utf-8"))
    max_length = int(recipe["max_length"])
    out = []
    with torch.inference_mode():
        for batch in _pair_batches(tokenizer, questions, entries, max_length, batch_size):
            h = encoder(**batch).last_hidden_state
            out.append(head(mean_pool(h, batch["attention_mask"])).squeeze(-1).float().numpy())
    scores = np.concatenate(out).astype(np.float64)
    if priors is not None:
        scores += float(recipe["prior_scale"]) * np.asarray(priors, dtype=np.float64)
    return scores


def rerank_top_k(
    folder: str | Path,
    questions: Sequence[str],
    scores: np.ndarray,
    entries: Sequence[str],
    k: int = RERANK_TOP_K,
) -> np.ndarray:
    """Re-order each row's top ``k`` entries of ``scores`` (questions, entries) by the cross-encoder.

    ``scores`` are the first stage's cosines (they are the re-ranker's prior). Returns a matrix
    of the same shape: the top ``k`` hold the re-ranker's scores, every other entry its
    first-stage score minus a large constant (so it stays below, in order).
    """
    scores = np.asarray(scores, dtype=np.float64)
    questions = list(questions)
    if scores.ndim != 2 or scores.shape != (len(questions), len(entries)):
        raise ValueError(
            f"scores {scores.shape} should be (questions={len(questions)}, entries={len(entries)})"
        )
    if not 1 <= k <= scores.shape[1]:
        raise ValueError(f"k must be 1..{scores.shape[1]} (the number of entries)")
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    pair_scores = rerank_scores(
        folder,
        [q for q in questions for _ in range(k)],
        [entries[e] for e in top.ravel()],
        priors=np.take_along_axis(scores, top, axis=1).ravel(),
    ).reshape(len(questions), k)
    out = scores - _BELOW
    np.put_along_axis(out, top, pair_scores, axis=1)
    return out


def load_rerank_rule(rebuild: bool = False) -> Any:
    """The hand-off rule on the re-ranker's scores, fitted on VALIDATION (the paraphrases and
    the generated out-of-scope questions).

    The first stage is the shipped index's search (:data:`~coursekit.retrieval.SHIPPED_VARIANT`
    without keywords); its top :data:`RERANK_TOP_K` are re-ranked, then the rule is fitted as
    for every variant (:func:`~coursekit.retrieval.variants.fit_variant_rule`). Cached.
    """
    from coursekit.cache import get_or_build, recipe_key
    from coursekit.data import load_faq, load_faq_out_of_scope, load_faq_paraphrases
    from coursekit.retrieval.abstain import AbstainRule
    from coursekit.retrieval.faq import FAQ_TARGET_PRECISION, SHIPPED_VARIANT, _faq_fingerprint
    from coursekit.retrieval.variants import SearchVariant, fit_variant_rule, variant_scores

    folder = load_cross_encoder()
    first = SearchVariant(SHIPPED_VARIANT.encoder, SHIPPED_VARIANT.docs)

    def build(tmp: Path) -> Path:
        faq, val = load_faq(), load_faq_paraphrases("validation")
        outside = load_faq_out_of_scope("validation")["text"].tolist()
        row_of = {f: i for i, f in enumerate(faq["faq_id"].astype(str))}
        texts = val["text"].tolist() + outside
        ranking, _ = variant_scores(first, faq, texts)
        reranked = rerank_top_k(folder, texts, ranking, pair_texts(faq))
        gold = np.r_[val["faq_id"].astype(str).map(row_of).to_numpy(), [-1] * len(outside)]
        rule = fit_variant_rule(reranked, reranked, gold, FAQ_TARGET_PRECISION)
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "rule.json").write_text(json.dumps(asdict(rule)), encoding="utf-8")
        return tmp

    version = recipe_key(
        {"rerank_rule": CROSS_ENCODER_RECIPE, "first": first.name, "k": RERANK_TOP_K},
        data=[_faq_fingerprint()],
        upstream=[folder.name, str(FAQ_TARGET_PRECISION)],
    )
    out = get_or_build("faq-reranker-rule", build, version=version, rebuild=rebuild)
    return AbstainRule(**json.loads((Path(out) / "rule.json").read_text(encoding="utf-8")))


def rerank_hits(folder: str | Path, question: str, hits: Sequence[Any]) -> list[Any]:
    """One question's first-stage hits (cosines) re-scored by the re-ranker, best first (new ranks).

    Each hit's entry text is its payload's ``question`` + ``answer`` (as in training).
    """
    from coursekit.retrieval.index import Hit

    hits = list(hits)
    if not hits:
        raise ValueError("no hits to re-rank; search with k >= 2 first")
    entries = [
        f"{h.payload.get('question', h.text)} {h.payload.get('answer', '')}".strip() for h in hits
    ]
    scores = rerank_scores(folder, [question] * len(hits), entries, priors=[h.score for h in hits])
    order = np.argsort(-scores, kind="stable")
    return [
        Hit(rank, hits[i].id, hits[i].text, round(float(scores[i]), 6), hits[i].payload)
        for rank, i in enumerate(order, start=1)
    ]


__all__ = [
    "CROSS_ENCODER_RECIPE",
    "RERANK_TOP_K",
    "CrossEncoderRecipe",
    "hard_negatives",
    "load_cross_encoder",
    "load_rerank_rule",
    "pair_texts",
    "rerank_hits",
    "rerank_top_k",
    "rerank_scores",
    "train_cross_encoder",
]
