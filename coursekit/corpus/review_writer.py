"""The review writer: slot filling, clause templates per category, and surface noise.

:class:`_ReviewWriter` composes one review at a time and records the phenomena and
aspects it used; :func:`_perturb` adds the noise of real reviews (typos, emoji, HTML, ...).
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Sequence

from coursekit import corpus_reviews as R
from coursekit.corpus.helpers import _cap, _money, pool_for


class _Slots(dict):
    """Slot values for one template: fixed product facts, random fillers drawn on demand."""

    def __init__(self, gen: _ReviewWriter, fixed: dict[str, str]) -> None:
        super().__init__(fixed)
        self.gen = gen

    def __missing__(self, key: str) -> str:
        value = self.gen.filler(key)
        self[key] = value
        return value


class _ReviewWriter:
    """Composes one review at a time; keeps the phenomena it used."""

    def __init__(
        self, rng: random.Random, product: dict, split: str, brands: Sequence[str]
    ) -> None:
        self.rng, self.product, self.split = rng, product, split
        self.tags: set[str] = set()
        self.aspects: dict[str, str] = {}
        self.brands = [b for b in brands if b != product["brand"]]
        size = product["size"]
        self.fixed = {
            "noun": product["noun"],
            "brand": product["brand"],
            "size": size,
            "colour": product["colour"] or "standard",
            "price": _money(product["price"]),
        }

    def pick(self, pool: Sequence[str]) -> str:
        return self.rng.choice(pool_for(pool, self.split))

    def context(self) -> str:
        """A sentence with no sentiment (who it was for, when, which colour)."""
        pool = (
            R.CONTEXT if self.product["colour"] else [t for t in R.CONTEXT if "{colour}" not in t]
        )
        return self.fill(self.pick(pool))

    def size_talk(self) -> str:
        self.tags.add("size")
        apparel = self.product["category"] == "apparel" or self.product["noun"].endswith("shoes")
        pool = [t.removeprefix("[a] ") for t in R.SIZE_TALK if apparel or not t.startswith("[a]")]
        return self.fill(self.pick(pool))

    def mild_negative(self, aspect: str) -> str:
        self.aspects.setdefault(aspect, "negative")
        pool = R.MILD_NEGATIVE[aspect]
        if not self.product["colour"]:
            pool = [t for t in pool if "{colour}" not in t] or R.MILD_NEGATIVE["shipping"]
        return self.fill(self.pick(pool))

    def filler(self, key: str) -> str:
        r = self.rng
        if key == "good":
            return self.pick(R.GOOD)
        if key == "bad":
            return self.pick(R.BAD)
        if key == "meh":
            return self.pick(R.MEH)
        if key == "very":
            if r.random() < 0.35:
                self.tags.add("intensifier")
                return self.pick(R.VERY) + " "
            return ""
        if key == "days":
            return self.pick(R.DAYS)
        if key == "duration":
            return self.pick(R.DURATIONS)
        if key == "person":
            return self.pick(R.PEOPLE)
        if key == "someone":  # a person who can be a sentence's subject
            return self.pick([p for p in R.PEOPLE if p != "myself"])
        if key == "nth":
            return r.choice(("second", "third", "fourth"))
        if key == "other_brand":
            return r.choice(self.brands)
        if key == "model":
            self.tags.add("model_number")
            return f"{r.choice(R.MODEL_PREFIXES)}-{r.choice((1, 2, 3, 5, 7, 9)) * r.choice((10, 100))}{r.choice(('', '', 'B', 'X', 'S'))}"
        if key == "email":
            return f"{r.choice(R.FIRST_NAMES)}.{r.choice(R.LAST_NAMES)}{r.choice(('', '', str(r.randint(1, 99))))}@{r.choice(R.DOMAINS)}"
        if key == "phone":
            return r.choice(
                ("555-01{:02d}", "(555) 01{:02d}-{:04d}", "+1 555 01{:02d} {:04d}", "555.01{:02d}")
            ).format(r.randint(0, 99), r.randint(0, 9999))
        if key == "url":
            return f"https://www.example.com/{r.choice(('r', 'photos', 'u', 'review'))}/{r.randint(1000, 99999)}"
        if key == "name":
            return _cap(r.choice(R.FIRST_NAMES))
        raise KeyError(key)

    def fill(self, template: str) -> str:
        text = template.format_map(_Slots(self, self.fixed))
        if "{price}" in template:
            self.tags.add("price")
        if "{size}" in template:
            self.tags.add("size")
        return text

    # ---- pieces
    def clause(self, aspect: str, polarity: str) -> str:
        self.aspects.setdefault(aspect, polarity)
        return self.fill(self.pick(_templates(aspect, polarity, self.product["category"])))

    def choose_aspects(self, k: int, among: Sequence[str] | None = None) -> list[str]:
        pool = [
            a for a in R.CATEGORY_ASPECTS[self.product["category"]] if among is None or a in among
        ]
        if not self.product["fitted"] and "size_fit" in pool:
            pool.remove("size_fit")
        weights = [3.0 if i < 3 else 1.0 for i in range(len(pool))]
        chosen: list[str] = []
        while len(chosen) < min(k, len(pool)):
            a = self.rng.choices(pool, weights)[0]
            if a not in chosen:
                chosen.append(a)
        return chosen

    def sentence(self, clause: str) -> str:
        return _cap(clause) + self.rng.choice((".", ".", ".", ".", "!", "!!", "", "..."))

    def contrast(self, first: str, second: str) -> str:
        """Two clauses joined so that the SECOND one carries the verdict."""
        self.tags.add("contrast")
        style = self.rng.randrange(9)
        if style == 0:
            return f"{_cap(first)}. However, {second}."
        if style == 1:
            return f"Although {first}, {second}."
        if style == 2:
            return f"{_cap(first)}. But {second}."
        if style == 3:
            return f"{_cap(first)}; that said, {second}."
        if style == 4:
            return f"Even though {first}, {second}."
        if style == 5:
            return f"{_cap(first)}. Still, {second}."
        if style == 6:
            return f"{_cap(first)}, yet {second}."
        return f"{_cap(first)}, but {second}."


_CATEGORY_CODES = {
    "a": "apparel",
    "e": "electronics",
    "h": "home & kitchen",
    "b": "beauty",
    "s": "sports",
    "t": "toys",
    "g": "grocery",
    "p": "pets",
}


@functools.cache
def _templates(aspect: str, polarity: str, category: str) -> tuple[str, ...]:
    """The clause templates of an aspect and polarity that suit a category ("[eh] ..." = only those)."""
    out = []
    for t in R.CLAUSES[aspect][polarity]:
        m = re.match(r"\[([a-z]+)\] ", t)
        if m:
            if category not in {_CATEGORY_CODES[c] for c in m.group(1)}:
                continue
            t = t[m.end() :]
        out.append(t)
    return tuple(out)


_NEGATION = re.compile(
    r"\b(not|no|never|nothing|none|nor|nobody|cannot|without|n't|\w+n't|\w+n&#39;t|wont|dont|cant|didnt|doesnt|isnt|wasnt)\b",
    re.IGNORECASE,
)
_COMPARISON = re.compile(
    r"\b(better|worse) than\b|\bthan my\b|\bstep down\b|\bupgrade from\b", re.IGNORECASE
)


def _perturb(w: _ReviewWriter, text: str, label: str, structure: str) -> str:
    """Surface noise of real reviews. Each kind is recorded in ``w.tags``."""
    r = w.rng
    if r.random() < 0.09:  # typos
        words = text.split(" ")
        hits = 0
        for i, word in enumerate(words):
            core = word.strip(".,!?").lower()
            if core in R.TYPOS and r.random() < 0.6:
                words[i] = word.lower().replace(core, R.TYPOS[core])
                hits += 1
        if hits == 0:
            idx = [i for i, word in enumerate(words) if len(word) > 5 and word.isalpha()]
            if idx:
                i = r.choice(idx)
                word = words[i]
                j = r.randrange(1, len(word) - 2)
                words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
                hits = 1
        if hits:
            w.tags.add("typo")
            text = " ".join(words)
    if r.random() < 0.05:  # elongation
        words = text.split(" ")
        idx = [i for i, word in enumerate(words) if word.strip(".,!?").lower() in R.ELONGATIONS]
        if idx:
            i = r.choice(idx)
            core = words[i].strip(".,!?")
            long = R.ELONGATIONS[core.lower()]
            words[i] = words[i].replace(core, long.upper() if core.isupper() else long)
            text = " ".join(words)
            w.tags.add("elongation")
        elif text.endswith((".", "!")):
            text = text.rstrip(".!") + "!!!"
    if r.random() < 0.04 and structure != "sarcasm":
        text = text.lower()
    elif label == "negative" and r.random() < 0.02:
        text = text.upper()
    if r.random() < 0.1:  # emoji
        kind = "sarcasm" if structure == "sarcasm" else label
        emo = r.choice(R.EMOJI[kind])
        if r.random() < 0.3 and structure != "short":
            emo = emo + " " + r.choice(R.EMOJI[kind])
        text = f"{text} {emo}" if r.random() < 0.8 else f"{emo} {text}"
        w.tags.add("emoji")
    if r.random() < 0.025:  # personal data a scrubber must remove
        text = f"{text} {w.fill(w.pick(R.PII))}"
        w.tags.add("pii")
    if r.random() < 0.05:  # HTML remnants from a scraped page
        w.tags.add("html")
        text = text.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&quot;")
        sentences = re.split(r"(?<=[.!?]) ", text)
        if len(sentences) > 1:
            i = r.randrange(1, len(sentences))
            sentences[i] = r.choice(("<br>", "<br /><br />", "<br/>")) + sentences[i]
            text = " ".join(sentences)
        else:
            text = f"<p>{text}</p>"
    return text
