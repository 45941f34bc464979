"""The vocabulary of the OUT-OF-SCOPE questions (``shop/faq_out_of_scope.jsonl``).

A shop's customer-service inbox gets many messages the FAQ does not answer: product details
nobody wrote down, other shops, the company itself, services the shop does not offer (near an
FAQ topic but not covered by it), chit-chat and jokes, complaints without a question, and
requests that have nothing to do with shopping. The hand-off rule must learn to pass those to
a person, so the generator writes some, from the templates and word pools below (written for
the course, never copied from the hand-written test questions).

Every kind has its own templates for each split (``train``, ``validation``, ``test``); no
template is shared between splits (``tests/test_data.py`` checks it), so a rule fitted on
validation, or an encoder trained on the training split, is measured on other wordings.
The slot pools (``{product}``, ``{city}``, ...) are shared: they are the world the shop lives
in, not the way a question is asked.
"""

from __future__ import annotations

#: the splits, and how many questions each kind gets in each
SPLIT_SIZES = {"train": 80, "validation": 24, "test": 24}

#: per kind, per split: templates whose ``{slot}`` names a pool of :data:`POOLS`
TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    # details of one product that the FAQ does not cover
    "product detail": {
        "train": (
            "how heavy is the {product}",
            "what are the exact dimensions of the {product}",
            "is the {product} waterproof",
            "where is the {product} made",
            "does the {product} come in {colour}",
            "what material is the lining of the {product} made of",
            "how many watts is the {product}",
            "is the {product} suitable for left handed people",
            "can the {product} be used outdoors in winter",
            "what is the model number of the {product}",
        ),
        "validation": (
            "what does the {product} weigh",
            "is the {product} made in europe or asia",
            "will the {product} fit in a small {room}",
            "does the {product} work with a {gadget}",
        ),
        "test": (
            "how tall is the {product} exactly",
            "can i get the {product} in {colour} too",
            "is the {product} loud when it runs",
            "how many people can use the {product} at once",
        ),
    },
    # other shops, brands and marketplaces
    "other shops": {
        "train": (
            "is {rival} cheaper than you for {category}",
            "where is the nearest {rival} to {city}",
            "do you know if {rival} is open on bank holidays",
            "what time does {rival} in {city} close",
            "is {rival} part of your group",
            "can i return something i bought at {rival} to you",
            "does {rival} sell the same {category} as you",
            "which is better, {rival} or the market in {city}",
        ),
        "validation": (
            "is {rival} owned by the same people as you",
            "who has better {category}, you or {rival}",
            "my friend works at {rival}, do you know her",
            "how do i get a {rival} loyalty card",
        ),
        "test": (
            "does {rival} deliver to {city}",
            "why does {rival} have more {category} than you",
            "can i use my {rival} voucher on a bus ticket",
            "what's the phone number of {rival}",
        ),
    },
    # the company itself
    "company": {
        "train": (
            "are you hiring in {city}",
            "who is the boss of your company",
            "how do i apply for a summer job at your warehouse",
            "can i sell my own {category} on your website",
            "do you sponsor local {event}",
            "what is your company's carbon footprint",
            "how many people work at your head office",
            "is your company listed on the stock market",
            "can a school class visit your warehouse",
        ),
        "validation": (
            "i'd like to send you my cv for a job",
            "who founded this shop and when",
            "could your brand support our {event} this year",
            "how do i become a supplier of {category} for you",
        ),
        "test": (
            "do you have any internships for students",
            "what were your sales figures last year",
            "are you looking for drivers in {city}",
            "would you partner with a small {category} maker like me",
        ),
    },
    # services the shop does not offer, near FAQ topics but not covered by them
    "service not offered": {
        "train": (
            "do you assemble the {furniture} for me at home",
            "can i rent a {product} for a weekend",
            "do you engrave names on {category}",
            "do you have a student discount card",
            "can i book a personal shopper for an afternoon",
            "do you take my old {gadget} away for recycling",
            "is there a wedding list service",
            "do you offer cooking classes",
            "can you tailor the {garment} to my measurements",
        ),
        "validation": (
            "will your driver carry the {furniture} upstairs and set it up",
            "can i hire a {product} instead of buying it",
            "do you personalise {category} with a name",
            "do you run workshops for kids at weekends",
        ),
        "test": (
            "is there a mobile app for your shop",
            "could someone install the {gadget} on my wall",
            "do you give a discount to nurses or teachers",
            "can i trade in my old {gadget} for money off",
        ),
    },
    # chit-chat, jokes and small talk
    "chit-chat": {
        "train": (
            "hello how are you today",
            "tell me a joke about {category}",
            "are you a robot or a real person",
            "what's your favourite {food}",
            "do you like {hobby}",
            "good night",
            "you're funny",
            "what's the meaning of life",
            "can we be friends",
        ),
        "validation": (
            "hi there, having a nice day?",
            "sing me a song about {food}",
            "what's your name, bot",
            "do you dream about {hobby}",
        ),
        "test": (
            "knock knock",
            "do you get bored answering people all day",
            "i bet you can't tell me a riddle about {food}",
            "who would win a fight, a {animal} or a {beast}",
        ),
    },
    # a complaint, a compliment or a remark, with no question in it
    "remark": {
        "train": (
            "your {page} is so slow today",
            "i love the colours of your new logo",
            "the music in your latest advert is really annoying",
            "just wanted to say the {rival} prices are a joke",
            "your newsletter design looks great",
            "the font on your website is too small for me",
            "i think your {page} used to look better",
            "that advert on the bus in {city} made me laugh",
        ),
        "validation": (
            "honestly your {page} is a mess on my tablet",
            "the woman in your christmas advert is brilliant",
            "nothing to ask, just saying well done on the {page}",
            "why is everything pink on your {page} now, not a fan",
        ),
        "test": (
            "your adverts are everywhere on my social media",
            "the pictures on your {page} are beautiful",
            "someone should fix the typo on your {page}",
            "big fan of the new look, keep it up",
        ),
    },
    # things that have nothing to do with the shop
    "unrelated": {
        "train": (
            "what's the weather like in {city} tomorrow",
            "how do i cook {food} without an oven",
            "can you help me with my {subject} homework",
            "translate good morning into {language}",
            "who won the {sport} match last night",
            "how far is {city} from the sea",
            "what's a good name for my new {animal}",
            "how do i fix a flat tyre on my bike",
            "what time is it in {city} right now",
        ),
        "validation": (
            "write me a poem about {city}",
            "what's the recipe for {food}",
            "how do you say thank you in {language}",
            "when is the next {sport} world cup",
        ),
        "test": (
            "is it going to rain in {city} this weekend",
            "explain {subject} to me like i'm five",
            "what's the best way to train a {animal}",
            "how long do i boil {food} for",
        ),
    },
}

