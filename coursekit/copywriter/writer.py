"""The trained copywriter: :class:`Copywriter` writes and reranks :class:`Candidate` copies.

A GPT-2-architecture network (``GPT2LMHeadModel``) with its tokenizer and what it knows
about the catalogue. :meth:`Copywriter.generate` samples several candidates (decoding
settings: :data:`STRATEGIES`) and reranks them by their grounding. A copywriter is saved
as safetensors with :func:`save_copywriter` and read back with :func:`read_copywriter`.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursekit import product_copy
from coursekit.copywriter.grounding_checks import Grounding, _values, grounded_bad_words, grounding
from coursekit.copywriter.prompts import (
    ATTRS_TOKEN,
    COPY_TOKEN,
    _batches,
    _loader,
    examples_from_products,
    format_prompt,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import torch

#: decoding settings behind each ``strategy`` name of :func:`generate`
STRATEGIES: dict[str, dict[str, Any]] = {
    "greedy": {"do_sample": False, "num_beams": 1},
    "beam": {"do_sample": False, "num_beams": 4, "early_stopping": True},
    "temperature": {"do_sample": True, "temperature": 0.8, "top_k": 0},
    "top_k": {"do_sample": True, "top_k": 20},
    "top_p": {"do_sample": True, "top_p": 0.9, "top_k": 0, "temperature": 0.8},
}


# --------------------------------------------------------------------------- the model


@dataclass
class Copywriter:
    """A trained copywriter: model, tokenizer and what it knows about the catalogue."""

    model: Any
    tokenizer: Any
    attribute_names: list[str]
    lexicon: dict[str, list[str]]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def delexicalised(self) -> bool:
        """Whether the model writes slot tokens (filled with the values after decoding)."""
        return bool(self.meta.get("config", {}).get("delexicalise", False))

    def prompt(self, attributes: Mapping[str, Any], voice: str = "warm") -> str:
        """The prompt this model continues for ``attributes``: in slots or in words."""
        attributes = self.check_attributes(attributes)
        if self.delexicalised:
            attributes = product_copy.delexicalise(attributes).attributes
        return format_prompt(attributes, voice)

    def decode(self, ids: Any, attributes: Mapping[str, Any]) -> str:
        """Generated token ids → text, up to the first end-of-text, slots filled."""
        import torch

        raw = self._decode(torch.as_tensor(ids))
        if not self.delexicalised:
            return raw
        return product_copy.fill_slots(raw, product_copy.delexicalise(attributes).values)

    def check_attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """Validate user attributes: a non-empty dict of known names; returns the non-empty ones."""
        if not isinstance(attributes, Mapping):
            raise TypeError(f"attributes must be a dict, got {type(attributes).__name__}")
        unknown = [k for k in attributes if k not in self.attribute_names or k == "voice"]
        if unknown:
            raise ValueError(
                f"unknown attribute name(s): {', '.join(map(str, unknown))}; "
                f"the copywriter knows: {', '.join(self.attribute_names)}"
            )
        kept = {k: v for k, v in attributes.items() if _values(k, v)}
        if not kept:
            raise ValueError(
                "attributes are empty: give at least one, e.g. {'category': 'shoes', 'colour': 'red'}"
            )
        return kept

    def generate(
        self,
        attributes: Mapping[str, Any],
        n: int = 3,
        strategy: str = "top_p",
        seed: int = 0,
        max_new_tokens: int = 120,
        rerank: bool = True,
        ground: bool = False,
        voice: str = "warm",
        **overrides: Any,
    ) -> list[Candidate]:
        """Write ``n`` candidates for ``attributes``, best first when ``rerank``.

        ``strategy`` is a key of :data:`STRATEGIES`; ``overrides`` change its settings
        (e.g. ``temperature=1.2``). Sampling uses its own RNG seeded with ``seed``,
        so the same call gives the same text and leaves the global RNG alone.
        ``voice`` is one of :data:`coursekit.product_copy.VOICES`. ``ground=True``
        forbids, while decoding, what the product lacks: the catalogue values it does not
        have (:func:`grounded_bad_words`) and, for a delexicalised model, the slots it has
        no value for.
        """
        return self.generate_many(
            [attributes],
            n=n,
            strategy=strategy,
            seed=seed,
            max_new_tokens=max_new_tokens,
            rerank=rerank,
            ground=ground,
            voice=voice,
            **overrides,
        )[0]

    def generate_many(
        self,
        products: Sequence[Mapping[str, Any]],
        n: int = 3,
        strategy: str = "top_p",
        seed: int = 0,
        max_new_tokens: int = 120,
        rerank: bool = True,
        ground: bool = False,
        voice: str = "warm",
        **overrides: Any,
    ) -> list[list[Candidate]]:
        """:meth:`generate` for several products at once: one list of candidates per product.

        The prompts are padded on the left and decoded in one ``model.generate`` call, which
        is several times faster than one call per product on a CPU (the model is small, so
        each decoding step costs mostly Python overhead, paid once per step instead of once
        per product and step). Each product still gets its own ban list when ``ground``
        (:class:`coursekit.generate.BannedSequences`). The samples come from one RNG seeded
        with ``seed``, so a product's text depends on the batch it was written in: the same
        call gives the same texts; a product alone gives what :meth:`generate` gives.
        """
        import torch
        from transformers import LogitsProcessorList

        from coursekit.generate import BannedSequences

        if isinstance(products, Mapping) or not isinstance(products, Sequence) or not products:
            raise TypeError("products must be a non-empty list of attribute dicts")
        checked = [self.check_attributes(attributes) for attributes in products]
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; choose from: {', '.join(STRATEGIES)}")
        if voice not in product_copy.VOICES:
            raise ValueError(
                f"unknown voice {voice!r}; choose from: {', '.join(product_copy.VOICES)}"
            )
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        settings = {**STRATEGIES[strategy], **overrides}
        if not settings.get("do_sample") and n > settings.get("num_beams", 1):
            raise ValueError(
                f"strategy {strategy!r} gives at most {settings.get('num_beams', 1)} different "
                "text(s); use n=1, or a sampling strategy (top_p, top_k, temperature) for more"
            )
        slots = [product_copy.delexicalise(a) for a in checked]
        if ground:
            bans = []
            for attributes, slotted in zip(checked, slots, strict=True):
                bad = grounded_bad_words(self.tokenizer, attributes, self.lexicon)
                if self.delexicalised:
                    absent = [t for t in product_copy.SLOT_TOKENS if t not in slotted.values]
                    bad += [[self.tokenizer.convert_tokens_to_ids(t)] for t in absent]
                bans.append(bad)
            settings["logits_processor"] = LogitsProcessorList([BannedSequences(bans)])
        prompts = [
            format_prompt(s.attributes if self.delexicalised else a, voice)
            for a, s in zip(checked, slots, strict=True)
        ]
        encoded = self.tokenizer(prompts)["input_ids"]
        width = max(len(ids) for ids in encoded)
        room = self.model.config.n_positions - width
        if room < 1:
            raise ValueError(f"the prompt ({width} tokens) fills the model's context")
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in encoded])
        attention_mask = torch.tensor(
            [[0] * (width - len(ids)) + [1] * len(ids) for ids in encoded]
        )
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)
            out = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention_mask,
                max_new_tokens=min(max_new_tokens, room),
                num_return_sequences=n,
                pad_token_id=pad,
                eos_token_id=self.tokenizer.eos_token_id,
                **settings,
            )
        logprobs = _mean_logprobs(
            self.model,
            out,
            attention_mask.repeat_interleave(n, dim=0),
            self.tokenizer.eos_token_id,
        )
        known = set(self.meta.get("sentence_shapes", []))
        results = []
        for b, (attributes, slotted) in enumerate(zip(checked, slots, strict=True)):
            cands = []
            for i in range(n):
                row = b * n + i
                raw = self._decode(out[row, width:])
                text = product_copy.fill_slots(raw, slotted.values) if self.delexicalised else raw
                shapes = product_copy.sentence_shapes(product_copy.to_slots(raw, slotted.values))
                cands.append(
                    Candidate(
                        text=text,
                        logprob=logprobs[row],
                        grounding=grounding(text, attributes, self.lexicon),
                        rank_before=i,
                        slot_text=raw if self.delexicalised else None,
                        odd_sentences=sum(s not in known for s in shapes) if known else 0,
                    )
                )
            results.append(rerank_candidates(cands) if rerank else cands)
        return results

    def _decode(self, ids: torch.Tensor) -> str:
        """The generated tokens up to the first end-of-text, slot tokens kept as text."""
        ids = ids.tolist()
        eos = self.tokenizer.eos_token_id
        ids = ids[: ids.index(eos)] if eos in ids else ids
        text = self.tokenizer.decode(ids, skip_special_tokens=False)
        text = text.replace(ATTRS_TOKEN, "").replace(COPY_TOKEN, "")
        return product_copy.space_slots(text).strip()

    def perplexity(self, products: pd.DataFrame, batch_size: int = 32) -> float:
        """Perplexity of the copy tokens of ``products`` (exp of the mean cross-entropy).

        Measured on the model's own representation (slot text for a delexicalised model),
        so it compares checkpoints of one kind, not a slot model with a word model.
        """
        from coursekit import lm

        pairs = examples_from_products(products, delexicalise=self.delexicalised)
        if not pairs:
            raise ValueError("no products to measure: give at least one row with attributes")
        batches = _batches(self.tokenizer, pairs, 10_000)
        return math.exp(lm.mean_nll(self.model, _loader(batches, batch_size, shuffle=False)))


@dataclass
class Candidate:
    """One generated text with its grounding and its model log-probability."""

    text: str
    logprob: float
    grounding: Grounding
    rank_before: int = 0
    #: what a delexicalised model wrote, before its slots were filled
    slot_text: str | None = None
    #: sentences whose shape (values as slots) the training copy never has: glued or cut
    #: templates such as "Choose it in <colour> and is made of <material>."
    odd_sentences: int = 0

    @property
    def score(self) -> float:
        """Reranking score: grounding first, then ``0.05`` per odd sentence; the mean token
        log-probability breaks the remaining ties."""
        return self.grounding.score - 0.05 * self.odd_sentences + 0.01 * self.logprob

    def as_row(self) -> dict[str, Any]:
        """A flat dict for a DataFrame row."""
        g = self.grounding
        return {
            "text": self.text,
            "score": round(self.score, 4),
            "coverage": round(g.coverage, 4),
            "missing": len(g.missing),
            "hallucinated": len(g.hallucinated),
            "banned": len(g.banned),
            "repeated": len(g.repeated),
            "odd sentences": self.odd_sentences,
            "price_ok": g.price_ok,
            "logprob": round(self.logprob, 4),
        }


def rerank_candidates(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Best first: highest :attr:`Candidate.score`; the original order breaks exact ties."""
    return sorted(candidates, key=lambda c: (-c.score, c.rank_before))


