"""Notebook 01's exercises: the build-it review cleaner (01.3) and the held-out parts of 01.1,
01.2 and 01.4.

The reference solutions are the solution notebook's own cells, executed here; each plausible
mistake gets its own message; calling coursekit's version is caught; a blank answer is
"not attempted" with no hint; a solution that only knows the visible examples fails.
"""

from __future__ import annotations

import re

import pytest
from check_helpers import blank
from nltk.corpus import stopwords

from coursekit import data, paths
from coursekit import text as tx
from coursekit.checks import NOT_ATTEMPTED, NOT_YET, PASSED, nb01

NOTEBOOK = paths.notebooks_dir() / "01_text_cleaning.ipynb"


def _cell(defines: str) -> str:
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code" and defines in c.source)


@pytest.fixture(scope="module")
def ns():
    """The notebook's solutions of 01.1, 01.2 and 01.3, run in one namespace."""
    space = {"re": re, "tx": tx, "stopwords": stopwords}
    for defines in ("def remove_stopwords(", "def scrub(", "def clean_review("):
        exec(_cell(defines), space)
    return space


def _status(verdict, status, fragment=""):
    assert verdict.status == status, verdict.line()
    assert fragment in verdict.message, verdict.line()
    if status == NOT_ATTEMPTED:
        assert verdict.line().endswith("not attempted yet."), verdict.line()


def _variant(
    ns,
    *,
    order="mark first",
    skip_stopwords=True,
    window=nb01.WINDOW,
    negation=tx.is_negation,
    scrub=True,
    lower=True,
    squeeze=True,
    html=True,
    drop_punct=True,
    words_only=True,
):
    """The notebook's cleaner with one plausible mistake switched on."""
    stop, remove = ns["STOPWORDS"], ns["remove_stopwords"]

    def mark(tokens):
        out, left = [], 0
        for tok in tokens:
            if negation(tok):
                out.append(tok)
                left = window
            elif tok in tx.CLAUSE_PUNCT or tok in tx.SCOPE_BREAKERS:
                out.append(tok)
                left = 0
            elif (
                left > 0
                and (tok[0].isalnum() or not words_only)
                and not (skip_stopwords and tok in stop)
            ):
                out.append("not_" + tok)
                left -= 1
            else:
                out.append(tok)
        return out

    def clean_review(text):
        if html:
            text = tx.strip_html(tx.normalize_unicode(text))
        if scrub:
            text = ns["scrub"](text)
        if squeeze:
            text = tx.squeeze_elongations(text)
        tokens = tx.tokenize(text.lower() if lower else text)
        tokens = remove(mark(tokens)) if order == "mark first" else mark(remove(tokens))
        if drop_punct:
            tokens = [t for t in tokens if t not in tx.CLAUSE_PUNCT or t in ns["KEEP_PUNCT"]]
        return tokens

    return clean_review


# --------------------------------------------------------------------------- 01.3: the answer


def test_01_3_the_notebook_solution_passes(ns):
    verdict = nb01.review_cleaner.evaluate(ns["clean_review"])
    _status(verdict, PASSED)
    assert "held-out reviews" in verdict.message


def test_01_3_the_examples_are_what_the_reference_gives():
    for text, want, _ in nb01.CLEANER_CASES:
        assert nb01.reference_clean(text) == want, text


def test_01_3_reference_is_coursekits_cleaner_on_the_shop_reviews():
    """Token for token on every review; only "but" inside a scope differs (it never occurs)."""
    coursekit = tx.make_cleaner(negation_scope=True, output="tokens")
    assert all(nb01.reference_clean(t) == coursekit(t) for t in data.load_reviews()["text"])
    assert coursekit("It is not cheap but sturdy") == ["not", "not_cheap", "not_sturdy"]
    assert nb01.reference_clean("It is not cheap but sturdy") == ["not", "not_cheap", "sturdy"]


def test_01_3_the_solution_matches_the_reference_on_other_seeds(ns):
    for seed in range(12):
        for text in nb01._hidden_sentences(seed):
            assert ns["clean_review"](text) == nb01.reference_clean(text), text


def test_01_3_held_out_reviews_are_not_the_examples_and_include_the_hand_written_ones():
    pool = nb01.held_out_reviews()
    texts = {text for text, _ in pool}
    assert len(pool) > 400
    assert not texts & {text for text, _, _ in nb01.CLEANER_CASES}
    tags = {tag for _, tags in pool for tag in tags}
    assert {"pii", "html", "elongation", "negation", "hand-written"} <= tags
    test = set(data.load_reviews("test")["text"])
    assert all(text in test for text, tags in pool if "hand-written" not in tags)


def test_01_3_without_the_fixtures_the_check_still_works(ns, monkeypatch, tmp_path):
    monkeypatch.setenv("COURSEKIT_DATA", str(paths.data_dir()))
    monkeypatch.setenv("COURSEKIT_ROOT", str(tmp_path))
    pool = nb01.held_out_reviews()
    assert pool and not any("hand-written" in tags for _, tags in pool)
    _status(nb01.review_cleaner.evaluate(ns["clean_review"]), PASSED)


