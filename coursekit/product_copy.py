"""Product copy from attributes: the shop's copy templates, slots, and a plain fact check.

**Slots (delexicalisation).** A small model trained on a catalogue learns the catalogue:
asked about a product it has never seen, it writes the brands and prices it knows. The
classic remedy in data-to-text generation is to take the values out of what the model
reads and writes. :func:`delexicalise` replaces every value by a slot token::

    {"category": "electronics", "brand": "Nordvik", "name": "Nordvik Pulse Smart Speaker",
     "features": ["voice control", "multi-room audio"], "price": 79.0}
    → category: electronics | brand: <brand> | name: <brand> <name> |
      features: <feature_1>, <feature_2> | price: <price>

The model writes ``"Meet the <brand> <name>. Highlights: <feature_1> and <feature_2>. Yours
for <price>."`` and :func:`fill_slots` puts the values back after decoding. A name that
starts with its brand is split (``<brand> <name>``), so copy never repeats the brand.
The category is shown as a word (it is one of the shop's eight and decides the tone) and
written as the slot ``<category>``.

**Templates.** :func:`write_copy` writes the shop's training copy in three voices
(:data:`VOICES`: warm, concise, technical), every sentence grammatical whatever the value
(features only ever appear in lists, which suit nouns and adjectives alike), and every
claim taken from the attributes.

**Fact check.** :func:`fact_check` is the plain string check behind the copywriter's
headline numbers: is each given value in the text, is any price, colour or material in the
text that the product lacks. Unlike :func:`coursekit.copywriter.grounding` it needs no
catalogue, so it grades products the shop has never seen just as well.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: the voices of the shop's copy, the first one the default
VOICES = ("warm", "concise", "technical")
#: the most features one product may list (one slot each)
MAX_FEATURES = 6
#: attributes written as slots (``category`` is shown to the model as a word, too)
SLOT_KINDS = ("brand", "name", "material", "colour", "size", "price", "category")
#: every slot token: the attributes', one per feature, and ``<benefit>``, the category's
#: tone line (chosen by :func:`benefit_line` when the slots are filled)
SLOT_TOKENS = (
    *(f"<{k}>" for k in SLOT_KINDS),
    *(f"<feature_{i}>" for i in range(1, MAX_FEATURES + 1)),
    "<benefit>",
)
_SLOT = re.compile(r"<(brand|name|material|colour|size|price|category|benefit|feature_\d+)>")


def format_price(value: Any) -> str:
    """``42.5`` → ``"$42.50"``: the one way the shop writes a price."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"price must be a number, got {value!r}")
    return f"${float(value):.2f}"


def _present(value: Any) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, (list, tuple)):
        return any(str(v).strip() for v in value)
    return True


@dataclass(frozen=True)
class Slots:
    """Attributes with their values taken out: what the prompt shows, and what fills it."""

    #: the attributes as the prompt lists them: slot tokens, and the category as a word
    attributes: dict[str, Any]
    #: slot token → the text it stands for
    values: dict[str, str]


def delexicalise(attributes: Mapping[str, Any]) -> Slots:
    """Replace each attribute value by its slot token (see the module docstring).

    Empty values are left out; attributes other than :data:`SLOT_KINDS`, ``features`` and
    ``category`` are kept as they are. More than :data:`MAX_FEATURES` features is a
    ``ValueError``.
    """
    if not isinstance(attributes, Mapping):
        raise TypeError(f"attributes must be a dict, got {type(attributes).__name__}")
    shown: dict[str, Any] = {}
    values: dict[str, str] = {}
    brand = str(attributes["brand"]).strip() if _present(attributes.get("brand")) else ""
    for key, value in attributes.items():
        if not _present(value):
            continue
        if key == "features":
            feats = [str(v).strip() for v in value if str(v).strip()]
            if len(feats) > MAX_FEATURES:
                raise ValueError(
                    f"{len(feats)} features: the copywriter takes at most {MAX_FEATURES}; "
                    "keep the ones that matter most"
                )
            shown[key] = [f"<feature_{i}>" for i in range(1, len(feats) + 1)]
            values.update({f"<feature_{i}>": f for i, f in enumerate(feats, start=1)})
        elif key == "price":
            shown[key] = "<price>"
            values["<price>"] = format_price(value)
        elif key == "category":  # shown as a word (it sets the tone), written as a slot
            shown[key] = str(value).strip()
            values["<category>"] = str(value).strip()
            values["<benefit>"] = benefit_line(str(value), str(attributes.get("name", "")))
        elif key == "name" and brand and str(value).strip().startswith(brand + " "):
            shown[key] = "<brand> <name>"
            values["<name>"] = str(value).strip()[len(brand) + 1 :]
        elif key in SLOT_KINDS:
            shown[key] = f"<{key}>"
            values[f"<{key}>"] = str(value).strip()
        else:
            shown[key] = value
    return Slots(attributes=shown, values=values)


