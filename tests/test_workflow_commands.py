"""File names a pull request's author chooses never become GitHub Actions workflow commands.

The runner obeys any output line that starts (after white space) with `::`, and `##[command]`
anywhere in a line. In a pull request's CI, its author names the files tagbot prints. Every
command is run here on folders named like commands, with newlines and control characters; under
GITHUB_ACTIONS the run's output is also framed by `::stop-commands::<token>` ... `::<token>::`,
so the runner obeys nothing in between but what tagbot resumes for (its own annotations)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tagbot.cli import main
from tests.fakeapi import FakeTagsAPI
from tests.gitworld import World
from tests.helpers import new_repository

HOSTILE_FOLDERS = ["::stop-commands::tok", "x\n::error title=pwned::forged", "  ::warning::indented",
                   "a ##[error]v1 anywhere", "esc\x1b[31m\r::notice::cr"]
CONFIG = "rate_limit: 200\ndeep_search: false\nrequire_digest: true\n"


def obeyed_lines(text: str) -> list[str]:
    """The lines a runner would take for a command."""
    return [line for line in text.splitlines() if line.lstrip().startswith("::") or "##[" in line]


@pytest.fixture
def hostile_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI) -> Path:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    files = {f"{folder}/Dockerfile": "FROM acme/tiny:1.1.0\n" for folder in HOSTILE_FOLDERS}
    files[f"{HOSTILE_FOLDERS[0]}/compose.yaml"] = "services:\n  a:\n    image: [unclosed\n"  # a scan error names it too
    return new_repository({**files, "tagbot.yaml": CONFIG}, tmp_path, monkeypatch, tags_api.url)


@pytest.mark.parametrize("command", [
    ["scan"], ["scan", "--format", "json"], ["check"], ["update", "--dry-run"],
    ["update", "--dry-run", "--format", "json"], ["explain", "acme/tiny:1.1.0"], ["update"],
])
def test_no_line_starts_a_workflow_command(hostile_repo: Path, command: list[str], capsys: pytest.CaptureFixture[str]):
    main(command)
    captured = capsys.readouterr()
    assert obeyed_lines(captured.out) == [] and obeyed_lines(captured.err) == []
    if command[0] in ("scan", "check") and "--format" not in command:
        assert "./::stop-commands::tok/Dockerfile:1" in captured.out  # the same file, said so it is data
        assert "x\\n::error title=pwned::forged/Dockerfile:1" in captured.out  # the newline shown, not made


def test_a_diff_names_files_escaped(hostile_repo: Path, capsys: pytest.CaptureFixture[str]):
    main(["update", "--dry-run", "--format", "diff"])
    out = capsys.readouterr().out
    assert "+++ b/x\\n::error title=pwned::forged/Dockerfile" in out
    assert obeyed_lines(out) == [line for line in obeyed_lines(out) if line.startswith((" ", "+", "-")) and "##[" in line]


def test_under_actions_the_output_is_framed_by_a_fresh_token(hostile_repo: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    tokens = []
    for _ in range(2):
        main(["check"])
        out = capsys.readouterr().out.splitlines()
        start = re.fullmatch(r"::stop-commands::([0-9a-f]{32})", out[0])
        assert start is not None and out[-1] == f"::{start.group(1)}::"
        assert obeyed_lines("\n".join(out[1:-1])) == []
        tokens.append(start.group(1))
    assert tokens[0] != tokens[1]  # no file can know the token and end the frame


def test_the_hook_is_framed_too(hostile_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    main(["check", "--hook", "::error::arg/Dockerfile"])
    captured = capsys.readouterr()
    assert captured.out.startswith("::stop-commands::")
    assert obeyed_lines(captured.err) == []


def test_pr_prints_no_command_but_its_own_annotations(world: World, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]):
    for folder in HOSTILE_FOLDERS:
        world.push_to_main(f"{folder}/Dockerfile", "FROM acme/tiny:1.1.0\nFROM acme/gone:1.0\n")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert world.pr("--dry-run") == 0
    captured = capsys.readouterr()
    assert obeyed_lines(captured.out) == [] and obeyed_lines(captured.err) == []
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert world.pr("--dry-run") == 0
    out = capsys.readouterr().out.splitlines()
    token = out[0].removeprefix("::stop-commands::")
    resumed = [i for i, line in enumerate(out) if line == f"::{token}::"]
    assert len(resumed) == 2 and out[-1] == f"::{token}::"
    annotations = out[resumed[0] + 1 : resumed[0] + 1 + len(HOSTILE_FOLDERS) + 1]
    # Its own annotations, between a resume and a new stop, with the file escaped as a property.
    assert all(line.startswith("::warning file=") for line in annotations[:-1]), annotations
    assert annotations[-1] == f"::stop-commands::{token}"
    assert any("file=x%0A%3A%3Aerror title=pwned%3A%3Aforged/Dockerfile,line=2::" in line for line in annotations)
