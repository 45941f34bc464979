"""CI: .ci/run caps the kernels at AVX2, the workflow's matrix, and the lowest-versions pins."""

import os
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / ".ci"))
import lower_bounds  # noqa: E402

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- lower bounds


def test_constraints_pin_every_dependency_of_the_real_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    pins = lower_bounds.constraints()
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+==[0-9][0-9A-Za-z.]*", p) for p in pins), pins
    names = {re.split(r"[<>=~! \[;]", r, maxsplit=1)[0].lower() for r in declared}
    assert {p.split("==")[0].lower() for p in pins} == names, "one pin per package"
    assert "torch==2.13" in pins and "tabulate==0.9" in pins
    by_name = {p.split("==")[0]: p.split("==")[1] for p in pins}
    for req in declared:  # the pin is the declared lower bound itself
        name, bound = re.match(r"([A-Za-z0-9._-]+).*?>=\s*([^,;\s]+)", req).groups()
        assert by_name[name] == bound


def test_constraints_command_prints_a_pip_constraints_file(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "lower_bounds.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = out.splitlines()
    assert lines[0].startswith("#") and lines[1:] == lower_bounds.constraints()


def test_lowest_handles_extras_markers_and_compatible_release():
    assert lower_bounds.lowest("pkg[extra]>=1.2,<2") == "pkg==1.2"
    assert lower_bounds.lowest("Pkg_Name ~= 0.4.1") == "Pkg_Name==0.4.1"
    assert lower_bounds.lowest('tomli>=2.0; python_version < "3.11"') == (
        'tomli==2.0; python_version < "3.11"'
    )


@pytest.mark.parametrize("req", ["tabulate", "tabulate<1", "tabulate>0.9", "tabulate==0.*"])
def test_a_dependency_without_a_lower_bound_fails_clearly(tmp_path, req):
    fake = tmp_path / "pyproject.toml"
    fake.write_text(
        f'[project]\nname = "x"\ndependencies = ["numpy>=2.4", "{req}"]\n'
        '[project.optional-dependencies]\ndev = ["ruff>=0.17"]\n'
    )
    with pytest.raises(
        lower_bounds.NoLowerBound, match="has no lower bound; write it as 'tabulate>=X'"
    ):
        lower_bounds.constraints(fake.read_text())
    run = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "lower_bounds.py"), str(fake)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.startswith(f"error: dependency '{req}' in pyproject.toml has no lower bound")


def test_the_dev_extra_is_pinned_and_other_extras_are_not(tmp_path):
    text = (
        '[project]\nname = "x"\ndependencies = ["numpy>=2.4"]\n'
        '[project.optional-dependencies]\ndev = ["ruff>=0.17", "numpy>=2.4"]\ndocs = ["sphinx"]\n'
    )
    assert lower_bounds.constraints(text) == ["numpy==2.4", "ruff==0.17"]
    clash = text.replace('"ruff>=0.17", "numpy>=2.4"', '"numpy>=2.5"')
    with pytest.raises(lower_bounds.NoLowerBound, match="listed twice"):
        lower_bounds.constraints(clash)


# --------------------------------------------------------------------------- workflow


