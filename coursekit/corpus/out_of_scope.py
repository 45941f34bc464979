"""Out-of-scope questions: what a shop's inbox gets that its FAQ does not answer.

:func:`generate_faq_out_of_scope` fills the templates of
:mod:`coursekit.corpus_faq_out_of_scope` (one set per split, none shared) with its word pools,
adds an opener or closer, lower case and the odd slip of the thumb. A candidate sharing
:data:`~coursekit.corpus.faq.TRAIN_WINDOW` words in a row with an in-scope question (an FAQ
question or any of its paraphrases) is drawn again, so an out-of-scope question never borrows
an answerable one's wording.
"""

from __future__ import annotations

import random
import re

from coursekit import corpus_faq as F
from coursekit import corpus_faq_out_of_scope as O
from coursekit.corpus.faq import TRAIN_WINDOW, _shares_window, _typo, _words, generate_faq_train
from coursekit.corpus.helpers import DEFAULT_SEED, _rng

_SLOT = re.compile(r"\{(\w+)\}")


def fill(template: str, rng: random.Random) -> str:
    """``template`` with each ``{slot}`` replaced by a word of :data:`O.POOLS` (drawn anew each time)."""
    return _SLOT.sub(lambda m: rng.choice(O.POOLS[m.group(1)]), template)


def in_scope_windows(seed: int = DEFAULT_SEED, n: int = TRAIN_WINDOW) -> set[tuple[str, ...]]:
    """Every run of ``n`` words of an in-scope text: FAQ questions, held-out and training paraphrases."""
    texts = [e["q"] for e in F.FAQ] + [p for e in F.FAQ for p in e["p"]]
    texts += [r["text"] for r in generate_faq_train(seed)]
    windows: set[tuple[str, ...]] = set()
    for text in texts:
        w = _words(text)
        windows.update(tuple(w[i : i + n]) for i in range(len(w) - n + 1))
    return windows


def generate_faq_out_of_scope(seed: int = DEFAULT_SEED) -> list[dict]:
    """Out-of-scope questions, ``SPLIT_SIZES[split]`` per kind and split.

    Rows: ``kind``, ``split`` (``train``/``validation``/``test``), ``template`` (its index in
    that kind's split, so tests can check the splits share none), ``text``.
    """
    rng = _rng(seed, "faq-out-of-scope")
    in_scope = in_scope_windows(seed)
    rows = []
    for kind, by_split in O.TEMPLATES.items():
        for split, count in O.SPLIT_SIZES.items():
            templates = by_split[split]
            seen: set[str] = set()
            for _ in range(count * 50):  # enough draws to find `count` distinct clean ones
                if len(seen) == count:
                    break
                t = rng.randrange(len(templates))
                text = fill(templates[t], rng)
                opener, closer = rng.choice(O.OPENERS), rng.choice(O.CLOSERS)
                text = " ".join(p for p in (opener, text) if p)
                text += closer if closer.startswith("?") else (" " + closer if closer else "")
                if rng.random() < 0.3:
                    text = text[:1].upper() + text[1:]
                if rng.random() < 0.2:
                    text = _typo(text, rng)
                text = " ".join(text.split())
                if text in seen or _shares_window(text, in_scope, TRAIN_WINDOW):
                    continue
                seen.add(text)
                rows.append({"kind": kind, "split": split, "template": t, "text": text})
            if len(seen) < count:
                raise RuntimeError(f"only {len(seen)} distinct {kind!r} questions for {split}")
    rows.sort(key=lambda r: (r["split"], r["kind"], r["text"]))
    return rows
