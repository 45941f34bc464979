"""Notebook 08's build-it exercises: a sentence encoder (08.1) and an abstain rule (08.3).

The reference solutions are the solution notebook's own cells, executed here; each plausible
mistake gets its own message; calling coursekit's version is caught; a blank answer is
"not attempted" with no hint.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from check_helpers import blank

from coursekit import paths
from coursekit import retrieval as rt
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, nb08

NOTEBOOK = paths.notebooks_dir() / "08_answer_search.ipynb"


def _solution(defines: str, namespace: dict) -> dict:
    """Run the solution notebook's cell that defines ``defines`` in ``namespace``."""
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and f"def {defines}(" in c.source)
    exec(cell.source, namespace)
    return namespace


@pytest.fixture(scope="module")
def encoder_ns():
    tokenizer, encoder = rt.load_encoder()
    return _solution(
        "encode", {"np": np, "torch": torch, "tokenizer": tokenizer, "encoder": encoder}
    )


@pytest.fixture(scope="module")
def rule_ns():
    return _solution("fit_rule", {"np": np, "rt": rt})


def _variant(ns, *, mask=True, pool="mean", unit=True, truncate=True):
    tokenizer, encoder = ns["tokenizer"], ns["encoder"]

    def encode(texts, batch_size=32, max_length=128):
        out = [np.zeros((0, 384), dtype=np.float32)]
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=truncate,
                max_length=max_length if truncate else None,
                return_tensors="pt",
            )
            with torch.inference_mode():
                hidden = encoder(**batch).last_hidden_state
            m = batch["attention_mask"].unsqueeze(-1).float()
            if pool == "first":
                pooled = hidden[:, 0]
            elif mask:
                pooled = (hidden * m).sum(1) / m.sum(1)
            else:
                pooled = hidden.mean(1)
            if unit:
                pooled = torch.nn.functional.normalize(pooled, dim=1)
            out.append(pooled.numpy())
        return np.concatenate(out)

    return encode


def _status(verdict, status, fragment=""):
    assert verdict.status == status, verdict.line()
    assert fragment in verdict.message, verdict.line()


def test_08_1_the_notebook_solution_passes(encoder_ns):
    _status(nb08.sentence_encoder.evaluate(encoder_ns["encode"]), PASSED)


def test_08_1_a_blank_encoder_is_not_attempted_and_gets_no_hint():
    verdict = nb08.sentence_encoder.evaluate(blank)
    assert verdict.status == NOT_ATTEMPTED
    assert verdict.line().endswith("not attempted yet.")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"mask": False}, "average the padding"),
        ({"pool": "first"}, "first token"),
        ({"unit": False}, "not of length 1"),
        ({"truncate": False}, "not cut at max_length"),
    ],
)
def test_08_1_each_plausible_mistake_gets_its_own_message(encoder_ns, options, fragment):
    _status(nb08.sentence_encoder.evaluate(_variant(encoder_ns, **options)), NOT_YET, fragment)


def test_08_1_calling_coursekit_or_sentence_transformers_is_caught():
    def with_coursekit(texts, batch_size=32, max_length=128):
        return rt.embed(texts, batch_size=batch_size, max_length=max_length)

    _status(nb08.sentence_encoder.evaluate(with_coursekit), NOT_YET, "calls `embed`")


def test_08_1_pooling_with_coursekit_is_caught(encoder_ns):
    """The learner's own tokenizer and model, but coursekit's ``mean_pool``: refused."""
    tokenizer, encoder = encoder_ns["tokenizer"], encoder_ns["encoder"]

    def pooled_by_coursekit(texts, batch_size=32, max_length=128):
        out = [np.zeros((0, 384), dtype=np.float32)]
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            with torch.inference_mode():
                hidden = encoder(**batch).last_hidden_state
            pooled = rt.mean_pool(hidden, batch["attention_mask"])
            out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
        return np.concatenate(out)

    assert np.allclose(
        pooled_by_coursekit(["Where is my order?"]), rt.embed(["Where is my order?"]), atol=1e-4
    )
    _status(nb08.sentence_encoder.evaluate(pooled_by_coursekit), NOT_YET, "calls `mean_pool`")


