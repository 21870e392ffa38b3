"""End-of-life and abandoned warnings: named in `update --dry-run`'s notes and JSON, by
`check --eol` (exit 1), in the step summary and on the dashboard; each with what to move to."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tagbot.cli import main
from tests.fakeapi import FakeTagsAPI, serving
from tests.gitworld import World, git, tags_file
from tests.helpers import FIXTURES, new_repository, on_day

DOCKERFILE = (
    "FROM postgres:12.22\n"  # ended 2024-11-21
    "FROM node:22.23.2\n"  # ends 2027-04-30: within 90 days of 2027-03-01
    "FROM ubuntu:24.04\n"  # supported to 2029
    "FROM acme/old:1.0\n"  # nothing pushed since 2024
)
CONFIG = "update_types: [patch]\nmax_tag_pages: 100\nrate_limit: 500\n"
DAY = datetime(2027, 3, 1, 12, tzinfo=timezone.utc)


def old_image(folder: Path) -> None:
    tags_file(folder, "acme/old", ["1.0"])
    body = json.loads((folder / "acme__old.tags.json").read_text())
    body["data"]["tags"][0]["last_updated"] = "2024-05-01T00:00:00Z"
    (folder / "acme__old.tags.json").write_text(json.dumps(body))


@pytest.fixture
def tags_api(tmp_path: Path) -> Iterator[FakeTagsAPI]:
    folder = tmp_path / "served"
    folder.mkdir()
    for name in ("library__postgres", "library__node", "library__ubuntu"):
        shutil.copy(FIXTURES / "api" / f"{name}.tags.json", folder)
    old_image(folder)
    with serving(FakeTagsAPI(folder)) as api:
        yield api


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI) -> Path:
    on_day(monkeypatch, DAY)
    return new_repository({"Dockerfile": DOCKERFILE, "tagbot.yaml": CONFIG}, tmp_path, monkeypatch, tags_api.url)


ENDED = ("Dockerfile:1:6: end of life: postgres:12.22 (PostgreSQL 12 ended 2024-11-21) -> 18.6 "
         "(supported to 2030-11-14)")
ENDING = ("Dockerfile:2:6: end of life: node:22.23.2 (Node.js 22 ends 2027-04-30, in 60 days) -> 26.7.0 "
          "(supported to 2029-04-30)")
ABANDONED = "Dockerfile:4:6: abandoned: acme/old: nothing pushed since 2024-05-01 (abandoned_after 1y)"


def test_a_dry_run_names_ended_ending_and_abandoned_with_where_to_go(repo: Path, capsys):
    assert main(["update", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    # The successor is the newest on a supported line the rules allow, whatever update_types
    # limit the pull requests to (patch here): where to go, not what to propose.
    assert [line for line in out if "end of life" in line or "abandoned" in line] == [ENDED, ENDING, ABANDONED]
    assert main(["update", "--dry-run", "--format", "json"]) == 0
    life = json.loads(capsys.readouterr().out)["life"]
    assert [(w["line"], w["kind"], w["successor"]) for w in life] == [
        (1, "ended", "18.6"), (2, "ending", "26.7.0"), (4, "abandoned", None)]


def test_the_warning_window_and_the_abandoned_age_are_settings(repo: Path, capsys):
    (repo / "tagbot.yaml").write_text(CONFIG + "eol_warning: 30d\nabandoned_after: 0\n")
    assert main(["update", "--dry-run", "--format", "json"]) == 0
    assert [w["line"] for w in json.loads(capsys.readouterr().out)["life"]] == [1]  # ended lines are always named


def test_check_eol_fails_for_them_and_plain_check_does_not(repo: Path, capsys):
    assert main(["check"]) == 0  # nothing to update under update_types: [patch]
    assert "end of life" not in capsys.readouterr().out
    assert main(["check", "--eol"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [ENDED, ENDING, ABANDONED]
    assert "3 end-of-life, moved, deprecated or abandoned" in captured.err


def test_a_successor_on_a_line_newer_than_the_data_is_named_so(tmp_path: Path, monkeypatch, capsys):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(FIXTURES / "api" / "library__mysql.tags.json", served)
    with serving(FakeTagsAPI(served)) as api:
        on_day(monkeypatch, DAY)
        new_repository({"Dockerfile": "FROM mysql:9.6\n", "tagbot.yaml": CONFIG}, tmp_path, monkeypatch, api.url)
        assert main(["check", "--eol"]) == 1
    # 9.6 is no LTS line, so any newer release may follow it; 26.7's line came after the data.
    assert capsys.readouterr().out == ("Dockerfile:1:6: end of life: mysql:9.6 (MySQL 9.6 ended 2026-04-21) -> 26.7 "
                                       "(newer than the release data of 2026-08-22)\n")


def test_a_successor_the_rules_keep_out_is_not_named(repo: Path, capsys):
    (repo / "tagbot.yaml").write_text(CONFIG + "rules:\n  - match: postgres\n    ignore: ['1[3-9].*']\n")
    assert main(["check", "--eol"]) == 1
    out = capsys.readouterr().out
    assert ("Dockerfile:1:6: end of life: postgres:12.22 (PostgreSQL 12 ended 2024-11-21); no supported line "
            "the rules allow has this tag's shape") in out.splitlines()


def test_the_dashboard_and_the_step_summary_name_them(world: World, tmp_path: Path, monkeypatch, capsys):
    on_day(monkeypatch, DAY)
    shutil.copy(FIXTURES / "api" / "library__postgres.tags.json", world.fixtures)
    old_image(world.fixtures)
    world.push_to_main("Dockerfile", "FROM postgres:12.22\nFROM acme/old:1.0\n")
    world.push_to_main("tagbot.yaml", "rate_limit: 100\nlinks: false\nupdate_types: [patch]\n")
    git(world.checkout, "pull", "-q")
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert world.pr() == 0
    (dashboard,) = world.github.issues
    body = dashboard["body"]
    section = body.split("## End of life\n", 1)[1].split("\n## ", 1)[0]
    # Markdown-escaped, as all text from outside is: `&gt;` shows as `>`.
    assert "- `Dockerfile:1` postgres:12.22 (PostgreSQL 12 ended 2024-11-21) -&gt; 18.6 (supported to 2030-11-14)" in section
    assert "- `Dockerfile:2` acme/old: nothing pushed since 2024-05-01 (abandoned_after 1y)" in section
    text = summary.read_text()
    assert "### End of life" in text
    assert "- `Dockerfile:1` postgres:12.22 (PostgreSQL 12 ended 2024-11-21) -> 18.6 (supported to 2030-11-14)" in text
