"""The vocabulary of the FAQ's TRAINING paraphrases (``shop/faq_paraphrases_train.jsonl``).

The validation/test paraphrases of :mod:`coursekit.corpus_faq` are written by hand, six per
entry. The training split is *generated* from the FAQ's own question and answer with the
templates and word pools below, which were written separately and share no phrase with the
held-out rewordings (``tests/test_data.py`` checks it): an encoder fine-tuned on them is
still measured on wordings it never saw. Four kinds of training question:

* ``question``: the FAQ question re-framed (its opening rewritten, an opener, a closer, lower
  case, a typo);
* ``story``: a short situation first (per topic), then the re-framed question;
* ``keywords``: a few words of the ANSWER (the words shoppers use about their problem), the way
  people type into a search box;
* ``mixed``: words of the question and of the answer together, in a loose frame.
"""

from __future__ import annotations

#: how many training questions are generated per FAQ entry
PER_ENTRY = 24
#: (kind, how many of PER_ENTRY)
KINDS = (("question", 8), ("story", 6), ("keywords", 5), ("mixed", 5))

#: rewrites of the FAQ question's opening words (matched case-insensitively, longest first)
OPENING_REWRITES: dict[str, tuple[str, ...]] = {
    "how do i": (
        "what's the procedure to",
        "how would one",
        "what steps do i take to",
        "in what way can i",
    ),
    "how should i": ("what is the right way to", "proper way to"),
    "can i": ("is it allowed to", "am i able to", "would it be ok to", "any chance i can"),
    "do you": ("does the store", "does your company", "is it true you"),
    "do your": ("do the store's", "do all the"),
    "are your": ("are the store's", "are all the"),
    "what is": ("some info about", "explain"),
    "what are": ("give me info on", "list"),
    "why was": ("for what reason was", "how come"),
    "why did": ("for what reason did", "how come"),
    "will i": ("shall i", "must i"),
    "which": ("what",),
    "when will": ("at what point will",),
    "how long does": ("what's the usual time for", "roughly how long does"),
    "how much does": ("what's the price of", "what's the fee for"),
}

#: things said before the question
OPENERS = (
    "",
    "",
    "",
    "good morning,",
    "query:",
    "ok so",
    "hey shop team,",
    "yo",
    "apologies if this is obvious but",
    "one more question:",
    "asking for my mum:",
    "dear support,",
    "help needed -",
    "short question,",
)
#: things said after it
CLOSERS = (
    "",
    "",
    "",
    "cheers",
    "many thanks in advance",
    "appreciate it",
    "ta",
    "asap please",
    "kind regards",
    "(sorry for the bother)",
    "let me know",
)
#: a situation told first, per topic
STORIES: dict[str, tuple[str, ...]] = {
    "orders": (
        "bought a few bits on your site last tuesday",
        "placed my first order with you",
        "got a confirmation email this morning",
        "ordered a present for my niece",
    ),
    "shipping": (
        "i'm waiting on a delivery",
        "ordering from abroad for the first time",
        "the courier app shows something odd",
        "need my stuff before a trip",
    ),
    "returns": (
        "the item just isn't for me",
        "bought a jumper that doesn't suit me",
        "received my goods and i'm not keeping them",
        "not happy with the purchase",
    ),
    "sizes": (
        "buying trousers online for once",
        "between two sizes on the chart",
        "shopping for my partner",
        "usually i try clothes on in person",
    ),
    "warranty": (
        "my gadget stopped working after a few months",
        "the blender broke down",
        "the speaker i got is faulty",
        "worried about things breaking",
    ),
    "payment": (
        "at the checkout page right now",
        "looking at my bank statement",
        "trying to finish my purchase",
        "about to pay for my basket",
    ),
    "account": (
        "logged in on my laptop",
        "i have a profile with you",
        "going through my settings",
        "i signed up a while back",
    ),
    "products": (
        "browsing your catalogue",
        "thinking about buying something",
        "comparing a couple of items",
        "just got a new product from you",
    ),
    "support": (
        "had a frustrating experience",
        "been trying to reach someone",
        "got an odd text message",
        "need to speak with your staff",
    ),
}
#: how a story joins the question
STORY_JOINS = (", ", " - ", ". ", " and ", "... ")
#: frames for a few words of the answer (``{words}``)
KEYWORD_FRAMES = (
    "{words}",
    "{words}?",
    "info on {words}",
    "{words} question",
    "re: {words}",
    "need details: {words}",
    "{words} help pls",
)
#: frames for question words and answer words together
MIXED_FRAMES = (
    "{q} {a}",
    "{q}, {a}?",
    "{a} - {q}",
    "{q} ({a})",
    "wondering about {q} and {a}",
)
