"""Benchmark: attention cost vs sequence length, and the tiny GPT vs count baselines.

    python benchmarks/attention_lm.py [--lengths 128 256 512 1024 2048] [--skip-gpt]

Prints two tables:

1. one causal attention call (batch 1, 4 heads, d_model 256, float32, 2 threads):
   best-of-3 milliseconds and MB of tensors created, ``coursekit.attention`` (hand
   version, materialises the n × n weights) vs ``F.scaled_dot_product_attention``
   (fused kernel); the hand version's memory must grow ~4x per doubling of n.
2. the tiny GPT of notebook 04 trained from scratch with ``coursekit.lm.SHOP_GPT_SETTINGS``
   on the training products' copy (the cache is bypassed): training seconds, and
   validation perplexity next to the uniform, unigram and bigram baselines (add-k, k chosen
   on validation). Targets: training <= 120 s on an idle 2-core CPU; GPT perplexity
   well below the bigram's.
"""

from __future__ import annotations

import argparse
import sys
import time


def attention_table(lengths: list[int]) -> None:
    from coursekit import attention as A

    print("attention, 1 causal call (batch 1, 4 heads, d_model 256, float32)")
    print(f"{'n':>6} {'hand ms':>9} {'sdpa ms':>9} {'speed-up':>9} {'hand MB':>9} {'sdpa MB':>9}")
    previous = None
    for n in lengths:
        t_hand = A.time_attention(n, impl="hand") * 1000
        t_sdpa = A.time_attention(n, impl="sdpa") * 1000
        m_hand = A.attention_memory(n, impl="hand") / 1e6
        m_sdpa = A.attention_memory(n, impl="sdpa") / 1e6
        print(
            f"{n:>6} {t_hand:>9.2f} {t_sdpa:>9.2f} {t_hand / t_sdpa:>8.1f}x "
            f"{m_hand:>9.1f} {m_sdpa:>9.2f}"
        )
        if previous is not None:
            growth = m_hand / previous
            assert growth > 3.0, f"hand memory should grow ~4x per doubling, got {growth:.1f}x"
        previous = m_hand


def gpt_table() -> None:
    from coursekit import lm
    from coursekit.tokenization import load_shop_bpe

    tok = load_shop_bpe()
    vocab = len(tok)
    train = lm.product_copy_texts("train")
    valid = lm.product_copy_texts("validation")
    train_ids = lm.encode_texts(train, tok)
    # every model is scored on the same tokens: the first block_size of each text
    valid_ids = lm.encode_texts(valid, tok, max_length=lm.SHOP_GPT_SETTINGS["block_size"])
    ks = [1.0, 0.1, 0.01, 0.001, 0.0001]
    uni = min(lm.UnigramLM(vocab, k).fit(train_ids).perplexity(valid_ids) for k in ks)
    bi = min(lm.BigramLM(vocab, k).fit(train_ids).perplexity(valid_ids) for k in ks)

    start = time.perf_counter()
    cpu = time.process_time()
    model, history = lm.train_tiny_gpt(train, tok, **lm.SHOP_GPT_SETTINGS)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    gpt = lm.perplexity(model, valid, tok)

    print()
    print(
        f"tiny GPT: {history.n_params:,} parameters, {lm.SHOP_GPT_SETTINGS['steps']} steps on "
        f"{history.n_train_tokens:,} packed training tokens: {seconds:.1f} s wall, "
        f"{cpu:.1f} s CPU (all threads)"
    )
    print(f"{'model':<10} {'validation perplexity':>22}")
    for name, value in [
        ("uniform", float(vocab)),
        ("unigram", uni),
        ("bigram", bi),
        ("tiny GPT", gpt),
    ]:
        print(f"{name:<10} {value:>22.2f}")
    print(f"tiny GPT / bigram perplexity: {gpt / bi:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[128, 256, 512, 1024, 2048])
    parser.add_argument("--skip-gpt", action="store_true", help="only the attention table")
    args = parser.parse_args(argv)

    import coursekit

    coursekit.setup(seed=0)
    attention_table(args.lengths)
    if not args.skip_gpt:
        gpt_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
