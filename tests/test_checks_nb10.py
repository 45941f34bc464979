"""Every exercise check of notebook 10 passes on the solution and fails on mistakes."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from check_helpers import COMMON
from check_helpers import assert_verdict as _assert
from torch import nn

from coursekit import post_training as pt
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, nb10

# ----------------------------------------------------------------- 10.1 LoRA layer


def make_lora(scale="alpha/r", freeze=True, b_zero=True, keep_bias=True, with_base=True):
    class LoRA(nn.Module):
        def __init__(self, base, r, alpha):
            super().__init__()
            self.base = base
            if freeze:
                for p in base.parameters():
                    p.requires_grad_(False)
            self.r, self.alpha = r, alpha
            self.scaling = {"alpha/r": alpha / r, "none": 1.0, "alpha": alpha}[scale]
            self.lora_A = nn.Parameter(torch.randn(r, base.in_features) * 0.1)
            init = torch.zeros if b_zero else torch.ones
            self.lora_B = nn.Parameter(init(base.out_features, r))

        def forward(self, x):
            update = self.scaling * (x @ self.lora_A.T @ self.lora_B.T)
            return (self.base(x) if with_base else 0) + update

        def merge(self):
            out = nn.Linear(self.base.in_features, self.base.out_features)
            with torch.no_grad():
                out.weight.copy_(self.base.weight + self.scaling * self.lora_B @ self.lora_A)
                out.bias.copy_(self.base.bias if keep_bias else torch.zeros_like(self.base.bias))
            return out

    return LoRA


class Blank(nn.Module):
    def __init__(self, base, r, alpha):
        super().__init__()
        raise NotImplementedError


class Inherits(pt.LoRALinear):
    pass


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (make_lora(), PASSED, "passed"),
        (pt.LoRALinear, NOT_YET, "write your own"),
        (Inherits, NOT_YET, "inherits"),
        (None, NOT_ATTEMPTED, "still None"),
        (Blank, NOT_ATTEMPTED, "NotImplementedError"),
        ("LoRA", NOT_YET, "nn.Module subclass"),
        (make_lora(scale="none"), NOT_YET, "not scaled"),
        (make_lora(scale="alpha"), NOT_YET, "scaled by alpha, not alpha / r"),
        (make_lora(freeze=False), NOT_YET, "still train"),
        (make_lora(b_zero=False), NOT_YET, "does not start at zero"),
        (make_lora(keep_bias=False), NOT_YET, "lost the base's bias"),
        (make_lora(with_base=False), NOT_YET, "equal the base layer"),
    ],
)
def test_lora_layer(answer, status, fragment):
    _assert(nb10.lora_layer.evaluate(answer), status, fragment)


# ----------------------------------------------------------------- 10.2 masked labels


def good_masked(tokenizer, messages):
    ids, labels = [], []
    for m in messages:
        if m["role"] == "assistant":
            answer = tokenizer(m["content"] + "<|end|>", add_special_tokens=False)["input_ids"]
            ids += [tokenizer.convert_tokens_to_ids("<|assistant|>"), *answer]
            labels += [-100, *answer]
        else:
            turn = tokenizer(f"<|{m['role']}|>{m['content']}<|end|>", add_special_tokens=False)[
                "input_ids"
            ]
            ids += turn
            labels += [-100] * len(turn)
    return ids, labels


def variant(kind):
    def fn(tokenizer, messages):
        ids, labels = good_masked(tokenizer, messages)
        header = tokenizer.convert_tokens_to_ids("<|assistant|>")
        end = tokenizer.convert_tokens_to_ids("<|end|>")
        if kind == "all":
            return ids, list(ids)
        if kind == "none":
            return ids, [-100] * len(ids)
        if kind == "header":
            return ids, [t if t == header else lab for t, lab in zip(ids, labels, strict=True)]
        if kind == "end":
            return ids, [-100 if t == end else lab for t, lab in zip(ids, labels, strict=True)]
        if kind == "shift":
            return ids, [*labels[1:], -100]
        return ids, labels[:-1]

    return fn


@pytest.fixture(scope="module")
def tokenizer():
    from coursekit.tokenization import load_shop_bpe

    return pt.add_chat_tokens(load_shop_bpe())


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_masked, PASSED, "passed"),
        (pt.masked_labels, NOT_YET, "itself: write your own"),
        *COMMON,
        (lambda tok, msgs: pt.masked_labels(tok, msgs), NOT_YET, "ready-made"),
        (variant("all"), NOT_YET, "every token is a label"),
        (variant("none"), NOT_YET, "every label is -100"),
        (variant("header"), NOT_YET, "header is labelled"),
        (variant("end"), NOT_YET, "<|end|> that closes the answer is masked"),
        (variant("shift"), NOT_YET, "shifted by one"),
        (variant("short"), NOT_YET, "one label per token"),
        (lambda tok, msgs: [1, 2], NOT_YET, "should return (input_ids, labels)"),
    ],
)
def test_masked_labels(answer, status, fragment, tokenizer):
    _assert(nb10.masked_labels.evaluate(answer, tokenizer), status, fragment)


# ----------------------------------------------------------------- 10.3 DPO loss


def good_dpo(pc, pr, rc, rr, beta):
    return -F.logsigmoid(beta * ((pc - rc) - (pr - rr))).mean()


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_dpo, PASSED, "passed"),
        (pt.dpo_loss, NOT_YET, "itself: write your own"),
        *COMMON,
        (lambda pc, pr, rc, rr, b: pt.dpo_loss(pc, pr, rc, rr, b), NOT_YET, "ready-made"),
        (
            lambda pc, pr, rc, rr, b: -F.logsigmoid(-b * ((pc - rc) - (pr - rr))).mean(),
            NOT_YET,
            "sign is flipped",
        ),
        (
            lambda pc, pr, rc, rr, b: -F.logsigmoid(b * (pc - pr)).mean(),
            NOT_YET,
            "reference log-probabilities are missing",
        ),
        (
            lambda pc, pr, rc, rr, b: -F.logsigmoid((pc - rc) - (pr - rr)).mean(),
            NOT_YET,
            "beta is missing",
        ),
        (
            lambda pc, pr, rc, rr, b: -F.logsigmoid(b * ((pc - rc) - (pr - rr))).sum(),
            NOT_YET,
            "take the mean",
        ),
        (
            lambda pc, pr, rc, rr, b: F.logsigmoid(b * ((pc - rc) - (pr - rr))).mean(),
            NOT_YET,
            "without the minus",
        ),
        (
            lambda pc, pr, rc, rr, b: -F.logsigmoid(b * ((pc - rc) - (pr - rr))),
            NOT_YET,
            "0-dim tensor",
        ),
        (lambda pc, pr, rc, rr, b: torch.tensor(math.log(2)), NOT_YET, "expected"),
    ],
)
def test_dpo_loss(answer, status, fragment):
    _assert(nb10.dpo_loss.evaluate(answer), status, fragment)
