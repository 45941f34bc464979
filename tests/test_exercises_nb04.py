"""The build-it exercises of notebook 04: a GPT block (04.5) and a tiny GPT (04.6).

The reference solutions are restated here as the notebook's scaffold plus its solution lines;
each plausible mistake gets its own diagnosis, ready-made blocks and GPTs do not pass, and the
hidden sizes matter (a block hard-coded to the notebook's Block(64, 4) fails).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from check_helpers import assert_verdict
from torch import nn
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.modeling_outputs import CausalLMOutput
from transformers.models.gpt2.modeling_gpt2 import GPT2Block

from coursekit import lm
from coursekit.attention import MultiHeadAttention
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, nb04

# ----------------------------------------------------------------- 04.5 the block


class Block(nn.Module):
    """The notebook's scaffold with its solution: pre-LN, causal attention, 4x GELU MLP."""

    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.ln_2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model),
            nn.GELU(approximate="tanh"),
            nn.Linear(4 * d_model, d_model),
        )

    def forward(self, x):
        attended, _ = self.attn(self.ln_1(x), causal=True)
        x = x + attended
        return x + self.mlp(self.ln_2(x))


class BlankBlock(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.ln_2 = nn.LayerNorm(d_model)
        raise NotImplementedError("replace this line with your solution")


class BlankForward(Block):
    def forward(self, x):
        raise NotImplementedError("replace this line with your solution")


class PostLN(Block):
    def forward(self, x):
        x = self.ln_1(x + self.attn(x, causal=True)[0])
        return self.ln_2(x + self.mlp(x))


class NoAttnResidual(Block):
    def forward(self, x):
        x = self.attn(self.ln_1(x), causal=True)[0]
        return x + self.mlp(self.ln_2(x))


class NoResiduals(Block):
    def forward(self, x):
        x = self.attn(self.ln_1(x), causal=True)[0]
        return self.mlp(self.ln_2(x))


class ResidualFromNorm(Block):
    def forward(self, x):
        h = self.ln_1(x)
        x = h + self.attn(h, causal=True)[0]
        h = self.ln_2(x)
        return h + self.mlp(h)


class OneNorm(Block):
    def forward(self, x):
        x = x + self.attn(self.ln_1(x), causal=True)[0]
        return x + self.mlp(self.ln_1(x))


class NoMask(Block):
    def forward(self, x):
        x = x + self.attn(self.ln_1(x))[0]
        return x + self.mlp(self.ln_2(x))


class ReturnsTuple(Block):
    def forward(self, x):
        attended, weights = self.attn(self.ln_1(x), causal=True)
        x = x + attended
        return x + self.mlp(self.ln_2(x)), weights


def _mlp(d, hidden, act):
    return nn.Sequential(nn.Linear(d, hidden), act, nn.Linear(hidden, d))


class ReLUBlock(Block):
    def __init__(self, d_model, n_heads):
        super().__init__(d_model, n_heads)
        self.mlp = _mlp(d_model, 4 * d_model, nn.ReLU())


class ExactGELU(Block):
    def __init__(self, d_model, n_heads):
        super().__init__(d_model, n_heads)
        self.mlp = _mlp(d_model, 4 * d_model, nn.GELU())


class NoActivation(Block):
    def __init__(self, d_model, n_heads):
        super().__init__(d_model, n_heads)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.Linear(4 * d_model, d_model))


class HiddenTwice(Block):
    def __init__(self, d_model, n_heads):
        super().__init__(d_model, n_heads)
        self.mlp = _mlp(d_model, 2 * d_model, nn.GELU(approximate="tanh"))


class VisibleSizesOnly(Block):
    """Written for the notebook's Block(64, 4) only."""

    def __init__(self, d_model, n_heads):
        super().__init__(d_model, n_heads)
        self.attn = MultiHeadAttention(d_model, 4 if d_model % 4 == 0 else 1)


class Hardcoded64(Block):
    def __init__(self, d_model, n_heads):
        super().__init__(d_model, n_heads)
        self.mlp = _mlp(64, 256, nn.GELU(approximate="tanh"))


