"""Checks for notebook 01 (text cleaning): stopwords, PII, a whole review cleaner, tokens per label.

Every check runs the visible cases of the notebook, then hidden ones made here (seeded), and
fails kindly when the learner's code calls coursekit's ready-made version of what it asks for.
The build-it exercise 01.3 (``clean_review``) is graded against :func:`reference_clean`,
coursekit's own steps in the order the exercise asks for, on edge cases the notebook teaches,
seeded sentences and held-out reviews (a sample of the test split and the course's
hand-written reviews, ``tests/fixtures/handwritten_reviews.jsonl``, when the checkout has it).
"""

from __future__ import annotations

import json
import math
import random
import re
import types
from collections import Counter
from typing import Any

from coursekit.checks import (
    CheckFailed,
    UsedReference,
    call,
    call_own,
    exercise,
    expect,
    expect_number_map,
    expect_type,
    hint,  # noqa: F401 (check.hint("NN.k") in a notebook)
    own_or_reference,  # noqa: F401 (later cells use the learner's cleaner once it passes)
    require_attempted,
    tripwires,
)

# --------------------------------------------------------------------------- forbidden

_PIPELINE = ("coursekit.text.clean", "coursekit.text.make_cleaner", "coursekit.text.Cleaner")
#: coursekit's stopword filter and its list without negations: calling them does not pass 01.1
FORBID_STOPWORDS = ("coursekit.text.remove_stopwords", "coursekit.text.safe_stopwords", *_PIPELINE)
#: coursekit's PII scrubber: calling it does not pass 01.2
FORBID_SCRUB = ("coursekit.text.scrub_pii", *_PIPELINE)
#: coursekit's pipeline and the steps 01.3 asks the learner to write
FORBID_CLEANER = (
    *_PIPELINE,
    "coursekit.text.remove_stopwords",
    "coursekit.text.safe_stopwords",
    "coursekit.text.scrub_pii",
    "coursekit.text.mark_negation",
)


def _prebuilt_cleaner(fn: Any) -> bool:
    """Whether ``fn`` is, or (through its globals) uses, an already built coursekit Cleaner.

    A pipeline built outside the function (``c = tx.make_cleaner(...)``) calls none of the
    forbidden names while the check runs, so the tripwires cannot see it; this looks for it.
    """
    from coursekit.text import Cleaner

    def is_cleaner(value: Any) -> bool:
        return isinstance(value, Cleaner) or isinstance(getattr(value, "__self__", None), Cleaner)

    seen: set[int] = set()
    todo = [fn]
    while todo:
        f = todo.pop()
        if is_cleaner(f):
            return True
        f = getattr(f, "__func__", f)
        code, space = getattr(f, "__code__", None), getattr(f, "__globals__", None)
        if code is None or not isinstance(space, dict) or id(f) in seen:
            continue
        seen.add(id(f))
        codes = [code]
        while codes:
            c = codes.pop()
            codes += [k for k in c.co_consts if isinstance(k, types.CodeType)]
            for name in c.co_names:
                value = space.get(name)
                if is_cleaner(value) or (
                    isinstance(value, types.FunctionType) and value.__globals__ is space
                ):
                    todo.append(value)
    return False


# --------------------------------------------------------------------------- 01.1 stopwords

#: token lists for exercise 01.1 (already lowercased and tokenized)
STOPWORD_CASES: list[list[str]] = [
    ["this", "is", "not", "good"],
    ["i", "don't", "like", "the", "color"],
    ["no", "zipper", "and", "never", "again"],
    ["it", "wasn't", "what", "i", "expected", "nor", "was", "the", "size"],
    ["great", "fit", "!"],
    [],
]
_SIMPLE_NEGATIONS = frozenset({"not", "no", "nor", "never"})
_CONTENT = (
    "good fit zipper color battery soft strap price quality sturdy cheap loud happy worth "
    "$19.99 10.5 xr-200 ! ? !! 😍 👎 <email> <url> nothing without cannot dont"
).split()


def _simple_negation(token: str) -> bool:
    return token in _SIMPLE_NEGATIONS or token.endswith("n't")