# --------------------------------------------------------------------------- 01.3: not an answer


def test_01_3_blank_is_not_attempted(ns):
    _status(nb01.review_cleaner.evaluate(blank), NOT_ATTEMPTED)
    _status(nb01.review_cleaner.evaluate(None), NOT_ATTEMPTED)

    def written_but_blank_scope(text):  # clean_review written, mark_scope still the placeholder
        return ns["remove_stopwords"](blank(tx.tokenize(text.lower())))

    _status(nb01.review_cleaner.evaluate(written_but_blank_scope), NOT_ATTEMPTED)


@pytest.mark.parametrize(
    "answer",
    [
        lambda t: tx.clean(t, negation_scope=True, output="tokens"),
        lambda t: tx.make_cleaner(negation_scope=True, output="tokens")(t),
        lambda t: tx.Cleaner(tx.CleanerConfig(negation_scope=True, output="tokens"))(t),
        lambda t: tx.remove_stopwords(tx.mark_negation(tx.tokenize(tx.scrub_pii(t).lower()))),
        lambda t: tx.mark_negation(nb01.reference_clean(t)),
        tx.make_cleaner(negation_scope=True, output="tokens"),
    ],
    ids=["clean", "make_cleaner", "Cleaner", "the steps", "mark_negation", "a Cleaner itself"],
)
def test_01_3_coursekits_cleaner_is_caught(answer):
    verdict = nb01.review_cleaner.evaluate(answer)
    _status(verdict, NOT_YET, "write your own")
    assert not verdict.passed


def test_01_3_a_prebuilt_pipeline_in_a_global_is_caught():
    pipeline = tx.make_cleaner(negation_scope=True, output="tokens")
    space = {"pipeline": pipeline}
    exec(
        "def helper(t):\n    return pipeline(t)\n\ndef clean_review(t):\n    return helper(t)",
        space,
    )
    _status(nb01.review_cleaner.evaluate(space["clean_review"]), NOT_YET, "ready-made cleaners")


def test_01_3_scrub_pii_inside_the_learners_scrub_is_caught(ns):
    space = dict(ns)
    exec(
        "def scrub(text):\n    return tx.scrub_pii(text)\n\n" + _cell("def clean_review("),
        space,
    )
    _status(nb01.review_cleaner.evaluate(space["clean_review"]), NOT_YET, "calls `scrub_pii`")


