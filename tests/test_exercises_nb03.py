"""Exercise 03.5 (masked multi-head attention, built by the learner): the check's verdicts.

The reference is the notebook's own solution cell; the blank is its learner version; the
wrong modules are the mistakes learners make, each of which must get its own diagnosis.
"""

from __future__ import annotations

import math
import re

import nbformat
import pytest
import torch
import torch.nn.functional as F
from check_helpers import assert_verdict
from torch import nn

from coursekit import attention as A
from coursekit import learner, paths
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, REGISTRY, nb03

NOTEBOOK = paths.notebooks_dir() / "03_attention.ipynb"


def _solution_cell() -> str:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = [c.source for c in nb.cells if "class MultiHeadSelfAttention" in c.source]
    assert len(cells) == 1, "the notebook defines MultiHeadSelfAttention in one cell"
    return cells[0]


def _define(source: str) -> type:
    namespace = {"torch": torch, "nn": nn, "math": math, "F": F}
    exec(compile(source, "03_attention.ipynb", "exec"), namespace)
    return namespace["MultiHeadSelfAttention"]


REFERENCE = _define(_solution_cell())
BLANK = _define(learner.strip_solutions(_solution_cell()))


def check(cls):
    return nb03.multi_head_attention.evaluate(cls)


# ----------------------------------------------------------------- the reference and a blank


def test_the_notebooks_solution_passes_and_matches_minilm():
    verdict = check(REFERENCE)
    assert_verdict(verdict, PASSED, "matches torch.nn.MultiheadAttention on 16 inputs")
    assert "MiniLM's layer 3" in verdict.message


def test_the_learner_version_is_not_attempted_and_gets_no_hint():
    assert_verdict(check(BLANK), NOT_ATTEMPTED, "NotImplementedError")
    assert_verdict(check(None), NOT_ATTEMPTED, "still None")


def test_the_scaffold_leaves_every_hard_line_to_the_learner():
    blank = learner.strip_solutions(_solution_cell())
    assert blank.count("raise NotImplementedError") == 5  # one per step of forward
    for line in ("math.sqrt", "masked_fill", "torch.softmax(", "out_proj(", ".transpose(1, 2)"):
        assert line not in blank.split("def forward")[1], line


def test_hints_are_staged_and_hold_no_line_of_the_solution():
    hints = REGISTRY["03.5"].hints
    assert len(hints) == 3
    assert not re.search(r"\w\.\w+\(|torch|@|=", hints[0]), "the first hint is a nudge, no code"
    squashed = re.sub(r"\s+", "", " ".join(hints))
    for line in _solution_cell().splitlines():
        line = re.sub(r"\s+", "", line)
        if len(line) >= 12 and not line.startswith("#"):
            assert line not in squashed, line


# ----------------------------------------------------------------- wrong modules


def flawed(
    *,
    scale="d_head",
    dim=-1,
    split="ok",
    merge="ok",
    pad="keys",
    causal_diagonal=0,
    causal_triangle="lower",
    combine="and",
    when="before",
    out_proj=True,
    fill=float("-inf"),
    heads=None,
):
    """A learner's module with one mistake (the defaults: none)."""

    class Flawed(REFERENCE):
        def forward(self, x, attention_mask=None, causal=False):
            b, n, d = x.shape
            h = heads or self.n_heads
            dh = d // h

            def split_heads(t):
                if split == "view":
                    return t.view(b, h, n, dh)
                return t.view(b, n, h, dh).transpose(1, 2)

            q, k, v = (split_heads(p(x)) for p in (self.q_proj, self.k_proj, self.v_proj))
            divide = {"d_head": math.sqrt(dh), "none": 1.0, "d_model": math.sqrt(d)}[scale]
            scores = q @ k.transpose(-2, -1) / divide
            blocked = []
            if attention_mask is not None:
                hide = attention_mask == (1 if pad == "inverted" else 0)
                blocked.append(hide[:, None, :, None] if pad == "queries" else hide[:, None, None])
            if causal:
                ones = torch.ones(n, n, dtype=torch.bool)
                if causal_triangle == "lower":
                    blocked.append(~ones.tril(causal_diagonal))
                else:
                    blocked.append(~ones.triu())
            if len(blocked) == 2 and combine != "and":
                blocked = {"or": [blocked[0] & blocked[1]], "first": blocked[:1]}[combine]
            if when == "before":
                for m in blocked:
                    scores = scores.masked_fill(m, fill)
            weights = torch.softmax(scores, dim=dim)
            if when == "after":
                for m in blocked:
                    weights = weights.masked_fill(m, 0.0)
            out = weights @ v
            out = (
                out.reshape(b, n, d) if merge == "reshape" else out.transpose(1, 2).reshape(b, n, d)
            )
            return (self.out_proj(out) if out_proj else out), weights

    return Flawed


