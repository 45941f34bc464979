"""Helpers behind ``coursekit.train``: batching with little padding, and safe checkpoints.

Batching
    A transformer's cost grows with the padded batch width, so batches are
    padded only to their own longest example (*dynamic padding*), and examples
    of similar length are put together (*length grouping*): shuffle, cut the
    shuffled order into chunks of 50 batches, sort each chunk by length, slice
    it into batches, shuffle the batches. Order stays random between epochs
    but little padding is left. Under ``torchrun`` each process takes its
    slice ``batch[rank::world]`` of every global batch (or a
    ``DistributedSampler`` shard when grouping is off).

Checkpoints
    One safetensors file holds the weights and, for resuming, the optimizer
    moments, scheduler, gradient scaler and RNG state (no pickle, so loading
    runs no code). It is written to a temporary file in the same folder and
    moved into place with ``os.replace`` (atomic), so a crash while saving
    leaves the previous checkpoint intact. A checksum of every tensor is
    stored, so a truncated or corrupted file is refused with a clear
    :class:`CheckpointError` instead of loading garbage.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

FORMAT = "coursekit-checkpoint-1"
SEQUENCE_PAD = {"attention_mask": 0, "token_type_ids": 0, "special_tokens_mask": 1}


# --------------------------------------------------------------------------- batching


class RowsDataset:
    """A list of examples, each a dict of token lists (``input_ids``, ...) and a ``labels`` int."""

    def __init__(self, rows: list[dict[str, Any]]):
        self.rows = rows
        self.lengths = [len(r["input_ids"]) for r in rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.rows[i]


def to_rows(
    encodings_or_texts: Any,
    labels: Sequence[int] | None = None,
    tokenizer: Any = None,
    max_length: int | None = 128,
) -> list[dict[str, Any]]:
    """Normalise texts, a tokenizer output (dict of lists), or a list of dicts into rows.

    Texts are tokenized without padding (the collator pads each batch).
    ``labels`` (ints) are attached as ``"labels"``; rows may already carry them.
    """
    data = encodings_or_texts
    if hasattr(data, "column_names") and hasattr(data, "to_dict"):  # datasets.Dataset
        data = data.to_dict()
    if isinstance(data, str):
        raise TypeError("pass a list of texts, not a single string")
    if isinstance(data, Sequence) and data and isinstance(data[0], str):
        if tokenizer is None:
            raise ValueError("texts need a tokenizer: make_loader(texts, labels, tokenizer=tok)")
        data = tokenizer(list(data), truncation=max_length is not None, max_length=max_length)
    if isinstance(data, Mapping):  # dict / BatchEncoding of equal-length lists
        keys = [k for k in data if k != "length"]
        n = len(data[keys[0]])
        rows = [{k: _plain(data[k][i]) for k in keys} for i in range(n)]
    elif isinstance(data, Sequence):
        rows = [{k: _plain(v) for k, v in dict(r).items()} for r in data]
    else:
        raise TypeError(
            f"make_loader expects texts, a tokenizer output or a list of dicts, "
            f"not {type(data).__name__}"
        )
    if not rows:
        raise ValueError("make_loader got no examples")
    if "input_ids" not in rows[0]:
        raise ValueError("each example needs 'input_ids' (tokenize the texts first)")
    if labels is not None:
        labels = list(labels)
        if len(labels) != len(rows):
            raise ValueError(f"{len(rows)} examples but {len(labels)} labels")
        if labels and isinstance(labels[0], str):
            raise TypeError("labels must be ints (class ids); map the label names first")
        for row, y in zip(rows, labels, strict=True):
            row["labels"] = _plain(y)
    if max_length is not None:
        for row in rows:
            for k, v in row.items():
                if isinstance(v, list) and len(v) > max_length:
                    row[k] = v[:max_length]
    return rows


def _plain(value: Any) -> Any:
    """Tensors and arrays to Python lists / numbers, so rows are cheap to batch."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return list(value) if isinstance(value, tuple) else value


