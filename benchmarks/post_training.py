"""Post-training benchmark (notebook 10): LoRA vs full fine-tuning, DPO before/after, a learning curve.

    python benchmarks/post_training.py            # the notebook's cached runs (built if missing)
    python benchmarks/post_training.py --curve    # also LoRA at 50, 200, 800 and 3,000 reviews
    python benchmarks/post_training.py --curve-only   # the learning curve alone
    python benchmarks/post_training.py --trl      # SFT: the course's loop vs trl's SFTTrainer
    python benchmarks/post_training.py --dpo-coverage   # DPO with pairs that also prefer coverage

Prints LoRA vs full fine-tuning of MiniLM on review sentiment (same data and budget):
trainable parameters, AdamW state, what must be saved, training seconds, macro-F1 with the 95 %
bootstrap interval on validation, the generated test split and the hand-written reviews; then
the SFT task scores (loss on the answer only vs on every token) and DPO's hallucination rate
and coverage before and after on held-out products (validation, test, hand-written). Seconds
are wall-clock on this machine with 2 torch threads; a busy machine inflates them.

``--trl`` trains the notebook's masked SFT twice from the same shop GPT, on the same conversations
in the same order, with the same steps, batch size, learning rate, schedule and labels (the
answer's tokens only): once through the course's loop, once through ``trl.SFTTrainer``
(:mod:`coursekit.post_training.trl_sft`, offline, on the CPU), and prints steps, CPU seconds
(``time.process_time``: a busy machine barely changes them), the training loss and the held-out
task scores on validation, the generated test split and the hand-written sets
(``tests/fixtures/handwritten_{reviews,questions,products}.jsonl``).
"""

from __future__ import annotations

import argparse
import copy
import time

import pandas as pd

import coursekit
from coursekit import env
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


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far (a busy machine barely changes them)."""
    return time.process_time()


def curve_table(ns: tuple[int, ...]) -> pd.DataFrame:
    rows = []
    for n in ns:
        cpu = cpu_seconds()
        run = pt.finetune_sentiment("lora", n)
        rows.append(
            {
                "reviews": n,
                "steps": run["steps"],
                "TFLOPs": round(run["train_flops"] / 1e12, 1),
                "seconds": run["seconds"],
                "CPU s (train + eval)": round(cpu_seconds() - cpu),
                **_f1_row(run),
            }
        )
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)  # one point at a time
    return pd.DataFrame(rows)


def held_out(split: str, recipe: pt.AssistantRecipe) -> dict:
    """The notebook's held-out task examples for ``split`` (its test set is ``split="test"``)."""
    import random

    held = pt.instruction_data(split, n_reviews=recipe.n_eval_reviews, seed=recipe.seed)
    n_faq = min(recipe.n_eval_faq, len(held["faq"]))
    held["faq"] = random.Random(recipe.seed).sample(held["faq"], n_faq)
    return held


def handwritten_tasks() -> dict:
    """The three tasks on the hand-written fixtures: reviews, questions with an FAQ answer, products."""
    from coursekit import data, paths
    from coursekit.post_training.sft import first_sentence

    fixtures = paths.repo_root() / "tests" / "fixtures"
    reviews = pd.read_json(fixtures / "handwritten_reviews.jsonl", lines=True)
    answers = data.load_faq().set_index("faq_id")["answer"]
    questions = pd.read_json(fixtures / "handwritten_questions.jsonl", lines=True)
    questions = questions[questions["faq_id"].isin(answers.index)]  # not the out-of-scope ones
    return {
        "sentiment": [
            (pt.sentiment_chat(t, y), y)
            for t, y in zip(reviews["text"], reviews["label"], strict=True)
        ],
        "faq": [
            (pt.faq_chat(answers[f], q), first_sentence(answers[f]))
            for q, f in zip(questions["text"], questions["faq_id"], strict=True)
        ],
        "copy": [(pt.copy_chat(a, answer=False), a) for a in pt.handwritten_products()],
    }


def _same_prefix(a: list[float], b: list[float], tol: float = 1e-3) -> int:
    """How many first steps have the same loss (to ``tol``) in both runs."""
    n = 0
    while n < min(len(a), len(b)) and abs(a[n] - b[n]) <= tol:
        n += 1
    return n