def _mean_logprobs(
    model: Any, sequences: torch.Tensor, prompt_mask: torch.Tensor, eos_id: int, chunk: int = 16
) -> list[float]:
    """Mean log-probability of each row's generated tokens up to and including its first eos.

    ``prompt_mask`` is the attention mask of the (left-padded) prompts; the generated tokens
    follow them. Scored ``chunk`` rows at a time, so the logits stay small.
    """
    import torch

    width = prompt_mask.shape[1]
    mask = torch.cat(
        [prompt_mask, torch.ones_like(sequences[:, width:], dtype=prompt_mask.dtype)], dim=1
    )
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    out = []
    with torch.no_grad():
        for start in range(0, len(sequences), chunk):
            rows = slice(start, start + chunk)
            logits = model(
                sequences[rows], attention_mask=mask[rows], position_ids=positions[rows]
            ).logits[:, width - 1 : -1]
            new = sequences[rows, width:]
            logp = logits.log_softmax(-1).gather(-1, new[..., None]).squeeze(-1)
            for row, toks in zip(logp, new, strict=True):
                ends = (toks == eos_id).nonzero()
                length = int(ends[0]) + 1 if len(ends) else len(toks)
                out.append(float(row[:length].mean()))
    return out


# --------------------------------------------------------------------------- saving and loading