class PadCollator:
    """Stack rows into tensors, padding token lists to the batch's longest (or ``pad_to``)."""

    def __init__(self, pad_token_id: int = 0, pad_to: int | None = None):
        self.pad_token_id = pad_token_id
        self.pad_to = pad_to

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        batch = {}
        for key in rows[0]:
            values = [r[key] for r in rows]
            if isinstance(values[0], list):
                width = self.pad_to or max(len(v) for v in values)
                pad = self.pad_token_id if key == "input_ids" else SEQUENCE_PAD.get(key, -100)
                values = [v + [pad] * (width - len(v)) for v in values]
            batch[key] = torch.tensor(values)
        return batch


class LengthGroupedBatchSampler:
    """Global batches of similar-length examples; each process yields its slice of each.

    Deterministic for a given ``seed`` and epoch (call :meth:`set_epoch`), the
    same on every process, so ``batch[rank::world]`` shards never overlap.
    """

    def __init__(
        self,
        lengths: Sequence[int],
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
        chunk_batches: int = 50,
    ):
        self.lengths = list(lengths)
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.rank, self.world_size, self.drop_last = rank, world_size, drop_last
        self.chunk_batches = chunk_batches
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle differently (but reproducibly) for each epoch."""
        self.epoch = epoch

    def global_batches(self) -> list[list[int]]:
        """All global batches of this epoch (each ``batch_size * world_size`` examples)."""
        import torch

        n, size = len(self.lengths), self.batch_size * self.world_size
        gen = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(n, generator=gen).tolist() if self.shuffle else list(range(n))
        chunk = size * self.chunk_batches
        grouped: list[int] = []
        for s in range(0, n, chunk):
            grouped += sorted(order[s : s + chunk], key=lambda i: -self.lengths[i])
        batches = [grouped[s : s + size] for s in range(0, n, size)]
        if batches and (len(batches[-1]) < size and (self.drop_last or self.world_size > 1)):
            if self.drop_last or len(batches[-1]) < self.world_size:
                batches.pop()
        if self.shuffle and len(batches) > 1:
            perm = torch.randperm(len(batches), generator=gen).tolist()
            batches = [batches[i] for i in perm]
            longest = max(
                range(len(batches)), key=lambda b: max(self.lengths[i] for i in batches[b])
            )
            batches.insert(0, batches.pop(longest))  # a memory error shows up at step 1
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.global_batches():
            yield batch[self.rank :: self.world_size]

    def __len__(self) -> int:
        n, size = len(self.lengths), self.batch_size * self.world_size
        full, rest = divmod(n, size)
        keep_rest = (
            rest > 0 and not self.drop_last and (self.world_size == 1 or rest >= self.world_size)
        )
        return full + int(keep_rest)


class DistributedBatchSampler:
    """``DistributedSampler`` (works with one process too) cut into per-process batches."""

    def __init__(
        self,
        n: int,
        batch_size: int,
        shuffle: bool,
        seed: int,
        rank: int,
        world_size: int,
        drop_last: bool = False,
    ):
        from torch.utils.data import DistributedSampler

        self.sampler = DistributedSampler(
            range(n), num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed
        )
        self.batch_size, self.drop_last = batch_size, drop_last

    def set_epoch(self, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


def make_loader(
    encodings_or_texts: Any,
    labels: Iterable[int] | None = None,
    tokenizer: Any = None,
    batch_size: int = 32,
    max_length: int | None = 128,
    shuffle: bool = True,
    group_by_length: bool = True,
    seed: int = 0,
    *,
    pad_to_max_length: bool = False,
    drop_last: bool = False,
    shard: bool | None = None,
    pin_memory: bool | None = None,
    num_workers: int = 0,
) -> Any:
    """A ``DataLoader`` with dynamic padding and (optionally) length-grouped batches.

    ``encodings_or_texts``: texts (tokenized here with ``tokenizer``), a tokenizer
    output, a ``datasets.Dataset`` or a list of dicts. ``batch_size`` is per
    process. ``shard`` (default: when a process group is active and
    ``shuffle``) gives each process its slice of every global batch; validation
    loaders are not sharded, so every process evaluates the whole set and all
    agree on early stopping. ``pin_memory`` defaults to on when CUDA is present
    (page-locked host memory makes host-to-GPU copies faster and asynchronous).
    """
    import torch
    from torch.utils.data import DataLoader

    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rows = to_rows(
        encodings_or_texts, None if labels is None else list(labels), tokenizer, max_length
    )
    dataset = RowsDataset(rows)
    from coursekit import distributed

    rank, world = distributed.rank_world()
    if not (shuffle if shard is None else shard):
        rank, world = 0, 1
    if group_by_length:
        sampler: Any = LengthGroupedBatchSampler(
            dataset.lengths, batch_size, shuffle, seed, rank, world, drop_last
        )
    else:
        sampler = DistributedBatchSampler(
            len(dataset), batch_size, shuffle, seed, rank, world, drop_last
        )
    pad_id = getattr(tokenizer, "pad_token_id", None) or 0
    if pad_to_max_length and max_length is None:
        raise ValueError("pad_to_max_length needs max_length")
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=PadCollator(pad_id, max_length if pad_to_max_length else None),
        pin_memory=torch.cuda.is_available() if pin_memory is None else pin_memory,
        num_workers=num_workers,
    )


# --------------------------------------------------------------------------- checkpoints


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, corrupted or not a course checkpoint."""