def _hidden_token_lists(seed: int, n: int = 12) -> list[list[str]]:
    """Seeded token lists mixing stopwords, negations and content words (none of the visible).

    Only stopwords on which the text's rule (not, no, nor, never, n't) and ``tx.is_negation``
    agree are drawn, so both readings of the rule pass.
    """
    from coursekit.text import english_stopwords, is_negation

    stop = sorted(english_stopwords())
    plain = [w for w in stop if not is_negation(w) and not _simple_negation(w)]
    negating = [w for w in stop if is_negation(w) and _simple_negation(w)]
    rng = random.Random(seed)
    lists = []
    for _ in range(n):
        length = rng.randint(3, 11)
        pools = rng.choices([plain, negating, _CONTENT], weights=[5, 2, 4], k=length)
        lists.append([rng.choice(pool) for pool in pools])
    return lists


@exercise(
    "01.1",
    "negation-safe stopword filter",
    hint=(
        "A stopword list removes 'not' too, which flips a review's meaning: which tokens must survive the filter?",
        "Drop a token if it is a stopword, unless it is a negation (not, no, nor, never, or a word ending in n't). Membership tests are fast in a set.",
    ),
)
def stopword_filter(remove_stopwords: Any) -> str:
    """Visible: :data:`STOPWORD_CASES` (an empty list among them). Hidden: 12 seeded token lists."""
    from coursekit.text import english_stopwords
    from coursekit.text import remove_stopwords as reference

    stop = english_stopwords()
    hidden = _hidden_token_lists(seed=101)
    for number, tokens in enumerate([*STOPWORD_CASES, *hidden]):
        got = call_own(
            remove_stopwords, list(tokens), forbid=FORBID_STOPWORDS, name="remove_stopwords"
        )
        expect_type(got, list, f"remove_stopwords({tokens})")
        want = reference(tokens, keep_negations=True)
        if got == want:
            continue
        where = "" if number < len(STOPWORD_CASES) else " (a held-out token list)"
        lost = [t for t in want if t not in got]
        kept = [t for t in got if t in stop and t not in want]
        if lost:
            raise CheckFailed(
                f"for {tokens}{where} you removed {lost}: negations must survive "
                "('not good' != 'good')"
            )
        if kept:
            raise CheckFailed(f"for {tokens}{where} the stopwords {kept} are still there")
        raise CheckFailed(f"for {tokens}{where} expected {want} (same order), got {got}")
    return f"{len(STOPWORD_CASES)} examples and {len(hidden)} held-out token lists."


# --------------------------------------------------------------------------- 01.2 PII

#: (review text, strings that must be gone, strings that must stay) for exercise 01.2
PII_CASES: list[tuple[str, list[str], list[str]]] = [
    (
        "Email me at anna.lee@example.com for photos",
        ["anna.lee", "example.com"],
        ["<email>", "photos"],
    ),
    (
        "I wrote to maria.doe@mail.example.com and got no answer",
        ["maria.doe", "mail.example"],
        ["<email>", "answer"],
    ),
    (
        "More photos at https://www.example.com/review/29159",
        ["example.com", "29159"],
        ["<url>", "photos"],
    ),
    ("More pics at www.instapics.com/anna", ["instapics"], ["<url>"]),
    ("Call me on 555-0121 if you have questions", ["0121"], ["<phone>", "questions"]),
    ("Their support line (555.0163) was useful", ["0163"], ["<phone>", "useful"]),
    ("Text (555) 0129-7937 if you want mine", ["0129", "7937"], ["<phone>", "mine"]),
    ("Ring +1 555 201 7788 anytime", ["201", "7788"], ["<phone>"]),
    (
        "Paid $49.99 for size 10.5, model KX-2200, 250 ml",
        [],
        ["$49.99", "10.5", "KX-2200", "250 ml"],
    ),
]

_FIRST = "ines kai lea omar yuki noor priya jonas malik sofia".split()
_LAST = "garcia ito novak berg khan moreau silva okafor".split()
_SITES = "snapshare photobox pinboard myreviews gearpics".split()


def _email(rng: random.Random) -> tuple[str, list[str]]:
    user = f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}{rng.randint(1, 99)}"
    domain = rng.choice(["mailbox", "shopmail", "inbox"]) + "." + rng.choice(["test", "org", "net"])
    return f"{user}@{domain}", [user, domain]


