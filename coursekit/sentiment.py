"""Review sentiment: three models side by side, error slices, explanations and aspects.

A shop reads thousands of reviews a week; it needs each one labelled
*negative*, *neutral* or *positive*, and it needs to know **where** the labels
are wrong. Three models, from cheapest to best:

1. :class:`VaderBaseline`: a hand-built lexicon (VADER) gives a compound score
   in [-1, 1]; two thresholds, chosen on validation, cut it into 3 classes.
2. :func:`train_tfidf`: word and character n-grams of the cleaned text
   (``coursekit.text``), TF-IDF weighted, into a logistic regression.
3. :func:`train_classifier`: the pretrained MiniLM encoder fine-tuned for
   3 classes with ``coursekit.train.fit``, on a subset (at most 2,000 reviews
   per label, so the majority *positive* class is cut down) small enough
   to train in one to three minutes on a laptop CPU (bf16 or fp32). :func:`load_classifier`
   returns a :class:`SentimentClassifier` with ``predict`` and ``predict_proba``.

Around them: :func:`slice_masks` (negation, contrast, sarcasm, emoji, typos,
length, category) for error analysis, :func:`occlusion` + :func:`render_html` /
:func:`render_text` for token-level explanations, and
:func:`aspect_sentiment` for per-aspect polarity (sentence and clause
splitting + the classifier).

The default classifier lives in the artifact cache (``sentiment-minilm``), shared
by notebook 06 and ``coursekit sentiment``. Checkpoints are safetensors only.
"""

from __future__ import annotations

import functools
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
MODEL_NAME = "sentiment-minilm"
MODEL_VERSION = "3"  # bump when the training code changes (settings are in the key)
META_FILE = "sentiment.json"
TRAIN_HINT = "run `coursekit sentiment train`"

# --------------------------------------------------------------------------- input checks


def check_texts(texts: str | Iterable[str], name: str = "texts") -> list[str]:
    """Validate a batch of review texts; a single ``str`` counts as a batch of one.

    Raises ``TypeError`` for a non-string item (``None``, a number, NaN) and
    ``ValueError`` for an empty or whitespace-only text, naming its position.
    """
    if isinstance(texts, str):
        texts = [texts]
    elif isinstance(texts, (bytes, dict)) or not isinstance(texts, Iterable):
        raise TypeError(f"{name} must be a str or a list of str, got {type(texts).__name__}")
    out = list(texts)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise TypeError(
                f"{name}[{i}] is a {type(t).__name__} ({t!r:.40}), not a str; "
                "drop missing reviews (e.g. df.dropna(subset=['text'])) first"
            )
        if not t.strip():
            raise ValueError(f"{name}[{i}] is empty; there is nothing to classify")
    return out


# --------------------------------------------------------------------------- 1. VADER


def vader_scores(texts: str | Iterable[str]) -> np.ndarray:
    """VADER's compound score in [-1, 1] for each text (rule-based, no training)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = _vader()
    assert isinstance(analyzer, SentimentIntensityAnalyzer)
    return np.array([analyzer.polarity_scores(t)["compound"] for t in check_texts(texts)])


_VADER: list[Any] = []


def _vader() -> Any:
    if not _VADER:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _VADER.append(SentimentIntensityAnalyzer())
    return _VADER[0]


def scores_to_labels(scores: Sequence[float], low: float, high: float) -> list[str]:
    """Cut scores into classes: ``< low`` negative, ``> high`` positive, else neutral."""
    if low > high:
        raise ValueError(f"low threshold {low} is above high threshold {high}")
    s = np.asarray(scores, dtype=float)
    codes = np.where(s < low, 0, np.where(s > high, 2, 1))
    return [LABELS[c] for c in codes]


def choose_thresholds(
    scores: Sequence[float],
    labels: Sequence[str],
    grid: Sequence[float] | None = None,
) -> tuple[float, float]:
    """The ``(low, high)`` pair on ``grid`` that maximises macro-F1 of :func:`scores_to_labels`.

    Use validation scores: thresholds picked on test would flatter the baseline.
    Ties go to the first pair found (lowest ``low``, then lowest ``high``).
    """
    from coursekit.metrics import macro_f1

    s = np.asarray(scores, dtype=float)
    y = list(labels)
    if len(s) != len(y):
        raise ValueError(f"{len(s)} scores but {len(y)} labels")
    grid = np.round(np.arange(-0.95, 0.951, 0.05), 2) if grid is None else np.asarray(grid)
    best, best_pair = -1.0, (float(grid[0]), float(grid[0]))
    for lo in grid:
        for hi in grid[grid >= lo]:
            f1 = macro_f1(y, scores_to_labels(s, lo, hi), LABELS)
            if f1 > best + 1e-12:
                best, best_pair = f1, (float(lo), float(hi))
    return best_pair


@dataclass
class VaderBaseline:
    """VADER's compound score cut into 3 classes at two thresholds."""

    low: float = -0.05
    high: float = 0.05

    def fit(self, texts: Iterable[str], labels: Sequence[str]) -> VaderBaseline:
        """Choose the thresholds that maximise macro-F1 on these (validation) texts."""
        self.low, self.high = choose_thresholds(vader_scores(texts), labels)
        return self

    def predict(self, texts: str | Iterable[str]) -> list[str]:
        """Labels for ``texts``."""
        return scores_to_labels(vader_scores(texts), self.low, self.high)


