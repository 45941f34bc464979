"""coursekit: the tested helper package behind the course
"LLMs for e-commerce marketing, from text cleaning to fine-tuning".

Each notebook builds an idea by hand, then calls the matching module here:

====================  =========================================
module                used from notebook
====================  =========================================
``env``, ``paths``    every notebook (device, seeds, threads)
``data``, ``schema``  every notebook (the shop corpus, its schema)
``checks``            every notebook (exercise verdicts)
``plots``             every notebook (one seaborn style)
``text``              01 text cleaning
``tokenization``      02 tokenization
``attention``         03 attention math
``lm``                04 language modelling
``train``             05 fine-tuning
``sentiment``         06 sentiment analysis
``copywriter``        07 copy generation
``retrieval``         08 answer search
``experiments``       09 A/B tests and bandits
====================  =========================================

Heavy libraries (torch, transformers) are imported inside the modules that
need them, so ``import coursekit`` stays fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

__version__ = "0.1.0"


def setup(seed: int = 0, threads: int | None = 2, quiet: bool = True) -> None:
    """One call at the top of every notebook: seeds, threads, plot style, quiet logs.

    Prints nothing, so it is safe in cells that nbval compares.
    """
    from coursekit import env, plots

    env.set_threads(threads)
    env.seed_everything(seed)
    if quiet:
        env.quiet_libraries()
    plots.set_style()


@contextmanager
def expected_error(*kinds: type[BaseException]) -> Iterator[None]:
    """Run code that is *meant* to fail and print its error in one line.

    The notebooks show the articles' bugs by running them. A raised error would stop
    "Run All" (in Jupyter, VS Code and Colab alike), so the failing line goes inside
    ``with coursekit.expected_error(RuntimeError): ...``: the error is printed as
    ``RuntimeError: <message>`` and the notebook goes on. An error of another kind
    is raised as usual, and code that unexpectedly succeeds says so. File paths in the
    message are dropped (they differ from machine to machine).
    """
    kinds = kinds or (Exception,)
    try:
        yield
    except kinds as err:
        message = str(err).strip().splitlines()[0] if str(err).strip() else ""
        # "(/site-packages/.../__init__.py)" differs per machine: not part of the lesson
        message = re.sub(r"\s*\((?:/|[A-Za-z]:\\)[^)]*\)", "", message)
        print(f"{type(err).__name__}: {message}" if message else type(err).__name__)
    else:
        print("no error: this code ran without the error the text describes")
