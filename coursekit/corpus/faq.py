"""The FAQ with its held-out paraphrases, and the A/B campaign logs of copy variants."""

from __future__ import annotations

import datetime as dt
import math
import random
import re

from coursekit import corpus_faq as F
from coursekit import corpus_faq_train as T
from coursekit.corpus.helpers import DEFAULT_SEED, _rng
from coursekit.text.keywords import keyword_tokens


def generate_faq(seed: int = DEFAULT_SEED) -> tuple[list[dict], list[dict]]:
    """The FAQ (question, answer, topic) and its held-out paraphrases (validation/test)."""
    rng = _rng(seed, "faq")
    faq, paraphrases = [], []
    for k, entry in enumerate(F.FAQ, start=1):
        faq_id = f"F{k:03d}"
        faq.append(
            {
                "faq_id": faq_id,
                "topic": entry["topic"],
                "question": entry["q"],
                "answer": entry["a"],
            }
        )
        paras = list(entry["p"])
        rng.shuffle(paras)
        n_val = max(1, len(paras) // 3)
        for i, text in enumerate(paras):
            paraphrases.append(
                {"faq_id": faq_id, "text": text, "split": "validation" if i < n_val else "test"}
            )
    paraphrases.sort(key=lambda r: (r["split"], r["faq_id"], r["text"]))
    return faq, paraphrases


CAMPAIGNS = (
    (
        "C01",
        "Spring apparel sale",
        (
            "Fresh styles for spring, up to 30% off",
            "Your new favourite tee is here",
            "Spring wardrobe refresh: shop now",
        ),
        (0.031, 0.036, 0.029),
    ),
    (
        "C02",
        "Headphones launch",
        ("Hear every detail: new Voltix headphones", "30 hours of music on one charge"),
        (0.042, 0.048),
    ),
    (
        "C03",
        "Kitchen essentials",
        (
            "Cook more, clean less",
            "Kitchen upgrades under $50",
            "The kettle everyone is talking about",
            "Free delivery on kitchenware",
        ),
        (0.025, 0.032, 0.027, 0.034),
    ),
    (
        "C04",
        "Pet food subscription",
        ("Never run out of dog food again", "Save 15% with Subscribe & Save"),
        (0.051, 0.055),
    ),
    (
        "C05",
        "Holiday toys",
        (
            "Gifts they'll actually play with",
            "Top 10 toys of the season",
            "Order by Dec 18 for Christmas delivery",
        ),
        (0.038, 0.045, 0.058),
    ),
    (
        "C06",
        "Coffee lovers",
        ("Freshly roasted, delivered weekly", "Your morning, upgraded"),
        (0.022, 0.022),
    ),
)
CAMPAIGN_DAYS = 30


def _binomial(rng: random.Random, n: int, p: float) -> int:
    """Exact binomial draw by geometric jumps between successes (fast for small p)."""
    if p <= 0:
        return 0
    log_q = math.log1p(-p)
    k, i = 0, -1
    while True:
        i += int(math.log(1.0 - rng.random()) / log_q) + 1
        if i >= n:
            return k
        k += 1


def _split_traffic(rng: random.Random, total: int, arms: int) -> list[int]:
    """Randomise ``total`` shoppers' impressions evenly over ``arms`` variants: a multinomial
    draw with equal shares, as sequential binomials (arm ``v`` gets a binomial share of what the
    earlier arms left, with probability ``1 / (arms - v)``)."""
    counts, left = [], total
    for v in range(arms - 1):
        n = _binomial(rng, left, 1.0 / (arms - v))
        counts.append(n)
        left -= n
    return [*counts, left]


def generate_campaigns(seed: int = DEFAULT_SEED) -> list[dict]:
    """Daily impressions and clicks of each copy variant, drawn from its known true CTR.

    Each day brings ONE stream of traffic to the campaign (weekends busier), and the ad server
    randomises it evenly over the variants (a multinomial split), as a real A/B test does: so
    the variants' impression counts pass a sample-ratio-mismatch test. Clicks are binomial
    draws from each variant's true click-through rate.
    """
    rng = _rng(seed, "campaigns")
    rows = []
    start = dt.date(2024, 3, 4)
    for c_idx, (cid, cname, headlines, ctrs) in enumerate(CAMPAIGNS):
        base = rng.randint(1500, 4000)
        for day in range(1, CAMPAIGN_DAYS + 1):
            date = start + dt.timedelta(days=7 * c_idx + day - 1)
            weekend = 1.25 if date.weekday() >= 5 else 1.0
            mean = base * weekend * len(headlines)
            total = max(100 * len(headlines), int(round(rng.gauss(mean, math.sqrt(mean) * 3))))
            split = _split_traffic(rng, total, len(headlines))
            for v, (headline, ctr) in enumerate(zip(headlines, ctrs, strict=True)):
                rows.append(
                    {
                        "campaign_id": cid,
                        "campaign": cname,
                        "variant": "ABCD"[v],
                        "headline": headline,
                        "day": day,
                        "date": date.isoformat(),
                        "impressions": split[v],
                        "clicks": _binomial(rng, split[v], ctr),
                        "true_ctr": ctr,
                    }
                )
    return rows


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def _reframe(question: str, rng: random.Random) -> str:
    """The FAQ question in a shopper's register: its opening rewritten, lower case, no '?'."""
    q = question.rstrip("?").strip()
    low = q.lower()
    for opening in sorted(T.OPENING_REWRITES, key=len, reverse=True):
        if low.startswith(opening + " ") and rng.random() < 0.7:
            q = rng.choice(T.OPENING_REWRITES[opening]) + q[len(opening) :]
            break
    if rng.random() < 0.6:
        q = q.lower()
    q = _synonyms(q, rng)
    return q + ("?" if rng.random() < 0.5 else "")


def _synonyms(text: str, rng: random.Random, rate: float = 0.4) -> str:
    """Swap some of the FAQ's words for the ones shoppers use (:data:`T.SYNONYMS`)."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        options = T.SYNONYMS.get(word.lower())
        return rng.choice(options) if options and rng.random() < rate else word

    return re.sub(r"[A-Za-z][a-z-]*", swap, text)


def _typo(text: str, rng: random.Random) -> str:
    """One slip of the thumb in a longer word: two letters swapped, one dropped or one doubled."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    slip = rng.randrange(3)
    if slip == 0:
        words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    elif slip == 1:
        words[i] = w[:j] + w[j + 1 :]
    else:
        words[i] = w[: j + 1] + w[j:]
    return " ".join(words)


def _some(words: list[str], rng: random.Random, lo: int, hi: int) -> str:
    """``lo``-``hi`` distinct words of ``words``, kept in their order."""
    distinct = list(dict.fromkeys(words))
    if not distinct:
        return ""
    n = min(len(distinct), rng.randint(lo, hi))
    keep = sorted(rng.sample(range(len(distinct)), n))
    return " ".join(distinct[i] for i in keep)


def _frame(text: str, rng: random.Random) -> str:
    text = " ".join(p for p in (rng.choice(T.OPENERS), text, rng.choice(T.CLOSERS)) if p)
    return _typo(text, rng) if rng.random() < 0.25 else text


def _shares_window(text: str, held_out: set[tuple[str, ...]], n: int) -> bool:
    w = _words(text)
    return any(tuple(w[i : i + n]) in held_out for i in range(len(w) - n + 1))


_QUESTION_WORDS = frozenset("what when where why how which who whom not no so if than then".split())
#: a training question never shares this many words in a row with a held-out paraphrase
TRAIN_WINDOW = 4


def generate_faq_train(seed: int = DEFAULT_SEED) -> list[dict]:
    """TRAINING paraphrases of every FAQ entry, generated from its question and answer.

    Templates and word pools come from :mod:`coursekit.corpus_faq_train` (disjoint from the
    hand-written validation/test rewordings); a candidate sharing :data:`TRAIN_WINDOW` words in
    a row with a held-out paraphrase is drawn again, so no held-out wording leaks into training.
    Rows: ``faq_id``, ``kind``, ``text``, ``split="train"``.
    """
    rng = _rng(seed, "faq-train")
    held_out: set[tuple[str, ...]] = set()
    for entry in F.FAQ:
        for text in entry["p"]:
            w = _words(text)
            held_out.update(tuple(w[i : i + TRAIN_WINDOW]) for i in range(len(w) - 3))
    rows = []
    for k, entry in enumerate(F.FAQ, start=1):
        faq_id = f"F{k:03d}"
        q_words = [w for w in keyword_tokens(entry["q"]) if w not in _QUESTION_WORDS]
        a_words = [
            w
            for w in keyword_tokens(entry["a"])
            if w not in q_words and w not in _QUESTION_WORDS and len(w) > 2
        ]
        seen: set[str] = set()
        for kind, count in T.KINDS:
            made = 0
            for _ in range(count * 20):  # enough draws to find `count` distinct clean ones
                if made == count:
                    break
                if kind == "question":
                    text = _frame(_reframe(entry["q"], rng), rng)
                elif kind == "story":
                    story = rng.choice(T.STORIES[entry["topic"]])
                    text = story + rng.choice(T.STORY_JOINS) + _reframe(entry["q"], rng).lower()
                    text = _typo(text, rng) if rng.random() < 0.25 else text
                elif kind == "situation":
                    text = " ".join(
                        p
                        for p in (
                            rng.choice(T.SETTINGS),
                            rng.choice(T.SITUATIONS[k - 1]),
                            rng.choice(T.CLOSERS),
                        )
                        if p
                    )
                    for _slip in range(rng.choice((0, 0, 1, 1, 2))):
                        text = _typo(text, rng)
                elif kind == "keywords":
                    words = _some(a_words, rng, 2, 4)
                    text = rng.choice(T.KEYWORD_FRAMES).format(words=words)
                else:
                    text = rng.choice(T.MIXED_FRAMES).format(
                        q=_some(q_words, rng, 1, 3), a=_some(a_words, rng, 1, 2)
                    )
                text = " ".join(text.split())
                if text in seen or _shares_window(text, held_out, TRAIN_WINDOW):
                    continue
                seen.add(text)
                rows.append({"faq_id": faq_id, "kind": kind, "split": "train", "text": text})
                made += 1
    rows.sort(key=lambda r: (r["faq_id"], r["kind"], r["text"]))
    return rows
