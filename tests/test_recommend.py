"""coursekit.recommend: the split, the models, the metrics and profiles, on small data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from coursekit import data
from coursekit import recommend as rc


def _events(rows):
    return pd.DataFrame(rows, columns=["shopper_id", "product_id", "kind", "date"])


LOG = _events(
    [
        ("a", "p1", "purchase", "2024-01-01"),
        ("a", "p2", "purchase", "2024-01-05"),
        ("a", "p5", "view", "2024-01-09"),
        ("a", "p3", "purchase", "2024-01-09"),
        ("a", "p4", "purchase", "2024-01-20"),
        ("b", "p1", "purchase", "2024-01-02"),
        ("b", "p2", "purchase", "2024-01-03"),
        ("c", "p3", "purchase", "2024-02-01"),
    ]
)


def test_leave_last_out_cuts_at_the_dates():
    sp = rc.leave_last_out(LOG)
    assert sp.test[["shopper_id", "product_id"]].values.tolist() == [["a", "p4"]]
    assert sp.validation[["shopper_id", "product_id"]].values.tolist() == [["a", "p3"]]
    a_train = sp.train[sp.train["shopper_id"] == "a"]
    assert a_train["product_id"].tolist() == ["p1", "p2"]  # the same-day view p5 is gone too
    a_full = sp.train_full[sp.train_full["shopper_id"] == "a"]
    assert a_full["product_id"].tolist() == ["p1", "p2", "p5", "p3"]
    # b and c have too few purchases: they only train, with every event
    assert len(sp.train[sp.train["shopper_id"].isin(["b", "c"])]) == 3
    with pytest.raises(ValueError, match="min_purchases"):
        rc.leave_last_out(LOG, min_purchases=2)
    with pytest.raises(ValueError, match="columns"):
        rc.leave_last_out(LOG.drop(columns="kind"))
    with pytest.raises(TypeError, match="DataFrame"):
        rc.leave_last_out(LOG.values)


def test_interaction_matrix_counts_and_weights_views():
    m = rc.interaction_matrix(LOG, ["a", "b"], ["p1", "p5"], view_weight=0.5)
    assert m.tolist() == [[1.0, 0.5], [1.0, 0.0]]


def test_popularity_and_item_to_item():
    R = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 0]], float)
    pop = rc.popularity_scores(R, n_rows=2)
    assert pop.shape == (2, 4) and pop[0].tolist() == [3, 2, 1, 1]
    S = rc.cooccurrence_similarity(R)
    assert np.allclose(np.diag(S), 0) and np.allclose(S, S.T)
    assert S[0, 1] == pytest.approx(2 / math.sqrt(3 * 2))
    assert S[0, 2] == 0
    scores = rc.item_to_item_scores(np.array([[0, 0, 1, 0]], float), S)
    assert rc.top_k(scores, 1)[0, 0] == 3
    with pytest.raises(ValueError, match="same item list"):
        rc.item_to_item_scores(np.ones((1, 3)), S)


def test_als_step_matches_the_dense_normal_equations():
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(6, 3))
    R = rng.poisson(0.7, size=(5, 6)).astype(float)
    R[0] = 0
    X = rc.als_user_step(Y, R, reg=0.3, alpha=5.0)
    assert np.allclose(X[0], 0)
    for u in range(1, 5):
        c = 1 + 5.0 * R[u]
        p = (R[u] > 0).astype(float)
        x = np.linalg.solve((Y.T * c) @ Y + 0.3 * np.eye(3), Y.T @ (c * p))
        assert np.allclose(X[u], x)
    with pytest.raises(ValueError, match="items"):
        rc.als_user_step(Y[:4], R, 0.3, 5.0)


def test_als_learns_two_taste_groups_and_folds_in_a_newcomer():
    R = np.zeros((40, 8))
    R[:20, :4] = np.random.default_rng(1).integers(0, 2, size=(20, 4))
    R[20:, 4:] = np.random.default_rng(2).integers(0, 2, size=(20, 4))
    R[np.arange(40), np.where(np.arange(40) < 20, 0, 4)] = 1
    model = rc.fit_als(R, factors=4, reg=0.1, alpha=10, iterations=8)
    again = rc.fit_als(R, factors=4, reg=0.1, alpha=10, iterations=8)
    assert np.array_equal(model.X, again.X)  # deterministic
    top = rc.top_k(model.scores(), 2)
    assert (top[:20] < 4).all() and (top[20:] >= 4).all()
    newcomer = np.zeros((1, 8))
    newcomer[0, 5] = 1
    folded = rc.fold_in(model, newcomer)[0]
    assert folded.argmax() == 5 and folded[4:].mean() > folded[:4].mean()


def test_ranking_metrics():
    assert rc.ndcg_at_k(["a", "b", "c"], {"a"}, 3) == 1.0
    assert rc.ndcg_at_k(["a", "b", "c"], {"c"}, 3) == pytest.approx(0.5)
    assert rc.ndcg_at_k(["a", "b", "c"], {"c"}, 2) == 0.0
    assert rc.ndcg_at_k(["a", "b"], set(), 10) == 0.0
    assert rc.ndcg_at_k(["a", "a"], {"a", "b"}, 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert rc.hit_at_k(["a", "b", "c"], {"c"}, 2) == 0.0
    scores = np.array([[0.1, 0.9, 0.5], [1.0, 1.0, 0.0]])
    assert rc.top_k(scores, 2).tolist() == [[1, 2], [0, 1]]  # ties: lower index first
    m = rc.rank_metrics(scores, [{2}, {1}], k=2)
    assert m["hit"].tolist() == [1.0, 1.0]
    assert m["ndcg"].tolist() == pytest.approx([1 / math.log2(3), 1 / math.log2(3)])
    iv = rc.mean_interval([0.0, 1.0] * 50, seed=0)
    assert iv.value == 0.5 and iv.low < 0.5 < iv.high
    with pytest.raises(ValueError, match="non-empty"):
        rc.mean_interval([])


def test_profiles_from_history_read_the_declared_pets():
    events, shoppers = data.load_events(), data.load_shoppers()
    profiles = rc.profiles_from_history(events, data.load_products()).set_index("shopper_id")
    declared = shoppers.set_index("shopper_id")["pets"].reindex(profiles.index)
    agree = (profiles["pets"].map(bool) == declared.map(bool)).mean()
    assert agree > 0.85
    assert set(profiles["price_band"]) == {"budget", "mid", "premium"}


def test_handwritten_shoppers_are_usable():
    hand = rc.load_handwritten_shoppers()
    products = data.load_products()
    items = products["product_id"].tolist()
    types = rc.product_types(products).reindex(items).tolist()
    assert len(hand) >= 40
    H = rc.handwritten_matrix(hand, items)
    assert H.sum() == sum(len(h) for h in hand["history"])
    relevant = rc.handwritten_relevant(hand, types)
    assert all(len(r) >= 7 for r in relevant)  # every next type names real products
    assert set(t for ts in hand["next_types"] for t in ts) <= set(types)
