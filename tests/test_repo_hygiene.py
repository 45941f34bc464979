"""Repository hygiene: CI, pre-commit and Binder files, and the course's safety rules in code.

The safety rules (CONTRIBUTING.md, "Rules that keep the course working offline and safely"),
checked on the Python code in ``coursekit/``, ``benchmarks/`` and the code cells of every
notebook (solution and learner versions). They are checked on the *syntax tree*, so a
forbidden call quoted in a string or a comment (a notebook showing the articles' broken
code as text) is not flagged, while a real call is:

1. no ``nltk.download(...)`` (NLTK data ships in ``data/nltk_data``);
2. no ``trust_remote_code=True`` (never run code from a hub repository);
3. no ``torch.load(...)`` without ``weights_only=True`` (checkpoints are safetensors);
4. no hub model downloaded by default: no string literal that is not a local path
   (``./``, ``../``, ``/``, ``~``) given to ``from_pretrained(...)``,
   ``SentenceTransformer(...)``, ``load_dataset(...)`` (other than the local
   ``json``/``csv``/``parquet``/``text``/``arrow`` builders), ``hf_hub_download`` or
   ``snapshot_download``; no ``pipeline(task)`` without a ``model``; and no function parameter
   defaulting to a hub id (``"gpt2"``, ``"bert-base-uncased"``, ``"org/name"``) in a function
   that loads models.

   The one exception is the course's documented opt-in for learners who are online: a
   function that calls ``require_online(...)`` (``coursekit.env``) may take or use a hub id,
   e.g. ``def from_hub(base_model="gpt2"): env.require_online("gpt2"); ...``. It fails fast
   offline with a clear message instead of hanging on a download.
"""

from __future__ import annotations

import ast
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------- the scanner

KNOWN_HUB_IDS = {
    "gpt2",
    "gpt2-medium",
    "distilgpt2",
    "bert-base-uncased",
    "bert-base-cased",
    "bert-base-chinese",
    "distilbert-base-uncased",
    "roberta-base",
    "t5-small",
    "all-minilm-l6-v2",
    "all-mpnet-base-v2",
}
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")  # org/name
LOCAL_BUILDERS = {"json", "csv", "parquet", "text", "arrow", "pandas", "imagefolder"}
LOADERS = {"from_pretrained", "SentenceTransformer", "load_dataset", "hf_hub_download"}
LOADERS |= {"snapshot_download"}


def _name(node: ast.AST) -> str:
    """``torch.load`` -> "torch.load", ``from_pretrained`` attribute -> "...from_pretrained"."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_name(node.value)}.{node.attr}"
    return ""


def _is_local_path(text: str) -> bool:
    return text.startswith(("./", "../", "/", "~")) or text in {".", ".."}


def _looks_like_hub_id(text: str) -> bool:
    return text.lower() in KNOWN_HUB_IDS or bool(HUB_ID.match(text) and not _is_local_path(text))


def _calls_require_online(fn: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and _name(n.func).split(".")[-1] == "require_online"
        for n in ast.walk(fn)
    )


def _loads_models(fn: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and _name(n.func).split(".")[-1] in LOADERS | {"pipeline"}
        for n in ast.walk(fn)
    )


def _first_arg(call: ast.Call, keyword: str | None = None) -> ast.AST | None:
    if call.args:
        return call.args[0]
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return None


def _call_violation(call: ast.Call) -> str | None:
    name = _name(call.func)
    last = name.split(".")[-1]
    kwargs = {kw.arg: kw.value for kw in call.keywords}
    if name == "nltk.download":
        return "nltk.download(): NLTK data ships in data/nltk_data; never download at run time"
    trust = kwargs.get("trust_remote_code")
    if isinstance(trust, ast.Constant) and trust.value is True:
        return "trust_remote_code=True: never run code from a hub repository"
    if name == "torch.load":
        weights = kwargs.get("weights_only")
        if not (isinstance(weights, ast.Constant) and weights.value is True):
            return "torch.load() without weights_only=True"
    if last in LOADERS:
        arg = _first_arg(
            call, "pretrained_model_name_or_path" if last == "from_pretrained" else "path"
        )
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            text = arg.value
            local = _is_local_path(text) or (last == "load_dataset" and text in LOCAL_BUILDERS)
            if not local:
                return f"{last}({text!r}): a hub id in a default code path (downloads at run time)"
    if name == "pipeline" and "model" not in kwargs and len(call.args) < 2:
        return "pipeline(task) without model=: downloads a default hub model"
    return None


def violations(source: str, where: str) -> list[str]:
    """Every rule broken in a piece of Python source (see the module docstring)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return _regex_violations(source, where)
    found: list[str] = []
    guarded: set[int] = set()  # ids of nodes inside functions that call require_online
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if _calls_require_online(fn):
            guarded.update(id(n) for n in ast.walk(fn))
            continue
        args = fn.args
        defaults = list(args.defaults) + [d for d in args.kw_defaults if d is not None]
        for default in defaults:
            if (
                isinstance(default, ast.Constant)
                and isinstance(default.value, str)
                and _looks_like_hub_id(default.value)
                and (default.value.lower() in KNOWN_HUB_IDS or _loads_models(fn))
            ):
                found.append(
                    f"{where}:{default.lineno}: {fn.name}(... = {default.value!r}): a hub id as "
                    "a default; make it optional (None) or guard the function with require_online()"
                )
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "nltk":
            if any(alias.name == "download" for alias in node.names):
                found.append(f"{where}:{node.lineno}: from nltk import download")
        if isinstance(node, ast.Call) and id(node) not in guarded:
            problem = _call_violation(node)
            if problem:
                found.append(f"{where}:{node.lineno}: {problem}")
        if isinstance(node, ast.Dict):  # {"trust_remote_code": True} passed as **kwargs
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "trust_remote_code"
                    and isinstance(value, ast.Constant)
                    and value.value is True
                ):
                    found.append(f"{where}:{node.lineno}: trust_remote_code=True in a dict")
    return found


