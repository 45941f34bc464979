"""Checks for notebook 04 (language modelling): corpus perplexity, the shifted loss, argmax, a
training step, and a GPT built by hand (a block, then the whole tiny GPT).

The build-it checks copy seeded random weights into the learner's module and into Hugging Face's
GPT-2 (``GPT2Block``, ``GPT2LMHeadModel``, dropout 0), and compare their outputs on hidden seeded
inputs; common mistakes (post-LN, a missing residual, ReLU or exact GELU, a non-causal block, no
position embeddings...) are recognised by running the same weights through the mistaken recipe.
:class:`ReferenceBlock` and :class:`ReferenceGPT` are the course's versions, which the notebook
uses while an exercise is not passed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from coursekit.checks import (
    CheckFailed,
    UsedReference,
    call,
    call_own,
    exercise,
    expect,
    expect_close,
    expect_shape,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    own_or_reference,  # noqa: F401 (the notebook's later cells use the learner's pieces)
    require_attempted,
)


def _batch(seed: int = 0) -> tuple[Any, Any]:
    """Random logits (2, 6, 11) and labels with -100 on the padding of the second row."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, 6, 11, generator=gen) * 2
    labels = torch.randint(0, 11, (2, 6), generator=gen)
    labels[1, 4:] = -100
    return logits, labels


@exercise(
    "04.2",
    "the shifted next-token loss",
    hint=(
        "Position t predicts token t + 1: shift the logits and the labels against each other before taking the loss.",
        "Drop the last position of the logits and the first of the labels, flatten both, and use a cross-entropy that ignores the label -100.",
    ),
)
def shifted_loss(fn: Any) -> None:
    import torch
    import torch.nn.functional as F

    logits, labels = _batch()
    got = call_own(
        fn,
        logits.clone(),
        labels.clone(),
        forbid=["coursekit.lm.shifted_cross_entropy"],
        name="next_token_loss",
    )
    expect(
        isinstance(got, torch.Tensor) and got.dim() == 0,
        f"`next_token_loss` should return a 0-dim tensor (a scalar loss), got {_describe(got)}",
    )
    v = logits.shape[-1]
    want = F.cross_entropy(logits[:, :-1].reshape(-1, v), labels[:, 1:].reshape(-1))
    wrong = {
        "without the shift (the model would learn to copy its input)": F.cross_entropy(
            logits.reshape(-1, v), labels.reshape(-1)
        ),
        "shifted the wrong way (logits[:, 1:] vs labels[:, :-1])": F.cross_entropy(
            logits[:, 1:].reshape(-1, v), labels[:, :-1].reshape(-1)
        ),
        "summed instead of averaged over tokens": F.cross_entropy(
            logits[:, :-1].reshape(-1, v), labels[:, 1:].reshape(-1), reduction="sum"
        ),
    }
    for what, value in wrong.items():
        if math.isclose(float(got), float(value), rel_tol=1e-5):
            raise CheckFailed(f"your loss is {float(got):.4f}: you {what}")
    expect_close(got, float(want), "next_token_loss(logits, labels)")


def _describe(value: Any) -> str:
    shape = getattr(value, "shape", None)
    return f"a {type(value).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")


BATCH_LOSSES = [2.0, 3.0, 2.5]
BATCH_TOKENS = [100, 20, 80]


@exercise(
    "04.1",
    "corpus perplexity from batch losses",
    hint=(
        "A batch's mean loss hides how many tokens it had: perplexity averages over the corpus's tokens, not over its batches.",
        "Turn each mean back into a total (mean × its token count), add the totals, divide by the total token count, then exponentiate.",
    ),
)
def corpus_perplexity(fn: Any) -> None:
    got = call(fn, list(BATCH_LOSSES), list(BATCH_TOKENS), name="corpus_perplexity")
    try:
        got = float(got)
    except (TypeError, ValueError):
        raise CheckFailed(
            f"`corpus_perplexity` should return a number, got {_describe(got)}"
        ) from None
    weighted = sum(loss * n for loss, n in zip(BATCH_LOSSES, BATCH_TOKENS, strict=True))
    want = math.exp(weighted / sum(BATCH_TOKENS))
    plain = math.exp(sum(BATCH_LOSSES) / len(BATCH_LOSSES))
    mean_of_exps = sum(math.exp(x) for x in BATCH_LOSSES) / len(BATCH_LOSSES)
    if math.isclose(got, plain, rel_tol=1e-6):
        raise CheckFailed(
            "you averaged the batch losses equally; a batch with 100 tokens must count 5x "
            "more than one with 20: weight by tokens"
        )
    if math.isclose(got, mean_of_exps, rel_tol=1e-6):
        raise CheckFailed("you averaged per-batch perplexities; average the losses, then exp")
    if math.isclose(got, weighted / sum(BATCH_TOKENS), rel_tol=1e-6):
        raise CheckFailed("that is the mean loss; perplexity is exp(mean loss)")
    expect_close(got, want, "corpus_perplexity(losses, tokens)", rtol=1e-6)
    one = call(fn, [math.log(50.0)], [7], name="corpus_perplexity")
    expect_close(float(one), 50.0, "corpus_perplexity([log 50], [7])", rtol=1e-6)


