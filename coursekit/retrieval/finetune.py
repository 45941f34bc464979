"""Fine-tuning the sentence encoder on the shop: contrastive training with in-batch negatives.

A batch holds B (shopper question, FAQ entry) pairs. Every question is scored against every
entry of the batch; its own entry is the right "class" and the other B-1 entries are the
**in-batch negatives**, for free::

    logits = scale * Q @ D.T              # (B, B) cosines of unit vectors, scale = 20
    loss   = cross_entropy(logits, arange(B))

(the loss of sentence-transformers' ``MultipleNegativesRankingLoss``; tested equal). Two
questions of the same entry in one batch would make each other's entry a false negative, so
those cells are masked out (:func:`in_batch_negatives_loss`).

With ``EncoderRecipe(out_of_scope=True)`` the generated out-of-scope TRAINING questions
(``load_faq_out_of_scope("train")``) join the batches as questions with no right entry: each
is scored against every entry of its batch plus a "none of them" option at a fixed cosine
(:func:`out_of_scope_loss`), which pushes them away from every entry.

The training runs through the course's one loop, :func:`coursekit.train.fit` (a small
:class:`ContrastiveEncoder` module returns ``.loss`` as the loop expects), on the generated
TRAINING paraphrases (``load_faq_paraphrases("train")``); :func:`load_faq_encoder` caches the
result as a Hugging Face folder (safetensors) that :func:`~coursekit.retrieval.embed` loads
with ``model=str(folder)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

#: the recipe version of :func:`load_faq_encoder`; bump it when the recipe changes
FAQ_ENCODER_RECIPE = "1"


@dataclass(frozen=True)
class EncoderRecipe:
    """The fine-tuning settings (small on purpose: it runs on a laptop CPU in about a minute)."""

    steps: int = 60
    batch_size: int = 32
    lr: float = 1e-4
    scale: float = 20.0
    query_tokens: int = 32
    doc_tokens: int = 48
    trained_layers: int = 1  # the top layer learns; the ones below stay as pretrained
    seed: int = 0
    out_of_scope: bool = False  # out-of-scope training questions as extra negatives
    none_cosine: float = 0.3  # the "none of them" option of an out-of-scope question


def faq_entry_texts(faq: Any) -> list[str]:
    """The text of each FAQ entry the encoder learns to match: its question, then its answer."""
    return (faq["question"].astype(str) + " " + faq["answer"].astype(str)).tolist()


def in_batch_negatives_loss(
    queries: Any, docs: Any, labels: Any = None, scale: float = 20.0
) -> Any:
    """Cross-entropy of each query against every doc of the batch; its own doc (same row) is right.

    ``queries`` and ``docs`` are ``(B, dim)`` tensors (normalised here). ``labels`` (one entry
    id per row, optional): a doc of the same entry as the query but in another row is masked
    out rather than counted as a negative.
    """
    import torch
    import torch.nn.functional as nnf

    if queries.ndim != 2 or queries.shape != docs.shape:
        raise ValueError(
            f"queries {tuple(queries.shape)} and docs {tuple(docs.shape)} should both be (B, dim)"
        )
    logits = scale * nnf.normalize(queries, dim=-1) @ nnf.normalize(docs, dim=-1).T
    if labels is not None:
        labels = torch.as_tensor(labels, device=logits.device)
        same = labels[:, None] == labels[None, :]
        same.fill_diagonal_(False)
        logits = logits.masked_fill(same, float("-inf"))
    target = torch.arange(len(logits), device=logits.device)
    return nnf.cross_entropy(logits, target)


def out_of_scope_loss(
    queries: Any, docs: Any, none_cosine: float = 0.3, scale: float = 20.0
) -> Any:
    """Cross-entropy of out-of-scope questions whose right answer is "none of the entries".

    ``queries`` ``(n, dim)`` (questions the FAQ does not answer), ``docs`` ``(B, dim)``
    entries: each question's logits are ``scale * cos`` to every entry plus
    ``scale * none_cosine`` for "none", the target; the loss falls as every cosine drops
    below ``none_cosine``.
    """
    import torch
    import torch.nn.functional as nnf

    if queries.ndim != 2 or docs.ndim != 2 or queries.shape[1] != docs.shape[1]:
        raise ValueError(
            f"queries {tuple(queries.shape)} and docs {tuple(docs.shape)} should be (n, dim), (B, dim)"
        )
    cos = nnf.normalize(queries, dim=-1) @ nnf.normalize(docs, dim=-1).T
    none = torch.full((len(cos), 1), none_cosine, dtype=cos.dtype, device=cos.device)
    logits = scale * torch.cat([none, cos], dim=1)
    return nnf.cross_entropy(logits, torch.zeros(len(cos), dtype=torch.long, device=cos.device))


def hidden_states_at(
    encoder: Any,
    tokenizer: Any,
    texts: Sequence[str],
    layer: int,
    max_length: int,
    batch_size: int = 64,
) -> list[Any]:
    """Each text's token vectors after ``layer`` encoder layers (``(tokens, dim)``, no padding).

    The frozen bottom of the encoder runs once per text, without gradients; training then
    runs only the layers above (:func:`top_layers_forward`), which is what makes a
    fine-tune fit a laptop CPU.
    """
    import torch

    order = np.argsort([-len(t) for t in texts], kind="stable")
    out: list[Any] = [None] * len(texts)
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            hidden = encoder(**batch, output_hidden_states=True).hidden_states[layer]
            for row, i in enumerate(idx):
                n = int(batch["attention_mask"][row].sum())
                out[i] = hidden[row, :n].clone()
    return out


def top_layers_forward(layers: Any, config: Any, hidden: Any, mask: Any) -> Any:
    """Run ``hidden`` ``(B, T, dim)`` through the encoder ``layers`` with the model's own mask."""
    from transformers.masking_utils import create_bidirectional_mask

    attn = create_bidirectional_mask(config=config, inputs_embeds=hidden, attention_mask=mask)
    for layer in layers:
        hidden = layer(hidden, attention_mask=attn)
        hidden = hidden[0] if isinstance(hidden, tuple) else hidden
    return hidden


