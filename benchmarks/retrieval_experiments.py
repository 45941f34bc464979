"""Benchmark for notebooks 08 and 09: FAQ retrieval quality and speed, bandit regret.

    python benchmarks/retrieval_experiments.py

Prints two Markdown tables:

1. FAQ retrieval on the held-out TEST paraphrases, per method: top-1, top-3, MRR,
   and queries per second. For embeddings two speeds are given: the search alone
   over a batch of pre-embedded queries (the index's job), and end to end
   (embedding the query text with MiniLM + search).
2. Out of distribution: the shipped index and hand-off rule on the generated test
   paraphrases (with the generated out-of-scope test questions) beside the hand-written questions of ``tests/fixtures/handwritten_questions.jsonl``
   (customers' own phrasing, never used for training or for fitting the thresholds): top-1,
   top-3, in-scope questions handed off, out-of-scope questions handed off.
3. Every search variant (encoder: base, fine-tuned on the shop's training paraphrases, or also
   on the out-of-scope training questions as negatives; each
   entry indexed by its question, question + answer, or both; BM25 alone or fused with the
   embeddings by reciprocal-rank fusion) on validation, test and the hand-written questions:
   top-1, top-3, MRR, in-scope and out-of-scope handed off (each variant's rule fitted on
   validation; the shipped variant, ``retrieval.SHIPPED_VARIANT``, is the best on validation).
4. Bandits on the true click rates of two campaigns (clearest winner, closest contest),
   as in notebook 09: regret at the horizon (mean and 10-90 % range over runs) per policy.
"""

from __future__ import annotations

import time

import numpy as np


