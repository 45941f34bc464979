"""``coursekit ask "where is my order?"``: answer a shopper's question from the shop's FAQ.

Prints the best FAQ answer with its similarity score; when the two best entries
fit about equally well, asks which one the shopper means; when nothing fits, the
hand-off message (the rule is fitted on validation: the paraphrases against the generated
out-of-scope questions, notebook 08). The search
is ``retrieval.SHIPPED_VARIANT``, the variant that did best on the validation paraphrases
(pretrained MiniLM, each entry indexed by its question and by its question + answer; see
notebook 08 for the variants compared). The index is built into the cache on first use (a few
seconds), then loaded.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ask",
        help="answer a customer question from the shop FAQ (or hand it to a person)",
        description=(
            "Search the shop's FAQ with MiniLM sentence embeddings (each entry indexed by its "
            "question and by its question + answer) and print the best answer with its cosine "
            "similarity, or a hand-off message when no entry is similar enough."
        ),
    )
    p.add_argument("question", nargs="+", help="the shopper's question, e.g. where is my order?")
    p.add_argument("-k", type=int, default=1, help="also list the k best FAQ matches (default 1)")
    p.add_argument(
        "--rerank",
        action="store_true",
        help=(
            "re-rank the search's top 5 with the cross-encoder (built into the cache on first "
            "use, a few minutes) and decide with its hand-off rule"
        ),
    )
    p.add_argument(
        "--reply",
        action="store_true",
        help="also print the assistant's written reply with its source (notebook 11)",
    )
    p.set_defaults(func=_ask)


def _ask(args: argparse.Namespace) -> int:
    from coursekit.cli import UserError
    from coursekit.retrieval import HANDOFF_MESSAGE, answer_or_handoff, faq_rule, load_faq_index

    question = " ".join(args.question).strip()
    if not question:
        raise UserError('the question is empty; try: coursekit ask "where is my order?"')
    if args.k < 1:
        raise UserError(f"-k must be at least 1, got {args.k}")
    import coursekit

    coursekit.setup(seed=0)
    index = load_faq_index()
    rule = faq_rule(index)
    hits = index.search(question, k=max(2, args.k))
    what = "similarity"
    if getattr(args, "rerank", False):
        from coursekit.retrieval import (
            RERANK_TOP_K,
            load_cross_encoder,
            load_rerank_rule,
            rerank_hits,
        )

        first = index.search(question, k=max(RERANK_TOP_K, args.k))
        hits = rerank_hits(load_cross_encoder(), question, first)
        rule, what = load_rerank_rule(), "re-ranker score"
    best, margin = hits[0], hits[0].score - (hits[1].score if len(hits) > 1 else 0.0)
    reply = answer_or_handoff(hits, rule)
    print(f"question : {question}")
    print(
        f"best FAQ : [{best.id}] {best.text}  ({what} {best.score:.3f}, "
        f"margin over the next {margin:.3f})"
    )
    print(
        f"rule     : answer when {what} >= {rule.min_score:.3f} and margin >= {rule.min_margin:.3f}"
    )
    label = "hand-off" if reply == HANDOFF_MESSAGE else "answer  "
    if reply.startswith("Did you mean"):
        label = "clarify "
    print(f"{label} : {reply}")
    for hit in hits[1 : args.k]:
        print(f"  #{hit.rank} [{hit.id}] {hit.text}  ({hit.score:.3f})")
    if getattr(args, "reply", False):
        from coursekit.assistant import ShopAssistant, find_product

        written = ShopAssistant(index=index).reply(question, product=find_product(question))
        print(f"reply    : {written.text}")
    return 0
