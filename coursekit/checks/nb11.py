"""Checks for notebook 11 (a grounded shop assistant): RRF, unsupported numbers, int8 rows."""

from __future__ import annotations

import re
from typing import Any

from coursekit.checks import (
    CheckFailed,
    call_own,
    exercise,
    expect,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    own_or_reference,  # noqa: F401 (later cells use the learner's piece once it passes)
)

#: the ready-made faithfulness pieces: calling one of them does not pass 11.2
FORBID_FAITHFUL = (
    "coursekit.assistant.numbers",
    "coursekit.assistant.unsupported_facts",
    "coursekit.assistant.is_faithful",
    "coursekit.assistant.faithfulness.numbers",
    "coursekit.assistant.faithfulness.unsupported_facts",
    "coursekit.assistant.faithfulness.is_faithful",
)
_DIGITS = re.compile(r"\d+(?:[.,:]\d+)*")


def _numbers(text: str) -> list[str]:
    out = []
    for m in _DIGITS.finditer(text):
        n = m.group().replace(",", "")
        out.append(n.split(".")[0] if re.fullmatch(r"\d+\.0+", n) else n)
    return out


def _reference_unsupported(reply: str, passage: str) -> list[str]:
    have = set(_numbers(passage))
    return [n for n in dict.fromkeys(_numbers(reply)) if n not in have]


#: (reply, passage) pairs the check tries; each catches one plausible mistake
_CASES_11_1 = [
    ("Returns are free within 30 days.", "You can return any item within 30 days."),
    ("Standard shipping costs $4.99, free over $60.", "Standard shipping is $4.99, free over $50."),
    ("We refund within 5 days.", "Refunds reach your card within 15 days of arrival."),
    ("Delivery takes 3 to 5 working days; express 1 day.", "Delivery takes 3-5 working days."),
    ("Cancel within 90 minutes; after 90 minutes it ships.", "Cancel within 60 minutes."),
    ("Call between 9:00 and 17:30, or order 2 items.", "We answer 9:00-17:30 every weekday."),
    ("Gift wrap costs $3.99 per item.", "Tick 'Gift wrap' at checkout for $3.99 per item."),
    ("No numbers here at all.", "Nor here."),
]


@exercise(
    "11.2",
    "the faithfulness check for numbers",
    hint=(
        "Pull the numbers out of both texts the same way, then keep the reply's numbers the "
        "passage never mentions.",
        "A regular expression for digits with an optional decimal part (\\d+(?:[.,:]\\d+)*) "
        "finds 4.99 inside '$4.99.' without the currency sign or the full stop; compare whole "
        "numbers as strings in a set (never 'in passage', where 5 hides inside 15), in the "
        "reply's order, each once.",
    ),
)
def unsupported_numbers(fn: Any) -> str:
    """``unsupported_numbers(reply, passage)`` -> the reply's numbers missing from the passage.

    Hidden: 8 (reply, passage) pairs with prices, clock times, ranges, repeats and a number
    hidden inside another (5 in 15); the edge case of no numbers at all gives ``[]``.
    """
    for reply, passage in _CASES_11_1:
        want = _reference_unsupported(reply, passage)
        got = call_own(fn, reply, passage, forbid=FORBID_FAITHFUL, name="unsupported_numbers")
        expect(
            isinstance(got, (list, tuple)),
            f"`unsupported_numbers` should return a list of str, but it returned a "
            f"{type(got).__name__}",
        )
        got = [str(x) for x in got]
        if got == want:
            continue
        missing_in_reply = [n for n in _numbers(passage) if n not in set(_numbers(reply))]
        if got and got == list(dict.fromkeys(missing_in_reply)):
            raise CheckFailed(
                "the direction is reversed: you listed the passage's numbers the reply leaves "
                "out; a reply may skip facts, but every number it DOES say must be in the passage"
            )
        if set(got) == set(want) and len(got) != len(set(got)):
            raise CheckFailed(
                f"for {reply!r} you list a number twice ({got}); report each unsupported number once"
            )
        if set(want) - set(got) and all(n in passage for n in set(want) - set(got)):
            raise CheckFailed(
                f"for {reply!r} you missed {sorted(set(want) - set(got))}: a substring test "
                "('5' in '... 15 days') finds numbers that are not there; compare whole numbers"
            )
        if any(x.startswith(("$", "£", "€")) or x.endswith((".", "%", ",")) for x in got):
            raise CheckFailed(
                f"for {reply!r} you returned {got}: strip the currency sign and the sentence's "
                "full stop, so '$4.99.' and '4.99' are the same number"
            )
        raise CheckFailed(_short_pair(reply, passage, got, want))
    return "A reply can no longer invent a price, a day count or a fee unnoticed."


