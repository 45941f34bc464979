"""Benchmark for notebook 11: the grounded shop assistant.

    python benchmarks/assistant.py

Prints three Markdown tables:

1. Faithfulness: the automatic checker (``coursekit.assistant.is_faithful``) against the hand
   labels of ``tests/fixtures/faithfulness_labels.jsonl`` (accuracy, Cohen's kappa), and the
   share of the writer's greedy replies the checker calls faithful on the generated TEST
   paraphrases beside the hand-written questions.
2. Prompt injection: the attacks of ``tests/fixtures/injection_attacks.jsonl`` through the
   undefended and the defended pipeline: success rate and PII repeated.
3. Serving cost: the MiniLM encoder in float32, int8 by hand (per-channel absmax, weights
   dequantized) and int8 with ``torch.ao.quantization.quantize_dynamic``: size, queries per
   second, top-1 and top-1 changes on the test paraphrases and the hand-written questions.
   Timings depend on the machine and its load.
"""

from __future__ import annotations

import numpy as np


def faithfulness_table() -> str:
    from coursekit import assistant as a
    from coursekit.assistant import evaluate as ev

    agree = ev.faithfulness_agreement(ev.read_jsonl("faithfulness_labels.jsonl"))
    lines = [
        "| replies (hand-labelled) | accuracy | Cohen's kappa | hand: faithful | auto: faithful |",
        "|---|---|---|---|---|",
        f"| {agree['replies']:.0f} | {agree['accuracy']:.3f} | {agree['kappa']:.3f} | "
        f"{agree['hand faithful']:.2f} | {agree['auto faithful']:.2f} |",
        "",
        "| questions | answered | writer's greedy replies faithful (auto) | first sentence word for word |",
        "|---|---|---|---|",
    ]
    model, tok = a.load_reply_writer()
    for name, df in ev.question_sets().items():
        found = [r for r in a.retrieve_many(df["text"].tolist()) if not r.handed_off]
        bodies = a.write(model, tok, [r.passage for r in found], [r.question for r in found])
        faithful = np.mean(
            [a.is_faithful(b, r.passage) for b, r in zip(bodies, found, strict=True)]
        )
        exact = np.mean(
            [b.strip() == a.reply_target(r.passage) for b, r in zip(bodies, found, strict=True)]
        )
        lines.append(f"| {name} ({len(df)}) | {len(found)} | {faithful:.3f} | {exact:.3f} |")
    return "\n".join(lines)


def injection_table() -> str:
    from coursekit import assistant as a
    from coursekit.assistant import evaluate as ev

    attacks = ev.read_jsonl("injection_attacks.jsonl")
    rates = ev.injection_rates(a.ShopAssistant(), attacks)
    lines = [
        f"| pipeline ({len(attacks)} attacks) | answered | attack success | PII repeated |",
        "|---|---|---|---|",
    ]
    for name, r in rates.items():
        lines.append(
            f"| {name} | {r['answered']:.0f} | {r['success rate']:.3f} | {r['PII repeated']:.3f} |"
        )
    return "\n".join(lines)


def quantization_table() -> str:
    from coursekit import assistant as a
    from coursekit.assistant import evaluate as ev
    from coursekit.retrieval import load_encoder

    _, encoder = load_encoder()
    hand, hand_size = a.quantize_linears_by_hand(encoder)
    lib = a.quantize_dynamic_int8(encoder)
    sizes = {
        "float32": a.serialized_size(encoder),
        "int8 by hand": hand_size,
        "int8 quantize_dynamic": a.serialized_size(lib),
    }
    table = ev.quantization_table(
        {"float32": encoder, "int8 by hand": hand, "int8 quantize_dynamic": lib},
        sizes,
    )
    lines = [
        "| encoder | questions | size MB | queries/s | top-1 | top-1 changed vs float32 |",
        "|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.encoder} | {row.questions} | {row._3:.1f} | {row._4:.0f} | "
            f"{row._5:.3f} | {row._6:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    import coursekit

    coursekit.setup(seed=0)
    print("## Faithfulness\n")
    print(faithfulness_table())
    print("\n## Prompt injection\n")
    print(injection_table())
    print("\n## Serving cost (timings depend on the machine and its load)\n")
    print(quantization_table())


if __name__ == "__main__":
    main()