def _url(rng: random.Random) -> tuple[str, list[str]]:
    site = rng.choice(_SITES)
    path = f"{rng.choice(['u', 'p', 'photos'])}/{rng.randint(1000, 99999)}"
    form = rng.randrange(3)
    if form == 0:
        return f"https://www.{site}.com/{path}", [site, path]
    if form == 1:
        return f"http://{site}.example/{path}", [site, path]
    return f"www.{site}.com/{rng.choice(_FIRST)}", [site]


def _phone(rng: random.Random) -> tuple[str, list[str]]:
    a, b = f"{rng.randint(0, 99):02d}", f"{rng.randint(1000, 9999)}"
    form = rng.randrange(4)
    if form == 0:
        return f"555-01{a}", [f"01{a}"]
    if form == 1:
        return f"555.01{a}", [f"01{a}"]
    if form == 2:
        return f"(555) 01{a}-{b}", [f"01{a}", b]
    mid = f"{rng.randint(200, 899)}"
    return f"+{rng.randint(1, 49)} 555 {mid} {b}", [mid, b]


def _distractor(rng: random.Random) -> str:
    form = rng.randrange(4)
    if form == 0:
        return f"${rng.randint(5, 300)}.{rng.choice(['99', '49', '00'])}"
    if form == 1:
        return f"size {rng.randint(4, 14)}.5"
    if form == 2:
        return f"model {rng.choice(['KX', 'GT', 'XR', 'AB'])}-{rng.randint(100, 9999)}"
    return f"{rng.randint(100, 900)} ml"


def _hidden_pii_cases(seed: int, n: int = 10) -> list[tuple[str, list[str], list[str]]]:
    """Seeded reviews with e-mails, URLs or phones of the visible kinds, and prices or sizes."""
    rng = random.Random(seed)
    makers = [
        (_email, "<email>", "Write to {} about the {}"),
        (_url, "<url>", "Pictures at {} show the {}"),
        (_phone, "<phone>", "Ring {} about the {}"),
    ]
    cases = []
    for i in range(n):
        make, placeholder, template = makers[i % 3]
        pii, gone = make(rng)
        thing = rng.choice(["strap", "lid", "zipper", "charger", "colour"])
        extra = _distractor(rng)
        cases.append((f"{template.format(pii, thing)}, paid {extra}", gone, [placeholder, extra]))
    rng.shuffle(cases)
    return cases


@exercise(
    "01.2",
    "PII scrubber",
    hint=(
        "Replace e-mail addresses before URLs (an address contains a domain), and make the phone pattern strict enough to leave prices, sizes and model numbers alone.",
        "A phone number here is groups of digits joined by a separator (space, dot or dash) that ends in a group of 4 digits, with an optional +country code and area code in front. Substitute <email>, <url> and <phone>.",
    ),
)
def pii_scrubber(scrub: Any) -> str:
    """Visible: :data:`PII_CASES`. Hidden: 10 seeded reviews (new names, sites, numbers)."""
    hidden = _hidden_pii_cases(seed=102)
    for number, (text, gone, kept) in enumerate([*PII_CASES, *hidden]):
        got = call_own(scrub, text, forbid=FORBID_SCRUB, name="scrub")
        expect_type(got, str, f"scrub({text!r})")
        where = "" if number < len(PII_CASES) else " (a held-out review)"
        leaked = [g for g in gone if g in got]
        expect(not leaked, f"scrub({text!r}){where} returned {got!r}: {leaked} still visible")
        lost = [k for k in kept if k not in got]
        expect(not lost, f"scrub({text!r}){where} returned {got!r}: {lost} should have been kept")
    return f"{len(PII_CASES)} examples and {len(hidden)} held-out reviews."


# --------------------------------------------------------------------------- 01.3 the cleaner

#: how many words after a negation its scope covers
WINDOW = 3
#: the punctuation the cleaner keeps (tone); every other clause mark goes
KEEP_PUNCT = frozenset({"!", "?", "!!", "??"})
_PLACEHOLDERS = ("<email>", "<url>", "<phone>")


def _steps(text: str) -> tuple[list[str], list[bool]]:
    """The tokens before the stopword filter, and which of them reach the scope marking."""
    from coursekit import text as tx

    if not isinstance(text, str):
        raise TypeError(f"expected a str, got {type(text).__name__}")
    text = tx.strip_html(tx.normalize_unicode(text))
    text = tx.squeeze_elongations(tx.scrub_pii(text))
    tokens = tx.tokenize(text.lower())
    stop = tx.english_stopwords()
    reach = [t not in stop or tx.is_negation(t) or t in tx.SCOPE_BREAKERS for t in tokens]
    return tokens, reach


