"""An answer that hands the work to coursekit's (or a library's) version of it does not pass.

One row per exercise whose ready-made twin exists: the answer is either that function itself
or a thin wrapper around it, and the check must say "write your own" instead of "passed".
The build-it exercises have their own, fuller tests in ``test_exercises_nbNN.py``; this file
covers the smaller exercises and two routes those tests did not try (03.5 assembled from
coursekit's attention pieces, 09.3/09.4 through the Thompson policy object).
"""

from __future__ import annotations

import numpy as np
import pytest
from torch import nn

from coursekit import attention as A
from coursekit import copywriter, generate, metrics, sentiment
from coursekit import experiments as ex
from coursekit import recommend as rc
from coursekit import retrieval as rt
from coursekit import word2vec as w2v
from coursekit.checks import NOT_YET, nb02, nb03, nb06, nb06_fairness, nb07, nb08, nb09, nb12
from coursekit.schema import LABELS


class _Projections(nn.Module):
    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)


class AssembledFromCoursekit(_Projections):
    """coursekit's MultiHeadAttention.forward, inlined: every step is a coursekit helper."""

    def forward(self, x, attention_mask=None, causal=False):
        q, k, v = (
            A.split_heads(p(x), self.n_heads) for p in (self.q_proj, self.k_proj, self.v_proj)
        )
        mask = None if attention_mask is None else A.padding_mask(attention_mask, heads=True)
        if causal:
            mask = A.combine_masks(mask, A.causal_mask(x.shape[1]))
        scores = A.attention_scores(q, k)
        if mask is not None:
            scores = A.apply_mask(scores, mask)
        weights = A.stable_softmax(scores, dim=-1)
        return self.out_proj(A.merge_heads(weights @ v)), weights


def _policy_step(successes, failures, rng):
    """One Thompson step through coursekit's policy object (not ``thompson_choose``)."""
    s, f = np.asarray(successes, float), np.asarray(failures, float)
    return int(ex.thompson()(s[None], (s + f)[None], 0, rng)[0, 0])


def _policy_run(rates, horizon, rng):
    rates = np.asarray(rates, float)
    s, f = np.zeros(len(rates)), np.zeros(len(rates))
    arms, clicks = np.zeros(horizon, dtype=int), np.zeros(horizon, dtype=bool)
    for t in range(horizon):
        arm = _policy_step(s, f, rng)
        clicked = rng.random() < rates[arm]
        s[arm] += clicked
        f[arm] += not clicked
        arms[t], clicks[t] = arm, clicked
    return arms, clicks


def _own_regret(rates, arms):
    return np.cumsum(np.max(rates) - np.asarray(rates)[np.asarray(arms)])


def _sklearn_macro_f1(t, p):
    from sklearn.metrics import f1_score

    return f1_score(t, p, labels=list(LABELS), average="macro", zero_division=0)


def _loss_from_grad(c, o, n):
    """Not the loss itself: a loss assembled around coursekit's written-out gradient."""
    w2v.sgns_grad(c.detach(), o.detach(), n.detach())
    import torch.nn.functional as F

    return -(
        F.logsigmoid((c * o).sum(-1)) + F.logsigmoid(-(n @ c[..., None])[..., 0]).sum(-1)
    ).mean()


def _statsmodels_z(x_a, n_a, x_b, n_b):
    from statsmodels.stats.proportion import proportions_ztest

    return float(proportions_ztest([x_b, x_a], [n_b, n_a])[0])