_SENTENCE_START = re.compile(r"(^|[.!?]\s+|\n- ?|\n)$")


def fill_slots(text: str, values: Mapping[str, str]) -> str:
    """Put the values back: every known slot token is replaced by its text.

    A value that starts a sentence or a bullet gets a capital first letter. Slots with
    no value (the model wrote ``<colour>`` for a product without a colour) stay as they
    are, so :func:`unfilled_slots` can count them.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    out: list[str] = []
    last = 0
    for match in _SLOT.finditer(text):
        out.append(text[last : match.start()])
        token = match.group(0)
        value = values.get(token)
        if value is None:
            out.append(token)
        else:
            starts = bool(_SENTENCE_START.search("".join(out)))
            out.append(value[:1].upper() + value[1:] if starts else value)
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def space_slots(text: str) -> str:
    """``"Yours for<price>."`` → ``"Yours for <price>."``: the space a slot token absorbs.

    The copywriter's slot tokens take the space before them (one token instead of two);
    decoding gives it back to every slot that does not start a line.
    """
    return re.sub(r"(?<=\S)(?=" + _SLOT.pattern + ")", " ", text)


def unfilled_slots(text: str) -> list[str]:
    """Slot tokens still in ``text`` (each one is a fact the product does not have)."""
    return [m.group(0) for m in _SLOT.finditer(text)]


# --------------------------------------------------------------------------- the templates

_BENEFITS = {
    "apparel": (
        "Easy to wear from Monday to Sunday.",
        "A piece you will reach for again and again.",
        "Simple to style and simple to care for.",
    ),
    "electronics": (
        "Set it up in minutes and get on with your day.",
        "Everyday tech that simply works.",
        "Ready for the desk, the sofa and the road.",
    ),
    "home & kitchen": (
        "It makes everyday cooking and living a little easier.",
        "A practical helper for a busy home.",
        "Designed to earn its place in your home.",
    ),
    "beauty": (
        "A simple step for your daily routine.",
        "Made for a routine that feels good.",
        "A little self-care, every day.",
    ),
    "sports": (
        "Ready for training days and rest days alike.",
        "Gear that lets you focus on the next session.",
        "Made for people who like to keep moving.",
    ),
    "toys": (
        "Hours of play for curious minds.",
        "A gift that gets played with, not forgotten.",
        "Fun for rainy afternoons and sunny ones.",
    ),
    "grocery": (
        "A pantry favourite for everyday meals.",
        "Stock up and enjoy it all week.",
        "A small everyday pleasure.",
    ),
    "pets": (
        "Made with pets and their people in mind.",
        "Everyday comfort for your four-legged friend.",
        "Happy pets, happy homes.",
    ),
}
_GENERIC_BENEFITS = ("Chosen with care for everyday use.", "A welcome addition to any home.")


def benefit_line(category: str, name: str = "") -> str:
    """The category's tone line for one product: the same product always gets the same one.

    (A slot, like the values: a small model that picks among 24 such lines by itself
    mixes up the categories; the model decides *where* the line goes, this decides *which*.)
    """
    lines = _BENEFITS.get(category.strip().lower(), _GENERIC_BENEFITS)
    return lines[zlib.crc32(name.encode("utf-8")) % len(lines)]


def _join(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _features_sentence(feats: Sequence[str], rng: random.Random) -> str:
    one = len(feats) == 1
    label = rng.choice(
        ["Key feature", "Highlight", "Worth knowing"]
        if one
        else ["Key features", "Highlights", "What you get", "Stand-out details"]
    )
    return f"{label}: {_join(feats)}."


def write_copy(
    attributes: Mapping[str, Any], voice: str = "warm", rng: random.Random | None = None
) -> str:
    """One piece of the shop's copy for ``attributes``, as slot text (see :func:`fill_slots`).

    ``voice`` is one of :data:`VOICES`. Every given attribute is mentioned, nothing else
    is claimed, and ``rng`` picks among several phrasings and orders.
    """
    if voice not in VOICES:
        raise ValueError(f"unknown voice {voice!r}; choose from: {', '.join(VOICES)}")
    rng = rng or random.Random(0)
    s = delexicalise(attributes).attributes
    name = s.get("name")
    p = _Parts(
        category=str(s.get("category", "")).strip().lower(),
        name=name,
        brand=s.get("brand"),
        by_brand=s.get("brand") is not None and not (name or "").startswith("<brand>"),
        feats=list(s.get("features", [])),
        colour=s.get("colour"),
        material=s.get("material"),
        size=s.get("size"),
        price=s.get("price"),
    )
    return {"warm": _warm, "concise": _concise, "technical": _technical}[voice](p, rng)


@dataclass
class _Parts:
    """The slot text of each attribute (``None`` when the product lacks it)."""

    category: str
    name: str | None
    brand: str | None
    by_brand: bool  # the brand is named apart from the name ("… from <brand>")
    feats: list[str]
    colour: str | None
    material: str | None
    size: str | None
    price: str | None


def _range_sentence(rng: random.Random) -> str:
    return rng.choice(
        [
            "Find it in our <category> range.",
            "Part of our <category> range.",
            "One of our <category> picks.",
        ]
    )


def _warm(p: _Parts, rng: random.Random) -> str:
    if p.name:
        options = [f"Meet the {p.name}", f"Say hello to the {p.name}", f"Introducing the {p.name}"]
        options.append(f"Looking for something new? Try the {p.name}")
        if p.by_brand:
            options = [o + " from <brand>" for o in options] + [f"<brand> brings you the {p.name}"]
        intro = rng.choice(options) + "."
    else:
        place = "our <category> range" if p.category else "the shop"
        intro = f"New in {place}" + (" from <brand>." if p.brand else ".")
    subject = "It" if rng.random() < 0.7 else "This one"
    look = ""
    if p.colour and p.material:
        look = rng.choice(
            [
                f"{subject} comes in <colour> and is made of <material>.",
                "Made of <material> and finished in <colour>.",
                "Crafted from <material>, in a <colour> finish.",
            ]
        )
    elif p.colour:
        look = rng.choice([f"{subject} comes in <colour>.", "Choose it in <colour>."])
    elif p.material:
        look = rng.choice([f"{subject} is made of <material>.", "Crafted from <material>."])
    middle = [x for x in (look, f"Size: {p.size}." if p.size else "") if x]
    bullets = ""
    if p.feats:
        if rng.random() < 0.3:
            bullets = "".join(f"\n- {f}" for f in p.feats)
        else:
            middle.append(_features_sentence(p.feats, rng))
    rng.shuffle(middle)
    end = ["<benefit>"] if p.category else []
    if p.price:
        end.append(
            rng.choice([f"Yours for {p.price}.", f"All this for {p.price}.", f"Just {p.price}."])
        )
    if p.category and p.name:  # (without a name, the intro names the range)
        end.append(_range_sentence(rng))
    return " ".join([intro, *middle, *end]) + bullets


def _concise(p: _Parts, rng: random.Random) -> str:
    if p.name:
        head = f"The {p.name}" + (" by <brand>" if p.by_brand else "")
    elif p.brand:
        head = "New from <brand>"
    else:
        head = "New"
    if p.colour:
        head += " in <colour>" + (", made of <material>" if p.material else "")
    elif p.material:
        head += ", made of <material>"
    parts = [head + "."]
    if p.size:
        parts.append(f"Size: {p.size}.")
    if p.feats:
        parts.append(_features_sentence(p.feats, rng))
    if p.price:
        parts.append(rng.choice([f"Price: {p.price}.", f"Only {p.price}.", f"Now {p.price}."]))
    if p.category:
        parts.append(rng.choice(["From our <category> range.", "In our <category> range."]))
    return " ".join(parts)


def _technical(p: _Parts, rng: random.Random) -> str:
    spec = [("Brand", "<brand>")] if p.brand and (p.by_brand or not p.name) else []
    spec += [
        (k, v) for k, v in (("Material", p.material), ("Colour", p.colour), ("Size", p.size)) if v
    ]
    if p.feats:
        spec.append(("Features", _join(p.feats)))
    if p.price:
        spec.append(("Price", p.price))
    if p.category:
        spec.append(("Category", "<category>"))
    if rng.random() < 0.5:  # a spec list
        head = p.name if p.name else "Product details"
        return "\n".join([head, *(f"- {k}: {v}" for k, v in spec)])
    head = f"The {p.name}." if p.name else "Product details."
    return " ".join([head, *(f"{k}: {v}." for k, v in spec)])


# --------------------------------------------------------------------------- the fact check

#: colour words a text can invent (beyond the catalogue's): checked by :func:`fact_check`
COLOURS = (
    "beige black blue bronze brown burgundy charcoal copper coral cream gold graphite green "
    "grey gray ivory khaki lavender lilac maroon mint navy olive orange pink plum purple red "
    "rose sage silver tan teal turquoise white yellow"
).split()
#: material words a text can invent: checked by :func:`fact_check`
MATERIALS = (
    "aluminium aluminum bamboo canvas ceramic cork cotton denim fabric felt fleece glass "
    "leather linen mesh metal nylon oak plastic polyester rubber silicone silk steel suede "
    "titanium velvet wood wooden wool"
).split()
_PRICE = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)")


@dataclass
class FactCheck:
    """The plain string check of one text against its attributes."""

    #: share of the given values the text contains (case-insensitive)
    coverage: float
    #: given values the text does not contain
    missing: list[str] = field(default_factory=list)
    #: prices, colours and materials in the text that the product lacks
    invented: list[str] = field(default_factory=list)
    #: the given price is written exactly (``None`` when the product has no price)
    price_exact: bool | None = None

    @property
    def hallucinated(self) -> bool:
        """Whether the text states a value the product does not have."""
        return bool(self.invented)


def _given_values(attributes: Mapping[str, Any]) -> list[str]:
    values = []
    for key, value in attributes.items():
        if not _present(value):
            continue
        if key == "price":
            values.append(format_price(value))
        elif isinstance(value, (list, tuple)):
            values += [str(v).strip() for v in value if str(v).strip()]
        else:
            values.append(str(value).strip())
    return values


def fact_check(text: str, attributes: Mapping[str, Any]) -> FactCheck:
    """Which given values ``text`` contains, and which prices, colours, materials it invents.

    Values match case-insensitively as plain substrings (the price as ``$42.50``); a colour
    or material word of :data:`COLOURS`/:data:`MATERIALS` counts as invented when it is in
    none of the given values, a price when it differs from the given one.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    given = _given_values(attributes)
    if not given:
        raise ValueError("attributes are empty: nothing to check")
    low = text.lower()
    missing = [v for v in given if v.lower() not in low]
    given_words = set(re.findall(r"[a-z]+", " ".join(given).lower()))
    words = set(re.findall(r"[a-z]+", low))
    invented = sorted(w for w in words & set(COLOURS + MATERIALS) if w not in given_words)
    price = attributes.get("price")
    found = [float(p.replace(",", "")) for p in _PRICE.findall(text)]
    if _present(price):
        invented += [f"${p:.2f}" for p in found if abs(p - float(price)) >= 0.005]
        exact = format_price(price) in text
    else:
        invented += [f"${p:.2f}" for p in found]
        exact = None
    return FactCheck(
        coverage=1 - len(missing) / len(given),
        missing=missing,
        invented=invented,
        price_exact=exact,
    )


