"""Checks for notebook 12 (recommendations): the leave-last-out split without leakage (12.1),
NDCG@k (12.2) and the implicit-feedback ALS half-step built by hand (12.3).

Every check runs the learner's code on hidden inputs of its own (small event logs, ranked
lists, random factors) with the edge cases that break the usual mistakes: same-day views,
rows out of date order, a shopper with one purchase, nothing relevant, a repeated item, a
shopper who bought nothing. Each usual mistake is recognised by running the mistaken recipe on
the same input.
"""

from __future__ import annotations

import math
from typing import Any

from coursekit.checks import (
    CheckFailed,
    call_own,
    exercise,
    expect,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
)
from coursekit.recommend.split import cut_before

SPLIT_FORBID = (
    "coursekit.recommend.leave_last_out",
    "coursekit.recommend.split.leave_last_out",
    "coursekit.recommend.cut_before",
    "coursekit.recommend.split.cut_before",
)
NDCG_FORBID = (
    "coursekit.recommend.ndcg_at_k",
    "coursekit.recommend.evaluate.ndcg_at_k",
    "sklearn.metrics.ndcg_score",
)
ALS_FORBID = (
    "coursekit.recommend.als_user_step",
    "coursekit.recommend.models.als_user_step",
    "coursekit.recommend.fit_als",
    "coursekit.recommend.models.fit_als",
    "coursekit.recommend.fold_in",
    "coursekit.recommend.models.fold_in",
)

# --------------------------------------------------------------------------- 12.1 the split

#: (shopper, product, kind, date): out of date order, same-day views, a later view, a one-purchase shopper
_EVENTS = [
    ("A", "p1", "purchase", "2024-01-05"),
    ("A", "p7", "view", "2024-03-01"),
    ("A", "p3", "view", "2024-03-01"),
    ("A", "p3", "purchase", "2024-03-01"),
    ("A", "p2", "purchase", "2024-02-10"),
    ("A", "p9", "view", "2024-03-09"),
    ("B", "p4", "view", "2024-01-02"),
    ("B", "p4", "purchase", "2024-01-02"),
    ("C", "p5", "purchase", "2023-12-24"),
    ("C", "p6", "view", "2023-11-30"),
    ("C", "p8", "purchase", "2023-11-30"),
    ("C", "p6", "view", "2023-12-24"),
]