def reference_clean(text: str) -> list[str]:
    """Exercise 01.3's cleaner, from coursekit's steps, in the order the exercise asks for.

    Unicode and HTML, ``scrub_pii``, ``squeeze_elongations``, lower-case, ``tokenize``, then
    ``mark_negation`` (window 3) while the scope breakers are still there, then the stopword
    filter (negations kept) and the clause punctuation except ``! ? !! ??``. On the shop's
    reviews this is ``make_cleaner(negation_scope=True, output="tokens")`` token for token
    (tested); it differs where "but" ends a scope: coursekit's pipeline drops the stopword
    "but" before the marking, so "not cheap but sturdy" gives it ``not_sturdy``.
    """
    from coursekit import text as tx

    tokens, reach = _steps(text)
    kept = [t for t, r in zip(tokens, reach, strict=True) if r]
    marked = tx.mark_negation(kept, window=WINDOW)
    stop = tx.english_stopwords()
    return [
        t
        for t in marked
        if (t not in stop or tx.is_negation(t)) and (t not in tx.CLAUSE_PUNCT or t in KEEP_PUNCT)
    ]


#: (review, the tokens clean_review must return, what the case teaches) for exercise 01.3
CLEANER_CASES: list[tuple[str, list[str], str]] = [
    ("", [], "a text without words gives []"),
    ("   ", [], "a text without words gives []"),
    ("Not good", ["not", "not_good"], "the words after a negation get the prefix not_"),
    (
        "I don't like the color",
        ["don't", "not_like", "not_color"],
        "a word ending in n't is a negation; stopwords are dropped",
    ),
    (
        "Nothing special",
        ["nothing", "not_special"],
        "'nothing' negates too: a negation is any token tx.is_negation accepts",
    ),
    (
        "Never again. Great price!",
        ["never", "great", "price", "!"],
        "the scope ends at clause punctuation; '!' and '?' stay",
    ),
    (
        "It is not cheap but sturdy",
        ["not", "not_cheap", "sturdy"],
        "the scope ends at a scope breaker (tx.SCOPE_BREAKERS); 'but' is also a stopword, "
        "so mark the scope before the stopword filter removes it",
    ),
    (
        "It does not fit my tall son well at all",
        ["not", "not_fit", "not_tall", "not_son", "well"],
        f"the scope covers at most {WINDOW} words; stopwords neither take the prefix nor count",
    ),
    (
        "No zipper and never again",
        ["no", "not_zipper", "never"],
        "every negation starts a scope of its own",
    ),
    (
        "Email me at anna.lee@example.com or call 555-0123",
        ["email", "<email>", "call", "<phone>"],
        "personal data becomes placeholders (your scrub), which are tokens of their own",
    ),
    (
        "Photos at https://www.example.com/r/29 😍",
        ["photos", "<url>", "😍"],
        "URLs become <url>; emoji stay",
    ),
    (
        "NOT worth $49.99 😡 for the size, model KX-2200!!!",
        ["not", "not_worth", "$49.99", "😡", "not_size", "model", "kx-2200", "!!"],
        "only words (a letter or digit first) take the prefix and count; prices and emoji "
        "do not; '!!!' is squeezed to '!!'",
    ),
    (
        "Sooo goood &amp; soft<br>didn’t shrink",
        ["soo", "good", "soft", "didn't", "not_shrink"],
        "HTML, curly apostrophes and elongations are handled before the tokens",
    ),
]

_NEG = ["not", "never", "don't", "didn't", "isn't", "wasn't", "no", "nothing", "without", "NOT"]
_WORDS = (
    "good cheap sturdy comfortable soft fit worth happy zipper battery colour quality size "
    "strap loud bright warm recommend"
).split()
_STOPS = "the a it very at all is this my so too for was really".split()
_ENDS = [",", ".", "!", "?", ";", "...", " but", " however", " though", " and", ""]
_EXTRAS = ["😍", "$19.99", ":(", "10.5", "sooo", "don’t"]


