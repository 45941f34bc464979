"""A grounded shop assistant (notebook 11): retrieve, write, cite, check, defend.

* :mod:`~coursekit.assistant.retrieve`: :func:`retrieve` (the ONE door to FAQ search),
  :func:`find_product`, :func:`product_facts`;
* :mod:`~coursekit.assistant.writer`: the tiny reply GPT (:func:`load_reply_writer`,
  :func:`write`) and :func:`cite`;
* :mod:`~coursekit.assistant.faithfulness`: :func:`unsupported_facts`, :func:`is_faithful`;
* :mod:`~coursekit.assistant.safety`: :func:`strip_instructions`, :func:`delimit`,
  :func:`scrub`, :func:`attack_succeeded`;
* :mod:`~coursekit.assistant.pipeline`: :class:`ShopAssistant` (defended or not) and
  :class:`Reply`;
* :mod:`~coursekit.assistant.quantize`: int8 per channel by hand
  (:func:`quantize_per_channel`) and PyTorch's :func:`quantize_dynamic_int8`;
* :mod:`~coursekit.assistant.evaluate`: the numbers notebook 11 and
  ``benchmarks/assistant.py`` report.
"""

# ruff: noqa: F401
from __future__ import annotations

from coursekit.assistant.faithfulness import (
    MAX_NEW_WORDS,
    POLICY_TERMS,
    durations,
    is_faithful,
    new_words,
    numbers,
    policy_terms,
    unsupported_facts,
)
from coursekit.assistant.pipeline import Reply, ShopAssistant, product_sentence
from coursekit.assistant.quantize import (
    dequantize,
    embed_with,
    quantize_dynamic_int8,
    quantize_linears_by_hand,
    quantize_per_channel,
    queries_per_second,
    serialized_size,
    top1,
)
from coursekit.assistant.retrieve import (
    HANDOFF_MESSAGE,
    Retrieved,
    faq_entry,
    find_product,
    product_facts,
    reciprocal_rank_fusion,
    retrieve,
    retrieve_many,
)
from coursekit.assistant.safety import (
    INSTRUCTION_PATTERNS,
    attack_succeeded,
    delimit,
    gate,
    has_pii,
    is_instruction,
    scrub,
    strip_instructions,
)
from coursekit.assistant.writer import (
    WriterConfig,
    cite,
    format_prompt,
    load_reply_writer,
    reply_target,
    train_reply_writer,
    training_pairs,
    write,
)
