"""Sphinx configuration of the course website (``coursekit site build``).

The site is built from a staging folder that mirrors the repository (see
``coursekit/site.py``): this file becomes ``<stage>/conf.py``, the home page is
``docs/index.md`` and the notebooks are ``notebooks/NN_name.ipynb``. Notebooks are
rendered with the outputs stored in them; nothing is executed. Nothing is fetched from
the network at build time (no intersphinx, no remote theme assets).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from coursekit import __version__, colab

project = "LLMs for e-commerce marketing"
author = "the course authors"
copyright = "the course authors; code MIT, generated data CC0"
release = __version__

root_doc = "docs/index"
extensions = ["myst_nb"]
# MathJax from the local package when installed, so formulas render on an offline laptop too;
# without it the browser fetches MathJax from its CDN (the build itself stays offline).
if importlib.util.find_spec("sphinx-mathjax-offline") is not None:
    extensions.append("sphinx-mathjax-offline")

exclude_patterns = ["_build", "_extra", "**/.ipynb_checkpoints", "notebooks/learner"]
html_extra_path = ["_extra"]  # learner notebooks -> <site>/learner/NN_name.ipynb (downloads)
suppress_warnings = [
    "toc.not_included",  # data/README.md is reached from the README page, not the sidebar
    "myst.header",  # a notebook may jump from # to ### (cosmetic)
]

# MyST: formulas ($...$, $$...$$), ::: fences, definition lists, heading anchors for links.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# myst-nb: show the notebooks as executed and stored (the outputs nbval checks).
nb_execution_mode = "off"
nb_merge_streams = True
nb_output_stderr = "show"

html_theme = "sphinx_book_theme"
html_title = "LLMs for e-commerce marketing"
html_last_updated_fmt = None
html_copy_source = True
html_sourcelink_suffix = ""
REPOSITORY = colab.repository_name()
html_theme_options = {
    "repository_url": f"https://github.com/{REPOSITORY}",
    "repository_branch": colab.BRANCH,
    "use_repository_button": True,
    "use_download_button": True,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}

NOTEBOOK_PAGE = re.compile(r"^notebooks/(\d\d_[a-z0-9_]+)$")


def _learner_buttons(app, pagename, templatename, context, doctree):
    """On each notebook page: download the learner version; open it in Colab or on Binder."""
    match = NOTEBOOK_PAGE.match(pagename)
    buttons = context.get("header_buttons")
    if not match or buttons is None:
        return
    name = match.group(1)
    pathto = context["pathto"]
    has_learner = (Path(app.srcdir) / "_extra" / "learner" / f"{name}.ipynb").exists()
    if has_learner:
        for group in buttons:
            if group.get("label") == "download-buttons":
                group["buttons"].insert(
                    0,
                    {
                        "type": "link",
                        "url": pathto(f"learner/{name}.ipynb", 1),
                        "text": "learner .ipynb",
                        "tooltip": "Download the learner version (exercises to fill in)",
                        "icon": "fas fa-pencil",
                        "label": "download-learner-button",
                    },
                )
    colab_icon, binder_icon = "_static/images/logo_colab.png", "_static/images/logo_binder.svg"
    if has_learner:
        launch = [
            ("Colab (learner)", colab.colab_url(name, repository=REPOSITORY), colab_icon),
            ("Binder (learner)", colab.binder_url(name, repository=REPOSITORY), binder_icon),
            ("Colab (solution)", colab.colab_url(name, False, repository=REPOSITORY), colab_icon),
        ]
    else:
        launch = [
            ("Colab", colab.colab_url(name, False, repository=REPOSITORY), colab_icon),
            ("Binder", colab.binder_url(name, False, repository=REPOSITORY), binder_icon),
        ]
    buttons.append(
        {
            "type": "group",
            "tooltip": "Open this notebook in Colab or on Binder",
            "icon": "fas fa-rocket",
            "label": "launch-buttons",
            "buttons": [
                {
                    "type": "link",
                    "text": text,
                    "url": url,
                    "icon": icon,
                    "tooltip": f"Open in {text}",
                }
                for text, url, icon in launch
            ],
        }
    )


def setup(app):
    app.connect("html-page-context", _learner_buttons, priority=510)