def _frame(rows: list[tuple[str, str, str, str]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows, columns=["shopper_id", "product_id", "kind", "date"])


def _rows(df: Any, columns: list[str]) -> list[tuple]:
    return sorted(map(tuple, df[columns].astype(str).to_numpy().tolist()))


def _reference_split(events: Any) -> tuple[Any, Any]:
    buys = events[events["kind"] == "purchase"].sort_values("date", kind="stable")
    counts = buys.groupby("shopper_id")["product_id"].transform("size")
    test = buys[counts >= 2].groupby("shopper_id").tail(1)
    return cut_before(events, test), test


def _mistakes(events: Any) -> dict[str, tuple[Any, Any]]:
    buys = events[events["kind"] == "purchase"]
    ordered = buys.sort_values("date", kind="stable")
    counts = ordered.groupby("shopper_id")["product_id"].transform("size")
    test = ordered[counts >= 2].groupby("shopper_id").tail(1)
    out = {}
    # only the purchase row is dropped: the same-day views stay (and the later view)
    out[
        "you removed only the held-out purchase row: its same-day views of alternatives stay "
        "in the history and give its product type away (leakage): drop every event from that "
        "date on"
    ] = (events.drop(index=test.index), test)
    # last purchase in file order, not by date
    by_file = buys[buys.groupby("shopper_id")["product_id"].transform("size") >= 2]
    file_test = by_file.groupby("shopper_id").tail(1)
    out[
        "your test purchase is each shopper's last purchase *row*, but the rows are not in "
        "date order: sort by date first"
    ] = (cut_before(events, file_test), file_test)
    # every shopper tested, even with one purchase (nothing left to learn from)
    all_test = ordered.groupby("shopper_id").tail(1)
    out[
        "you also held out the only purchase of a shopper who has one: nothing is left to "
        "learn their taste from, keep shoppers with at least two purchases"
    ] = (cut_before(events, all_test), all_test)
    # the last event, not the last purchase
    last_event = events.sort_values("date", kind="stable").groupby("shopper_id").tail(1)
    out[
        "your test rows include views: hold out each shopper's last *purchase* (kind == "
        "'purchase'), not their last event"
    ] = (None, last_event)
    # one global cut date for everyone
    cut_date = test["date"].min()
    out[
        "you cut every shopper at one global date; cut each shopper at the date of their own "
        "held-out purchase"
    ] = (events[events["date"] < cut_date], test)
    return out


def _as_pair(got: Any) -> tuple[Any, Any]:
    import pandas as pd

    expect(
        isinstance(got, tuple) and len(got) == 2,
        f"`split_last` should return a pair (history, test), got {type(got).__name__}",
    )
    history, test = got
    for name, df in (("history", history), ("test", test)):
        expect(
            isinstance(df, pd.DataFrame),
            f"`{name}` should be a DataFrame of events, got {type(df).__name__}",
        )
        missing = {"shopper_id", "product_id", "kind", "date"} - set(df.columns)
        expect(not missing, f"`{name}` lacks the columns {sorted(missing)}")
    return history, test


@exercise(
    "12.1",
    "the leave-last-out split, without leakage",
    hint=(
        "Find each shopper's last purchase by date (only shoppers with two purchases or more); "
        "the history is what that shopper did *before* that day.",
        "Sort the purchases by date, group by shopper and take the tail; then map each event's "
        "shopper to their test date and keep the events strictly earlier (shoppers without a "
        "test date keep everything).",
    ),
)
def split_last(fn: Any) -> None:
    columns = ["shopper_id", "product_id", "kind", "date"]
    events = _frame(_EVENTS)
    got = _as_pair(call_own(fn, events.copy(), forbid=SPLIT_FORBID, name="split_last"))
    want = _reference_split(events)
    if _rows(got[0], columns) == _rows(want[0], columns) and _rows(got[1], columns) == _rows(
        want[1], columns
    ):
        return
    for message, (history, test) in _mistakes(events).items():
        same_test = _rows(got[1], columns) == _rows(test, columns)
        if same_test and (history is None or _rows(got[0], columns) == _rows(history, columns)):
            raise CheckFailed(message)
    want_test = _rows(want[1], columns)
    expect(
        _rows(got[1], columns) == want_test,
        f"on a small hidden log the test rows should be {want_test}, got {_rows(got[1], columns)}",
    )
    raise CheckFailed(
        "the test rows are right but the history is not: it should hold every event strictly "
        "before each tested shopper's test date, and all events of untested shoppers"
    )


# --------------------------------------------------------------------------- 12.2 NDCG@k


def _dcg(ranked: list, relevant: set, k: int, log_offset: int = 1) -> float:
    seen, dcg = set(), 0.0
    for i, r in enumerate(ranked[:k], start=1):
        if r in relevant and r not in seen:
            dcg += 1.0 / math.log2(i + log_offset)
        seen.add(r)
    return dcg


def _ndcg(ranked: list, relevant: set, k: int) -> float:
    if not relevant:
        return 0.0
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(relevant)) + 1))
    return _dcg(ranked, relevant, k) / ideal


#: (ranked, relevant, k): a hit at 1, at 3, beyond k, several relevant, a repeat, more relevant than k, nothing relevant
_NDCG_CASES = [
    (["a", "b", "c", "d"], {"a"}, 3),
    (["a", "b", "c", "d"], {"c"}, 3),
    (["a", "b", "c", "d"], {"d"}, 3),
    (["x", "a", "y", "b", "z"], {"a", "b", "q"}, 5),
    (["a", "a", "b"], {"a"}, 3),
    ([f"i{j}" for j in range(12)], {f"i{j}" for j in range(0, 12, 2)}, 4),
    (["a", "b"], set(), 10),
]


