"""Checks for notebook 03 (attention): scores, stable softmax, causal mask, head splitting, and
masked multi-head attention built by the learner (03.5)."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from coursekit.checks import (
    CheckFailed,
    NotAttempted,
    UsedReference,
    _short,
    call_own,
    exercise,
    expect,
    expect_close,
    expect_shape,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    own_or_reference,  # noqa: F401 (later cells use the learner's module once 03.5 passes)
    tripwires,
)

#: coursekit's (and torch's) versions of the small exercises: calling them does not pass
FORBID_SCORES = ("coursekit.attention.attention_scores",)
FORBID_SOFTMAX = (
    "coursekit.attention.stable_softmax",
    "torch.softmax",
    "torch.nn.functional.softmax",
)
FORBID_CAUSAL = ("coursekit.attention.causal_mask", "coursekit.attention.causal_mask_like")
FORBID_SPLIT = ("coursekit.attention.split_heads",)


def _tensors(*shapes: tuple[int, ...], seed: int = 0) -> list[Any]:
    import torch

    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(*s, generator=gen) for s in shapes]


def _is_tensor(value: Any, name: str) -> None:
    import torch

    if not isinstance(value, torch.Tensor):
        raise CheckFailed(
            f"`{name}` should return a torch.Tensor, but it is a {type(value).__name__}"
        )


@exercise(
    "03.1",
    "attention scores Q·Kᵀ/√d_k",
    hint=(
        "Compare each query with each key by a dot product, scaled so that the scores do not grow with the dimension.",
        "Matrix-multiply q with k transposed on its last two axes, then divide by the square root of q's last dimension.",
    ),
)
def attention_scores(fn: Any) -> None:
    import torch

    q, k = _tensors((2, 3, 8), (2, 5, 8))
    got = call_own(fn, q, k, forbid=FORBID_SCORES, name="attention_scores")
    _is_tensor(got, "attention_scores(q, k)")
    want = q @ k.transpose(-2, -1) / math.sqrt(8)
    expect_shape(got, (2, 3, 5), "attention_scores(q, k) for q (2, 3, 8) and k (2, 5, 8)")
    if torch.allclose(got, want * math.sqrt(8), atol=1e-5):
        raise CheckFailed("the scores are not scaled: divide by √d_k")
    if torch.allclose(got, want * math.sqrt(8) / 8, atol=1e-5):
        raise CheckFailed("you divided by d_k; divide by its square root √d_k")
    expect_close(got, want, "attention_scores(q, k)")
    q4, k4 = _tensors((1, 2, 4, 16), (1, 2, 4, 16), seed=1)
    got4 = call_own(fn, q4, k4, forbid=FORBID_SCORES, name="attention_scores")
    _is_tensor(got4, "attention_scores(q, k)")
    expect_close(
        got4, q4 @ k4.transpose(-2, -1) / 4.0, "attention_scores on (batch, heads, seq, d_k) inputs"
    )


@exercise(
    "03.2",
    "softmax that does not overflow",
    hint=(
        "exp(1000) overflows, and softmax does not change when the same number is subtracted from every score of a row.",
        "Subtract each row's maximum (keeping the dimension, so it broadcasts), exponentiate, and divide by the row's sum.",
    ),
)
def stable_softmax(fn: Any) -> None:
    import torch

    x = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]])
    got = call_own(fn, x.clone(), forbid=FORBID_SOFTMAX, name="softmax")
    _is_tensor(got, "softmax(x)")
    expect_shape(got, (2, 3), "softmax(x) for x of shape (2, 3)")
    if torch.allclose(got, torch.softmax(x, dim=0), atol=1e-6):
        raise CheckFailed("you normalised over the wrong axis: each row (dim=-1) must sum to 1")
    expect_close(got, torch.softmax(x, dim=-1), "softmax(x)")
    big = torch.tensor([[1000.0, 999.0, -5.0], [-1000.0, -1001.0, -1002.0]])
    got = call_own(fn, big.clone(), forbid=FORBID_SOFTMAX, name="softmax")
    _is_tensor(got, "softmax(x)")
    if not torch.isfinite(got).all():
        raise CheckFailed(
            "softmax of [[1000, 999, -5], ...] gives NaN/inf: exp(1000) overflows; "
            "subtract the row maximum first"
        )
    expect_close(got, torch.softmax(big, dim=-1), "softmax of large scores")
    x4 = _tensors((2, 3, 4, 5))[0] * 30
    got = call_own(fn, x4.clone(), forbid=FORBID_SOFTMAX, name="softmax")
    expect_close(got, torch.softmax(x4, dim=-1), "softmax of a (2, 3, 4, 5) tensor")


@exercise(
    "03.3",
    "causal mask",
    hint=(
        "Position i may attend to itself and to earlier positions, never to later ones: which triangle of the n × n matrix is allowed?",
        "You need an n × n boolean matrix that is True on and below the diagonal; torch tensors have a method that keeps the lower triangle.",
    ),
)
def causal_mask(fn: Any) -> None:
    import torch

    for n in (1, 4, 7):
        got = call_own(fn, n, forbid=FORBID_CAUSAL, name="make_causal_mask")
        _is_tensor(got, f"make_causal_mask({n})")
        expect_shape(got, (n, n), f"make_causal_mask({n})")
        expect(
            got.dtype == torch.bool,
            f"make_causal_mask({n}) has dtype {got.dtype}; use a bool tensor (True = may attend)",
        )
        want = torch.ones(n, n, dtype=torch.bool).tril()
        if torch.equal(got, want):
            continue
        if torch.equal(got, want.tril(-1)):
            raise CheckFailed("the diagonal is False: a token must be allowed to attend to itself")
        if torch.equal(got, ~want) or torch.equal(got, want.T):
            raise CheckFailed(
                "your mask lets each token see the future and hides the past: True must be "
                "on and below the diagonal (lower triangle)"
            )
        raise CheckFailed(
            f"make_causal_mask({n}) is {got.int().tolist()}, expected the lower triangle"
        )


@exercise(
    "03.4",
    "split into heads",
    hint=(
        "First cut the last axis into (n_heads, d_head), then move the heads axis in front of the sequence axis.",
        "A reshape straight to (batch, n_heads, seq, d_head) has the right shape but mixes tokens across heads: view to (batch, seq, n_heads, d_head) first, then swap axes 1 and 2.",
    ),
)
def split_heads(fn: Any) -> None:
    import torch

    x = torch.arange(2 * 5 * 12, dtype=torch.float32).view(2, 5, 12)
    got = call_own(fn, x.clone(), 3, forbid=FORBID_SPLIT, name="split_heads")
    _is_tensor(got, "split_heads(x, 3)")
    expect_shape(got, (2, 3, 5, 4), "split_heads(x, 3) for x of shape (2, 5, 12)")
    want = x.view(2, 5, 3, 4).transpose(1, 2)
    if torch.equal(got, x.view(2, 3, 5, 4)):
        raise CheckFailed(
            "right shape, wrong values: .view(batch, heads, seq, d_head) slices the sequence, "
            "not the features; view as (batch, seq, heads, d_head) and then transpose(1, 2)"
        )
    if not torch.equal(got, want):
        raise CheckFailed("head h of token t should hold features h·d_head … (h+1)·d_head - 1 of t")


# --------------------------------------------------------------------------- 03.5 build it

#: the ready-made attentions: a module that calls one of them does not pass 03.5
FORBID_ATTENTION = (
    "torch.nn.functional.scaled_dot_product_attention",
    "torch.nn.MultiheadAttention",
    "torch.nn.functional.multi_head_attention_forward",
    "coursekit.attention.MultiHeadAttention",
    "coursekit.attention.scaled_dot_product_attention",
    # coursekit's own pieces of it: a forward assembled from them is coursekit's forward
    # (torch.softmax stays allowed: the exercise is the attention, not the softmax)
    *FORBID_SCORES,
    "coursekit.attention.stable_softmax",
    *FORBID_CAUSAL,
    *FORBID_SPLIT,
    "coursekit.attention.merge_heads",
    "coursekit.attention.padding_mask",
    "coursekit.attention.combine_masks",
    "coursekit.attention.apply_mask",
)
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "out_proj")
#: real reviews for the MiniLM comparison, of different lengths (so the batch pads); none of
#: them appears in the notebook
MINILM_TEXTS = (
    "The strap broke after two weeks, but the seller sent a new one at once.",
    "Too small.",
    "Lovely colour, not worth the price though.",
)
MINILM_LAYER = 3
#: the notebook's visible example (the cell before the check): 2 reviews, 5 tokens, 2 heads
VISIBLE = {"batch": 2, "seq": 5, "d_model": 8, "n_heads": 2, "seed": 4, "lengths": (5, 3)}

_SOFTMAX_AXIS = (
    "the softmax runs over the wrong axis: each query's weights over the keys (the last axis "
    "of the scores) must sum to 1"
)
_SPLIT = (
    "the heads are split with a view that mixes positions: cut d_model into (n_heads, d_head) "
    "per token first, then move the heads axis in front of the sequence axis"
)
_AFTER = (
    "the mask is applied after the softmax, so the remaining weights no longer sum to 1: "
    "block the scores (set them to -inf) before the softmax"
)
#: (how the flawed attention differs from the right one, what the check then says), most
#: specific first; see :func:`_attend` for what each setting does
FLAWS: tuple[tuple[dict[str, Any], str], ...] = (
    (
        {"scale": "none"},
        "the scores are not scaled: divide them by √d_k, the size of one head (d_model // n_heads)",
    ),
    (
        {"scale": "d_model"},
        "you scaled by √d_model; the scale is √d_k, where d_k is the size of one head "
        "(d_model // n_heads)",
    ),
    ({"scale": "d_k"}, "you divided the scores by d_k; divide by its square root, √d_k"),
    ({"dim": -2}, _SOFTMAX_AXIS),
    ({"dim": 1}, _SOFTMAX_AXIS),
    ({"split": "mix"}, _SPLIT),
    ({"split": "mix", "merge": "reshape"}, _SPLIT),
    (
        {"merge": "reshape"},
        "the heads are merged without moving them back: (batch, n_heads, seq, d_head) must "
        "become (batch, seq, n_heads, d_head) before the reshape to (batch, seq, d_model), or "
        "tokens get mixed",
    ),
    (
        {"out_proj": False},
        "the output projection is missing: pass the merged heads through self.out_proj",
    ),
    (
        {"combine": "or"},
        "with both masks, a key must be allowed by both (padding AND causal); yours lets "
        "either one allow it",
    ),
    (
        {"combine": "padding only"},
        "with both masks, apply both: your output ignores the causal mask when a padding mask "
        "is given",
    ),
    (
        {"combine": "causal only"},
        "with both masks, apply both: your output ignores the padding mask when causal=True",
    ),
    (
        {"pad": "none"},
        "the padding mask is not applied: real tokens still attend to the padded keys",
    ),
    (
        {"pad": "inverted"},
        "the padding mask is inverted: attention_mask is 1 for real tokens and 0 for padding, "
        "so it is the keys where it is 0 that must be hidden",
    ),
    (
        {"pad": "queries"},
        "the padding mask hides queries (rows of the scores) instead of keys (columns): give it "
        "the shape (batch, 1, 1, seq)",
    ),
    (
        {"pad": "heads"},
        "the padding mask lines up with the heads axis instead of the batch axis: give it the "
        "shape (batch, 1, 1, seq)",
    ),
    ({"when": "after"}, _AFTER),
    (
        {"causal": "none"},
        "with causal=True, token i must not see the tokens after it, but your output ignores "
        "the causal mask",
    ),
    (
        {"causal": "no diagonal"},
        "the causal mask hides the diagonal: a token may attend to itself as well as to the "
        "tokens before it",
    ),
    (
        {"causal": "next"},
        "the causal mask is off by one: token i also sees token i + 1",
    ),
    (
        {"causal": "future"},
        "the causal mask is the wrong triangle: each token sees the tokens after it and not "
        "the ones before",
    ),
)
_PADDED_QUERIES = (
    "the outputs of the real tokens are right but those at padded positions are not: hide "
    "only the padded keys (columns of the scores); a padded query still gets an output "
    "(ignored later), as in nn.MultiheadAttention"
)
_NAN = (
    "your output contains NaN or inf: -inf belongs in the scores before the softmax "
    "(exp(-inf) = 0), never in the weights, and no mask may block every key of a row"
)


@dataclass
class _Case:
    """One input for the learner's module and the answer torch gives for it."""

    label: str  # "on the visible example with the padding mask"
    x: Any  # (batch, seq, d_model)
    mask: Any  # (batch, seq) 0/1 long, or None
    causal: bool
    n_heads: int
    params: dict[str, tuple[Any, Any]]  # projection name -> (weight, bias)
    want: Any  # output (batch, seq, d_model)
    want_weights: Any  # (batch, n_heads, seq, seq)
    atol: float = 1e-5

    @property
    def d_model(self) -> int:
        return int(self.x.shape[-1])


