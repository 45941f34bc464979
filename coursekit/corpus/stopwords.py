"""The course's English stopword list, written in NLTK's layout (negations included)."""

STOPWORDS_README = """\
English stopwords for the course "LLMs for e-commerce marketing".

Written for this project (not copied from NLTK) in NLTK's layout, one word a line,
so that nltk.corpus.stopwords.words("english") works offline once coursekit.data
has put data/nltk_data on nltk.data.path. Like NLTK's own list it INCLUDES the
negations (not, no, nor, never, don't, isn't, wasn't ... and the fragments "don",
"isn", "t" that a letters-only cleaner leaves behind): removing them flips
"not good" into "good", which notebook 01 demonstrates. Licence: CC0.
"""

STOPWORDS = """
i me my myself we our ours ourselves you you're you've you'll you'd your yours yourself yourselves
he him his himself she she's her hers herself it it's its itself they them their theirs themselves
what which who whom this that that'll these those am is are was were be been being have has had
having do does did doing a an the and but if or because as until while of at by for with about
against between into through during before after above below to from up down in out on off over
under again further then once here there when where why how all any both each few more most other
some such no nor not never only own same so than too very s t can will just don don't should
should've now d ll m o re ve y ain aren aren't couldn couldn't didn didn't doesn doesn't hadn
hadn't hasn hasn't haven haven't isn isn't ma mightn mightn't mustn mustn't needn needn't shan
shan't shouldn shouldn't wasn wasn't weren weren't won won't wouldn wouldn't
""".split()
