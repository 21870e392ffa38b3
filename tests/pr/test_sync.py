"""`tagbot pr` end to end: a real bare git remote, the fake GitHub API that PyGithub talks to,
and the fake tags API, all on this machine."""

from __future__ import annotations


from datetime import datetime, timezone

import pytest

from tagbot.git import BOT_EMAIL, redact
from tests.gitworld import COMPOSE, DOCKERFILE, WORLD_CONFIG, World, git, tags_file

def test_first_run_opens_one_pull_request_per_image(world: World, capsys: pytest.CaptureFixture[str]):
    assert world.pr() == 0
    out = capsys.readouterr().out
    assert "open" in out and "tagbot/acme-tiny" in out
    pulls = {p["head"]: p for p in world.github.open_pulls()}
    # acme/other 2.0.0: the major 3.0.0 and, apart, the minor 2.1.0 that a team postponing the
    # major still wants (separate_major, the default).
    assert set(pulls) == {"tagbot/acme-tiny", "tagbot/acme-other", "tagbot/acme-other-major"}
    tiny = pulls["tagbot/acme-tiny"]
    assert tiny["title"] == "Update acme/tiny to 1.2.1" and tiny["base"] == "main"
    assert "| [acme/tiny](https://hub.docker.com/r/acme/tiny) | `Dockerfile:1`, `compose.yaml:3` | `1.1.0` → `1.2.1` | minor |" in tiny["body"]
    assert "0.0 MB (+0.0 MB)" not in tiny["body"] and "| 2026-08-10 (" in tiny["body"]
    assert 'ignore: ["1.2.1"]' in tiny["body"]
    assert pulls["tagbot/acme-other-major"]["title"] == "Update acme/other to 3.0.0"
    assert pulls["tagbot/acme-other"]["title"] == "Update acme/other to 2.1.0"
    assert "acme/other:2.1.0" in world.remote_file("tagbot/acme-other", "Dockerfile")
    assert "acme/other:3.0.0" in world.remote_file("tagbot/acme-other-major", "Dockerfile")
    # The branch holds exactly the edit, committed by tagbot on top of main.
    assert world.remote_file("tagbot/acme-tiny", "Dockerfile") == DOCKERFILE.replace("tiny:1.1.0", "tiny:1.2.1").rstrip("\n")
    assert world.remote_file("tagbot/acme-tiny", "compose.yaml") == COMPOSE.replace("1.1.0", "1.2.1").rstrip("\n")
    assert git(world.remote, "log", "-1", "--format=%ae %s", "tagbot/acme-tiny") == f"{BOT_EMAIL} Update acme/tiny to 1.2.1"
    assert git(world.remote, "rev-parse", "tagbot/acme-tiny^") == git(world.remote, "rev-parse", "main")
    # The user's checkout is untouched.
    assert (world.checkout / "Dockerfile").read_text() == DOCKERFILE
    assert git(world.checkout, "status", "--porcelain") == ""


def test_second_run_with_nothing_new_writes_nothing(world: World, capsys: pytest.CaptureFixture[str]):
    assert world.pr() == 0
    branches = git(world.remote, "for-each-ref", "--format=%(refname) %(objectname)")
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert world.github.writes == writes  # no API write at all
    assert git(world.remote, "for-each-ref", "--format=%(refname) %(objectname)") == branches
    assert "unchanged" in capsys.readouterr().out


def test_a_newer_tag_updates_the_same_pull_request(world: World):
    assert world.pr() == 0
    before = world.github.branch_sha("tagbot/acme-tiny")
    tags_file(world.fixtures, "acme/tiny", ["1.3.0", "1.2.1", "1.2.0", "1.1.0"])
    assert world.pr() == 0
    pulls = [p for p in world.github.pulls if p["head"] == "tagbot/acme-tiny"]
    assert len(pulls) == 1 and pulls[0]["title"] == "Update acme/tiny to 1.3.0"
    assert world.github.branch_sha("tagbot/acme-tiny") != before
    assert "tiny:1.3.0" in world.remote_file("tagbot/acme-tiny", "Dockerfile")
    assert ("PATCH", f"/repos/acme/app/pulls/{pulls[0]['number']}") in world.github.writes


