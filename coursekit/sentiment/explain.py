"""Token-level explanations: :func:`occlusion` weights, shown by :func:`render_text` or
:func:`render_html`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from coursekit.schema import LABELS
from coursekit.sentiment.inputs import check_texts

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


__all__ = ["Explanation", "occlusion", "render_html", "render_text"]
