"""The fine-tuned MiniLM classifier: training, calibration, the cache key and loading.

:func:`train_classifier` fine-tunes the pretrained MiniLM encoder for 3 classes with
``coursekit.train.fit``, on a subset (at most 2,000 reviews per label, so the majority
*positive* class is cut down) small enough to train in one to three minutes on a laptop
CPU (bf16 or fp32). :func:`load_classifier` returns a :class:`SentimentClassifier` with
``predict`` and ``predict_proba``.

The default classifier lives in the artifact cache (``sentiment-minilm``), shared
by notebook 06 and ``coursekit sentiment``. Checkpoints are safetensors only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coursekit.schema import LABELS
from coursekit.sentiment.inputs import check_texts

MODEL_NAME = "sentiment-minilm"
MODEL_VERSION = "3"  # bump when the training code changes (settings are in the key)
META_FILE = "sentiment.json"
TRAIN_HINT = "run `coursekit sentiment train`"


# --------------------------------------------------------------------------- 3. MiniLM


class SentimentClassifier:
    """A fine-tuned transformer with ``predict`` / ``predict_proba`` over :data:`LABELS`.

    Texts are processed in chunks of ``batch_size`` (sorted by length so each
    chunk pads little), so memory stays bounded however many texts are passed.
    ``temperature`` (fitted on validation at training time) calibrates
    ``predict_proba``; it never changes ``predict``.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        max_length: int = 128,
        batch_size: int = 64,
        temperature: float = 1.0,
        precision: str = "auto",
        info: dict[str, Any] | None = None,
        path: Path | None = None,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.labels = tuple(model.config.id2label[i] for i in range(model.config.num_labels))
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)
        self.temperature = float(temperature)
        self.precision = precision
        self.info = dict(info or {})
        self.path = path

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path else ""
        return (
            f"SentimentClassifier(labels={list(self.labels)}, max_length={self.max_length}, "
            f"temperature={self.temperature:.2f}{where})"
        )

    def _autocast(self) -> Any:
        import torch

        from coursekit.env import resolve_precision

        device = next(self.model.parameters()).device.type
        precision = resolve_precision(self.precision, device)
        return torch.autocast(device, dtype=torch.bfloat16, enabled=precision == "bf16")

    def predict_logits(self, texts: str | Iterable[str]) -> np.ndarray:
        """Raw class scores, shape ``(n_texts, 3)``, in input order."""
        import torch

        texts = check_texts(texts)
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        device = next(self.model.parameters()).device
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                enc = self.tokenizer(
                    [texts[i] for i in idx],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                ).to(device)
                with self._autocast():
                    logits = self.model(**enc).logits
                out[idx] = logits.float().cpu().numpy()
        return out

    def predict_proba(
        self, texts: str | Iterable[str], temperature: float | None = None
    ) -> np.ndarray:
        """Class probabilities ``softmax(logits / T)``, shape ``(n_texts, 3)``.

        ``temperature`` defaults to the calibrated one stored with the model;
        pass ``1.0`` for the raw, uncalibrated probabilities.
        """
        from coursekit.metrics import softmax

        t = self.temperature if temperature is None else temperature
        return softmax(self.predict_logits(texts), t).astype(np.float32)

    def predict(self, texts: str | Iterable[str]) -> list[str]:
        """The most likely label for each text."""
        return [self.labels[i] for i in self.predict_logits(texts).argmax(axis=1)]

    def save(self, folder: str | Path) -> Path:
        """Write model (safetensors), tokenizer and settings to ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(folder, safe_serialization=True)
        self.tokenizer.save_pretrained(folder)
        meta = {
            "labels": list(self.labels),
            "max_length": self.max_length,
            "batch_size": self.batch_size,
            "temperature": self.temperature,
            "precision": self.precision,
            "info": self.info,
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return folder


def cache_version(config: TrainConfig | None = None) -> str:
    """The default model's cache version (:func:`coursekit.cache.recipe_key`).

    It covers every :class:`TrainConfig` setting, the labels, the reviews file's checksum
    (``data/MANIFEST.sha256``) and the pretrained MiniLM's files, so a changed default, a
    regenerated corpus or another base model gets a freshly trained model.
    """
    from coursekit import data, env, paths
    from coursekit.cache import folder_digest, recipe_key

    digest = (data._manifest(paths.data_dir()) or {}).get("shop/reviews.jsonl", "unknown")
    return recipe_key(
        {"sentiment": MODEL_VERSION, "config": config or TrainConfig(), "labels": LABELS},
        data=[digest],
        upstream=[folder_digest(env.minilm_path())],
    )


def default_model_path() -> Path:
    """Where the default classifier lives in the artifact cache (built or not)."""
    from coursekit.cache import artifact_path

    return artifact_path(MODEL_NAME, cache_version())


def load_classifier(
    path: str | Path | None = None, *, build: bool = False, device: str | None = None
) -> SentimentClassifier:
    """Load a trained classifier (default: the cached ``sentiment-minilm``).

    With ``build=True`` a missing default model is trained first (a minute or
    two on a laptop CPU, deterministic for a given processor and precision). A missing model otherwise raises
    ``FileNotFoundError`` saying how to train it. Only safetensors weights are read.
    """
    from coursekit import cache

    if path is None:
        if build:
            path = cache.get_or_build(MODEL_NAME, build_default_classifier, cache_version())
        elif not cache.is_built(MODEL_NAME, cache_version()):
            raise FileNotFoundError(
                f"no trained sentiment model at {default_model_path()}; {TRAIN_HINT} "
                "(one to three minutes on a laptop CPU) or pass build=True"
            )
        else:
            path = default_model_path()
    path = Path(path)
    if not (path / "model.safetensors").exists() or not (path / META_FILE).exists():
        raise FileNotFoundError(
            f"no trained sentiment model at {path} (model.safetensors and {META_FILE} expected); "
            f"{TRAIN_HINT} to create one"
        )
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from coursekit import env

    meta = json.loads((path / META_FILE).read_text())
    model = AutoModelForSequenceClassification.from_pretrained(path, use_safetensors=True)
    model.to(env.get_device(device))
    tokenizer = AutoTokenizer.from_pretrained(path)
    return SentimentClassifier(
        model,
        tokenizer,
        max_length=meta["max_length"],
        batch_size=meta.get("batch_size", 64),
        temperature=meta.get("temperature", 1.0),
        precision=meta.get("precision", "auto"),
        info=meta.get("info", {}),
        path=path,
    )


@dataclass
class TrainConfig:
    """The recipe of :func:`train_classifier` (defaults: the course's short CPU budget).

    Chosen on the validation split only (``benchmarks/sentiment.py`` reports test):
    one epoch over at most 2,000 reviews per label, embeddings and the bottom
    encoder layer frozen, precision ``auto`` (bf16 where the CPU computes it natively,
    else fp32). On the course's 2-core CPU with 2 threads, when nothing else runs: about
    65 s in bf16 (validation macro-F1 0.921; 0.916 with seed 1; freezing 0 / 2 layers gave
    0.904 / 0.907) and 133 s in fp32 under ``ATEN_CPU_CAPABILITY=avx2
    ONEDNN_MAX_CPU_ISA=AVX2`` (validation 0.914). A second busy process on the same cores
    makes it several times slower. A smaller recipe (1,200 per label, ``max_length`` 48,
    2 layers frozen) halves the fp32 time but drops validation macro-F1 to 0.882 (fp32) /
    0.883 (bf16), and MiniLM's lead over TF-IDF + LR on test vanishes (paired interval
    includes 0), so it was not taken.
    """

    n_per_class: int = 2000  # at most this many reviews per label from the train split
    max_length: int = 64
    epochs: int = 1
    batch_size: int = 16
    lr: float = 2e-4
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    precision: str = "auto"  # bf16 where the hardware computes it natively, else fp32
    freeze_embeddings: bool = True
    freeze_layers: int = 1  # bottom encoder layers kept frozen (no backward pass through them)
    n_val: int | None = None  # validation reviews for temperature fitting (None: all)
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def balanced_subset(df: pd.DataFrame, n_per_class: int, seed: int = 0) -> pd.DataFrame:
    """Up to ``n_per_class`` rows of each label, drawn reproducibly, in shuffled order."""
    parts = [
        g.sample(n=min(n_per_class, len(g)), random_state=seed)
        for _, g in df.groupby("label", sort=True)
    ]
    return pd.concat(parts).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def train_classifier(
    out_dir: str | Path | None = None,
    config: TrainConfig | None = None,
    *,
    train_df: pd.DataFrame | None = None,
    val_df: pd.DataFrame | None = None,
    progress: bool = False,
    **overrides: Any,
) -> SentimentClassifier:
    """Fine-tune MiniLM (``coursekit.env.minilm_path()``) for 3-class review sentiment.

    Trains on :func:`balanced_subset` of the shop's train split (at most
    ``n_per_class`` reviews per label) with
    ``coursekit.train.fit`` (AdamW, warm-up + linear decay, precision ``auto``:
    bf16 autocast where the CPU computes bf16 natively, else fp32), then fits the calibration temperature on validation logits. Saves
    to ``out_dir`` when given. Deterministic for a fixed seed and thread count.
    ``overrides`` replace fields of :class:`TrainConfig`.
    """
    import torch

    from coursekit import env, metrics

    cfg = config or TrainConfig()
    for key, value in overrides.items():
        if not hasattr(cfg, key):
            raise TypeError(f"unknown training option {key!r}; valid: {sorted(asdict(cfg))}")
        setattr(cfg, key, value)
    if train_df is None or val_df is None:
        from coursekit import data

        train_df = data.load_reviews("train") if train_df is None else train_df
        val_df = data.load_reviews("validation") if val_df is None else val_df
    subset = balanced_subset(train_df, cfg.n_per_class, cfg.seed)
    if cfg.n_val is not None and cfg.n_val < len(val_df):
        val_df = val_df.sample(n=cfg.n_val, random_state=cfg.seed)

    env.seed_everything(cfg.seed)
    tokenizer, model = minilm_for_labels()
    frozen = [model.base_model.embeddings] if cfg.freeze_embeddings else []
    frozen += list(model.base_model.encoder.layer[: cfg.freeze_layers])
    for module in frozen:
        for p in module.parameters():
            p.requires_grad_(False)

    start, cpu_start = time.perf_counter(), time.process_time()
    history = _fine_tune(model, tokenizer, subset, cfg, progress=progress)
    train_seconds = time.perf_counter() - start
    train_cpu_seconds = time.process_time() - cpu_start

    clf = SentimentClassifier(
        model, tokenizer, max_length=cfg.max_length, precision=cfg.precision, info={}
    )
    val_logits = clf.predict_logits(val_df["text"].tolist())
    y_val = np.array([LABELS.index(lab) for lab in val_df["label"]])
    clf.temperature = round(metrics.fit_temperature(val_logits, y_val), 4)
    val_pred = [LABELS[i] for i in val_logits.argmax(1)]
    clf.info = {
        "base_model": "all-MiniLM-L6-v2",
        "config": {k: v for k, v in asdict(cfg).items() if k != "extra"},
        "n_train": len(subset),
        "train_seconds": round(train_seconds, 1),
        "train_cpu_seconds": round(train_cpu_seconds, 1),
        "torch_threads": torch.get_num_threads(),
        "trained_precision": env.resolve_precision(cfg.precision, env.get_device()),
        "cpu_kernels": torch.backends.cpu.get_cpu_capability(),
        "val_macro_f1": round(metrics.macro_f1(val_df["label"], val_pred, LABELS), 4),
        "val_accuracy": round(metrics.accuracy(val_df["label"], val_pred), 4),
        "history": history,
    }
    if out_dir is not None:
        clf.save(out_dir)
        clf.path = Path(out_dir)
    return clf


def _fine_tune(
    model: Any, tokenizer: Any, subset: pd.DataFrame, cfg: TrainConfig, progress: bool
) -> list[dict[str, Any]]:
    """One call to ``coursekit.train.fit`` on the tokenised subset; returns the loss history."""
    from coursekit import env, train

    loader = train.make_loader(
        subset["text"].tolist(),
        [LABELS.index(lab) for lab in subset["label"]],
        tokenizer,
        batch_size=cfg.batch_size,
        max_length=cfg.max_length,
        shuffle=True,
        seed=cfg.seed,
    )
    result = train.fit(
        model,
        loader,
        epochs=cfg.epochs,
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        warmup_ratio=cfg.warmup_ratio,
        precision=cfg.precision,
        device=env.get_device(),
        progress=progress,
        seed=cfg.seed,
    )
    return [
        {k: (round(float(v), 4) if isinstance(v, float) else v) for k, v in h.items()}
        for h in getattr(result, "history", [])
    ]


def build_default_classifier(folder: Path) -> None:
    """``coursekit.cache`` build function: train with the default recipe into ``folder``."""
    train_classifier(folder)


def minilm_for_labels() -> tuple[Any, Any]:
    """The pretrained MiniLM (``coursekit.env.minilm_path()``) with a fresh head for ``LABELS``.

    The starting point of every sentiment fine-tune in the course (notebooks 06 and 10); seed
    first (``env.seed_everything``): the head's initial weights are random.
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from coursekit import env

    path = env.minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(
        path,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={lab: i for i, lab in enumerate(LABELS)},
    )
    return tokenizer, model


__all__ = [
    "META_FILE",
    "MODEL_NAME",
    "MODEL_VERSION",
    "TRAIN_HINT",
    "SentimentClassifier",
    "TrainConfig",
    "balanced_subset",
    "build_default_classifier",
    "cache_version",
    "default_model_path",
    "load_classifier",
    "minilm_for_labels",
    "train_classifier",
]