def test_a_base_that_caught_up_closes_the_pull_request(world: World):
    assert world.pr() == 0
    world.push_to_main("Dockerfile", DOCKERFILE.replace("tiny:1.1.0", "tiny:1.2.1"))
    world.push_to_main("compose.yaml", COMPOSE.replace("1.1.0", "1.2.1"))
    assert world.pr() == 0
    tiny = next(p for p in world.github.pulls if p["head"] == "tagbot/acme-tiny")
    assert tiny["state"] == "closed"
    assert tiny["comments"] == ["The base branch already has `acme/tiny:1.2.1`, so tagbot closes this pull request."]
    assert '"closed_by":"tagbot"' in tiny["body"]  # so no later run reads it as declined
    assert world.github.branch_sha("tagbot/acme-tiny") is None  # branch deleted
    assert [p["head"] for p in world.github.open_pulls()] == ["tagbot/acme-other", "tagbot/acme-other-major"]


def test_a_hand_edited_pull_request_is_never_force_pushed(world: World, capsys: pytest.CaptureFixture[str]):
    assert world.pr() == 0
    work = world.root / "hand"
    git(world.root, "clone", "-q", "--branch", "tagbot/acme-tiny", str(world.remote), str(work))
    (work / "NOTES").write_text("keep this\n")
    git(work, "add", "NOTES")
    git(work, "commit", "-qm", "Add notes", email="jane@example.com")
    git(work, "push", "-q")
    edited = world.github.branch_sha("tagbot/acme-tiny")
    tags_file(world.fixtures, "acme/tiny", ["1.3.0", "1.2.1", "1.1.0"])
    capsys.readouterr()
    assert world.pr() == 0
    assert world.github.branch_sha("tagbot/acme-tiny") == edited
    assert "edited by hand (jane@example.com); left alone" in capsys.readouterr().out


def test_a_pull_request_closed_by_hand_is_not_opened_again(world: World, capsys: pytest.CaptureFixture[str]):
    assert world.pr() == 0
    tiny = next(p for p in world.github.pulls if p["head"] == "tagbot/acme-tiny")
    tiny["state"] = "closed"  # a person declined the update
    writes = list(world.github.writes)
    capsys.readouterr()
    assert world.pr() == 0
    (dashboard,) = world.github.issues
    assert world.github.writes == [*writes, ("PATCH", f"/repos/acme/app/issues/{dashboard['number']}")]  # it lists the decline
    assert f"declined in #{tiny['number']} (closed without merging)" in capsys.readouterr().out
    tags_file(world.fixtures, "acme/tiny", ["1.3.0", "1.2.1", "1.1.0"])  # a newer version is a new question
    assert world.pr() == 0
    assert any(p["head"] == "tagbot/acme-tiny" and p["state"] == "open" for p in world.github.pulls)


@pytest.mark.parametrize(
    ("config", "branches"),
    [
        ("group_by: all\n", {"tagbot/all", "tagbot/all-major"}),
        ("group_by: all\nseparate_major: false\n", {"tagbot/all"}),
        ("group_by: update_type\n", {"tagbot/minor", "tagbot/major"}),
        ("groups: {tools: [acme/*]}\nseparate_major: false\n", {"tagbot/tools"}),
        ("groups: {tiny: [acme/tiny]}\n", {"tagbot/tiny", "tagbot/acme-other", "tagbot/acme-other-major"}),
    ],
)
def test_grouping(world: World, config: str, branches: set[str]):
    (world.checkout / "tagbot.yaml").write_text(WORLD_CONFIG + config)
    assert world.pr() == 0
    assert {p["head"] for p in world.github.open_pulls()} == branches


def test_one_pull_request_for_two_images_names_both(world: World):
    (world.checkout / "tagbot.yaml").write_text(WORLD_CONFIG + "group_by: all\nseparate_major: false\n")
    assert world.pr() == 0
    (pull,) = world.github.open_pulls()
    assert pull["title"] == "Update acme/other to 3.0.0 and acme/tiny to 1.2.1"
    # one skip snippet covers every image of the pull request
    assert '  - match: acme/other\n    ignore: ["3.0.0"]\n  - match: acme/tiny\n    ignore: ["1.2.1"]' in pull["body"]
    assert "`2.0.0` → `3.0.0` | major" in pull["body"] and "`1.1.0` → `1.2.1` | minor" in pull["body"]


