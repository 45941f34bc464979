"""Checks for notebook 08 (customer-service answer search): pooling, MRR, threshold, neighbours."""

from __future__ import annotations

from typing import Any

import numpy as np

from coursekit.checks import (
    CheckFailed,
    call,
    exercise,
    expect,
    expect_close,
    expect_shape,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
)


def _as_array(value: Any, name: str) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().float().numpy()
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise CheckFailed(
            f"`{name}` should return numbers, but it returned a {type(value).__name__}"
        ) from None


@exercise(
    "08.1",
    "mean pooling with the attention mask",
    hint=(
        "Average over the real tokens only: padding positions must count neither in the sum nor in the number of tokens.",
        "Broadcast the mask over the embedding axis, sum the masked vectors over the sequence axis, and divide by each row's number of real tokens.",
    ),
)
def mean_pooling(fn: Any) -> None:
    import torch

    gen = torch.Generator().manual_seed(8)
    hidden = torch.randn(3, 5, 4, generator=gen)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    got = call(fn, hidden.clone(), mask.clone(), name="mean_pool")
    expect(
        hasattr(got, "shape"),
        f"`mean_pool` should return a tensor, but it returned a {type(got).__name__}",
    )
    expect_shape(got, (3, 4), "mean_pool(token_embeddings, attention_mask)")
    got_arr = _as_array(got, "mean_pool")
    m = mask.unsqueeze(-1).float()
    want = ((hidden * m).sum(1) / m.sum(1)).numpy()
    if np.allclose(got_arr, hidden.mean(dim=1).numpy(), atol=1e-5):
        raise CheckFailed(
            "you averaged over every position, padding included; "
            "weight each token by its mask value"
        )
    if np.allclose(got_arr, (hidden * m).sum(1).numpy() / hidden.shape[1], atol=1e-5):
        raise CheckFailed(
            "padding is zeroed, but you divided by the padded length; "
            "divide by the number of real tokens instead"
        )
    norms = np.linalg.norm(got_arr, axis=1)
    if np.allclose(norms, 1, atol=1e-4) and not np.allclose(got_arr, want, atol=1e-4):
        raise CheckFailed("your vectors have length 1: pool only; normalising is a separate step")
    expect_close(got_arr, want, "mean_pool(token_embeddings, attention_mask)", atol=1e-5)


@exercise(
    "08.2",
    "mean reciprocal rank",
    hint=(
        "For each query, find where the right answer ranks among all the documents, then average the reciprocal ranks.",
        "The rank is 1 plus the number of documents that score strictly higher than the right one; MRR is the mean of 1 / rank.",
    ),
)
def mean_reciprocal_rank(fn: Any) -> None:
    scores = np.array(
        [
            [0.9, 0.1, 0.3, 0.2],  # gold 0 -> rank 1
            [0.2, 0.8, 0.5, 0.1],  # gold 2 -> rank 2
            [0.4, 0.3, 0.2, 0.1],  # gold 3 -> rank 4
            [0.1, 0.7, 0.6, 0.2],  # gold 2 -> rank 2
        ]
    )
    gold = np.array([0, 2, 3, 2])
    want = (1 + 1 / 2 + 1 / 4 + 1 / 2) / 4
    got = call(fn, scores.copy(), gold.copy(), name="mean_reciprocal_rank")
    expect(
        isinstance(got, (int, float, np.floating, np.integer))
        or (hasattr(got, "shape") and np.size(got) == 1),
        f"`mean_reciprocal_rank` should return one number, but it returned a {type(got).__name__}",
    )
    value = float(np.asarray(got, dtype=float))
    if np.isclose(value, 0.25):
        raise CheckFailed("that is the top-1 accuracy (0.25); MRR also gives credit 1/rank below 1")
    if np.isclose(value, (1 / 4 + 1 / 3 + 1 / 1 + 1 / 3) / 4):
        raise CheckFailed("the ranks are reversed: rank 1 should be the HIGHEST score")
    if not np.isfinite(value):
        raise CheckFailed(
            "the result is not a finite number; are your ranks 0-based (1/0)? ranks start at 1"
        )
    expect_close(value, want, "mean_reciprocal_rank(scores, gold)", atol=1e-9)
    # a second case, with more queries, against the course's implementation
    from coursekit.retrieval import rank_metrics

    rng = np.random.default_rng(8)
    scores2 = rng.random((50, 12))
    gold2 = rng.integers(0, 12, 50)
    got2 = float(
        np.asarray(call(fn, scores2.copy(), gold2.copy(), name="mean_reciprocal_rank"), dtype=float)
    )
    expect_close(
        got2, rank_metrics(scores2, gold2)["mrr"], "mean_reciprocal_rank on 50 queries", atol=1e-9
    )


