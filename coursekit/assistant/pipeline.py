"""The assistant end to end: retrieve, hand off or write, add the product, cite, defend.

:class:`ShopAssistant` ties the pieces together. ``defended=False`` is the naive pipeline
(retrieved product text and reviews pasted into the reply as they are); ``defended=True``
(the default) replaces a written reply that fails the faithfulness check with the passage's
own first sentence, strips instructions from retrieved text, scrubs personal data, quotes
that text as someone else's words and lets no shop-voice sentence through whose facts the
FAQ passage and the product's attributes don't support.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from coursekit.assistant import safety
from coursekit.assistant.retrieve import HANDOFF_MESSAGE, Retrieved, retrieve_many
from coursekit.assistant.writer import cite, write


@dataclass(frozen=True)
class Reply:
    """One reply: its text (with the source), what was retrieved, the writer's own words
    (``body``), and what the defences removed (a rejected body comes first)."""

    text: str
    retrieved: Retrieved
    body: str = ""
    handed_off: bool = False
    removed: tuple[str, ...] = field(default_factory=tuple)

    @property
    def source(self) -> str:
        """``(from FAQ F012: Returns)``, or ``""`` for a hand-off."""
        r = self.retrieved
        return "" if self.handed_off else cite(r.faq_id, r.topic)


def product_sentence(facts: dict[str, Any]) -> str:
    """The product's structured attributes as one sentence in the shop's voice."""
    parts = [str(facts.get("name", "This product"))]
    if facts.get("price") is not None:
        parts.append(f"costs ${float(facts['price']):.2f}")
    details = [
        f"{k} {facts[k]}" for k in ("colour", "material", "size") if facts.get(k) not in (None, "")
    ]
    text = " ".join(parts[:1]) + (f" {parts[1]}" if len(parts) > 1 else "")
    if details:
        text += " (" + ", ".join(details) + ")"
    return text + "."


class ShopAssistant:
    """``ShopAssistant(model, tokenizer, index).reply(question, product=..., reviews=...)``.

    ``model``/``tokenizer`` default to :func:`~coursekit.assistant.writer.load_reply_writer`,
    ``index`` to the shop's FAQ index (through :func:`~coursekit.assistant.retrieve.retrieve`).
    ``writer``, if given, replaces the model: ``writer(passages, questions) -> bodies``
    (a stand-in for tests, or another model).
    """

    def __init__(
        self, model: Any = None, tokenizer: Any = None, index: Any = None, writer: Any = None
    ):
        if writer is None and (model is None or tokenizer is None):
            from coursekit.assistant.writer import load_reply_writer

            model, tokenizer = load_reply_writer()
        self.model, self.tokenizer, self.index, self.writer = model, tokenizer, index, writer

    def reply(
        self,
        question: str,
        product: dict[str, Any] | None = None,
        reviews: Sequence[str] = (),
        defended: bool = True,
    ) -> Reply:
        """The reply to one question (see :meth:`replies`)."""
        return self.replies([question], [product], [list(reviews)], defended)[0]

    def replies(
        self,
        questions: Sequence[str],
        products: Sequence[dict[str, Any] | None] | None = None,
        reviews: Sequence[Sequence[str]] | None = None,
        defended: bool = True,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> list[Reply]:
        """Replies for a batch: hand-off when retrieval is unsure, else the written passage,
        the product (attributes, description, reviews) and the source."""
        if isinstance(questions, str):
            raise TypeError("questions should be a list of str; use .reply(question) for one")
        n = len(questions)
        products = list(products) if products is not None else [None] * n
        reviews = [list(r) for r in reviews] if reviews is not None else [[] for _ in range(n)]
        if len(products) != n or len(reviews) != n:
            raise ValueError("give one product (or None) and one list of reviews per question")
        found = retrieve_many(list(questions), self.index)
        todo = [i for i, r in enumerate(found) if not r.handed_off]
        passages, asked = [found[i].passage for i in todo], [found[i].question for i in todo]
        if self.writer is not None:
            bodies = list(self.writer(passages, asked))
        else:
            bodies = write(
                self.model, self.tokenizer, passages, asked, temperature=temperature, seed=seed
            )
        out = [Reply(HANDOFF_MESSAGE, r, handed_off=True) for r in found]
        for i, body in zip(todo, bodies, strict=True):
            assemble = _defended if defended else _undefended
            text, removed = assemble(body, found[i], products[i], reviews[i])
            out[i] = Reply(text, found[i], body=body, removed=tuple(removed))
        return out


def _undefended(
    body: str, r: Retrieved, product: dict[str, Any] | None, reviews: list[str]
) -> tuple[str, list[str]]:
    parts = [body]
    if product:
        parts += [product_sentence(product), str(product.get("description", ""))]
    parts += [f"Shoppers say: {rv}" for rv in reviews]
    parts.append(cite(r.faq_id, r.topic))
    return " ".join(p for p in parts if p), []


def _defended(
    body: str, r: Retrieved, product: dict[str, Any] | None, reviews: list[str]
) -> tuple[str, list[str]]:
    from coursekit.assistant.faithfulness import unsupported_facts
    from coursekit.assistant.writer import reply_target

    removed: list[str] = []
    support = r.passage
    if unsupported_facts(body, r.passage):  # the writer strayed: quote the FAQ instead
        removed.append(body)
        body = reply_target(r.passage)
    own = safety.sentences(body)
    if product:
        own.append(product_sentence(product))
        support += (
            " " + product_sentence(product) + " " + " ".join(map(str, product.get("features", [])))
        )
    own, dropped = safety.gate(own, support)
    removed += dropped
    quoted = []
    if product and product.get("description"):
        kept, gone = safety.strip_instructions(str(product["description"]))
        removed += gone
        quoted.append(safety.delimit(safety.scrub(kept), "The product page"))
    for rv in reviews:
        kept, gone = safety.strip_instructions(str(rv))
        removed += gone
        quoted.append(safety.delimit(safety.scrub(kept), "A shopper's review"))
    # the shop-voice part passed the gate; retrieved text was scrubbed before quoting
    return " ".join([*own, *[q for q in quoted if q], cite(r.faq_id, r.topic)]), removed


__all__ = ["Reply", "ShopAssistant", "product_sentence"]