def _hidden_sentences(seed: int, n: int = 40) -> list[str]:
    """Seeded review-like sentences around negations: stopwords, scope ends, PII, extras."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = [rng.choice(["It", "This", "I", "Honestly", "The lid"])]
        for _ in range(rng.randint(1, 2)):
            words.append(rng.choice(_NEG))
            for _ in range(rng.randint(1, 5)):
                pool = rng.choices([_WORDS, _STOPS, _EXTRAS], weights=[5, 3, 1])[0]
                words.append(rng.choice(pool))
            end = rng.choice(_ENDS)
            words[-1] += end if not end.startswith(" ") else ""
            if end.startswith(" "):
                words.append(end.strip())
        words += [rng.choice(_WORDS) for _ in range(rng.randint(0, 3))]
        if rng.random() < 0.3:
            words.append(rng.choice([_email, _url, _phone])(rng)[0])
        if rng.random() < 0.3:
            words.append(rng.choice(["!!!", "?", "!", "."]))
        out.append(" ".join(words))
    return out


def _fixture_reviews() -> list[str]:
    """The course's hand-written reviews, or none when this checkout does not have them."""
    from coursekit import paths

    path = paths.repo_root() / "tests" / "fixtures" / "handwritten_reviews.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["text"] for line in lines if line.strip()]
    except (OSError, ValueError, KeyError):
        return []


