"""Instruction tuning: the shop GPT becomes a three-task shop assistant (supervised fine-tuning).

The instructions are built from the shop's own data (:func:`instruction_data`):

* **copy**: "Write product copy for: brand: … | colour: …" → the shop's concise copy;
* **faq**: "Answer from the passage. Passage: … Question: …" → the passage's first sentence;
* **sentiment**: "Label the review's sentiment. Review: …" → ``positive``/``neutral``/``negative``.

Every example is a conversation written with the chat template of :mod:`.chat`; training
(:func:`train_sft`, the course's one loop ``coursekit.train.fit``) puts the loss either on the
assistant's tokens only (``masked=True``, :func:`~coursekit.post_training.chat.masked_labels`)
or on every token (``masked=False``). :func:`task_scores` grades greedy answers on held-out
examples: sentiment accuracy, FAQ exact match, and the copy's coverage and hallucinations from
the copywriter's grounding checker (:func:`coursekit.copywriter.grounding`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch

from coursekit.post_training.chat import END_TOKEN, IGNORE_INDEX, full_labels, masked_labels

SYSTEM = "You are the shop's assistant."
TASKS = ("copy", "faq", "sentiment")
MAX_LENGTH = 128  # the shop GPT's context
REVIEW_CHARS = 160


def _chat(user: str, answer: str | None) -> list[dict[str, str]]:
    turns = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
    return turns + ([{"role": "assistant", "content": answer}] if answer is not None else [])


def copy_chat(
    attributes: Mapping[str, Any], rng: random.Random | None = None, answer: bool = True
) -> list[dict[str, str]]:
    """A copy-writing conversation: the attributes in, the shop's concise copy out."""
    from coursekit import product_copy
    from coursekit.copywriter import serialise_attributes

    attrs = {k: v for k, v in attributes.items() if product_copy._present(v)}
    slot_text = product_copy.write_copy(attrs, "concise", rng or random.Random(0))
    text = product_copy.fill_slots(slot_text, product_copy.delexicalise(attrs).values)
    return _chat("Write product copy for: " + serialise_attributes(attrs), text if answer else None)


def first_sentence(text: str) -> str:
    """The text up to and including its first full stop, question or exclamation mark."""
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip())
    return match.group(1) if match else text.strip()


def faq_chat(passage: str, question: str, answer: bool = True) -> list[dict[str, str]]:
    """Answer a question from a given passage: the passage's first sentence is the answer."""
    user = f"Answer from the passage. Passage: {passage} Question: {question}"
    return _chat(user, first_sentence(passage) if answer else None)


def sentiment_chat(review: str, label: str | None) -> list[dict[str, str]]:
    """Label a review's sentiment (the review cut to its first 160 characters)."""
    return _chat(f"Label the review's sentiment. Review: {review[:REVIEW_CHARS]}", label)


def instruction_data(
    split: str = "train", n_reviews: int = 600, seed: int = 0
) -> dict[str, list[Any]]:
    """Conversations of the three tasks for ``split`` (``"train"``, ``"validation"``, ``"test"``).

    Returns ``{task: [(conversation, reference), ...]}`` where ``reference`` is what
    :func:`task_scores` compares with (the attributes for copy, the answer or label otherwise).
    Train: the training products (two phrasings each), the FAQ's own questions, up to
    ``n_reviews`` training reviews. Held out: the split's products, FAQ paraphrases and reviews.
    FAQ paraphrases exist for validation and test only: ``train`` uses the 95 questions themselves.
    """
    from coursekit import data

    if split not in ("train", "validation", "test"):
        raise ValueError(f"split must be 'train', 'validation' or 'test', not {split!r}")
    rng = random.Random(seed)
    products = data.load_products()
    products = products[products["split"] == split].sort_values("product_id")
    copies = [
        (copy_chat(a, rng), a)
        for a in products["attributes"]
        for _ in range(2 if split == "train" else 1)
    ]
    faq = data.load_faq().set_index("faq_id")
    if split == "train":
        questions = [(q, fid) for fid, q in faq["question"].items()]
    else:
        para = data.load_faq_paraphrases(split)
        questions = list(zip(para["text"], para["faq_id"], strict=True))
    faqs = [
        (faq_chat(faq.loc[fid, "answer"], q), first_sentence(faq.loc[fid, "answer"]))
        for q, fid in questions
    ]
    reviews = data.load_reviews(split).sample(frac=1.0, random_state=seed).head(n_reviews)
    labels = [
        (sentiment_chat(t, y), y) for t, y in zip(reviews["text"], reviews["label"], strict=True)
    ]
    return {"copy": copies, "faq": faqs, "sentiment": labels}