class RenamedNorms(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = _mlp(d_model, 4 * d_model, nn.GELU(approximate="tanh"))

    def forward(self, x):
        x = x + self.attn(self.norm1(x), causal=True)[0]
        return x + self.mlp(self.norm2(x))


class WrapsGPT2Block(nn.Module):
    """Calls the library's block instead of writing one."""

    def __init__(self, d_model, n_heads):
        super().__init__()
        config = GPT2Config(n_embd=d_model, n_head=n_heads, resid_pdrop=0.0, attn_pdrop=0.0)
        self.inner = GPT2Block(config)

    def forward(self, x):
        return self.inner(x)


class WrapsTorchLayer(nn.Module):
    def __init__(self, d_model, n_heads):
        super().__init__()
        self.inner = nn.TransformerEncoderLayer(
            d_model, n_heads, 4 * d_model, dropout=0.0, batch_first=True, norm_first=True
        )

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
        return self.inner(x, src_mask=mask, is_causal=True)


def inherits_reference():
    class Mine(nb04.ReferenceBlock):
        pass

    return Mine


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (Block, PASSED, "Same outputs as GPT-2's block"),
        (nb04.ReferenceBlock, NOT_YET, "write your own"),  # the check's own reference
        (None, NOT_ATTEMPTED, "still None"),
        (BlankBlock, NOT_ATTEMPTED, "NotImplementedError"),
        (BlankForward, NOT_ATTEMPTED, "NotImplementedError"),
        (Block(8, 2), NOT_YET, "pass the class `Block` itself"),
        (PostLN, NOT_YET, "post-LN"),
        (NoAttnResidual, NOT_YET, "attention branch has no residual"),
        (NoResiduals, NOT_YET, "neither branch"),
        (ResidualFromNorm, NOT_YET, "*normalised* x"),
        (OneNorm, NOT_YET, "its own LayerNorm, ln_2"),
        (NoMask, NOT_YET, "sees the future"),
        (ReturnsTuple, NOT_YET, "keep only the output"),
        (ReLUBlock, NOT_YET, "uses ReLU"),
        (ExactGELU, NOT_YET, "exact GELU"),
        (NoActivation, NOT_YET, "no activation"),
        (HiddenTwice, NOT_YET, "4 × d_model"),
        (VisibleSizesOnly, NOT_YET, "was asked for 3"),
        (Hardcoded64, NOT_YET, "map d_model=24"),
        (RenamedNorms, NOT_YET, "no `self.ln_1`"),
        (WrapsGPT2Block, NOT_YET, "calls `GPT2Block`"),
        (WrapsTorchLayer, NOT_YET, "calls `TransformerEncoderLayer`"),
    ],
)
def test_gpt_block(answer, status, fragment):
    assert_verdict(nb04.gpt_block.evaluate(answer), status, fragment)


def test_a_block_inheriting_a_ready_made_one_is_caught():
    v = nb04.gpt_block.evaluate(inherits_reference())
    assert v.status == NOT_YET and "inherits from `ReferenceBlock`" in v.message


def test_the_reference_block_is_gpt2s_block():
    """The fallback the notebook uses gives GPT-2's outputs with GPT-2's weights."""
    gen = torch.Generator().manual_seed(1)
    ref = GPT2Block(nb04._gpt2_config(24, 3), layer_idx=0).eval()
    nb04._randomise(ref, gen)
    block = nb04.ReferenceBlock(24, 3)
    x = torch.randn(2, 6, 24, generator=gen)
    with torch.no_grad():
        nb04._load_block(block, ref, 24, 3)
        assert torch.allclose(block(x), nb04._run_gpt2_block(ref, x), atol=1e-5)


def test_the_visible_example_is_not_among_the_hidden_sizes():
    assert all((d, h) != (64, 4) for d, h, _, _ in nb04._BLOCK_CASES)
    assert any(seq == 1 for *_, seq in nb04._BLOCK_CASES)  # a single token: it sees only itself


def test_the_mistakes_are_really_different_outputs():
    """Each diagnosed recipe differs from GPT-2's with the check's weights (else it could not tell)."""
    gen = torch.Generator().manual_seed(0)
    ref = GPT2Block(nb04._gpt2_config(24, 3), layer_idx=0).eval()
    nb04._randomise(ref, gen)
    x = torch.randn(2, 7, 24, generator=gen) * 1.5
    with torch.no_grad():
        want = nb04._run_gpt2_block(ref, x)
    assert torch.allclose(nb04._variant(ref, x, 3), want, atol=1e-5)
    for how, _ in nb04._BLOCK_MISTAKES:
        gap = (nb04._variant(ref, x, 3, **how) - want).abs().max()
        assert gap > 5 * nb04._ATOL, how


