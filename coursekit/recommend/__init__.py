"""Personalised recommendation from shopping histories, evaluated offline (notebook 12).

* :mod:`~coursekit.recommend.split`: the leave-last-out split by date (:func:`leave_last_out`)
  and the shoppers × items matrix (:func:`interaction_matrix`);
* :mod:`~coursekit.recommend.models`: popularity, item-to-item co-occurrence and implicit ALS
  matrix factorisation (:func:`fit_als`, :func:`als_user_step`, :func:`fold_in`);
* :mod:`~coursekit.recommend.evaluate`: hit rate@k and NDCG@k with bootstrap intervals;
* :mod:`~coursekit.recommend.profiles`: profiles read from purchase histories;
* :mod:`~coursekit.recommend.handwritten`: the hand-written shoppers of ``tests/fixtures``.
"""

from coursekit.recommend.evaluate import (
    hit_at_k,
    mean_interval,
    ndcg_at_k,
    rank_metrics,
    summarise,
    top_k,
)
from coursekit.recommend.handwritten import (
    handwritten_matrix,
    handwritten_relevant,
    load_handwritten_shoppers,
)
from coursekit.recommend.models import (
    ALSModel,
    als_user_step,
    cooccurrence_similarity,
    fit_als,
    fold_in,
    item_to_item_scores,
    popularity_scores,
)
from coursekit.recommend.profiles import product_types, profiles_from_history
from coursekit.recommend.split import (
    EVENT_COLUMNS,
    Split,
    check_events,
    cut_before,
    interaction_matrix,
    leave_last_out,
)

__all__ = [
    "EVENT_COLUMNS",
    "ALSModel",
    "Split",
    "als_user_step",
    "check_events",
    "cooccurrence_similarity",
    "cut_before",
    "fit_als",
    "fold_in",
    "handwritten_matrix",
    "handwritten_relevant",
    "hit_at_k",
    "interaction_matrix",
    "item_to_item_scores",
    "leave_last_out",
    "load_handwritten_shoppers",
    "mean_interval",
    "ndcg_at_k",
    "popularity_scores",
    "product_types",
    "profiles_from_history",
    "rank_metrics",
    "summarise",
    "top_k",
]
