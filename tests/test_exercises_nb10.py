"""Notebook 10's exercises: the solution notebook's own cells pass their checks; blanks do not."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from check_helpers import blank
from torch import nn

from coursekit import paths
from coursekit.checks import NOT_ATTEMPTED, PASSED, nb10


def _solution() -> dict:
    import nbformat

    nb = nbformat.read(paths.notebooks_dir() / "10_post_training.ipynb", as_version=4)
    namespace: dict = {"torch": torch, "nn": nn, "F": F, "math": math}
    for defines in ("class LoRA(", "def prompt_masked_labels(", "def my_dpo_loss("):
        cell = next(c for c in nb.cells if c.cell_type == "code" and defines in c.source)
        exec(cell.source, namespace)
    return namespace


@pytest.fixture(scope="module")
def ns():
    return _solution()


def test_the_notebook_lora_layer_passes(ns):
    verdict = nb10.lora_layer.evaluate(ns["LoRA"])
    assert verdict.status == PASSED, verdict.line()


def test_the_notebook_masked_labels_pass(ns):
    verdict = nb10.masked_labels.evaluate(ns["prompt_masked_labels"])
    assert verdict.status == PASSED, verdict.line()


def test_the_notebook_dpo_loss_passes(ns):
    verdict = nb10.dpo_loss.evaluate(ns["my_dpo_loss"])
    assert verdict.status == PASSED, verdict.line()


def test_blanks_are_not_attempted():
    for check in (nb10.masked_labels, nb10.dpo_loss):
        verdict = check.evaluate(blank)
        assert verdict.status == NOT_ATTEMPTED, verdict.line()
        assert verdict.line().endswith("not attempted yet.")

    class Blank(nn.Module):
        def __init__(self, base, r, alpha):
            super().__init__()
            raise NotImplementedError

    assert nb10.lora_layer.evaluate(Blank).status == NOT_ATTEMPTED
