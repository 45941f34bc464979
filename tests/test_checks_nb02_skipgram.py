"""Notebook 02's skip-gram exercises: 02.4 (center, context) pairs and 02.5 the SGNS loss.

The reference passes; a blank is "not attempted yet" with no hint; calling coursekit's
version is caught; each plausible mistake gets its own message.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from check_helpers import COMMON
from check_helpers import assert_verdict as _assert

from coursekit import word2vec as w2v
from coursekit.checks import NOT_YET, PASSED, nb02

# ----------------------------------------------------------------- 02.4 pairs


def good_pairs(ids, window):
    if window < 1:
        raise ValueError("window must be at least 1")
    pairs = []
    for i, center in enumerate(ids):
        for j in range(max(0, i - window), min(len(ids), i + window + 1)):
            if j != i:
                pairs.append((center, ids[j]))
    return pairs


def by_offset(ids, window):
    """Right answer in another order (by offset, then position), as numpy rows."""
    import numpy as np

    if window < 1:
        raise ValueError("window must be at least 1")
    out = []
    for d in [*range(-window, 0), *range(1, window + 1)]:
        out += [[ids[i], ids[i + d]] for i in range(len(ids)) if 0 <= i + d < len(ids)]
    return np.array(out, dtype=int).reshape(-1, 2)


def _no_error(fn):
    def wrapped(ids, window):
        return fn(ids, max(window, 1))

    return wrapped


def with_self(ids, window):
    if window < 1:
        raise ValueError
    return [
        (ids[i], ids[j])
        for i in range(len(ids))
        for j in range(max(0, i - window), min(len(ids), i + window + 1))
    ]


def off_by_one(ids, window):
    if window < 1:
        raise ValueError
    return [
        (ids[i], ids[j])
        for i in range(len(ids))
        for j in range(max(0, i - window + 1), min(len(ids), i + window))
        if j != i
    ]


def right_only(ids, window):
    if window < 1:
        raise ValueError
    return [
        (ids[i], ids[j])
        for i in range(len(ids))
        for j in range(i + 1, i + window + 1)
        if j < len(ids)
    ]


def by_value(ids, window):
    if window < 1:
        raise ValueError
    return [p for p in good_pairs(ids, window) if p[0] != p[1]]


def wraps(ids, window):
    if window < 1:
        raise ValueError
    return [
        (ids[i], ids[j])
        for i in range(len(ids))
        for j in range(i - window, min(len(ids), i + window + 1))
        if j != i
    ]


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_pairs, PASSED, "passed"),
        (by_offset, PASSED, "passed"),
        *COMMON,
        (w2v.skipgram_pairs, NOT_YET, "`skipgram_pairs` itself"),
        (lambda ids, w: w2v.skipgram_pairs(ids, w), NOT_YET, "calls `skipgram_pairs`"),
        (with_self, NOT_YET, "paired each word with itself"),
        (off_by_one, NOT_YET, "one word too narrow"),
        (right_only, NOT_YET, "only paired each center with the words after it"),
        (by_value, NOT_YET, "skip the center's position, not its value"),
        (wraps, NOT_YET, "wrapped around"),
        (_no_error(good_pairs), NOT_YET, "raise a ValueError"),
        (lambda ids, w: [tuple(p) for p in good_pairs(ids, w)][:3], NOT_YET, "expected"),
        (lambda ids, w: 3, NOT_YET, "should be a list"),
    ],
)
def test_skipgram_pairs(answer, status, fragment):
    _assert(nb02.skipgram_pairs.evaluate(answer), status, fragment)


# ----------------------------------------------------------------- 02.5 loss


def good_loss(center, context, negatives):
    pos = F.logsigmoid((center * context).sum(-1))
    neg = F.logsigmoid(-(negatives @ center.unsqueeze(-1)).squeeze(-1)).sum(-1)
    return -(pos + neg).mean()


def _scores(c, o, n):
    return (c * o).sum(-1), torch.einsum("bd,bkd->bk", c, n)


def sign_flipped(c, o, n):
    pos, neg = _scores(c, o, n)
    return -(F.logsigmoid(pos) + F.logsigmoid(neg).sum(-1)).mean()


def softmax_loss(c, o, n):
    pos, neg = _scores(c, o, n)
    return -torch.log_softmax(torch.cat([pos[:, None], neg], 1), 1)[:, 0].mean()


def summed(c, o, n):
    return good_loss(c, o, n) * len(c)


def mean_over_k(c, o, n):
    pos, neg = _scores(c, o, n)
    if neg.shape[1] == 0:
        return -F.logsigmoid(pos).mean()
    return -(F.logsigmoid(pos) + F.logsigmoid(-neg).mean(-1)).mean()


def no_log(c, o, n):
    pos, neg = _scores(c, o, n)
    return -(torch.sigmoid(pos) + torch.sigmoid(-neg).sum(-1)).mean()


def detached(c, o, n):
    return torch.tensor(float(good_loss(c, o, n).detach()))


def per_pair(c, o, n):
    pos, neg = _scores(c, o, n)
    return -(F.logsigmoid(pos) + F.logsigmoid(-neg).sum(-1))


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (good_loss, PASSED, "passed"),
        *COMMON,
        (w2v.sgns_loss, NOT_YET, "`sgns_loss` itself"),
        (lambda c, o, n: w2v.sgns_loss(c, o, n), NOT_YET, "calls `sgns_loss`"),
        (sign_flipped, NOT_YET, "wrong sign"),
        (softmax_loss, NOT_YET, "softmax"),
        (summed, NOT_YET, "summed over the batch"),
        (mean_over_k, NOT_YET, "averaged the k negatives"),
        (lambda c, o, n: -good_loss(c, o, n), NOT_YET, "opposite sign"),
        (no_log, NOT_YET, "log of the sigmoid"),
        (detached, NOT_YET, "no gradient"),
        (per_pair, NOT_YET, "one number"),
        (
            lambda c, o, n: float(good_loss(c, o, n).detach()),
            NOT_YET,
            "should return a torch tensor",
        ),
    ],
)
def test_sgns_loss(answer, status, fragment):
    _assert(nb02.sgns_loss.evaluate(answer), status, fragment)


def test_hints_are_staged_and_no_solution():
    for check in (nb02.skipgram_pairs, nb02.sgns_loss):
        assert len(check.hints) == 2
        assert all("return" not in h and "def " not in h for h in check.hints)