def test_limits(world: World, capsys: pytest.CaptureFixture[str]):
    (world.checkout / "tagbot.yaml").write_text(WORLD_CONFIG + "max_prs_per_run: 1\n")
    assert world.pr() == 0
    assert len(world.github.open_pulls()) == 1
    assert "max_open_prs or max_prs_per_run reached" in capsys.readouterr().out
    (world.checkout / "tagbot.yaml").write_text(WORLD_CONFIG + "max_open_prs: 1\n")
    assert world.pr() == 0
    assert len(world.github.open_pulls()) == 1


def test_labels_reviewers_assignees_and_draft(world: World):
    (world.checkout / "tagbot.yaml").write_text(
        WORLD_CONFIG + "labels: [dependencies, docker]\nreviewers: [jane]\nassignees: [joe]\ndraft: true\n")
    assert world.pr() == 0
    pull = world.github.open_pulls()[0]
    assert (pull["labels"], pull["reviewers"], pull["assignees"], pull["draft"]) == (
        ["dependencies", "docker"], ["jane"], ["joe"], True)


def test_dry_run_reads_but_never_writes(world: World, capsys: pytest.CaptureFixture[str]):
    assert world.pr("--dry-run") == 0
    out = capsys.readouterr().out
    assert "open    tagbot/acme-tiny" in out and "dry run" in out
    assert world.github.writes == [] and world.github.pulls == []
    assert world.github.branch_sha("tagbot/acme-tiny") is None


def test_the_token_never_shows(world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp-wrong-secret")
    assert world.pr() == 2
    captured = capsys.readouterr()
    assert captured.err == "tagbot: error: GitHub API: 401 Bad credentials\n"
    assert "ghp-wrong-secret" not in captured.out + captured.err


def test_missing_settings_are_one_line(world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.delenv("GITHUB_REPOSITORY")
    assert world.pr() == 2
    assert capsys.readouterr().err == "tagbot: error: name the repository with --repository owner/name or $GITHUB_REPOSITORY\n"


def test_redact():
    assert redact("fatal: https://x-access-token:ghs_abc@github.com/o/r.git denied", ["ghs_abc"]) == (
        "fatal: https://***@github.com/o/r.git denied")
    assert redact("token ghs_abc leaked", ["ghs_abc"]) == "token *** leaked"


def test_outside_its_schedule_no_pull_request_opens_and_open_ones_are_kept_current(
        world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    from tests.helpers import on_day

    (world.checkout / "tagbot.yaml").write_text(
        WORLD_CONFIG + "schedule: [before 6am on monday]\ntimezone: Europe/Berlin\n")
    on_day(monkeypatch, datetime(2026, 12, 2, 12, tzinfo=timezone.utc))  # a Wednesday
    assert world.pr() == 0
    assert world.github.open_pulls() == []
    out = capsys.readouterr().out
    assert "waiting for schedule: before 6am on monday (Europe/Berlin); next from 2026-12-07 00:00 CET" in out
    (dashboard,) = world.github.issues
    section = dashboard["body"].split("## Waiting for schedule\n\n")[1].split("\n## ")[0]
    assert section.splitlines() == [
        "Opened when the schedule allows: before 6am on monday (Europe/Berlin); next from 2026-12-07 00:00 CET.", "",
        "- Update acme/other to 2.1.0 `tagbot/acme-other`", "- Update acme/other to 3.0.0 `tagbot/acme-other-major`",
        "- Update acme/tiny to 1.2.1 `tagbot/acme-tiny`"]
    assert "## Waiting\n\nNone." in dashboard["body"]

    on_day(monkeypatch, datetime(2026, 12, 7, 4, 30, tzinfo=timezone.utc))  # Monday 05:30 in Berlin
    assert world.pr() == 0
    assert len(world.github.open_pulls()) == 3
    assert "## Waiting for schedule" not in world.github.issues[0]["body"]

    tags_file(world.fixtures, "acme/tiny", ["1.3.0", "1.2.1", "1.2.0", "1.1.0"])
    on_day(monkeypatch, datetime(2026, 12, 9, 12, tzinfo=timezone.utc))  # outside again
    assert world.pr() == 0
    (tiny,) = [p for p in world.github.open_pulls() if p["head"] == "tagbot/acme-tiny"]
    assert tiny["title"] == "Update acme/tiny to 1.3.0"  # an open one follows a newer tag whatever the hour
    assert "tiny:1.3.0" in world.remote_file("tagbot/acme-tiny", "Dockerfile")