@pytest.mark.parametrize(
    ("module", "fragment"),
    [
        (flawed(scale="none"), "not scaled"),
        (flawed(scale="d_model"), "you scaled by √d_model"),
        (flawed(dim=-2), "softmax runs over the wrong axis"),
        (flawed(split="view"), "view that mixes positions"),
        (flawed(split="view", merge="reshape"), "view that mixes positions"),
        (flawed(merge="reshape"), "merged without moving them back"),
        (flawed(out_proj=False), "output projection is missing"),
        (flawed(when="after"), "applied after the softmax"),
        (flawed(pad="inverted"), "padding mask is inverted"),
        (flawed(pad="inverted", fill=torch.finfo(torch.float32).min), "padding mask is inverted"),
        (flawed(pad="queries"), "hides queries (rows of the scores) instead of keys"),
        (flawed(causal_diagonal=-1), "hides the diagonal"),
        (flawed(causal_diagonal=-1, fill=-1e9), "hides the diagonal"),
        (flawed(causal_diagonal=1), "off by one"),
        (flawed(causal_triangle="upper"), "wrong triangle"),
        (flawed(combine="or"), "AND"),
        (flawed(combine="first"), "ignores the causal mask when a padding mask is given"),
    ],
)
def test_each_plausible_mistake_gets_its_own_diagnosis(module, fragment):
    verdict = check(module)
    assert_verdict(verdict, NOT_YET, fragment)
    assert "Hint 1 of 3" in verdict.line()  # the nudge, never more on the first failure


def test_hidden_inputs_matter_a_module_fitted_to_the_visible_example_fails():
    verdict = check(flawed(heads=2))  # the visible example has 2 heads: hard-coded, it passes it
    assert_verdict(verdict, NOT_YET, "on a hidden input")
    hidden = [c for c in nb03._cases() if "hidden" in c.label]
    assert len(hidden) == 8 and {c.n_heads for c in hidden} - {2}
    assert all(c.x.shape[1:] != (5, 8) for c in hidden)


def test_edge_cases_are_checked_a_length_one_slip_fails():
    class SqueezesLengthOne(REFERENCE):
        def forward(self, x, attention_mask=None, causal=False):
            out, weights = super().forward(x, attention_mask, causal)
            return out.squeeze(1) if x.shape[1] == 1 else out, weights

    assert_verdict(check(SqueezesLengthOne), NOT_YET, "sequences of one token")


def test_returning_only_the_output_is_named():
    class OutputOnly(REFERENCE):
        def forward(self, x, attention_mask=None, causal=False):
            return super().forward(x, attention_mask, causal)[0]

    assert_verdict(check(OutputOnly), NOT_YET, "should return (output, weights)")


def test_wrong_arguments_are_reported_without_a_traceback():
    assert_verdict(check("MultiHeadSelfAttention"), NOT_YET, "should be a class")
    assert_verdict(check(REFERENCE(8, 2)), NOT_YET, "pass the class itself")

    class Renamed(REFERENCE):
        def __init__(self, d_model, n_heads):
            super().__init__(d_model, n_heads)
            self.o = self.out_proj
            del self.out_proj

    assert_verdict(check(Renamed), NOT_YET, "has no `out_proj`")


def test_an_unfinished_earlier_exercise_is_named_not_taken_for_a_blank():
    def split_heads(x, n_heads):
        raise NotImplementedError("replace this line with your solution")

    class UsesOwnSplit(REFERENCE):
        def forward(self, x, attention_mask=None, causal=False):
            split_heads(x, self.n_heads)

    assert_verdict(check(UsesOwnSplit), NOT_YET, "calls `split_heads`, which still raises")


# ----------------------------------------------------------------- ready-made attention


def _sdpa_module(attend):
    class ReadyMade(REFERENCE):
        def forward(self, x, attention_mask=None, causal=False):
            b, n, d = x.shape
            q, k, v = (
                p(x).view(b, n, self.n_heads, self.d_head).transpose(1, 2)
                for p in (self.q_proj, self.k_proj, self.v_proj)
            )
            allowed = torch.ones(b, 1, n, n, dtype=torch.bool)
            if attention_mask is not None:
                allowed = allowed & attention_mask.bool()[:, None, None, :]
            if causal:
                allowed = allowed & torch.ones(n, n, dtype=torch.bool).tril()
            out, weights = attend(q, k, v, allowed)
            return self.out_proj(out.transpose(1, 2).reshape(b, n, d)), weights

    return ReadyMade