def _torch_case(label: str, x: Any, mask: Any, causal: bool, n_heads: int, seed: int) -> _Case:
    """The answer of ``torch.nn.MultiheadAttention`` with seeded weights (no global RNG)."""
    import torch
    from torch import nn

    d = int(x.shape[-1])
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):
        ref = nn.MultiheadAttention(d, n_heads, batch_first=True).eval()
    with torch.no_grad():
        for p in ref.parameters():
            noise = torch.randn(p.shape, generator=gen)
            p.copy_(noise / math.sqrt(d) if p.dim() > 1 else noise * 0.1)
        n = int(x.shape[1])
        out, weights = ref(
            x,
            x,
            x,
            # torch's conventions: key_padding_mask True = padding, attn_mask True = blocked
            key_padding_mask=None if mask is None else mask == 0,
            attn_mask=~torch.ones(n, n, dtype=torch.bool).tril() if causal else None,
            need_weights=True,
            average_attn_weights=False,
        )
        wq, wk, wv = ref.in_proj_weight.split(d)  # W_Q, W_K, W_V packed in one matrix
        bq, bk, bv = ref.in_proj_bias.split(d)
        params = {
            "q_proj": (wq.clone(), bq.clone()),
            "k_proj": (wk.clone(), bk.clone()),
            "v_proj": (wv.clone(), bv.clone()),
            "out_proj": (ref.out_proj.weight.clone(), ref.out_proj.bias.clone()),
        }
    return _Case(label, x, mask, causal, n_heads, params, out, weights)


