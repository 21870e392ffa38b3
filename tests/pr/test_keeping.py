"""Pull requests people keep: rebuilt only when needed, declines that last, true closing
reasons, settings kept in step, and scheduled runs that report and go on. Against a real bare
git remote and the fake GitHub, with the base branch moving between runs."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.gitworld import COMPOSE, DOCKERFILE, WORLD_CONFIG, World, git, tags_file


def pull(world: World, branch: str) -> dict:
    return next(p for p in world.github.pulls if p["head"] == branch and p["state"] == "open")


def configure(world: World, text: str) -> None:
    (world.checkout / "tagbot.yaml").write_text(WORLD_CONFIG + text)


# --- rebuild only when needed ---------------------------------------------------------------

def test_an_unrelated_base_commit_rebuilds_and_writes_nothing(world: World):
    assert world.pr() == 0
    branches = git(world.remote, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/tagbot")
    world.push_to_main("README.md", "# app\n")
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert git(world.remote, "for-each-ref", "--format=%(refname) %(objectname)", "refs/heads/tagbot") == branches
    assert world.github.writes == writes  # no push, no API write: CI does not re-run, reviews stay


def test_a_conflicting_base_commit_rebuilds_the_branch(world: World, capsys: pytest.CaptureFixture[str]):
    assert world.pr() == 0
    before = world.github.branch_sha("tagbot/acme-tiny")
    world.push_to_main("Dockerfile", DOCKERFILE.replace("AS tool", "AS tools").replace("/t /t", "/t /tt"))
    capsys.readouterr()
    assert world.pr() == 0
    assert world.github.branch_sha("tagbot/acme-tiny") != before
    assert git(world.remote, "rev-parse", "tagbot/acme-tiny^") == git(world.remote, "rev-parse", "main")
    assert "acme/tiny:1.2.1 AS tools" in world.remote_file("tagbot/acme-tiny", "Dockerfile")
    assert "the change no longer applied cleanly" in capsys.readouterr().out


def test_rebase_behind_follows_every_base_commit_and_never_none(world: World):
    configure(world, "rebase: behind\n")
    assert world.pr() == 0
    world.push_to_main("README.md", "# app\n")
    assert world.pr() == 0
    assert git(world.remote, "rev-parse", "tagbot/acme-tiny^") == git(world.remote, "rev-parse", "main")
    configure(world, "rebase: never\n")
    world.push_to_main("Dockerfile", DOCKERFILE.replace("AS tool", "AS tools").replace("/t /t", "/t /tt"))
    before = world.github.branch_sha("tagbot/acme-tiny")
    assert world.pr() == 0
    assert world.github.branch_sha("tagbot/acme-tiny") == before


def test_ticking_the_rebase_box_rebuilds_once(world: World, capsys: pytest.CaptureFixture[str]):
    assert world.pr() == 0
    world.push_to_main("README.md", "# app\n")
    tiny = pull(world, "tagbot/acme-tiny")
    tiny["body"] = tiny["body"].replace("- [ ] <!-- tagbot:rebase -->", "- [x] <!-- tagbot:rebase -->")
    assert world.pr() == 0
    assert git(world.remote, "rev-parse", "tagbot/acme-tiny^") == git(world.remote, "rev-parse", "main")
    assert "- [ ] <!-- tagbot:rebase -->" in pull(world, "tagbot/acme-tiny")["body"]  # unticked again
    assert "rebase asked for" in capsys.readouterr().out
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert world.github.writes == writes


# --- declines and closing reasons -----------------------------------------------------------

def test_a_decline_survives_regrouping_and_deleted_branches(world: World):
    assert world.pr() == 0
    tiny = pull(world, "tagbot/acme-tiny")
    tiny["state"] = "closed"  # a person declined acme/tiny 1.2.1
    git(world.remote, "update-ref", "-d", "refs/heads/tagbot/acme-tiny")
    configure(world, "group_by: all\nseparate_major: false\n")
    assert world.pr() == 0
    (grouped,) = [p for p in world.github.open_pulls() if p["head"] == "tagbot/all"]
    assert "acme/tiny" not in grouped["title"] and "acme/other" in grouped["title"]
    assert "tiny:1.1.0" in world.remote_file("tagbot/all", "Dockerfile")
    tags_file(world.fixtures, "acme/tiny", ["1.3.0", "1.2.1", "1.1.0"])  # a newer version is a new question
    assert world.pr() == 0
    assert "acme/tiny to 1.3.0" in pull(world, "tagbot/all")["title"]


def test_regrouping_closes_as_superseded_by_the_new_pull_request(world: World):
    assert world.pr() == 0
    configure(world, "group_by: all\n")
    assert world.pr() == 0
    grouped = pull(world, "tagbot/all")
    old = next(p for p in world.github.pulls if p["head"] == "tagbot/acme-tiny")
    assert old["state"] == "closed"
    assert old["comments"] == [f"Superseded by #{grouped['number']}: tagbot proposes these images there now."]
    # Closed by tagbot, so not a decline: acme/tiny stays in the grouped pull request.
    assert "acme/tiny to 1.2.1" in grouped["title"]


def test_an_image_removed_from_the_base_closes_with_that_reason(world: World):
    assert world.pr() == 0
    world.push_to_main("Dockerfile", "FROM acme/tiny:1.1.0 AS tool\nCOPY --from=tool /t /t\n")
    assert world.pr() == 0
    other = next(p for p in world.github.pulls if p["head"] == "tagbot/acme-other")
    assert other["state"] == "closed"
    assert other["comments"] == ["The base branch no longer names acme/other, so tagbot closes this pull request."]


# --- settings kept in step ------------------------------------------------------------------

def test_labels_reviewers_assignees_and_draft_reach_open_pull_requests(world: World):
    assert world.pr() == 0
    configure(world, "labels: [dependencies]\nreviewers: [jane]\nassignees: [joe]\ndraft: true\ncommit_prefix: 'chore(deps):'\n")
    assert world.pr() == 0
    for p in world.github.open_pulls():
        assert (p["labels"], p["reviewers"], p["assignees"], p["draft"]) == (["dependencies"], ["jane"], ["joe"], True)
        assert p["title"].startswith("chore(deps): Update ")
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert world.github.writes == writes
    configure(world, "draft: false\ncommit_prefix: 'chore(deps):'\nlabels: [dependencies]\nreviewers: [jane]\nassignees: [joe]\n")
    assert world.pr() == 0
    assert {p["draft"] for p in world.github.open_pulls()} == {False}


def test_the_commit_prefix_leads_titles_and_commits(world: World):
    configure(world, "commit_prefix: 'chore(deps):'\n")
    assert world.pr() == 0
    assert pull(world, "tagbot/acme-tiny")["title"] == "chore(deps): Update acme/tiny to 1.2.1"
    assert git(world.remote, "log", "-1", "--format=%s", "tagbot/acme-tiny") == "chore(deps): Update acme/tiny to 1.2.1"


# --- runs that report and go on -------------------------------------------------------------

def test_an_image_that_cannot_be_looked_up_is_a_warning(world: World, capsys: pytest.CaptureFixture[str]):
    assert world.pr() == 0
    (world.fixtures / "acme__other.tags.json").unlink()  # its lookups now fail
    world.push_to_main("Dockerfile", DOCKERFILE.replace("tiny:1.1.0", "tiny:1.2.1"))
    world.push_to_main("compose.yaml", COMPOSE.replace("1.1.0", "1.2.1"))
    capsys.readouterr()
    assert world.pr() == 0
    captured = capsys.readouterr()
    assert "tagbot: warning: docker.io/acme/other" in captured.err
    # acme/tiny was looked up: its pull request closes; acme/other's could not be checked: kept.
    assert next(p for p in world.github.pulls if p["head"] == "tagbot/acme-tiny")["state"] == "closed"
    assert {p["head"] for p in world.github.open_pulls()} == {"tagbot/acme-other", "tagbot/acme-other-major"}
    assert "not closed: acme/other could not be checked" in captured.out


def test_a_refused_push_is_that_groups_error_and_the_others_go_on(world: World, capsys: pytest.CaptureFixture[str]):
    hook = world.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\nwhile read old new ref; do\n  case \"$ref\" in *acme-tiny)\n"
                    "    echo 'Permission to acme/app.git denied to github-actions[bot].' >&2; exit 1;;\n  esac\ndone\n")
    hook.chmod(0o755)
    assert world.pr() == 2
    captured = capsys.readouterr()
    assert {p["head"] for p in world.github.open_pulls()} == {"tagbot/acme-other", "tagbot/acme-other-major"}
    error = next(line for line in captured.err.splitlines() if "tagbot/acme-tiny" in line)
    assert "remote: Permission to acme/app.git denied to github-actions[bot]." in error
    assert "permissions: contents: write" in error and "allow Actions to create pull requests" in error
    assert "failed" in captured.out


def test_the_actions_ui_gets_a_summary_annotations_and_outputs(world: World, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]):
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    (world.fixtures / "acme__other.tags.json").unlink()
    assert world.pr() == 0
    out = capsys.readouterr().out
    assert "::warning file=Dockerfile,line=2::docker.io/acme/other: " in out
    text = summary.read_text()
    assert text.startswith("## tagbot\n\n2 open\n")  # the pull request and the dashboard issue
    assert "| open | tagbot dashboard | `(dashboard)` |" in text
    assert "| open | [Update acme/tiny to 1.2.1](https://github.example/acme/app/pull/1) | `tagbot/acme-tiny` |" in text
    assert "### Errors" in text and "docker.io/acme/other" in text
    values = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert json.loads(values["pull-requests"]) == ["https://github.example/acme/app/pull/1"]
    assert (values["updates"], values["errors"]) == ("2", "1")  # acme/tiny in Dockerfile and compose.yaml


# --- the dashboard --------------------------------------------------------------------------

def test_the_dashboard_round_trip_un_declines_a_ticked_version(world: World):
    (world.fixtures / "acme__other.tags.json").unlink()
    assert world.pr() == 0
    (dashboard,) = world.github.issues
    assert dashboard["title"] == "tagbot dashboard"
    body = dashboard["body"]
    assert "## Open pull requests\n\n- [Update acme/tiny to 1.2.1](https://github.example/acme/app/pull/1) `tagbot/acme-tiny`" in body
    assert "## Errors\n\n- docker.io/acme/other: not found at 127.0.0.1" in body
    assert "## Declined\n\nNone." in body
    tiny = pull(world, "tagbot/acme-tiny")
    tiny["state"] = "closed"  # a person declines acme/tiny 1.2.1
    assert world.pr() == 0
    box = "- [ ] <!-- tagbot:undecline docker.io/acme/tiny 1.2.1 --> acme/tiny `1.2.1` (closed without merging in #1)"
    assert box in dashboard["body"]
    dashboard["body"] = dashboard["body"].replace(box, box.replace("- [ ]", "- [x]"))  # ...and changes their mind
    assert world.pr() == 0
    assert pull(world, "tagbot/acme-tiny")["number"] != tiny["number"]  # proposed again
    assert '"undeclined":true' in tiny["body"]  # the closed one says so, for every later run
    assert "## Declined\n\nNone." in dashboard["body"]
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert world.github.writes == writes


def test_the_dashboard_can_be_renamed_or_turned_off(world: World):
    configure(world, "dashboard_title: Dependencies\n")
    assert world.pr() == 0
    assert [i["title"] for i in world.github.issues] == ["Dependencies"]
    configure(world, "dashboard: false\n")
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert world.github.writes == writes


def test_a_later_day_edits_no_body_for_the_age(world: World, monkeypatch: pytest.MonkeyPatch):
    assert world.pr() == 0
    writes = list(world.github.writes)
    later = date.today() + timedelta(days=30)
    monkeypatch.setattr("tagbot.pr.body.today", lambda: later)
    assert world.pr() == 0
    assert world.github.writes == writes  # ages stay as of the day the versions were proposed
    tags_file(world.fixtures, "acme/tiny", ["1.3.0", "1.2.1", "1.1.0"])
    assert world.pr() == 0
    assert f'"proposed_on":"{later.isoformat()}"' in pull(world, "tagbot/acme-tiny")["body"]  # a new version, a new day


def test_a_dashboard_that_cannot_be_written_says_how_to_fix_it(world: World, capsys: pytest.CaptureFixture[str],
                                                               monkeypatch: pytest.MonkeyPatch):
    def forbidden(*args: object, **kwargs: object) -> tuple[int, dict]:
        return 403, {"message": "Resource not accessible by integration"}

    monkeypatch.setattr(world.github, "_create_issue", forbidden)
    assert world.pr() == 2
    err = capsys.readouterr().err
    assert "tagbot: error: (dashboard): GitHub API: 403 Resource not accessible by integration" in err
    assert "permissions: issues: write" in err
    assert len(world.github.open_pulls()) == 3  # the pull requests were done first
