"""Opinion monitoring and fairness (coursekit.sentiment.monitoring / .fairness), on small data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coursekit import sentiment
from coursekit.sentiment import fairness, monitoring


# ---------------------------------------------------------------- the alerting rule
def _flat(months=24, total=40, rate=0.2, seed=0):
    rng = np.random.default_rng(seed)
    tot = np.full(months, total)
    return rng.binomial(tot, rate), tot


def test_the_rule_finds_a_planted_spike_and_only_it():
    neg, tot = _flat(seed=1)
    neg[15] = 24  # 60 % of the month's reviews complain, against about 20 % before
    alerts = monitoring.alert_months(neg, tot)
    assert alerts.dtype == bool and alerts.shape == (24,)
    assert alerts[15] and alerts.sum() == 1


def test_the_rule_stays_quiet_on_flat_series():
    assert not monitoring.alert_months(np.full(24, 8), np.full(24, 40)).any()
    noisy = [monitoring.alert_months(*_flat(seed=seed)).sum() for seed in range(20)]
    assert sum(noisy) <= 6, noisy  # 480 noisy months: a rare flush, not a stream of alarms


def test_a_busy_month_with_the_usual_share_is_no_alert():
    tot = np.array([20] * 10 + [80] + [20] * 3)
    neg = (tot * 0.25).astype(int)  # 20 complaints in the busy month, the same share
    assert not monitoring.alert_months(neg, tot, min_count=3).any()


def test_no_history_empty_months_and_min_count():
    neg = np.array([12, 0, 0, 1, 1, 0, 4])
    tot = np.array([12, 0, 0, 10, 10, 10, 4])
    alerts = monitoring.alert_months(neg, tot, window=3, min_count=5)
    assert not alerts.any()  # month 0: no past; month 6: 4 < min_count
    assert monitoring.alert_months(neg, tot, window=3, min_count=3).tolist() == [False] * 6 + [True]
    assert monitoring.alert_months([], []).shape == (0,)


def test_the_baseline_uses_only_the_past_window():
    neg = np.array([0, 0, 0, 9, 9, 9, 9, 9, 1])
    tot = np.array([10] * 9)
    base, z = monitoring.baseline_z(neg, tot, window=2)
    assert np.isnan(base[0]) and base[1] == pytest.approx(1 / 12)
    assert base[8] == pytest.approx(19 / 22)  # months 6 and 7 only
    assert z[3] > 3 and z[8] < 0


@pytest.mark.parametrize(
    ("neg", "tot", "kw", "message"),
    [
        ([1, 2], [3], {}, "differ in length"),
        ([5, 1], [3, 3], {}, "above total"),
        ([[1]], [[2]], {}, "1-D"),
        ([1], [2], {"window": 0}, "window"),
        ([-1], [2], {}, "counts"),
    ],
)
def test_bad_series_get_one_line_errors(neg, tot, kw, message):
    with pytest.raises(ValueError, match=message):
        monitoring.alert_months(neg, tot, **kw)


# ---------------------------------------------------------------- counts, alerts and score
def _reviews():
    rows = []
    for month in range(1, 13):
        for k in range(10):
            rows.append({"brand": "A", "date": f"2024-{month:02d}-{k + 1:02d}"})
            rows.append({"brand": "B", "date": f"2024-{month:02d}-{k + 1:02d}"})
    reviews = pd.DataFrame(rows)
    shipping = [
        {"doc": i, "aspect": "shipping", "polarity": "negative"}
        for i, r in reviews.iterrows()
        if r["brand"] == "A" and (r["date"] >= "2024-10" or r["date"].endswith("-01"))
    ]
    return reviews, pd.DataFrame(shipping)


def test_monthly_counts_are_per_review_of_the_brand_with_every_month():
    reviews, mentions = _reviews()
    counts = monitoring.monthly_counts(reviews, mentions)
    assert list(counts.columns) == list(monitoring.COUNT_COLUMNS)
    assert len(counts) == 12  # one pair (A, shipping), twelve months
    assert counts["total"].tolist() == [10] * 12
    assert counts["negative"].tolist() == [1] * 9 + [10] * 3


def test_find_alerts_and_score_against_an_event():
    reviews, mentions = _reviews()
    alerts = monitoring.find_alerts(monitoring.monthly_counts(reviews, mentions))
    assert alerts["month"].tolist() == ["2024-10", "2024-11", "2024-12"]
    assert alerts["baseline"].is_monotonic_increasing  # the wave enters the window
    events, summary = monitoring.score_alerts(
        alerts, [{"brand": "A", "aspect": "shipping", "start": "2024-09", "end": "2024-11"}]
    )
    assert events["found"].tolist() == [True] and events["delay_months"].tolist() == [1]
    assert summary == {"alerts": 3, "found": 1, "related": 0, "false_alarms": 1}
    _, summary = monitoring.score_alerts(
        alerts, [{"brand": "B", "aspect": "shipping", "start": "2024-09", "end": "2024-12"}]
    )
    assert summary["found"] == 0 and summary["false_alarms"] == 3


def test_choose_z_keeps_the_past_within_the_budget():
    reviews, mentions = _reviews()
    counts = monitoring.monthly_counts(reviews, mentions)
    assert monitoring.choose_z(counts, "2024-12", budget=0, grid=(1.0, 50.0)) == 50.0
    assert monitoring.choose_z(counts, "2024-09", budget=0, grid=(1.0, 50.0)) == 1.0
    with pytest.raises(ValueError, match="later month"):
        monitoring.choose_z(counts, "2023-01", budget=0)


def test_planted_events_and_keyword_mentions():
    events = monitoring.planted_events()
    assert [(e["brand"], e["aspect"], e["start"]) for e in events] == [
        ("Voltix", "shipping", "2023-11"),
        ("Purelle", "smell", "2024-06"),
    ]
    rows = monitoring.keyword_mentions(
        ["The parcel arrived late and it smells.", "Fine."], ["negative", "neutral"]
    )
    assert set(rows["aspect"]) == {"shipping", "smell"} and set(rows["doc"]) == {0}
    with pytest.raises(ValueError, match="one label per review"):
        monitoring.keyword_mentions(["a"], [])
    with pytest.raises(ValueError, match="doc, aspect, polarity"):
        monitoring.monthly_counts(_reviews()[0], pd.DataFrame({"doc": [0]}))


def test_the_names_are_re_exported():
    assert sentiment.alert_months is monitoring.alert_months
    assert sentiment.group_gaps is fairness.group_gaps


# ---------------------------------------------------------------- fairness
def test_group_gaps_find_a_real_gap_with_an_interval():
    rng = np.random.default_rng(0)
    n = 600
    group = np.arange(n) < 150
    y = np.array(["positive"] * n)
    wrong = np.where(group, rng.random(n) < 0.4, rng.random(n) < 0.05)
    pred = np.where(wrong, "negative", "positive")
    table = fairness.group_gaps(y, pred, {"hard": group, "easy": ~group}, n_boot=500)
    hard = table.loc["hard"]
    assert table.index[0] == "hard" and hard["n"] == 150
    assert hard["error_low"] < hard["error"] < hard["error_high"]
    assert hard["gap_low"] > 0.2 and hard["clear"]
    assert table.loc["easy", "gap_high"] < 0 and table.loc["easy", "clear"]


def test_group_gaps_no_gap_is_not_clear_and_tiny_groups_are_left_out():
    y = np.array(["positive", "negative"] * 200)
    pred = y.copy()
    pred[::7] = "neutral"  # the same error rate everywhere
    groups = {"even": np.arange(400) % 2 == 0, "tiny": np.arange(400) < 5}
    table = fairness.group_gaps(y, pred, groups, min_size=10)
    assert list(table.index) == ["even"] and not table.loc["even", "clear"]
    with pytest.raises(ValueError, match="flags for"):
        fairness.group_gaps(y, pred, {"bad": [True, False]})
    with pytest.raises(ValueError, match="same length"):
        fairness.group_gaps(y, pred[:3], groups)


def test_groups_and_routing():
    reviews = pd.DataFrame(
        {
            "text": ["👍", "Great.", "Broke after two days, useless " * 6, "ok 😐"],
            "phenomena": [["emoji"], [], ["typo"], ["emoji", "plain"]],
            "category": ["home", "home", "pets", "pets"],
        }
    )
    groups = fairness.review_groups(reviews)
    assert groups["1-8 words"].tolist() == [True, True, False, True]
    assert groups["26-59 words"].tolist() == [False, False, True, False]
    assert groups["voice=plain"].tolist() == [False, False, False, True]
    assert groups["category=pets"].sum() == 2
    assert [fairness.is_emoji_only(t) for t in reviews["text"]] == [True, False, False, False]
    assert fairness.route(["a", "b"], ["x", "y"], [False, True]) == ["a", "y"]
    with pytest.raises(ValueError, match="same length"):
        fairness.route(["a"], ["x", "y"], [True])