def held_out_reviews(seed: int = 103, n: int = 400) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(text, tags) of the reviews 01.3 grades on: a seeded sample of the test split (plus its
    every review tagged pii, html or elongation, which are rare) and the hand-written ones."""
    from coursekit import data

    test = data.load_reviews("test").sort_values("review_id")
    rng = random.Random(seed)
    rare = {"pii", "html", "elongation"}
    rows = list(zip(test["text"], test["phenomena"], strict=True))
    picked = set(rng.sample(range(len(rows)), min(n, len(rows))))
    picked |= {i for i, (_, tags) in enumerate(rows) if rare & set(tags)}
    out = [(rows[i][0], tuple(rows[i][1])) for i in sorted(picked)]
    out += [(text, ("hand-written",)) for text in _fixture_reviews()]
    return tuple(out)


#: share of held-out reviews that must come out exactly as coursekit's
AGREEMENT = 0.97


def _show(tokens: list[str], start: int, width: int = 6) -> str:
    part = tokens[max(0, start - 2) : start - 2 + width] if start > 2 else tokens[:width]
    left = "… " if start > 2 else ""
    right = " …" if max(0, start - 2) + width < len(tokens) else ""
    return f"[{left}{', '.join(map(repr, part))}{right}]"


def _first_difference(got: list[str], want: list[str]) -> int:
    for i, (a, b) in enumerate(zip(got, want, strict=False)):
        if a != b:
            return i
    return min(len(got), len(want))


def _base(tokens: list[str]) -> list[str]:
    return [t[4:] if t.startswith("not_") else t for t in tokens]


def _scope_reason(text: str, got: list[str], want: list[str], i: int) -> str:
    """Why token ``i`` (same word in both, marked in one) should or should not be marked."""
    from coursekit import text as tx

    tokens, reach = _steps(text)
    stop = tx.english_stopwords()
    # the positions in `tokens` of the cleaner's output tokens
    kept = [
        j
        for j, t in enumerate(tokens)
        if reach[j]
        and (t not in stop or tx.is_negation(t))
        and (t not in tx.CLAUSE_PUNCT or t in KEEP_PUNCT)
    ]
    j = kept[i]
    word = tokens[j]
    words_between = 0  # words after the negation that reach the marking
    all_between = 0  # every word after it, stopwords included
    stopper, negation = "", ""
    for k in range(j - 1, -1, -1):
        t = tokens[k]
        if reach[k] and tx.is_negation(t):
            negation = t
            break
        if reach[k] and (t in tx.CLAUSE_PUNCT or t in tx.SCOPE_BREAKERS):
            stopper = t
            break
        if t[:1].isalnum():
            all_between += 1
            words_between += reach[k]
    marked = got[i].startswith("not_")
    if marked:
        if not word[:1].isalnum():
            return (
                f"only words are marked: {word!r} starts with neither a letter nor a digit "
                "(prices, emoji and placeholders stay as they are and do not count)"
            )
        if stopper in tx.SCOPE_BREAKERS:
            extra = (
                "; 'but' is a stopword: mark the scope before the stopword filter removes it"
                if stopper == "but"
                else ""
            )
            return f"the scope ends at {stopper!r} (tx.SCOPE_BREAKERS){extra}"
        if stopper:
            return f"the scope ends at clause punctuation: {stopper!r} comes before {word!r}"
        if negation:
            return (
                f"the scope covers at most {WINDOW} words after the negation {negation!r}; "
                f"{word!r} is word {words_between + 1}"
            )
        return f"{word!r} follows no negation, so it keeps its plain form"
    if not _simple_negation(negation):
        return (
            f"{negation!r} is a negation too: start a scope at every token tx.is_negation accepts"
        )
    if all_between >= WINDOW > words_between:
        return (
            f"stopwords do not count toward the {WINDOW} words of a scope (they are dropped): "
            f"{word!r} is word {words_between + 1} after {negation!r}"
        )
    return f"{word!r} is in the scope of {negation!r}: it should be 'not_{word}'"


def _reason(text: str, got: list[str], want: list[str]) -> str:
    """What the difference between ``got`` and ``want`` for ``text`` most likely means."""
    from coursekit import text as tx

    stop = tx.english_stopwords()
    if not want:
        return "a text without words gives an empty list []"
    leaked = [t for t in got if "@" in t or "http" in t or t.startswith(("www", "ww."))]
    extra = Counter(got) - Counter(want)  # a placeholder short and something in its place
    short = [p for p in _PLACEHOLDERS if want.count(p) > got.count(p)] if extra else []
    if leaked or short:
        what = repr(leaked[0]) if leaked else f"no {short[0]}"
        squeezed = any(t.startswith("ww.") for t in got)
        return (
            f"personal data got through ({what}): scrub e-mails, URLs and phones first "
            "(your scrub), so that the placeholders become tokens"
            + ("; scrub before squeezing, or 'www' becomes 'ww'" if squeezed else "")
        )
    upper = [t for t in got if t != t.lower()]
    if upper:
        return f"lower-case the text: {upper[0]!r} is not"
    punct = [t for t in got if t in tx.CLAUSE_PUNCT and t not in KEEP_PUNCT]
    if punct:
        return (
            f"drop the clause punctuation ({punct[0]!r}) last, after the scope marking; "
            "keep only '!', '?', '!!' and '??'"
        )
    tone = [t for t in want if t in KEEP_PUNCT and t not in got]
    if tone:
        return f"keep {tone[0]!r}: '!' and '?' (and '!!', '??') carry tone"
    marked_stop = [t for t in got if t.startswith("not_") and t[4:] in stop]
    if marked_stop:
        return (
            f"a stopword took the prefix ({marked_stop[0]!r}): inside a scope, stopwords are "
            f"neither marked nor counted toward its {WINDOW} words (they are dropped)"
        )
    bg, bw = _base(got), _base(want)
    if bg != bw:
        extra = list((Counter(bg) - Counter(bw)).elements())
        missing = list((Counter(bw) - Counter(bg)).elements())
        if extra and re.search(r"<\s*/?\s*[a-zA-Z]|&#?\w+;", text):
            return "strip the HTML first (tx.strip_html, after tx.normalize_unicode)"
        if tx.normalize_unicode(text) != text and any("'" in t for t in missing):
            return "normalise the text first (tx.normalize_unicode): curly apostrophes, widths"
        lost = [t for t in missing if tx.is_negation(t)]
        if lost:
            return f"the negation {lost[0]!r} was removed: keep every negation, as in exercise 1"
        left = [t for t in extra if t in stop]
        if left:
            return f"stopwords are still there ({left[0]!r}): drop them (your remove_stopwords)"
        if tx.squeeze_elongations(text) != text and any(
            re.search(r"([^\W\d_])\1{2,}", t) or t in KEEP_PUNCT for t in extra
        ):
            return (
                "squeeze elongations with tx.squeeze_elongations ('sooo' -> 'soo', '!!!' -> '!!')"
            )
        i = _first_difference(bg, bw)
        return f"from token {i} on you have {_show(got, i)}, expected {_show(want, i)}"
    return _scope_reason(text, got, want, _first_difference(got, want))


def _expect_tokens(got: Any, text: str) -> list[str]:
    expect(
        isinstance(got, list) and all(isinstance(t, str) for t in got),
        f"clean_review({text!r}) should return a list of str tokens, but it returned "
        f"{type(got).__name__}"
        + (" (return the tokens, not a joined string)" if isinstance(got, str) else ""),
    )
    return got


def _refuse_prebuilt(fn: Any) -> None:
    if _prebuilt_cleaner(fn):
        raise UsedReference(
            "your code uses one of coursekit's ready-made cleaners (a tx.make_cleaner(...) "
            "pipeline), the thing this exercise asks you to build: write your own, then run the "
            "check again"
        )


def _own_outputs(fn: Any, texts: list[str]) -> list[Any]:
    """The learner's ``fn`` on every text, under one set of tripwires (see ``call_own``)."""
    with tripwires(fn, FORBID_CLEANER) as used:
        out = [call(fn, t, name="clean_review") for t in texts]
    if used:  # the same words as call_own: the first name is what the learner called
        raise UsedReference(
            f"your code calls `{used[0]}`, the ready-made version of what this exercise asks "
            "you to build: write your own, then run the check again"
        )
    return out