def _pad(rows: Sequence[Any]) -> tuple[Any, Any]:
    import torch

    longest = max(int(r.shape[0]) for r in rows)
    hidden = torch.zeros(len(rows), longest, rows[0].shape[1])
    mask = torch.zeros(len(rows), longest, dtype=torch.long)
    for i, r in enumerate(rows):
        hidden[i, : r.shape[0]] = r
        mask[i, : r.shape[0]] = 1
    return hidden, mask


class _Pairs:
    """A map-style data set of (question, entry) pairs as cached hidden states."""

    def __init__(self, queries: Sequence[Any], docs: Sequence[Any], labels: Sequence[int]):
        self.queries, self.docs, self.labels = list(queries), list(docs), list(labels)

    def __len__(self) -> int:
        return len(self.queries)

    def __getitem__(self, i: int) -> tuple[Any, Any, int]:
        return self.queries[i], self.docs[i], self.labels[i]


def _collate(rows: list[tuple[Any, Any, int]]) -> dict[str, Any]:
    """Pad a batch; out-of-scope questions (label -1, no entry) go to ``o_hidden``/``o_mask``."""
    import torch

    answerable = [r for r in rows if r[2] >= 0]
    if not answerable:  # (560 out-of-scope of 3,535 questions: about 1e-26 for a batch of 32)
        raise ValueError("a batch holds no answerable question; use a larger batch_size")
    q, d, y = zip(*answerable, strict=True)
    qh, qm = _pad(q)
    dh, dm = _pad(d)
    batch = {"q_hidden": qh, "q_mask": qm, "d_hidden": dh, "d_mask": dm, "labels": torch.tensor(y)}
    outside = [r[0] for r in rows if r[2] < 0]
    if outside:
        batch["o_hidden"], batch["o_mask"] = _pad(outside)
    return batch


def _contrastive_module(
    encoder: Any, first_trained: int, scale: float, none_cosine: float = 0.3
) -> Any:
    import torch

    from coursekit.retrieval.embeddings import mean_pool

    class ContrastiveEncoder(torch.nn.Module):
        """The encoder's top layers; ``forward(**batch).loss`` is :func:`in_batch_negatives_loss`."""

        def __init__(self) -> None:
            super().__init__()
            self.layers = encoder.encoder.layer[
                first_trained:
            ]  # the same modules: trained in place
            self.config = encoder.config

        def embed(self, hidden: Any, mask: Any) -> Any:
            return mean_pool(top_layers_forward(self.layers, self.config, hidden, mask), mask)

        def forward(self, q_hidden, q_mask, d_hidden, d_mask, labels, o_hidden=None, o_mask=None):  # noqa: ANN001
            q, d = self.embed(q_hidden, q_mask), self.embed(d_hidden, d_mask)
            loss = in_batch_negatives_loss(q, d, labels, scale)
            if o_hidden is not None:
                o = self.embed(o_hidden, o_mask)
                loss = (loss * len(q) + out_of_scope_loss(o, d, none_cosine, scale) * len(o)) / (
                    len(q) + len(o)
                )
            return SimpleNamespace(loss=loss, logits=q @ d.T)

    return ContrastiveEncoder()


