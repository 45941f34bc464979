"""Checks for notebook 10 (post-training): a LoRA layer, prompt-masked labels, the DPO loss.

Each check runs the learner's code on hidden, seeded inputs and compares it with the course's
version (:mod:`coursekit.post_training`); common mistakes (no α/r scaling, a trainable base, B
not starting at zero, labels on the prompt, the ``<|assistant|>`` header or the closing
``<|end|>`` handled wrongly, a DPO loss without the reference or with the wrong sign) each get
their own message.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from coursekit.checks import (
    CheckFailed,
    UsedReference,
    call,
    call_own,
    exercise,
    expect,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    require_attempted,
)

LORA_FORBID = (
    "coursekit.post_training.lora.LoRALinear",
    "coursekit.post_training.lora.add_lora",
    "peft.tuners.lora.layer.Linear",
)
MASK_FORBID = (
    "coursekit.post_training.chat.masked_labels",
    "coursekit.post_training.sft.encode",
)
DPO_FORBID = (
    "coursekit.post_training.dpo.dpo_loss",
    "coursekit.post_training.dpo.trl_dpo_loss",
)


def _describe(value: Any) -> str:
    return f"a {type(value).__name__}"


# --------------------------------------------------------------------------- 10.1 LoRA


def _inherits_reference(cls: Any) -> None:
    from coursekit.checks import _resolve

    for path in LORA_FORBID:
        try:
            original = _resolve(path)
        except (ImportError, AttributeError):  # pragma: no cover - peft missing
            continue
        if isinstance(cls, type) and isinstance(original, type) and issubclass(cls, original):
            raise UsedReference(
                f"your class inherits from `{original.__name__}`, the ready-made version of what "
                "this exercise asks you to build: write your own, then run the check again"
            )


@exercise(
    "10.1",
    "a LoRA layer: forward and merge",
    hint=(
        "The base layer's weights must not train; the update is a product of two small matrices, "
        "one of which starts at zero, and it is scaled before it is added.",
        "In forward, add (alpha / r) times x multiplied by A transposed and then by B transposed "
        "to the base layer's output; merge builds an nn.Linear whose weight is W plus the same "
        "scaled product B @ A, with the base's bias.",
    ),
)
def lora_layer(LoRA: Any) -> str:  # noqa: N803 (the learner's class)
    import torch
    from torch import nn

    require_attempted(LoRA, "LoRA")
    expect(
        isinstance(LoRA, type) and issubclass(LoRA, nn.Module),
        f"pass the class `LoRA` itself (an nn.Module subclass), not {_describe(LoRA)}",
    )
    _inherits_reference(LoRA)
    for case, (d_in, d_out, r, alpha) in enumerate([(6, 4, 2, 4.0), (5, 7, 3, 3.0)]):
        gen = torch.Generator().manual_seed(1010 + case)
        base = nn.Linear(d_in, d_out)
        with torch.no_grad():
            base.weight.copy_(torch.randn(d_out, d_in, generator=gen))
            base.bias.copy_(torch.randn(d_out, generator=gen))
        w0 = base.weight.detach().clone()
        layer = call_own(
            LoRA, base, r, alpha, forbid=LORA_FORBID, name=f"LoRA(base, r={r}, alpha={alpha:g})"
        )
        expect(
            isinstance(layer, nn.Module),
            f"`LoRA(...)` should build an nn.Module, got {_describe(layer)}",
        )
        for name, shape in (("lora_A", (r, d_in)), ("lora_B", (d_out, r))):
            p = getattr(layer, name, None)
            expect(
                isinstance(p, nn.Parameter) and tuple(p.shape) == shape,
                f"`{name}` should be an nn.Parameter of shape {shape}"
                + (f", got shape {tuple(p.shape)}" if hasattr(p, "shape") else ", got none"),
            )
        expect(
            not base.weight.requires_grad and not base.bias.requires_grad,
            "the base layer's weight and bias still train: LoRA freezes them (requires_grad_(False))",
        )
        expect(
            bool(torch.all(layer.lora_B == 0)),
            "lora_B does not start at zero: the wrapped layer must first compute exactly what the base did",
        )
        expect(
            bool(torch.any(layer.lora_A != 0)),
            "lora_A starts at zero too: then B's gradient is zero and nothing ever trains; initialise A at random",
        )
        x = torch.randn(3, d_in, generator=gen)
        got0 = call(layer, x.clone(), name="forward")
        expect(
            torch.is_tensor(got0) and tuple(got0.shape) == (3, d_out),
            f"forward should return a tensor of shape (3, {d_out})",
        )
        expect(
            torch.allclose(got0, base(x), atol=1e-5),
            "with B = 0 the output should equal the base layer's",
        )
        with torch.no_grad():
            layer.lora_A.copy_(torch.randn(r, d_in, generator=gen))
            layer.lora_B.copy_(torch.randn(d_out, r, generator=gen))
        a, b = layer.lora_A.detach(), layer.lora_B.detach()
        got = call(layer, x.clone(), name="forward").detach()
        want = base(x).detach() + (alpha / r) * (x @ a.T @ b.T)
        if not torch.allclose(got, want, atol=1e-4):
            wrong = {
                "the update is not scaled: multiply it by alpha / r": base(x) + x @ a.T @ b.T,
                "the update is scaled by alpha, not alpha / r": base(x) + alpha * (x @ a.T @ b.T),
                "the update is scaled by r / alpha: it is alpha / r": base(x)
                + (r / alpha) * (x @ a.T @ b.T),
                "the base layer's output is missing: LoRA adds the update to W x + b": (alpha / r)
                * (x @ a.T @ b.T),
            }
            for message, value in wrong.items():
                if torch.allclose(got, value.detach(), atol=1e-4):
                    raise CheckFailed(message)
            raise CheckFailed(
                "forward differs from base(x) + (alpha / r) · x Aᵀ Bᵀ on a hidden input"
            )
        expect(
            torch.equal(base.weight, w0),
            "forward changed the base layer's weight: only merge builds a new one",
        )
        merged = call(getattr(layer, "merge", None), name="merge")
        expect(
            isinstance(merged, nn.Linear),
            f"merge should return an nn.Linear, got {_describe(merged)}",
        )
        with torch.no_grad():
            m_out = merged(x)
        if not torch.allclose(m_out, want, atol=1e-4):
            if torch.allclose(m_out, want - base.bias.detach(), atol=1e-4):
                raise CheckFailed("the merged layer lost the base's bias: copy it over")
            if torch.allclose(m_out, base(x).detach() + x @ a.T @ b.T, atol=1e-4):
                raise CheckFailed("the merged weight is W + B A without the alpha / r scaling")
            raise CheckFailed(
                "the merged layer's outputs differ from the unmerged layer's: W + (alpha / r) · B A"
            )
    return "Frozen base, B = 0 at the start, forward and merge equal on hidden layers."


# --------------------------------------------------------------------------- 10.2 masked labels

_CONVERSATIONS = [
    [
        {"role": "system", "content": "You are the shop's assistant."},
        {"role": "user", "content": "Label the review's sentiment. Review: Arrived broken, twice."},
        {"role": "assistant", "content": "negative"},
    ],
    [
        {"role": "user", "content": "Write product copy for: brand: Acme | colour: teal"},
        {"role": "assistant", "content": "The Acme mug in teal."},
        {"role": "user", "content": "Shorter?"},
        {"role": "assistant", "content": "Acme, in teal."},
    ],
]


def _chat_tokenizer() -> Any:
    from coursekit.post_training import add_chat_tokens
    from coursekit.tokenization import load_shop_bpe

    return add_chat_tokens(load_shop_bpe())


@exercise(
    "10.2",
    "labels only on the assistant's answer",
    hint=(
        "Go turn by turn: every token gets a label, and only the assistant's own words (with the "
        "token that closes its turn) should keep their id; everything else gets the ignore value.",
        "For a system or user turn, tokenise '<|role|>content<|end|>' and give all its tokens -100; "
        "for an assistant turn, the '<|assistant|>' token gets -100 and the tokens of "
        "content + '<|end|>' keep their ids as labels.",
    ),
)
def masked_labels(fn: Any, tokenizer: Any = None) -> str:
    from coursekit.post_training import masked_labels as reference

    require_attempted(fn, "prompt_masked_labels")
    tok = tokenizer if tokenizer is not None else _chat_tokenizer()
    for conv in _CONVERSATIONS:
        got = call_own(
            fn, tok, [dict(m) for m in conv], forbid=MASK_FORBID, name="prompt_masked_labels"
        )
        expect(
            isinstance(got, tuple) and len(got) == 2,
            f"`prompt_masked_labels` should return (input_ids, labels), got {_describe(got)}",
        )
        ids, labels = (list(map(int, x)) for x in got)
        want_ids, want = reference(tok, conv)
        expect(
            ids == want_ids,
            "input_ids differ from the chat template's tokens: tokenise each turn with its special tokens",
        )
        expect(
            len(labels) == len(ids),
            f"labels has {len(labels)} entries for {len(ids)} tokens: one label per token",
        )
        if labels == want:
            continue
        if labels == ids:
            raise CheckFailed(
                "every token is a label: the prompt (system and user turns) must get -100"
            )
        if all(lab == -100 for lab in labels):
            raise CheckFailed("every label is -100: the assistant's answer must keep its ids")
        if labels[1:] == want[:-1] or labels[:-1] == want[1:]:
            raise CheckFailed(
                "your labels are shifted by one: keep them aligned with input_ids, the model shifts them itself"
            )
        header = tok.convert_tokens_to_ids("<|assistant|>")
        end = tok.convert_tokens_to_ids("<|end|>")
        for i, (lab, w, t) in enumerate(zip(labels, want, ids, strict=True)):
            if lab == w:
                continue
            if t == header:
                raise CheckFailed(
                    "the <|assistant|> header is labelled: the model is given it, it does not predict it"
                )
            if t == end and w == end:
                raise CheckFailed(
                    "the <|end|> that closes the answer is masked: the model must learn to stop, so label it"
                )
            raise CheckFailed(
                f"label {i} is {lab}, expected {w} (token {tok.convert_ids_to_tokens(t)!r})"
            )
    return "Labels equal the course's on hidden multi-turn conversations."


# --------------------------------------------------------------------------- 10.3 DPO loss


@exercise(
    "10.3",
    "the DPO loss from four log-probabilities",
    hint=(
        "Compare how much the policy moved away from the reference on the chosen answer with how "
        "much it moved on the rejected one; a bigger gap should give a smaller loss.",
        "Take (policy_chosen - ref_chosen) - (policy_rejected - ref_rejected), multiply by beta, "
        "and average -log sigmoid of it over the pairs (torch.nn.functional.logsigmoid is stable).",
    ),
)
def dpo_loss(fn: Any) -> str:
    import torch
    import torch.nn.functional as F

    require_attempted(fn, "my_dpo_loss")
    for seed, beta in [(10, 0.1), (11, 0.5)]:
        gen = torch.Generator().manual_seed(seed)
        pc, pr, rc, rr = (-(torch.rand(5, generator=gen) * 30 + 1) for _ in range(4))
        got = call_own(
            fn,
            pc.clone(),
            pr.clone(),
            rc.clone(),
            rr.clone(),
            beta,
            forbid=DPO_FORBID,
            name="my_dpo_loss",
        )
        expect(
            torch.is_tensor(got) and got.dim() == 0,
            f"`my_dpo_loss` should return a 0-dim tensor (the mean loss), got {_describe(got)}",
        )
        margin = beta * ((pc - rc) - (pr - rr))
        want = -F.logsigmoid(margin).mean()
        if torch.allclose(got, want, atol=1e-5):
            continue
        wrong: Sequence[tuple[str, Any]] = (
            (
                "the sign is flipped (or policy and reference swapped): a larger margin must give a "
                "smaller loss, -log σ(β · ((π_w - ref_w) - (π_l - ref_l)))",
                -F.logsigmoid(-margin).mean(),
            ),
            (
                "the reference log-probabilities are missing: DPO uses policy minus reference",
                -F.logsigmoid(beta * (pc - pr)).mean(),
            ),
            (
                "beta is missing: scale the margin by beta",
                -F.logsigmoid((pc - rc) - (pr - rr)).mean(),
            ),
            ("summed over pairs: take the mean", -F.logsigmoid(margin).sum()),
            (
                "log σ without the minus sign: the loss is -log σ(margin), always >= 0",
                F.logsigmoid(margin).mean(),
            ),
        )
        for message, value in wrong:
            if torch.allclose(got, value, atol=1e-5):
                raise CheckFailed(message)
        raise CheckFailed(
            f"on hidden log-probabilities (beta={beta}) the loss is {float(got):.4f}, expected {float(want):.4f}"
        )
    start = call(fn, pc, pr, pc, pr, 0.1, name="my_dpo_loss")
    expect(
        abs(float(start) - math.log(2)) < 1e-5,
        "when the policy equals the reference the loss should be log 2 (margin 0)",
    )
    return "Equal to the course's (and trl's) on hidden pairs; log 2 when policy = reference."


__all__ = ["dpo_loss", "lora_layer", "masked_labels"]
