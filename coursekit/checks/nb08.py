"""Checks for notebook 08 (customer-service answer search): an encoder, MRR, an abstain rule, neighbours."""

from __future__ import annotations

from typing import Any

import numpy as np

from coursekit.checks import (
    CheckFailed,
    call_own,
    exercise,
    expect,
    expect_close,
    expect_shape,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    own_or_reference,  # noqa: F401 (later cells use the learner's piece once it passes)
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


#: the ready-made encoders: calling one of them does not pass 08.1
FORBID_ENCODE = (
    "coursekit.retrieval.embed",
    "coursekit.retrieval.mean_pool",
    "coursekit.retrieval.normalize",
    "coursekit.retrieval.AnswerIndex",
    "sentence_transformers.SentenceTransformer",
    "sentence_transformers.SentenceTransformer.encode",  # a model built outside the function
)
_WORDS = (
    "where is my parcel order refund the blue jacket in size medium can I change delivery "
    "address colour still arrive late tent waterproof return label please help today kettle "
    "running shoes wrong item damaged box thanks"
).split()


def _hidden_texts(seed: int) -> list[str]:
    """Shopper-like texts of very different lengths (one longer than 16 tokens), seeded."""
    rng = np.random.default_rng(seed)
    lengths = [2, 9, 4, 26, 1, 6, 13]
    rng.shuffle(lengths)
    return [
        " ".join(rng.choice(_WORDS, size=n)) + rng.choice(["?", ".", "!!", ""]) for n in lengths
    ]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True).clip(min=1e-12)


def _pooling_variants(texts: list[str], batch_size: int, max_length: int) -> dict[str, np.ndarray]:
    """The plausible wrong encoders, batched as the scaffold batches (in input order)."""
    import torch

    from coursekit import retrieval as rt

    tokenizer, encoder = rt.load_encoder()
    out: dict[str, list[np.ndarray]] = {"unmasked": [], "first token": [], "unnormalised": []}
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                texts[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            hidden = encoder(**batch).last_hidden_state.float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            out["unmasked"].append(_unit(hidden.mean(dim=1).numpy()))
            out["first token"].append(_unit(hidden[:, 0].numpy()))
            out["unnormalised"].append(((hidden * mask).sum(1) / mask.sum(1)).numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


@exercise(
    "08.1",
    "a sentence encoder by hand",
    hint=(
        "Each vector is the average of its own text's real token vectors, then scaled to length 1: padding added for the other texts of the batch must change nothing.",
        "Tokenize with padding and truncation at max_length, take the encoder's last hidden state, "
        "weight it by the attention mask (broadcast over the 384 dimensions), divide the sum over "
        "the tokens by the number of real tokens, then normalise each row.",
    ),
)
def sentence_encoder(fn: Any) -> str:
    """``encode(texts, batch_size, max_length)`` matches ``rt.embed`` on hidden texts.

    Hidden: seven seeded shopper-like texts of 1 to 26 words, encoded in batches of 3 (so every
    batch pads), cut at 16 tokens (one text is longer). Edge cases: an empty list gives a
    ``(0, 384)`` array; one text alone gives the same vector as inside a padded batch.
    """
    from coursekit import retrieval as rt

    texts = _hidden_texts(seed=80)
    want = rt.embed(texts, max_length=16)
    got = call_own(fn, texts, batch_size=3, max_length=16, forbid=FORBID_ENCODE, name="encode")
    arr = _as_array(got, "encode")
    expect_shape(arr, want.shape, f"encode(<{len(texts)} texts>)")
    if not np.allclose(arr, want, atol=1e-4):
        wrong = _pooling_variants(texts, batch_size=3, max_length=16)
        if np.allclose(arr, wrong["unmasked"], atol=1e-4):
            raise CheckFailed(
                "your vectors average the padding too: a text's vector changes with the "
                "lengths of the other texts in its batch; weight each token by its mask value"
            )
        if np.allclose(arr, wrong["first token"], atol=1e-4):
            raise CheckFailed(
                "these are the first token's vectors ([CLS]); this encoder was trained for the "
                "mean of all real tokens"
            )
        if np.allclose(arr, wrong["unnormalised"], atol=1e-4):
            raise CheckFailed(
                "the pooling is right, but the vectors are not of length 1: normalise each row, "
                "so that a dot product is the cosine similarity"
            )
        if np.allclose(arr, rt.embed(texts), atol=1e-4):
            raise CheckFailed(
                "the long text was not cut at max_length=16 tokens: pass truncation and "
                "max_length to the tokenizer"
            )
        expect_close(arr, want, "encode(texts, batch_size=3, max_length=16)", atol=1e-4)
    empty = _as_array(
        call_own(fn, [], batch_size=3, max_length=16, forbid=FORBID_ENCODE, name="encode"),
        "encode",
    )
    expect_shape(empty, (0, want.shape[1]), "encode([]) (no texts: an empty array of 384 columns)")
    alone = _as_array(
        call_own(fn, texts[3:4], batch_size=3, max_length=16, forbid=FORBID_ENCODE, name="encode"),
        "encode",
    )
    expect_close(
        alone, want[3:4], "encode([one text]) vs the same text in a padded batch", atol=1e-4
    )
    return "Your encoder gives the same vectors as coursekit and sentence-transformers."


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
    got = call_own(fn, scores.copy(), gold.copy(), forbid=FORBID_MRR, name="mean_reciprocal_rank")
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
        np.asarray(
            call_own(
                fn, scores2.copy(), gold2.copy(), forbid=FORBID_MRR, name="mean_reciprocal_rank"
            ),
            dtype=float,
        )
    )
    expect_close(
        got2, rank_metrics(scores2, gold2)["mrr"], "mean_reciprocal_rank on 50 queries", atol=1e-9
    )


#: the ready-made threshold and rule: calling one of them does not pass 08.3
FORBID_MRR = ("coursekit.retrieval.rank_metrics", "coursekit.retrieval.ranks_of")
FORBID_RULE = (
    "coursekit.retrieval.choose_threshold",
    "coursekit.retrieval.fit_abstain_rule",
    "coursekit.retrieval.coverage_precision",
)


def _number_from(value: Any, name: str) -> float:
    expect(
        isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool),
        f"`{name}` should return a number, but it returned a {type(value).__name__}",
    )
    return float(value)