#: the slot pools (shared by all splits)
POOLS: dict[str, tuple[str, ...]] = {
    "product": (
        "desk lamp",
        "yoga mat",
        "rain jacket",
        "coffee grinder",
        "office chair",
        "garden hose",
        "hiking backpack",
        "air fryer",
        "cat tree",
        "bedside table",
        "electric toothbrush",
        "picnic blanket",
    ),
    "colour": ("navy", "mustard yellow", "olive green", "burgundy", "pale pink", "charcoal"),
    "room": ("kitchen", "bathroom", "studio flat", "caravan", "hallway"),
    "gadget": ("tablet", "smart watch", "games console", "printer", "television", "router"),
    "rival": (
        "megamart",
        "the corner shop",
        "shopzilla",
        "the supermarket down the road",
        "bargain barn",
        "the high street department store",
    ),
    "category": ("trainers", "garden tools", "perfume", "board games", "vinyl records", "candles"),
    "city": ("leeds", "glasgow", "cardiff", "bristol", "belfast", "norwich", "york"),
    "event": ("football team", "charity run", "school fete", "music festival", "chess club"),
    "furniture": ("wardrobe", "bunk bed", "bookcase", "dining table", "sofa bed"),
    "garment": ("suit", "wedding dress", "school blazer", "curtains"),
    "food": ("pizza", "lasagne", "pancakes", "curry", "risotto", "banana bread"),
    "hobby": ("gardening", "football", "painting", "fishing", "karaoke"),
    "animal": ("hamster", "parrot", "tortoise", "goldfish", "kitten", "horse"),
    "beast": ("shark", "bear", "gorilla", "crocodile"),
    "page": ("website", "app", "checkout page", "homepage", "search bar"),
    "subject": ("maths", "chemistry", "history", "physics", "french grammar"),
    "language": ("spanish", "german", "italian", "polish", "japanese"),
    "sport": ("rugby", "cricket", "tennis", "football", "snooker"),
}

#: said before the message (any kind, any split)
OPENERS = (
    "",
    "",
    "",
    "",
    "hi,",
    "hello,",
    "quick question,",
    "excuse me,",
    "hey",
    "random one but",
    "not sure who to ask,",
)
#: said after it
CLOSERS = ("", "", "", "", "?", "??", "thanks", "thx", "cheers!", "please", ":)")