def _state_tensors(model_or_state: Any) -> dict[str, Any]:
    state = model_or_state.state_dict() if hasattr(model_or_state, "state_dict") else model_or_state
    out, seen = {}, set()
    for name, t in state.items():
        t = t.detach().to("cpu").contiguous()
        if t.data_ptr() in seen and t.numel() > 0:  # tied weights: safetensors wants copies
            t = t.clone()
        seen.add(t.data_ptr())
        out[name] = t
    return out


def tensor_digest(tensors: Mapping[str, Any]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes (sorted by name)."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name]
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}".encode())
        if t.numel():
            h.update(t.reshape(-1).contiguous().view(__import__("torch").uint8).numpy().tobytes())
    return h.hexdigest()


def save_checkpoint(
    path: str | Path,
    model: Any,
    *,
    optimizer: Any = None,
    scheduler: Any = None,
    scaler: Any = None,
    meta: Mapping[str, Any] | None = None,
    rng: bool = False,
) -> Path:
    """Write weights (and optionally optimizer, scheduler, scaler, RNG) to one safetensors file.

    Atomic: written to a temporary file next to ``path``, flushed to disk, then
    renamed over ``path``; a crash at any point leaves the old file untouched.
    """
    import torch
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {f"model/{k}": v for k, v in _state_tensors(model).items()}
    info: dict[str, Any] = {"meta": dict(meta or {})}
    if optimizer is not None:
        opt_state = optimizer.state_dict()
        info["optimizer"] = {"param_groups": opt_state["param_groups"], "scalars": {}}
        for idx, state in opt_state["state"].items():
            for key, value in state.items():
                if torch.is_tensor(value):
                    tensors[f"optim/{idx}/{key}"] = value.detach().to("cpu").contiguous()
                else:
                    info["optimizer"]["scalars"][f"{idx}/{key}"] = value
    if scheduler is not None:
        info["scheduler"] = {k: v for k, v in scheduler.state_dict().items() if k != "lr_lambdas"}
    if scaler is not None:
        info["scaler"] = scaler.state_dict()
    if rng:
        tensors["rng/torch"] = torch.get_rng_state()
        if torch.cuda.is_available():
            for i, s in enumerate(torch.cuda.get_rng_state_all()):
                tensors[f"rng/cuda/{i}"] = s
    metadata = {
        "format": FORMAT,
        "sha256": tensor_digest(tensors),
        "info": json.dumps(info),
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_checkpoint(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(tensors, info)`` of a checkpoint, verified; :class:`CheckpointError` if unusable."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(
            f"checkpoint {path} is truncated or corrupted ({type(err).__name__}: {err}); "
            "it cannot be loaded. Delete it and resume from an earlier checkpoint or retrain."
        ) from None
    if metadata.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is a safetensors file but not a coursekit checkpoint; load plain weights "
            "with safetensors.torch.load_file or model.from_pretrained"
        )
    if tensor_digest(tensors) != metadata.get("sha256"):
        raise CheckpointError(
            f"checkpoint {path} is corrupted (checksum mismatch): its bytes changed after "
            "saving. Delete it and resume from an earlier checkpoint or retrain."
        )
    return tensors, json.loads(metadata.get("info", "{}"))


