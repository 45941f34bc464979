"""coursekit.post_training: LoRA = peft, merging, the chat template and masked labels, DPO = trl."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from coursekit import post_training as pt


def _tiny_bert():
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
        num_labels=3,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    return BertForSequenceClassification(cfg).eval()


def _batch():
    gen = torch.Generator().manual_seed(1)
    return {
        "input_ids": torch.randint(0, 50, (3, 7), generator=gen),
        "attention_mask": torch.ones(3, 7, dtype=torch.long),
    }


# --------------------------------------------------------------------------- LoRA


def test_lora_starts_as_the_base_layer_and_counts_parameters():
    torch.manual_seed(0)
    base = nn.Linear(6, 4)
    layer = pt.LoRALinear(base, r=2, alpha=4)
    x = torch.randn(5, 6)
    assert torch.equal(layer(x), base(x))  # B = 0
    assert layer.scaling == 2.0
    trainable = [p for p in layer.parameters() if p.requires_grad]
    assert sum(p.numel() for p in trainable) == 2 * (6 + 4)
    assert not base.weight.requires_grad


def test_merge_equals_unmerged():
    torch.manual_seed(0)
    layer = pt.LoRALinear(nn.Linear(6, 4), r=2, alpha=8)
    with torch.no_grad():
        layer.lora_B.normal_()
    x = torch.randn(5, 6)
    merged = layer.merge()
    assert isinstance(merged, nn.Linear)
    assert torch.allclose(merged(x), layer(x), atol=1e-6)
    model = pt.add_lora(_tiny_bert(), ("query", "value"), r=4, alpha=8)
    for m in pt.lora_layers(model).values():
        with torch.no_grad():
            m.lora_B.normal_(std=0.1)
    before = model(**_batch()).logits
    pt.merge_lora(model)
    assert not pt.lora_layers(model)
    assert torch.allclose(model(**_batch()).logits, before, atol=1e-6)


def test_sentiment_recipe_trains_adapters_head_and_pooler_only():
    budget = pt.SentimentBudget()
    assert budget.lr_lora in pt.LORA_LR_SWEEP and budget.lr_lora > 10 * budget.lr_full
    model = pt.add_lora(_tiny_bert(), budget.targets, r=4, alpha=8, train_also=budget.train_also)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert {"bert.pooler.dense.weight", "classifier.weight"} <= trainable
    assert not any("word_embeddings" in n or ".key." in n for n in trainable)
    assert all("lora_" in n or n.startswith(("bert.pooler.", "classifier.")) for n in trainable)
    # the same count as peft with the pooler and the head in modules_to_save
    peft = pytest.importorskip("peft")
    theirs = peft.get_peft_model(
        _tiny_bert(),
        peft.LoraConfig(
            r=4,
            lora_alpha=8,
            target_modules=list(budget.targets),
            modules_to_save=["classifier", "pooler"],
        ),
    )
    n_ours = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert n_ours == sum(p.numel() for p in theirs.parameters() if p.requires_grad)


def test_lora_equals_peft_outputs_and_gradients():
    peft = pytest.importorskip("peft")
    ours = pt.add_lora(_tiny_bert(), ("query", "value"), r=4, alpha=8, train_also=("classifier",))
    theirs = peft.get_peft_model(
        _tiny_bert(),
        peft.LoraConfig(
            r=4,
            lora_alpha=8,
            target_modules=["query", "value"],
            lora_dropout=0.0,
            modules_to_save=["classifier"],
        ),
    )
    # the same A (copied from peft) and a non-zero B in both, so the update matters
    gen = torch.Generator().manual_seed(2)
    for name, layer in pt.lora_layers(ours).items():
        peft_layer = theirs.base_model.model.get_submodule(name)
        b = torch.randn(layer.lora_B.shape, generator=gen) * 0.1
        with torch.no_grad():
            layer.lora_A.copy_(peft_layer.lora_A["default"].weight)
            layer.lora_B.copy_(b)
            peft_layer.lora_B["default"].weight.copy_(b)
    with torch.no_grad():
        theirs.base_model.model.classifier.modules_to_save["default"].load_state_dict(
            ours.classifier.state_dict()
        )
    n_ours = sum(p.numel() for p in ours.parameters() if p.requires_grad)
    n_theirs = sum(p.numel() for p in theirs.parameters() if p.requires_grad)
    assert n_ours == n_theirs
    labels = torch.tensor([0, 1, 2])
    out_ours = ours(**_batch(), labels=labels)
    out_theirs = theirs(**_batch(), labels=labels)
    assert torch.allclose(out_ours.logits, out_theirs.logits, atol=1e-6)
    out_ours.loss.backward()
    out_theirs.loss.backward()
    for name, layer in pt.lora_layers(ours).items():
        peft_layer = theirs.base_model.model.get_submodule(name)
        assert torch.allclose(
            layer.lora_A.grad, peft_layer.lora_A["default"].weight.grad, atol=1e-6
        )
        assert torch.allclose(
            layer.lora_B.grad, peft_layer.lora_B["default"].weight.grad, atol=1e-6
        )


@pytest.mark.parametrize("r", [0, -1, 2.5])
def test_bad_rank_is_refused(r):
    with pytest.raises(ValueError, match="r must be a positive int"):
        pt.LoRALinear(nn.Linear(3, 3), r=r)
    with pytest.raises(ValueError, match="r must be a positive int"):
        pt.add_lora(_tiny_bert(), ("query",), r=r)


def test_absent_target_is_refused_with_the_names_there_are():
    with pytest.raises(ValueError, match="no nn.Linear named.*'query'"):
        pt.add_lora(_tiny_bert(), ("q_proj",))
    with pytest.raises(TypeError, match="wraps an nn.Linear"):
        pt.LoRALinear(nn.Conv1d(3, 3, 1))
    with pytest.raises(ValueError, match="no LoRALinear"):
        pt.merge_lora(_tiny_bert())


def test_adapter_is_small_and_optimiser_state_counts_trainable_only():
    model = pt.add_lora(_tiny_bert(), ("query", "value"), r=2, alpha=4)
    adapter = pt.lora_state_dict(model)
    assert set(adapter) == {n for n, p in model.named_parameters() if p.requires_grad}
    assert pt.state_bytes(adapter) == 4 * 2 * 2 * 2 * (16 + 16)  # fp32, 2 layers, q+v, r·(in+out)
    assert pt.adam_state_bytes(model) == 2 * pt.state_bytes(adapter)


# --------------------------------------------------------------------------- chat template


@pytest.fixture(scope="module")
def chat_tokenizer():
    from coursekit.tokenization import load_shop_bpe

    return pt.add_chat_tokens(load_shop_bpe())


CONV = [
    {"role": "system", "content": "You are the shop's assistant."},
    {"role": "user", "content": "Label the review's sentiment. Review: Love it."},
    {"role": "assistant", "content": "positive"},
]


def test_template_renders_turns_with_special_tokens(chat_tokenizer):
    text = pt.render(chat_tokenizer, CONV)
    assert text == (
        "<|system|>You are the shop's assistant.<|end|><|user|>Label the review's sentiment. "
        "Review: Love it.<|end|><|assistant|>positive<|end|>"
    )
    prompt = pt.render(chat_tokenizer, CONV[:2], add_generation_prompt=True)
    assert prompt.endswith("<|end|><|assistant|>")
    for tok in pt.CHAT_TOKENS:
        assert len(chat_tokenizer(tok, add_special_tokens=False)["input_ids"]) == 1


def test_masked_labels_are_minus_100_exactly_on_the_prompt(chat_tokenizer):
    conv = [
        *CONV,
        {"role": "user", "content": "And this one? Broke."},
        {"role": "assistant", "content": "negative"},
    ]
    ids, labels = pt.masked_labels(chat_tokenizer, conv)
    full = chat_tokenizer(pt.render(chat_tokenizer, conv), add_special_tokens=False)["input_ids"]
    assert ids == full
    enc = chat_tokenizer.apply_chat_template(
        conv, tokenize=True, return_dict=True, return_assistant_tokens_mask=True
    )
    mask = enc["assistant_masks"]
    assert enc["input_ids"] == ids
    assert [lab != -100 for lab in labels] == [bool(m) for m in mask]
    assert [t for t, lab in zip(ids, labels, strict=True) if lab != -100] == [
        t for t in labels if t != -100
    ]
    answer = chat_tokenizer.decode([t for t in labels if t != -100])
    assert answer == "positive<|end|>negative<|end|>"
    _, everything = pt.full_labels(chat_tokenizer, conv)
    assert everything == ids


def test_bad_conversations_and_templates_are_refused(chat_tokenizer):
    with pytest.raises(ValueError, match="no assistant turn"):
        pt.masked_labels(chat_tokenizer, CONV[:2])
    with pytest.raises(ValueError, match="unknown role"):
        pt.masked_labels(chat_tokenizer, [{"role": "bot", "content": "hi"}])
    with pytest.raises(ValueError, match="non-empty list"):
        pt.masked_labels(chat_tokenizer, [])
    no_assistant = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}"
    with pytest.raises(ValueError, match="no assistant turn"):
        pt.check_template(no_assistant)
    with pytest.raises(ValueError, match="generation"):
        pt.check_template(no_assistant + "{% if m['role'] == 'assistant' %}{% endif %}")


# --------------------------------------------------------------------------- DPO


def _logps(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [-(torch.rand(6, generator=gen) * 20 + 1) for _ in range(4)]


def test_dpo_loss_by_formula_and_at_the_start():
    pc, pr, rc, rr = _logps()
    beta = 0.2
    want = -torch.log(torch.sigmoid(beta * ((pc - rc) - (pr - rr)))).mean()
    assert torch.allclose(pt.dpo_loss(pc, pr, rc, rr, beta), want, atol=1e-6)
    assert abs(float(pt.dpo_loss(pc, pr, pc, pr)) - float(torch.log(torch.tensor(2.0)))) < 1e-6
    with pytest.raises(ValueError, match="beta"):
        pt.dpo_loss(pc, pr, rc, rr, beta=0)
    with pytest.raises(ValueError, match="one shape"):
        pt.dpo_loss(pc, pr[:3], rc, rr)


def test_dpo_loss_equals_trl():
    trl = pytest.importorskip("trl")
    from coursekit.post_training.dpo import trl_dpo_loss

    for seed, beta in [(0, 0.1), (1, 0.5), (2, 1.0)]:
        pc, pr, rc, rr = _logps(seed)
        ours = pt.dpo_loss(pc, pr, rc, rr, beta)
        theirs = trl_dpo_loss(pc, pr, rc, rr, beta)
        assert torch.allclose(ours, theirs, atol=1e-6), (seed, beta, float(ours), float(theirs))
    assert trl.__version__


def test_sequence_logps_counts_only_labelled_tokens():
    from coursekit.lm import tiny_gpt, tiny_gpt_config

    model = tiny_gpt(
        tiny_gpt_config(20, n_positions=16, n_embd=8, n_layer=1, n_head=2, dropout=0.0)
    ).eval()
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    labels = torch.tensor([[-100, -100, -100, 4, 5]])
    got = pt.sequence_logps(model, ids, torch.ones_like(ids), labels)
    logp = torch.log_softmax(model(input_ids=ids).logits, -1)[0]
    assert torch.allclose(got, (logp[2, 4] + logp[3, 5]).unsqueeze(0), atol=1e-6)


def test_train_dpo_raises_the_margin():
    from coursekit.lm import tiny_gpt, tiny_gpt_config

    model = tiny_gpt(
        tiny_gpt_config(20, n_positions=16, n_embd=16, n_layer=1, n_head=2, dropout=0.0)
    )
    pairs = [
        (([1, 2, 3, 4], [-100, -100, 3, 4]), ([1, 2, 5, 6], [-100, -100, 5, 6])) for _ in range(8)
    ]
    ref = pt.pair_batch([p[0] for p in pairs[:1]], [p[1] for p in pairs[:1]], 0)
    with torch.no_grad():
        before = pt.sequence_logps(model, ref["input_ids"], ref["attention_mask"], ref["labels"])
    model, losses = pt.train_dpo(model, pairs, 0, beta=0.5, epochs=3, batch_size=4, lr=1e-2)
    with torch.no_grad():
        after = pt.sequence_logps(model, ref["input_ids"], ref["attention_mask"], ref["labels"])
    assert abs(losses[0] - 0.6931) < 1e-3
    assert losses[-1] < losses[0]
    assert (after[0] - after[1]) > (before[0] - before[1])
    with pytest.raises(ValueError, match="no preference pairs"):
        pt.train_dpo(model, [], 0)


def test_preference_pairs_choose_grounded_and_reject_hallucinated():
    lexicon = {"colour": ["black", "red"], "brand": ["Acme", "Zed"]}
    attrs = {"brand": "Acme", "colour": "black", "name": "Acme Mug"}
    cands = [["The Acme Mug in red.", "The Acme Mug in black.", "A mug."]]
    pairs = pt.preference_pairs(cands, [attrs], lexicon)
    assert pairs == [
        {
            "attributes": attrs,
            "chosen": "The Acme Mug in black.",
            "rejected": "The Acme Mug in red.",
        }
    ]
    assert pt.preference_pairs([["A mug."]], [attrs], lexicon) == []