# --------------------------------------------------------------------------- 2. TF-IDF


def train_tfidf(
    texts: Iterable[str],
    labels: Sequence[str],
    *,
    C: float = 4.0,
    cleaner: Callable[[str], Any] | None = None,
    char_ngrams: tuple[int, int] = (2, 5),
    word_ngrams: tuple[int, int] = (1, 2),
    min_df: int = 2,
) -> Any:
    """Fit word + character n-gram TF-IDF features and a logistic regression.

    Words come from ``cleaner`` (default: ``coursekit.text.make_cleaner`` with
    negations kept and marked, so "not good" yields ``not_good``); character
    n-grams of the lower-cased raw text catch typos ("grate" ~ "great") and
    emoji. Returns a fitted scikit-learn ``Pipeline`` with ``predict`` and
    ``predict_proba``.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    texts = check_texts(texts)
    if cleaner is None:
        from coursekit.text import make_cleaner

        cleaner = make_cleaner(negation_scope=True, stopwords=False)
    words = TfidfVectorizer(
        preprocessor=cleaner,
        tokenizer=str.split,
        token_pattern=None,
        lowercase=False,
        ngram_range=word_ngrams,
        min_df=min_df,
        sublinear_tf=True,
    )
    chars = TfidfVectorizer(
        analyzer="char_wb", ngram_range=char_ngrams, min_df=min_df, sublinear_tf=True
    )
    model = Pipeline(
        [
            ("features", FeatureUnion([("words", words), ("chars", chars)])),
            ("clf", LogisticRegression(C=C, max_iter=2000)),
        ]
    )
    return model.fit(texts, list(labels))


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
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

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
    path = env.minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(
        path,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={lab: i for i, lab in enumerate(LABELS)},
    )
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


# --------------------------------------------------------------------------- error slices

HARD_SLICES: tuple[str, ...] = ("negation", "contrast", "sarcasm")
SHORT_WORDS = 8
LONG_WORDS = 60


def n_words(texts: Iterable[str]) -> np.ndarray:
    """Whitespace word count of each text."""
    return np.array([len(t.split()) for t in texts])


def slice_masks(
    reviews: pd.DataFrame,
    phenomena: Sequence[str] = ("negation", "contrast", "sarcasm", "emoji", "typo"),
    short_words: int = SHORT_WORDS,
    long_words: int = LONG_WORDS,
    by_category: bool = True,
) -> dict[str, np.ndarray]:
    """Boolean masks over ``reviews`` rows, one per slice, ``"all"`` first.

    Phenomenon slices come from the corpus's ``phenomena`` tags; ``short``
    (``<= short_words`` words) and ``long`` (``>= long_words``) from the text;
    ``category=...`` slices when ``by_category``.
    """
    tags = reviews["phenomena"].map(lambda xs: set(xs) if isinstance(xs, Iterable) else set())
    words = n_words(reviews["text"])
    masks: dict[str, np.ndarray] = {"all": np.ones(len(reviews), dtype=bool)}
    for tag in phenomena:
        masks[tag] = tags.map(lambda s, tag=tag: tag in s).to_numpy(dtype=bool)
    masks[f"short (<= {short_words} words)"] = words <= short_words
    masks[f"long (>= {long_words} words)"] = words >= long_words
    if by_category and "category" in reviews:
        for cat in sorted(reviews["category"].unique()):
            masks[f"category={cat}"] = (reviews["category"] == cat).to_numpy()
    return masks


def slice_report(
    y_true: Sequence[str],
    predictions: dict[str, Sequence[str]],
    masks: dict[str, np.ndarray],
    metric: str = "macro_f1",
    min_size: int = 1,
) -> pd.DataFrame:
    """One row per slice: its size and each model's ``metric`` on it (``macro_f1`` or ``accuracy``)."""
    from coursekit import metrics

    fn = {"macro_f1": lambda t, p: metrics.macro_f1(t, p, LABELS), "accuracy": metrics.accuracy}
    if metric not in fn:
        raise ValueError(f"metric must be 'macro_f1' or 'accuracy', got {metric!r}")
    y = np.asarray(y_true)
    rows = []
    for name, mask in masks.items():
        mask = np.asarray(mask, dtype=bool)
        if mask.sum() < min_size:
            continue
        row: dict[str, Any] = {"slice": name, "n": int(mask.sum())}
        for model, pred in predictions.items():
            row[model] = fn[metric](y[mask], np.asarray(pred)[mask])
        rows.append(row)
    return pd.DataFrame(rows).set_index("slice")