def load_checkpoint(
    path: str | Path,
    model: Any = None,
    *,
    optimizer: Any = None,
    scheduler: Any = None,
    scaler: Any = None,
    rng: bool = False,
) -> dict[str, Any]:
    """Load a checkpoint into the given objects; return its ``meta`` dict.

    Raises :class:`CheckpointError` (with the fix) for a missing, truncated or
    corrupted file, before touching ``model``, so the caller's weights stay intact.
    """
    import torch

    tensors, info = read_checkpoint(path)
    if model is not None:
        state = {k[len("model/") :]: v for k, v in tensors.items() if k.startswith("model/")}
        target = model.module if hasattr(model, "module") else model
        try:
            target.load_state_dict(state)
        except RuntimeError as err:
            raise CheckpointError(
                f"checkpoint {path} does not fit this model: {str(err).splitlines()[0]}"
            ) from None
    if optimizer is not None:
        if "optimizer" not in info:
            raise CheckpointError(f"{path} holds no optimizer state (it is a weights-only save)")
        state: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            if key.startswith("optim/"):
                _, idx, name = key.split("/", 2)
                state.setdefault(int(idx), {})[name] = value
        for key, value in info["optimizer"]["scalars"].items():
            idx, name = key.split("/", 1)
            state.setdefault(int(idx), {})[name] = value
        optimizer.load_state_dict(
            {"state": state, "param_groups": info["optimizer"]["param_groups"]}
        )
    if scheduler is not None and "scheduler" in info:
        sched_state = scheduler.state_dict()
        sched_state.update(info["scheduler"])
        scheduler.load_state_dict(sched_state)
    if scaler is not None and info.get("scaler"):
        scaler.load_state_dict(info["scaler"])
    if rng and "rng/torch" in tensors:
        torch.set_rng_state(tensors["rng/torch"])
        cuda = [tensors[k] for k in sorted(tensors) if k.startswith("rng/cuda/")]
        if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)
    return info.get("meta", {})


# --------------------------------------------------------------------------- TensorBoard


def read_tensorboard(log_dir: str | Path) -> Any:
    """All scalars under ``log_dir`` as a DataFrame (run, tag, step, value), for seaborn."""
    import pandas as pd
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    rows = []
    root = Path(log_dir)
    for folder in sorted({p.parent for p in root.rglob("events.out.tfevents.*")}):
        acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
        acc.Reload()
        run = str(folder.relative_to(root)) if folder != root else "."
        for tag in acc.Tags()["scalars"]:
            rows += [(run, tag, e.step, e.value) for e in acc.Scalars(tag)]
    frame = pd.DataFrame(rows, columns=["run", "tag", "step", "value"])
    return frame.drop_duplicates(["run", "tag", "step"], keep="last").reset_index(drop=True)


# --------------------------------------------------------------------------- toys for tests and demos


def toy_rows(n: int = 256, seed: int = 0, vocab_size: int = 64) -> list[dict[str, Any]]:
    """A learnable toy sentiment task for tests and demos (no tokenizer needed).

    Each example is 4-24 random tokens from ``5..12``; its label is 2 ("positive")
    when token 5 occurs more often than token 6, 0 ("negative") when less often,
    1 ("neutral") on a tie.
    """
    import random

    if vocab_size < 13:
        raise ValueError("toy_rows needs vocab_size >= 13")
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        ids = [rng.randrange(5, 13) for _ in range(rng.randrange(4, 25))]
        diff = ids.count(5) - ids.count(6)
        label = 2 if diff > 0 else (0 if diff < 0 else 1)
        rows.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": label})
    return rows


def tiny_bert(
    num_labels: int = 3,
    vocab_size: int = 64,
    seed: int = 0,
    dropout: float = 0.0,
    max_positions: int = 64,
) -> Any:
    """A 2-layer, 32-wide ``BertForSequenceClassification`` built from a config (no download).

    No dropout by default, so runs on 1 and N processes can be compared exactly.
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    config = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
        num_labels=num_labels,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )
    torch.manual_seed(seed)
    return BertForSequenceClassification(config)