@pytest.mark.parametrize(
    ("mistake", "fragment"),
    [
        ({"order": "filter first"}, "'but' is a stopword: mark the scope before"),
        ({"skip_stopwords": False}, "a stopword took the prefix ('not_the')"),
        ({"window": 10**6}, "covers at most 3 words after the negation 'not'; 'well' is word 4"),
        (
            {"negation": lambda t: t in {"not", "no", "nor", "never"} or t.endswith("n't")},
            "'nothing' is a negation too",
        ),
        ({"scrub": False}, "personal data got through"),
        ({"lower": False}, "lower-case the text: 'Not' is not"),
        ({"squeeze": False}, "squeeze elongations"),
        ({"html": False}, "strip the HTML first"),
        ({"drop_punct": False}, "drop the clause punctuation ('.') last"),
        ({"words_only": False}, "only words are marked: '$49.99'"),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else None,
)
def test_01_3_each_plausible_mistake_gets_its_own_message(ns, mistake, fragment):
    _status(nb01.review_cleaner.evaluate(_variant(ns, **mistake)), NOT_YET, fragment)


def test_01_3_other_wrong_shapes(ns):
    clean = ns["clean_review"]
    _status(
        nb01.review_cleaner.evaluate(lambda t: " ".join(clean(t))), NOT_YET, "not a joined string"
    )
    _status(nb01.review_cleaner.evaluate(lambda t: t.lower().split()), NOT_YET, "not_good")
    _status(nb01.review_cleaner.evaluate(lambda t: t.split(" ")), NOT_YET, "a text without words")


def test_01_3_hard_coding_the_visible_examples_fails(ns):
    examples = {text: want for text, want, _ in nb01.CLEANER_CASES}
    sloppy = _variant(ns, order="filter first", window=10**6)

    def memorised(text):
        return examples[text] if text in examples else sloppy(text)

    _status(nb01.review_cleaner.evaluate(memorised), NOT_YET, "on a held-out sentence")

    def short_only(text):  # right on sentences, wrong on long reviews: the agreement rate
        out = ns["clean_review"](text)
        return out if len(text) < 150 else out[:-1]

    _status(nb01.review_cleaner.evaluate(short_only), NOT_YET, "held-out reviews (")


def test_01_3_personal_data_on_held_out_reviews_is_never_tolerated(ns):
    space = dict(ns)
    weak = re.compile(r"\b\d{3}-\d{4}\b")  # local numbers with a dash only
    space["scrub"] = lambda t: weak.sub(
        "<phone>", ns["EMAIL"].sub("<email>", ns["URL"].sub("<url>", t))
    )
    exec(_cell("def clean_review("), space)
    _status(nb01.review_cleaner.evaluate(space["clean_review"]), NOT_YET, "held-out reviews: e.g.")


def test_01_3_hints_are_staged_and_not_shown_before_an_attempt():
    hints = nb01.review_cleaner.hints
    assert len(hints) == 3
    assert not re.search(r"[=()\[\]]|tx\.|def ", hints[0]), "the first hint is a nudge, no code"
    verdict = nb01.review_cleaner.evaluate(blank)
    assert verdict.hint == "" and "Hint" not in verdict.line()


# --------------------------------------------------------------------------- 01.1 and 01.2 held out


def test_01_1_solution_passes_and_hard_coding_fails(ns):
    _status(nb01.stopword_filter.evaluate(ns["remove_stopwords"]), PASSED)
    visible = {tuple(t): ns["remove_stopwords"](t) for t in nb01.STOPWORD_CASES}
    _status(
        nb01.stopword_filter.evaluate(lambda t: visible.get(tuple(t), list(t))),
        NOT_YET,
        "(a held-out token list) the stopwords",
    )
    _status(nb01.stopword_filter.evaluate(tx.remove_stopwords), NOT_YET, "write your own")
    _status(
        nb01.stopword_filter.evaluate(lambda t: [w for w in t if w not in tx.safe_stopwords()]),
        NOT_YET,
        "calls `safe_stopwords`",
    )


def test_01_1_hidden_lists_agree_with_both_readings_of_the_rule(ns):
    for seed in range(20):
        for tokens in nb01._hidden_token_lists(seed):
            assert ns["remove_stopwords"](tokens) == tx.remove_stopwords(tokens), tokens


def test_01_2_solution_passes_and_hard_coding_fails(ns):
    _status(nb01.pii_scrubber.evaluate(ns["scrub"]), PASSED)
    fixed = {text: text for text, _, _ in nb01.PII_CASES}
    for text, gone, _ in nb01.PII_CASES:
        for g in gone:
            fixed[text] = fixed[text].replace(g, "")
        fixed[text] += " <email> <url> <phone>"
    _status(nb01.pii_scrubber.evaluate(lambda t: fixed.get(t, t)), NOT_YET, "(a held-out review)")


def test_01_2_hidden_reviews_hold_for_the_solution_and_for_coursekit():
    space = {"re": re}
    exec(_cell("def scrub("), space)
    for seed in range(30):
        for text, gone, kept in nb01._hidden_pii_cases(seed):
            for scrubbed in (space["scrub"](text), tx.scrub_pii(text)):
                assert not [g for g in gone if g in scrubbed], (text, scrubbed)
                assert all(k in scrubbed for k in kept), (text, scrubbed)


def test_01_2_no_regex_is_on_screen_before_the_exercise():
    """The learner version holds no pattern: they live in the solution block."""
    from coursekit import learner

    source = learner.strip_solutions(_cell("def scrub("))
    assert "re.compile" not in source and "@" not in source


# --------------------------------------------------------------------------- 01.4 with my_clean


def test_01_4_counts_with_the_cleaner_it_is_given(ns):
    own = ns["clean_review"]
    train = data.load_reviews("train")
    value = train["text"].map(lambda t: len(own(t))).groupby(train["label"]).mean()
    _status(nb01.tokens_per_label.evaluate(value, own), PASSED)
    _status(nb01.tokens_per_label.evaluate(value, nb01.default_cleaner()), PASSED)
    _status(nb01.tokens_per_label.evaluate(value, str.split), NOT_YET, "pass `my_clean`")
    raw = train["text"].str.split().str.len().groupby(train["label"]).mean()
    _status(nb01.tokens_per_label.evaluate(raw, own), NOT_YET, "raw whitespace")


# --------------------------------------------------------------------------- the notebook


def test_the_notebook_shows_no_ready_made_answer_before_its_check():
    """In the learner version, no cell before an exercise's check calls what solves it."""
    import nbformat

    from coursekit import learner

    nb = learner.make_learner_notebook(
        nbformat.read(NOTEBOOK, as_version=4), "01_text_cleaning.ipynb"
    )
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    checks = {
        "check.stopword_filter": ["tx.remove_stopwords", "tx.safe_stopwords"],
        "check.pii_scrubber": ["tx.scrub_pii"],
        "check.review_cleaner": ["tx.clean(", "tx.make_cleaner", "tx.mark_negation", "Cleaner("],
    }
    for call, answers in checks.items():
        at = next(i for i, s in enumerate(sources) if s.startswith(call))
        for source in sources[:at]:
            for answer in answers:
                assert answer not in source, f"{answer} appears before {call}"


def test_exercise_ids_follow_the_notebook():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    calls = [c.source.split("(")[0] for c in nb.cells if c.source.startswith("check.")]
    ids = [getattr(nb01, call.removeprefix("check.")).exercise_id for call in calls]
    assert ids == ["01.1", "01.2", "01.3", "01.4"]
    headings = [
        m.group(1)
        for c in nb.cells
        if c.cell_type == "markdown"
        for m in re.finditer(r"^### Exercise (\d+) ·", c.source, re.M)
    ]
    assert headings == ["1", "2", "3", "4"]