def _lengths_mask(lengths: Sequence[int], seq: int) -> Any:
    import torch

    return (torch.arange(seq)[None, :] < torch.tensor(list(lengths))[:, None]).long()


def _mask_name(mask: Any, causal: bool) -> str:
    if mask is None:
        return "causal=True" if causal else "no mask"
    return "padding + causal" if causal else "the padding mask"


@functools.lru_cache(maxsize=1)
def _cases() -> tuple[_Case, ...]:
    """The visible example, seeded hidden inputs, and the edge cases, each with torch's answer."""
    import random

    import torch

    cases = []
    v = VISIBLE
    gen = torch.Generator().manual_seed(v["seed"])
    x = torch.randn(v["batch"], v["seq"], v["d_model"], generator=gen)
    mask = _lengths_mask(v["lengths"], v["seq"])
    for i, (m, causal) in enumerate([(None, False), (mask, False), (None, True), (mask, True)]):
        label = f"on the visible example with {_mask_name(m, causal)}"
        cases.append(_torch_case(label, x, m, causal, v["n_heads"], seed=300 + i))

    rng = random.Random(2305)  # hidden inputs: other sizes and head counts than the notebook's
    modes = [(False, False), (True, False), (False, True), (True, True)] * 2
    for i, (padded, causal) in enumerate(modes):
        heads, d_head = rng.choice((1, 3, 4, 6)), rng.choice((2, 3, 5, 8))
        batch, seq = rng.randint(2, 4), rng.randint(3, 9)
        lengths = [seq] + [rng.randint(1, seq) for _ in range(batch - 1)]
        rng.shuffle(lengths)
        x = torch.randn(batch, seq, heads * d_head, generator=gen)
        m = _lengths_mask(lengths, seq) if padded else None
        label = (
            f"on a hidden input (batch {batch}, {seq} tokens, {heads} heads of {d_head}, "
            f"{_mask_name(m, causal)})"
        )
        cases.append(_torch_case(label, x, m, causal, heads, seed=310 + i))

    edges = [  # (what, batch, seq, heads, d_head, lengths, causal)
        ("a batch of one review", 1, 6, 2, 4, (4,), True),
        ("sequences of one token", 3, 1, 3, 2, (1, 1, 1), True),
        ("rows whose padding leaves a single real token", 3, 7, 4, 3, (7, 1, 1), False),
        ("rows whose padding leaves a single real token", 3, 7, 4, 3, (1, 7, 1), True),
    ]
    for i, (what, batch, seq, heads, d_head, lengths, causal) in enumerate(edges):
        x = torch.randn(batch, seq, heads * d_head, generator=gen)
        m = _lengths_mask(lengths, seq)
        label = f"on {what} ({_mask_name(m, causal)})"
        cases.append(_torch_case(label, x, m, causal, heads, seed=330 + i))
    return tuple(cases)


