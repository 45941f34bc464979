"""Checks for notebook 03 (attention): scores, causal mask, stable softmax, head splitting."""

from __future__ import annotations

import math
from typing import Any

from coursekit.checks import (
    CheckFailed,
    call,
    exercise,
    expect,
    expect_close,
    expect_shape,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
)


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
    got = call(fn, q, k, name="attention_scores")
    _is_tensor(got, "attention_scores(q, k)")
    want = q @ k.transpose(-2, -1) / math.sqrt(8)
    expect_shape(got, (2, 3, 5), "attention_scores(q, k) for q (2, 3, 8) and k (2, 5, 8)")
    if torch.allclose(got, want * math.sqrt(8), atol=1e-5):
        raise CheckFailed("the scores are not scaled: divide by √d_k")
    if torch.allclose(got, want * math.sqrt(8) / 8, atol=1e-5):
        raise CheckFailed("you divided by d_k; divide by its square root √d_k")
    expect_close(got, want, "attention_scores(q, k)")
    q4, k4 = _tensors((1, 2, 4, 16), (1, 2, 4, 16), seed=1)
    got4 = call(fn, q4, k4, name="attention_scores")
    _is_tensor(got4, "attention_scores(q, k)")
    expect_close(
        got4, q4 @ k4.transpose(-2, -1) / 4.0, "attention_scores on (batch, heads, seq, d_k) inputs"
    )


@exercise(
    "03.2",
    "causal mask",
    hint=(
        "Position i may attend to itself and to earlier positions, never to later ones: which triangle of the n × n matrix is allowed?",
        "You need an n × n boolean matrix that is True on and below the diagonal; torch tensors have a method that keeps the lower triangle.",
    ),
)
def causal_mask(fn: Any) -> None:
    import torch

    for n in (1, 4, 7):
        got = call(fn, n, name="make_causal_mask")
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
    "03.3",
    "softmax that does not overflow",
    hint=(
        "exp(1000) overflows, and softmax does not change when the same number is subtracted from every score of a row.",
        "Subtract each row's maximum (keeping the dimension, so it broadcasts), exponentiate, and divide by the row's sum.",
    ),
)
def stable_softmax(fn: Any) -> None:
    import torch

    x = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.5, -1.0]])
    got = call(fn, x.clone(), name="softmax")
    _is_tensor(got, "softmax(x)")
    expect_shape(got, (2, 3), "softmax(x) for x of shape (2, 3)")
    if torch.allclose(got, torch.softmax(x, dim=0), atol=1e-6):
        raise CheckFailed("you normalised over the wrong axis: each row (dim=-1) must sum to 1")
    expect_close(got, torch.softmax(x, dim=-1), "softmax(x)")
    big = torch.tensor([[1000.0, 999.0, -5.0], [-1000.0, -1001.0, -1002.0]])
    got = call(fn, big.clone(), name="softmax")
    _is_tensor(got, "softmax(x)")
    if not torch.isfinite(got).all():
        raise CheckFailed(
            "softmax of [[1000, 999, -5], ...] gives NaN/inf: exp(1000) overflows; "
            "subtract the row maximum first"
        )
    expect_close(got, torch.softmax(big, dim=-1), "softmax of large scores")
    x4 = _tensors((2, 3, 4, 5))[0] * 30
    got = call(fn, x4.clone(), name="softmax")
    expect_close(got, torch.softmax(x4, dim=-1), "softmax of a (2, 3, 4, 5) tensor")


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
    got = call(fn, x.clone(), 3, name="split_heads")
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
