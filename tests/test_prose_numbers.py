"""Numbers in a notebook's prose are numbers its outputs show.

A markdown cell that says "the classifier reaches 0.92 macro-F1" next to an output printing
``0.87`` teaches something false, and nbval never notices (it compares outputs, not prose).
This test reads every solution notebook (``notebooks/NN_*.ipynb``; the learner versions are
generated from them) and fails when a number written in a markdown cell appears in no output
of that notebook. Prose that quotes a measurement should render it with ``report.takeaway``
(its Markdown is an output) or quote a stable claim an output prints.

What counts as output text: the ``stream`` text and the ``text/plain``, ``text/markdown`` and
``text/html`` data of every code cell output, after the course's nbval sanitizer for claims
(``notebooks/sanitize.cfg``, ``[claimed-value]``): the value in front of a passing claim,
``0.916 (expected 0.890–0.940 ✓)``, differs from one processor to the next, so prose may
quote the claim (``0.890``, ``0.940``) but not the stored value.

How a number matches: as written in the prose, thousands separators removed ("2,234" is
"2234"), found in the outputs as a whole number ("0.91" is not found in "0.916", "4" not in
"40"); a trailing ``%`` is a unit and not compared. A range ("2 to 4", "2–4") or a ratio
("1 in 9") is one claim: it is found when it appears as written in an output, or when each of
its numbers is found.

Numbers that are not measurements are left out, by rule where a rule is general:

* code spans, fenced code, LaTeX (``$...$``), HTML tags, link targets and images;
* a number that appears in any code cell's source of the notebook: it is a setting or a
  constant of the code (``max_length=128``, ``top_k=5``), not a result;
* syllabus numbers: notebook and exercise ids ("notebook 04", "Exercise 03.2", "03_x.ipynb"),
  section numbers of headings ("## 3. Attention") and ordered-list markers ("1. ");
* years (1900–2099) and names with digits glued to letters ("GPT-2", "bf16", "AVX2", "3rd");

and otherwise by :data:`ALLOWED`, a short per-notebook allowlist with a reason for each
entry (constants of formulas, facts about the world the notebook does not compute).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# notebook prefix -> {number as written (separators removed): reason it is not a measurement}
ALLOWED: dict[str, dict[str, str]] = {
    "01": {
        "5": 'the example of a real abbreviation in a sentence ("approx. 5 cm"), not a measurement',
    },
    "02": {
        "80": "illustration of attention's n² cost: 80 tokens instead of 40 costs four times",
        "40": "illustration of attention's n² cost: 80 tokens instead of 40 costs four times",
    },
    "05": {
        "80": "memory of the largest common GPU (80 GB), a hardware fact",
    },
    "06": {
        "7,500": "size of VADER's hand-built lexicon, a fact about the library",
        "2.5": "the 2.5 % quantile bounds a 95 % bootstrap interval, a constant of the method",
        "97.5": "the 97.5 % quantile bounds a 95 % bootstrap interval, a constant of the method",
    },
    "08": {
        "6": "all-MiniLM-L6-v2 has 6 layers, a fact about the model (its name says so)",
        "99": "the design choice for the threshold: below 99 % of validation questions' scores",
    },
}

# --------------------------------------------------------------------------- text of a notebook

OUTPUT_MIMES = ("text/plain", "text/markdown", "text/html")


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def _sanitizers() -> list[tuple[re.Pattern, str]]:
    """The course's nbval sanitizers, read the way nbval reads them (regex/replace pairs)."""
    text = (ROOT / "notebooks" / "sanitize.cfg").read_text(encoding="utf-8")
    pairs = re.findall(r"^regex: (.*)$\n^replace: (.*)$", text, flags=re.M)
    return [(re.compile(regex), replace) for regex, replace in pairs]


SANITIZERS = _sanitizers()


def output_text(nb: dict) -> str:
    """All text the code cells display, as nbval compares it (passing claims' values sanitized)."""
    parts = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(_text(out.get("text")))
            for mime in OUTPUT_MIMES:
                if mime in out.get("data", {}):
                    parts.append(_text(out["data"][mime]))
    text = "\n".join(parts)
    for regex, replace in SANITIZERS:
        text = regex.sub(replace, text)
    return text