@functools.lru_cache(maxsize=1)
def _minilm_case() -> _Case | None:
    """MiniLM's layer ``MINILM_LAYER`` on real reviews: its input, weights and attention output.

    The output is that of the layer's attention block before the residual and LayerNorm
    (``attention.output.dense``), caught with a hook. ``None`` if MiniLM is not installed.
    """
    import contextlib
    import io

    import torch

    try:
        with contextlib.redirect_stderr(io.StringIO()), torch.random.fork_rng(devices=[]):
            from transformers import AutoModel, AutoTokenizer

            from coursekit.env import minilm_path

            path = minilm_path()
            model = AutoModel.from_pretrained(path, attn_implementation="eager").eval()
            tokenizer = AutoTokenizer.from_pretrained(path)
    except Exception:  # not installed (or not loadable here): the check says it skipped this
        return None
    enc = tokenizer(list(MINILM_TEXTS), padding=True, return_tensors="pt")
    layer = model.encoder.layer[MINILM_LAYER]
    caught: list[Any] = []
    hook = layer.attention.output.dense.register_forward_hook(
        lambda module, inputs, output: caught.append(output.detach())
    )
    try:
        with torch.no_grad():
            out = model(**enc, output_hidden_states=True, output_attentions=True)
    finally:
        hook.remove()
    s = layer.attention.self
    params = {
        name: (lin.weight.detach(), lin.bias.detach())
        for name, lin in zip(
            PROJECTIONS, (s.query, s.key, s.value, layer.attention.output.dense), strict=True
        )
    }
    return _Case(
        f"on MiniLM's layer {MINILM_LAYER} with its own weights, on {len(MINILM_TEXTS)} real "
        "reviews padded to one length",
        out.hidden_states[MINILM_LAYER].detach(),
        enc["attention_mask"],
        False,
        int(model.config.num_attention_heads),
        params,
        caught[0],
        out.attentions[MINILM_LAYER].detach(),
        atol=1e-4,
    )


