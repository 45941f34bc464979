"""Tests for coursekit.experiments: statistics vs scipy/statsmodels, peeking, bandits converge."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    power_proportions_2indep,
    proportions_ztest,
    samplesize_proportions_2indep_onetail,
)

from coursekit import experiments as ex

CASES = [(120, 4000, 150, 4100), (40, 1000, 31, 1200), (500, 20000, 500, 20000), (3, 50, 9, 60)]


@pytest.mark.parametrize("x_a,n_a,x_b,n_b", CASES)
def test_ztest_matches_statsmodels_and_scipy(x_a, n_a, x_b, n_b):
    res = ex.two_proportion_ztest(x_a, n_a, x_b, n_b)
    z_sm, p_sm = proportions_ztest([x_b, x_a], [n_b, n_a])
    assert res.z == pytest.approx(z_sm, abs=1e-10)
    assert res.p_value == pytest.approx(p_sm, abs=1e-12)
    # scipy: the pooled z-test is the chi-square test of the 2x2 table without correction
    table = np.array([[x_a, n_a - x_a], [x_b, n_b - x_b]])
    chi2, p_chi2, _, _ = stats.chi2_contingency(table, correction=False)
    assert res.z**2 == pytest.approx(chi2, rel=1e-9)
    assert res.p_value == pytest.approx(p_chi2, rel=1e-9)
    low, high = confint_proportions_2indep(x_b, n_b, x_a, n_a, method="wald", compare="diff")
    assert (res.ci_low, res.ci_high) == pytest.approx((low, high), abs=1e-12)
    assert res.diff == pytest.approx(x_b / n_b - x_a / n_a)


def test_one_sided_alternatives_and_errors():
    two = ex.two_proportion_ztest(120, 4000, 150, 4100)
    larger = ex.two_proportion_ztest(120, 4000, 150, 4100, alternative="larger")
    smaller = ex.two_proportion_ztest(120, 4000, 150, 4100, alternative="smaller")
    assert larger.p_value == pytest.approx(two.p_value / 2)
    assert larger.p_value + smaller.p_value == pytest.approx(1)
    assert two.significant is False and two.relative_lift == pytest.approx(two.diff / 0.03)
    with pytest.raises(ValueError, match="alternative"):
        ex.two_proportion_ztest(1, 10, 2, 10, alternative="bigger")
    with pytest.raises(ValueError, match="impressions must be > 0"):
        ex.z_statistic(0, 0, 1, 10)
    with pytest.raises(ValueError, match="clicks must be between"):
        ex.z_statistic(11, 10, 1, 10)
    assert ex.z_statistic(0, 10, 0, 10) == 0.0  # no clicks anywhere: no evidence


@pytest.mark.parametrize("p_a,p_b,alpha,power", [(0.03, 0.036, 0.05, 0.8), (0.1, 0.12, 0.01, 0.9)])
def test_sample_size_and_power_match_statsmodels(p_a, p_b, alpha, power):
    n = ex.sample_size_per_arm(p_a, p_b, alpha, power)
    want = samplesize_proportions_2indep_onetail(p_b - p_a, p_a, power, alpha=alpha)
    assert n == int(np.ceil(want))
    got_power = ex.power_two_proportions(p_a, p_b, n, alpha)
    assert got_power == pytest.approx(
        power_proportions_2indep(p_b - p_a, p_a, n, alpha=alpha).power, abs=1e-3
    )
    assert power <= got_power < power + 0.01
    with pytest.raises(ValueError, match="difference of 0"):
        ex.sample_size_per_arm(0.03, 0.03)


def test_power_by_simulation():
    rng = np.random.default_rng(0)
    n = ex.sample_size_per_arm(0.05, 0.06)
    z = ex.simulate_ab_looks(0.05, 0.06, n, 1, 4000, rng)[:, 0]
    assert np.mean(np.abs(z) > 1.96) == pytest.approx(0.8, abs=0.03)


def test_peeking_inflates_false_positives():
    table = ex.simulate_peeking(0.05, 500, 20, n_experiments=4000, rng=np.random.default_rng(0))
    assert list(table.columns) == ["look", "impressions_per_arm", "peeking", "fixed"]
    assert table["peeking"].is_monotonic_increasing
    assert abs(table["fixed"].mean() - 0.05) < 0.01  # one look: the promised 5 %
    assert table["peeking"].iloc[-1] > 0.2  # twenty looks: over four times that
    assert ex.pocock_boundary(5, n_sims=100_000) == pytest.approx(2.41, abs=0.03)


# ----------------------------------------------------------------- bandits

RATES = [0.1, 0.2, 0.5]


@pytest.mark.parametrize(
    "policy", [ex.epsilon_greedy(0.1), ex.ucb1(), ex.thompson(), ex.explore_then_commit(50)]
)
def test_policies_converge_to_the_best_arm(policy):
    run = ex.simulate_bandit(policy, RATES, horizon=1500, runs=40, seed=0)
    assert run.arms.shape == run.clicks.shape == (40, 1500)
    assert run.best_arm_share(last=300) > 0.85
    regret = run.regret
    assert (np.diff(regret, axis=1) >= 0).all()  # regret never goes down
    half = regret[:, 749].mean()
    late = (regret[:, -1].mean() - half) / 750  # regret per impression in the second half
    if policy.__name__.startswith("epsilon"):
        # constant exploration: every impression still explores with probability 0.1
        assert late == pytest.approx(0.1 * np.mean(0.5 - np.array(RATES)), rel=0.35)
    else:
        assert late * 750 < 0.6 * half  # sublinear: the second half costs much less


@pytest.mark.parametrize("batch", [1, 7, 100])
def test_batched_updates_keep_the_bookkeeping_right(batch):
    run = ex.simulate_bandit(ex.thompson(), RATES, horizon=1000, runs=20, seed=2, batch=batch)
    assert run.arms.shape == (20, 1000) and run.arms.min() >= 0 and run.arms.max() <= 2
    assert run.best_arm_share(last=200) > 0.85
    same = ex.simulate_bandit(ex.thompson(), RATES, horizon=1000, runs=20, seed=2, batch=batch)
    np.testing.assert_array_equal(run.clicks, same.clicks)
    # clicks only ever happen at the drawn rate of the arm shown
    shown_best = run.arms == 2
    assert abs(run.clicks[shown_best].mean() - 0.5) < 0.05


def test_thompson_beats_uniform_and_runs_are_reproducible():
    uniform = ex.epsilon_greedy(1.0)
    a = ex.simulate_bandit(ex.thompson(), RATES, 1000, runs=30, seed=3)
    b = ex.simulate_bandit(ex.thompson(), RATES, 1000, runs=30, seed=3)
    np.testing.assert_array_equal(a.arms, b.arms)
    u = ex.simulate_bandit(uniform, RATES, 1000, runs=30, seed=3)
    assert a.final_regret().mean() < 0.25 * u.final_regret().mean()
    # uniform play loses (0.5 - mean rate) per step in expectation
    assert u.final_regret().mean() == pytest.approx(1000 * (0.5 - np.mean(RATES)), rel=0.05)


def test_thompson_choose_probabilities():
    rng = np.random.default_rng(0)
    s, f = np.array([8.0, 4.0, 0.0]), np.array([2.0, 6.0, 2.0])
    picks = np.array([ex.thompson_choose(s, f, rng) for _ in range(3000)])
    assert 0.9 < np.mean(picks == 0) < 0.97
    batch = ex.thompson_choose(np.zeros((5, 3)), np.zeros((5, 3)), rng)
    assert batch.shape == (5,)


def test_explore_then_commit_splits_evenly_then_commits():
    run = ex.simulate_bandit(ex.explore_then_commit(100), [0.2, 0.6], 400, runs=5, seed=0)
    assert (np.bincount(run.arms[:, :200].ravel()) == 500).all()
    assert (run.arms[:, 200:] == 1).mean() > 0.95


def test_tables_and_errors():
    runs = [ex.simulate_bandit(p, RATES, 200, runs=10, seed=0) for p in (ex.ucb1(), ex.thompson())]
    frame = ex.regret_frame(runs, points=20)
    assert set(frame["policy"]) == {"ucb1", "thompson"} and len(frame) == 2 * 10 * 20
    table = ex.regret_table(runs)
    assert list(table["policy"]) == ["ucb1", "thompson"]
    np.testing.assert_allclose(table["regret_mean"], [r.final_regret().mean() for r in runs])
    with pytest.raises(ValueError, match="at least two arms"):
        ex.simulate_bandit(ex.ucb1(), [0.5], 10)
    with pytest.raises(ValueError, match="epsilon"):
        ex.epsilon_greedy(1.5)


# --------------------------------------------------------------------------- validity checks


def test_srm_test_matches_scipy_and_planned_shares():
    res = ex.srm_test([5_150, 4_850])
    chi2, p = stats.chisquare([5_150, 4_850])
    assert res.chi2 == pytest.approx(chi2) and res.p_value == pytest.approx(p) and res.df == 1
    assert res.chi2 == pytest.approx(9.0) and res.mismatch is True  # 51.5 % of 10,000: p ≈ 0.003
    assert ex.srm_test([5_120, 4_880]).mismatch is False  # χ² = 5.76, p ≈ 0.016
    uneven = ex.srm_test([9_000, 1_000], shares=[0.9, 0.1])
    assert uneven.chi2 == pytest.approx(0.0) and not uneven.mismatch
    three = ex.srm_test([100, 100, 130])
    assert three.p_value == pytest.approx(stats.chisquare([100, 100, 130]).pvalue)
    for bad in ([10], [-1, 5], [0, 0]):
        with pytest.raises(ValueError):
            ex.srm_test(bad)
    with pytest.raises(ValueError, match="one positive planned share"):
        ex.srm_test([10, 10], shares=[1, 0])


def test_every_shipped_campaign_passes_srm_and_a_broken_log_fails():
    from coursekit.data import load_campaigns

    logs = load_campaigns()
    table = ex.srm_table(logs)
    assert len(table) == logs["campaign_id"].nunique()
    assert (table["p"] > 0.01).all(), table.to_string()
    # one variant losing 2 % of its traffic (a redirect bug) is caught in every campaign
    for campaign in table["campaign_id"]:
        broken = ex.lose_traffic(logs, campaign, "B", 0.02, seed=1)
        row = ex.srm_table(broken).set_index("campaign_id").loc[campaign]
        assert row["p"] < 0.01 and row["mismatch"], (campaign, row["p"])
    untouched = ex.srm_table(ex.lose_traffic(logs, "C02", "B", 0.02))
    assert untouched.drop(index=1).equals(table.drop(index=1))
    with pytest.raises(ValueError, match="no rows"):
        ex.lose_traffic(logs, "C99", "B", 0.02)


P_SETS = [
    [0.01, 0.04, 0.03, 0.005],
    [0.02, 0.021, 0.03],
    [0.001, 0.001, 0.2, 1.0, 0.04, 0.04],
    [1.0, 1.0],
    [0.5],
    list(np.random.default_rng(3).uniform(0, 0.1, 25)),
]


@pytest.mark.parametrize("p", P_SETS)
@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_holm_and_bh_match_statsmodels(p, alpha):
    from statsmodels.stats.multitest import multipletests

    for ours, method in ((ex.holm, "holm"), (ex.benjamini_hochberg, "fdr_bh")):
        reject, adjusted = ours(p, alpha)
        sm_reject, sm_adjusted, _, _ = multipletests(p, alpha=alpha, method=method)
        assert reject.tolist() == sm_reject.tolist(), method
        assert adjusted == pytest.approx(sm_adjusted, abs=1e-12), method


def test_holm_is_between_bonferroni_and_bh():
    p = np.array([0.001, 0.013, 0.02, 0.03, 0.2])
    holm, _ = ex.holm(p)
    bh, _ = ex.benjamini_hochberg(p)
    bonferroni = p <= 0.05 / len(p)
    assert bonferroni.sum() <= holm.sum() <= bh.sum()
    assert holm.tolist() == [True, False, False, False, False]  # 0.013 > 0.05 / 4
    assert bh.tolist() == [True, True, True, True, False]  # 0.03 <= 4 * 0.05 / 5
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ex.holm([0.2, 1.5])


def test_cluster_robust_z_equals_pooled_z_with_one_impression_per_shopper():
    rng = np.random.default_rng(0)
    c_a, c_b = rng.random(4_000) < 0.05, rng.random(4_000) < 0.06
    ones = np.ones(4_000)
    z, p = ex.cluster_robust_ztest(c_a, ones, c_b, ones)
    unpooled = ex.two_proportion_ztest(c_a.sum(), 4_000, c_b.sum(), 4_000)
    se = (unpooled.ci_high - unpooled.ci_low) / (2 * stats.norm.ppf(0.975))
    assert z == pytest.approx(unpooled.diff / se, rel=1e-3)  # unpooled Wald z, n/(n-1) apart
    assert p == pytest.approx(2 * stats.norm.sf(abs(z)))


def test_counting_impressions_as_independent_inflates_false_alarms():
    sims = ex.simulate_shopper_aa(n_experiments=600, shoppers_per_arm=500, seed=0)
    false_alarms = (sims[["p_impressions", "p_shoppers"]] < 0.05).mean()
    assert false_alarms["p_impressions"] > 0.12  # correlated impressions, counted as independent
    assert abs(false_alarms["p_shoppers"] - 0.05) < 0.025  # shoppers as the unit: the 5 % holds
    assert sims["se_ratio"].median() > 1.3
    one_each = ex.simulate_shopper_aa(
        n_experiments=600, shoppers_per_arm=500, impressions_per_shopper=1, seed=0
    )
    assert (one_each["p_impressions"] < 0.05).mean() < 0.08  # one impression each: no problem


def test_winners_curse_early_stops_exaggerate_the_effect():
    true = 0.044 - 0.04
    runs = ex.simulate_early_stops(0.04, 0.044, 1_000, 20, 3_000, rng=np.random.default_rng(0))
    assert set(runs.columns) == {
        "stop_look",
        "stopped_early",
        "significant",
        "estimate",
        "estimate_fixed",
    }
    assert runs["stop_look"].between(1, 20).all()
    assert runs["estimate_fixed"].mean() / true == pytest.approx(1.0, abs=0.05)  # unbiased
    early = runs[runs["stopped_early"] & (runs["stop_look"] <= 5)]
    assert len(early) > 100 and early["estimate"].mean() / true > 1.8
    with pytest.raises(ValueError, match="real difference"):
        ex.simulate_early_stops(0.04, 0.04, 10, 2, 10)
