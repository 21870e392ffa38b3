"""Which updates share a branch and pull request: a rule's `group`, named `groups`, then
`group_by`; majors apart unless `separate_major: false`, patches apart from minors with
`separate_minor_patch`. A group's pull request settings are its members' rules together."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tagbot.config import PullSettings, RunSettings, matches_any
from tagbot.git import BRANCH_PREFIX
from tagbot.model import PlannedUpdate


@dataclass(frozen=True)
class Group:
    name: str  # the branch is <branch_prefix><name>
    updates: tuple[PlannedUpdate, ...]
    branch_prefix: str = BRANCH_PREFIX

    @property
    def branch(self) -> str:
        return self.branch_prefix + self.name

    @property
    def labels(self) -> tuple[str, ...]:
        return _union(p.pull.labels for p in self.updates)

    @property
    def reviewers(self) -> tuple[str, ...]:
        return _union(p.pull.reviewers for p in self.updates)

    @property
    def assignees(self) -> tuple[str, ...]:
        return _union(p.pull.assignees for p in self.updates)

    @property
    def automerge(self) -> bool:
        """Whether the pull request may merge itself: only when every update's rules allow its type."""
        return bool(self.updates) and all(p.update.update_type in p.pull.automerge for p in self.updates)

    @property
    def schedules(self) -> tuple[tuple[str, ...], ...]:
        """The distinct `schedule:`s of its updates: a new pull request opens only when all allow it."""
        return tuple(dict.fromkeys(p.pull.schedule for p in self.updates if p.pull.schedule))

    @property
    def automerge_schedules(self) -> tuple[tuple[str, ...], ...]:
        return tuple(dict.fromkeys(p.pull.automerge_schedule for p in self.updates if p.pull.automerge_schedule))

    @property
    def commit_message(self) -> str | None:
        """The `commit_message` template every update's rules agree on, or None."""
        templates = {p.pull.commit_message for p in self.updates}
        return templates.pop() if len(templates) == 1 else None


def group_updates(updates: Sequence[PlannedUpdate], settings: RunSettings) -> list[Group]:
    """Updates by a rule's `group`, `groups`, then `group_by`; majors (and, by a rule's say,
    patches) apart."""
    grouped: dict[str, list[PlannedUpdate]] = {}
    for planned in updates:
        grouped.setdefault(_group_name(planned, settings), []).append(planned)
    return [Group(name, tuple(members), settings.branch_prefix) for name, members in sorted(grouped.items())]


def _group_name(planned: PlannedUpdate, settings: RunSettings) -> str:
    image = planned.reference.found.image
    assert image is not None
    kind, pull = planned.update.update_type, planned.pull
    if kind == "replace":  # a move to another image is a pull request of its own
        return f"replace-{_slug(image.short_name)}"
    named = pull.group or next((name for name, globs in settings.groups if matches_any(image, globs)), None)
    if named is not None:
        base = named
    elif settings.group_by == "all":
        base = "all"
    elif settings.group_by == "update_type":
        return kind
    else:
        base = _slug(image.short_name)
    return base + _apart(kind, pull)


def _apart(kind: str, pull: PullSettings) -> str:
    if kind == "major" and pull.separate_major:
        return "-major"
    if kind == "patch" and pull.separate_minor_patch:
        return "-patch"
    return ""


def _union(lists: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for names in lists for name in names))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-")
