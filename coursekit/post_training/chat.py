"""One chat template for the shop assistant, and labels that train only on the assistant's words.

A conversation is a list of turns ``{"role": "system" | "user" | "assistant", "content": ...}``.
The template (:data:`CHAT_TEMPLATE`, a Jinja string set as ``tokenizer.chat_template``) writes
each turn between special tokens::

    <|system|>You are the shop's assistant.<|end|><|user|>Label …<|end|><|assistant|>positive<|end|>

Supervised fine-tuning (SFT) trains on whole conversations, but the model should learn to
*answer*, not to predict the user's question: :func:`masked_labels` gives every token of the
system and user turns (and the ``<|assistant|>`` header) the label ``-100``, so the loss counts
only the assistant's content and its closing ``<|end|>``. The template marks the assistant's
part with ``{% generation %}``, so ``transformers``' own ``return_assistant_tokens_mask`` agrees
(a test checks it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

IGNORE_INDEX = -100
ROLES = ("system", "user", "assistant")
SYSTEM_TOKEN, USER_TOKEN, ASSISTANT_TOKEN, END_TOKEN = (
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
    "<|end|>",
)
CHAT_TOKENS = (SYSTEM_TOKEN, USER_TOKEN, ASSISTANT_TOKEN, END_TOKEN)

#: the course's chat template (Jinja, as ``tokenizer.chat_template``); no whitespace between turns
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|assistant|>' }}{% generation %}{{ message['content'] + '<|end|>' }}{% endgeneration %}"
    "{%- else -%}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|assistant|>' }}{%- endif -%}"
)


def check_template(template: str) -> str:
    """Raise ``ValueError`` unless ``template`` writes an assistant turn with a generation mark."""
    if not isinstance(template, str) or not template.strip():
        raise ValueError("the chat template is empty; use coursekit.post_training.CHAT_TEMPLATE")
    if "assistant" not in template:
        raise ValueError(
            "the chat template has no assistant turn: SFT needs one to know what to learn; "
            "add a branch for message['role'] == 'assistant'"
        )
    if "{% generation %}" not in template:
        raise ValueError(
            "the chat template does not mark the assistant's text with {% generation %} … "
            "{% endgeneration %}; without it the assistant tokens cannot be found"
        )
    return template


def add_chat_tokens(tokenizer: Any, template: str = CHAT_TEMPLATE) -> Any:
    """Add the chat's special tokens and ``template`` to ``tokenizer`` (in place; returns it).

    A pad token is set (``<|end|>``) if the tokenizer has none. Resize the model's embeddings
    afterwards: ``model.resize_token_embeddings(len(tokenizer))``.
    """
    check_template(template)
    tokenizer.add_special_tokens({"additional_special_tokens": list(CHAT_TOKENS)})
    tokenizer.chat_template = template
    if tokenizer.pad_token is None:
        tokenizer.pad_token = END_TOKEN
    return tokenizer


def check_messages(messages: Sequence[Mapping[str, str]], need_answer: bool = True) -> None:
    """Raise ``ValueError`` for an empty conversation, an unknown role or a missing assistant turn."""
    if isinstance(messages, (str, bytes)) or not messages:
        raise ValueError("messages should be a non-empty list of {'role', 'content'} dicts")
    for m in messages:
        if not isinstance(m, Mapping) or "role" not in m or "content" not in m:
            raise ValueError(f"each turn needs 'role' and 'content', got {m!r}")
        if m["role"] not in ROLES:
            raise ValueError(f"unknown role {m['role']!r}; use one of {ROLES}")
    if need_answer and not any(m["role"] == "assistant" for m in messages):
        raise ValueError(
            "the conversation has no assistant turn: there is nothing to learn from; "
            "add {'role': 'assistant', 'content': ...}"
        )


def render(
    tokenizer: Any, messages: Sequence[Mapping[str, str]], add_generation_prompt: bool = False
) -> str:
    """The conversation as text, through ``tokenizer.chat_template``."""
    check_messages(messages, need_answer=not add_generation_prompt)
    return tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=add_generation_prompt
    )


def masked_labels(
    tokenizer: Any, messages: Sequence[Mapping[str, str]]
) -> tuple[list[int], list[int]]:
    """``(input_ids, labels)`` of a conversation, labels ``-100`` except on the assistant's answer.

    Each turn is tokenised on its own (the special tokens separate them, so this equals
    tokenising the whole text); the assistant's content and its ``<|end|>`` keep their ids as
    labels, everything else (system, user, the ``<|assistant|>`` header) gets ``-100``.
    """
    check_messages(messages)
    ids: list[int] = []
    labels: list[int] = []
    for m in messages:
        if m["role"] == "assistant":
            header = tokenizer.convert_tokens_to_ids(ASSISTANT_TOKEN)
            answer = tokenizer(m["content"] + END_TOKEN, add_special_tokens=False)["input_ids"]
            ids += [header, *answer]
            labels += [IGNORE_INDEX, *answer]
        else:
            turn = f"<|{m['role']}|>{m['content']}{END_TOKEN}"
            turn_ids = tokenizer(turn, add_special_tokens=False)["input_ids"]
            ids += turn_ids
            labels += [IGNORE_INDEX] * len(turn_ids)
    return ids, labels


def full_labels(
    tokenizer: Any, messages: Sequence[Mapping[str, str]]
) -> tuple[list[int], list[int]]:
    """``(input_ids, labels)`` with every token a label: training on the prompt too (the baseline)."""
    check_messages(messages)
    ids = tokenizer(render(tokenizer, messages), add_special_tokens=False)["input_ids"]
    return ids, list(ids)


__all__ = [
    "ASSISTANT_TOKEN",
    "CHAT_TEMPLATE",
    "CHAT_TOKENS",
    "END_TOKEN",
    "IGNORE_INDEX",
    "ROLES",
    "SYSTEM_TOKEN",
    "USER_TOKEN",
    "add_chat_tokens",
    "check_messages",
    "check_template",
    "full_labels",
    "masked_labels",
    "render",
]