def test_workflow_matrix_covers_three_oses_and_two_pythons():
    jobs = _workflow()["jobs"]
    tests = jobs["tests"]
    matrix = tests["strategy"]["matrix"]
    assert set(matrix["os"]) == {"ubuntu-latest", "macos-latest", "windows-latest"}
    assert [str(v) for v in matrix["python"]] == ["3.11", "3.13"]
    assert tests["strategy"]["fail-fast"] is False
    assert tests["runs-on"] == "${{ matrix.os }}"
    setup = next(s for s in tests["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert setup["with"]["python-version"] == "${{ matrix.python }}"
    assert any(s.get("run") == "bash .ci/run" for s in tests["steps"])
    assert tests["defaults"]["run"]["shell"] == "bash", "Windows runs .ci/run in Git Bash"


def test_workflow_has_the_lowest_versions_job():
    job = _workflow()["jobs"]["lowest"]
    script = "\n".join(s.get("run", "") for s in job["steps"])
    assert "python .ci/lower_bounds.py > constraints-lowest.txt" in script
    assert job["env"]["PIP_CONSTRAINT"].endswith("constraints-lowest.txt")
    assert "bash .ci/run" in script
    setup = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={setup['with']['python-version']}", "the lowest Python too"


def test_workflow_has_a_weekly_pre_release_job_that_fails():
    workflow = _workflow()
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as True
    assert on["schedule"][0]["cron"]
    job = workflow["jobs"]["pre-release"]
    assert "schedule" in job["if"]
    script = "\n".join(s.get("run", "") for s in job["steps"])
    assert re.search(r"pip install --pre --upgrade torch transformers datasets", script)
    assert not any(s.get("continue-on-error") for s in job["steps"])
    assert not job.get("continue-on-error"), "a breakage must fail the job"
    assert job["env"]["ATEN_CPU_CAPABILITY"] == "avx2"


# --------------------------------------------------------------------------- .ci/run


def test_ci_run_exports_the_avx2_settings_before_the_readme_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in ci
    export = ci.index("export ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2")
    assert ci.index("torch==2.13.0") < export < ci.index('bash -c "$cmd"')
    assert "get_cpu_capability()" in ci
    subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], check=True)


FAKE_PYTHON = """#!/usr/bin/env bash
# stands in for python: `-m venv` makes a fake venv, `-m pip` only logs, the rest is real
echo "python $*" >> "$CI_LOG"
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python"
  echo "export PATH=\\"$PWD/$3/bin:\\$PATH\\"" > "$3/bin/activate"
  exit 0
fi
if [ "$1 $2" = "-m pip" ]; then exit 0; fi
exec "$REAL_PYTHON" "$@"
"""


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("readme_rc,kernels", [(0, None), (5, "avx2"), (3, "avx2"), (0, "native")])
def test_ci_run_end_to_end_with_a_fake_python(tmp_path, readme_rc, kernels):
    """.ci/run's real control flow: venv, pip, kernels printed, README command, exit codes.

    ``kernels=None`` leaves COURSEKIT_CI_KERNELS unset: the default must be AVX2.
    """
    (tmp_path / ".ci").mkdir()
    for name in ("run", "readme_command.py"):
        shutil.copy(ROOT / ".ci" / name, tmp_path / ".ci" / name)
    probe = (
        "python -c \"import os; print('kernels', os.environ.get('ATEN_CPU_CAPABILITY'), "
        "os.environ.get('ONEDNN_MAX_CPU_ISA'), os.environ.get('OPENBLAS_CORETYPE'), "
        f"os.environ.get('NPY_DISABLE_CPU_FEATURES'))\" && exit {readme_rc}"
    )
    (tmp_path / "README.md").write_text(f"<!-- command: test -->\n```bash\n{probe}\n```\n")
    fake = tmp_path / "fakepython"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    env = {
        **os.environ,
        "PYTHON": str(fake),
        "REAL_PYTHON": sys.executable,
        "CI_LOG": str(tmp_path / "calls.log"),
    }
    if kernels is None:  # the default: an ordinary laptop's AVX2 kernels
        env.pop("COURSEKIT_CI_KERNELS", None)
    else:
        env["COURSEKIT_CI_KERNELS"] = kernels
    env.pop("ATEN_CPU_CAPABILITY", None)
    for name in ("ONEDNN_MAX_CPU_ISA", "OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES"):
        env.pop(name, None)
    run = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run")], env=env, capture_output=True, text=True
    )
    assert run.returncode == (0 if readme_rc in (0, 5) else readme_rc), run.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls[0] == "python -m venv .venv"
    assert calls.index("python -m pip install --quiet torch==2.13.0") < len(calls) - 1
    assert "README test command: python -c" in run.stdout
    if kernels == "native":
        assert "kernels None None None None" in run.stdout, "native kernels: nothing capped"
    elif platform.machine().lower() in ("x86_64", "amd64"):
        assert "CPU kernels: AVX2 | ATEN_CPU_CAPABILITY = avx2" in run.stdout
        assert "kernels avx2 AVX2 Haswell X86_V4 AVX512_ICL" in run.stdout, (
            "the README command runs under AVX2: torch, oneDNN, OpenBLAS and numpy's own loops"
        )
    if readme_rc == 5:
        assert "exit 5 treated as success" in run.stdout
