"""Direct preference optimisation (DPO): learn from pairs (chosen, rejected) without a reward model.

For a prompt ``x``, a preferred answer ``y_w`` and a worse one ``y_l``, DPO compares how much
more likely the *policy* ``π`` makes each answer than a frozen *reference* ``π_ref`` (the model
before DPO)::

    margin = β · [(log π(y_w|x) − log π_ref(y_w|x)) − (log π(y_l|x) − log π_ref(y_l|x))]
    loss   = −log σ(margin)                                 (mean over pairs)

Four log-probabilities per pair, each the *sum* over the answer's tokens
(:func:`sequence_logps`). At the start the policy equals the reference: margin 0, loss
``log 2``. :func:`train_dpo` runs the course's one loop (``coursekit.train.fit``) on it, with the
reference log-probabilities computed once beforehand (the reference never changes).
"""

from __future__ import annotations

import copy
import types
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from coursekit.post_training.chat import IGNORE_INDEX


def dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float = 0.1,
) -> torch.Tensor:
    """The mean DPO (sigmoid) loss from four tensors of summed log-probabilities, one per pair."""
    if beta <= 0:
        raise ValueError(f"beta must be > 0 (e.g. 0.1), got {beta!r}")
    shapes = {tuple(t.shape) for t in (policy_chosen, policy_rejected, ref_chosen, ref_rejected)}
    if len(shapes) != 1:
        raise ValueError(f"the four log-probability tensors need one shape, got {sorted(shapes)}")
    margin = beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))
    return -F.logsigmoid(margin).mean()


def trl_dpo_loss(
    policy_chosen: torch.Tensor,
    policy_rejected: torch.Tensor,
    ref_chosen: torch.Tensor,
    ref_rejected: torch.Tensor,
    beta: float = 0.1,
) -> torch.Tensor:
    """``trl``'s DPO loss (``DPOTrainer._compute_loss``, ``loss_type="sigmoid"``) on the same four numbers.

    ``trl`` computes its loss inside the trainer from a model's per-token log-probabilities, so a
    stand-in model hands it one log-probability per sequence (the others 0, so each sequence's sum
    is the given number) and the reference log-probabilities are passed as precomputed, as
    ``DPOConfig(precompute_ref_log_probs=True)`` does. Needs ``trl`` (tested with 1.16).
    """
    from collections import defaultdict

    from trl import DPOTrainer

    n = len(policy_chosen)
    logps = torch.cat([policy_chosen, policy_rejected]).float()
    per_token = torch.zeros(2 * n, 2)
    per_token[:, 0] = logps

    def model(**_: Any) -> Any:
        zeros = torch.zeros_like(per_token)
        return types.SimpleNamespace(
            log_probs=per_token, entropy=zeros, mean_logits=zeros, is_top1=zeros.bool()
        )

    model.training = True  # type: ignore[attr-defined]
    accelerator = types.SimpleNamespace(
        device="cpu", gather_for_metrics=lambda t: t, gather=lambda t: t
    )
    trainer = types.SimpleNamespace(
        model=model,
        accelerator=accelerator,
        aux_loss_enabled=False,
        ld_alpha=None,
        precompute_ref_logps=True,
        f_divergence_type="reverse_kl",
        loss_types=["sigmoid"],
        loss_weights=[1.0],
        beta=beta,
        use_weighting=False,
        _metrics=defaultdict(lambda: defaultdict(list)),
        _total_train_tokens=0,
        _tp_size=1,
    )
    inputs = {
        "input_ids": torch.zeros(2 * n, 3, dtype=torch.long),
        "attention_mask": torch.ones(2 * n, 3, dtype=torch.long),
        "completion_mask": torch.ones(2 * n, 3, dtype=torch.long),
        "ref_chosen_logps": ref_chosen.float(),
        "ref_rejected_logps": ref_rejected.float(),
    }
    return DPOTrainer._compute_loss(trainer, model, inputs, return_outputs=False)


