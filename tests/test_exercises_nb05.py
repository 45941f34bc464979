"""Exercise 05.3 (the training step, built by the learner): the check's verdicts.

The reference is the notebook's own solution cell; the blank is its learner version; the
wrong loops are the mistakes learners make (each must get its own diagnosis), and the check's
reference loop must be `coursekit.train.fit`'s, weight for weight.
"""

from __future__ import annotations

import math
import re

import nbformat
import pytest
import torch
from check_helpers import COMMON, assert_verdict

from coursekit import learner, paths, train
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, REGISTRY, nb05

NOTEBOOK = paths.notebooks_dir() / "05_fine_tuning.ipynb"


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _solution_cell() -> str:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = [c.source for c in nb.cells if c.source.startswith("def train_steps(")]
    assert len(cells) == 1, "the notebook defines train_steps in one cell"
    return cells[0]


def _define(source: str):
    namespace = {"torch": torch, "train": train}
    exec(compile(source, "05_fine_tuning.ipynb", "exec"), namespace)
    return namespace["train_steps"]


REFERENCE = _define(_solution_cell())
BLANK = _define(learner.strip_solutions(_solution_cell()))


def check(fn):
    return nb05.training_step.evaluate(fn)


def loop(
    *,
    divide="group",
    clip="once",
    schedule="after",
    zero="after",
    step="group",
    autocast=True,
    join=False,
    loss="mean",
):
    """A training loop with one knob per plausible mistake (the defaults are right)."""

    def train_steps(model, optimizer, scheduler, micro_batches, k, max_grad_norm, precision, dev):
        model.to(dev)
        model.train()
        out = []
        groups = [micro_batches[i : i + k] for i in range(0, len(micro_batches), k)]
        if step == "drop_partial":
            groups = [g for g in groups if len(g) == k]
        for group in groups:
            if join:
                width = max(b["input_ids"].shape[1] for b in group)
                group = [
                    {
                        key: torch.cat(
                            [
                                torch.nn.functional.pad(b[key], (0, width - b[key].shape[1]))
                                if b[key].ndim == 2
                                else b[key]
                                for b in group
                            ]
                        )
                        for key in group[0]
                    }
                ]
            if clip == "before":
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm or 1.0)
            total = 0.0
            for batch in group:
                if zero == "each":
                    optimizer.zero_grad()
                with train.autocast("cpu", precision if autocast else "fp32"):
                    value = model(**batch).loss
                scale = {"group": len(group), "none": 1, "accumulation": k}[divide]
                (value / scale).backward()
                total += value.item() / (1 if loss == "sum" else len(group))
                if clip == "each" and max_grad_norm:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                if schedule == "each":
                    scheduler.step()
                if step == "each":
                    optimizer.step()
            if clip == "once" and max_grad_norm:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
            if clip == "always_1":  # hard-coded to the example's max_grad_norm
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            if schedule == "before":
                scheduler.step()
            if step != "each":
                optimizer.step()
            if schedule == "after":
                scheduler.step()
            if zero == "after":
                optimizer.zero_grad(set_to_none=True)
            out.append(total)
        return out

    return train_steps


# ----------------------------------------------------------------- the reference and a blank


def test_the_notebooks_solution_passes():
    assert_verdict(check(REFERENCE), PASSED, "same weights and learning rates as")
    assert_verdict(check(loop()), PASSED)


def test_the_solution_passes_where_the_cpu_has_no_bf16_too(monkeypatch):
    """fp32 cases plus one bf16 case checked for autocast only, as on an AVX2 laptop."""
    monkeypatch.setattr("coursekit.env.cpu_supports_bf16", lambda: False)
    cases = nb05._hidden_step_cases()
    assert nb05.VISIBLE_STEP_CASE.resolved_precision() == "fp32"
    assert [c.precision for c in cases if c.autocast_only] == ["bf16"]
    assert_verdict(check(REFERENCE), PASSED)
    assert_verdict(check(loop(autocast=False)), NOT_YET, "without bf16 autocast")


def test_the_learner_version_is_not_attempted_and_gets_no_hint():
    assert_verdict(check(BLANK), NOT_ATTEMPTED, "NotImplementedError")


@pytest.mark.parametrize(("answer", "status", "fragment"), COMMON)
def test_common_answers(answer, status, fragment):
    assert_verdict(check(answer), status, fragment)