# --------------------------------------------------------------------------- fluency

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")


def words_of(texts: Iterable[str]) -> set[str]:
    """The lower-cased words of ``texts`` (a vocabulary for :func:`unknown_words`)."""
    return {w.lower() for t in texts for w in _WORD.findall(t)}


def unknown_words(text: str, vocabulary: set[str], attributes: Mapping[str, Any]) -> list[str]:
    """Words in ``text`` that are neither in ``vocabulary`` nor in the given values.

    A broken word such as "deskish" or a brand the product does not have shows up here.
    """
    allowed = vocabulary | words_of(_given_values(attributes))
    return [w for w in _WORD.findall(text) if w.lower() not in allowed]


def to_slots(text: str, values: Mapping[str, str]) -> str:
    """The inverse of :func:`fill_slots`: every given value in ``text`` back to its slot.

    Longest values first, case-insensitive, whole words, and any category's tone line to
    ``<benefit>``; so a text written in words can be compared sentence by sentence with
    slot text (:func:`sentence_shapes`).
    """
    for line in (*(x for lines in _BENEFITS.values() for x in lines), *_GENERIC_BENEFITS):
        text = text.replace(line, "<benefit>")
    for token, value in sorted(values.items(), key=lambda kv: -len(kv[1])):
        if token == "<benefit>" or not value.strip():
            continue
        pattern = rf"(?<![\w$]){re.escape(value)}(?!\w)"
        text = re.sub(pattern, token.replace("\\", "\\\\"), text, flags=re.IGNORECASE)
    return text