def _attend(
    case: _Case,
    *,
    scale: str = "d_head",
    dim: int = -1,
    split: str = "ok",
    merge: str = "ok",
    pad: str = "keys",
    causal: str = "ok",
    combine: str = "and",
    when: str = "before",
    out_proj: bool = True,
) -> Any:
    """Multi-head attention of ``case`` with one deliberate flaw (the defaults: no flaw).

    ``scale``: ``"d_head"`` (right), ``"none"``, ``"d_model"`` (√d_model) or ``"d_k"`` (d_k, not its
    root); ``dim``: the softmax axis; ``split="mix"``: a plain view to (batch, heads, seq, d_head);
    ``merge="reshape"``: back to (batch, seq, d_model) without the transpose; ``pad``: ``"keys"``
    (right), ``"none"``, ``"inverted"``, ``"queries"`` or ``"heads"`` (broadcast on the wrong
    axis); ``causal``: ``"ok"``, ``"none"``, ``"no diagonal"``, ``"next"`` (sees i + 1) or
    ``"future"`` (upper triangle); ``combine``: ``"and"`` (right), ``"or"``, ``"padding only"``
    or ``"causal only"``; ``when="after"``: masked weights zeroed after the softmax;
    ``out_proj=False``: no output projection. Masked scores become -inf, as in the reference.
    """
    import torch

    x, heads = case.x, case.n_heads
    b, n, d = x.shape
    dh = d // heads

    def project(name: str, t: Any) -> Any:
        weight, bias = case.params[name]
        return t @ weight.T + bias

    def split_heads(t: Any) -> Any:
        if split == "mix":
            return t.reshape(b, heads, n, dh)
        return t.reshape(b, n, heads, dh).transpose(1, 2)

    q, k, v = (split_heads(project(p, x)) for p in PROJECTIONS[:3])
    divide = {"d_head": math.sqrt(dh), "none": 1.0, "d_model": math.sqrt(d), "d_k": float(dh)}
    scores = q @ k.transpose(-2, -1) / divide[scale]
    by_pad = by_causal = None
    if case.mask is not None and pad != "none":
        real = case.mask.bool()
        if pad == "inverted":
            real = ~real
        if pad == "heads":
            if b != heads:
                return None  # would not broadcast: not a silent mistake for this input
            by_pad = real[None, :, None, :]
        else:
            by_pad = real[:, None, :, None] if pad == "queries" else real[:, None, None, :]
    if case.causal and causal != "none":
        ones = torch.ones(n, n, dtype=torch.bool)
        by_causal = {
            "ok": ones.tril(),
            "no diagonal": ones.tril(-1),
            "next": ones.tril(1),
            "future": ones.triu(),
        }[causal]
    if by_pad is not None and by_causal is not None:
        allowed = {
            "and": by_pad & by_causal,
            "or": by_pad | by_causal,
            "padding only": by_pad,
            "causal only": by_causal,
        }[combine]
    else:
        allowed = by_pad if by_pad is not None else by_causal
    if allowed is not None and when == "before":
        scores = scores.masked_fill(~allowed, float("-inf"))
    weights = torch.softmax(scores, dim=dim)
    if allowed is not None and when == "after":
        weights = weights.masked_fill(~allowed, 0.0)
    out = weights @ v
    if merge == "reshape":
        out = out.reshape(b, n, d)
    else:
        out = out.transpose(1, 2).reshape(b, n, d)
    return project("out_proj", out) if out_proj else out