CASES = [
    (
        "02.4",
        nb02.skipgram_pairs,
        (lambda ids, w: list(w2v.skipgram_pairs(ids, w)),),
        "skipgram_pairs",
    ),
    ("02.5", nb02.sgns_loss, (lambda c, o, n: w2v.sgns_loss(c, o, n) * 1.0,), "sgns_loss"),
    ("02.5 by the gradient", nb02.sgns_loss, (_loss_from_grad,), "sgns_grad"),
    ("03.5", nb03.multi_head_attention, (AssembledFromCoursekit,), "split_heads"),
    ("06.1", nb06.macro_f1, (lambda t, p: metrics.macro_f1(t, p, LABELS),), "macro_f1"),
    ("06.1 sklearn", nb06.macro_f1, (_sklearn_macro_f1,), "f1_score"),
    ("06.2", nb06.thresholds, (sentiment.choose_thresholds,), "choose_thresholds"),
    ("06.4", nb06.ece, (metrics.expected_calibration_error,), "expected_calibration_error"),
    ("06.6", nb06.alerting_rule, (sentiment.alert_months,), "alert_months"),
    (
        "06.7",
        nb06.group_gap,
        (lambda e, m, **kw: sentiment.group_gaps(e, [0] * len(e), {"g": m}, **kw),),
        "group_gaps",
    ),
    ("07.2", nb07.coverage, (copywriter.attribute_coverage,), "attribute_coverage"),
    ("07.3", nb07.distinct, (lambda texts, n: generate.distinct_n(texts, n),), "distinct_n"),
    (
        "08.2",
        nb08.mean_reciprocal_rank,
        (lambda s, g: rt.rank_metrics(s, g)["mrr"],),
        "rank_metrics",
    ),
    ("08.4", nb08.most_similar, (rt.most_similar,), "most_similar"),
    ("09.1", nb09.z_statistic, (ex.z_statistic,), "z_statistic"),
    ("09.1 statsmodels", nb09.z_statistic, (_statsmodels_z,), "proportions_ztest"),
    ("09.3", nb09.thompson_step, (_policy_step,), "thompson"),
    ("09.4", nb09.thompson_bandit, (_policy_run, _own_regret), "thompson"),
    (
        "12.1",
        nb12.split_last,
        (lambda e: (rc.leave_last_out(e).train_full, rc.leave_last_out(e).test),),
        "leave_last_out",
    ),
    ("12.2", nb12.ndcg_at_k, (rc.ndcg_at_k,), "ndcg_at_k"),
    ("12.3", nb12.als_user_step, (rc.als_user_step,), "als_user_step"),
]


@pytest.mark.parametrize(("label", "check", "answer", "named"), CASES, ids=[c[0] for c in CASES])
def test_a_ready_made_answer_is_told_to_write_its_own(label, check, answer, named):
    verdict = check.evaluate(*answer)
    assert verdict.status == NOT_YET, (label, verdict.line())
    assert named in verdict.message and "write your own" in verdict.message, verdict.message


#: exercise -> (notebook, the ready-made versions the check refuses)
ON_SCREEN = [
    ("02.4", "02_tokenization", nb02.skipgram_pairs, nb02.PAIRS_FORBID),
    ("02.5", "02_tokenization", nb02.sgns_loss, nb02.LOSS_FORBID),
    ("06.1", "06_sentiment", nb06.macro_f1, nb06.FORBID_F1),
    ("06.2", "06_sentiment", nb06.thresholds, nb06.FORBID_THRESHOLDS),
    ("06.4", "06_sentiment", nb06.ece, nb06.FORBID_ECE),
    ("06.6", "06_sentiment", nb06.alerting_rule, nb06.FORBID_ALERTS),
    ("06.7", "06_sentiment", nb06.group_gap, nb06_fairness.FORBID_GAP),
    ("07.2", "07_copywriting", nb07.coverage, ("coursekit.copywriter.attribute_coverage",)),
    ("07.3", "07_copywriting", nb07.distinct, ("coursekit.generate.distinct_n",)),
    ("08.2", "08_answer_search", nb08.mean_reciprocal_rank, nb08.FORBID_MRR),
    ("08.4", "08_answer_search", nb08.most_similar, ("coursekit.retrieval.most_similar",)),
    ("09.1", "09_measuring_impact", nb09.z_statistic, nb09.FORBID_Z),
    ("09.3", "09_measuring_impact", nb09.thompson_step, nb09.FORBID_THOMPSON),
    ("12.1", "12_recommendations", nb12.split_last, nb12.SPLIT_FORBID),
    ("12.2", "12_recommendations", nb12.ndcg_at_k, nb12.NDCG_FORBID),
    ("12.3", "12_recommendations", nb12.als_user_step, nb12.ALS_FORBID),
]


@pytest.mark.parametrize(
    ("ex_id", "notebook", "check", "forbid"), ON_SCREEN, ids=[r[0] for r in ON_SCREEN]
)
def test_no_ready_made_version_is_called_on_screen_before_its_exercise(
    ex_id, notebook, check, forbid
):
    """A cell above the exercise that calls ``something.<name>(...)`` would show the answer."""
    import json
    import re

    from coursekit.paths import notebooks_dir

    cells = json.loads((notebooks_dir() / f"{notebook}.ipynb").read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) if c["cell_type"] == "code" else "" for c in cells]
    at = next(i for i, s in enumerate(sources) if re.search(rf"check\.{check.__name__}\(", s))
    solution = max(i for i in range(at) if "### BEGIN SOLUTION" in sources[i])
    for i, source in enumerate(sources[:solution]):
        for path in forbid:
            name = path.rpartition(".")[2]
            assert not re.search(rf"\.\s*{name}\s*\(", source), (
                f"cell {i} of {notebook} calls {name} before exercise {ex_id}"
            )
