"""Post-training on a laptop (notebook 10): LoRA, instruction tuning with a chat template, DPO.

* :mod:`~coursekit.post_training.lora`: :class:`LoRALinear` (frozen ``W`` plus ``(α/r)·B A``),
  :func:`add_lora`, :func:`merge_lora`, :func:`lora_state_dict` (equal to ``peft``'s LoRA);
* :mod:`~coursekit.post_training.sentiment`: LoRA vs full fine-tuning of MiniLM on review
  sentiment, and a learning curve (:func:`finetune_sentiment`, :func:`sentiment_results`);
* :mod:`~coursekit.post_training.chat`: the chat template (:data:`CHAT_TEMPLATE`) and labels that
  train only on the assistant's tokens (:func:`masked_labels`);
* :mod:`~coursekit.post_training.sft`: instructions from the shop's data, supervised fine-tuning
  (:func:`train_sft`) and held-out task scores (:func:`task_scores`);
* :mod:`~coursekit.post_training.trl_sft`: the same SFT through ``trl``'s ``SFTTrainer``
  (:func:`train_sft_trl`, for ``benchmarks/post_training.py --trl``);
* :mod:`~coursekit.post_training.dpo`: the DPO loss from four log-probabilities
  (:func:`dpo_loss`, equal to ``trl``'s) and :func:`train_dpo`;
* :mod:`~coursekit.post_training.assistant`: the notebook's cached runs (:func:`load_assistants`,
  :func:`preference_pairs`, :func:`dpo_results`).
"""

from __future__ import annotations

from coursekit.post_training.assistant import (
    AssistantRecipe,
    copy_metrics,
    dpo_before_after,
    dpo_results,
    handwritten_products,
    load_assistants,
    preference_pairs,
    sample_candidates,
)
from coursekit.post_training.chat import (
    ASSISTANT_TOKEN,
    CHAT_TEMPLATE,
    CHAT_TOKENS,
    END_TOKEN,
    IGNORE_INDEX,
    add_chat_tokens,
    check_messages,
    check_template,
    full_labels,
    masked_labels,
    render,
)
from coursekit.post_training.dpo import dpo_loss, pair_batch, sequence_logps, train_dpo
from coursekit.post_training.lora import (
    LoRALinear,
    adam_state_bytes,
    add_lora,
    lora_layers,
    lora_state_dict,
    merge_lora,
    state_bytes,
)
from coursekit.post_training.sentiment import (
    LORA_LR_SWEEP,
    SentimentBudget,
    finetune_sentiment,
    scores,
    sentiment_results,
)
from coursekit.post_training.sft import (
    chat_model,
    copy_chat,
    encode,
    faq_chat,
    generate,
    instruction_data,
    sentiment_chat,
    task_scores,
    train_sft,
)
from coursekit.post_training.trl_sft import (
    course_order,
    fully_truncated,
    sft_config,
    sft_trainer,
    train_sft_trl,
)

__all__ = [
    "ASSISTANT_TOKEN",
    "CHAT_TEMPLATE",
    "CHAT_TOKENS",
    "END_TOKEN",
    "IGNORE_INDEX",
    "AssistantRecipe",
    "LORA_LR_SWEEP",
    "LoRALinear",
    "SentimentBudget",
    "adam_state_bytes",
    "add_chat_tokens",
    "add_lora",
    "chat_model",
    "check_messages",
    "check_template",
    "copy_chat",
    "copy_metrics",
    "course_order",
    "dpo_loss",
    "dpo_before_after",
    "dpo_results",
    "encode",
    "faq_chat",
    "finetune_sentiment",
    "fully_truncated",
    "full_labels",
    "generate",
    "handwritten_products",
    "instruction_data",
    "load_assistants",
    "lora_layers",
    "lora_state_dict",
    "masked_labels",
    "merge_lora",
    "pair_batch",
    "preference_pairs",
    "render",
    "sample_candidates",
    "scores",
    "sentiment_chat",
    "sentiment_results",
    "sft_config",
    "sft_trainer",
    "sequence_logps",
    "state_bytes",
    "task_scores",
    "train_dpo",
    "train_sft",
    "train_sft_trl",
]