def code_text(nb: dict) -> str:
    return "\n".join(_text(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


# --------------------------------------------------------------------------- numbers in prose

NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
# A number: not glued to a letter, digit, "_" or a decimal point on either side ("GPT-2",
# "bf16", "3rd", "x86_64" and "1.2.3" are names, not quantities); "-" before it is a sign
# unless it follows a letter or digit ("GPT-2", "MiniLM-L6-v2").
NUMBER = rf"(?<![\w.])(?<![A-Za-z0-9]-)(?:{NUM})(?![\w]|\.\d)"
PCT = r"(?:\s?%)?"
# "2 to 4", "2–4", "between 2 and 4" (but "from 0.82 to 0.95" is two values); "1 in 9".
JOIN = r"\s*(?:–|—|-)\s*|\s+to\s+|\s+in\s+|\s+out\s+of\s+"
PROSE_RE = re.compile(
    rf"(?P<from>\bfrom\s+)?(?P<between>\bbetween\s+)?(?P<a>{NUMBER})(?P<apct>{PCT})"
    rf"(?:(?P<join>{JOIN}|(?(between)\s+and\s+|(?!)))(?P<b>{NUMBER})(?P<bpct>{PCT}))?"
)

SKIP_BLOCKS = [
    re.compile(r"^(```|~~~).*?^\1", re.S | re.M),  # fenced code
    re.compile(r"\$\$.*?\$\$", re.S),  # display LaTeX
    re.compile(r"(?<!\\)\$[^$\n]+\$"),  # inline LaTeX
    re.compile(r"(`+).+?\1", re.S),  # code spans
    re.compile(r"<[^>\n]+>"),  # HTML tags (attributes, widths)
    re.compile(r"!\[[^\]]*\]\([^)]*\)"),  # images
    re.compile(r"(?<=\])\([^)]*\)"),  # link targets
    re.compile(r"https?://\S+"),  # bare URLs
]
SYLLABUS = [
    re.compile(r"^\s{0,3}#+\s*(?:\d+(?:\.\d+)*\.?)", re.M),  # "## 3. Attention", "### 2.1"
    re.compile(r"^\s*\d+[.)]\s", re.M),  # ordered-list markers
    re.compile(r"\b\d\d_\w+(?:\.ipynb)?"),  # notebook file names
    re.compile(r"(?<![\w.,])0\d(?![\w]|[.,]\d)"),  # "00".."09": the course's notebook numbers
    re.compile(r"Run time:[^\n]*"),  # timings differ by machine and are not printed
    # "notebook 04", "notebooks 04–06", "notebooks 3 and 5", "Exercise 03.2", "part 2", "step 3"
    re.compile(
        r"\b(?:notebooks?|nb|exercises?|sections?|parts?|steps?|chapters?|lessons?|week|day)"
        r"\s+\d+(?:\.\d+)?(?:\s*(?:,|–|-|to|and|&|or)\s*\d+(?:\.\d+)?)*",
        re.I,
    ),
    re.compile(r"\b(?:python|torch|pytorch|version|v)\s*\d+(?:\.\d+)*", re.I),  # versions
]


def _blank(match: re.Match) -> str:
    """Replace a skipped span with spaces (keeps offsets) except newlines."""
    return re.sub(r"[^\n]", " ", match.group(0))


def prose_of(markdown: str) -> str:
    """Markdown with the spans that hold no measurements blanked out."""
    for pattern in SKIP_BLOCKS + SYLLABUS:
        markdown = pattern.sub(_blank, markdown)
    return markdown


def plain(number: str) -> str:
    return number.replace(",", "")


def is_year(number: str) -> bool:
    return re.fullmatch(r"(19|20)\d\d", number) is not None


@dataclass(frozen=True)
class Quoted:
    cell: int
    number: str  # as written in the prose ("2,234", "92 %", "2 to 4", "1 in 9")
    parts: tuple[str, ...]  # its numbers, separators removed
    percent: tuple[bool, ...]  # whether each part is written as a percent

    @property
    def is_claim(self) -> bool:
        """A range or ratio: its numbers are one claim, found together or not at all."""
        return len(self.parts) > 1


def quoted_numbers(nb: dict) -> list[Quoted]:
    found = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        for m in PROSE_RE.finditer(prose_of(_text(cell["source"]))):
            a = Quoted(
                index,
                m.group("a") + m.group("apct"),
                (plain(m.group("a")),),
                (bool(m.group("apct")),),
            )
            if not m.group("b"):
                found.append(a)
                continue
            b = Quoted(
                index,
                m.group("b") + m.group("bpct"),
                (plain(m.group("b")),),
                (bool(m.group("bpct")),),
            )
            if m.group("from"):  # "from 0.82 to 0.95": a before and an after, two values
                found += [a, b]
                continue
            start = m.start("a")
            found.append(
                Quoted(
                    index,
                    m.group(0)[start - m.start() :].strip(),
                    a.parts + b.parts,
                    (bool(m.group("apct") or m.group("bpct")),) * 2,
                )
            )
    return found


# --------------------------------------------------------------------------- matching


def _normalised(text: str) -> str:
    """Thousands separators removed: "2,234" -> "2234" (only between digit groups)."""
    return re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)


def _contains(text: str, number: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(number)}(?!\d|\.\d)", text) is not None


def _as_fraction(number: str) -> str:
    """ "92" -> "0.92", "91.6" -> "0.916": a percent in prose is the fraction an output prints."""
    return str(Decimal(number).scaleb(-2))


CODE_LITERAL = re.compile(r"(?<![\w.])\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


def code_values(code_line: str) -> set[Decimal]:
    """The numeric literals a line of code writes (``128``, ``0.5``, ``1e-5``, ``1_000``)."""
    return {Decimal(t.replace("_", "")) for t in CODE_LITERAL.findall(code_line)}


def _values(number: str, percent: bool) -> set[Decimal]:
    value = Decimal(number)
    return {value, value.scaleb(-2)} if percent else {value}


def _shown(text: str, number: str, percent: bool) -> bool:
    return _contains(text, number) or (percent and _contains(text, _as_fraction(number)))


def _claim_shown(outputs: str, code_lines: list[set[Decimal]], q: Quoted) -> bool:
    """A range or ratio is found as written (any dash, "to", "and"), or is one line's setting.

    Not "each end somewhere": small integers are in every output, so "emoji take 2 to 4
    tokens" would pass beside an output showing one token.
    """
    (a, b), (pa, pb) = q.parts, q.percent
    join = r"\s*(?:–|—|-|to|and|in|out of|,)\s*"  # "," for an interval "[+0.0038, +0.0080]"
    if re.search(rf"(?<![\d.]){re.escape(a)}%?{join}{re.escape(b)}(?!\d|\.\d)", outputs):
        return True
    return any(_values(a, pa) & line and _values(b, pb) & line for line in code_lines)


def offending(nb: dict, allowed: dict[str, str] | None = None) -> list[tuple[int, str]]:
    """(cell index, number as written) for each prose number that no output shows."""
    allowed = {plain(k): v for k, v in (allowed or {}).items()}
    outputs = _normalised(output_text(nb))
    code_lines = [code_values(line) for line in _normalised(code_text(nb)).splitlines()]
    settings = set().union(*code_lines)
    bad = []
    for q in quoted_numbers(nb):
        if plain(q.number) in allowed or all(is_year(p) for p in q.parts):
            continue
        if q.is_claim:
            ok = _claim_shown(outputs, code_lines, q)
        else:
            (number,), (percent,) = q.parts, q.percent
            ok = (
                number in allowed
                or is_year(number)
                or bool(_values(number, percent) & settings)
                or _shown(outputs, number, percent)
            )
        if not ok:
            bad.append((q.cell, q.number))
    return bad


def _message(name: str, bad: list[tuple[int, str]]) -> str:
    lines = [f"{name}: numbers in markdown that no output of the notebook shows:"]
    lines += [f"  cell {cell}: {number!r}" for cell, number in bad]
    lines.append(
        "Render the sentence from the computed values (report.takeaway), quote a claim an "
        "output prints, or, for a constant that is not a measurement, add it to ALLOWED in "
        "tests/test_prose_numbers.py with the reason."
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name[:2] for p in NOTEBOOKS])
def test_prose_numbers_appear_in_the_notebooks_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    bad = offending(nb, ALLOWED.get(path.name[:2], {}))
    assert not bad, _message(path.name, bad)


def test_every_allowlist_entry_is_still_needed():
    """An ALLOWED entry whose number the notebook no longer quotes (or now shows) is stale."""
    for prefix, entries in ALLOWED.items():
        (path,) = [p for p in NOTEBOOKS if p.name.startswith(prefix)]
        nb = json.loads(path.read_text(encoding="utf-8"))
        needed = {n for _, n in offending(nb)}
        needed |= {p for q in quoted_numbers(nb) for p in q.parts if q.number in needed}
        stale = set(entries) - needed
        assert not stale, f"{path.name}: ALLOWED entries no longer needed: {sorted(stale)}"
        assert all(reason.strip() for reason in entries.values()), "every entry has a reason"


# --------------------------------------------------------------------------- the test's own tests


def _nb(markdown: str, printed: str, code: str = "print(score)", markdown_output=None) -> dict:
    outputs = [{"output_type": "stream", "name": "stdout", "text": [printed]}]
    if markdown_output is not None:
        outputs.append(
            {
                "output_type": "execute_result",
                "execution_count": 2,
                "metadata": {},
                "data": {"text/markdown": [markdown_output], "text/plain": [markdown_output]},
            }
        )
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n"]},
            {"cell_type": "code", "metadata": {}, "source": [code], "outputs": outputs},
            {"cell_type": "markdown", "metadata": {}, "source": [markdown]},
        ]
    }


