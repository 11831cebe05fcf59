"""The repository's own habits (ARCHITECTURE.md, "Conventions"): commit subjects of at most 72
characters since the rule was adopted, checked by the script the commit-msg hook runs."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "check-commit-subjects"
# the last commit with a longer subject; every commit after it follows the rule
ADOPTED = "e0c4c5666"


def _git(*args):
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def history():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    if _git("cat-file", "-e", f"{ADOPTED}^{{commit}}").returncode != 0:
        pytest.skip("shallow clone: the adoption commit is not here")


def test_commit_subjects_since_adoption(history):
    r = subprocess.run(
        [sys.executable, str(SCRIPT), "--since", ADOPTED],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr


def test_the_check_refuses_long_subjects_and_missing_blank_line(tmp_path):
    def run(text):
        f = tmp_path / "MSG"
        f.write_text(text)
        return subprocess.run([sys.executable, str(SCRIPT), str(f)], capture_output=True)

    assert run("Short subject\n\nbody\n").returncode == 0
    assert run("x" * 72 + "\n").returncode == 0
    assert run("x" * 73 + "\n").returncode == 1
    assert run("subject\nbody right after\n").returncode == 1
    assert run("# a comment git strips\nsubject\n").returncode == 0


def test_test_module_basenames_are_unique():
    # most of tests/ has no __init__.py files, so pytest imports a test module by its basename
    # ("rootdir" mode): two test_x.py in different folders break collection on a clean clone.
    # A module inside a package (a folder with __init__.py) is imported by its dotted name.
    seen = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        name, folder = path.stem, path.parent
        while (folder / "__init__.py").exists():
            name, folder = f"{folder.name}.{name}", folder.parent
        seen.setdefault(name, []).append(str(path.relative_to(ROOT)))
    clashes = {name: paths for name, paths in seen.items() if len(paths) > 1}
    assert not clashes, clashes
