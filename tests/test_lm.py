"""coursekit.lm: the shifted loss equals Hugging Face's, perplexity is calibrated, training repeats."""

from __future__ import annotations

import math

import pytest
import torch

from coursekit import lm
from coursekit.tokenization import train_bpe

TEXTS = [
    "Soft cotton t-shirt in navy blue, size M.",
    "Waterproof hiking boots with a rubber sole.",
    "Classic leather wallet with six card slots.",
    "Lightweight running shoes, breathable mesh upper.",
    "Wool scarf, warm and soft, in charcoal grey.",
    "Stainless steel water bottle keeps drinks cold for 24 hours.",
] * 3


@pytest.fixture(scope="module")
def tok():
    return train_bpe(TEXTS, vocab_size=300)


def _model(tok, seed=0, **kw):
    kw.setdefault("n_positions", 64)
    kw.setdefault("n_embd", 32)
    kw.setdefault("n_layer", 2)
    kw.setdefault("n_head", 2)
    return lm.tiny_gpt(lm.config_for(tok, **kw), seed=seed).eval()


def test_config_factory(tok):
    cfg = lm.tiny_gpt_config(500, bos_token_id=3, eos_token_id=4, pad_token_id=5, dropout=0.05)
    assert (cfg.vocab_size, cfg.n_positions, cfg.n_embd, cfg.n_layer, cfg.n_head) == (
        500,
        128,
        128,
        4,
        4,
    )
    assert (cfg.bos_token_id, cfg.eos_token_id, cfg.pad_token_id) == (3, 4, 5)
    assert cfg.tie_word_embeddings and cfg.resid_pdrop == cfg.attn_pdrop == 0.05
    assert lm.tiny_gpt_config(500, n_layer=2, n_positions=32).n_layer == 2
    m = _model(tok)
    assert m.lm_head.weight.data_ptr() == m.transformer.wte.weight.data_ptr()  # tied
    assert m.config.eos_token_id == tok.eos_token_id == 0
    with pytest.raises(ValueError, match="divisible"):
        lm.tiny_gpt_config(500, n_embd=30, n_head=4)


def test_collator_pads_and_masks(tok):
    collate = lm.causal_lm_collator(tok, max_length=12)
    batch = collate(["Wool scarf.", "Classic leather wallet with six card slots and more text."])
    ids, mask, labels = batch["input_ids"], batch["attention_mask"], batch["labels"]
    assert ids.shape == mask.shape == labels.shape == (2, 12)
    eos = tok.eos_token_id
    short = lm.encode_texts(["Wool scarf."], tok)[0]
    assert ids[0, : len(short)].tolist() == short and short[0] == short[-1] == eos
    assert mask[0].tolist() == [1] * len(short) + [0] * (12 - len(short))
    # padding uses the eos id too, but only padding is ignored: the real final eos is a target
    assert labels[0, len(short) - 1] == eos
    assert (labels[0, len(short) :] == -100).all() and (ids[0, len(short) :] == eos).all()
    assert mask[1].all() and torch.equal(labels[1], ids[1])
    assert collate([[5, 6, 7], {"input_ids": [8]}])["attention_mask"].tolist() == [
        [1, 1, 1],
        [1, 0, 0],
    ]


def test_shifted_loss_equals_hf_internal_loss(tok):
    model = _model(tok)
    batch = lm.causal_lm_collator(tok, 40)(TEXTS[:4])
    with torch.no_grad():
        out = model(**batch)
    mine = lm.shifted_cross_entropy(out.logits, batch["input_ids"], batch["attention_mask"])
    assert batch["attention_mask"].min() == 0  # the batch really has padding
    assert abs(mine.item() - out.loss.item()) <= 1e-6
    # passing labels (with -100 already in them) gives the same number
    assert (
        abs(lm.shifted_cross_entropy(out.logits, batch["labels"]).item() - out.loss.item()) <= 1e-6
    )
    # the unshifted loss (the articles' bug, once reshaped) is a different number
    unshifted = torch.nn.functional.cross_entropy(
        out.logits.reshape(-1, out.logits.shape[-1]), batch["labels"].reshape(-1)
    )
    assert abs(unshifted.item() - out.loss.item()) > 1e-3