def _relevant(flaw: dict[str, Any], case: _Case) -> bool:
    """Whether a flaw can show on this input (a mask flaw needs that mask)."""
    padded, causal = case.mask is not None, case.causal
    needs = {
        "pad": padded,
        "causal": causal,
        "when": padded or causal,
        "combine": padded and causal,
    }
    return all(needs.get(key, True) for key in flaw)


def _matches(got: Any, want: Any, atol: float = 1e-4) -> bool:
    """``got`` equals ``want`` where ``want`` is finite (most of it must be)."""
    import torch

    if want is None or tuple(got.shape) != tuple(want.shape):
        return False
    finite = torch.isfinite(want)
    if finite.float().mean().item() < 0.5:
        return False
    g, w = got[finite], want[finite]
    return bool(torch.isfinite(g).all()) and torch.allclose(g, w, atol=atol, rtol=1e-3)


def _diagnose(case: _Case, out: Any) -> None:
    """Raise the most specific message for an output that differs from torch's."""
    import torch

    right = _attend(case)
    for flaw, message in FLAWS:
        if not _relevant(flaw, case):
            continue
        wrong = _attend(case, **flaw)
        if wrong is not None and not _matches(wrong, right) and _matches(out, wrong):
            raise CheckFailed(f"{message} ({case.label})")
    if case.mask is not None and torch.isfinite(out).all():
        real = case.mask.bool()
        if torch.allclose(out[real], case.want[real], atol=case.atol, rtol=1e-4):
            raise CheckFailed(f"{_PADDED_QUERIES} ({case.label})")
    if not torch.isfinite(out).all():
        raise CheckFailed(f"{_NAN} ({case.label})")
    expect_close(out, case.want, f"your output {case.label}", atol=case.atol)


