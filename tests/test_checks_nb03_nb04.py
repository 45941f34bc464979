"""Every exercise check of notebooks 03 and 04 passes on the solution and fails on mistakes."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from check_helpers import COMMON
from check_helpers import assert_verdict as _assert

from coursekit import lm
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, nb03, nb04

# ----------------------------------------------------------------- 03.1 scores


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (lambda q, k: q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]), PASSED, "passed"),
        *COMMON,
        (lambda q, k: (q @ k.transpose(-2, -1)).tolist(), NOT_YET, "should return a torch.Tensor"),
        (lambda q, k: q @ k.transpose(-2, -1), NOT_YET, "not scaled"),
        (lambda q, k: q @ k.transpose(-2, -1) / q.shape[-1], NOT_YET, "square root"),
        (lambda q, k: q @ k.mT / math.sqrt(k.shape[-2]), NOT_YET, "off by"),
        (lambda q, k: q @ q.transpose(-2, -1) / math.sqrt(q.shape[-1]), NOT_YET, "shape (2, 3, 3)"),
        (lambda q, k: q @ k.transpose(1, 2) / math.sqrt(q.shape[-1]), NOT_YET, "raised"),
    ],
)
def test_attention_scores(answer, status, fragment):
    _assert(nb03.attention_scores.evaluate(answer), status, fragment)


# ----------------------------------------------------------------- 03.3 causal mask


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (lambda n: torch.ones(n, n, dtype=torch.bool).tril(), PASSED, "passed"),
        *COMMON,
        (lambda n: torch.ones(n, n).tril(), NOT_YET, "use a bool tensor"),
        (lambda n: torch.ones(n, n, dtype=torch.bool).triu(), NOT_YET, "see the future"),
        (lambda n: torch.ones(n, n, dtype=torch.bool).tril(-1), NOT_YET, "attend to itself"),
        (lambda n: torch.ones(n, n, dtype=torch.bool), NOT_YET, "lower triangle"),
        (lambda n: torch.ones(n, dtype=torch.bool), NOT_YET, "has shape"),
    ],
)
def test_causal_mask(answer, status, fragment):
    _assert(nb03.causal_mask.evaluate(answer), status, fragment)


# ----------------------------------------------------------------- 03.2 stable softmax


def good_softmax(x):
    e = torch.exp(x - x.amax(dim=-1, keepdim=True))
    return e / e.sum(dim=-1, keepdim=True)


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_softmax, PASSED, "passed"),
        *COMMON,
        (lambda x: torch.exp(x) / torch.exp(x).sum(-1, keepdim=True), NOT_YET, "overflows"),
        (lambda x: torch.exp(x) / torch.exp(x).sum(0), NOT_YET, "wrong axis"),
        (lambda x: torch.softmax(x, dim=-1), NOT_YET, "write your own"),
        (lambda x: torch.exp(x - x.max()), NOT_YET, "off by"),
        (lambda x: good_softmax(x).numpy(), NOT_YET, "torch.Tensor"),
    ],
)
def test_stable_softmax(answer, status, fragment):
    _assert(nb03.stable_softmax.evaluate(answer), status, fragment)


# ----------------------------------------------------------------- 03.4 split heads


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (lambda x, h: x.view(x.shape[0], x.shape[1], h, -1).transpose(1, 2), PASSED, "passed"),
        *COMMON,
        (lambda x, h: x.view(x.shape[0], h, x.shape[1], -1), NOT_YET, "right shape, wrong values"),
        (lambda x, h: x.view(x.shape[0], x.shape[1], h, -1), NOT_YET, "has shape (2, 5, 3, 4)"),
        (
            lambda x, h: x.view(x.shape[0], x.shape[1], -1, h).permute(0, 3, 1, 2),
            NOT_YET,
            "features",
        ),
        (
            lambda x, h: x.view(x.shape[0], x.shape[1], -1, h).transpose(1, 3).transpose(2, 3),
            NOT_YET,
            "features",
        ),
    ],
)
def test_split_heads(answer, status, fragment):
    _assert(nb03.split_heads.evaluate(answer), status, fragment)


# ----------------------------------------------------------------- 04.2 shifted loss


def good_loss(logits, labels):
    v = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, v), labels[:, 1:].reshape(-1))


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_loss, PASSED, "passed"),
        *COMMON,
        (lambda lo, la: good_loss(lo, la).item(), NOT_YET, "0-dim tensor"),
        # the course's version of the answer (shown only after this exercise) does not pass
        (lambda lo, la: lm.shifted_cross_entropy(lo, la), NOT_YET, "write your own"),
        (
            lambda lo, la: F.cross_entropy(lo.reshape(-1, lo.shape[-1]), la.reshape(-1)),
            NOT_YET,
            "without the shift",
        ),
        (
            lambda lo, la: F.cross_entropy(lo[:, 1:].reshape(-1, 11), la[:, :-1].reshape(-1)),
            NOT_YET,
            "wrong way",
        ),
        (
            lambda lo, la: F.cross_entropy(
                lo[:, :-1].reshape(-1, 11), la[:, 1:].reshape(-1), reduction="sum"
            ),
            NOT_YET,
            "summed",
        ),
        # the articles' call: logits (batch, seq, vocab) against ids (batch, seq)
        (lambda lo, la: torch.nn.CrossEntropyLoss()(lo, la), NOT_YET, "raised"),
        (
            lambda lo, la: F.cross_entropy(
                lo[:, :-1].reshape(-1, 11), la[:, 1:].clamp(min=0).reshape(-1)
            ),
            NOT_YET,
            "expected about",
        ),
    ],
)
def test_shifted_loss(answer, status, fragment):
    _assert(nb04.shifted_loss.evaluate(answer), status, fragment)


# ----------------------------------------------------------------- 04.1 corpus perplexity


def good_ppl(losses, tokens):
    return math.exp(sum(x * n for x, n in zip(losses, tokens, strict=True)) / sum(tokens))


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_ppl, PASSED, "passed"),
        *COMMON,
        (lambda losses, tokens: math.exp(sum(losses) / len(losses)), NOT_YET, "weight by tokens"),
        (
            lambda losses, tokens: sum(math.exp(x) for x in losses) / len(losses),
            NOT_YET,
            "per-batch perplexities",
        ),
        (lambda losses, tokens: math.log(good_ppl(losses, tokens)), NOT_YET, "exp(mean loss)"),
        (lambda losses, tokens: "12.3", NOT_YET, "expected about"),
        (lambda losses, tokens: [good_ppl(losses, tokens)], NOT_YET, "should return a number"),
        (lambda losses, tokens: 2 ** (sum(losses) / len(losses)), NOT_YET, "expected about"),
    ],
)
def test_corpus_perplexity(answer, status, fragment):
    _assert(nb04.corpus_perplexity.evaluate(answer), status, fragment)


# ----------------------------------------------------------------- 04.4 training step


def good_step(model, batch, optimizer):
    model.train()
    out = model(**batch)
    optimizer.zero_grad()
    out.loss.backward()
    optimizer.step()
    return out.loss.item()


def no_zero_grad(model, batch, optimizer):
    model.train()
    loss = model(**batch).loss
    loss.backward()
    optimizer.step()
    return loss.item()


def no_train_mode(model, batch, optimizer):
    loss = model(**batch).loss
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def no_step(model, batch, optimizer):
    model.train()
    loss = model(**batch).loss
    optimizer.zero_grad()
    loss.backward()
    return loss.item()


def counts_padding(model, batch, optimizer):
    model.train()
    loss = model(input_ids=batch["input_ids"], labels=batch["input_ids"]).loss
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def articles_loop(model, batch, optimizer):
    model.train()
    outputs = model(input_ids=batch["input_ids"])
    loss = torch.nn.CrossEntropyLoss()(outputs.logits, batch["input_ids"])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def returns_tensor(model, batch, optimizer):
    good_step(model, batch, optimizer)
    return model(**batch).loss


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_step, PASSED, "passed"),
        *COMMON,
        (no_zero_grad, NOT_YET, "zero the old gradients"),
        (no_train_mode, NOT_YET, "eval mode"),
        (no_step, NOT_YET, "did not change"),
        (counts_padding, NOT_YET, "counts the padding"),
        (articles_loop, NOT_YET, "raised"),
        (returns_tensor, NOT_YET, "Python float"),
    ],
)
def test_train_step(answer, status, fragment):
    _assert(nb04.train_step.evaluate(answer), status, fragment)


# ----------------------------------------------------------------- 04.3 argmax axis

LOGITS = torch.randn(2, 5, 7, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (LOGITS.argmax(dim=-1), PASSED, "passed"),
        (None, NOT_ATTEMPTED, "still None"),
        (torch.max(LOGITS, 1)[1], NOT_YET, "sequence axis"),
        (torch.max(LOGITS, -1), NOT_YET, "(values, indices)"),
        (LOGITS.argmin(dim=-1), NOT_YET, "not the argmax"),
        (LOGITS.argmax(dim=-1)[:, -1], NOT_YET, "has shape (2,)"),
        ([[0, 1]], NOT_YET, "tensor or array"),
    ],
)
def test_next_token_ids(answer, status, fragment):
    _assert(nb04.next_token_ids.evaluate(answer, LOGITS), status, fragment)
