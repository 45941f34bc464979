"""trl's SFTTrainer on the course's SFT: the same labels, the same order, one offline step on a tiny GPT."""

from __future__ import annotations

import pytest
import torch

from coursekit import post_training as pt
from coursekit.post_training import trl_sft

pytest.importorskip("trl")

CONVS = [
    [
        {"role": "system", "content": "You are the shop's assistant."},
        {"role": "user", "content": "Label the review's sentiment. Review: Love it."},
        {"role": "assistant", "content": "positive"},
    ],
    [
        {"role": "system", "content": "You are the shop's assistant."},
        {"role": "user", "content": "Label the review's sentiment. Review: Broke in a week."},
        {"role": "assistant", "content": "negative"},
        {"role": "user", "content": "And this one? It is a lamp."},
        {"role": "assistant", "content": "neutral"},
    ],
    [
        {"role": "system", "content": "You are the shop's assistant."},
        {"role": "user", "content": "Write product copy for: colour: red | material: oak"},
        {"role": "assistant", "content": "A red lamp with an oak base."},
    ],
]


@pytest.fixture(scope="module")
def chat_tokenizer():
    from coursekit.tokenization import load_shop_bpe

    return pt.add_chat_tokens(load_shop_bpe())


def _tiny_gpt(tokenizer, dropout=0.1):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    cfg = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=64,
        n_embd=16,
        n_layer=1,
        n_head=2,
        resid_pdrop=dropout,
        embd_pdrop=dropout,
        attn_pdrop=dropout,
    )
    return pt.chat_model(GPT2LMHeadModel(cfg), tokenizer)


def _trl_rows(trainer):
    return [(row["input_ids"], row["labels"]) for row in trainer.train_dataset]


def test_trl_labels_are_the_course_masked_labels(chat_tokenizer, tmp_path):
    trainer = trl_sft.sft_trainer(
        _tiny_gpt(chat_tokenizer), chat_tokenizer, CONVS, str(tmp_path), steps=2, batch_size=3
    )
    ordered = trl_sft.course_order(CONVS, batch_size=3, steps=2)
    ours = pt.encode(chat_tokenizer, ordered, masked=True)
    theirs = _trl_rows(trainer)
    assert len(theirs) == 6
    assert theirs == [(list(ids), list(labels)) for ids, labels in ours]
    # the masking matters: training on every token would give other labels, and the test sees it
    unmasked = pt.encode(chat_tokenizer, ordered, masked=False)
    assert theirs != [(list(ids), list(labels)) for ids, labels in unmasked]
    kept = chat_tokenizer.decode([t for t in theirs[0][1] if t != -100])
    assert kept in {
        "positive<|end|>",
        "negative<|end|>neutral<|end|>",
        "A red lamp with an oak base.<|end|>",
    }


def test_course_order_is_the_course_loops_batches():
    rows = [([i], [i]) for i in range(5)]
    batches = list(pt.sft.RandomBatches(rows, pad_id=0, batch_size=2, steps=3, seed=4))
    drawn = [int(b["input_ids"][j, 0]) for b in batches for j in range(2)]
    assert [r[0][0] for r in trl_sft.course_order(rows, batch_size=2, steps=3, seed=4)] == drawn
    with pytest.raises(ValueError, match="batch_size and steps"):
        trl_sft.course_order(rows, batch_size=0, steps=3)
    with pytest.raises(ValueError, match="non-empty"):
        trl_sft.course_order([], batch_size=2, steps=3)


def test_truncation_that_leaves_no_label_is_counted(chat_tokenizer):
    assert trl_sft.fully_truncated(chat_tokenizer, CONVS) == 0
    assert trl_sft.fully_truncated(chat_tokenizer, CONVS, max_length=8) == len(CONVS)


def test_one_offline_sftrainer_step_equals_the_course_loop(chat_tokenizer, monkeypatch):
    """Same batch, same dropout masks, same schedule: step 1's loss and the weights after it agree."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    course, course_losses = pt.train_sft(
        _tiny_gpt(chat_tokenizer), chat_tokenizer, CONVS, steps=2, batch_size=3, lr=1e-2
    )
    theirs, trl_losses = trl_sft.train_sft_trl(
        _tiny_gpt(chat_tokenizer), chat_tokenizer, CONVS, steps=2, batch_size=3, lr=1e-2
    )
    assert len(trl_losses) == len(course_losses) == 2
    assert trl_losses == pytest.approx(course_losses, abs=1e-5)
    start = _tiny_gpt(chat_tokenizer).state_dict()
    moved = 0
    for name, value in course.state_dict().items():
        other = theirs.state_dict()[name]
        assert torch.allclose(value, other, atol=1e-4), name
        moved += not torch.equal(value, start[name])
    assert moved > 0  # training changed the weights (both the same way)
