"""Post-training benchmark (notebook 10): LoRA vs full fine-tuning, DPO before/after, a learning curve.

    python benchmarks/post_training.py            # the notebook's cached runs (built if missing)
    python benchmarks/post_training.py --curve    # also LoRA at 50, 200, 800 and 3,000 reviews
    python benchmarks/post_training.py --curve-only   # the learning curve alone

Prints LoRA vs full fine-tuning of MiniLM on review sentiment (same data and budget):
trainable parameters, AdamW state, what must be saved, training seconds, macro-F1 with the 95 %
bootstrap interval on validation, the generated test split and the hand-written reviews; then
the SFT task scores (loss on the answer only vs on every token) and DPO's hallucination rate
and coverage before and after on held-out products (validation, test, hand-written). Seconds
are wall-clock on this machine with 2 torch threads; a busy machine inflates them.
"""

from __future__ import annotations

import argparse

import pandas as pd

import coursekit
from coursekit import post_training as pt

CURVE = (50, 200, 800, 3000)


def _f1_row(run: dict) -> dict:
    row = {}
    for split, ci in pt.scores(run).items():
        row[f"{split} F1"] = f"{ci.value:.3f} [{ci.low:.3f}, {ci.high:.3f}]"
    return row


def sentiment_table(runs: dict) -> pd.DataFrame:
    rows = []
    for method in ("full", "lora"):
        run = runs[method]
        rows.append(
            {
                "method": method,
                "trainable": f"{run['trainable']:,}",
                "AdamW MB": round(run["adam_bytes"] / 1e6, 1),
                "saved MB": round(run["saved_bytes"] / 1e6, 2),
                "seconds": run["seconds"],
                **_f1_row(run),
            }
        )
    return pd.DataFrame(rows)


def curve_table(ns: tuple[int, ...]) -> pd.DataFrame:
    rows = []
    for n in ns:
        run = pt.finetune_sentiment("lora", n)
        rows.append(
            {
                "reviews": n,
                "steps": run["steps"],
                "TFLOPs": round(run["train_flops"] / 1e12, 1),
                "seconds": run["seconds"],
                **_f1_row(run),
            }
        )
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)  # one point at a time
    return pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curve", action="store_true", help="LoRA at 50, 200, 800, 3,000 reviews")
    parser.add_argument("--curve-only", action="store_true", help="the learning curve alone")
    args = parser.parse_args()
    coursekit.setup(seed=0)
    pd.set_option("display.width", 200)
    if args.curve_only:
        print("LoRA learning curve (macro-F1 with 95% intervals: validation, test, hand-written)")
        print(curve_table(CURVE).to_string(index=False))
        return 0
    print("LoRA vs full fine-tuning (MiniLM, review sentiment, same data and budget)")
    print(sentiment_table(pt.sentiment_results()).to_string(index=False))
    sft = pt.load_assistants()
    print("\nSFT of the shop GPT, held-out test tasks (labels on the answer only vs every token)")
    print(pd.DataFrame(sft["scores"]).T.round(3).to_string())
    dpo = pt.dpo_results()
    print(f"\nDPO: {len(dpo['pairs'])} pairs from {dpo['n_products']} training products")
    rows = [
        {"products": split, "when": when, **{k: round(v, 3) for k, v in dpo[when][split].items()}}
        for split in dpo["before"]
        for when in ("before", "after")
    ]
    print(pd.DataFrame(rows).to_string(index=False))
    if args.curve:
        print("\nLoRA learning curve (macro-F1 with 95% intervals: validation, test, hand-written)")
        print(curve_table(CURVE).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
