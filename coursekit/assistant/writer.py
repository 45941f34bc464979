"""The reply writer: a tiny GPT-2 that restates the retrieved FAQ passage as the shop's reply.

The prompt holds the passage and the question between special tokens; the model writes
the reply after ``<|reply|>`` (loss on the reply tokens only, as the copywriter of
notebook 07). It is trained from scratch on the course's shop BPE through
:func:`coursekit.train.fit` on the FAQ questions and the *validation* paraphrases (the
test paraphrases and the hand-written questions stay unseen), in well under a minute, and
cached (:func:`load_reply_writer`). The source is named by code, not by the model
(:func:`cite`): a citation must never be hallucinated.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PASSAGE_TOKEN, QUESTION_TOKEN, REPLY_TOKEN = "<|passage|>", "<|question|>", "<|reply|>"
#: bump when the training recipe changes
WRITER_RECIPE = "1"


@dataclass(frozen=True)
class WriterConfig:
    """Size and training of the reply writer (about 20-40 s on 2 CPU cores)."""

    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_positions: int = 192
    epochs: int = 14
    batch_size: int = 16
    lr: float = 5e-3
    seed: int = 0
    #: one thread: for a model this small a second one costs more in waiting than it saves
    threads: int = 1


def format_prompt(passage: str, question: str) -> str:
    """``<|passage|> passage <|question|> question <|reply|>``: what the writer reads."""
    for name, value in (("passage", passage), ("question", question)):
        if not isinstance(value, str):
            raise TypeError(f"{name} should be a str, got {type(value).__name__}")
    return f"{PASSAGE_TOKEN} {passage.strip()} {QUESTION_TOKEN} {question.strip()} {REPLY_TOKEN}"


def cite(faq_id: str, topic: str) -> str:
    """The source line appended to every reply: ``(from FAQ F012: Returns)``."""
    return f"(from FAQ {faq_id}: {topic.strip().capitalize()})"


def reply_target(passage: str) -> str:
    """What the writer learns to write for a passage: its first sentence (the answer itself;
    the rest of an FAQ entry is detail a chat reply can leave to the linked entry)."""
    from coursekit.assistant.safety import sentences

    first = sentences(passage)
    return first[0] if first else passage.strip()


def training_pairs() -> list[tuple[str, str]]:
    """(prompt, reply) pairs: every FAQ entry with its own question and its validation
    paraphrases; the reply is :func:`reply_target` (never a test question)."""
    from coursekit.data import load_faq, load_faq_paraphrases

    faq = load_faq()
    para = load_faq_paraphrases("validation")
    asked: dict[str, list[str]] = {}
    for fid, text in zip(para["faq_id"], para["text"], strict=True):
        asked.setdefault(str(fid), []).append(str(text))
    pairs = []
    for fid, question, answer in zip(faq["faq_id"], faq["question"], faq["answer"], strict=True):
        for q in [str(question), *asked.get(str(fid), [])]:
            pairs.append((format_prompt(str(answer), q), " " + reply_target(str(answer))))
    return pairs


def _tokenizer() -> Any:
    from coursekit.tokenization import load_shop_bpe

    tok = load_shop_bpe()
    tok.add_special_tokens(
        {"additional_special_tokens": [PASSAGE_TOKEN, QUESTION_TOKEN, REPLY_TOKEN]}
    )
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def train_reply_writer(config: WriterConfig | None = None) -> tuple[Any, Any]:
    """Train the (model, tokenizer) pair from scratch through :func:`coursekit.train.fit`."""
    import types

    import torch

    from coursekit import env, train
    from coursekit.copywriter.prompts import _batches, _loader
    from coursekit.copywriter.training import copy_loss
    from coursekit.lm import config_for, tiny_gpt

    config = config or WriterConfig()
    tok = _tokenizer()
    cfg = config_for(
        tok,
        n_positions=config.n_positions,
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
        dropout=0.0,
        activation_function="gelu_pytorch_tanh",
    )
    model = tiny_gpt(cfg, seed=config.seed)
    batches = _batches(tok, training_pairs(), config.n_positions)
    previous_threads = torch.get_num_threads()
    env.set_threads(config.threads)
    env.seed_everything(config.seed)

    class Objective(torch.nn.Module):
        def __init__(self, lm: Any):
            super().__init__()
            self.lm = lm

        def forward(self, input_ids: Any, attention_mask: Any, labels: Any) -> Any:
            return types.SimpleNamespace(loss=copy_loss(self.lm, input_ids, attention_mask, labels))

    try:
        train.fit(
            Objective(model),
            _loader(batches, config.batch_size, shuffle=True, seed=config.seed),
            epochs=config.epochs,
            lr=config.lr,
            warmup_ratio=0.05,
            precision="fp32",
            progress=False,
            seed=config.seed,
            device="cpu",
            schedule="cosine",
        )
    finally:
        torch.set_num_threads(previous_threads)
    return model.to("cpu").eval(), tok


def load_reply_writer(rebuild: bool = False) -> tuple[Any, Any]:
    """The shop's reply writer (model, tokenizer), trained once into the cache, then loaded."""
    from transformers import GPT2LMHeadModel, PreTrainedTokenizerFast

    from coursekit.cache import get_or_build, recipe_key
    from coursekit.tokenization import shop_bpe_version

    config = WriterConfig()
    version = recipe_key(
        {"reply_writer": WRITER_RECIPE, "config": asdict(config)},
        data=["\x00".join(p + c for p, c in training_pairs())],
        upstream=[shop_bpe_version()],
    )

    def build(folder: Path) -> None:
        model, tok = train_reply_writer(config)
        model.save_pretrained(str(folder), safe_serialization=True)
        tok.save_pretrained(str(folder))

    folder = get_or_build("reply-writer", build, version=version, rebuild=rebuild)
    model = GPT2LMHeadModel.from_pretrained(str(folder)).eval()
    return model, PreTrainedTokenizerFast.from_pretrained(str(folder))


def write(
    model: Any,
    tokenizer: Any,
    passages: list[str],
    questions: list[str],
    max_new_tokens: int = 72,
    temperature: float = 0.0,
    seed: int = 0,
) -> list[str]:
    """The writer's reply bodies for a batch (greedy at ``temperature=0``, else sampled)."""
    import torch

    if len(passages) != len(questions):
        raise ValueError(f"{len(passages)} passages but {len(questions)} questions; give one each")
    if not passages:
        return []
    prompts = [format_prompt(p, q) for p, q in zip(passages, questions, strict=True)]
    tokenizer.padding_side = "left"
    enc = tokenizer(prompts, return_tensors="pt", padding=True)
    torch.manual_seed(seed)
    with torch.no_grad():
        out = model.generate(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=temperature > 0,
            temperature=temperature if temperature > 0 else None,
            top_k=0 if temperature > 0 else None,
            top_p=None,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    new = out[:, enc["input_ids"].shape[1] :]
    return [tokenizer.decode(row, skip_special_tokens=True).strip() for row in new]


__all__ = [
    "PASSAGE_TOKEN",
    "QUESTION_TOKEN",
    "REPLY_TOKEN",
    "WRITER_RECIPE",
    "WriterConfig",
    "cite",
    "format_prompt",
    "load_reply_writer",
    "train_reply_writer",
    "training_pairs",
    "write",
]