def _grade_cleaner(fn: Any) -> tuple[int, int]:
    """Raise CheckFailed unless ``fn`` cleans like :func:`reference_clean`; (agreed, held out)."""
    _refuse_prebuilt(fn)
    for text, want, lesson in CLEANER_CASES:
        got = _expect_tokens(call_own(fn, text, forbid=FORBID_CLEANER, name="clean_review"), text)
        if got != want:
            reason = _reason(text, got, want)
            if reason.startswith("from token") and lesson:
                reason = f"{reason} ({lesson})"
            raise CheckFailed(f"clean_review({text!r}) returned {got}, expected {want}: {reason}")
    sentences = _hidden_sentences(seed=104)
    for text, got in zip(sentences, _own_outputs(fn, sentences), strict=True):
        want = reference_clean(text)
        if _expect_tokens(got, text) != want:
            i = _first_difference(got, want)
            raise CheckFailed(
                f"on a held-out sentence, {text!r}, you return {_show(got, i)}, expected "
                f"{_show(want, i)}: {_reason(text, got, want)}"
            )
    pool = held_out_reviews()
    texts = [text for text, _ in pool]
    wrong = []
    for (text, tags), got in zip(pool, _own_outputs(fn, texts), strict=True):
        if _expect_tokens(got, text) != reference_clean(text):
            wrong.append((text, tags, got))
    agreed = len(pool) - len(wrong)
    leaks = [
        (text, got, want)
        for text, _, got in wrong
        for want in [reference_clean(text)]
        if any(want.count(p) > got.count(p) for p in _PLACEHOLDERS) and Counter(got) - Counter(want)
    ]
    if leaks:  # personal data is never a matter of agreement rates
        text, got, want = min(leaks, key=lambda w: (len(w[0]), w[0]))
        i = _first_difference(got, want)
        raise CheckFailed(
            f"personal data got through on {len(leaks)} of {len(pool)} held-out reviews: e.g. "
            f"{text!r} gives {_show(got, i)}, expected {_show(want, i)}; make your scrub catch "
            "every e-mail, URL and phone number of exercise 2's kinds"
        )
    if agreed < AGREEMENT * len(pool):
        per_tag = Counter(tag for _, tags, _ in wrong for tag in tags)
        size = Counter(tag for _, tags in pool for tag in tags)
        worst = max(per_tag, key=lambda t: (per_tag[t] / size[t], per_tag[t]))
        text, _, got = min((w for w in wrong if worst in w[1]), key=lambda w: (len(w[0]), w[0]))
        want = reference_clean(text)
        i = _first_difference(got, want)
        raise CheckFailed(
            f"your cleaner passes the examples but matches coursekit's steps on only {agreed} "
            f"of {len(pool)} held-out reviews ({agreed / len(pool):.0%}; "
            f"{AGREEMENT:.0%} needed), worst on those tagged {worst!r}: e.g. {text!r} gives "
            f"{_show(got, i)}, expected {_show(want, i)}: {_reason(text, got, want)}"
        )
    return agreed, len(pool)