def test_shifted_loss_bad_inputs():
    logits = torch.zeros(2, 5, 10)
    with pytest.raises(
        ValueError, match=r"input_ids shape \(2, 4\) does not match logits \(2, 5, 10\)"
    ):
        lm.shifted_cross_entropy(logits, torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"\(batch, seq, vocab\)"):
        lm.shifted_cross_entropy(torch.zeros(10, 10), torch.zeros(10, dtype=torch.long))
    with pytest.raises(ValueError, match=r"attention_mask shape \(2, 3\)"):
        lm.shifted_cross_entropy(logits, torch.zeros(2, 5, dtype=torch.long), torch.ones(2, 3))
    with pytest.raises(TypeError, match="torch.Tensor"):
        lm.shifted_cross_entropy(logits, [[1, 2]])


def test_uniform_model_perplexity_is_vocab_size(tok):
    model = _model(tok)
    with torch.no_grad():
        model.transformer.wte.weight.zero_()  # tied: every logit is 0, so p = 1/V everywhere
    ppl = lm.perplexity(model, TEXTS[:5], tok)
    assert math.isclose(ppl, len(tok), rel_tol=1e-5)
    # through batches from a DataLoader as well
    loader = torch.utils.data.DataLoader(
        TEXTS[:5], batch_size=2, collate_fn=lm.causal_lm_collator(tok, 64)
    )
    assert math.isclose(lm.perplexity(model, loader), len(tok), rel_tol=1e-5)


def test_perplexity_token_weighted_and_matches_hf(tok):
    model = _model(tok, seed=3)
    texts = TEXTS[:6]
    batch = lm.causal_lm_collator(tok, 64)(texts)
    with torch.no_grad():
        loss = model(**batch).loss.item()
    # one batch with all texts: HF's mean over tokens is the same mean
    assert math.isclose(lm.mean_nll(model, texts, tok, batch_size=64), loss, rel_tol=1e-5)
    # batch size must not change a token-weighted mean
    assert math.isclose(lm.mean_nll(model, texts, tok, batch_size=2), loss, rel_tol=1e-5)
    with pytest.raises(ValueError, match="tokenizer"):
        lm.perplexity(model, texts)
    with pytest.raises(ValueError, match="nothing to evaluate"):
        lm.perplexity(model, [], tok)


def test_count_baselines_by_hand():
    seqs = [[0, 1, 2, 0], [0, 1, 1, 0]]
    uni = lm.UnigramLM(vocab_size=3, k=1.0).fit(seqs)
    # predicted tokens: 1,2,0,1,1,0 -> counts {0:2, 1:3, 2:1}, N=6, denominators 6+3
    assert math.isclose(uni.log_prob(None, 1), math.log(4 / 9))
    bi = lm.BigramLM(vocab_size=3, k=0.5).fit(seqs)
    # pairs from 1: (1,2), (1,1), (1,0) -> count(1)=3
    assert math.isclose(bi.log_prob(1, 2), math.log(1.5 / (3 + 1.5)))
    nll = -(bi.log_prob(0, 1) + bi.log_prob(1, 2) + bi.log_prob(2, 0)) / 3
    assert math.isclose(bi.perplexity([[0, 1, 2, 0]]), math.exp(nll))
    # huge k flattens everything to uniform: perplexity -> V
    assert math.isclose(lm.BigramLM(3, k=1e9).fit(seqs).perplexity(seqs), 3, rel_tol=1e-6)
    assert math.isclose(lm.UnigramLM(3, k=1e9).fit(seqs).perplexity(seqs), 3, rel_tol=1e-6)
    with pytest.raises(RuntimeError, match="not fitted"):
        lm.BigramLM(3).perplexity(seqs)
    with pytest.raises(ValueError, match="k > 0"):
        lm.BigramLM(3, k=0)
    with pytest.raises(TypeError, match="encode"):
        lm.UnigramLM(3).fit(["some text"])


def test_bigram_beats_unigram_on_real_text(tok):
    seqs = lm.encode_texts(TEXTS, tok)
    uni = lm.UnigramLM(len(tok), k=0.1).fit(seqs).perplexity(seqs)
    bi = lm.BigramLM(len(tok), k=0.1).fit(seqs).perplexity(seqs)
    assert bi < uni < len(tok)


