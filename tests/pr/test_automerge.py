"""Automerge end to end against the fake GitHub: GitHub's own auto-merge where the repository
allows it, else a merge by tagbot on a later run once the head commit is green; never red,
pending, unreviewed-away (changes requested), edited by a person, or a major unless named."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tagbot.pr.automerge import Checks, checks_from, merge_verdict
from tests.gitworld import WORLD_CONFIG, World, git
from tests.helpers import on_day

TINY, OTHER, MAJOR = "tagbot/acme-tiny", "tagbot/acme-other", "tagbot/acme-other-major"


def configure(world: World, text: str) -> None:
    (world.checkout / "tagbot.yaml").write_text(WORLD_CONFIG + text)


def green(world: World, branch: str) -> str:
    sha = world.github.branch_sha(branch)
    assert sha is not None
    world.github.add_status(sha, "ci/test", "success")
    world.github.add_check_run(sha, "build", "success")
    return sha


def push_by_hand(world: World, branch: str) -> None:
    """A person's commit on top of tagbot's branch."""
    work = world.root / "hand"
    git(world.root, "clone", "-q", "-b", branch, str(world.remote), str(work))
    (work / "NOTES").write_text("mine\n")
    git(work, "add", "NOTES")
    git(work, "commit", "-qm", "A note", email="jane@example.com")
    git(work, "push", "-q")


def automerge_section(world: World) -> list[str]:
    body = world.github.issues[0]["body"]
    return body.split("## Automerge\n\n")[1].split("\n## ")[0].splitlines()[2:]


# --- GitHub's own auto-merge --------------------------------------------------------------

def test_native_auto_merge_is_turned_on_for_the_types_named_and_never_for_a_major(world: World):
    world.github.allow_auto_merge = True
    configure(world, "automerge: [minor]\n")
    assert world.pr() == 0
    pulls = {p["head"]: p for p in world.github.pulls}
    assert pulls[TINY]["auto_merge"] == {"enabled_by": {"login": "tagbot-ci"}, "merge_method": "squash"}
    assert pulls[OTHER]["auto_merge"] == {"enabled_by": {"login": "tagbot-ci"}, "merge_method": "squash"}
    assert pulls[MAJOR].get("auto_merge") is None
    assert [line.split("`: ")[1] for line in automerge_section(world)] == [
        "auto-merge on (squash): GitHub merges it once the checks pass"] * 2
    # The next run reads reviews and checks, and writes nothing.
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert world.github.writes == writes


def test_automerge_true_is_every_type_but_major(world: World):
    world.github.allow_auto_merge = True
    configure(world, "automerge: true\nautomerge_method: rebase\n")
    assert world.pr() == 0
    merging = {p["head"]: p.get("auto_merge") for p in world.github.pulls}
    assert merging[TINY] == {"enabled_by": {"login": "tagbot-ci"}, "merge_method": "rebase"}
    assert merging[MAJOR] is None


def test_a_person_asking_for_changes_turns_native_auto_merge_off(world: World):
    world.github.allow_auto_merge = True
    configure(world, "automerge: [minor]\n")
    assert world.pr() == 0
    tiny = world.github.pull_on(TINY)
    world.github.add_review(tiny, "ann", "CHANGES_REQUESTED")
    assert world.pr() == 0
    assert tiny["auto_merge"] is None and tiny["state"] == "open"
    assert f"`{TINY}`: not merged: changes requested by ann" in "\n".join(automerge_section(world))


def test_a_failed_check_turns_native_auto_merge_off_as_github_would_merge_over_one_not_required(world: World):
    world.github.allow_auto_merge = True
    configure(world, "automerge: [minor]\n")
    assert world.pr() == 0
    sha = green(world, TINY)
    world.github.add_check_run(sha, "lint", "failure")
    assert world.pr() == 0
    tiny = world.github.pull_on(TINY)
    assert tiny["auto_merge"] is None and tiny["state"] == "open"
    assert f"`{TINY}`: not merged: check lint failed" in "\n".join(automerge_section(world))


def test_outside_automerge_schedule_native_auto_merge_is_turned_off(world: World, monkeypatch: pytest.MonkeyPatch):
    world.github.allow_auto_merge = True
    configure(world, "automerge: [minor]\nautomerge_schedule: [every weekend]\n")
    on_day(monkeypatch, datetime(2026, 12, 5, 9, tzinfo=timezone.utc))  # Saturday: turned on
    assert world.pr() == 0
    tiny = world.github.pull_on(TINY)
    assert tiny["auto_merge"] is not None
    on_day(monkeypatch, datetime(2026, 12, 9, 9, tzinfo=timezone.utc))  # Wednesday: GitHub must not merge now
    assert world.pr() == 0
    assert tiny["auto_merge"] is None


def test_a_pull_request_a_person_made_a_draft_is_not_merged(world: World):
    configure(world, "automerge: [minor]\n")
    assert world.pr() == 0
    green(world, TINY)
    tiny = world.github.pull_on(TINY)
    tiny["draft"] = True
    for _ in range(2):  # tagbot does not undo the draft: only a person marks it ready
        assert world.pr() == 0
        assert tiny["state"] == "open" and tiny["draft"]
    assert (f"`{TINY}`: not merged: a draft (mark it ready for review to let it merge itself)"
            in "\n".join(automerge_section(world)))
    tiny["draft"] = False
    assert world.pr() == 0
    assert tiny["merged"]


def test_a_person_pushing_to_the_branch_turns_native_auto_merge_off(world: World):
    world.github.allow_auto_merge = True
    configure(world, "automerge: [minor]\n")
    assert world.pr() == 0
    push_by_hand(world, TINY)
    assert world.pr() == 0
    tiny = world.github.pull_on(TINY)
    assert tiny["auto_merge"] is None and tiny["state"] == "open"


def test_a_group_that_no_longer_may_merge_itself_loses_the_auto_merge_tagbot_gave_it(world: World):
    world.github.allow_auto_merge = True
    configure(world, "group_by: all\nseparate_major: false\nautomerge: [minor, major]\n")
    assert world.pr() == 0
    (pull,) = world.github.open_pulls()
    assert pull["auto_merge"] is not None
    configure(world, "group_by: all\nseparate_major: false\nautomerge: [minor]\n")
    assert world.pr() == 0
    assert pull["auto_merge"] is None
    assert "auto-merge turned off: not every update here may merge itself" in "\n".join(automerge_section(world))


def test_an_auto_merge_a_person_turned_on_is_theirs(world: World):
    world.github.allow_auto_merge = True
    assert world.pr() == 0  # no automerge in the config
    tiny = world.github.pull_on(TINY)
    tiny["auto_merge"] = {"enabled_by": {"login": "jane"}, "merge_method": "merge"}
    assert world.pr() == 0
    assert tiny["auto_merge"] == {"enabled_by": {"login": "jane"}, "merge_method": "merge"}


# --- merged by tagbot on a later run -------------------------------------------------------

def test_green_checks_merge_on_the_next_run_with_exactly_the_requests_it_needs(world: World, capsys: pytest.CaptureFixture[str]):
    configure(world, "automerge: [minor]\nautomerge_method: merge\n")
    assert world.pr() == 0
    assert "waiting for checks: merged on a later run once they pass" in capsys.readouterr().out
    tiny = world.github.pull_on(TINY)
    sha = green(world, TINY)
    before = len(world.github.requests)
    assert world.pr() == 0
    assert tiny["state"] == "closed" and tiny["merged"] and tiny["merge_method"] == "merge"
    assert git(world.remote, "rev-parse", "main") == sha
    number = tiny["number"]
    asked = [r for r in world.github.requests[before:] if f"/pulls/{number}" in r[1] or sha in r[1]]
    assert asked == [("GET", f"/repos/acme/app/pulls/{number}/reviews"),
                     ("GET", f"/repos/acme/app/commits/{sha}/status"),
                     ("GET", f"/repos/acme/app/commits/{sha}/check-runs"),
                     ("GET", f"/repos/acme/app/pulls/{number}"),  # mergeable: read once the checks pass
                     ("PUT", f"/repos/acme/app/pulls/{number}/merge")]
    out = capsys.readouterr().out
    assert f"merge      {TINY}" in out or f"merge  {TINY}" in out
    # acme/other's minor had no check at all: not merged, and said so.
    assert world.github.pull_on(OTHER)["state"] == "open"
    assert any(line.endswith("waiting: no check has run on it (nothing yet says it is safe)")
               for line in automerge_section(world))


def test_a_failed_check_leaves_it_open_and_the_dashboard_says_which(world: World):
    configure(world, "automerge: [minor]\n")
    assert world.pr() == 0
    sha = green(world, TINY)
    world.github.add_status(sha, "ci/lint", "failure")
    assert world.pr() == 0
    assert world.github.pull_on(TINY)["state"] == "open"
    assert f"`{TINY}`: not merged: check ci/lint failed" in "\n".join(automerge_section(world))
    assert not any(r[0] == "PUT" for r in world.github.requests)


def test_a_running_check_waits(world: World):
    configure(world, "automerge: [minor]\n")
    assert world.pr() == 0
    sha = green(world, TINY)
    world.github.add_check_run(sha, "e2e", None)
    assert world.pr() == 0
    assert world.github.pull_on(TINY)["state"] == "open"
    assert f"`{TINY}`: waiting for check e2e" in "\n".join(automerge_section(world))


def test_changes_requested_stop_a_merge_until_the_same_person_approves(world: World):
    configure(world, "automerge: [minor]\n")
    assert world.pr() == 0
    green(world, TINY)
    tiny = world.github.pull_on(TINY)
    world.github.add_review(tiny, "ann", "CHANGES_REQUESTED")
    world.github.add_review(tiny, "bob", "APPROVED")
    assert world.pr() == 0
    assert tiny["state"] == "open"
    world.github.add_review(tiny, "ann", "APPROVED")
    assert world.pr() == 0
    assert tiny["merged"]


def test_commits_by_a_person_are_never_merged(world: World, capsys: pytest.CaptureFixture[str]):
    configure(world, "automerge: [minor]\n")
    assert world.pr() == 0
    push_by_hand(world, TINY)
    green(world, TINY)
    assert world.pr() == 0
    assert world.github.pull_on(TINY)["state"] == "open"
    assert "edited by hand (jane@example.com); left alone" in capsys.readouterr().out


def test_a_major_merges_itself_only_when_named(world: World):
    configure(world, "automerge: true\n")
    assert world.pr() == 0
    green(world, MAJOR)
    assert world.pr() == 0
    assert world.github.pull_on(MAJOR)["state"] == "open"
    configure(world, "automerge: [major]\n")
    assert world.pr() == 0
    assert world.github.pull_on(MAJOR)["merged"]


def test_a_pull_request_github_cannot_merge_stays_open(world: World):
    configure(world, "automerge: [minor]\n")
    assert world.pr() == 0
    green(world, TINY)
    world.github.pull_on(TINY)["mergeable"] = False
    assert world.pr() == 0
    assert world.github.pull_on(TINY)["state"] == "open"
    assert "not merged: GitHub cannot merge it" in "\n".join(automerge_section(world))


def test_a_repository_refusing_native_auto_merge_is_merged_by_tagbot_instead(world: World):
    configure(world, "automerge: [minor]\n")  # allow_auto_merge is off: the mutation would be refused
    assert world.pr() == 0
    assert not any(r == ("POST", "/graphql") for r in world.github.requests)
    green(world, TINY)
    assert world.pr() == 0
    assert world.github.pull_on(TINY)["merged"]


def test_automerge_schedule_holds_merges_outside_it(world: World, monkeypatch: pytest.MonkeyPatch):
    configure(world, "automerge: [minor]\nautomerge_schedule: [every weekend]\n")
    on_day(monkeypatch, datetime(2026, 12, 2, 12, tzinfo=timezone.utc))  # a Wednesday
    assert world.pr() == 0
    green(world, TINY)
    assert world.pr() == 0
    assert world.github.pull_on(TINY)["state"] == "open"
    assert (f"`{TINY}`: merges within automerge_schedule: every weekend (UTC); next from 2026-12-05 00:00 UTC"
            in "\n".join(automerge_section(world)))
    on_day(monkeypatch, datetime(2026, 12, 5, 9, tzinfo=timezone.utc))  # Saturday
    assert world.pr() == 0
    assert world.github.pull_on(TINY)["merged"]


def test_a_rule_sets_automerge_for_what_it_matches(world: World):
    configure(world, "rules:\n  - match: acme/tiny\n    automerge: [minor]\n")
    assert world.pr() == 0
    green(world, TINY)
    green(world, OTHER)
    assert world.pr() == 0
    assert world.github.pull_on(TINY)["merged"]
    assert world.github.pull_on(OTHER)["state"] == "open"


def test_a_dry_run_says_it_would_merge_and_writes_nothing(world: World, capsys: pytest.CaptureFixture[str]):
    configure(world, "automerge: [minor]\n")
    assert world.pr() == 0
    green(world, TINY)
    writes = list(world.github.writes)
    assert world.pr("--dry-run") == 0
    assert world.github.writes == writes
    assert "would be merged: checks build, ci/test passed" in capsys.readouterr().out


def test_check_names_from_ci_are_shown_not_obeyed(world: World, capsys: pytest.CaptureFixture[str]):
    configure(world, "automerge: [minor]\n")
    assert world.pr() == 0
    sha = green(world, TINY)
    world.github.add_status(sha, "::error::@everyone <img src=x>", "failure")
    assert world.pr() == 0
    out = capsys.readouterr().out
    assert not any(line.startswith("::") for line in out.splitlines())
    section = "\n".join(automerge_section(world))
    assert "<img" not in section and "@everyone" not in section
    from tagbot.pr.actions_ui import step_summary
    from tagbot.model import Action, Plan

    summary = step_summary([Action("unchanged", TINY, "t", automerge="not merged: check <!-- failed")],
                           Plan((), (), (), (), (), (), ()))
    assert "<!--" not in summary and "&lt;!--" in summary


# --- the verdicts ----------------------------------------------------------------------------

@pytest.mark.parametrize(("asked", "checks", "mergeable", "merge", "note"), [
    ((), checks_from([("ci", "success")], [("build", "neutral"), ("docs", "skipped")]), True, True,
     "merged: checks build, ci, docs passed"),
    (("ann",), checks_from([("ci", "success")], []), True, False, "not merged: changes requested by ann"),
    ((), checks_from([("ci", "error")], []), True, False, "not merged: check ci failed"),
    ((), checks_from([], [("a", "failure"), ("b", "cancelled"), ("c", "timed_out"), ("d", "failure")]), True, False,
     "not merged: checks a, b, c and 1 more failed"),
    ((), checks_from([("ci", "success")], [], unread=5), True, False, "not merged: 5 checks more than tagbot reads"),
    ((), Checks(), True, False, "waiting: no check has run on it (nothing yet says it is safe)"),
    ((), checks_from([("ci", "success")], []), None, False, "waiting for GitHub to tell whether it can merge"),
])
def test_merge_verdicts(asked, checks, mergeable, merge, note):
    verdict = merge_verdict(changes_requested=asked, checks=checks, mergeable=lambda: mergeable)
    assert (verdict.merge, verdict.note) == (merge, note)


def test_mergeability_is_asked_only_once_the_checks_pass():
    asked: list[bool] = []
    merge_verdict(changes_requested=(), checks=checks_from([("ci", "pending")], []), mergeable=lambda: asked.append(True) or True)
    assert asked == []


def test_a_rule_automerge_schedule_holds_only_what_it_matches(world: World, monkeypatch: pytest.MonkeyPatch):
    configure(world, "automerge: [minor]\nrules:\n  - match: acme/tiny\n    automerge_schedule: [every weekend]\n")
    on_day(monkeypatch, datetime(2026, 12, 2, 12, tzinfo=timezone.utc))  # a Wednesday
    assert world.pr() == 0
    green(world, TINY)
    green(world, OTHER)
    assert world.pr() == 0
    assert world.github.pull_on(TINY)["state"] == "open"
    assert world.github.pull_on(OTHER)["merged"]
