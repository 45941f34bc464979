"""Every build-it exercise, as the learner version ships it, is "not attempted yet", hint-free.

The cells are the solution notebook's own, passed through ``coursekit.learner.strip_solutions``
(what ``coursekit learner`` writes), so a scaffold that accidentally solves part of the
exercise, or a blank that crashes instead of saying "not attempted", fails here. Where an
exercise builds on an earlier one, the stage "earlier one solved, this one blank" is tried too.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from itertools import pairwise

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from nltk.corpus import stopwords
from torch import nn
from transformers.modeling_outputs import CausalLMOutput

import coursekit.data  # noqa: F401  (registers the course's NLTK stopwords)
from coursekit import learner, lm, paths, train
from coursekit import retrieval as rt
from coursekit import text as tx
from coursekit import tokenization as tk
from coursekit.attention import MultiHeadAttention
from coursekit.checks import (
    NOT_ATTEMPTED,
    nb01,
    nb02,
    nb03,
    nb04,
    nb05,
    nb06,
    nb07,
    nb08,
    nb09,
    nb12,
)
from coursekit.schema import LABELS


def _cells(notebook: str, *defines: str) -> list[str]:
    path = next(paths.notebooks_dir().glob(f"{notebook}_*.ipynb"))
    sources = [
        "".join(c["source"])
        for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
        if c["cell_type"] == "code"
    ]
    return [next(s for s in sources if marker in s) for marker in defines]


def _run(sources: list[str], space: dict, blank: tuple[bool, ...]) -> dict:
    for source, is_blank in zip(sources, blank, strict=True):
        exec(learner.strip_solutions(source) if is_blank else source, space)
    return space


def _encoder_space() -> dict:
    tokenizer, encoder = rt.load_encoder()
    return {"np": np, "torch": torch, "tokenizer": tokenizer, "encoder": encoder}


GPT = {"torch": torch, "nn": nn, "F": F, "lm": lm, "MultiHeadAttention": MultiHeadAttention}
GPT["CausalLMOutput"] = CausalLMOutput

#: (label, notebook, cells, namespace factory, which cells are blank, check, names it grades)
STAGES = [
    ("01.3", "01", ("def remove_stopwords(", "def scrub(", "def clean_review("),
     lambda: {"re": re, "tx": tx, "stopwords": stopwords}, (1, 1, 1), nb01.review_cleaner,
     ("clean_review",)),
    ("01.3 after 01.1-01.2", "01", ("def remove_stopwords(", "def scrub(", "def clean_review("),
     lambda: {"re": re, "tx": tx, "stopwords": stopwords}, (0, 0, 1), nb01.review_cleaner,
     ("clean_review",)),
    ("02.1", "02", ("BYTE_OF = {", "class ByteBPE"),
     lambda: {"Counter": Counter, "pairwise": pairwise, "tk": tk}, (0, 1), nb02.byte_bpe,
     ("ByteBPE",)),
    ("02.4", "02", ("def skipgram_pairs(",), dict, (1,), nb02.skipgram_pairs,
     ("skipgram_pairs",)),
    ("02.5", "02", ("def sgns_loss(",), dict, (1,), nb02.sgns_loss, ("sgns_loss",)),
    ("03.5", "03", ("class MultiHeadSelfAttention",),
     lambda: {"torch": torch, "nn": nn, "math": math, "F": F}, (1,), nb03.multi_head_attention,
     ("MultiHeadSelfAttention",)),
    ("04.5", "04", ("class Block(nn.Module)",), lambda: dict(GPT), (1,), nb04.gpt_block,
     ("Block",)),
    ("04.6 after 04.5", "04", ("class Block(nn.Module)", "class TinyGPT(nn.Module)"),
     lambda: dict(GPT), (0, 1), nb04.tiny_gpt, ("TinyGPT",)),
    ("05.3", "05", ("def train_steps(",), lambda: {"torch": torch, "train": train}, (1,),
     nb05.training_step, ("train_steps",)),
    ("06.3", "06", ("def bootstrap_diff_ci(",), lambda: {"np": np, "LABELS": LABELS}, (1,),
     nb06.bootstrap_diff, ("bootstrap_diff_ci",)),
    ("06.6", "06", ("def alert_months(",), lambda: {"np": np}, (1,), nb06.alerting_rule,
     ("alert_months",)),
    ("06.7", "06", ("def group_gap_ci(",), lambda: {"np": np}, (1,), nb06.group_gap,
     ("group_gap_ci",)),
    ("07.1", "07", ("def filter_logits", "def generate_cached"), lambda: {"torch": torch},
     (1, 1), nb07.sampler, ("filter_logits", "generate_cached")),
    ("08.1", "08", ("def encode(",), _encoder_space, (1,), nb08.sentence_encoder, ("encode",)),
    ("08.3", "08", ("def fit_rule(",), lambda: {"np": np, "rt": rt}, (1,), nb08.abstain_rule,
     ("pick_threshold", "fit_rule")),
    ("09.4 after 09.3", "09", ("def thompson_step(", "def thompson_run("), lambda: {"np": np},
     (0, 1), nb09.thompson_bandit, ("thompson_run", "cumulative_regret")),
    ("12.3", "12", ("def als_user_step(",), lambda: {"np": np}, (1,), nb12.als_user_step,
     ("als_user_step",)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("label", "notebook", "defines", "space", "blank", "check", "names"),
    STAGES,
    ids=[s[0] for s in STAGES],
)
def test_the_learner_cell_is_not_attempted_and_shows_no_hint(
    label, notebook, defines, space, blank, check, names
):
    ns = _run(_cells(notebook, *defines), space(), tuple(bool(b) for b in blank))
    verdict = check.evaluate(*(ns[n] for n in names))
    assert verdict.status == NOT_ATTEMPTED, (label, verdict.line())
    assert verdict.line().endswith("not attempted yet.") and "Hint" not in verdict.line()