def test_08_1_sentence_transformers_is_caught():
    from sentence_transformers import SentenceTransformer

    from coursekit.env import minilm_path

    model = SentenceTransformer(str(minilm_path()), device="cpu")

    def with_library(texts, batch_size=32, max_length=128):
        model.max_seq_length = max_length
        return model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True)

    _status(
        nb08.sentence_encoder.evaluate(with_library), NOT_YET, "calls `SentenceTransformer.encode`"
    )


def test_08_1_hidden_texts_matter(encoder_ns):
    """An encoder that ignores its input (the visible sentences' vectors) cannot pass."""
    visible = encoder_ns["encode"](["Where is my order?"])

    def fixed(texts, batch_size=32, max_length=128):
        return np.repeat(visible, len(texts), axis=0)

    _status(nb08.sentence_encoder.evaluate(fixed), NOT_YET)


def test_08_3_the_notebook_solution_passes(rule_ns):
    _status(nb08.abstain_rule.evaluate(rule_ns["pick_threshold"], rule_ns["fit_rule"]), PASSED)


def test_08_3_blank_is_not_attempted(rule_ns):
    verdict = nb08.abstain_rule.evaluate(blank, rule_ns["fit_rule"])
    assert verdict.status == NOT_ATTEMPTED and verdict.line().endswith("not attempted yet.")
    verdict = nb08.abstain_rule.evaluate(rule_ns["pick_threshold"], blank)
    assert verdict.status == NOT_ATTEMPTED and verdict.line().endswith("not attempted yet.")


def _cumulative(scores, correct, target):  # ignores ties
    order = np.argsort(-np.asarray(scores), kind="stable")
    s, c = np.asarray(scores)[order], np.asarray(correct)[order]
    ok = s[np.cumsum(c) / np.arange(1, len(c) + 1) >= target]
    return float(ok.min()) if len(ok) else float(s.max())


def _first_drop(scores, correct, target):
    order = np.argsort(-np.asarray(scores))
    s, c = np.asarray(scores)[order], np.asarray(correct)[order]
    bad = np.flatnonzero(np.cumsum(c) / np.arange(1, len(c) + 1) < target)
    return float(s[bad[0] - 1]) if len(bad) and bad[0] > 0 else float(s[-1])


@pytest.mark.parametrize(
    ("pick", "fragment"),
    [
        (_first_drop, "not monotonic"),
        (lambda s, c, t: float(np.max(s)), "LOWEST"),
        (lambda s, c, t: float(np.min(s)), "below 0.75"),
        (_cumulative, "answered together"),
        (lambda s, c, t: rt.choose_threshold(s, c, t), "calls `choose_threshold`"),
    ],
)
def test_08_3_each_wrong_threshold_gets_its_own_message(rule_ns, pick, fragment):
    _status(nb08.abstain_rule.evaluate(pick, rule_ns["fit_rule"]), NOT_YET, fragment)


def test_08_3_each_wrong_rule_gets_its_own_message(rule_ns):
    pick = rule_ns["pick_threshold"]

    def top_quantile(top, correct, target, floor_quantile=0.01):
        top = np.asarray(top)
        return rt.AbstainRule(float(np.quantile(top[:, 0], 1 - floor_quantile)), 0.0)

    def margin_on_best(top, correct, target, floor_quantile=0.01):
        top = np.asarray(top)
        return rt.AbstainRule(
            float(np.quantile(top[:, 0], floor_quantile)), pick(top[:, 0], correct, target)
        )

    def ready_made(top, correct, target, floor_quantile=0.01):
        return rt.fit_abstain_rule(top, correct, target, floor_quantile)

    cases = [
        (top_quantile, "95th percentile"),
        (margin_on_best, "chosen on the best scores"),
        (lambda *a, **k: (0.1, 0.2), "should return an rt.AbstainRule"),
        (ready_made, "calls `fit_abstain_rule`"),
    ]
    for fit, fragment in cases:
        _status(nb08.abstain_rule.evaluate(pick, fit), NOT_YET, fragment)


def test_08_3_hidden_validation_sets_matter(rule_ns):
    """A threshold that is right on the visible examples only still fails on hidden ones."""
    visible = {(0.75, 5): 0.6, (0.7, 4): 0.9, (0.5, 5): 0.9}

    def memorised(scores, correct, target):
        key = (target, len(scores))
        return visible.get(key, 0.5)

    verdict = nb08.abstain_rule.evaluate(memorised, rule_ns["fit_rule"])
    _status(verdict, NOT_YET, "hidden validation margins")