# --------------------------------------------------------------------------- explanations

_WORD = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")


@dataclass(frozen=True)
class Explanation:
    """Token-level occlusion weights for one text and the class they explain."""

    text: str
    label: str
    prob: float
    spans: list[tuple[int, int]]
    weights: list[float]

    @property
    def tokens(self) -> list[str]:
        return [self.text[a:b] for a, b in self.spans]

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` tokens whose removal lowers the explained class's probability most."""
        order = np.argsort(-np.asarray(self.weights), kind="stable")[:k]
        return [(self.tokens[i], round(self.weights[i], 3)) for i in order]


def occlusion(clf: Any, text: str, label: str | None = None, max_tokens: int = 80) -> Explanation:
    """Explain one prediction by deleting each word in turn (occlusion).

    The weight of word *i* is ``p(label | text) - p(label | text without word i)``:
    positive when the word pushes towards ``label`` (default: the predicted
    one). One batched call scores all ``n + 1`` variants.
    """
    (text,) = check_texts([text], "text")
    spans = [m.span() for m in _WORD.finditer(text)][:max_tokens]
    variants = [text] + [(text[:a] + text[b:]).strip() or "." for a, b in spans]
    probs = np.asarray(clf.predict_proba(variants))
    labels = list(getattr(clf, "labels", LABELS))
    k = int(probs[0].argmax()) if label is None else labels.index(label)
    weights = (probs[0, k] - probs[1:, k]).astype(float).tolist()
    return Explanation(text, labels[k], float(probs[0, k]), spans, weights)


def render_text(expl: Explanation, threshold: float = 0.05) -> str:
    """Plain-text rendering: ``word[+0.31]`` for every token with ``|weight| >= threshold``."""
    out, pos = [], 0
    for (_, b), w in zip(expl.spans, expl.weights, strict=True):
        out.append(expl.text[pos:b])
        if abs(w) >= threshold:
            out.append(f"[{w:+.2f}]")
        pos = b
    out.append(expl.text[pos:])
    return f"{expl.label} ({expl.prob:.2f}): " + "".join(out)


def render_html(expl: Explanation, scale: float | None = None) -> str:
    """HTML with each token's background green (supports the label) or red (against it)."""
    import html

    scale = scale or max(1e-6, max((abs(w) for w in expl.weights), default=1.0))
    parts, pos = [], 0
    for (a, b), w in zip(expl.spans, expl.weights, strict=True):
        parts.append(html.escape(expl.text[pos:a]))
        alpha = min(1.0, abs(w) / scale) * 0.8
        rgb = "0,160,80" if w > 0 else "220,50,40"
        parts.append(
            f'<span title="{w:+.3f}" style="background: rgba({rgb},{alpha:.2f}); '
            f'border-radius: 3px; padding: 0 1px">{html.escape(expl.text[a:b])}</span>'
        )
        pos = b
    parts.append(html.escape(expl.text[pos:]))
    head = f"<b>{html.escape(expl.label)}</b> ({expl.prob:.2f}): "
    return f'<div style="line-height: 1.8">{head}{"".join(parts)}</div>'


# --------------------------------------------------------------------------- aspects

#: words that signal each aspect in a clause (lower-case, matched at word starts, so
#: "deliver" also finds "delivered"); the aspect names are the corpus's ``data.ASPECTS``
# fmt: off
ASPECT_KEYWORDS: dict[str, tuple[str, ...]] = {
    "quality": ("quality", "build", "built", "well made", "well-made", "poorly made",
                "craftsmanship", "material", "fabric", "stitching", "finish", "sturdy", "flimsy",
                "premium", "solid"),
    "price": ("price", "priced", "pricey", "value", "money", "worth", "cost", "expensive",
              "overpriced", "steal", "bargain", "deal", "paid", "pay", "rip-off", "rip off",
              "afford", "$"),
    "shipping": ("shipping", "shipped", "deliver", "courier", "tracking", "arrived", "arrive",
                 "late", "early", "package", "parcel", "turned up", "received it", "lost in",
                 "got lost", "showed up", "got here", "dispatch"),
    "customer_service": ("seller", "support", "customer service", "service", "replied", "reply",
                         "replies", "respon", "refund", "replacement", "return", "helpful", "rude",
                         "polite", "email", "message", "ignored"),
    "durability": ("durab", "held up", "holds up", "last", "falling apart", "survived", "wear",
                   "scratch", "snapped", "cracked", "fell apart", "falls apart", "broke", "died",
                   "stopped working", "still going", "still works"),
    "packaging": ("packaging", "packaged", "packed", "box", "wrapped", "wrapping", "gift",
                  "dented", "crushed", "torn", "seal", "leak", "lid"),
    "size_fit": ("fit", "size", "sizing", "runs small", "runs large", "runs big", "tight", "loose",
                 "too small", "too big", "true to size"),
    "comfort": ("comfort", "comfy", "uncomfortable", "blister", "digs", "itchy", "breathab",
                "soft", "rough", "breaking in", "break in"),
    "appearance": ("look", "design", "colour", "color", "gorgeous", "beautiful", "stylish",
                   "picture", "photo", "faded", "sleek", "ugly", "plain", "pretty"),
    "battery": ("battery", "charge", "charging", "charger", "recharg", "drain"),
    "performance": ("performance", "perform", "work", "does the job", "heat", "quiet", "loud",
                    "rattl", "heats", "powerful", "cuts", "noise", "noisy", "suction"),
    "ease_of_use": ("instruction", "assembl", "set up", "set-up", "setup", "easy", "intuitive",
                    "manual", "simple to", "confusing", "hard to use", "figured", "breeze"),
    "smell": ("smell", "scent", "stink", "odour", "odor", "fragran", "chemical"),
    "taste": ("taste", "tasty", "flavour", "flavor", "delicious", "bland", "homemade"),
    "freshness": ("fresh", "stale", "expir", "best before", "date"),
    "effectiveness": ("result", "effective", "ineffective", "difference", "absorb", "irritat",
                      "greasy", "doing much", "wonders"),
    "pet_approval": ("cat", "cats", "dog", "dogs", "pet", "pets", "pup", "puppy", "kitten"),
}
# fmt: on


def split_clauses(text: str, splitter: Any | None = None) -> list[str]:
    """Sentences (``coursekit.text.split_sentences``), each cut again at contrast words.

    "Great fabric, but shipping took forever." -> ["Great fabric,", "but shipping took forever."]
    so each aspect gets the polarity of its own clause.
    """
    from coursekit.text import split_sentences

    clauses: list[str] = []
    for sent in split_sentences(text, splitter):
        pieces = re.split(
            r"(?i)(?<=[\w,;)])\s+(?=(?:but|although|though|however|yet|while)\b)|;\s*", sent
        )
        clauses.extend(p.strip() for p in pieces if p and p.strip())
    return clauses


@functools.lru_cache(maxsize=8)
def _aspect_patterns(items: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, Any]]:
    """One compiled regex per aspect: keywords of 5+ letters match as word prefixes
    ("deliver" -> "delivered"), shorter ones as whole words with a plain suffix
    ("cat" -> "cats", not "category")."""
    out = []
    for aspect, words in items:
        parts = []
        for w in words:
            body = re.escape(w)
            if not w[0].isalnum():
                parts.append(body)
            elif len(w) >= 5:
                parts.append(rf"\b{body}")
            else:
                parts.append(rf"\b{body}(?:s|es|ed|d|ing)?\b")
        out.append((aspect, re.compile("|".join(parts))))
    return out


def find_aspects(clause: str, keywords: dict[str, Sequence[str]] | None = None) -> list[str]:
    """Aspects whose keywords occur in ``clause`` (case-insensitive), in keyword-table order."""
    keywords = ASPECT_KEYWORDS if keywords is None else keywords
    items = tuple((a, tuple(ws)) for a, ws in keywords.items())
    low = clause.lower()
    return [aspect for aspect, pattern in _aspect_patterns(items) if pattern.search(low)]


def aspect_sentiment(
    clf: Any,
    texts: Sequence[str],
    keywords: dict[str, Sequence[str]] | None = None,
    splitter: Any | None = None,
) -> pd.DataFrame:
    """Per-aspect polarity of each review: classify the clauses that mention the aspect.

    Returns one row per (review position ``doc``, ``aspect``) found, with the
    ``polarity`` (label of the averaged clause probabilities), its
    ``confidence`` and the ``evidence`` clause(s). One batched classifier call
    for all clauses.
    """
    texts = check_texts(texts)
    records: list[tuple[int, str, str]] = []
    for doc, text in enumerate(texts):
        for clause in split_clauses(text, splitter):
            for aspect in find_aspects(clause, keywords):
                records.append((doc, aspect, clause))
    if not records:
        return pd.DataFrame(columns=["doc", "aspect", "polarity", "confidence", "evidence"])
    frame = pd.DataFrame(records, columns=["doc", "aspect", "evidence"])
    unique = sorted(set(frame["evidence"]))
    probs = np.asarray(clf.predict_proba(unique))
    row_of = {c: i for i, c in enumerate(unique)}
    frame["_p"] = [probs[row_of[c]] for c in frame["evidence"]]
    labels = list(getattr(clf, "labels", LABELS))
    rows = []
    for (doc, aspect), g in frame.groupby(["doc", "aspect"], sort=True):
        p = np.mean(np.stack(g["_p"].to_list()), axis=0)
        rows.append(
            {
                "doc": int(doc),
                "aspect": aspect,
                "polarity": labels[int(p.argmax())],
                "confidence": float(p.max()),
                "evidence": " | ".join(dict.fromkeys(g["evidence"])),
            }
        )
    return pd.DataFrame(rows)


def gold_aspects(reviews: pd.DataFrame) -> pd.DataFrame:
    """The corpus's aspect labels as rows (``doc``, ``aspect``, ``polarity``); ``doc`` = row position."""
    rows = [
        {"doc": i, "aspect": a["aspect"], "polarity": a["polarity"]}
        for i, aspects in enumerate(reviews["aspects"])
        for a in (aspects if isinstance(aspects, Iterable) else [])
    ]
    return pd.DataFrame(rows, columns=["doc", "aspect", "polarity"])


def evaluate_aspects(predicted: pd.DataFrame, gold: pd.DataFrame) -> pd.DataFrame:
    """Per aspect: gold mentions, share found (``coverage``), and accuracy / macro-F1 where found."""
    from coursekit import metrics

    merged = gold.merge(
        predicted[["doc", "aspect", "polarity"]],
        on=["doc", "aspect"],
        how="left",
        suffixes=("", "_pred"),
    )
    rows = []
    for aspect, g in [("all", merged), *merged.groupby("aspect", sort=True)]:
        found = g.dropna(subset=["polarity_pred"])
        row = {"aspect": aspect, "n": len(g), "coverage": len(found) / max(1, len(g))}
        if len(found):
            row["accuracy"] = metrics.accuracy(found["polarity"], found["polarity_pred"])
            row["macro_f1"] = metrics.macro_f1(found["polarity"], found["polarity_pred"], LABELS)
        else:
            row["accuracy"] = row["macro_f1"] = math.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("aspect")


# --------------------------------------------------------------------------- analyst's view

POLARITY_SCORE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}


def aspect_table(
    aspects: pd.DataFrame, reviews: pd.DataFrame, by: str = "brand", min_mentions: int = 5
) -> pd.DataFrame:
    """Share of negative mentions of each aspect per ``by`` (brand, product_id, category).

    ``aspects`` has ``doc`` = row position in ``reviews`` (see :func:`aspect_sentiment`).
    Cells with fewer than ``min_mentions`` mentions are NaN, so a single
    angry review does not top the chart.
    """
    keyed = aspects.assign(key=reviews[by].to_numpy()[aspects["doc"].to_numpy()])
    keyed = keyed.assign(negative=(keyed["polarity"] == "negative").astype(float))
    grouped = keyed.groupby(["key", "aspect"])["negative"]
    share = grouped.mean().unstack()
    counts = grouped.size().unstack()
    share = share.where(counts >= min_mentions)
    share.index.name = by
    return share


def brand_table(
    reviews: pd.DataFrame,
    labels: Sequence[str],
    aspects: pd.DataFrame,
    by: str = "brand",
    min_mentions: int = 5,
) -> pd.DataFrame:
    """The analyst's table: per ``by`` value, reviews, share negative, and the worst aspect.

    ``labels`` are review-level predictions (one per row of ``reviews``);
    ``aspects`` comes from :func:`aspect_sentiment` on the same reviews. The
    worst aspect is the one with the largest share of negative mentions among
    aspects with at least ``min_mentions`` mentions. Sorted by share negative.
    """
    if len(labels) != len(reviews):
        raise ValueError(f"{len(labels)} labels for {len(reviews)} reviews")
    keys = reviews[by].to_numpy()
    negative = pd.Series(np.asarray(labels) == "negative", index=keys)
    table = negative.groupby(level=0).agg(["size", "mean"])
    table.columns = ["reviews", "share_negative"]
    per_aspect = aspect_table(aspects, reviews, by=by, min_mentions=min_mentions)
    filled = per_aspect.fillna(-1.0)
    worst = filled.idxmax(axis=1).where(filled.max(axis=1) >= 0)
    table["worst_aspect"] = worst.reindex(table.index)
    table["worst_aspect_share_negative"] = [
        per_aspect.loc[k, a] if isinstance(a, str) else np.nan
        for k, a in zip(table.index, table["worst_aspect"], strict=True)
    ]
    table.index.name = by
    return table.sort_values(["share_negative", "reviews"], ascending=[False, False])


def trend(reviews: pd.DataFrame, labels: Sequence[str], freq: str = "M") -> pd.DataFrame:
    """Share of each label per period (``freq``: ``"M"`` months, ``"Q"`` quarters) from ``date``."""
    dates = pd.to_datetime(reviews["date"])
    period = dates.dt.to_period(freq).dt.to_timestamp()
    frame = pd.DataFrame({"period": period.to_numpy(), "label": list(labels)})
    table = pd.crosstab(frame["period"], frame["label"], normalize="index")
    table["n"] = frame.groupby("period").size()
    return table.reindex(columns=[*[lab for lab in LABELS if lab in table], "n"])


__all__ = [
    "ASPECT_KEYWORDS",
    "HARD_SLICES",
    "LABELS",
    "Explanation",
    "SentimentClassifier",
    "TrainConfig",
    "VaderBaseline",
    "aspect_sentiment",
    "aspect_table",
    "balanced_subset",
    "brand_table",
    "build_default_classifier",
    "check_texts",
    "choose_thresholds",
    "default_model_path",
    "evaluate_aspects",
    "find_aspects",
    "gold_aspects",
    "load_classifier",
    "occlusion",
    "render_html",
    "render_text",
    "scores_to_labels",
    "slice_masks",
    "slice_report",
    "split_clauses",
    "train_classifier",
    "train_tfidf",
    "vader_scores",
]