def train_faq_encoder(
    folder: str | Path,
    recipe: EncoderRecipe = EncoderRecipe(),
    queries: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
) -> Path:
    """Fine-tune MiniLM's top layers on (training question, FAQ entry) pairs; save into ``folder``.

    By default the pairs are the shop's generated training paraphrases; ``queries`` and
    ``labels`` (their FAQ ids) replace them (tests use a few). ``recipe.out_of_scope`` adds the
    generated out-of-scope training questions as questions with no right entry. The bottom layers stay as
    pretrained, so their output is computed once per text (:func:`hidden_states_at`).
    Returns ``folder``, a Hugging Face model folder (safetensors) that ``embed`` loads.
    """
    import torch
    from torch.utils.data import DataLoader
    from transformers import AutoModel, AutoTokenizer

    from coursekit import env
    from coursekit.data import load_faq, load_faq_paraphrases
    from coursekit.train import fit

    faq = load_faq()
    if queries is None:
        train = load_faq_paraphrases("train")
        queries, labels = train["text"].tolist(), train["faq_id"].tolist()
    if labels is None or len(queries) != len(labels) or not len(queries):
        raise ValueError("give one FAQ id (labels) per training question, and at least one")
    row_of = {f: i for i, f in enumerate(faq["faq_id"].astype(str))}
    unknown = sorted({str(f) for f in labels} - set(row_of))
    if unknown:
        raise ValueError(
            f"unknown FAQ id {unknown[0]!r}; labels must be faq_id values of load_faq()"
        )
    rows = [row_of[str(f)] for f in labels]
    env.seed_everything(recipe.seed)
    tokenizer = AutoTokenizer.from_pretrained(env.minilm_path())
    encoder = AutoModel.from_pretrained(env.minilm_path())
    encoder.eval()
    first = encoder.config.num_hidden_layers - recipe.trained_layers
    if not 0 <= first < encoder.config.num_hidden_layers:
        raise ValueError(f"trained_layers must be 1..{encoder.config.num_hidden_layers}")
    q_hidden = hidden_states_at(encoder, tokenizer, list(queries), first, recipe.query_tokens)
    d_hidden = hidden_states_at(encoder, tokenizer, faq_entry_texts(faq), first, recipe.doc_tokens)
    docs = [d_hidden[r] for r in rows]
    if recipe.out_of_scope:
        from coursekit.data import load_faq_out_of_scope

        outside = load_faq_out_of_scope("train")["text"].tolist()
        q_hidden += hidden_states_at(encoder, tokenizer, outside, first, recipe.query_tokens)
        docs += [None] * len(outside)
        rows = rows + [-1] * len(outside)
    for p in encoder.parameters():
        p.requires_grad_(False)
    for p in encoder.encoder.layer[first:].parameters():
        p.requires_grad_(True)
    model = _contrastive_module(encoder, first, recipe.scale, recipe.none_cosine)
    generator = torch.Generator().manual_seed(recipe.seed)
    loader = DataLoader(
        _Pairs(q_hidden, docs, rows),
        batch_size=recipe.batch_size,
        shuffle=True,
        drop_last=True,
        generator=generator,
        collate_fn=_collate,
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

    return save_finetuned(folder, encoder, tokenizer, recipe)


def load_faq_encoder(rebuild: bool = False, recipe: EncoderRecipe = EncoderRecipe()) -> Path:
    """The folder of MiniLM fine-tuned on the shop's training paraphrases (built once, ~1-2 min).

    Use it with ``rt.embed(texts, model=str(folder))`` or ``AnswerIndex.build(..., model=...)``.
    ``recipe=EncoderRecipe(out_of_scope=True)`` adds the out-of-scope training questions as
    negatives (cached apart).
    """
    from coursekit import env
    from coursekit.cache import folder_digest, get_or_build, recipe_key
    from coursekit.data import load_faq, load_faq_out_of_scope, load_faq_paraphrases

    train, faq = load_faq_paraphrases("train"), load_faq()
    data = [
        "\n".join(train["faq_id"] + "\t" + train["text"]),
        "\n".join(faq_entry_texts(faq)),
    ]
    if recipe.out_of_scope:
        data.append("\n".join(load_faq_out_of_scope("train")["text"]))
    settings = asdict(recipe)
    if not recipe.out_of_scope:  # the recipe's key as it was before these two settings
        del settings["out_of_scope"], settings["none_cosine"]
    version = recipe_key(
        {"faq_encoder": FAQ_ENCODER_RECIPE, **settings},
        data=data,
        upstream=[folder_digest(env.minilm_path())],
    )
    return get_or_build(
        "faq-encoder", lambda tmp: train_faq_encoder(tmp, recipe), version=version, rebuild=rebuild
    )


def embeddings_shift(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine between matching rows of two embedding matrices (1.0 = unchanged)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.mean(np.sum(a * b, axis=1)))


__all__ = [
    "FAQ_ENCODER_RECIPE",
    "EncoderRecipe",
    "faq_entry_texts",
    "in_batch_negatives_loss",
    "load_faq_encoder",
    "out_of_scope_loss",
    "train_faq_encoder",
]