_REGEX_RULES = [
    (re.compile(r"\bnltk\.download\("), "nltk.download()"),
    (re.compile(r"trust_remote_code\s*=\s*True"), "trust_remote_code=True"),
    (
        re.compile(r"\btorch\.load\((?![^)]*weights_only\s*=\s*True)"),
        "torch.load() without weights_only=True",
    ),
    (re.compile(r"from_pretrained\(\s*['\"](?![./~])"), "from_pretrained('<hub id>')"),
]


def _regex_violations(source: str, where: str) -> list[str]:
    """Fallback for a cell that is not valid Python (e.g. a deliberate SyntaxError)."""
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        for pattern, what in _REGEX_RULES:
            if pattern.search(line):
                found.append(f"{where}:{number}: {what}")
    return found


def _cell_source(source: str) -> str:
    """IPython magics and shell escapes (``%time``, ``!ls``) become ``pass`` so the cell parses."""
    out = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!", "?")):
            out.append(line[: len(line) - len(stripped)] + "pass")
        else:
            out.append(line)
    return "\n".join(out)


def course_sources() -> list[tuple[str, str]]:
    """(where, python source) for every module and every notebook code cell of the course."""
    sources = []
    for folder in ("coursekit", "benchmarks", "docs"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            sources.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    notebooks += sorted((ROOT / "notebooks" / "learner").glob("*.ipynb"))
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for i, cell in enumerate(nb.get("cells", [])):
            if cell.get("cell_type") == "code":
                src = cell["source"]
                src = "".join(src) if isinstance(src, list) else src
                sources.append((f"{path.relative_to(ROOT)} cell {i}", _cell_source(src)))
    return sources


# --------------------------------------------------------------------------- the scanner's own tests


@pytest.mark.parametrize(
    "snippet",
    [
        "import nltk\nnltk.download('punkt')",
        "from nltk import download",
        "m = AutoModel.from_pretrained('x', trust_remote_code=True)",
        "kwargs = {'trust_remote_code': True}",
        "state = torch.load('model.pt')",
        "state = torch.load('model.pt', weights_only=False)",
        "model = GPT2LMHeadModel.from_pretrained('gpt2')",
        "tok = AutoTokenizer.from_pretrained(pretrained_model_name_or_path='bert-base-uncased')",
        "enc = SentenceTransformer('sentence-transformers/all-MiniLM-L6-v2')",
        "ds = load_dataset('imdb')",
        "clf = pipeline('sentiment-analysis')",
        "def load(model_name='gpt2'):\n    return model_name",
        "def load(name='org/model'):\n    return AutoModel.from_pretrained(name)",
    ],
)
def test_scanner_flags_each_forbidden_pattern(snippet):
    assert violations(snippet, "snippet"), f"not flagged: {snippet!r}"


@pytest.mark.parametrize(
    "snippet",
    [
        # quoted in a string or a comment: teaching text, not a call
        "NAIVE = '''import nltk\\nnltk.download(\"stopwords\")'''",
        "# the articles call nltk.download('punkt') and from_pretrained('gpt2')",
        "state = torch.load(path, weights_only=True, map_location='cpu')",
        "model = AutoModel.from_pretrained(minilm_path())",
        "model = AutoModel.from_pretrained('./checkpoints/best')",
        "ds = load_dataset('json', data_files='reviews.jsonl')",
        "clf = pipeline('text-classification', model=model, tokenizer=tok)",
        "def train(log_dir='runs/lm', base_model=None):\n    return log_dir",
        # the documented opt-in for online learners: guarded by require_online
        "def from_hub(base_model='gpt2'):\n"
        "    env.require_online(f'the hub model {base_model!r}')\n"
        "    return GPT2LMHeadModel.from_pretrained(base_model)",
        "def hub_tokenizer():\n"
        "    require_online('bert-base-uncased')\n"
        "    return AutoTokenizer.from_pretrained('bert-base-uncased')",
    ],
)
def test_scanner_allows_safe_code(snippet):
    assert violations(snippet, "snippet") == []


def test_scanner_reads_notebook_cells_with_magics():
    source = _cell_source("%%time\n!ls\nimport nltk\nnltk.download('stopwords')")
    assert violations(source, "cell") == [
        "cell:4: nltk.download(): NLTK data ships in data/nltk_data; never download at run time"
    ]
    assert _regex_violations("x = (\nnltk.download('punkt')", "cell") == ["cell:2: nltk.download()"]


def test_course_code_follows_the_offline_and_safety_rules():
    sources = course_sources()
    assert any(where.startswith("coursekit/") for where, _ in sources)
    found = [v for where, src in sources for v in violations(src, where)]
    assert not found, "rule broken (see this test's docstring):\n" + "\n".join(found)


# --------------------------------------------------------------------------- CI, pre-commit, Binder


def _workflow() -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())


