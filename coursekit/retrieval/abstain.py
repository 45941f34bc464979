"""Knowing when to stop: answer, ask which entry is meant, or hand the shopper to a person.

:func:`coverage_precision` and :func:`choose_threshold` trade answered questions against
right answers; :func:`fit_handoff_floor` finds the score floor that best separates answerable
questions from out-of-scope ones; :func:`fit_abstain_rule` fits an :class:`AbstainRule` (a score
floor and a margin) on validation questions; :func:`answer_or_handoff` applies it to one
query's hits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from coursekit.retrieval.index import Hit

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: what the shop says when no FAQ answer is similar enough
HANDOFF_MESSAGE = (
    "I'm not sure I have the right answer to that. "
    "I'm passing your question to a member of our customer-service team, "
    "who will reply within one working day."
)


def coverage_precision(top_scores: Sequence[float], correct: Sequence[bool]) -> pd.DataFrame:
    """For every candidate threshold: the share of questions answered and how many are right.

    Answer when ``score >= threshold``. ``coverage`` = answered / all,
    ``precision`` = right / answered. One row per distinct score, highest threshold first.
    """
    import pandas as pd

    s = np.asarray(top_scores, dtype=np.float64)
    c = np.asarray(correct, dtype=bool)
    if s.shape != c.shape or s.ndim != 1 or len(s) == 0:
        raise ValueError("top_scores and correct must be 1-D, non-empty and the same length")
    order = np.argsort(-s, kind="stable")
    s, c = s[order], c[order]
    answered = np.arange(1, len(s) + 1)
    right = np.cumsum(c)
    last = np.r_[s[1:] != s[:-1], True]  # keep the last row of each run of equal scores
    return pd.DataFrame(
        {
            "threshold": s[last],
            "coverage": answered[last] / len(s),
            "precision": right[last] / answered[last],
        }
    ).reset_index(drop=True)


def choose_threshold(
    top_scores: Sequence[float], correct: Sequence[bool], target_precision: float = 0.95
) -> float:
    """The lowest threshold whose precision is still >= ``target_precision`` (most coverage).

    Choose it on validation questions, then report coverage and precision on test.
    If no threshold reaches the target, the highest score is returned (answer almost nothing).
    """
    curve = coverage_precision(top_scores, correct)
    ok = curve[curve["precision"] >= target_precision]
    return float(ok["threshold"].min()) if len(ok) else float(curve["threshold"].max())


@dataclass(frozen=True)
class AbstainRule:
    """When to answer: the best score is high enough AND clearly ahead of the runner-up.

    * ``min_score``: below it the question looks unlike every FAQ entry (out of scope):
      hand it off to a person;
    * ``min_margin``: below it two entries fit about equally well (the search is torn):
      ask the shopper which one they mean.
    """

    min_score: float
    min_margin: float

    def decide(self, top_scores: np.ndarray) -> np.ndarray:
        """``"answer"``, ``"clarify"`` or ``"handoff"`` for each row of ``(n, 2)`` best and
        second-best scores."""
        top = np.atleast_2d(np.asarray(top_scores, dtype=np.float64))
        second = top[:, 1] if top.shape[1] > 1 else np.zeros(len(top))
        return np.where(
            top[:, 0] < self.min_score,
            "handoff",
            np.where(top[:, 0] - second < self.min_margin, "clarify", "answer"),
        )

    def answers(self, top_scores: np.ndarray) -> np.ndarray:
        """Which questions get an answer straight away (boolean mask)."""
        return self.decide(top_scores) == "answer"


#: the most in-scope questions :func:`fit_handoff_floor` may hand off (the course's goal)
MAX_IN_SCOPE_HANDOFF = 0.10


def _rate_below(scores: np.ndarray, floors: np.ndarray) -> np.ndarray:
    """For each floor, the share of ``scores`` strictly below it (handed off)."""
    return np.searchsorted(np.sort(scores), floors, side="left") / len(scores)


def fit_handoff_floor(
    in_scope_top: Sequence[float],
    out_of_scope_top: Sequence[float],
    max_in_scope_handoff: float = MAX_IN_SCOPE_HANDOFF,
) -> float:
    """The best-score floor that separates answerable questions from out-of-scope ones.

    Hand off a question whose best score is below the floor. Among the floors that hand off
    at most ``max_in_scope_handoff`` of the in-scope questions, the one maximising
    (out-of-scope handed off) - (in-scope handed off) (Youden's J); a floor halfway between
    two neighbouring scores, so it does not sit on a question. Fit it on VALIDATION questions.
    """
    inside = np.asarray(in_scope_top, dtype=np.float64).ravel()
    outside = np.asarray(out_of_scope_top, dtype=np.float64).ravel()
    if len(inside) == 0 or len(outside) == 0:
        raise ValueError(
            "give the best scores of some in-scope AND some out-of-scope questions "
            "(load_faq_out_of_scope('validation') has out-of-scope ones)"
        )
    if not (np.isfinite(inside).all() and np.isfinite(outside).all()):
        raise ValueError("scores must be finite numbers (no NaN or inf)")
    if not 0.0 <= max_in_scope_handoff < 1.0:
        raise ValueError(f"max_in_scope_handoff must be in [0, 1), not {max_in_scope_handoff}")
    values = np.unique(np.r_[inside, outside])
    floors = np.r_[values[0] - 1e-6, (values[1:] + values[:-1]) / 2, values[-1] + 1e-6]
    lost, caught = _rate_below(inside, floors), _rate_below(outside, floors)
    allowed = lost <= max_in_scope_handoff + 1e-12
    gain = np.where(allowed, caught - lost, -np.inf)
    return float(floors[int(np.argmax(gain))])  # first best: the lowest such floor


def fit_abstain_rule(
    top_scores: np.ndarray,
    correct: Sequence[bool],
    target_precision: float = 0.95,
    floor_quantile: float = 0.01,
    out_of_scope_top: Sequence[float] | None = None,
    max_in_scope_handoff: float = MAX_IN_SCOPE_HANDOFF,
) -> AbstainRule:
    """Fit an :class:`AbstainRule` on VALIDATION questions.

    ``top_scores`` ``(n, 2)``: the best and second-best scores of the answerable questions,
    ``correct``: whether their best hit is right. ``min_margin`` is the lowest margin (best -
    second best) that keeps ``target_precision`` (:func:`choose_threshold`).

    ``min_score``: with ``out_of_scope_top`` (the best scores of questions the FAQ does NOT
    answer), :func:`fit_handoff_floor`; without, the ``floor_quantile`` of the answerable
    questions' best scores (a guess: the rule has then never seen what it must reject).
    """
    top = np.asarray(top_scores, dtype=np.float64)
    if top.ndim != 2 or top.shape[1] < 2:
        raise ValueError("top_scores should be (questions, 2): the best and second-best scores")
    if out_of_scope_top is None:
        floor = float(np.quantile(top[:, 0], floor_quantile))
    else:
        floor = fit_handoff_floor(top[:, 0], out_of_scope_top, max_in_scope_handoff)
    margin = choose_threshold(top[:, 0] - top[:, 1], correct, target_precision)
    return AbstainRule(round(floor, 6), round(margin, 6))


def answer_or_handoff(hits: Sequence[Hit], rule: AbstainRule) -> str:
    """What to tell the shopper, given one query's hits (best first, k >= 2).

    The best hit's answer; or, when the two best fit about equally well, a question
    asking which one they mean; or, when nothing fits, :data:`HANDOFF_MESSAGE`.
    """
    if not hits:
        raise ValueError("no hits given; search with k >= 2 first")
    second = hits[1].score if len(hits) > 1 else 0.0
    decision = str(rule.decide(np.array([[hits[0].score, second]]))[0])
    if decision == "answer":
        return str(hits[0].payload.get("answer", hits[0].text))
    if decision == "clarify":
        return f"Did you mean: (1) {hits[0].text} or (2) {hits[1].text}"
    return HANDOFF_MESSAGE


__all__ = [
    "HANDOFF_MESSAGE",
    "MAX_IN_SCOPE_HANDOFF",
    "AbstainRule",
    "answer_or_handoff",
    "choose_threshold",
    "coverage_precision",
    "fit_abstain_rule",
    "fit_handoff_floor",
]