def _short_pair(reply: str, passage: str, got: list[str], want: list[str]) -> str:
    return (
        f"unsupported_numbers({reply!r}, {passage!r}) gave {got}, expected {want}"
        if len(reply) + len(passage) < 120
        else f"for the reply {reply!r} you gave {got}, expected {want}"
    )


#: the ready-made quantizers: calling one of them does not pass 11.3
FORBID_QUANT = (
    "coursekit.assistant.quantize_per_channel",
    "coursekit.assistant.quantize.quantize_per_channel",
    "torch.quantize_per_channel",
    "torch.ao.quantization.quantize_dynamic",
)


def _hidden_weight(seed: int) -> Any:
    import torch

    g = torch.Generator().manual_seed(seed)
    w = torch.randn(6, 10, generator=g) * torch.tensor([0.02, 1.0, 5.0, 0.5, 0.1, 3.0])[:, None]
    w[3] = 0.0  # a row of zeros (a pruned channel)
    w[1, 4] = -2.5  # a row whose largest magnitude is negative
    return w


@exercise(
    "11.3",
    "int8 quantize/dequantize per output channel",
    hint=(
        "Each output channel (row) gets its own scale, so a row of tiny weights keeps its "
        "precision next to a row of big ones.",
        "scale = the row's largest |w| / 127 (1 for a row of zeros), q = round(w / scale) "
        "clamped to [-127, 127] as torch.int8; dequantize multiplies each row by its scale.",
    ),
)
def quantize_rows(fn: Any) -> str:
    """``quantize_rows(w) -> (q, scale)``: int8 ``q`` like ``w``, one float scale per row.

    Hidden: a 6x10 weight with rows of very different magnitude, a row of zeros and a row whose
    largest weight is negative. Checks q's dtype and range, the scales, and that
    ``q * scale`` is within half a step of ``w``.
    """
    import torch

    w = _hidden_weight(11)
    got = call_own(fn, w.clone(), forbid=FORBID_QUANT, name="quantize_rows")
    expect(
        isinstance(got, tuple) and len(got) == 2,
        f"`quantize_rows` should return (q, scale), but it returned a {type(got).__name__}",
    )
    q, scale = (torch.as_tensor(x) for x in got)
    expect(q.dtype == torch.int8, f"q should be torch.int8 (1 byte a weight), it is {q.dtype}")
    expect(
        tuple(q.shape) == tuple(w.shape), f"q has shape {tuple(q.shape)}, expected {tuple(w.shape)}"
    )
    scale = scale.float().flatten()
    if scale.numel() == 1:
        raise CheckFailed(
            "one scale for the whole matrix: the row of 0.02-sized weights rounds to almost "
            "nothing next to the 5.0-sized row; give each output channel (row) its own scale"
        )
    expect(
        scale.numel() == w.shape[0], f"need one scale per row ({w.shape[0]}), got {scale.numel()}"
    )
    absmax = w.abs().amax(dim=1)
    if not torch.isfinite(scale).all() or bool((scale[absmax == 0] != 1).any()):
        raise CheckFailed(
            "the row of zeros should get scale 1: with scale 0, w / scale is 0 / 0 = NaN"
        )
    want_scale = torch.where(absmax > 0, absmax / 127, torch.ones_like(absmax))
    live = absmax > 0
    if torch.allclose(scale[live], (absmax / 128)[live], rtol=1e-4) or torch.allclose(
        scale[live], (absmax / 255)[live], rtol=1e-4
    ):
        raise CheckFailed(
            "the scale uses the wrong range: symmetric int8 uses -127..127, so scale = max |w| / 127"
        )
    if torch.allclose(scale[live], w.amax(dim=1)[live] / 127, rtol=1e-4):
        raise CheckFailed(
            "the scale uses the largest weight, not the largest |weight|: take abs() first"
        )
    expect(
        torch.allclose(scale[live], want_scale[live], rtol=1e-4),
        f"the scales {[round(float(s), 5) for s in scale]} should be max |w| / 127 per row",
    )
    want_q = torch.round(w / want_scale[:, None]).clamp(-127, 127)
    if not torch.equal(q.float(), want_q):
        if torch.equal(q.float(), torch.trunc(w / want_scale[:, None]).clamp(-127, 127)):
            raise CheckFailed(
                "q is truncated towards zero (.to(torch.int8) alone): round first, or every "
                "weight loses up to a whole step instead of half"
            )
        raise CheckFailed("q is not round(w / scale) clamped to [-127, 127] for every weight")
    err = (q.float() * scale[:, None] - w).abs()
    expect(
        bool((err <= scale[:, None] / 2 + 1e-7).all()),
        "q * scale is more than half a step away from w",
    )
    return "Each row's error stays within half of its own step: scale / 2."


