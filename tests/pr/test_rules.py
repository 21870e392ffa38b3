"""Rules that set how pull requests are made, end to end: per image, per file, per kind and per
update type; labels, reviewers, assignees, group, schedule, min_age, separate_major,
separate_minor_patch, commit_message, and the top-level branch_prefix."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tagbot.git import BOT_EMAIL
from tests.gitworld import WORLD_CONFIG, World, git, tags_file
from tests.helpers import on_day


def configure(world: World, text: str) -> None:
    (world.checkout / "tagbot.yaml").write_text(WORLD_CONFIG + text)


def pulls_by_branch(world: World) -> dict[str, dict]:
    return {p["head"]: p for p in world.github.open_pulls()}


def test_rules_set_labels_reviewers_and_assignees_by_image_and_by_update_type(world: World):
    configure(world, "labels: [dependencies]\n"
                     "rules:\n"
                     "  - match: acme/tiny\n    labels: [tiny-team]\n    reviewers: [ann]\n"
                     "  - match_update_types: major\n    labels: [breaking]\n    assignees: [lead]\n")
    assert world.pr() == 0
    pulls = pulls_by_branch(world)
    seen = {branch: (p["labels"], p["reviewers"], p["assignees"]) for branch, p in pulls.items()}
    assert seen == {
        "tagbot/acme-tiny": (["tiny-team"], ["ann"], []),  # a later rule's list replaces the one before
        "tagbot/acme-other": (["dependencies"], [], []),
        "tagbot/acme-other-major": (["breaking"], [], ["lead"]),
    }


def test_labels_a_rule_adds_later_are_given_to_the_open_pull_request(world: World):
    assert world.pr() == 0
    configure(world, "rules:\n  - match_update_types: [minor]\n    labels: [minor-bump]\n")
    assert world.pr() == 0
    labels = {branch: p["labels"] for branch, p in pulls_by_branch(world).items()}
    assert labels == {"tagbot/acme-tiny": ["minor-bump"], "tagbot/acme-other": ["minor-bump"],
                      "tagbot/acme-other-major": []}


def test_a_rule_by_file_kind_and_update_type_together_labels_only_what_all_three_match(world: World):
    configure(world, "group_by: all\nseparate_major: false\n"
                     "rules:\n"
                     "  - files: ['Dockerfile']\n    kinds: [dockerfile]\n    match_update_types: major\n"
                     "    labels: [dockerfile-major]\n"
                     "  - files: ['*.yaml']\n    match_update_types: major\n    labels: [never]\n")
    assert world.pr() == 0
    (pull,) = world.github.open_pulls()
    # acme/other's major is in the Dockerfile only; compose.yaml has only acme/tiny's minor.
    assert pull["labels"] == ["dockerfile-major"]


def test_a_rule_group_gathers_what_it_matches_into_one_branch(world: World):
    configure(world, "rules:\n  - match: acme/*\n    group: acme\n    separate_major: false\n")
    assert world.pr() == 0
    (pull,) = world.github.open_pulls()
    assert pull["head"] == "tagbot/acme"
    assert pull["title"] == "Update acme/other to 3.0.0 and acme/tiny to 1.2.1"


def test_a_rule_group_by_kind_splits_one_image_by_where_it_is_written(world: World):
    configure(world, "rules:\n  - kinds: [compose]\n    group: compose\n")
    assert world.pr() == 0
    pulls = pulls_by_branch(world)
    assert set(pulls) == {"tagbot/compose", "tagbot/acme-tiny", "tagbot/acme-other", "tagbot/acme-other-major"}
    assert "acme/tiny:1.2.1" in world.remote_file("tagbot/compose", "compose.yaml")
    assert "acme/tiny:1.1.0" in world.remote_file("tagbot/compose", "Dockerfile")
    assert "acme/tiny:1.2.1" in world.remote_file("tagbot/acme-tiny", "Dockerfile")
    assert "acme/tiny:1.1.0" in world.remote_file("tagbot/acme-tiny", "compose.yaml")


@pytest.mark.parametrize("rule", [
    "match: acme/tiny",
    # Set for minor updates only, the patch offered beside one still stays apart from it.
    "match_update_types: minor",
])
def test_separate_minor_patch_offers_the_newest_patch_apart(world: World, rule: str):
    tags_file(world.fixtures, "acme/tiny", ["1.2.1", "1.2.0", "1.1.2", "1.1.1", "1.1.0"])
    configure(world, f"rules:\n  - {rule}\n    separate_minor_patch: true\n")
    assert world.pr() == 0
    pulls = pulls_by_branch(world)
    assert pulls["tagbot/acme-tiny"]["title"] == "Update acme/tiny to 1.2.1"
    assert pulls["tagbot/acme-tiny-patch"]["title"] == "Update acme/tiny to 1.1.2"
    assert "acme/tiny:1.1.2" in world.remote_file("tagbot/acme-tiny-patch", "Dockerfile")
    assert "acme/tiny:1.2.1" in world.remote_file("tagbot/acme-tiny", "Dockerfile")
    # acme/other has no patch of its own line to offer.
    assert {b for b in pulls if b.startswith("tagbot/acme-other")} == {"tagbot/acme-other", "tagbot/acme-other-major"}
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert world.github.writes == writes  # the four pull requests are stable


def test_separate_major_false_by_rule_keeps_one_image_in_one_pull_request(world: World):
    configure(world, "rules:\n  - match: acme/other\n    separate_major: false\n")
    assert world.pr() == 0
    assert set(pulls_by_branch(world)) == {"tagbot/acme-tiny", "tagbot/acme-other"}
    assert pulls_by_branch(world)["tagbot/acme-other"]["title"] == "Update acme/other to 3.0.0"


def test_commit_message_template_makes_the_title_and_the_commit(world: World):
    configure(world, "commit_prefix: 'chore(deps):'\n"
                     "rules:\n  - match: acme/tiny\n    commit_message: '{prefix}bump {image} from {from} to {to} ({type})'\n")
    assert world.pr() == 0
    pulls = pulls_by_branch(world)
    assert pulls["tagbot/acme-tiny"]["title"] == "chore(deps): bump acme/tiny from 1.1.0 to 1.2.1 (minor)"
    assert git(world.remote, "log", "-1", "--format=%ae %s", "tagbot/acme-tiny") == (
        f"{BOT_EMAIL} chore(deps): bump acme/tiny from 1.1.0 to 1.2.1 (minor)")
    assert pulls["tagbot/acme-other"]["title"] == "chore(deps): Update acme/other to 2.1.0"  # no rule: tagbot's own
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert world.github.writes == writes  # a stable title: nothing to edit on the next run


def test_a_commit_message_over_several_images_says_so(world: World):
    configure(world, "commit_message: 'deps: {image} to {to}'\ngroup_by: all\n")
    assert world.pr() == 0
    titles = {p["head"]: p["title"] for p in world.github.open_pulls()}
    assert titles == {"tagbot/all": "deps: acme/other and acme/tiny to several versions",
                      "tagbot/all-major": "deps: acme/other to 3.0.0"}


def test_branch_prefix_names_every_branch_and_a_second_run_finds_them(world: World):
    configure(world, "branch_prefix: deps/docker-\n")
    assert world.pr() == 0
    assert set(pulls_by_branch(world)) == {"deps/docker-acme-tiny", "deps/docker-acme-other", "deps/docker-acme-other-major"}
    assert world.github.branch_sha("deps/docker-acme-tiny") is not None
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert world.github.writes == writes
    tags_file(world.fixtures, "acme/tiny", ["1.3.0", "1.2.1", "1.1.0"])
    assert world.pr() == 0
    (tiny,) = [p for p in world.github.pulls if p["head"] == "deps/docker-acme-tiny"]
    assert tiny["title"] == "Update acme/tiny to 1.3.0"


def test_a_stranger_on_a_branch_under_the_prefix_is_not_taken_for_tagbot(world: World):
    configure(world, "branch_prefix: deps/\n")
    world.github.add_pull("deps/acme-tiny", title="Mine", user="mallory", head_repo="mallory/app")
    assert world.pr() == 0
    mine = [p for p in world.github.pulls if p["title"] == "Mine"]
    assert mine[0]["state"] == "open" and mine[0]["comments"] == []


def test_a_rule_schedule_holds_only_what_it_matches(world: World, monkeypatch: pytest.MonkeyPatch):
    configure(world, "timezone: Europe/Berlin\nrules:\n  - match: acme/other\n    schedule: [before 6am on monday]\n")
    on_day(monkeypatch, datetime(2026, 12, 2, 12, tzinfo=timezone.utc))  # a Wednesday
    assert world.pr() == 0
    assert set(pulls_by_branch(world)) == {"tagbot/acme-tiny"}
    (dashboard,) = world.github.issues
    section = dashboard["body"].split("## Waiting for schedule\n\n")[1].split("\n## ")[0]
    assert section.splitlines() == [
        "Opened when the schedule allows: before 6am on monday (Europe/Berlin); next from 2026-12-07 00:00 CET.", "",
        "- Update acme/other to 2.1.0 `tagbot/acme-other`", "- Update acme/other to 3.0.0 `tagbot/acme-other-major`"]


def test_groups_with_different_schedules_each_say_their_own_next_opening(world: World, monkeypatch: pytest.MonkeyPatch):
    configure(world, "rules:\n  - match: acme/other\n    schedule: [on saturday]\n"
                     "  - match: acme/tiny\n    schedule: [on sunday]\n")
    on_day(monkeypatch, datetime(2026, 12, 2, 12, tzinfo=timezone.utc))
    assert world.pr() == 0
    assert world.github.open_pulls() == []
    section = world.github.issues[0]["body"].split("## Waiting for schedule\n\n")[1].split("\n## ")[0]
    assert "Opened when their schedules allow." in section
    assert "- Update acme/tiny to 1.2.1 `tagbot/acme-tiny`: on sunday (UTC); next from 2026-12-06 00:00 UTC" in section
    assert "- Update acme/other to 2.1.0 `tagbot/acme-other`: on saturday (UTC); next from 2026-12-05 00:00 UTC" in section


def test_min_age_by_update_type_holds_a_young_major_and_offers_the_minor(world: World, monkeypatch: pytest.MonkeyPatch):
    # acme/other 3.0.0 was pushed on 2026-08-10, 2.1.0 on 2026-08-09: on 2026-08-20 both are ten days old.
    configure(world, "rules:\n  - match_update_types: major\n    min_age: 30d\n")
    on_day(monkeypatch, datetime(2026, 8, 20, tzinfo=timezone.utc))
    assert world.pr() == 0
    pulls = pulls_by_branch(world)
    assert set(pulls) == {"tagbot/acme-tiny", "tagbot/acme-other"}
    assert pulls["tagbot/acme-other"]["title"] == "Update acme/other to 2.1.0"
    assert "younger than min_age 30d" in world.github.issues[0]["body"]
