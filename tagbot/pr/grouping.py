"""Which updates share a branch and pull request: named `groups` first, then `group_by`, and
majors apart unless `separate_major: false`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tagbot.config import RunSettings, matches_any
from tagbot.git import BRANCH_PREFIX
from tagbot.model import PlannedUpdate


@dataclass(frozen=True)
class Group:
    name: str  # the branch is tagbot/<name>
    updates: tuple[PlannedUpdate, ...]

    @property
    def branch(self) -> str:
        return BRANCH_PREFIX + self.name


def group_updates(updates: Sequence[PlannedUpdate], settings: RunSettings) -> list[Group]:
    """Updates by `groups` first, then `group_by`; majors apart unless `separate_major: false`."""
    grouped: dict[str, list[PlannedUpdate]] = {}
    for planned in updates:
        grouped.setdefault(_group_name(planned, settings), []).append(planned)
    return [Group(name, tuple(members)) for name, members in sorted(grouped.items())]


def _group_name(planned: PlannedUpdate, settings: RunSettings) -> str:
    image = planned.reference.found.image
    assert image is not None
    kind = planned.update.update_type
    if kind == "replace":  # a move to another image is a pull request of its own
        return f"replace-{_slug(image.short_name)}"
    named = next((name for name, globs in settings.groups if matches_any(image, globs)), None)
    if named is not None:
        base = named
    elif settings.group_by == "all":
        base = "all"
    elif settings.group_by == "update_type":
        return kind
    else:
        base = _slug(image.short_name)
    return f"{base}-major" if kind == "major" and settings.separate_major else base


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-")
