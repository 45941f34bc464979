"""Measuring impact online: A/B tests, their validity checks, the peeking trap, and bandits.

The code lives in submodules; every name is re-exported here, so
``from coursekit import experiments as ex; ex.two_proportion_ztest(...)`` is the way to use it:

* :mod:`~coursekit.experiments.abtest`: the two-proportion z-test, its confidence interval,
  power and sample size;
* :mod:`~coursekit.experiments.validity`: what to check before believing a test: the
  sample-ratio-mismatch test, Holm and Benjamini-Hochberg corrections for many comparisons,
  and the unit of analysis (shoppers randomised, impressions counted);
* :mod:`~coursekit.experiments.peeking`: stopping at the first p < 0.05 (false alarms), a
  Pocock boundary, and the winner's curse of early stops;
* :mod:`~coursekit.experiments.bandits`: ε-greedy, UCB1, Thompson sampling and an A/B test
  then ship, simulated many runs at once, compared by regret.
"""

from __future__ import annotations

from coursekit.experiments.abtest import (
    ZTestResult,
    diff_confint,
    power_two_proportions,
    sample_size_per_arm,
    two_proportion_ztest,
    z_statistic,
)
from coursekit.experiments.bandits import (
    BanditRun,
    Policy,
    epsilon_greedy,
    explore_then_commit,
    regret_frame,
    regret_table,
    simulate_bandit,
    thompson,
    thompson_choose,
    thompson_run,
    ucb1,
)
from coursekit.experiments.peeking import (
    pocock_boundary,
    simulate_ab_looks,
    simulate_early_stops,
    simulate_peeking,
)
from coursekit.experiments.validity import (
    SRMResult,
    benjamini_hochberg,
    cluster_robust_ztest,
    holm,
    lose_traffic,
    simulate_shopper_aa,
    srm_table,
    srm_test,
)

__all__ = [
    "BanditRun",
    "Policy",
    "SRMResult",
    "ZTestResult",
    "benjamini_hochberg",
    "cluster_robust_ztest",
    "diff_confint",
    "epsilon_greedy",
    "explore_then_commit",
    "holm",
    "lose_traffic",
    "pocock_boundary",
    "power_two_proportions",
    "regret_frame",
    "regret_table",
    "sample_size_per_arm",
    "simulate_ab_looks",
    "simulate_bandit",
    "simulate_early_stops",
    "simulate_peeking",
    "simulate_shopper_aa",
    "srm_table",
    "srm_test",
    "thompson",
    "thompson_choose",
    "thompson_run",
    "two_proportion_ztest",
    "ucb1",
    "z_statistic",
]