#: the ready-made fusion: calling it does not pass 11.1
FORBID_RRF = (
    "coursekit.assistant.reciprocal_rank_fusion",
    "coursekit.assistant.retrieve.reciprocal_rank_fusion",
)


def _rrf(rankings: list[list[str]], k: int) -> list[str]:
    score: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            score[doc] = score.get(doc, 0.0) + 1.0 / (k + rank)
    return sorted(score, key=lambda d: (-score[d], d))


_RANKINGS = [
    ["F1", "F2", "F3", "F7"],  # keywords: F1 first in this list only
    ["F9", "F2", "F3"],  # embeddings: F2 second twice, F3 third three times...
    ["F8", "F5", "F3", "F4"],  # a third retriever
]


@exercise(
    "11.1",
    "reciprocal-rank fusion",
    hint=(
        "Each list votes for its documents, more for a higher place; add the votes of all "
        "lists and sort.",
        "score(d) = sum over the lists that contain d of 1 / (k + rank), rank 1 for the first "
        "item; sort by score, highest first (ties by id), and return every document once.",
    ),
)
def rrf(fn: Any) -> str:
    """``rrf(rankings, k=60) -> ids`` fused, best first; hidden: 3 lists of different lengths,
    ``k`` = 60 and 1; edge cases: one list comes back unchanged, no lists give ``[]``."""
    for k in (60, 1):
        want = _rrf(_RANKINGS, k)
        got = call_own(fn, [list(r) for r in _RANKINGS], k=k, forbid=FORBID_RRF, name="rrf")
        expect(
            isinstance(got, (list, tuple)),
            f"`rrf` should return a list of ids, but it returned a {type(got).__name__}",
        )
        got = list(got)
        if got == want:
            continue
        if len(got) != len(set(got)):
            raise CheckFailed(
                "a document appears more than once: return each id once, with its summed score"
            )
        if got == _rrf(_RANKINGS, 0) or got == _rrf_zero_based(_RANKINGS, k):
            raise CheckFailed(
                f"with k={k} your order matches ranks counted from 0 (or k left out): the first "
                "item has rank 1, and k is added to every rank"
            )
        if got[: len(_RANKINGS[0])] == _RANKINGS[0]:
            raise CheckFailed(
                "the first list wins outright: add the votes of ALL lists before sorting"
            )
        if got == list(reversed(want)):
            raise CheckFailed("the order is reversed: the highest fused score comes first")
        raise CheckFailed(f"rrf(rankings, k={k}) gave {got}, expected {want}")
    one = call_own(fn, [["F5", "F2", "F9"]], k=60, forbid=FORBID_RRF, name="rrf")
    expect(list(one) == ["F5", "F2", "F9"], f"rrf([one list]) should return that list, got {one}")
    expect(
        list(call_own(fn, [], k=60, forbid=FORBID_RRF, name="rrf")) == [],
        "rrf([]) (no lists) should be []",
    )
    return "Fusion needs only ranks: scores of different retrievers never have to be comparable."


def _rrf_zero_based(rankings: list[list[str]], k: int) -> list[str]:
    score: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking):
            score[doc] = score.get(doc, 0.0) + (1.0 / (k + rank) if k + rank else 1.0)
    return sorted(score, key=lambda d: (-score[d], d))