def sentence_shapes(slot_text: str) -> list[str]:
    """The sentences and bullet lines of slot text, feature slots numbered alike.

    ``"Highlights: <feature_1> and <feature_2>."`` → ``["Highlights: <feature> and <feature>."]``:
    the *shape* of a sentence, comparable across products with other feature counts. The
    ``<benefit>`` slot (a whole sentence) is a sentence of its own.
    """
    shapes = []
    for line in slot_text.split("\n"):
        for sentence in re.split(r"(?<=[.!?])\s+|(?<=<benefit>)\s+", line.strip()):
            if sentence:
                shapes.append(re.sub(r"<feature_\d+>", "<feature>", sentence))
    return shapes


def well_formed(slot_text: str, known: set[str]) -> float:
    """Share of the sentences of ``slot_text`` whose shape the shop's copy uses (``known``).

    ``known`` is the set of :func:`sentence_shapes` of the training copy; a sentence
    glued from two templates ("Choose it in <colour> and is made of <material>.") or cut
    short is not in it. 1.0 for a text of known sentences only; 0.0 for an empty text.
    """
    shapes = sentence_shapes(slot_text)
    return sum(s in known for s in shapes) / len(shapes) if shapes else 0.0


def repeated_words(text: str) -> list[str]:
    """Words written twice in a row ("the the"), a common sign of a stuck decoder.

    Only a repeat with nothing but spaces between counts: "Size: size 32" is not one.
    """
    return [m.group(1).lower() for m in re.finditer(r"\b(\w+)\s+(?=\1\b)", text, re.I)]


__all__ = [
    "MAX_FEATURES",
    "SLOT_TOKENS",
    "VOICES",
    "benefit_line",
    "FactCheck",
    "Slots",
    "delexicalise",
    "fact_check",
    "fill_slots",
    "format_price",
    "repeated_words",
    "sentence_shapes",
    "space_slots",
    "to_slots",
    "well_formed",
    "unfilled_slots",
    "unknown_words",
    "words_of",
    "write_copy",
]