def _steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def test_ci_workflow_runs_ci_run_on_push_pull_request_and_weekly():
    wf = _workflow()
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads the key `on` as True
    assert {"push", "pull_request", "schedule"} <= set(triggers)
    cron = triggers["schedule"][0]["cron"].split()
    assert len(cron) == 5 and cron[2] == "*" and cron[3] == "*" and cron[4] != "*", "weekly"
    runs_ci = [
        job
        for job in wf["jobs"].values()
        if any(s.get("run", "").strip() == "bash .ci/run" for s in _steps(job))
    ]
    assert runs_ci, "a job runs exactly `bash .ci/run`"
    main = wf["jobs"]["tests"]
    assert main in runs_ci, "the OS x Python matrix job runs `bash .ci/run`"
    steps = _steps(main)
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["python-version"] == "${{ matrix.python }}"
    assert "3.11" in [str(v) for v in main["strategy"]["matrix"]["python"]]
    assert setup["with"]["cache"] == "pip"
    assert all(job.get("timeout-minutes", 0) >= 60 for job in runs_ci), "nbval takes a while"


def test_ci_workflow_builds_the_site_and_uploads_it():
    jobs = _workflow()["jobs"].values()
    site = [j for j in jobs if any("coursekit site build" in s.get("run", "") for s in _steps(j))]
    assert len(site) == 1
    uploads = [
        s for s in _steps(site[0]) if s.get("uses", "").startswith("actions/upload-artifact@")
    ]
    assert uploads and uploads[0]["with"]["path"]
    build = next(s["run"] for s in _steps(site[0]) if "coursekit site build" in s.get("run", ""))
    assert f"--out {uploads[0]['with']['path']}" in build, "uploads the folder it built"


def _hooks() -> list[dict]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def test_pre_commit_runs_ruff_on_code_and_notebooks_and_the_learner_check():
    hooks = {h["id"]: h for h in _hooks()}
    for hook_id in ("ruff-check", "ruff-format"):
        hook = hooks[hook_id]
        assert hook["entry"].startswith(hook_id.replace("-", " ")), hook["entry"]
        assert {"python", "jupyter"} <= set(hook["types_or"]), "code and notebooks"
    learner = hooks["learner-versions"]
    assert learner["entry"] == "coursekit learner --check"
    assert learner["pass_filenames"] is False
    assert re.search(learner["files"], "notebooks/01_text_cleaning.ipynb")


def test_pre_commit_never_strips_solution_notebook_outputs():
    for hook in _hooks():
        if "nbstripout" in hook["id"] or "nbstripout" in str(hook.get("entry", "")):
            pattern = hook.get("files", "")
            assert pattern and not re.search(pattern, "notebooks/01_text_cleaning.ipynb"), (
                "solution notebooks keep their outputs: nbstripout may touch learner versions only"
            )


def test_binder_installs_cpu_torch_before_the_course():
    binder = ROOT / "binder"
    assert (binder / "requirements.txt").exists() or (binder / "environment.yml").exists()
    post = binder / "postBuild"
    assert post.stat().st_mode & stat.S_IXUSR, "postBuild must be executable"
    text = post.read_text()
    assert text.startswith("#!")
    torch_at = text.index("torch==")
    assert "download.pytorch.org/whl/cpu" in text[torch_at : text.index("\n", torch_at)]
    assert torch_at < text.index("pip install --no-cache-dir -e ."), "torch first"
    reqs = (
        (binder / "requirements.txt").read_text() if (binder / "requirements.txt").exists() else ""
    )
    assert "torch" not in "".join(
        line for line in reqs.splitlines() if not line.lstrip().startswith("#")
    ), "requirements.txt would pull the CUDA torch before postBuild runs"


def test_cli_parser_imports_only_the_standard_library():
    """`coursekit --help` is instant, and CI's site job works with `pip install --no-deps -e .`."""
    code = (
        "import sys; before = set(sys.modules)\n"
        "from coursekit import cli, site, colab; cli.build_parser()\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new - set(sys.stdlib_module_names) - {'coursekit'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout.strip()
    assert out == "[]", f"third-party modules imported at CLI start-up: {out}"
