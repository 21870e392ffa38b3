"""The release workflow's first check (.github/release-check.py): a tag is released only when it
is the package's version, the changelog has its notes, and the project's URLs are this repository's."""

from __future__ import annotations

import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tagbot

ROOT = Path(__file__).parent.parent
release_notes = runpy.run_path(str(ROOT / ".github" / "release-check.py"))["release_notes"]
REPOSITORY = "oanor/tagbot"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "tagbot").mkdir()
    shutil.copy(ROOT / "tagbot" / "__init__.py", tmp_path / "tagbot" / "__init__.py")
    for name in ("pyproject.toml", "CHANGELOG.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_the_notes_are_the_changelogs_section(project: Path):
    (project / "tagbot" / "__init__.py").write_text('__version__ = "0.3.0"\n')
    (project / "CHANGELOG.md").write_text("# Changelog\n\n## v0.3.0\n\n- Faster.\n\n## v0.2.0\n\n- Older.\n")
    assert release_notes("v0.3.0", REPOSITORY, project) == "- Faster.\n"


def test_the_current_version_can_be_released():
    assert release_notes(f"v{tagbot.__version__}", REPOSITORY).strip()


@pytest.mark.parametrize(("tag", "repository", "said"), [
    ("v9.9.9", REPOSITORY, "the tag v9.9.9 is not v + tagbot/__init__.py's __version__"),
    (f"v{tagbot.__version__}", "someone/fork", "pyproject.toml's Homepage is https://github.com/oanor/tagbot, not "
                                               "https://github.com/someone/fork"),
])
def test_a_disagreement_stops_the_release(project: Path, tag: str, repository: str, said: str):
    with pytest.raises(ValueError, match=said.replace("+", r"\+")):
        release_notes(tag, repository, project)


def test_a_tag_without_notes_stops_the_release(project: Path):
    (project / "CHANGELOG.md").write_text("# Changelog\n\n## Unreleased\n\n- Something.\n")
    with pytest.raises(ValueError, match=rf"no section '## v{tagbot.__version__}'"):
        release_notes(f"v{tagbot.__version__}", REPOSITORY, project)


def test_the_script_says_one_line_and_fails():
    result = subprocess.run([sys.executable, str(ROOT / ".github" / "release-check.py"), "v9.9.9", REPOSITORY],
                            capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("release-check: the tag v9.9.9") and result.stderr.count("\n") == 1
