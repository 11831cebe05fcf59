"""`.ci/run` runs README.md's install and test commands, verbatim (issue 15: one build).

README's first two bash blocks are what a newcomer types; CI must type the same, so a change to
one without the other fails here rather than in a user's terminal.
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def readme_commands():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)[:2]
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith(("python3 -m venv", "pip ", "pytest"))]


def ci_commands():
    lines = [line.split("#")[0].strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    return [line.replace(" -q ", " ", 1) if line.startswith("pip ") else line for line in lines]


def test_readme_has_one_build_and_a_venv_first():
    cmds = readme_commands()
    assert cmds[0].startswith("python3 -m venv"), cmds
    builds = [c for c in cmds if c.startswith("pip install") and "-r " not in c]
    assert builds == ["pip install ."], f"README builds the kernels more than once: {builds}"


def test_ci_runs_readme_commands_in_order():
    cmds, ci = readme_commands(), ci_commands()
    positions = []
    for cmd in cmds:
        assert cmd in ci, f".ci/run does not run README's {cmd!r}"
        positions.append(ci.index(cmd))
    assert positions == sorted(positions), "README's commands run in another order in .ci/run"


def test_test_requirements_do_not_name_minnet():
    reqs = (ROOT / "tests/requirements.txt").read_text().lower()
    assert "minnet" not in re.sub(r"#.*", "", reqs)