@exercise(
    "01.3",
    "build it: a whole review cleaner",
    hint=(
        "Follow the order of the text: personal data first, then elongations, lower-case and "
        "tokens; mark the negation scopes while the stopwords and the punctuation are still "
        "there, and drop them only at the end.",
        "In mark_scope keep a count of the scope words still to mark: a negation sets it to "
        "WINDOW, clause punctuation or a scope breaker sets it to 0; a word (first character a "
        "letter or digit) that is no stopword gets the prefix while the count is positive, and "
        "uses one up.",
        "Stopwords inside a scope keep their plain form (your filter drops them next) and do not "
        "use up the count. At the end keep a punctuation token only if it is in KEEP_PUNCT.",
    ),
)
def review_cleaner(clean_review: Any) -> str:
    """``clean_review(text) -> list[str]`` against :func:`reference_clean`.

    Visible: :data:`CLEANER_CASES` (empty text, n't, nothing, scope ends at punctuation and
    at "but", the window, stopwords in a scope, placeholders, prices and emoji, HTML). Hidden:
    40 seeded sentences around negations (exact), then :func:`held_out_reviews` (at least
    :data:`AGREEMENT` exactly as coursekit's steps clean them).
    """
    agreed, total = _grade_cleaner(clean_review)
    return (
        f"All {len(CLEANER_CASES)} examples, 40 held-out sentences and {agreed} of {total} "
        "held-out reviews come out as coursekit's steps clean them."
    )


# --------------------------------------------------------------------------- 01.4 tokens


def default_cleaner() -> Any:
    """coursekit's cleaner for 01.3 (``own_or_reference`` falls back to it)."""
    from coursekit.text import make_cleaner

    return make_cleaner(negation_scope=True, output="tokens")


def expected_tokens_per_label(split: str | None = "train", cleaner: Any = None) -> dict[str, float]:
    """Mean number of tokens per review, per label, after ``cleaner`` (default: coursekit's)."""
    from coursekit.data import load_reviews

    fn = cleaner or default_cleaner()
    reviews = load_reviews(split)
    lengths = reviews["text"].map(lambda t: len(fn(t)))
    return {str(k): float(v) for k, v in lengths.groupby(reviews["label"]).mean().items()}


def _usable_cleaner(cleaner: Any) -> Any:
    """``cleaner`` if it is coursekit's or passes 01.3's test, else a CheckFailed."""
    from coursekit.text import Cleaner

    if cleaner is None or isinstance(cleaner, Cleaner):
        return cleaner
    expect(
        callable(cleaner), f"`cleaner` should be a function, but it is a {type(cleaner).__name__}"
    )
    try:
        _grade_cleaner(cleaner)
    except (CheckFailed, Exception) as err:  # a crash or NotAttempted too: not a usable cleaner
        raise CheckFailed(
            "the cleaner you passed does not clean as exercise 3 asks "
            f"({str(err)[:80]}…): pass `my_clean`, the cleaner the notebook chose for you"
        ) from None
    return cleaner


@exercise(
    "01.4",
    "mean cleaned tokens per review, per label",
    hint=(
        "Clean each training review into tokens, count them, then average the counts per label.",
        "my_clean(text) returns the token list; map its length over the text column and group the lengths by the label column.",
    ),
)
def tokens_per_label(value: Any, cleaner: Any = None) -> None:
    """``tokens_per_label`` computed with ``cleaner`` (the notebook's ``my_clean``)."""
    from coursekit.data import LABELS

    got = expect_number_map(require_attempted(value, "tokens_per_label"), "tokens_per_label")
    missing = [label for label in LABELS if label not in got]
    expect(
        not missing, f"`tokens_per_label` has no entry for {missing}; use the labels {list(LABELS)}"
    )
    fn = _usable_cleaner(cleaner)
    want = expected_tokens_per_label("train", cleaner=fn)

    def close(a: dict[str, float], b: dict[str, float]) -> bool:
        return all(math.isclose(a[k], b[k], rel_tol=1e-6, abs_tol=1e-6) for k in LABELS)

    if close(got, want):
        return
    if all(got[k] > 20 * want[k] for k in LABELS):
        raise CheckFailed(
            "these numbers are far too large: count tokens (len of the token list), not characters"
        )
    raw = expected_tokens_per_label("train", cleaner=str.split)
    if close(got, raw):
        raise CheckFailed("these are raw whitespace word counts; clean the reviews first")
    if close(got, expected_tokens_per_label(None, cleaner=fn)):
        raise CheckFailed("these use every split; use only the training split")
    worst = max(LABELS, key=lambda k: abs(got[k] - want[k]))
    raise CheckFailed(
        f"for {worst!r} you have {got[worst]:.3f} tokens per review, expected {want[worst]:.3f}"
    )