def _best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def retrieval_table() -> str:
    from coursekit import retrieval as rt
    from coursekit.data import load_faq, load_faq_paraphrases

    faq = load_faq()
    test = load_faq_paraphrases("test")
    docs = rt.faq_documents(faq)
    row_of = {fid: i for i, fid in enumerate(faq["faq_id"].astype(str))}
    gold = test["faq_id"].astype(str).map(row_of).to_numpy()
    queries = test["text"].tolist()
    # 1,000 queries for the speed test (the test paraphrases, repeated)
    thousand = (queries * (1000 // len(queries) + 1))[:1000]

    index = rt.AnswerIndex.build(docs, ids=faq["faq_id"].tolist())
    q_emb = rt.embed(queries)
    emb_scores = rt.normalize(q_emb) @ index.embeddings.T
    t_emb = _best_of(lambda: rt.embed(thousand), repeats=1)
    big = rt.embed(thousand)
    t_search = _best_of(lambda: index.search_embeddings(big, k=5))

    tfidf = rt.TfidfRetriever(docs)
    bm25 = rt.BM25(docs)
    rows = [
        ("embeddings (MiniLM), search only", rt.rank_metrics(emb_scores, gold), 1000 / t_search),
        (
            "embeddings (MiniLM), end to end",
            rt.rank_metrics(emb_scores, gold),
            1000 / (t_emb + t_search),
        ),
        (
            "TF-IDF (1-2 grams)",
            rt.rank_metrics(tfidf.scores(queries), gold),
            1000 / _best_of(lambda: tfidf.scores(thousand)),
        ),
        (
            "BM25 (k1=1.5, b=0.75)",
            rt.rank_metrics(bm25.scores(queries), gold),
            1000 / _best_of(lambda: bm25.scores(thousand)),
        ),
    ]
    lines = [
        f"FAQ retrieval: {len(faq)} FAQ entries, {len(test)} test paraphrases; speed on 1,000 queries",
        "",
        "| method | top-1 | top-3 | MRR | queries/s |",
        "|---|---|---|---|---|",
    ]
    for name, m, qps in rows:
        lines.append(
            f"| {name} | {m['top1']:.3f} | {m['top3']:.3f} | {m['mrr']:.3f} | {qps:,.0f} |"
        )
    lines.append(
        f"\n1,000 pre-embedded queries searched in {t_search * 1000:.1f} ms; "
        f"embedding them took {t_emb:.2f} s (2 threads)."
    )
    return "\n".join(lines)


def handwritten_table() -> str:
    """The shipped index on generated vs hand-written questions (rule 1: out of distribution)."""
    import json
    from pathlib import Path

    import pandas as pd

    from coursekit import retrieval
    from coursekit.data import load_faq_out_of_scope, load_faq_paraphrases

    index = retrieval.load_faq_index()
    rule = retrieval.faq_rule(index)
    fixture = Path(__file__).resolve().parent.parent / "tests/fixtures/handwritten_questions.jsonl"
    rows = [json.loads(line) for line in fixture.read_text(encoding="utf-8").splitlines() if line]
    test = load_faq_paraphrases("test")
    outside = load_faq_out_of_scope("test")["text"].tolist()
    sets = {
        "generated test paraphrases + out-of-scope": (
            test["text"].tolist() + outside,
            test["faq_id"].astype(str).tolist() + [None] * len(outside),
        ),
        "hand-written questions": ([r["text"] for r in rows], [r["faq_id"] for r in rows]),
    }
    table = []
    for name, (texts, gold) in sets.items():
        # an entry indexed as several texts scores its best one
        scores, entry_ids = index.entry_scores(retrieval.embed(texts, model=index.model))
        row_of = {fid: i for i, fid in enumerate(entry_ids)}
        scope = np.array([g is not None for g in gold])
        ranked = retrieval.rank_metrics(scores[scope], [row_of[g] for g in gold if g is not None])
        best_two = -np.sort(-scores, axis=1)[:, :2]
        handoff = rule.decide(best_two) == "handoff"
        table.append(
            {
                "questions": name,
                "in scope": int(scope.sum()),
                "out of scope": int((~scope).sum()),
                **{key: round(value, 3) for key, value in ranked.items()},
                "in scope handed off": round(float(handoff[scope].mean()), 3),
                "out of scope handed off": (
                    round(float(handoff[~scope].mean()), 3) if (~scope).any() else float("nan")
                ),
            }
        )
    return pd.DataFrame(table).to_markdown(index=False)


#: the variants of the comparison table, in the order notebook 08 teaches them
VARIANTS = (
    ("base", "question", "none"),
    ("base", "question+answer", "none"),
    ("base", "both", "none"),
    ("base", "question", "bm25"),
    ("base", "question+answer", "bm25"),
    ("base", "question", "rrf"),
    ("base", "both", "rrf"),
    ("shop", "question", "none"),
    ("shop", "question+answer", "none"),
    ("shop", "both", "none"),
    ("shop", "both", "rrf"),
    ("shop-oos", "question", "none"),
    ("shop-oos", "both", "none"),
    ("shop-strong", "question+answer", "none"),
    ("shop-strong", "both", "none"),
    ("shop-strong-oos", "both", "none"),
    ("base", "both", "none", "cross"),
    ("shop", "both", "none", "cross"),
)


def question_sets() -> dict:
    """Validation and test paraphrases with the generated out-of-scope questions of the same
    split (faq id ``None``), and the hand-written questions, as (texts, faq ids)."""
    from coursekit import retrieval as rt
    from coursekit.data import load_faq_out_of_scope, load_faq_paraphrases

    sets = {}
    for split in ("validation", "test"):
        frame = load_faq_paraphrases(split)
        outside = load_faq_out_of_scope(split)["text"].tolist()
        sets[split] = (
            frame["text"].tolist() + outside,
            frame["faq_id"].tolist() + [None] * len(outside),
        )
    hand = rt.load_handwritten_questions()
    sets["hand-written"] = (hand["text"].tolist(), hand["faq_id"].tolist())
    return sets


def variants_table() -> str:
    """Every variant on validation, test and hand-written questions (rules fitted on validation)."""
    from coursekit import retrieval as rt
    from coursekit.data import load_faq

    variants = [rt.SearchVariant(*v) for v in VARIANTS]
    table = rt.compare_variants(variants, question_sets(), load_faq())
    wide = table.pivot_table(
        index="variant",
        columns="questions",
        values=["top1", "mrr", "in-scope handed off", "out-of-scope handed off"],
        sort=False,
    )
    order = [v.name for v in variants]
    wide = wide.loc[order]
    cols = [
        (metric, split)
        for split in ("validation", "test", "hand-written")
        for metric in ("top1", "mrr", "in-scope handed off", "out-of-scope handed off")
    ]
    wide = wide[cols].round(3)
    short = {"validation": "val", "test": "test", "hand-written": "hand"}
    label = {"top1": "top-1", "mrr": "MRR", "in-scope handed off": "in-scope h/o"}
    wide.columns = [f"{label.get(m, 'out-of-scope h/o')} {short[s]}" for m, s in cols]
    best = table[table["questions"] == "validation"].set_index("variant")["top1"].idxmax()
    return (
        "Search variants (hand-off rule of each fitted on validation: its paraphrases against "
        "the generated out-of-scope validation questions; val/test hold the generated "
        "out-of-scope questions of their split; 115 in-scope + 65 out-of-scope hand-written "
        "questions; h/o = handed off)\n\n"
        + wide.to_markdown()
        + f"\n\nbest on validation: {best}; shipped: {rt.SHIPPED_VARIANT.name}"
    )


def bandit_table(horizon: int = 100_000, runs: int = 50, batch: int = 200) -> str:
    """The two scenarios of notebook 09: the campaign whose best copy wins most clearly, and
    the one with the closest contest (campaigns with three or more variants)."""
    from coursekit import experiments as ex
    from coursekit.data import load_campaigns

    rates_by = load_campaigns().groupby(["campaign_id", "variant"])["true_ctr"].mean()
    multi = {c: np.sort(g.to_numpy()) for c, g in rates_by.groupby(level=0) if len(g) >= 3}
    gap = {c: r[-1] / r[-2] - 1 for c, r in multi.items()}
    scenarios = {"clear winner": max(gap, key=gap.get), "close contest": min(gap, key=gap.get)}
    lines = [
        f"Bandits: horizon {horizon:,} impressions, {runs} seeded runs, policy updated every "
        f"{batch} impressions; A/B test sized for a +20 % lift on variant A, then ship the winner",
        "",
        "| scenario | policy | regret at horizon (mean) | 10-90 % range | best-arm share, last 10 % | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for label, campaign in scenarios.items():
        rates = rates_by.loc[campaign].to_numpy()
        n_ab = min(ex.sample_size_per_arm(rates[0], rates[0] * 1.2), horizon // (2 * len(rates)))
        policies = [ex.epsilon_greedy(0.1), ex.ucb1(), ex.thompson(), ex.explore_then_commit(n_ab)]
        for policy in policies:
            start = time.perf_counter()
            res = ex.simulate_bandit(policy, rates, horizon, runs=runs, seed=0, batch=batch)
            sec = time.perf_counter() - start
            row = ex.regret_table([res]).iloc[0]
            lines.append(
                f"| {label} ({campaign}: {np.round(rates, 3).tolist()}) | {row['policy']} "
                f"| {row['regret_mean']:.1f} | {row['regret_p10']:.1f}-{row['regret_p90']:.1f} "
                f"| {row['best_arm_share_end']:.2f} | {sec:.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    import coursekit

    coursekit.setup(seed=0)
    print(retrieval_table())
    print()
    print(handwritten_table())
    print()
    print(variants_table())
    print()
    print(bandit_table())


if __name__ == "__main__":
    main()
