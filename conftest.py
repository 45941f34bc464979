"""Test-session settings shared by the unit tests and nbval.

Set before any kernel starts, so the notebook kernels nbval launches inherit
them: no progress bars on stderr (they would make nbval's output comparison
fail), no tokenizers fork warning, a fixed thread count.
"""

import os

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

ROOT = os.path.dirname(os.path.abspath(__file__))


def pytest_configure(config):
    """Validate notebooks with nbval by default (also under `-p no:nbval`-free plain runs).

    `python -m pytest` then runs the unit tests and every solution notebook in
    `notebooks/` (learner versions are excluded by `norecursedirs`), comparing
    outputs in the current environment's kernel with the course's sanitizers.
    """
    opt = config.option
    if not hasattr(opt, "nbval"):  # nbval disabled with -p no:nbval
        return
    if not (opt.nbval or opt.nbval_lax):
        opt.nbval = True
    opt.nbval_current_env = True
    if not opt.nbval_sanitize_with:
        opt.nbval_sanitize_with = os.path.join(ROOT, "notebooks", "sanitize.cfg")
