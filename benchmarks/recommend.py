"""Benchmark for notebook 12: every recommender on validation, test and hand-written shoppers.

    python benchmarks/recommend.py

Prints Markdown tables:

1. ALS settings on the VALIDATION purchases (fitted on ``train``): NDCG@10 and hit rate@10 for
   factors x penalty x confidence scale; the notebook's choice is the smallest model within
   0.005 NDCG of the best (alpha 10).
2. Every method refitted on ``train_full``, on the generated TEST purchases and on the
   hand-written shoppers (``tests/fixtures/handwritten_shoppers.jsonl``, a hit = a product of a
   listed type): hit rate@10 and NDCG@10 with 95% bootstrap intervals. The review-based similar
   products are notebook 08's (MiniLM mean of two liked reviews per product).
3. The test hit rate@10 split into repeat purchases and products new to the shopper, and the
   discovery setting (bought products masked, ALS chosen on new-product validation purchases).

CPU seconds of each ALS fit are printed too (the course's 2-core machine, often under load).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from coursekit import data
from coursekit import recommend as rc
from coursekit import retrieval as rt

K = 10


def _cell(iv) -> str:
    return f"{iv.value:.3f} [{iv.low:.3f}, {iv.high:.3f}]"


def _masked(scores: np.ndarray, history: np.ndarray) -> np.ndarray:
    out = np.array(scores, dtype=float)
    out[history > 0] = -np.inf
    return out


def main() -> None:
    products, events = data.load_products(), data.load_events()
    items = products["product_id"].tolist()
    split = rc.leave_last_out(events)
    people = sorted(events["shopper_id"].unique())
    rows = pd.Index(people).get_indexer(split.test["shopper_id"])
    r_train = rc.interaction_matrix(split.train, people, items)
    r_full = rc.interaction_matrix(split.train_full, people, items)

    def targets(held):
        return [{int(j)} for j in pd.Index(items).get_indexer(held["product_id"])]

    val, test = targets(split.validation), targets(split.test)

    print("## 1. ALS on validation (fitted on train)\n")
    print("| factors | reg | alpha | NDCG@10 | hit rate@10 | CPU s |")
    print("|---|---|---|---|---|---|")
    for factors in (8, 32, 64):
        for reg in (1.0, 10.0):
            for alpha in (2.0, 10.0, 40.0):
                t = time.process_time()
                model = rc.fit_als(r_train, factors=factors, reg=reg, alpha=alpha, iterations=8)
                m = rc.rank_metrics(model.scores()[rows], val, k=K)
                cpu = time.process_time() - t
                print(
                    f"| {factors} | {reg:g} | {alpha:g} | {m['ndcg'].mean():.3f} | "
                    f"{m['hit'].mean():.3f} | {cpu:.1f} |"
                )

    hand = rc.load_handwritten_shoppers()
    types = rc.product_types(products).reindex(items).tolist()
    h = rc.handwritten_matrix(hand, items)
    hand_rel = rc.handwritten_relevant(hand, types)
    liked = data.load_reviews()
    liked = liked[liked["label"].eq("positive")].sort_values("review_id")
    liked = liked.groupby("product_id").head(2)
    ids, vectors = rt.group_mean(
        rt.embed(liked["text"].tolist(), max_length=40), liked["product_id"]
    )
    review = pd.DataFrame(vectors, index=ids).reindex(items).fillna(0.0).to_numpy()
    review_sim = review @ review.T
    np.fill_diagonal(review_sim, 0.0)
    als = rc.fit_als(r_full, factors=32, reg=10.0, alpha=10.0, iterations=8)
    co = rc.cooccurrence_similarity(r_full)
    pop = r_full.sum(axis=0)
    methods = {
        "popularity": (
            rc.popularity_scores(r_full, len(rows)),
            rc.popularity_scores(r_full, len(hand)),
        ),
        "item-to-item": (rc.item_to_item_scores(r_full[rows], co), rc.item_to_item_scores(h, co)),
        "ALS (32 factors, reg 10, alpha 10)": (als.scores()[rows], rc.fold_in(als, h)),
        "buy again": (r_full[rows] + 1e-3 * pop, h + 1e-3 * pop),
        "review-based similar (notebook 08)": (
            rc.item_to_item_scores(r_full[rows], review_sim),
            rc.item_to_item_scores(h, review_sim),
        ),
    }
    print(f"\n## 2. Test ({len(rows)} shoppers) and hand-written ({len(hand)} shoppers)\n")
    print("| method | test hit@10 | test NDCG@10 | hand-written hit@10 | hand-written NDCG@10 |")
    print("|---|---|---|---|---|")
    for name, (t_scores, h_scores) in methods.items():
        t = rc.summarise(rc.rank_metrics(t_scores, test, k=K))
        hw = rc.summarise(rc.rank_metrics(h_scores, hand_rel, k=K))
        print(
            f"| {name} | {_cell(t['hit'])} | {_cell(t['ndcg'])} | {_cell(hw['hit'])} | "
            f"{_cell(hw['ndcg'])} |"
        )

    repeat = r_full[rows, [next(iter(t)) for t in test]] > 0
    print(f"\n## 3. Repeat vs new ({repeat.mean():.1%} of test purchases repeat a product)\n")
    print("| method | hit@10, bought before | hit@10, new to the shopper | new, bought masked |")
    print("|---|---|---|---|")
    new_rel = [r for r, keep in zip(test, ~repeat, strict=True) if keep]
    als_new = rc.fit_als(r_full, factors=8, reg=10.0, alpha=2.0, iterations=8)
    methods["ALS for new products (8 factors, reg 10, alpha 2)"] = (als_new.scores()[rows], None)
    for name, (t_scores, _) in methods.items():
        hits = rc.rank_metrics(t_scores, test, k=K)["hit"]
        masked = rc.rank_metrics(_masked(t_scores, r_full[rows])[~repeat], new_rel, k=K)["hit"]
        print(
            f"| {name} | {_cell(rc.mean_interval(hits[repeat]))} | "
            f"{_cell(rc.mean_interval(hits[~repeat]))} | {_cell(rc.mean_interval(masked))} |"
        )


if __name__ == "__main__":
    main()
