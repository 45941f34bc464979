"""The FAQ with its held-out paraphrases, and the A/B campaign logs of copy variants."""

from __future__ import annotations

import datetime as dt
import math
import random

from coursekit import corpus_faq as F
from coursekit.corpus.helpers import DEFAULT_SEED, _rng


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