def encode(
    tokenizer: Any,
    conversations: Sequence[Sequence[Mapping[str, str]]],
    masked: bool = True,
    max_length: int = MAX_LENGTH,
) -> list[tuple[list[int], list[int]]]:
    """``(input_ids, labels)`` per conversation; longer ones are cut to ``max_length`` tokens."""
    make = masked_labels if masked else full_labels
    out = []
    for conv in conversations:
        ids, labels = make(tokenizer, conv)
        out.append((ids[:max_length], labels[:max_length]))
    return out


class RandomBatches:
    """``steps`` batches of ``batch_size`` encoded examples drawn with a seed (for ``train.fit``)."""

    def __init__(
        self,
        rows: Sequence[tuple[list[int], list[int]]],
        pad_id: int,
        batch_size: int,
        steps: int,
        seed: int = 0,
    ):
        self.rows, self.pad_id, self.batch_size, self.steps, self.seed = (
            rows,
            pad_id,
            batch_size,
            steps,
            seed,
        )

    def __len__(self) -> int:
        return self.steps

    def picks(self) -> Iterator[list[int]]:
        """The row indices of each batch, in training order (drawn with replacement, seeded)."""
        gen = torch.Generator().manual_seed(self.seed)
        for _ in range(self.steps):
            yield torch.randint(len(self.rows), (self.batch_size,), generator=gen).tolist()

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        from coursekit.post_training.dpo import pad_rows

        for pick in self.picks():
            rows = [self.rows[i] for i in pick]
            yield {
                "input_ids": pad_rows([r[0] for r in rows], self.pad_id),
                "attention_mask": pad_rows([[1] * len(r[0]) for r in rows], 0),
                "labels": pad_rows([r[1] for r in rows], IGNORE_INDEX),
            }


def chat_model(model: Any, tokenizer: Any) -> Any:
    """Give ``model`` room for the chat tokens ``tokenizer`` now has (resized embeddings)."""
    model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
    model.config.pad_token_id = tokenizer.pad_token_id
    return model


def train_sft(
    model: Any,
    tokenizer: Any,
    conversations: Sequence[Sequence[Mapping[str, str]]],
    *,
    masked: bool = True,
    steps: int = 300,
    batch_size: int = 16,
    lr: float = 2e-3,
    seed: int = 0,
) -> tuple[Any, list[float]]:
    """Supervised fine-tuning through ``train.fit``; returns ``(model, per-step losses)``."""
    from coursekit import train

    rows = encode(tokenizer, conversations, masked=masked)
    losses: list[float] = []
    train.fit(
        model,
        RandomBatches(rows, tokenizer.pad_token_id, batch_size, steps, seed),
        epochs=1,
        lr=lr,
        weight_decay=0.01,
        warmup_ratio=0.05,
        schedule="cosine",
        progress=False,
        seed=seed,
        on_step=lambda step, loss: losses.append(loss),
    )
    model.to("cpu").eval()
    return model, losses


def left_padded(tokenizer: Any, texts: Sequence[str], limit: int) -> dict[str, torch.Tensor]:
    """Token ids of ``texts`` padded on the left; a prompt longer than ``limit`` keeps its last tokens."""
    rows = [tokenizer(t, add_special_tokens=False)["input_ids"][-limit:] for t in texts]
    width = max(len(r) for r in rows)
    pad = tokenizer.pad_token_id
    ids = [[pad] * (width - len(r)) + r for r in rows]
    mask = [[0] * (width - len(r)) + [1] * len(r) for r in rows]
    return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask)}