def _step_setup(seed: int = 0) -> tuple[Any, Any, Any]:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        cfg = GPT2Config(
            vocab_size=20,
            n_positions=8,
            n_embd=8,
            n_layer=1,
            n_head=2,
            resid_pdrop=0.0,
            embd_pdrop=0.0,
            attn_pdrop=0.0,
            bos_token_id=0,
            eos_token_id=0,
            pad_token_id=0,
        )
        model = GPT2LMHeadModel(cfg)
        ids = torch.randint(1, 20, (2, 6))
    ids[1, 4:] = 0
    mask = torch.ones_like(ids)
    mask[1, 4:] = 0
    labels = ids.masked_fill(mask == 0, -100)
    batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    # stale gradients from an earlier step: a loop that forgets zero_grad() adds them in
    for p in model.parameters():
        p.grad = torch.full_like(p, 0.5)
    return model, batch, torch.optim.SGD(model.parameters(), lr=0.1)


@exercise(
    "04.4",
    "a correct training step",
    hint=(
        "A step is: forward pass, clear the old gradients, backward pass, update; the model returns its loss when the batch has labels.",
        "Clear the gradients before backward (not between backward and step), then step, and return the loss as a plain Python number.",
    ),
)
def train_step(fn: Any) -> None:
    import torch

    model, batch, opt = _step_setup()
    model.eval()  # the step itself must switch to training mode
    got = call(fn, model, {k: v.clone() for k, v in batch.items()}, opt, name="train_step")
    ref_model, ref_batch, ref_opt = _step_setup()
    ref_model.train()
    loss = ref_model(**ref_batch).loss
    ref_opt.zero_grad()
    loss.backward()
    ref_opt.step()
    expect(
        isinstance(got, float),
        f"`train_step` should return the loss as a Python float (loss.item()), got {_describe(got)}",
    )
    expect(model.training, "the model is still in eval mode: call model.train() in the step")
    moved = any(
        not torch.equal(a, b)
        for a, b in zip(model.parameters(), _step_setup()[0].parameters(), strict=True)
    )
    expect(
        moved,
        "the weights did not change: call optimizer.step() after loss.backward() "
        "(and zero_grad() before backward, not between backward and step)",
    )
    if not math.isclose(got, loss.item(), rel_tol=1e-5):
        unmasked = _step_setup()[0](
            input_ids=batch["input_ids"], labels=batch["input_ids"]
        ).loss.item()
        if math.isclose(got, unmasked, rel_tol=1e-5):
            raise CheckFailed(
                "your loss counts the padding: pass attention_mask and labels with -100 on "
                "padding (the batch's 'labels')"
            )
        raise CheckFailed(f"the returned loss is {got:.4f}, expected {loss.item():.4f}")
    for a, b in zip(model.parameters(), ref_model.parameters(), strict=True):
        if not torch.allclose(a, b, atol=1e-6):
            raise CheckFailed(
                "the updated weights differ from a correct step: zero the old gradients "
                "(optimizer.zero_grad()) before loss.backward()"
            )


@exercise(
    "04.3",
    "greedy next-token predictions",
    hint=(
        "At each position the prediction is the vocabulary entry with the highest score: which axis of the logits is the vocabulary?",
        "Take the argmax over the last axis; the result has shape (batch, seq).",
    ),
)
def next_token_ids(value: Any, logits: Any) -> None:
    require_attempted(value, "predicted")
    if isinstance(value, tuple) and hasattr(value, "indices"):
        raise CheckFailed(
            "`predicted` is a (values, indices) pair from torch.max; keep the indices, "
            "or use logits.argmax(dim=-1)"
        )
    want = logits.argmax(dim=-1)
    if getattr(value, "shape", None) is not None and tuple(value.shape) == tuple(
        logits.argmax(dim=1).shape
    ) != tuple(want.shape):
        raise CheckFailed(
            f"`predicted` has shape {tuple(value.shape)}: that is the max over the sequence axis "
            "(torch.max(logits, 1), the articles' bug); take it over the vocabulary, dim=-1"
        )
    expect_shape(value, tuple(want.shape), "predicted")
    if hasattr(value, "tolist") and value.tolist() != want.tolist():
        raise CheckFailed("`predicted` is not the argmax over the vocabulary at each position")