def _learner_call(fn: Any, *args: Any, what: str, **kwargs: Any) -> Any:
    """Call the learner's class or module; a ``NotImplementedError`` raised one call deeper
    (their unfinished function of an earlier exercise) is named, not taken for a blank."""
    import traceback

    try:
        return fn(*args, **kwargs)
    except NotImplementedError as err:
        frames = traceback.extract_tb(err.__traceback__)
        inner = frames[-1].name if frames else "forward"
        if inner in {"forward", "__init__", "<lambda>"}:
            raise NotAttempted(f"`{what}` still raises NotImplementedError") from None
        raise CheckFailed(
            f"your module calls `{inner}`, which still raises NotImplementedError: finish that "
            "exercise first, or write those lines in forward"
        ) from None
    except Exception as err:
        raise CheckFailed(_short(f"{what} raised {type(err).__name__}: {err}")) from None


def _load(module: Any, case: _Case) -> None:
    import torch
    from torch import nn

    for name in PROJECTIONS:
        layer = getattr(module, name, None)
        weight, bias = case.params[name]
        if not isinstance(layer, nn.Linear):
            raise CheckFailed(
                f"your module has no `{name}` (an nn.Linear): keep the four projections that "
                "the scaffold's __init__ makes, the check copies its weights into them"
            )
        if tuple(layer.weight.shape) != tuple(weight.shape) or layer.bias is None:
            raise CheckFailed(
                f"`{name}` should be nn.Linear({case.d_model}, {case.d_model}) with a bias, as "
                "in the scaffold"
            )
        with torch.no_grad():
            layer.weight.copy_(weight)
            layer.bias.copy_(bias)


def _unpack(result: Any, case: _Case) -> tuple[Any, Any]:
    import torch

    if not (
        isinstance(result, (tuple, list))
        and len(result) == 2
        and all(isinstance(t, torch.Tensor) for t in result)
    ):
        raise CheckFailed(
            "forward should return (output, weights), two tensors, like coursekit's "
            f"MultiHeadAttention; it returned a {type(result).__name__}"
        )
    out, weights = (t.detach().to(case.want.dtype) for t in result)
    return out, weights


def _compare(case: _Case, result: Any) -> None:
    import torch

    out, weights = _unpack(result, case)
    expect_shape(out, tuple(case.want.shape), f"the output {case.label}")
    if not (
        torch.isfinite(out).all() and torch.allclose(out, case.want, atol=case.atol, rtol=1e-4)
    ):
        _diagnose(case, out)
    b, n = case.x.shape[:2]
    expect_shape(
        weights,
        (b, case.n_heads, n, n),
        f"the weights {case.label} (batch, n_heads, n_q, n_k)",
    )
    expect_close(
        weights,
        case.want_weights,
        f"the weights your forward returns (the softmax of every head) {case.label}",
        atol=max(case.atol, 1e-5),
    )