def _ndcg_mistakes(ranked: list, relevant: set, k: int) -> dict[str, float]:
    out: dict[str, float] = {}
    rank = next((i for i, r in enumerate(ranked[:k], start=1) if r in relevant), None)
    out["that is the reciprocal rank (1/rank); NDCG discounts a hit at rank i by 1/log2(i + 1)"] = (
        0.0 if rank is None else 1.0 / rank
    )
    out["you returned the DCG without dividing by the ideal DCG (the best possible ordering)"] = (
        _dcg(ranked, relevant, k)
    )
    if relevant:
        every = sum(1.0 / math.log2(i + 1) for i in range(1, len(relevant) + 1))
        out[
            "your ideal DCG puts *every* relevant item in the list; only k fit: use "
            "min(k, len(relevant)) of them"
        ] = _dcg(ranked, relevant, k) / every
        dup = sum(1.0 / math.log2(i + 1) for i, r in enumerate(ranked[:k], 1) if r in relevant)
        ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(relevant)) + 1))
        out["a repeated item counted twice: count each relevant item once, at its first rank"] = (
            dup / ideal
        )
        hits = len({r for r in ranked[:k] if r in relevant})
        if hits:
            by_hits = sum(1.0 / math.log2(i + 1) for i in range(1, hits + 1))
            out[
                "your ideal DCG counts only the relevant items that were found; it should "
                "count min(k, len(relevant)) of them, found or not"
            ] = _dcg(ranked, relevant, k) / by_hits
        out["you did not stop at k: only the first k recommendations count"] = (
            _dcg(ranked, relevant, len(ranked)) / ideal
        )
    return out


@exercise(
    "12.2",
    "NDCG@k",
    hint=(
        "Add 1/log2(rank + 1) for every relevant item in the first k (rank 1 is the top), "
        "then divide by the same sum for the best possible list.",
        "The best list puts min(k, len(relevant)) relevant items first; count a repeated "
        "item once, and return 0.0 when nothing is relevant (never divide by zero).",
    ),
)
def ndcg_at_k(fn: Any) -> None:
    for ranked, relevant, k in _NDCG_CASES:
        shown = f"ndcg_at_k({ranked}, {sorted(relevant)}, k={k})"
        got = call_own(fn, list(ranked), set(relevant), k, forbid=NDCG_FORBID, name="ndcg_at_k")
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise CheckFailed(f"{shown} should return a number, got {type(got).__name__}") from None
        want = _ndcg(ranked, relevant, k)
        if math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9):
            continue
        if math.isnan(got):
            raise CheckFailed(f"{shown} gave nan: return 0.0 when nothing is relevant")
        for message, value in _ndcg_mistakes(ranked, relevant, k).items():
            if not math.isclose(value, want, rel_tol=1e-9) and math.isclose(
                got, value, rel_tol=1e-6
            ):
                raise CheckFailed(f"{shown} = {got:.4f}: {message}")
        raise CheckFailed(f"{shown} should be {want:.4f}, got {got:.4f}")


# --------------------------------------------------------------------------- 12.3 ALS half-step


def _als_case(seed: int, shoppers: int = 7, items: int = 9, k: int = 3) -> tuple[Any, Any]:
    import numpy as np

    rng = np.random.default_rng(seed)
    Y = rng.normal(0.0, 0.5, size=(items, k))
    R = rng.poisson(0.5, size=(shoppers, items)).astype(float)
    R[0] = 0.0  # a shopper who bought nothing
    R[1, 2] = 3.0  # the same item three times
    return Y, R