def test_pack_texts(tok):
    blocks = lm.pack_texts(TEXTS, tok, block_size=16)
    stream = [tok.eos_token_id]
    for ids in lm.encode_texts(TEXTS, tok):
        stream += ids[1:]
    assert blocks.shape == (len(stream) // 16, 16)
    assert blocks.flatten().tolist() == stream[: blocks.numel()]
    with pytest.raises(ValueError, match="fewer than one block"):
        lm.pack_texts(["hi"], tok, block_size=64)


def test_training_is_deterministic_and_learns(tok):
    kw = dict(
        steps=12, batch_size=4, block_size=32, n_embd=32, n_layer=1, n_head=2, lr=3e-3, warmup=2
    )
    m1, h1 = lm.train_tiny_gpt(TEXTS, tok, eval_texts=TEXTS[:2], eval_every=6, **kw)
    m2, h2 = lm.train_tiny_gpt(TEXTS, tok, eval_texts=TEXTS[:2], eval_every=6, **kw)
    assert h1.train_loss == h2.train_loss and h1.eval_loss == h2.eval_loss
    assert all(torch.equal(a, b) for a, b in zip(m1.parameters(), m2.parameters(), strict=True))
    assert h1.eval_steps == [0, 6, 12] and len(h1.train_loss) == 12
    assert h1.eval_loss[-1] < h1.eval_loss[0] - 0.5
    assert not m1.training
    frame = h1.frame()
    assert set(frame["split"]) == {"train", "validation"}
    assert lm.TrainHistory.from_json(h1.to_json()) == h1


def test_memorising_one_sentence(tok):
    sentence = "Waterproof hiking boots with a rubber sole."
    model, hist = lm.train_tiny_gpt(
        [sentence] * 8,
        tok,
        steps=60,
        batch_size=2,
        block_size=16,
        n_embd=32,
        n_layer=1,
        n_head=2,
        dropout=0.0,
        lr=1e-2,
        warmup=5,
    )
    assert lm.perplexity(model, [sentence], tok) < 1.5
    assert lm.sample_text(model, tok, "Waterproof", max_new_tokens=12).startswith(" hiking boots")


def test_tiny_gpt_trains_through_fit_and_decays_matrices_only(tok, monkeypatch):
    """The one loop (train.fit, cosine schedule) and its rule: no decay on biases and norms."""
    from coursekit import train

    calls = []
    real_fit = train.fit
    monkeypatch.setattr(train, "fit", lambda *a, **k: calls.append(k) or real_fit(*a, **k))
    kw = dict(steps=8, batch_size=4, block_size=32, n_embd=32, n_layer=1, n_head=2, warmup=0)
    fresh = lm.tiny_gpt(lm.config_for(tok, n_positions=32, n_embd=32, n_layer=1, n_head=2))
    # a tiny rate and a huge decay: decoupled decay dominates wherever it is applied
    model, _ = lm.train_tiny_gpt(TEXTS, tok, lr=1e-4, weight_decay=1000.0, **kw)
    assert len(calls) == 1 and calls[0]["schedule"] == "cosine"
    state, before = model.state_dict(), fresh.state_dict()
    ln = state["transformer.h.0.ln_1.weight"]
    assert torch.allclose(ln, torch.ones_like(ln), atol=0.05)
    w = "transformer.h.0.attn.c_attn.weight"
    assert state[w].norm() < 0.7 * before[w].norm()
    assert all(t.device.type == "cpu" for t in state.values()) and not model.training


def test_load_shop_gpt_builds_once(tok, tmp_path, monkeypatch):
    import coursekit.tokenization as tokenization
    from coursekit.lm import shop  # where load_shop_gpt looks these names up

    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path))
    monkeypatch.setattr(tokenization, "load_shop_bpe", lambda *a, **k: tok)
    monkeypatch.setattr(shop, "product_copy_texts", lambda split="train": TEXTS)
    monkeypatch.setattr(
        shop,
        "SHOP_GPT_SETTINGS",
        dict(steps=3, batch_size=2, block_size=32, eval_every=3, n_embd=32, n_layer=1, n_head=2),
    )
    calls = []
    real_train = lm.train_tiny_gpt
    monkeypatch.setattr(
        shop, "train_tiny_gpt", lambda *a, **k: calls.append(1) or real_train(*a, **k)
    )
    first = lm.load_shop_gpt()
    second = lm.load_shop_gpt()
    assert calls == [1]
    assert not second.training
    assert all(
        torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters(), strict=True)
    )
    assert list(tmp_path.glob("shop-gpt-*/model.safetensors"))
    assert lm.load_shop_gpt_history().eval_steps == [0, 3]