@exercise(
    "08.3",
    "the lowest threshold that keeps precision",
    hint=(
        "A lower threshold answers more questions but lets more wrong answers through: find the lowest one whose answers are still right often enough.",
        "Sort by score, descending: answering the top j has precision (right among them) / j; among the scores where that reaches the target, return the lowest.",
    ),
)
def pick_threshold(fn: Any) -> None:
    scores = np.array([0.9, 0.5, 0.8, 0.6, 0.7])
    correct = np.array([True, False, True, True, False])
    # answered when score >= t: 0.9 -> 1/1, 0.8 -> 2/2, 0.7 -> 2/3, 0.6 -> 3/4, 0.5 -> 3/5
    got = call(fn, scores.copy(), correct.copy(), 0.75, name="pick_threshold")
    expect(
        isinstance(got, (int, float, np.floating)),
        f"`pick_threshold` should return a number, but it returned a {type(got).__name__}",
    )
    got = float(got)
    if np.isclose(got, 0.8):
        raise CheckFailed(
            "you stopped at the first threshold where precision drops below the target; "
            "precision is not monotonic: a lower threshold (0.6) is back above it"
        )
    if np.isclose(got, 0.9):
        raise CheckFailed(
            "0.9 is the highest threshold that works; the goal is the LOWEST (most coverage)"
        )
    if np.isclose(got, 0.5) or np.isclose(got, 0.7):
        raise CheckFailed(
            f"at threshold {got:g} the precision is below 0.75; keep only thresholds that reach it"
        )
    expect_close(got, 0.6, "pick_threshold(scores, correct, 0.75)", atol=1e-9)
    got2 = float(call(fn, scores.copy(), correct.copy(), 1.0, name="pick_threshold"))
    expect_close(got2, 0.8, "pick_threshold(scores, correct, 1.0)", atol=1e-9)


@exercise(
    "08.4",
    "most similar products",
    hint=(
        "Cosine similarity is the dot product of unit-length vectors, and a product is not its own neighbour.",
        "Normalise the rows, score every row against row i, rule out i itself, and return the indices of the k highest scores, best first.",
    ),
)
def most_similar(fn: Any) -> None:
    emb = np.array(
        [
            [1.0, 0.0, 0.0],
            [10.0, 10.0, 0.0],  # long vector at 45 degrees: large dot product, modest cosine
            [0.9, 0.1, 0.0],  # nearly parallel to item 0
            [0.0, 0.0, 1.0],
            [0.8, 0.0, 0.6],
        ]
    )
    got = call(fn, emb.copy(), 0, 3, name="most_similar")
    try:
        got = [int(x) for x in np.asarray(got).ravel()]
    except (TypeError, ValueError):
        raise CheckFailed(
            f"`most_similar` should return item indices, but it returned {type(got).__name__}"
        ) from None
    expect(len(got) == 3, f"asked for k=3 neighbours but got {len(got)}")
    if 0 in got:
        raise CheckFailed("item 0 is in its own list; a product is not its own recommendation")
    if got == [1, 2, 4]:
        raise CheckFailed(
            "item 1 came first because it is a long vector; normalise the rows (cosine similarity)"
        )
    if got == [3, 4, 1] or got == [3, 1, 4]:
        raise CheckFailed("these are the LEAST similar items; sort in descending order")
    expect(got == [2, 4, 1], f"got items {got}, expected [2, 4, 1] (by cosine similarity)")