# ----------------------------------------------------------------- 04.6 the tiny GPT


class TinyGPT(nn.Module):
    """The notebook's scaffold with its solution."""

    def __init__(self, vocab_size, n_positions=128, d_model=64, n_heads=4, n_layer=2, block=Block):
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

    def forward(self, input_ids, attention_mask=None, labels=None):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.wte(input_ids) + self.wpe(positions)
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        loss = None if labels is None else lm.shifted_cross_entropy(logits, labels)
        return CausalLMOutput(loss=loss, logits=logits)


def _out(logits, labels):
    loss = None if labels is None else lm.shifted_cross_entropy(logits, labels)
    return CausalLMOutput(loss=loss, logits=logits)


class BlankGPT(TinyGPT):
    def forward(self, input_ids, attention_mask=None, labels=None):
        raise NotImplementedError("replace this line with your solution")


class NoPositions(TinyGPT):
    def forward(self, input_ids, attention_mask=None, labels=None):
        x = self.wte(input_ids)
        for block in self.blocks:
            x = block(x)
        return _out(self.lm_head(self.ln_f(x)), labels)


class PositionsFromIds(TinyGPT):
    def forward(self, input_ids, attention_mask=None, labels=None):
        x = self.wte(input_ids) + self.wpe(input_ids)
        for block in self.blocks:
            x = block(x)
        return _out(self.lm_head(self.ln_f(x)), labels)


class NoFinalNorm(TinyGPT):
    def forward(self, input_ids, attention_mask=None, labels=None):
        x = self.wte(input_ids) + self.wpe(torch.arange(input_ids.shape[1]))
        for block in self.blocks:
            x = block(x)
        return _out(self.lm_head(x), labels)


class Unchained(TinyGPT):
    def forward(self, input_ids, attention_mask=None, labels=None):
        h = self.wte(input_ids) + self.wpe(torch.arange(input_ids.shape[1]))
        for block in self.blocks:
            x = block(h)
        return _out(self.lm_head(self.ln_f(x)), labels)


class Probabilities(TinyGPT):
    def forward(self, input_ids, attention_mask=None, labels=None):
        x = self.wte(input_ids) + self.wpe(torch.arange(input_ids.shape[1]))
        for block in self.blocks:
            x = block(x)
        return _out(F.softmax(self.lm_head(self.ln_f(x)), dim=-1), labels)


class SeesTheFuture(TinyGPT):
    """Adds the mean of the whole sequence to every position."""

    def forward(self, input_ids, attention_mask=None, labels=None):
        x = self.wte(input_ids) + self.wpe(torch.arange(input_ids.shape[1]))
        x = x + x.mean(dim=1, keepdim=True)
        for block in self.blocks:
            x = block(x)
        return _out(self.lm_head(self.ln_f(x)), labels)


class ReturnsLogits(TinyGPT):
    def forward(self, input_ids, attention_mask=None, labels=None):
        return super().forward(input_ids).logits


class UnshiftedLoss(TinyGPT):
    def forward(self, input_ids, attention_mask=None, labels=None):
        logits = super().forward(input_ids).logits
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        return CausalLMOutput(loss=loss, logits=logits)


class WrapsGPT2(nn.Module):
    def __init__(self, vocab_size, n_positions=128, d_model=64, n_heads=4, n_layer=2, block=Block):
        super().__init__()
        config = GPT2Config(
            vocab_size=vocab_size,
            n_positions=n_positions,
            n_embd=d_model,
            n_head=n_heads,
            n_layer=n_layer,
        )
        self.inner = GPT2LMHeadModel(config)

    def forward(self, input_ids, attention_mask=None, labels=None):
        return self.inner(input_ids=input_ids, labels=labels)