# --------------------------------------------------------------------------- 04.5 a GPT block

#: ready-made blocks: using one (inside the learner's Block, or as its parent) does not pass
BLOCK_FORBID = (
    "transformers.models.gpt2.modeling_gpt2.GPT2Block",
    "torch.nn.TransformerEncoderLayer",
    "torch.nn.TransformerDecoderLayer",
    "coursekit.checks.nb04.ReferenceBlock",
)
#: ready-made GPTs (the reference block passed in as ``block=`` is allowed)
GPT_FORBID = (
    "transformers.models.gpt2.modeling_gpt2.GPT2Model",
    "transformers.models.gpt2.modeling_gpt2.GPT2LMHeadModel",
    "transformers.models.gpt2.modeling_gpt2.GPT2Block",
    "torch.nn.TransformerEncoder",
    "torch.nn.TransformerDecoder",
    "coursekit.checks.nb04.ReferenceGPT",
)
_NAMES = ("ln_1", "attn", "ln_2", "mlp")
#: hidden block sizes: (d_model, n_heads, batch, seq); the notebook shows Block(64, 4)
_BLOCK_CASES = ((24, 3, 2, 7), (32, 8, 1, 5), (16, 2, 3, 1))
#: hidden GPT sizes: (vocab, n_positions, d_model, n_heads, n_layer, batch, seq)
_GPT_CASES = ((37, 12, 16, 2, 2, 2, 9), (29, 8, 24, 4, 3, 1, 8), (23, 6, 8, 2, 1, 2, 1))