class CoursekitModule(REFERENCE):
    def forward(self, x, attention_mask=None, causal=False):
        mine = A.MultiHeadAttention(x.shape[-1], self.n_heads)
        mine.load_state_dict(self.state_dict())
        return mine(x, attention_mask=attention_mask, causal=causal)


class TorchModule(REFERENCE):
    def forward(self, x, attention_mask=None, causal=False):
        d, n = x.shape[-1], x.shape[1]
        mha = nn.MultiheadAttention(d, self.n_heads, batch_first=True)
        with torch.no_grad():
            mha.in_proj_weight.copy_(
                torch.cat([self.q_proj.weight, self.k_proj.weight, self.v_proj.weight])
            )
            mha.in_proj_bias.copy_(
                torch.cat([self.q_proj.bias, self.k_proj.bias, self.v_proj.bias])
            )
            mha.out_proj.load_state_dict(self.out_proj.state_dict())
        return mha(
            x,
            x,
            x,
            key_padding_mask=None if attention_mask is None else attention_mask == 0,
            attn_mask=~torch.ones(n, n, dtype=torch.bool).tril() if causal else None,
            average_attn_weights=False,
        )


def _torch_sdpa(q, k, v, allowed):
    weights = torch.softmax(
        (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~allowed, float("-inf")), -1
    )
    return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed), weights


@pytest.mark.parametrize(
    ("module", "name"),
    [
        (
            _sdpa_module(lambda q, k, v, allowed: A.scaled_dot_product_attention(q, k, v, allowed)),
            "`scaled_dot_product_attention`",
        ),
        (_sdpa_module(_torch_sdpa), "`scaled_dot_product_attention`"),
        (CoursekitModule, "`MultiHeadAttention`"),
        (TorchModule, "`MultiheadAttention`"),
    ],
)
def test_a_module_that_calls_a_ready_made_attention_is_caught(module, name):
    verdict = check(module)
    assert_verdict(verdict, NOT_YET, f"your module calls {name}")
    assert "write your own" in verdict.message


# ----------------------------------------------------------------- the stepping stones 03.1-03.4


#: check function name -> its exercise id
REGISTRY_NAME = {
    name: getattr(nb03, name).exercise_id
    for name in dir(nb03)
    if hasattr(getattr(nb03, name), "exercise_id")
}


@pytest.mark.parametrize(
    ("check_fn", "answer"),
    [
        (nb03.attention_scores, lambda q, k: A.attention_scores(q, k)),
        (nb03.stable_softmax, lambda x: A.stable_softmax(x)),
        (nb03.stable_softmax, lambda x: F.softmax(x, dim=-1)),
        (nb03.causal_mask, lambda n: A.causal_mask(n)),
        (nb03.split_heads, lambda x, h: A.split_heads(x, h)),
    ],
)
def test_the_small_exercises_do_not_pass_on_coursekits_version(check_fn, answer):
    assert_verdict(check_fn.evaluate(answer), NOT_YET, "write your own")


def test_exercise_ids_follow_the_notebook_order():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    headings = re.findall(
        r"^### Exercise (03\.\d) ·",
        "\n".join(c.source for c in nb.cells if c.cell_type == "markdown"),
        re.M,
    )
    calls = [
        REGISTRY_NAME[m]
        for c in nb.cells
        if learner.is_check_cell(c)
        for m in re.findall(r"check\.(\w+)\(", c.source)
    ]
    assert headings == calls == ["03.1", "03.2", "03.3", "03.4", "03.5"]


def test_nothing_before_an_exercise_calls_coursekits_solution_of_it():
    """No cell before an exercise's check calls the coursekit function that solves it."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    solves = {
        "03.1": ["A.attention_scores"],
        "03.2": ["A.stable_softmax"],
        "03.3": ["A.causal_mask"],
        "03.4": ["A.split_heads"],
        "03.5": ["A.MultiHeadAttention", "A.scaled_dot_product_attention", "bert_attention_probs"],
    }
    seen = ""
    for cell in nb.cells:
        if learner.is_check_cell(cell):
            ex = REGISTRY_NAME[re.findall(r"check\.(\w+)\(", cell.source)[0]]
            for name in solves[ex]:
                assert name not in seen, f"{name} is on screen before exercise {ex}"
        elif cell.cell_type == "code":
            seen += cell.source