def trl_table() -> pd.DataFrame:
    """The notebook's masked SFT through the course's loop and through trl's SFTTrainer."""
    from coursekit.post_training import trl_sft
    from coursekit.post_training.assistant import _base

    recipe = pt.AssistantRecipe()
    train = pt.instruction_data("train", n_reviews=recipe.n_reviews, seed=recipe.seed)
    convs = [c for task in train.values() for c, _ in task]
    sets = {
        "validation": held_out("validation", recipe),
        "test": held_out("test", recipe),
        "hand-written": handwritten_tasks(),
    }
    budget = {
        "steps": recipe.sft_steps,
        "batch_size": recipe.sft_batch_size,
        "lr": recipe.sft_lr,
        "seed": recipe.seed,
    }
    env.seed_everything(recipe.seed)  # the four new chat-token embeddings start random
    base, tokenizer = _base()
    print(
        f"{len(convs)} training conversations, {recipe.sft_steps} steps of "
        f"{recipe.sft_batch_size}, lr {recipe.sft_lr}; conversations left with no labelled token "
        f"after truncation to 128 tokens (trl drops them): "
        f"{trl_sft.fully_truncated(tokenizer, convs)}",
        flush=True,
    )
    trl_cpu: dict[str, float] = {}
    runs = {
        "course loop (train.fit)": lambda m, t: pt.train_sft(m, t, convs, masked=True, **budget),
        "trl SFTTrainer": lambda m, t: trl_sft.train_sft_trl(
            m, t, convs, cpu_seconds=trl_cpu, **budget
        ),
        # the noise floor: the same loop, other batches and dropout masks
        "course loop, seed 1": lambda m, t: pt.train_sft(
            m, t, convs, masked=True, **{**budget, "seed": recipe.seed + 1}
        ),
    }
    columns = {}
    reference: list[float] = []
    for name, run in runs.items():
        cpu = cpu_seconds()
        model, losses = run(copy.deepcopy(base), tokenizer)  # the same starting weights for both
        total = cpu_seconds() - cpu
        col = {
            "steps": len(losses),
            # the course encodes its conversations inside train_sft: counted in its training
            "CPU s (preparing the data)": round(trl_cpu.pop("preparation", 0.0), 1),
            "CPU s (training)": round(trl_cpu.pop("training", total), 1),
            "loss at step 1": round(losses[0], 3),
            "first steps with the course loop's loss (±0.001)": _same_prefix(
                reference or losses, losses
            ),
            "final train loss (step)": round(losses[-1], 3),
            "final train loss (mean of last 10)": round(sum(losses[-10:]) / 10, 3),
        }
        cpu = cpu_seconds()
        for split, held in sets.items():
            for metric, value in pt.task_scores(model, tokenizer, held).items():
                col[f"{split}: {metric}"] = round(value, 3)
        col["CPU s (scoring)"] = round(cpu_seconds() - cpu, 1)
        columns[name] = col
        reference = reference or losses
        print(f"{name}: done", flush=True)
    # as text, so that counts print as counts and scores with their rounding
    return pd.DataFrame(
        {name: {k: str(v) for k, v in col.items()} for name, col in columns.items()}
    )


def coverage_pairs(candidates: list, attributes: list, lexicon: dict) -> list[dict]:
    """Every (chosen, rejected) of a product where chosen passes the grounding checker AND covers
    strictly more of the product's attributes than rejected (which may hallucinate or not)."""
    from coursekit.post_training.sft import copy_grades

    pairs = []
    for texts, attrs in zip(candidates, attributes, strict=True):
        grades = copy_grades(list(dict.fromkeys(texts)), [attrs] * len(set(texts)), lexicon)
        for good in grades:
            if good["hallucinated"]:
                continue
            for bad in grades:
                if bad["coverage"] < good["coverage"]:
                    pairs.append(
                        {"attributes": attrs, "chosen": good["text"], "rejected": bad["text"]}
                    )
    return pairs


def dpo_coverage_table() -> pd.DataFrame:
    """DPO from the notebook's masked SFT policy (cached) on :func:`coverage_pairs`, before and after."""
    from coursekit import copywriter, data

    recipe = pt.AssistantRecipe()
    products = data.load_products()
    lexicon = copywriter.attribute_lexicon(products)
    by_split = {
        s: list(products[products["split"] == s].sort_values("product_id")["attributes"])
        for s in ("train", "validation", "test")
    }
    sets = {"validation": by_split["validation"], "test": by_split["test"]}
    sets["hand-written"] = pt.handwritten_products()
    sft = pt.load_assistants(recipe)
    policy, tokenizer = sft["masked"], sft["tokenizer"]
    cands = pt.sample_candidates(
        policy, tokenizer, by_split["train"], recipe.candidates, recipe.temperature, recipe.seed
    )
    pairs = coverage_pairs(cands, by_split["train"], lexicon)
    print(f"{len(pairs)} coverage pairs from {len({str(p['attributes']) for p in pairs})} products")
    _, _, before, after = pt.dpo_before_after(policy, tokenizer, pairs, sets, lexicon, recipe)
    rows = [
        {
            "products": k,
            "hallucination before→after": f"{before[k]['hallucination rate']:.2f} → "
            f"{after[k]['hallucination rate']:.2f}",
            "coverage before→after": f"{before[k]['coverage']:.2f} → {after[k]['coverage']:.2f}",
        }
        for k in sets
    ]
    return pd.DataFrame(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curve", action="store_true", help="LoRA at 50, 200, 800, 3,000 reviews")
    parser.add_argument("--curve-only", action="store_true", help="the learning curve alone")
    parser.add_argument("--trl", action="store_true", help="SFT: course loop vs trl SFTTrainer")
    parser.add_argument("--dpo-coverage", action="store_true", help="DPO with coverage pairs")
    args = parser.parse_args()
    coursekit.setup(seed=0)
    pd.set_option("display.width", 200)
    if args.dpo_coverage:
        print("DPO on pairs whose chosen passes the checker and covers more than the rejected")
        print(dpo_coverage_table().to_string(index=False))
        return 0
    if args.trl:
        print("Masked SFT of the shop GPT: the course's loop vs trl's SFTTrainer (same everything)")
        print(trl_table().to_string())
        return 0
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
