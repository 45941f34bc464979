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
* ``mixed``: words of the question and of the answer together, in a loose frame;
* ``situation``: the shopper's problem in their own words (:data:`SITUATIONS`, written per
  entry without the FAQ question's keywords), a setting first, slips of the thumb.

The re-framed question of ``question`` and ``story`` also swaps some of the FAQ's words for
the ones shoppers use (:data:`SYNONYMS`), so the fine-tuned encoder cannot rely on the FAQ's
own vocabulary.
"""

from __future__ import annotations

#: how many training questions are generated per FAQ entry
PER_ENTRY = 32
#: (kind, how many of PER_ENTRY)
KINDS = (("question", 8), ("story", 6), ("keywords", 5), ("mixed", 5), ("situation", 8))

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

#: per FAQ entry (in the FAQ's order, F001 first): the shopper's SITUATION told in their own
#: words, avoiding the FAQ question's keywords (written for the training split only)
SITUATIONS: tuple[tuple[str, ...], ...] = (
    # orders
    ("no idea where my stuff is right now", "want to follow my purchase on a map"),
    ("i clicked buy by mistake five minutes ago", "changed my mind right after paying"),
    ("i moved house and the purchase will go to my old flat", "typed the wrong street number"),
    (
        "forgot to put a second thing in the basket before paying",
        "want to stick one more thing on my purchase",
    ),
    (
        "got an email saying my purchase was stopped, i never asked for that",
        "someone called off my purchase and it wasnt me",
    ),
    ("the box had something i never picked", "opened it and its a totally different thing"),
    (
        "only two of the three things were inside",
        "one bit of my purchase never showed up in the box",
    ),
    ("the box came crushed and the lid is dented", "it turned up smashed"),
    (
        "its for a birthday, can it come nicely wrapped",
        "want it to look like a present when it arrives",
    ),
    (
        "want it sent straight to my brother's flat as a surprise",
        "buying for a friend in another town",
    ),
    ("my accountant needs a receipt with vat", "need paperwork for my company expenses"),
    (
        "i'm not good with websites, rather ring someone to buy",
        "my gran wants to buy over the telephone",
    ),
    ("buying fifty of the same for the office", "our company wants a big batch, any deal"),
    (
        "that new thing isn't out yet but i want to be first",
        "can i reserve something before launch day",
    ),
    # shipping
    (
        "how many days till the regular post gets here",
        "ordered yesterday with normal post, when does it come",
    ),
    ("need it by tomorrow for a party", "is there a faster option, its urgent"),
    ("what will the postage add to my total", "is delivery extra on top of the price"),
    ("i live in canada, can i still buy", "buying from outside the country"),
    ("will there be extra fees at the border", "worried the post office charges me tax on arrival"),
    ("who brings the boxes, dhl or someone else", "which firm drops off the packages"),
    ("i'm only home on thursdays", "can it come on a day that suits me"),
    ("i only have a postbox address", "can it go to my mailbox at the post office"),
    ("app says it was left but nothing at my door", "marked as handed over yet my porch is empty"),
    ("it should have been here days ago", "still waiting and the date has passed"),
    ("i'm never in, can i grab it from a locker", "rather fetch it from the corner shop"),
    ("will anything turn up on a saturday", "does the van come sundays"),
    ("got one box today and another one tomorrow", "things came in bits on different days"),
    # returns
    (
        "how long have i got to send back stuff",
        "bought it three weeks ago, too late to give it back?",
    ),
    (
        "want to send something back, where do i start",
        "the dress doesnt suit me, how to give it back",
    ),
    ("do i pay the postage to send it back", "will sending it back cost me anything"),
    ("sent it back last week and still no money", "when does the cash come back to my card"),
    ("the shoes pinch, want the next one up", "swap it for the blue one instead"),
    ("threw away the box it came in", "the wrapping is gone, can it still go back"),
    (
        "is underwear one of the things you won't take back",
        "bought it in the clearance, can it go back",
    ),
    ("rather have the value kept for my next purchase", "keep the money on my profile for later"),
    # sizes
    ("no clue if i'm a medium or a large", "between sizes and buying online"),
    ("do the jeans come up tight", "everyone says your tops are a bit snug"),
    (
        "i'm a 9 in british shoes, what's that in european",
        "converting my trainer number from america",
    ),
    ("need bigger clothes, anything above xxl", "looking for larger fits"),
    ("where do i put the tape to get my waist right", "what numbers do i need to take with a tape"),
    ("will the cotton tee get smaller in the machine", "worried it goes tiny after a hot wash"),
    ("my labrador is 30 kilos, which bed", "picking a bed for a big puppy"),
    # warranty
    ("how long am i covered if it breaks", "is there a guarantee on the toaster"),
    ("it stopped working, how do i get it fixed free", "the kettle died after six months"),
    (
        "i dropped my phone case thing and it cracked, covered?",
        "spilled coffee on it, will you repair it",
    ),
    ("what is the extra cover you offer at checkout", "is the add-on protection worth it"),
    # payment
    ("can i use paypal or amex", "which of my cards will go through"),
    ("can i split the cost over a few months", "rather pay in bits"),
    ("my bank keeps refusing at checkout", "card keeps getting rejected"),
    ("is it safe to type my card number here", "worried about fraud on your site"),
    ("when does the money leave my account", "the cash came out before it shipped"),
    ("i see two identical payments on my statement", "the money was taken twice"),
    ("got a voucher for my birthday, how do i use it", "can i pay with a present card"),
    ("where do i type the discount thing", "got a coupon in an email, where does it go"),
    ("the discount code says invalid", "my voucher code is rejected at checkout"),
    ("is vat already in the price shown", "will tax be added at the end"),
    ("saw it cheaper somewhere else, will you match", "another site has it for less"),
    ("it got cheaper the day after i bought it", "the price fell a week after my purchase"),
    # account
    ("forgot my login details", "can't get in, lost the secret word"),
    ("first time here, how to make a profile", "want to register with you"),
    ("don't want a profile, just want to buy", "can i buy without registering"),
    ("want to remove all my info from your system", "close my profile for good"),
    ("got a new email, need to update my login", "my old inbox is gone"),
    ("too many emails from you, make them stop", "stop the newsletters please"),
    ("what do you do with my info", "are you selling my details"),
    ("what do i get if i pay for the premium thing", "is the premium sub any good"),
    ("want to stop paying for the premium thing", "end my paid membership"),
    ("how do the points on my profile add up", "what are the points worth"),
    ("too many wrong tries and now i'm blocked", "it says my profile is frozen"),
    ("want to keep a list of things to buy later", "can i bookmark items"),
    # products
    ("the thing i want says sold out", "when will you have the trainers again"),
    ("are these real or knock-offs", "is the brand stuff genuine"),
    ("is the lipstick cruelty free", "do you test makeup on bunnies"),
    ("does the speaker come with a plug", "is there a lead in the box with the headphones"),
    (
        "can the pans go in the machine that washes plates",
        "will the mixing bowl survive the dishwasher",
    ),
    ("what's in the granola, i have allergies", "does the snack have nuts"),
    ("where do i keep the beans once opened", "fridge or cupboard for the tea leaves"),
    ("how long until the snacks expire", "will the food be close to its date"),
    ("my puppy is picky, which kibble", "what should i feed an old dog"),
    ("changing my cat to a new brand, tips", "moving my dog onto different kibble"),
    ("is the puzzle ok for a three year old", "buying a toy for a toddler"),
    ("does the robot toy need aa cells", "are there batteries with the remote car"),
    ("my earbuds won't connect to my phone", "can't get the speaker to show up on my laptop"),
    ("how many hours does the speaker play", "how do i top up the earbuds"),
    ("will the bottle spill in my bag", "is the flask plastic safe"),
    ("how to wash the jumper so it doesn't bobble", "keeping my shirts looking new"),
    ("stuck on a present for my dad", "what would you suggest for a 10 year old"),
    ("the jacket looked red online but it's orange", "is the shade in the pictures true"),
    ("do you have second hand or renewed gadgets", "looking for a cheaper used laptop"),
    ("want to tell others what i thought of the kettle", "where can i give it stars"),
    # support
    ("i want to speak to a real human", "the chatbot is useless, need a person"),
    ("what time can i ring you", "is the phone line open on sundays"),
    ("got a dodgy text claiming to be you", "an email asked for my card details, is it you"),
    ("is there a place i can go and see things", "do you have a shop in town"),
    ("the person on the phone was rude", "not impressed at all with the way staff spoke to me"),
)
#: the situation's setting, told first (any topic)
SETTINGS = (
    "",
    "",
    "quick one,",
    "long story short,",
    "so basically",
    "right, here's the thing:",
    "sorry to bug you but",
    "bit of a problem:",
    "been on your site for ages and",
    "typing this on my phone,",
)
#: words shoppers use in place of the FAQ's own (applied at random to the re-framed question)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "order": ("purchase", "stuff i bought"),
    "parcel": ("box", "package"),
    "package": ("box", "parcel"),
    "item": ("thing", "product"),
    "refund": ("cash returned", "reimbursement"),
    "delivery": ("drop-off", "postage"),
    "shipping": ("postage", "delivery"),
    "account": ("profile", "login"),
    "password": ("login details", "pin"),
    "cancel": ("scrap", "stop"),
    "return": ("send back", "give back"),
    "damaged": ("broken", "smashed"),
    "charged": ("billed", "debited"),
    "e-mail": ("email", "mail"),
    "clothes": ("garments", "outfits"),
}