def _hidden_validation(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (best, second-best) scores and correctness, rounded so that scores tie."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(60, 120))
    best = np.round(rng.uniform(0.3, 0.95, n), 2)
    second = np.round(best - rng.uniform(0.0, 0.3, n) ** 2, 2)
    correct = rng.random(n) < 0.4 + (best - second) * 3
    return np.stack([best, second], axis=1), correct


@exercise(
    "08.3",
    "an abstain rule fitted on validation",
    hint=(
        "Try every candidate threshold, from the lowest up, and keep the first one whose "
        "answered questions are right often enough; questions with equal scores are answered "
        "together.",
        "Candidates are the distinct scores (np.unique). For the rule: min_score is the "
        "floor_quantile of the best scores; min_margin is your pick_threshold applied to "
        "best minus second-best.",
    ),
)
def abstain_rule(pick: Any, fit: Any) -> str:
    """``pick_threshold`` then ``fit_rule`` against ``rt.choose_threshold`` / ``rt.fit_abstain_rule``.

    Visible: the five-question example of the text. Edge cases: tied scores (answered together,
    so a threshold inside a tie is no candidate) and an unreachable target (the highest score).
    Hidden: three seeded validation sets of 60 to 120 questions with tied scores.
    """
    from coursekit import retrieval as rt

    scores = np.array([0.9, 0.5, 0.8, 0.6, 0.7])
    correct = np.array([True, False, True, True, False])
    # answered when score >= t: 0.9 -> 1/1, 0.8 -> 2/2, 0.7 -> 2/3, 0.6 -> 3/4, 0.5 -> 3/5

    def threshold(s: np.ndarray, c: np.ndarray, target: float) -> float:
        got = call_own(pick, s.copy(), c.copy(), target, forbid=FORBID_RULE, name="pick_threshold")
        return _number_from(got, "pick_threshold")

    got = threshold(scores, correct, 0.75)
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
    # ties: at 0.7 the two questions scoring 0.7 are answered together (1 right of 2)
    tied_s = np.array([0.9, 0.7, 0.7, 0.5])
    tied_c = np.array([True, True, False, False])
    got = threshold(tied_s, tied_c, 0.7)
    if np.isclose(got, 0.7):
        raise CheckFailed(
            "with threshold 0.7 BOTH questions scoring 0.7 are answered (2 of 3 right, below "
            "0.7): equal scores are answered together, so count a tie as one step"
        )
    expect_close(got, 0.9, "pick_threshold with tied scores", atol=1e-9)
    got = threshold(scores, np.zeros(5, dtype=bool), 0.5)
    expect_close(
        got,
        0.9,
        "pick_threshold when no threshold reaches the target (the highest score)",
        atol=1e-9,
    )
    for seed in (81, 82, 83):
        top, ok = _hidden_validation(seed)
        for target in (0.6, 0.8):
            want = rt.choose_threshold(top[:, 0] - top[:, 1], ok, target)
            expect_close(
                threshold(top[:, 0] - top[:, 1], ok, target),
                want,
                f"pick_threshold on {len(ok)} hidden validation margins (target {target})",
                atol=1e-9,
            )
        want_rule = rt.fit_abstain_rule(top, ok, target_precision=0.8, floor_quantile=0.05)
        rule = call_own(
            fit,
            top.copy(),
            ok.copy(),
            0.8,
            floor_quantile=0.05,
            forbid=FORBID_RULE,
            name="fit_rule",
        )
        expect(
            hasattr(rule, "min_score") and hasattr(rule, "min_margin"),
            "`fit_rule` should return an rt.AbstainRule(min_score=..., min_margin=...), but it "
            f"returned a {type(rule).__name__}",
        )
        min_score, min_margin = float(rule.min_score), float(rule.min_margin)
        if not np.isclose(min_score, want_rule.min_score, atol=1e-6):
            if np.isclose(min_score, np.quantile(top[:, 0], 0.95), atol=1e-6):
                raise CheckFailed(
                    "min_score is the 95th percentile of the best scores: the floor is the LOW "
                    "end (floor_quantile=0.05), so that 95 % of real questions stay above it"
                )
            raise CheckFailed(
                f"min_score is {min_score:.4f}, expected {want_rule.min_score:.4f}: the "
                "floor_quantile quantile of the best scores (column 0)"
            )
        if not np.isclose(min_margin, want_rule.min_margin, atol=1e-6):
            if np.isclose(min_margin, rt.choose_threshold(top[:, 0], ok, 0.8), atol=1e-6):
                raise CheckFailed(
                    "min_margin was chosen on the best scores; choose it on the margins "
                    "(best minus second-best)"
                )
            raise CheckFailed(
                f"min_margin is {min_margin:.4f}, expected {want_rule.min_margin:.4f}: your "
                "pick_threshold on the margins, best minus second-best"
            )
    return "Your rule decides the rest of this notebook."


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
    got = call_own(
        fn, emb.copy(), 0, 3, forbid=("coursekit.retrieval.most_similar",), name="most_similar"
    )
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
