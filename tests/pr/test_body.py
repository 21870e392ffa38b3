from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

from tagbot.model import PlannedUpdate, Update
from tagbot.pr.body import pr_body, pr_title
from tagbot.pr.grouping import Group
from tagbot.scan.model import Found, Piece, Reference
from tagbot.refs import parse_ref


def planned(text: str, to_tag: str, platforms: set[str], dropped: set[str]) -> PlannedUpdate:
    image = parse_ref(text)
    found = Found(text, (Piece(5, text),), image, anchor=5, end=5 + len(text))
    update = Update(image.tag, None, to_tag, None, "minor", frozenset(platforms), 1000,
                    datetime(2026, 8, 1, tzinfo=timezone.utc), platforms_dropped=frozenset(dropped))
    return PlannedUpdate(Reference("Dockerfile", "dockerfile", 1, 6, found), update, "")


def test_a_dropped_platform_is_named_in_the_body():
    group = Group("node", (planned("node:20.10.0", "26.7.0", {"linux/amd64", "linux/arm64/v8"},
                                   {"linux/s390x", "linux/arm/v7"}),))
    body = pr_body(group, ())
    assert "| linux/amd64, linux/arm64 |" in body
    assert "- node `26.7.0` drops linux/arm/v7, linux/s390x" in body


def test_ages_are_told_as_of_the_day_the_version_was_proposed():
    group = Group("node", (planned("node:20.10.0", "20.11.0", {"linux/amd64"}, set()),))
    body = pr_body(group, (), proposed_on=date(2026, 8, 22))
    assert "| 2026-08-01 (21 days old) |" in body
    assert '"proposed_on":"2026-08-22"' in body


def test_nothing_dropped_says_nothing():
    group = Group("node", (planned("node:20.10.0", "20.11.0", {"linux/amd64"}, set()),))
    assert "drops" not in pr_body(group, ())


def test_titles_name_versions_or_count_images():
    def major(text: str, to_tag: str) -> PlannedUpdate:
        p = planned(text, to_tag, {"linux/amd64"}, set())
        return PlannedUpdate(p.reference, replace(p.update, update_type="major"), "")

    two = Group("all", (planned("postgres:16.14", "16.15", set(), set()), planned("redis:7.4.10", "7.4.11", set(), set())))
    assert pr_title(two) == "Update postgres to 16.15 and redis to 7.4.11"
    assert pr_title(two, "chore(deps):") == "chore(deps): Update postgres to 16.15 and redis to 7.4.11"
    five = Group("all-major", tuple(major(f"acme/app{i}:1.0", "2.0") for i in range(5)))
    assert pr_title(five) == "Update 5 images (major)"


def test_one_image_to_several_tags_is_named_with_its_tags_and_skipped_by_one_rule():
    group = Group("node", (planned("node:14.17.3-alpine3.14", "14.21.3-alpine3.14", set(), set()),
                           planned("node:17.0.1-bullseye-slim", "17.9.1-bullseye-slim", set(), set())))
    assert pr_title(group) == "Update node to 14.21.3-alpine3.14 and 17.9.1-bullseye-slim (minor)"
    # A later rule's ignore replaces an earlier one's: one rule holds every tag of the image.
    assert '  - match: node\n    ignore: ["14.21.3-alpine3.14", "17.9.1-bullseye-slim"]\n```' in pr_body(group, ())
