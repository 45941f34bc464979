"""Set-up files agree with each other: pyproject.toml, environment.yml, README, .ci/run."""

import re
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / ".ci"))
import readme_command  # noqa: E402


def _name(req: str) -> str:
    return re.split(r"[<>=!~;\[ ]", req, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_matches_pyproject():
    project = _pyproject()["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {r for r in pip_section if not r.startswith("-e")}
    assert {_name(r) for r in listed} == {_name(r) for r in wanted}, "same packages"
    assert listed == wanted, "same version bounds"
    assert "python=3.11" in env["dependencies"]
    assert "-e ." in pip_section, "environment.yml installs coursekit itself"


def test_dev_extra_includes_the_docs_extra():
    """The test suite builds the website, so installing `.[dev]` must bring the site's tools."""
    extras = _pyproject()["project"]["optional-dependencies"]
    assert extras["docs"], "the docs extra lists the site's build tools"
    assert set(extras["docs"]) <= set(extras["dev"])


def test_no_exact_pins_in_the_package():
    for req in _pyproject()["project"]["dependencies"]:
        assert "==" not in req, f"{req}: give a tested lower bound, not a pin"


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    text = (ROOT / "README.md").read_text()
    assert text.count("<!-- command: ") == 2
    course = readme_command.command("course")
    test = readme_command.command("test")
    assert course.startswith("pip install torch==2.13.0") and course.endswith("coursekit run")
    assert test.startswith("pip install torch==2.13.0") and "pytest" in test
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install --quiet torch==2.13.0" in ci
    assert ci.index("torch==2.13.0") < ci.index("readme_command.py test"), (
        "torch is installed first"
    )
    assert '"$rc" -eq 5' in ci, "a stage without tests (pytest exit 5) does not fail CI"


def test_readme_command_extraction_rejects_ambiguity():
    import pytest

    with pytest.raises(SystemExit):
        readme_command.command("test", "no commands here")
    block = "<!-- command: test -->\n```bash\npytest\n```\n"
    assert readme_command.command("test", block) == "pytest"
    with pytest.raises(SystemExit):
        readme_command.command("test", block + block)


def test_cli_entry_point_is_declared():
    assert _pyproject()["project"]["scripts"]["coursekit"] == "coursekit.cli:main"


def test_every_third_party_import_is_a_declared_dependency():
    """An import in coursekit/ or benchmarks/ (e.g. tabulate for the tables) must be declared."""
    import ast
    from importlib.metadata import packages_distributions

    project = _pyproject()["project"]
    declared = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    owners = packages_distributions()
    undeclared = {}
    files = [*(ROOT / "coursekit").rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in {"coursekit", "benchmarks"}:
                    continue
                dists = {_name(d) for d in owners.get(top, [])}
                if not dists & declared:
                    undeclared.setdefault(top, str(path.relative_to(ROOT)))
    assert not undeclared, f"imported but not in pyproject.toml's dependencies: {undeclared}"
