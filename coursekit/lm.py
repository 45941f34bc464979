"""Causal language modelling: shifted cross-entropy, perplexity, count baselines, a tiny GPT.

A causal language model reads tokens ``x_1 … x_{t}`` and predicts ``x_{t+1}``. Its
logits have shape ``(batch, seq, vocab)``: the row at position ``t`` is a guess about
the token at ``t + 1``. So the loss compares ``logits[:, :-1]`` with ``input_ids[:, 1:]``
(**shift by one**), flattened to ``(batch·(seq-1), vocab)`` vs ``(batch·(seq-1),)``::

    loss = -(1/N) Σ_t log p(x_{t+1} | x_1..x_t)      perplexity = exp(loss)

Padding positions get the label ``-100`` (``ignore_index``) and do not count.
A model that guesses uniformly over ``V`` tokens has loss ``log V`` and perplexity ``V``.

Evaluation protocol used everywhere in this module (so the numbers are comparable):
every text is encoded as ``<|endoftext|> text <|endoftext|>`` (:func:`encode_texts`);
the first token is context only, every other token (the text and the final end marker)
is predicted once. The count baselines (:class:`UnigramLM`, :class:`BigramLM`) and
:func:`perplexity` all score exactly those tokens.

:func:`train_tiny_gpt` trains a ``GPT2LMHeadModel`` built from :func:`tiny_gpt_config`
on packed blocks of text, deterministically on the CPU; :func:`load_shop_gpt` trains
the course's model on the shop's product copy once and caches it.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerBase

#: the version of the recipe in :func:`load_shop_gpt`; bump it when the recipe changes.
SHOP_GPT_RECIPE = "2"  # 2: trained by train.fit (the course's one loop)
IGNORE_INDEX = -100


# --------------------------------------------------------------------------- the loss


def shifted_cross_entropy(
    logits: torch.Tensor,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None = None,
    ignore_index: int = IGNORE_INDEX,
) -> torch.Tensor:
    """Mean next-token cross-entropy: position ``t`` predicts token ``t + 1``.

    ``logits`` ``(batch, seq, vocab)``, ``input_ids`` ``(batch, seq)`` (may already hold
    ``ignore_index`` as labels do), ``attention_mask`` ``(batch, seq)`` with 0 on padding.
    Equals the loss ``GPT2LMHeadModel`` returns for ``labels=`` the same ids with -100 on padding.
    """
    _check_tensor(logits, "logits")
    _check_tensor(input_ids, "input_ids")
    if logits.dim() != 3:
        raise ValueError(f"logits should be (batch, seq, vocab), got shape {tuple(logits.shape)}")
    if tuple(input_ids.shape) != tuple(logits.shape[:2]):
        raise ValueError(
            f"input_ids shape {tuple(input_ids.shape)} does not match logits "
            f"{tuple(logits.shape)}: expected (batch, seq) = {tuple(logits.shape[:2])}"
        )
    labels = input_ids.long().clone()
    if attention_mask is not None:
        _check_tensor(attention_mask, "attention_mask")
        if attention_mask.shape != input_ids.shape:
            raise ValueError(
                f"attention_mask shape {tuple(attention_mask.shape)} does not match "
                f"input_ids {tuple(input_ids.shape)}"
            )
        labels = labels.masked_fill(attention_mask == 0, ignore_index)
    shift_logits = logits[:, :-1, :].float()
    shift_labels = labels[:, 1:]
    return F.cross_entropy(
        shift_logits.reshape(-1, shift_logits.shape[-1]),
        shift_labels.reshape(-1),
        ignore_index=ignore_index,
    )


def labels_from(
    input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """The ``labels=`` a Hugging Face causal LM wants: the ids themselves, -100 on padding.

    No shift here: the model shifts internally.
    """
    labels = input_ids.clone()
    if attention_mask is not None:
        labels[attention_mask == 0] = IGNORE_INDEX
    return labels


# --------------------------------------------------------------------------- data


def encode_texts(
    texts: Iterable[str], tokenizer: PreTrainedTokenizerBase, max_length: int | None = None
) -> list[list[int]]:
    """``<|endoftext|> text <|endoftext|>`` as id lists, truncated to ``max_length`` ids.

    The leading end-of-text works as a beginning-of-sequence marker, so the first
    word is predicted too. This is the evaluation protocol of the module.
    """
    if isinstance(texts, str):
        raise TypeError("encode_texts expects a list of texts, not a single str")
    bos, eos = _bos_eos(tokenizer)
    out = []
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"texts must be str, got {type(text).__name__}")
        ids = [bos, *tokenizer(text, add_special_tokens=False)["input_ids"], eos]
        out.append(ids[:max_length] if max_length else ids)
    return out


def _bos_eos(tokenizer: Any) -> tuple[int, int]:
    eos = tokenizer.eos_token_id
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else eos
    if eos is None or bos is None:
        raise ValueError("the tokenizer needs an eos token (e.g. <|endoftext|>)")
    return int(bos), int(eos)


def causal_lm_collator(
    tokenizer: PreTrainedTokenizerBase, max_length: int = 128
) -> Callable[[Sequence[Any]], dict[str, torch.Tensor]]:
    """A ``DataLoader`` ``collate_fn`` that turns texts (or id lists) into a padded LM batch.

    Each item is a ``str`` (encoded as in :func:`encode_texts`), a list of ids, or a dict
    with ``"input_ids"``. Returns ``input_ids``, ``attention_mask`` (from the lengths,
    never by comparing with the pad id, which is also the end-of-text id) and
    ``labels`` (the ids with -100 on padding), right-padded to the longest item.
    """
    if max_length < 2:
        raise ValueError(f"max_length must be at least 2, got {max_length}")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else _bos_eos(tokenizer)[1]

    def collate(items: Sequence[Any]) -> dict[str, torch.Tensor]:
        rows: list[list[int]] = []
        for item in items:
            if isinstance(item, str):
                rows.extend(encode_texts([item], tokenizer, max_length))
            elif isinstance(item, Mapping):
                rows.append([int(i) for i in item["input_ids"]][:max_length])
            else:
                rows.append([int(i) for i in item][:max_length])
        if not rows:
            raise ValueError("cannot collate an empty batch")
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), int(pad), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, : len(r)] = 1
        return {"input_ids": ids, "attention_mask": mask, "labels": labels_from(ids, mask)}

    return collate


def pack_texts(
    texts: Iterable[str], tokenizer: PreTrainedTokenizerBase, block_size: int = 128
) -> torch.Tensor:
    """Concatenate ``text <|endoftext|> text <|endoftext|> …`` and cut it into full blocks.

    Returns ``(n_blocks, block_size)`` ids; the ragged tail is dropped. Packing wastes
    no compute on padding: every position of every block is a training target.
    """
    if block_size < 2:
        raise ValueError(f"block_size must be at least 2, got {block_size}")
    _, eos = _bos_eos(tokenizer)
    stream: list[int] = [eos]
    for ids in encode_texts(texts, tokenizer):
        stream.extend(ids[1:])  # each text already ends with eos, which starts the next
    n = len(stream) // block_size
    if n == 0:
        raise ValueError(
            f"the texts give only {len(stream)} tokens, fewer than one block of {block_size}"
        )
    return torch.tensor(stream[: n * block_size], dtype=torch.long).view(n, block_size)


# --------------------------------------------------------------------------- the model


def tiny_gpt_config(
    vocab_size: int,
    n_positions: int = 128,
    n_embd: int = 128,
    n_layer: int = 4,
    n_head: int = 4,
    *,
    dropout: float = 0.1,
    bos_token_id: int = 0,
    eos_token_id: int = 0,
    pad_token_id: int = 0,
    **kw: Any,
) -> GPT2Config:
    """A small GPT-2 configuration (≈ 1M parameters with a 4k vocabulary at the defaults).

    Tied input/output embeddings, the same ``dropout`` on embeddings, residuals and
    attention, and the special-token ids of the course's BPE (``<|endoftext|>`` is id 0).
    Extra keyword arguments go to ``GPT2Config``.
    """
    from transformers import GPT2Config

    if vocab_size < 2:
        raise ValueError(f"vocab_size must be at least 2, got {vocab_size}")
    if n_embd % n_head:
        raise ValueError(f"n_embd={n_embd} is not divisible by n_head={n_head}")
    params = dict(
        vocab_size=vocab_size,
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        n_inner=4 * n_embd,
        resid_pdrop=dropout,
        embd_pdrop=dropout,
        attn_pdrop=dropout,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        pad_token_id=pad_token_id,
        tie_word_embeddings=True,
    )
    params.update(kw)
    return GPT2Config(**params)


def tiny_gpt(config: GPT2Config, seed: int = 0) -> GPT2LMHeadModel:
    """A freshly initialised ``GPT2LMHeadModel`` (seeded, so the same config gives the same weights)."""
    from transformers import GPT2LMHeadModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return GPT2LMHeadModel(config)


def config_for(tokenizer: PreTrainedTokenizerBase, **kw: Any) -> GPT2Config:
    """:func:`tiny_gpt_config` with the vocabulary size and special ids of ``tokenizer``."""
    bos, eos = _bos_eos(tokenizer)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    kw.setdefault("bos_token_id", bos)
    kw.setdefault("eos_token_id", eos)
    kw.setdefault("pad_token_id", pad)
    return tiny_gpt_config(len(tokenizer), **kw)


# --------------------------------------------------------------------------- perplexity


def _mean_nll_of_batches(
    model: Any, batches: Iterable[Mapping[str, torch.Tensor]]
) -> tuple[float, int]:
    device = next(model.parameters()).device
    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in batches:
                ids = batch["input_ids"].to(device)
                mask = batch.get("attention_mask")
                mask = mask.to(device) if mask is not None else torch.ones_like(ids)
                labels = batch.get("labels")
                labels = labels.to(device) if labels is not None else labels_from(ids, mask)
                logits = model(input_ids=ids, attention_mask=mask).logits
                targets = labels[:, 1:].reshape(-1)
                nll = F.cross_entropy(
                    logits[:, :-1].float().reshape(-1, logits.shape[-1]),
                    targets,
                    ignore_index=IGNORE_INDEX,
                    reduction="sum",
                )
                total += float(nll)
                count += int((targets != IGNORE_INDEX).sum())
    finally:
        model.train(was_training)
    return total, count


def mean_nll(
    model: Any,
    texts_or_batches: Iterable[Any],
    tokenizer: PreTrainedTokenizerBase | None = None,
    batch_size: int = 16,
    max_length: int | None = None,
) -> float:
    """Token-weighted mean negative log-likelihood (nats per predicted token).

    ``texts_or_batches`` is a list of texts (needs ``tokenizer``; encoded with
    :func:`encode_texts`), or an iterable of batches (dicts with ``input_ids``,
    optional ``attention_mask``/``labels``) such as a ``DataLoader`` with
    :func:`causal_lm_collator`. Averages over tokens, not over batches.
    """
    items = list(texts_or_batches) if not isinstance(texts_or_batches, str) else None
    if items is None:
        raise TypeError("pass a list of texts, not a single str")
    if not items:
        raise ValueError("nothing to evaluate: no texts or batches")
    if isinstance(items[0], str):
        if tokenizer is None:
            raise ValueError("texts need a tokenizer= to be encoded")
        limit = max_length or int(getattr(model.config, "n_positions", 1024))
        collate = causal_lm_collator(tokenizer, max_length=limit)
        # longest first: fewer padded positions per batch, same result
        encoded = sorted(encode_texts(items, tokenizer, limit), key=len, reverse=True)
        batches = (collate(encoded[i : i + batch_size]) for i in range(0, len(encoded), batch_size))
    else:
        batches = iter(items)
    total, count = _mean_nll_of_batches(model, batches)
    if count == 0:
        raise ValueError("no token to predict: every label is padding")
    return total / count


def perplexity(
    model: Any,
    texts_or_batches: Iterable[Any],
    tokenizer: PreTrainedTokenizerBase | None = None,
    batch_size: int = 16,
    max_length: int | None = None,
) -> float:
    """``exp(mean NLL per predicted token)``: the effective number of tokens the model hesitates between.

    Same inputs as :func:`mean_nll`. A uniform model over ``V`` tokens scores ``V``;
    a model certain of every next token scores 1.
    """
    return math.exp(mean_nll(model, texts_or_batches, tokenizer, batch_size, max_length))


# --------------------------------------------------------------------------- count baselines


class _CountLM:
    """Shared code of the count models: fit on id sequences, score the protocol's tokens."""

    def __init__(self, vocab_size: int, k: float = 1.0) -> None:
        if vocab_size < 1:
            raise ValueError(f"vocab_size must be positive, got {vocab_size}")
        if k <= 0:
            raise ValueError(f"add-k smoothing needs k > 0 (else unseen tokens get p = 0), got {k}")
        self.vocab_size, self.k = int(vocab_size), float(k)
        self.fitted = False

    def fit(self, sequences: Iterable[Sequence[int]]) -> _CountLM:  # pragma: no cover - abstract
        raise NotImplementedError

    def log_prob(self, prev: int, token: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def mean_nll(self, sequences: Iterable[Sequence[int]]) -> float:
        """Mean negative log-probability of every token after the first of each sequence."""
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call .fit(sequences)")
        total, count = 0.0, 0
        for seq in _as_sequences(sequences):
            for prev, tok in zip(seq, seq[1:], strict=False):
                total -= self.log_prob(prev, tok)
                count += 1
        if count == 0:
            raise ValueError("no token to score: every sequence is shorter than 2")
        return total / count

    def perplexity(self, sequences: Iterable[Sequence[int]]) -> float:
        """``exp(mean_nll)`` over the same tokens :func:`perplexity` scores."""
        return math.exp(self.mean_nll(sequences))


class UnigramLM(_CountLM):
    """``p(w) = (count(w) + k) / (N + k·V)``: ignores the context entirely."""

    def fit(self, sequences: Iterable[Sequence[int]]) -> UnigramLM:
        """Count every predicted token (all but the first of each sequence)."""
        self.counts: Counter[int] = Counter()
        for seq in _as_sequences(sequences):
            self.counts.update(seq[1:])
        self.total = sum(self.counts.values())
        self.fitted = True
        return self

    def log_prob(self, prev: int, token: int) -> float:
        """``log p(token)`` (``prev`` is ignored)."""
        denom = self.total + self.k * self.vocab_size
        return math.log((self.counts.get(token, 0) + self.k) / denom)


class BigramLM(_CountLM):
    """``p(b | a) = (count(a, b) + k) / (count(a) + k·V)``: one token of context."""

    def fit(self, sequences: Iterable[Sequence[int]]) -> BigramLM:
        """Count adjacent pairs and their left tokens."""
        self.pairs: Counter[tuple[int, int]] = Counter()
        self.left: Counter[int] = Counter()
        for seq in _as_sequences(sequences):
            pairs = list(zip(seq, seq[1:], strict=False))
            self.pairs.update(pairs)
            self.left.update(a for a, _ in pairs)
        self.fitted = True
        return self

    def log_prob(self, prev: int, token: int) -> float:
        """``log p(token | prev)``."""
        num = self.pairs.get((prev, token), 0) + self.k
        return math.log(num / (self.left.get(prev, 0) + self.k * self.vocab_size))


def _as_sequences(sequences: Iterable[Sequence[int]]) -> list[list[int]]:
    if isinstance(sequences, str):
        raise TypeError("expected a list of id sequences (e.g. from encode_texts), not a str")
    out = []
    for seq in sequences:
        if isinstance(seq, str):
            raise TypeError("expected id sequences, got a str: encode the texts first")
        out.append([int(t) for t in seq])
    return out


# --------------------------------------------------------------------------- training


@dataclass
class TrainHistory:
    """What happened during :func:`train_tiny_gpt`: losses per step, evaluations, samples."""

    steps: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)
    samples: dict[int, list[str]] = field(default_factory=dict)
    seconds: float = 0.0
    n_params: int = 0
    n_train_tokens: int = 0

    def frame(self, smooth: int = 1) -> pd.DataFrame:
        """Long table (step, split, loss) for seaborn; ``smooth`` averages the train loss."""
        import pandas as pd

        train = pd.Series(self.train_loss).rolling(max(1, smooth), min_periods=1).mean()
        rows = [
            {"step": s, "split": "train", "loss": float(v)}
            for s, v in zip(self.steps, train, strict=True)
        ]
        rows += [
            {"step": s, "split": "validation", "loss": v}
            for s, v in zip(self.eval_steps, self.eval_loss, strict=True)
        ]
        return pd.DataFrame(rows)

    def to_json(self) -> str:
        """Serialise (sample keys become strings in JSON)."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> TrainHistory:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        data["samples"] = {int(k): v for k, v in data.get("samples", {}).items()}
        return cls(**data)


def sample_text(
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    prompt: str = "",
    max_new_tokens: int = 30,
    greedy: bool = True,
    seed: int = 0,
) -> str:
    """Continue ``prompt`` (after an ``<|endoftext|>`` start marker) and return only the new text."""
    bos, eos = _bos_eos(tokenizer)
    ids = [bos, *tokenizer(prompt, add_special_tokens=False)["input_ids"]]
    device = next(model.parameters()).device
    x = torch.tensor([ids], device=device)
    was_training = model.training
    model.eval()
    gen = torch.Generator(device="cpu").manual_seed(seed)
    new: list[int] = []
    limit = int(getattr(model.config, "n_positions", 1024))
    with torch.no_grad():
        for _ in range(max_new_tokens):
            window = x[:, -limit:]
            logits = model(input_ids=window, attention_mask=torch.ones_like(window)).logits
            logits = logits[0, -1].float().cpu()
            if greedy:
                nxt = int(logits.argmax())
            else:
                nxt = int(torch.multinomial(torch.softmax(logits, -1), 1, generator=gen))
            if nxt == eos:
                break
            new.append(nxt)
            x = torch.cat([x, torch.tensor([[nxt]], device=device)], dim=1)
    model.train(was_training)
    return tokenizer.decode(new)


class RandomBlocks:
    """A loader of ``steps`` batches of ``batch_size`` blocks drawn at random (with a seed).

    What :func:`train_tiny_gpt` feeds :func:`coursekit.train.fit`: each batch is
    ``{"input_ids", "attention_mask", "labels"}`` with the labels equal to the ids (a causal LM
    shifts them itself); every pass over it draws the same batches.
    """

    def __init__(self, blocks: torch.Tensor, batch_size: int, steps: int, seed: int = 0):
        self.blocks, self.batch_size, self.steps, self.seed = blocks, batch_size, steps, seed

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        gen = torch.Generator().manual_seed(self.seed)
        for _ in range(self.steps):
            batch = self.blocks[torch.randint(len(self.blocks), (self.batch_size,), generator=gen)]
            yield {"input_ids": batch, "attention_mask": torch.ones_like(batch), "labels": batch}


def train_tiny_gpt(
    texts: Sequence[str],
    tokenizer: PreTrainedTokenizerBase,
    steps: int = 300,
    batch_size: int = 16,
    block_size: int = 128,
    lr: float = 3e-3,
    warmup: int = 30,
    weight_decay: float = 0.1,
    eval_texts: Sequence[str] | None = None,
    eval_every: int = 50,
    sample_prompts: Sequence[str] = (),
    sample_every: int | None = None,
    config: GPT2Config | None = None,
    seed: int = 0,
    threads: int | None = 2,
    log: Callable[[str], None] | None = None,
    **config_kw: Any,
) -> tuple[GPT2LMHeadModel, TrainHistory]:
    """Train a tiny GPT on ``texts`` packed into ``block_size`` blocks; return ``(model, history)``.

    The course's one loop, :func:`coursekit.train.fit`, on random blocks
    (:class:`RandomBlocks`, a seeded generator; ``labels=`` the ids, the model shifts them):
    AdamW (betas 0.9/0.95, weight decay on matrices only), warm-up then cosine decay to 10 %,
    gradient clipping at 1.0, the device from :func:`coursekit.env.get_device`; every
    ``eval_every`` steps (its ``on_step`` hook) the validation loss on ``eval_texts`` in
    ``eval()`` mode without gradients (same protocol as :func:`perplexity`). Returned on the
    CPU in ``eval()`` mode. Deterministic on one machine for a fixed ``seed`` and thread count.
    """
    from coursekit.env import set_threads

    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    if isinstance(texts, str):
        raise TypeError("texts should be a list of strings, not a single str")
    previous_threads = torch.get_num_threads()
    if threads is not None:
        set_threads(threads)
    # dropout and batch sampling draw from the global RNG: seed it, and restore it afterwards
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            config = config or config_for(tokenizer, n_positions=block_size, **config_kw)
            if config.n_positions < block_size:
                raise ValueError(
                    f"block_size {block_size} exceeds n_positions {config.n_positions}"
                )
            model = tiny_gpt(config, seed=seed)
            blocks = pack_texts(texts, tokenizer, block_size)
            history = TrainHistory(
                n_params=sum(p.numel() for p in model.parameters()), n_train_tokens=blocks.numel()
            )
            from coursekit import train

            sample_every = sample_every or eval_every
            start = time.perf_counter()

            def evaluate(step: int) -> None:
                if eval_texts:
                    loss = mean_nll(model, eval_texts, tokenizer, max_length=config.n_positions)
                    history.eval_steps.append(step)
                    history.eval_loss.append(loss)
                    if log:
                        log(f"step {step:4d}  validation loss {loss:.3f}")
                if sample_prompts and (step % sample_every == 0 or step == steps):
                    history.samples[step] = [
                        sample_text(model, tokenizer, p) for p in sample_prompts
                    ]

            def on_step(step: int, loss: float) -> None:
                history.steps.append(step)
                history.train_loss.append(loss)
                if step % eval_every == 0 or step == steps:
                    evaluate(step)  # mean_nll and sample_text restore train() mode

            evaluate(0)
            train.fit(
                model,
                RandomBlocks(blocks, batch_size, steps, seed=seed),
                epochs=1,
                lr=lr,
                weight_decay=weight_decay,
                warmup_ratio=warmup / steps,
                schedule="cosine",
                betas=(0.9, 0.95),
                max_grad_norm=1.0,
                progress=False,
                seed=seed,
                on_step=on_step,
            )
            history.seconds = time.perf_counter() - start
            model.to("cpu").eval()
            return model, history
        finally:
            torch.set_num_threads(previous_threads)


# --------------------------------------------------------------------------- the shop's model


def product_copy_texts(split: str = "train") -> list[str]:
    """The shop's product copy of one split, one text per product (title, bullets, paragraph).

    Sorted by product id, so the order (and any model trained on it) is reproducible.
    """
    from coursekit import data

    products = data.load_products()
    if split not in set(products["split"]):
        raise ValueError(f"unknown split {split!r}; use one of {sorted(set(products['split']))}")
    products = products[products["split"] == split].sort_values("product_id")
    return [
        "\n".join([str(r.title), *(f"- {b}" for b in r.bullets), str(r.paragraph)])
        for r in products.itertuples(index=False)
    ]


#: the recipe of :func:`load_shop_gpt` (also used by the benchmark)
SHOP_GPT_SETTINGS: dict[str, Any] = {
    "steps": 300,
    "batch_size": 8,
    "block_size": 128,
    "lr": 3e-3,
    "eval_every": 50,
}
#: greedy samples are recorded for these prompts at every evaluation
SHOP_GPT_PROMPTS = ("Stridewell", "Meet the")


def load_shop_gpt(rebuild: bool = False) -> GPT2LMHeadModel:
    """The course's tiny GPT trained on the shop's training-split product copy (cached).

    Built once with :func:`train_tiny_gpt` (settings in :data:`SHOP_GPT_SETTINGS`, the
    shop BPE from :func:`coursekit.tokenization.load_shop_bpe`), saved with
    ``save_pretrained(safe_serialization=True)`` together with its training history
    (``history.json``, see :func:`load_shop_gpt_history`); later calls only load it.
    Returned in ``eval()`` mode; use it with ``load_shop_bpe()``.
    """
    from transformers import GPT2LMHeadModel

    folder = _shop_gpt_folder(rebuild)
    return GPT2LMHeadModel.from_pretrained(str(folder)).eval()


def load_shop_gpt_history(rebuild: bool = False) -> TrainHistory:
    """The training history saved with :func:`load_shop_gpt` (building the model if needed)."""
    folder = _shop_gpt_folder(rebuild)
    return TrainHistory.from_json((folder / "history.json").read_text())


def _shop_gpt_folder(rebuild: bool = False) -> Path:
    from coursekit.cache import get_or_build, recipe_key
    from coursekit.tokenization import load_shop_bpe, shop_bpe_version

    tokenizer = load_shop_bpe()
    train = product_copy_texts("train")
    valid = product_copy_texts("validation")
    version = recipe_key(
        {"shop_gpt": SHOP_GPT_RECIPE, "settings": SHOP_GPT_SETTINGS, "prompts": SHOP_GPT_PROMPTS},
        data=["\x00".join(train), "\x00".join(valid)],
        upstream=[shop_bpe_version()],
    )

    def build(folder: Path) -> None:
        model, history = train_tiny_gpt(
            train, tokenizer, eval_texts=valid, sample_prompts=SHOP_GPT_PROMPTS, **SHOP_GPT_SETTINGS
        )
        model.save_pretrained(str(folder), safe_serialization=True)
        (folder / "history.json").write_text(history.to_json())

    return get_or_build("shop-gpt", build, version=version, rebuild=rebuild)


def _check_tensor(x: Any, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} should be a torch.Tensor, got {type(x).__name__}")


__all__ = [
    "IGNORE_INDEX",
    "BigramLM",
    "TrainHistory",
    "UnigramLM",
    "causal_lm_collator",
    "config_for",
    "encode_texts",
    "labels_from",
    "load_shop_gpt",
    "load_shop_gpt_history",
    "mean_nll",
    "pack_texts",
    "perplexity",
    "product_copy_texts",
    "sample_text",
    "shifted_cross_entropy",
    "tiny_gpt",
    "tiny_gpt_config",
    "train_tiny_gpt",
]