_META = "copywriter.json"


def save_copywriter(writer: Copywriter, folder: str | os.PathLike) -> Path:
    """Save model (safetensors), tokenizer and metadata into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    writer.model.save_pretrained(str(folder))
    writer.tokenizer.save_pretrained(str(folder))
    meta = {**writer.meta, "attribute_names": writer.attribute_names, "lexicon": writer.lexicon}
    (folder / _META).write_text(json.dumps(meta, indent=1, sort_keys=True))
    return folder


def read_copywriter(folder: str | os.PathLike) -> Copywriter:
    """Load a copywriter saved by :func:`save_copywriter` (no training, no download)."""
    from transformers import AutoTokenizer, GPT2LMHeadModel

    folder = Path(folder)
    if not (folder / _META).exists() or not (folder / "model.safetensors").exists():
        raise FileNotFoundError(
            f"no trained copywriter in {folder}; train one with `coursekit copy --train` "
            "or `coursekit.copywriter.load_copywriter()` (about a minute on a CPU)"
        )
    meta = json.loads((folder / _META).read_text())
    model = GPT2LMHeadModel.from_pretrained(str(folder)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    return Copywriter(
        model=model,
        tokenizer=tokenizer,
        attribute_names=meta.pop("attribute_names"),
        lexicon=meta.pop("lexicon"),
        meta=meta,
    )


__all__ = [
    "STRATEGIES",
    "Candidate",
    "Copywriter",
    "read_copywriter",
    "rerank_candidates",
    "save_copywriter",
]