_REFERENCE: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    """:class:`ReferenceBlock` and :class:`ReferenceGPT`, built on first use (torch loads lazily)."""
    if name in ("ReferenceBlock", "ReferenceGPT"):
        if not _REFERENCE:
            _REFERENCE.update(_reference_classes())
        globals().update(_REFERENCE)  # a plain module attribute from now on
        return _REFERENCE[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _reference_classes() -> dict[str, type]:
    import torch
    from torch import nn

    from coursekit.attention import MultiHeadAttention

    class ReferenceBlock(nn.Module):
        """The course's GPT-2 block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``.

        Pre-LayerNorm, causal multi-head self-attention (:class:`coursekit.attention.
        MultiHeadAttention`), an MLP ``d → 4d → d`` with GPT-2's tanh-approximated GELU; no
        dropout. Maps ``(batch, seq, d_model)`` to the same shape.
        """

        def __init__(self, d_model: int, n_heads: int) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(d_model)
            self.attn = MultiHeadAttention(d_model, n_heads)
            self.ln_2 = nn.LayerNorm(d_model)
            self.mlp = nn.Sequential(
                nn.Linear(d_model, 4 * d_model),
                nn.GELU(approximate="tanh"),
                nn.Linear(4 * d_model, d_model),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.attn(self.ln_1(x), causal=True)
            x = x + (out[0] if isinstance(out, tuple) else out)
            return x + self.mlp(self.ln_2(x))

    class ReferenceGPT(nn.Module):
        """The course's tiny GPT: token + position embeddings, ``n_layer`` blocks, a final
        LayerNorm and an LM head tied to the token embeddings (GPT-2's layout, std-0.02 init).

        ``forward(input_ids, attention_mask=None, labels=None)`` returns ``.logits``
        ``(batch, seq, vocab)`` and, with ``labels``, ``.loss`` (the shifted cross-entropy), so
        ``coursekit.train.fit`` and ``coursekit.lm.perplexity`` can use it. Padding must be on
        the right (causal attention then never sees it).
        """

        def __init__(
            self,
            vocab_size: int,
            n_positions: int = 128,
            d_model: int = 64,
            n_heads: int = 4,
            n_layer: int = 2,
            block: type = ReferenceBlock,
        ) -> None:
            super().__init__()
            self.wte = nn.Embedding(vocab_size, d_model)
            self.wpe = nn.Embedding(n_positions, d_model)
            self.blocks = nn.ModuleList(block(d_model, n_heads) for _ in range(n_layer))
            self.ln_f = nn.LayerNorm(d_model)
            self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
            for module in self.modules():
                if isinstance(module, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(module.weight, std=0.02)
                    if getattr(module, "bias", None) is not None:
                        nn.init.zeros_(module.bias)
            self.lm_head.weight = self.wte.weight

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor | None = None,
            labels: torch.Tensor | None = None,
        ) -> Any:
            from transformers.modeling_outputs import CausalLMOutput

            from coursekit import lm

            positions = torch.arange(input_ids.shape[1], device=input_ids.device)
            x = self.wte(input_ids) + self.wpe(positions)
            for block in self.blocks:
                x = block(x)
            logits = self.lm_head(self.ln_f(x))
            loss = None if labels is None else lm.shifted_cross_entropy(logits, labels)
            return CausalLMOutput(loss=loss, logits=logits)

    for cls in (ReferenceBlock, ReferenceGPT):
        cls.__module__ = __name__
        cls.__qualname__ = cls.__name__
    return {"ReferenceBlock": ReferenceBlock, "ReferenceGPT": ReferenceGPT}


def _gpt2_config(d_model: int, n_heads: int, n_layer: int = 1, vocab: int = 2, positions: int = 16):
    from transformers import GPT2Config

    return GPT2Config(
        vocab_size=vocab,
        n_positions=positions,
        n_embd=d_model,
        n_layer=n_layer,
        n_head=n_heads,
        activation_function="gelu_new",
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=0,
        eos_token_id=0,
        pad_token_id=0,
        tie_word_embeddings=True,
        attn_implementation="eager",
    )


def _randomise(module: Any, gen: Any) -> None:
    """Seeded weights large enough that every mistake moves the output (not GPT-2's 0.02)."""
    import torch
    from torch import nn

    with torch.no_grad():
        for mod in module.modules():
            for name, p in mod.named_parameters(recurse=False):
                noise = torch.randn(p.shape, generator=gen)
                if p.dim() >= 2:
                    p.copy_(2 * noise / math.sqrt(p.shape[-1]))
                elif isinstance(mod, nn.LayerNorm) and name == "weight":
                    p.copy_(1 + 0.2 * noise)
                else:
                    p.copy_(0.2 * noise)


def _causal_additive(t: int) -> Any:
    import torch

    return torch.full((t, t), torch.finfo(torch.float32).min).triu(1)[None, None]


def _run_gpt2_block(ref: Any, x: Any) -> Any:
    out = ref(x, attention_mask=_causal_additive(x.shape[1]))
    return out[0] if isinstance(out, tuple) else out


def _used_reference(cls: Any, forbid: Sequence[str]) -> None:
    """A learner class that *inherits* from a ready-made one (the tripwires see only calls)."""
    from coursekit.checks import _resolve

    for path in forbid:
        try:
            original = _resolve(path)
        except (ImportError, AttributeError):  # pragma: no cover - a library without it
            continue
        if isinstance(cls, type) and isinstance(original, type) and issubclass(cls, original):
            raise UsedReference(
                f"your class inherits from `{original.__name__}`, the ready-made version of what "
                "this exercise asks you to build: write your own, then run the check again"
            )


def _expect_class(cls: Any, name: str) -> None:
    from torch import nn

    require_attempted(cls, name)
    expect(
        isinstance(cls, type) and issubclass(cls, nn.Module),
        f"pass the class `{name}` itself (an nn.Module subclass), not {_describe(cls)}",
    )


def _set_linear(linear: Any, weight: Any, bias: Any, what: str) -> None:
    """Copy GPT-2's ``weight`` (out, in) and ``bias`` into the learner's layer (no bias: zero GPT-2's)."""
    w = getattr(linear, "weight", None)
    if w is None or tuple(w.shape) != tuple(weight.shape):
        got = tuple(w.shape) if w is not None else None
        raise CheckFailed(f"{what} has weights of shape {got}, expected {tuple(weight.shape)}")
    w.copy_(weight)
    b = getattr(linear, "bias", None)
    if b is None:
        bias.zero_()
    else:
        b.copy_(bias)


def _set_norm(norm: Any, ref: Any, what: str) -> None:
    from torch import nn

    if not isinstance(norm, nn.LayerNorm):
        raise CheckFailed(f"`{what}` should be an nn.LayerNorm, but it is {_describe(norm)}")
    if tuple(norm.normalized_shape) != tuple(ref.normalized_shape):
        raise CheckFailed(
            f"`{what}` normalises a shape {tuple(norm.normalized_shape)}, expected "
            f"{tuple(ref.normalized_shape)} (d_model)"
        )
    if norm.weight is not None:
        norm.weight.copy_(ref.weight)
    else:
        ref.weight.fill_(1.0)
    if norm.bias is not None:
        norm.bias.copy_(ref.bias)
    else:
        ref.bias.zero_()


def _mlp_linears(block: Any, d: int) -> tuple[Any, Any]:
    """The MLP's two linear layers, after checking their sizes (the 4 × d_model rule)."""
    from torch import nn

    linears = [m for m in block.mlp.modules() if isinstance(m, nn.Linear)]
    expect(
        len(linears) == 2,
        f"`self.mlp` should hold two nn.Linear layers (widen, then narrow back); yours holds "
        f"{len(linears)}",
    )
    fc, proj = linears
    expect(
        fc.in_features == d and proj.out_features == d,
        f"the MLP should map d_model={d} features back to d_model: yours maps "
        f"{fc.in_features} → {fc.out_features} → {proj.out_features}",
    )
    expect(
        fc.out_features == 4 * d,
        f"the MLP's hidden layer has {fc.out_features} units for d_model={d}: GPT-2's hidden "
        f"layer is 4 × d_model = {4 * d} wide",
    )
    expect(
        proj.in_features == fc.out_features,
        f"the MLP's second layer takes {proj.in_features} inputs, its first gives {fc.out_features}",
    )
    return fc, proj


def _load_block(block: Any, ref: Any, d: int, n_heads: int) -> None:
    """Copy a ``GPT2Block``'s weights into the learner's block (Conv1D weights are (in, out))."""
    from torch import nn

    for name in _NAMES:
        expect(
            hasattr(block, name),
            f"your Block has no `self.{name}`: keep the scaffold's names ({', '.join(_NAMES)}); "
            "the check copies weights by them",
        )
    fc, proj = _mlp_linears(block, d)
    attn = block.attn
    heads = getattr(attn, "n_heads", getattr(attn, "num_heads", n_heads))
    expect(
        heads == n_heads,
        f"your attention has {heads} heads, but Block(d_model, n_heads) was asked for {n_heads}",
    )
    w, b = ref.attn.c_attn.weight.T, ref.attn.c_attn.bias
    wo, bo = ref.attn.c_proj.weight.T, ref.attn.c_proj.bias
    if all(hasattr(attn, n) for n in ("q_proj", "k_proj", "v_proj", "out_proj")):
        for part, wp, bp in zip(
            ("q_proj", "k_proj", "v_proj"), w.split(d), b.split(d), strict=True
        ):
            _set_linear(getattr(attn, part), wp, bp, f"`attn.{part}`")
        _set_linear(attn.out_proj, wo, bo, "`attn.out_proj`")
    elif isinstance(attn, nn.MultiheadAttention) and attn.in_proj_weight is not None:
        attn.in_proj_weight.copy_(w)
        if attn.in_proj_bias is not None:
            attn.in_proj_bias.copy_(b)
        else:
            b.zero_()
        _set_linear(attn.out_proj, wo, bo, "`attn.out_proj`")
    elif hasattr(attn, "c_attn") and hasattr(attn, "c_proj"):
        _set_linear(attn.c_attn, w, b, "`attn.c_attn`")
        _set_linear(attn.c_proj, wo, bo, "`attn.c_proj`")
    else:
        raise CheckFailed(
            "the check cannot find your attention's weights: keep the scaffold's "
            "`self.attn = MultiHeadAttention(d_model, n_heads)`"
        )
    _set_norm(block.ln_1, ref.ln_1, "ln_1")
    _set_norm(block.ln_2, ref.ln_2, "ln_2")
    _set_linear(fc, ref.mlp.c_fc.weight.T, ref.mlp.c_fc.bias, "the MLP's first layer")
    _set_linear(proj, ref.mlp.c_proj.weight.T, ref.mlp.c_proj.bias, "the MLP's second layer")


def _variant(ref: Any, x: Any, n_heads: int, **how: Any) -> Any:
    """The GPT-2 block's weights run through a (mistaken) recipe, for the diagnoses."""
    import torch
    import torch.nn.functional as F

    def norm(layer: Any, h: Any) -> Any:
        return h if how.get("no_ln") else layer(h)

    def attention(h: Any) -> Any:
        b, t, d = h.shape
        q, k, v = ref.attn.c_attn(h).split(d, dim=2)
        q, k, v = (z.view(b, t, n_heads, d // n_heads).transpose(1, 2) for z in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return ref.attn.c_proj(out.transpose(1, 2).reshape(b, t, d))

    act = {
        "tanh": lambda h: F.gelu(h, approximate="tanh"),
        "exact": F.gelu,
        "relu": F.relu,
        "none": lambda h: h,
    }[how.get("act", "tanh")]

    def mlp(h: Any) -> Any:
        return ref.mlp.c_proj(act(ref.mlp.c_fc(h)))

    ln_2 = ref.ln_1 if how.get("same_ln") else ref.ln_2
    with torch.no_grad():
        if how.get("post_ln"):
            x = ref.ln_1(x + attention(x))
            return ln_2(x + mlp(x))
        branches = [
            (ref.ln_1, attention, how.get("res_attn", True)),
            (ln_2, mlp, how.get("res_mlp", True)),
        ]
        if how.get("mlp_first"):
            branches = [(ref.ln_1, mlp, True), (ln_2, attention, True)]
        for layer, branch, residual in branches:
            h = norm(layer, x)
            if not residual:
                x = branch(h)
            elif how.get("res_from_norm"):
                x = h + branch(h)
            else:
                x = x + branch(h)
        return x


#: the mistakes recognised by running the right weights through the wrong recipe
_BLOCK_MISTAKES = (
    (
        {"post_ln": True},
        "your block normalises *after* adding each branch (post-LN, the original Transformer's "
        "order); GPT-2 normalises each branch's input and adds the branch to the untouched x (pre-LN)",
    ),
    (
        {"res_attn": False, "res_mlp": False},
        "neither branch has its residual connection: each branch's output must be added to x, "
        "not replace it",
    ),
    (
        {"res_attn": False},
        "the attention branch has no residual connection: its output replaces x instead of being "
        "added to it",
    ),
    (
        {"res_mlp": False},
        "the MLP branch has no residual connection: its output replaces x instead of being added to it",
    ),
    (
        {"res_from_norm": True},
        "the residuals add the branch to the *normalised* x: add it to the block's input x, which "
        "stays un-normalised (only each branch's input is normalised)",
    ),
    (
        {"same_ln": True},
        "ln_1 normalises both branches: the MLP branch has its own LayerNorm, ln_2",
    ),
    ({"no_ln": True}, "no LayerNorm is applied: each branch reads a normalised copy of x"),
    ({"mlp_first": True}, "the MLP comes before the attention: GPT-2 attends first, then the MLP"),
    (
        {"act": "relu"},
        "your MLP uses ReLU; GPT-2's uses GELU, in its tanh approximation (what Hugging Face "
        "calls `gelu_new`)",
    ),
    (
        {"act": "exact"},
        "your MLP uses the exact GELU; GPT-2 uses its tanh approximation (`gelu_new`), which "
        "torch's GELU offers through its `approximate` argument",
    ),
    ({"act": "none"}, "there is no activation between the MLP's two layers: GPT-2 uses GELU"),
)


def _as_output(value: Any, shape: tuple[int, ...], name: str) -> Any:
    import torch

    if isinstance(value, tuple):
        raise CheckFailed(
            f"`{name}` returned a tuple of {len(value)}: a block returns one tensor "
            "(attention modules return (output, weights): keep only the output)"
        )
    expect(
        isinstance(value, torch.Tensor), f"`{name}` should return a tensor, got {_describe(value)}"
    )
    expect_shape(value, shape, name)
    return value.detach()


#: the learner's float32 outputs against GPT-2's: ~2e-6 apart when right, the exact GELU ~2e-3 away
_ATOL, _RTOL = 2e-4, 1e-5


def _close(a: Any, b: Any) -> bool:
    import torch

    return bool(torch.allclose(a, b, atol=_ATOL, rtol=_RTOL))


def _first_changed(a: Any, b: Any, upto: int) -> int | None:
    import torch

    for pos in range(upto):
        if not torch.allclose(a[:, pos], b[:, pos], atol=1e-5, rtol=1e-4):
            return pos
    return None


@exercise(
    "04.5",
    "a GPT block",
    hint=(
        "Each branch (attention, then MLP) reads a normalised copy of x, and its result is added "
        "back to x; the attention must not look at later positions.",
        "Normalise with ln_1 before the attention and with ln_2 before the MLP, and ask notebook "
        "03's module for its causal mask (it returns the output and the weights). The MLP widens "
        "each vector to four times d_model, applies GPT-2's tanh-approximated GELU, and projects "
        "back to d_model.",
    ),
)
def gpt_block(Block: Any) -> str:  # noqa: N803 (the learner's class)
    import torch

    _expect_class(Block, "Block")
    _used_reference(Block, BLOCK_FORBID)
    from transformers.models.gpt2.modeling_gpt2 import GPT2Block

    for case, (d, h, batch, seq) in enumerate(_BLOCK_CASES):
        block = call_own(Block, d, h, forbid=BLOCK_FORBID, name=f"Block({d}, {h})")
        expect(
            isinstance(block, torch.nn.Module),
            f"`Block({d}, {h})` should build an nn.Module, got {_describe(block)}",
        )
        gen = torch.Generator().manual_seed(404 + case)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(404 + case)
            ref = GPT2Block(_gpt2_config(d, h), layer_idx=0).eval()
        _randomise(ref, gen)
        block.eval()
        with torch.no_grad():
            _load_block(block, ref, d, h)
            x = torch.randn(batch, seq, d, generator=gen) * 1.5
            name = f"Block({d}, {h})(x)"
            got = _as_output(
                call_own(block, x.clone(), forbid=BLOCK_FORBID, name=name), (batch, seq, d), name
            )
            if seq > 1:  # a later position changes: the earlier outputs must not
                cut = seq // 2 + 1
                later = x.clone()
                later[:, cut:] = torch.randn(batch, seq - cut, d, generator=gen) * 3
                again = _as_output(
                    call_own(block, later, forbid=BLOCK_FORBID, name=name), (batch, seq, d), name
                )
                pos = _first_changed(got, again, cut)
                if pos is not None:
                    raise CheckFailed(
                        f"the output at position {pos} changed when only positions {cut}.. "
                        f"changed: your block sees the future; a GPT's self-attention is causal"
                    )
            want = _run_gpt2_block(ref, x)
        if _close(got, want):
            continue
        for how, message in _BLOCK_MISTAKES:
            if _close(got, _variant(ref, x, h, **how)):
                raise CheckFailed(message)
        expect_close(got, want, f"Block({d}, {h})(x) against GPT-2's block", atol=_ATOL, rtol=_RTOL)
    sizes = ", ".join(f"d_model={d}, {h} heads" for d, h, _, _ in _BLOCK_CASES)
    return f"Same outputs as GPT-2's block with the same weights ({sizes}), and causal."


# --------------------------------------------------------------------------- 04.6 a tiny GPT


def _load_gpt(model: Any, ref: Any, d: int, n_heads: int, n_layer: int) -> None:
    """Copy a ``GPT2LMHeadModel``'s weights into the learner's TinyGPT."""
    from torch import nn

    tr = ref.transformer
    for name in ("wte", "wpe", "blocks", "ln_f", "lm_head"):
        expect(
            hasattr(model, name),
            f"your TinyGPT has no `self.{name}`: keep the scaffold's __init__ (wte, wpe, blocks, "
            "ln_f, lm_head); the check copies weights by these names",
        )
    for name in ("wte", "wpe"):
        emb = getattr(model, name)
        want = getattr(tr, name).weight
        expect(
            isinstance(emb, nn.Embedding) and tuple(emb.weight.shape) == tuple(want.shape),
            f"`self.{name}` should be an nn.Embedding of shape {tuple(want.shape)}",
        )
        emb.weight.copy_(want)
    blocks = list(model.blocks)
    expect(
        len(blocks) == n_layer,
        f"TinyGPT(n_layer={n_layer}) built {len(blocks)} blocks in `self.blocks`",
    )
    for block, gpt2_block in zip(blocks, tr.h, strict=True):
        _load_block(block, gpt2_block, d, n_heads)
    _set_norm(model.ln_f, tr.ln_f, "ln_f")
    if model.lm_head.weight is not model.wte.weight:  # untied: give it GPT-2's (tied) head
        _set_linear(model.lm_head, ref.lm_head.weight, ref.lm_head.weight.new_zeros(1), "`lm_head`")


def _gpt_variant(ref: Any, ids: Any, **how: Any) -> Any:
    import torch

    tr = ref.transformer
    with torch.no_grad():
        x = tr.wte(ids)
        if how.get("scaled"):
            x = x * math.sqrt(x.shape[-1])
        if not how.get("no_pos"):
            x = x + tr.wpe(torch.arange(ids.shape[1]))
        first = x
        if not how.get("no_blocks"):
            for block in tr.h:
                x = _run_gpt2_block(block, first if how.get("unchained") else x)
        if not how.get("no_ln_f"):
            x = tr.ln_f(x)
        logits = ref.lm_head(x)
        return logits.softmax(-1) if how.get("softmax") else logits


_GPT_MISTAKES = (
    (
        {"no_pos": True},
        "your logits do not use the position embeddings: without self.wpe the model cannot tell "
        "the first token from the fifth; add the embedding of each position to its token's",
    ),
    (
        {"no_ln_f": True},
        "the final LayerNorm (self.ln_f) is missing between the last block and the head",
    ),
    (
        {"unchained": True},
        "each block reads the embeddings instead of the previous block's output: the blocks must "
        "be applied one after the other",
    ),
    (
        {"no_blocks": True},
        "the blocks' outputs are not used: x must be replaced by each block's output",
    ),
    (
        {"softmax": True},
        "your model returns probabilities: return the head's raw scores (logits); the loss and "
        "sampling apply (log-)softmax themselves",
    ),
    (
        {"scaled": True},
        "the token embeddings are multiplied by sqrt(d_model) (the original Transformer's trick): "
        "GPT-2 adds token and position embeddings as they are",
    ),
)


def _call_gpt(model: Any, name: str, **batch: Any) -> Any:
    try:
        return call_own(model, forbid=GPT_FORBID, name=name, **batch)
    except UsedReference:
        raise
    except CheckFailed as err:
        if "index out of range" in str(err):
            raise CheckFailed(
                f"{err}: an embedding got an index beyond its table; the position embeddings take "
                "the positions 0 .. seq-1, not the token ids"
            ) from None
        raise


@exercise(
    "04.6",
    "a tiny GPT",
    hint=(
        "A token's vector is its own embedding plus the embedding of its position; then every "
        "block transforms the vectors in turn, and the head scores every vocabulary entry.",
        "The positions are 0, 1, …, seq-1, one per column of input_ids (torch can build that "
        "range on the ids' device); feed each block the previous one's output, and apply the "
        "final LayerNorm before the head. Return raw scores: no softmax.",
    ),
)
def tiny_gpt(TinyGPT: Any) -> str:  # noqa: N803 (the learner's class)
    import torch
    from transformers import GPT2LMHeadModel

    _expect_class(TinyGPT, "TinyGPT")
    _used_reference(TinyGPT, GPT_FORBID)
    block_cls = __getattr__("ReferenceBlock")
    for case, (vocab, positions, d, h, n_layer, batch, seq) in enumerate(_GPT_CASES):
        label = f"TinyGPT(vocab_size={vocab}, n_positions={positions}, d_model={d}, n_heads={h}, n_layer={n_layer})"
        model = call_own(
            TinyGPT,
            vocab_size=vocab,
            n_positions=positions,
            d_model=d,
            n_heads=h,
            n_layer=n_layer,
            block=block_cls,
            forbid=GPT_FORBID,
            name="TinyGPT",
        )
        expect(isinstance(model, torch.nn.Module), f"`{label}` should build an nn.Module")
        gen = torch.Generator().manual_seed(4040 + case)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(4040 + case)
            ref = GPT2LMHeadModel(_gpt2_config(d, h, n_layer, vocab, positions)).eval()
        _randomise(ref, gen)
        model.eval()
        ids = torch.randint(vocab, (batch, seq), generator=gen)
        with torch.no_grad():
            _load_gpt(model, ref, d, h, n_layer)
            out = _call_gpt(model, "TinyGPT.forward", input_ids=ids.clone())
            logits = getattr(out, "logits", None)
            expect(
                logits is not None,
                f"`TinyGPT` should return the scaffold's output (with .logits and .loss), got {_describe(out)}",
            )
            got = _as_output(logits, (batch, seq, vocab), "logits")
            if seq > 1:
                cut = seq // 2
                later = ids.clone()
                later[:, cut:] = (later[:, cut:] + 1) % vocab
                again = _call_gpt(model, "TinyGPT.forward", input_ids=later).logits
                pos = _first_changed(got, again.detach(), cut)
                if pos is not None:
                    raise CheckFailed(
                        f"the logits at position {pos} changed when only tokens {cut}.. changed: "
                        "the model sees the future"
                    )
            want = ref(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
        if not _close(got, want):
            for how, message in _GPT_MISTAKES:
                if _close(got, _gpt_variant(ref, ids, **how)):
                    raise CheckFailed(message)
            expect_close(got, want, f"the logits of {label}", atol=_ATOL, rtol=_RTOL)
        if seq > 1:  # what train.fit passes: the loss must come back too
            with torch.no_grad():
                mask = torch.ones_like(ids)
                out = _call_gpt(
                    model, "TinyGPT.forward", input_ids=ids, attention_mask=mask, labels=ids
                )
                want_loss = ref(input_ids=ids, attention_mask=mask, labels=ids).loss
            expect(
                getattr(out, "loss", None) is not None,
                "with labels=, TinyGPT must also return .loss (train.fit minimises it)",
            )
            unshifted = torch.nn.functional.cross_entropy(want.reshape(-1, vocab), ids.reshape(-1))
            if math.isclose(float(out.loss), float(unshifted), rel_tol=1e-4):
                raise CheckFailed(
                    "the loss compares position t with token t (no shift): the model would learn "
                    "to copy its input; use the shifted loss (exercise 04.2)"
                )
            expect_close(
                out.loss, float(want_loss), "the loss with labels=", atol=_ATOL, rtol=_RTOL
            )
    return "Same logits and loss as GPT-2 (GPT2LMHeadModel) with the same weights, at three sizes."