def test_a_planted_wrong_number_fails_and_the_right_one_passes():
    assert offending(_nb("The model scores 0.87 on the test set.", "macro-F1 0.91\n")) == [
        (2, "0.87")
    ]
    assert offending(_nb("The model scores 0.91 on the test set.", "macro-F1 0.91\n")) == []


def test_the_failure_message_names_notebook_cell_and_number():
    bad = offending(_nb("The model scores 0.87.", "macro-F1 0.91\n"))
    message = _message("99_planted.ipynb", bad)
    assert "99_planted.ipynb" in message and "cell 2" in message and "'0.87'" in message


def test_numbers_match_whole_and_without_thousands_separators():
    assert offending(_nb("Scores 0.91.", "0.916\n")) == [(2, "0.91")]  # not a prefix
    assert offending(_nb("We kept 4 rows.", "40 rows\n")) == [(2, "4")]
    assert offending(_nb("There are 2,234 reviews (92%).", "2234 reviews, 92.0 %\n")) == [
        (2, "92%")
    ]
    assert offending(_nb("92 % of them.", "share 0.92\n")) == []  # a percent is its fraction
    assert offending(_nb("There are 2234 reviews.", "2,234 reviews\n")) == []


def test_ranges_and_ratios_are_one_claim():
    # "emoji take 2 to 4 tokens" beside an output showing one token
    assert offending(_nb("Emoji take 2 to 4 tokens.", "🙂 -> 1 token\n")) == [(2, "2 to 4")]
    assert offending(_nb("Emoji take 2 to 4 tokens.", "tokens: 2 to 4\n")) == []
    assert offending(_nb("Emoji take 2–4 tokens.", "{'low': 2, 'lower': 4}\n")) == [(2, "2–4")]
    assert offending(_nb("Emoji take 2–4 tokens.", "done\n", code="randint(2, 4)")) == []
    assert offending(_nb("Between 2 and 4 tokens.", "expected 2–4 ✓\n")) == []
    assert offending(_nb("About 1 in 9 reviews.", "1 in 8 reviews\n")) == [(2, "1 in 9")]


def test_takeaway_markdown_is_output_and_claims_are_compared_not_values():
    takeaway = "The classifier reaches macro-F1 0.91."
    assert offending(_nb("So 0.91 it is.", "done\n", markdown_output=takeaway)) == []
    claim = "macro-F1 0.916 (expected 0.890–0.940 ✓)\n"
    assert offending(_nb("It reaches 0.916.", claim)) == [(2, "0.916")]
    assert offending(_nb("It lands between 0.890 and 0.940.", claim)) == []


def test_settings_syllabus_code_and_years_are_not_measurements():
    md = (
        "## 3. Results\n"
        "1. In notebook 04 (see `top_k=7` and $e^{2.5}$), Exercise 03.2 from 2024 uses GPT-2\n"
        "   in bf16 on AVX2, [link](https://example.com/12345) and <img width=640>.\n"
    )
    assert offending(_nb(md, "done\n")) == []
    assert offending(_nb("We train for 30 epochs.", "done\n", code="train(epochs=30)")) == []
    assert offending(_nb("We train for 30 epochs.", "done\n")) == [(2, "30")]
    assert offending(_nb("We train for 30 epochs.", "done\n"), {"30": "a setting"}) == []