def sequence_logps(
    model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Sum of ``log p(token)`` over the positions whose label is not ``-100``, one per row.

    Shifted as a causal LM is: the logits at position ``t`` score the label at ``t + 1``.
    """
    logits = model(input_ids=input_ids, attention_mask=attention_mask).logits[:, :-1].float()
    target = labels[:, 1:]
    keep = target != IGNORE_INDEX
    logp = torch.log_softmax(logits, -1).gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (logp * keep).sum(-1)


def pad_rows(rows: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    """Right-pad lists of ids to one length (a ``long`` tensor)."""
    width = max(len(r) for r in rows)
    return torch.tensor([list(r) + [value] * (width - len(r)) for r in rows], dtype=torch.long)


def pair_batch(
    chosen: Sequence[tuple[list[int], list[int]]],
    rejected: Sequence[tuple[list[int], list[int]]],
    pad_id: int,
) -> dict[str, torch.Tensor]:
    """Chosen rows then rejected rows, padded together: ``input_ids``, ``attention_mask``, ``labels``."""
    rows = list(chosen) + list(rejected)
    ids = pad_rows([r[0] for r in rows], pad_id)
    mask = pad_rows([[1] * len(r[0]) for r in rows], 0)
    labels = pad_rows([r[1] for r in rows], IGNORE_INDEX)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


class DPOObjective(torch.nn.Module):
    """``objective(**batch).loss`` for ``train.fit``: the DPO loss of the policy on one batch of pairs."""

    def __init__(self, policy: Any, beta: float = 0.1):
        super().__init__()
        self.policy, self.beta = policy, beta
        self.step_losses: list[float] = []

    def forward(self, input_ids: Any, attention_mask: Any, labels: Any, ref: Any) -> Any:
        logps = sequence_logps(self.policy, input_ids, attention_mask, labels)
        n = len(logps) // 2
        loss = dpo_loss(logps[:n], logps[n:], ref[:n], ref[n:], self.beta)
        if self.training:
            self.step_losses.append(float(loss.detach()))
        return types.SimpleNamespace(loss=loss, logits=logps)


class _PairBatches:
    """Batches of pairs for ``fit`` (``len()`` and iteration); reference log-probs included."""

    def __init__(self, batches: list[dict[str, torch.Tensor]]):
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self) -> Any:
        return iter(self.batches)


def train_dpo(
    policy: Any,
    pairs: Sequence[tuple[tuple[list[int], list[int]], tuple[list[int], list[int]]]],
    pad_id: int,
    *,
    beta: float = 0.1,
    epochs: int = 2,
    batch_size: int = 8,
    lr: float = 5e-4,
    seed: int = 0,
) -> tuple[Any, list[float]]:
    """DPO on ``pairs`` (``((chosen_ids, chosen_labels), (rejected_ids, rejected_labels))``).

    The reference is a frozen copy of ``policy`` as it is now. Returns ``(policy, step losses)``;
    the policy is trained in place (dropout off) and comes back in ``eval()`` mode.
    """
    from coursekit import train

    if not pairs:
        raise ValueError("no preference pairs: DPO needs at least one (chosen, rejected) pair")
    reference = copy.deepcopy(policy).eval()
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(pairs), generator=gen).tolist()
    batches = []
    for start in range(0, len(order), batch_size):
        chunk = [pairs[i] for i in order[start : start + batch_size]]
        batch = pair_batch([c for c, _ in chunk], [r for _, r in chunk], pad_id)
        with torch.no_grad():
            batch["ref"] = sequence_logps(
                reference, batch["input_ids"], batch["attention_mask"], batch["labels"]
            )
        batches.append(batch)
    objective = DPOObjective(policy, beta)
    # dropout would make policy and reference differ at step 0: switch it off while training
    drops = [m for m in policy.modules() if isinstance(m, torch.nn.Dropout)]
    saved = [m.p for m in drops]
    for m in drops:
        m.p = 0.0
    try:
        train.fit(
            objective,
            _PairBatches(batches),
            epochs=epochs,
            lr=lr,
            weight_decay=0.0,
            warmup_ratio=0.1,
            progress=False,
            seed=seed,
        )
    finally:
        for m, p in zip(drops, saved, strict=True):
            m.p = p
    policy.eval()
    return policy, objective.step_losses


__all__ = [
    "DPOObjective",
    "dpo_loss",
    "trl_dpo_loss",
    "pad_rows",
    "pair_batch",
    "sequence_logps",
    "train_dpo",
]