def test_the_scaffold_leaves_every_hard_line_to_the_learner():
    blank = learner.strip_solutions(_solution_cell())
    assert blank.count("raise NotImplementedError") == 1
    for line in ("backward()", "clip_grad_norm_", "optimizer.step", "scheduler.step", "zero_grad"):
        assert line not in blank, line
    assert len(_solution_cell().splitlines()) - len(blank.splitlines()) >= 12


def test_hints_are_staged_and_hold_no_line_of_the_solution():
    hints = REGISTRY["05.3"].hints
    assert len(hints) == 3
    assert not re.search(r"\w\.\w+\(|=|\(\)", hints[0].replace("backward()", "")), hints[0]
    squashed = re.sub(r"\s+", "", " ".join(hints))
    for line in _solution_cell().split("### BEGIN SOLUTION")[1].splitlines():
        line = re.sub(r"\s+", "", line.split("#")[0])
        if len(line) >= 12:
            assert line not in squashed, line


# ----------------------------------------------------------------- the ready-made loop


def test_calling_fit_or_the_checks_answer_is_caught():
    def with_fit(model, optimizer, scheduler, micro_batches, k, max_grad_norm, precision, dev):
        train.fit(model, micro_batches, grad_accum_steps=k, max_grad_norm=max_grad_norm,
                  precision=precision, device=dev, progress=False)  # fmt: skip
        return REFERENCE(
            model, optimizer, scheduler, micro_batches, k, max_grad_norm, precision, dev
        )

    def with_answer(*args):
        return nb05.reference_train_steps(*args)

    for answer in (with_fit, with_answer):
        verdict = check(answer)
        assert_verdict(verdict, NOT_YET, "write your own")
        assert "fit" in verdict.message or "reference_train_steps" in verdict.message


def test_the_checks_reference_is_fits_loop_weight_for_weight():
    cases = [nb05.VISIBLE_STEP_CASE, *nb05._hidden_step_cases()]
    adamw = [c for c in cases if c.optimizer == "adamw" and not c.autocast_only]
    assert len(adamw) >= 2
    for case in adamw:
        precision = case.resolved_precision()
        ours = nb05._reference_run(case, precision)
        assert ours.lrs == pytest.approx(case.expected_lrs(), abs=1e-12)
        model = case.model()
        train.fit(model, case.micro_batches(), lr=case.lr, warmup_ratio=case.warmup_ratio,
                  grad_accum_steps=case.accumulation, max_grad_norm=case.max_grad_norm,
                  precision=precision, device="cpu", progress=False, schedule=case.schedule)  # fmt: skip
        for key, value in model.state_dict().items():
            assert torch.equal(value.float(), ours.weights[key]), (case.label, key)


def test_each_hidden_case_catches_what_it_is_there_for():
    """Clipping bites, shorter groups matter, unequal sizes make joining differ, and so on."""
    by_name = {c.label.split("(")[1].split(",")[0] + str(c.accumulation): c for c in
               nb05._hidden_step_cases() if not c.autocast_only}  # fmt: skip
    expect = {
        "SGD3": ["no_divide", "divide_by_accumulation", "joined", "no_zero", "zero_each"],
        "SGD2": ["clip_each", "no_clip", "no_zero"],
        "SGD5": ["no_divide", "divide_by_accumulation", "joined", "zero_each"],
        "AdamW1": ["no_zero"],
    }
    assert set(by_name) == set(expect)
    for name, mistakes in expect.items():
        case = by_name[name]
        precision = case.resolved_precision()
        want = nb05._reference_run(case, precision)
        start = nb05._reference_run(case, precision, "untrained").weights
        tol = nb05._tolerance(case, start, want.weights)
        assert nb05._max_diff(want.weights, start)[0] > 10 * tol, f"{name}: the weights move"
        for mistake in mistakes:
            wrong = nb05._reference_run(case, precision, mistake)
            assert nb05._max_diff(wrong.weights, want.weights)[0] > 2 * tol, (name, mistake)
    assert len(set(by_name["SGD3"].sizes)) > 1, "micro-batches of different sizes"
    assert len(by_name["SGD3"].sizes) % by_name["SGD3"].accumulation, "a shorter last group"


# ----------------------------------------------------------------- wrong loops