def _run_cases(cls: Any, name: str, cases: Sequence[_Case]) -> None:
    """Build, load and run the learner's module on each case (tripwires on), comparing."""
    import torch
    from torch import nn

    with (
        torch.random.fork_rng(devices=[]),
        torch.no_grad(),
        tripwires(cls, FORBID_ATTENTION) as used,
    ):
        for case in cases:
            module = _learner_call(
                cls, case.d_model, case.n_heads, what=f"`{name}({case.d_model}, {case.n_heads})`"
            )
            if not isinstance(module, nn.Module):
                raise CheckFailed(
                    f"`{name}(d_model, n_heads)` should build an nn.Module, but it gave a "
                    f"{type(module).__name__}"
                )
            _load(module, case)
            module.eval()
            result = _learner_call(
                module,
                case.x.clone(),
                attention_mask=None if case.mask is None else case.mask.clone(),
                causal=case.causal,
                what="forward",
            )
            if used:
                names = ", ".join(f"`{n}`" for n in dict.fromkeys(used))
                raise UsedReference(
                    f"your module calls {names}, the ready-made version of what this exercise "
                    "asks you to build: write your own, then run the check again"
                )
            _compare(case, result)


@exercise(
    "03.5",
    "masked multi-head attention",
    hint=(
        "Follow the recipe step by step and write down each tensor's shape: (batch, seq, "
        "d_model), then (batch, heads, seq, d_head) per head, scores (batch, heads, seq, seq), "
        "and back to (batch, seq, d_model).",
        "Masks act on the scores, before the softmax: a blocked score becomes -inf. Padding "
        "blocks the columns of padded keys (attention_mask is 0 there), the causal mask the "
        "keys after each query; the scale is the square root of one head's size.",
        "The padding mask (batch, seq) broadcasts over heads and queries once it has the shape "
        "(batch, 1, 1, seq). Merging is the split run backwards: swap the heads and sequence "
        "axes back, reshape to (batch, seq, d_model), and finish with the output projection.",
    ),
)
def multi_head_attention(cls: Any) -> str:
    """The learner's ``nn.Module`` class against ``torch.nn.MultiheadAttention`` and MiniLM.

    For every input the check builds ``cls(d_model, n_heads)``, copies into its ``q_proj``,
    ``k_proj``, ``v_proj`` and ``out_proj`` the weights of a seeded ``nn.MultiheadAttention``
    (whose ``in_proj_weight`` packs W_Q, W_K, W_V), and compares ``forward(x, attention_mask,
    causal)``'s ``(output, weights)`` with torch's. Visible: the notebook's example (2 reviews
    of 5 tokens, 2 heads) with no mask, padding, causal and both. Hidden: 8 seeded inputs of
    other sizes and 1, 3, 4 or 6 heads. Edge cases: a batch of one, sequences of one token,
    rows whose padding leaves one real token (with and without the causal mask). Last, MiniLM's
    layer 3 with its own weights on real, padded reviews. A module that calls a ready-made
    attention (:data:`FORBID_ATTENTION`) is told to write its own.
    """
    from torch import nn

    name = getattr(cls, "__name__", "MultiHeadSelfAttention")
    if cls is None or cls is Ellipsis:
        raise NotAttempted(f"`{name}` is still {cls!r}")
    if isinstance(cls, nn.Module):
        raise CheckFailed(
            f"pass the class itself (`{type(cls).__name__}`), not a module built from it: the "
            "check builds its own, one per input size"
        )
    if not callable(cls):
        raise CheckFailed(
            f"`{name}` should be a class (an nn.Module), but it is a {type(cls).__name__}"
        )
    cases = _cases()
    _run_cases(cls, name, cases)
    minilm = _minilm_case()  # loaded only once the synthetic inputs pass
    if minilm is not None:
        _run_cases(cls, name, [minilm])
    where = (
        f" and MiniLM's layer {MINILM_LAYER} on real reviews"
        if minilm is not None
        else " (the MiniLM comparison was skipped: the model is not installed)"
    )
    return (
        f"Your module matches torch.nn.MultiheadAttention on {len(cases)} inputs (padding, "
        f"causal, both, a batch of one, one token, single-token rows){where}."
    )