@pytest.mark.parametrize(
    ("answer", "status", "fragment"),
    [
        (TinyGPT, PASSED, "Same logits and loss as GPT-2"),
        (nb04.ReferenceGPT, NOT_YET, "write your own"),
        (None, NOT_ATTEMPTED, "still None"),
        (BlankGPT, NOT_ATTEMPTED, "NotImplementedError"),
        (NoPositions, NOT_YET, "position embeddings"),
        (PositionsFromIds, NOT_YET, "not the token ids"),
        (NoFinalNorm, NOT_YET, "final LayerNorm"),
        (Unchained, NOT_YET, "one after the other"),
        (Probabilities, NOT_YET, "returns probabilities"),
        (SeesTheFuture, NOT_YET, "sees the future"),
        (ReturnsLogits, NOT_YET, "scaffold's output"),
        (UnshiftedLoss, NOT_YET, "no shift"),
        (WrapsGPT2, NOT_YET, "calls `GPT2LMHeadModel`"),
    ],
)
def test_tiny_gpt(answer, status, fragment):
    assert_verdict(nb04.tiny_gpt.evaluate(answer), status, fragment)


def test_the_reference_gpt_trains_through_the_course_loop():
    """ReferenceGPT speaks train.fit's and lm.perplexity's language: .loss, .logits, labels=."""
    torch.manual_seed(0)
    model = nb04.ReferenceGPT(11, n_positions=8, d_model=8, n_heads=2, n_layer=1)
    ids = torch.randint(11, (3, 8))
    out = model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=ids)
    assert out.logits.shape == (3, 8, 11) and out.loss.dim() == 0
    assert model.lm_head.weight is model.wte.weight  # tied


# ----------------------------------------------------------------- the notebook's shape


def _notebook():
    import nbformat

    from coursekit import paths

    return nbformat.read(paths.notebooks_dir() / "04_language_modelling.ipynb", as_version=4)


def test_exercises_are_numbered_in_notebook_order_and_checked_in_that_order():
    import re

    from coursekit.checks import REGISTRY

    nb = _notebook()
    headings = [
        m.group(1)
        for c in nb.cells
        if c.cell_type == "markdown"
        for m in re.finditer(r"### Exercise (04\.\d)", c.source)
    ]
    assert headings == [f"04.{k}" for k in range(1, 7)]
    names = {fn.__name__: ex for ex, fn in REGISTRY.items() if ex.startswith("04.")}
    called = [
        names[m.group(1)]
        for c in nb.cells
        if c.cell_type == "code"
        for m in re.finditer(r"^check\.(\w+)\(", c.source, re.M)
        if m.group(1) in names
    ]
    assert called == headings


def test_no_coursekit_answer_is_on_screen_before_its_exercise():
    nb = _notebook()
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    first_check = {
        name: next(i for i, s in enumerate(sources) if s.startswith(f"check.{name}("))
        for name in ("shifted_loss", "gpt_block", "tiny_gpt")
    }
    for used, check in (
        ("lm.shifted_cross_entropy", "shifted_loss"),
        ("ReferenceBlock", "gpt_block"),
        ("ReferenceGPT", "tiny_gpt"),
    ):
        first_use = next(i for i, s in enumerate(sources) if used in s)
        assert first_use > first_check[check], used


def test_the_build_it_hints_are_staged_and_give_no_solution_line():
    import re

    from coursekit import learner

    def squash(text):
        return re.sub(r"\s+", "", text)

    solution = "\n".join(c.source for c in _notebook().cells if learner.has_solution(c.source))
    lines = [squash(ln) for ln in solution.splitlines() if len(squash(ln)) >= 12]
    for check in (nb04.gpt_block, nb04.tiny_gpt):
        assert len(check.hints) >= 2
        hints = squash(" ".join(check.hints))
        assert not [ln for ln in lines if ln in hints and not ln.startswith("#")]
        assert not any(code in check.hints[0] for code in ("self.", "=", "nn.", "torch"))


def test_the_notebooks_own_block_and_gpt_pass_their_checks():
    """The classes above restate the notebook's solution; this runs the notebook's cells
    themselves, so the two cannot drift apart unnoticed."""
    import nbformat

    from coursekit import paths

    nb = nbformat.read(paths.notebooks_dir() / "04_language_modelling.ipynb", as_version=4)
    space = {"nn": nn, "torch": torch, "F": F, "MultiHeadAttention": MultiHeadAttention}
    space.update(CausalLMOutput=CausalLMOutput, lm=lm)  # the given lines of forward use them
    for defines in ("class Block(", "class TinyGPT("):
        exec(
            next(c.source for c in nb.cells if c.cell_type == "code" and defines in c.source), space
        )
    assert nb04.gpt_block.evaluate(space["Block"]).status == PASSED
    assert nb04.tiny_gpt.evaluate(space["TinyGPT"]).status == PASSED