@pytest.mark.parametrize(
    ("wrong", "fragment"),
    [
        (loop(divide="none"), "loss went into backward() undivided"),
        (loop(divide="accumulation"), "instead of by its own size: with 2 micro-batches left"),
        (loop(clip="each"), "you clipped after every micro-batch"),
        (loop(clip="before"), "clip_grad_norm_ ran before backward()"),
        (loop(clip="never"), "the update was not clipped (max_grad_norm=0.05)"),
        (loop(schedule="each"), "scheduler.step() ran after every micro-batch (10 times)"),
        (loop(schedule="before"), "one schedule step ahead"),
        (loop(schedule="never"), "scheduler.step() was never called"),
        (loop(zero="never"), "the gradients were never cleared"),
        (loop(zero="each"), "cleared before every micro-batch"),
        (loop(step="each"), "optimizer.step() ran after every micro-batch"),
        (loop(step="drop_partial"), "the last, shorter group (2 micro-batches) took no step"),
        (loop(join=True), "you joined each group into one batch"),
        (loop(loss="sum"), "the sum of its 4 micro-batch losses"),
    ],
)
def test_each_wrong_loop_gets_its_own_diagnosis(wrong, fragment):
    assert_verdict(check(wrong), NOT_YET, fragment)


def test_forgetting_autocast_is_named():
    if nb05.VISIBLE_STEP_CASE.resolved_precision() != "bf16":
        pytest.skip("this CPU has no native bf16: the fp32 variant is in the test above")
    assert_verdict(check(loop(autocast=False)), NOT_YET, "precision is 'bf16' but the forward")


def test_autocast_under_fp32_is_named(monkeypatch):
    monkeypatch.setattr("coursekit.env.cpu_supports_bf16", lambda: False)

    def always_bf16(model, optimizer, scheduler, micro_batches, k, max_grad_norm, precision, dev):
        return REFERENCE(model, optimizer, scheduler, micro_batches, k, max_grad_norm, "bf16", dev)

    assert_verdict(check(always_bf16), NOT_YET, "precision is 'fp32' but the forward pass ran")


def test_a_crash_on_a_hidden_case_names_the_case():
    def clip_none(model, optimizer, scheduler, micro_batches, k, max_grad_norm, precision, dev):
        if max_grad_norm is None:
            raise TypeError("'<' not supported between 'NoneType' and 'float'")
        return REFERENCE(
            model, optimizer, scheduler, micro_batches, k, max_grad_norm, precision, dev
        )

    verdict = check(clip_none)
    assert_verdict(verdict, NOT_YET, "max_grad_norm=None), `train_steps` raised TypeError")


def test_hidden_inputs_matter():
    """A loop that always clips at the example's 1.0 passes the example and fails a hidden case."""
    hard_coded = loop(clip="always_1")
    case = nb05.VISIBLE_STEP_CASE
    got = nb05._run_steps(hard_coded, case, learner=True)
    nb05._steps_verdict(case, got, nb05._reference_run(case, case.resolved_precision()))
    assert_verdict(check(hard_coded), NOT_YET, "On a hidden case")


def test_nan_weights_do_not_pass():
    def nan(model, optimizer, scheduler, micro_batches, k, max_grad_norm, precision, dev):
        out = REFERENCE(
            model, optimizer, scheduler, micro_batches, k, max_grad_norm, precision, dev
        )
        with torch.no_grad():
            model.classifier.bias.fill_(math.nan)
        return out

    assert_verdict(check(nan), NOT_YET, "differ from the reference loop's")


# ----------------------------------------------------------------- the notebook around it


def test_exercise_ids_follow_the_notebook_order():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    headings = re.findall(r"^### Exercise (05\.\d) ·", markdown, re.M)
    ids = {getattr(nb05, n).exercise_id: n for n in dir(nb05) if hasattr(getattr(nb05, n), "hints")}
    names = {name: ex for ex, name in ids.items()}
    calls = [
        names[m]
        for c in nb.cells
        if learner.is_check_cell(c)
        for m in re.findall(r"check\.(\w+)\(", c.source)
    ]
    assert headings == calls == ["05.1", "05.2", "05.3", "05.4"]


def test_nothing_before_the_exercise_shows_or_calls_the_step():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    sources = [c.source for c in nb.cells]
    start = next(i for i, s in enumerate(sources) if s.startswith("### Exercise 05.3 ·"))
    index = sources.index("check.training_step(train_steps)")
    before = "\n".join(sources[:start])
    for text in ("clip_grad_norm_", "reference_train_steps", "/ k).backward", "loss / group"):
        assert text not in before, text
    after = "\n".join(c.source for c in nb.cells[index + 1 :])
    assert 'check.own_or_reference(train_steps, check.reference_train_steps, "05.3"' in after