def generate(
    model: Any,
    tokenizer: Any,
    conversations: Sequence[Sequence[Mapping[str, str]]],
    max_new_tokens: int = 48,
    batch_size: int = 32,
) -> list[str]:
    """Greedy answers to conversations that end with a user turn (batched, left-padded)."""
    from coursekit.post_training.chat import render

    end = tokenizer.convert_tokens_to_ids(END_TOKEN)
    texts = [
        render(tokenizer, [m for m in c if m["role"] != "assistant"], add_generation_prompt=True)
        for c in conversations
    ]
    answers: list[str] = []
    n_pos = int(model.config.n_positions)
    new_tokens = max(1, min(max_new_tokens, n_pos // 2))
    for start in range(0, len(texts), batch_size):
        enc = left_padded(tokenizer, texts[start : start + batch_size], n_pos - new_tokens)
        with torch.no_grad():
            out = model.generate(
                **enc,
                max_new_tokens=new_tokens,
                do_sample=False,
                eos_token_id=end,
                pad_token_id=tokenizer.pad_token_id,
            )
        new = out[:, enc["input_ids"].shape[1] :]
        answers += [
            tokenizer.decode(
                [t for t in row.tolist() if t != end], skip_special_tokens=True
            ).strip()
            for row in new
        ]
    return answers


def task_scores(
    model: Any,
    tokenizer: Any,
    held_out: Mapping[str, Sequence[Any]],
    lexicon: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, float]:
    """Greedy answers graded per task.

    ``sentiment accuracy``; ``faq exact match`` (the passage's first sentence, word for word);
    ``copy coverage`` and ``copy hallucination rate`` (share of products whose copy names a
    catalogue value the product lacks), from :func:`coursekit.copywriter.grounding`.
    """
    from coursekit import copywriter, data

    scores: dict[str, float] = {}
    if held_out.get("sentiment"):
        convs, refs = zip(*held_out["sentiment"], strict=True)
        said = generate(model, tokenizer, convs, max_new_tokens=4)
        scores["sentiment accuracy"] = sum(
            s.strip().lower() == r for s, r in zip(said, refs, strict=True)
        ) / len(refs)
    if held_out.get("faq"):
        convs, refs = zip(*held_out["faq"], strict=True)
        said = generate(model, tokenizer, convs, max_new_tokens=40)
        scores["faq exact match"] = sum(
            s.strip() == r for s, r in zip(said, refs, strict=True)
        ) / len(refs)
    if held_out.get("copy"):
        convs, attrs = zip(*held_out["copy"], strict=True)
        lexicon = lexicon or copywriter.attribute_lexicon(data.load_products())
        grades = copy_grades(generate(model, tokenizer, convs, max_new_tokens=64), attrs, lexicon)
        scores["copy coverage"] = sum(g["coverage"] for g in grades) / len(grades)
        scores["copy hallucination rate"] = sum(g["hallucinated"] for g in grades) / len(grades)
    return scores


def copy_grades(
    texts: Sequence[str],
    attributes: Sequence[Mapping[str, Any]],
    lexicon: Mapping[str, Sequence[str]],
) -> list[dict[str, Any]]:
    """The grounding checker on each text: ``coverage`` and ``hallucinated`` (a bool)."""
    from coursekit.copywriter import grounding

    out = []
    for text, attrs in zip(texts, attributes, strict=True):
        g = grounding(text, attrs, lexicon)
        out.append({"text": text, "coverage": g.coverage, "hallucinated": bool(g.hallucinated)})
    return out


__all__ = [
    "SYSTEM",
    "TASKS",
    "RandomBatches",
    "chat_model",
    "copy_chat",
    "copy_grades",
    "encode",
    "faq_chat",
    "first_sentence",
    "generate",
    "instruction_data",
    "sentiment_chat",
    "task_scores",
    "train_sft",
]