def _solve(Y: Any, R: Any, reg: float, alpha: float, how: str = "right") -> Any:
    import numpy as np

    k = Y.shape[1]
    X = np.zeros((R.shape[0], k))
    for u in range(R.shape[0]):
        r = R[u]
        p = (r > 0).astype(float)
        c = 1.0 + alpha * r
        if how == "no one":
            c = alpha * r
        if how == "counts as preference":
            p = r
        if how == "no reg":
            reg_u = 0.0
        else:
            reg_u = reg
        if how == "observed only":
            A = (Y.T * (c * p)) @ Y + reg_u * np.eye(k)
        else:
            A = (Y.T * c) @ Y + reg_u * np.eye(k)
        b = Y.T @ (c * p)
        try:
            X[u] = np.linalg.solve(A, b)
        except np.linalg.LinAlgError:
            X[u] = np.nan
    return X


def _explicit(Y: Any, R: Any, reg: float) -> Any:
    import numpy as np

    k = Y.shape[1]
    return R @ Y @ np.linalg.inv(Y.T @ Y + reg * np.eye(k))


_ALS_MISTAKES = {
    "no one": "your confidence is alpha·r; it is 1 + alpha·r (an unbought item still counts, with confidence 1)",
    "counts as preference": "you used the counts as the preference; p is 1 if bought (r > 0), else 0: the counts go into the confidence",
    "no reg": "there is no regularisation: add reg·I to the k × k matrix",
    "observed only": "your k × k matrix only sums the bought items; the unbought ones count too (p = 0 with confidence 1): start from YᵀY",
}


@exercise(
    "12.3",
    "one ALS half-step for implicit feedback",
    hint=(
        "For each shopper, solve a small k × k system: (YᵀC_uY + reg·I) x_u = YᵀC_u p_u, with "
        "p the 0/1 'bought' vector and C_u the diagonal of confidences 1 + alpha·r.",
        "YᵀC_uY = YᵀY + Yᵀ(C_u − I)Y, and C_u − I is zero outside the items the shopper bought: "
        "compute YᵀY + reg·I once, add the bought items' part per shopper, then np.linalg.solve.",
    ),
)
def als_user_step(fn: Any) -> str:
    import numpy as np

    for seed, reg, alpha in ((3, 0.5, 4.0), (11, 2.0, 10.0)):
        Y, R = _als_case(seed)
        got = call_own(fn, Y.copy(), R.copy(), reg, alpha, forbid=ALS_FORBID, name="als_user_step")
        try:
            got = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            raise CheckFailed(
                f"`als_user_step` should return an array, got {type(got).__name__}"
            ) from None
        shape = (R.shape[0], Y.shape[1])
        if got.shape == shape[::-1]:
            raise CheckFailed(
                f"your result is {got.shape}: one row per shopper, so (shoppers, k) = {shape}"
            )
        expect(got.shape == shape, f"`als_user_step` should return {shape}, got {got.shape}")
        want = _solve(Y, R, reg, alpha)
        if np.allclose(got, want, rtol=1e-5, atol=1e-7):
            continue
        if not np.isfinite(got).all():
            raise CheckFailed(
                "your factors hold nan or inf: a shopper who bought nothing must still get a "
                "solution (the zero vector)"
            )
        for how, message in _ALS_MISTAKES.items():
            wrong = _solve(Y, R, reg, alpha, how)
            if np.isfinite(wrong).all() and np.allclose(got, wrong, rtol=1e-5, atol=1e-7):
                raise CheckFailed(message)
        if np.allclose(got, _explicit(Y, R, reg), rtol=1e-5, atol=1e-7):
            raise CheckFailed(
                "that is explicit-feedback ALS on the counts (every cell weighted the same); "
                "implicit ALS weighs each cell by its confidence 1 + alpha·r"
            )
        row = int(np.abs(got - want).max(axis=1).argmax())
        raise CheckFailed(
            f"on a hidden {R.shape[0]} × {R.shape[1]} matrix, shopper row {row} gets "
            f"{np.round(got[row], 4).tolist()} instead of {np.round(want[row], 4).tolist()}"
        )
    return "Your half-step is the one ALS alternates; coursekit.recommend.fit_als runs it for you below."


__all__ = ["als_user_step", "ndcg_at_k", "split_last"]
