"""The bot's main job, one way through: scan -> look up each image once -> decide -> edits.

Everything here is collected, not raised, per reference and per image (habit 4): one bad
image or file never stops the rest. Only a rejected key (AuthError) ends the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from tagbot.config import Config
from tagbot.errors import RateLimited, RewriteError, SourceError, SourceUnavailable
from tagbot.lookup import Lookups
from tagbot.policy import Decision, Update, decide, names_to_describe, needs_more_tags, offline_violations
from tagbot.rewrite import Edit, FileChange, edits_for, plan_file
from tagbot.refs import ImageRef
from tagbot.scan.model import Reference
from tagbot.sources.model import Tag


@dataclass(frozen=True)
class PlannedUpdate:
    reference: Reference
    update: Update
    reason: str


@dataclass(frozen=True)
class HeldBack:
    reference: Reference
    reason: str


@dataclass(frozen=True)
class Failure:
    """An image that could not be looked up, or a file that cannot be rewritten."""

    subject: str
    message: str
    temporary: bool = False  # offline, unreachable or rate limited: the next run may succeed


@dataclass(frozen=True)
class Violation:
    """A rule broken without any lookup: `require_digest`, `forbid_tags`."""

    reference: Reference
    problem: str


@dataclass(frozen=True)
class Plan:
    updates: tuple[PlannedUpdate, ...]
    held_back: tuple[HeldBack, ...]
    errors: tuple[Failure, ...]


def plan_updates(references: Sequence[Reference], lookups: Lookups, config: Config, *, now: datetime) -> Plan:
    updates: list[PlannedUpdate] = []
    held_back: list[HeldBack] = []
    # A monorepo names the same image:tag in many files; each is decided once.
    decisions: dict[tuple[str, str | None, str | None, str | None], Decision] = {}
    for reference in references:
        image = reference.found.image
        if image is None:
            continue
        if image.name in lookups.uncovered:
            held_back.append(HeldBack(reference, f"lookups are off for {image.registry} (registries: in the config)"))
            continue
        tags = lookups.tags.get(image.name)
        if tags is None:
            continue  # its lookup failed: reported once, in errors
        key = (image.name, image.tag, image.digest, reference.found.platform)
        decision = decisions.get(key)
        if decision is None:
            decision = decisions[key] = decide(
                image,
                tags.tags,
                config.settings_for(image),
                now=now,
                platform=reference.found.platform,
                complete=tags.complete,
            )
        held_back.extend(HeldBack(reference, note) for note in decision.held_back)
        if decision.update is not None:
            updates.append(PlannedUpdate(reference, decision.update, decision.reason))
    errors = [
        Failure(name, str(error), temporary=isinstance(error, (SourceUnavailable, RateLimited)))
        for name, error in sorted(lookups.errors.items())
    ]
    return Plan(tuple(updates), tuple(held_back), tuple(errors))


def file_changes(updates: Sequence[PlannedUpdate], base: Path) -> tuple[list[FileChange], list[Failure]]:
    """Each touched file as it would be written; a file with any edit that cannot be made is
    left out whole, with the reason."""
    by_file: dict[str, list[PlannedUpdate]] = {}
    for planned in updates:
        by_file.setdefault(planned.reference.file, []).append(planned)
    changes: list[FileChange] = []
    failures: list[Failure] = []
    for file, planned_updates in sorted(by_file.items()):
        try:
            edits: list[Edit] = [e for p in planned_updates for e in edits_for(p.reference, p.update)]
            change = plan_file(file, base / file, edits)
        except RewriteError as e:
            failures.append(Failure(file, str(e)))
            continue
        if change.after != change.before:
            changes.append(change)
    return changes, failures


def rule_violations(references: Sequence[Reference], config: Config) -> list[Violation]:
    """Every reference that breaks a rule needing no lookup; these hold even offline."""
    return [
        Violation(reference, problem)
        for reference in references
        if reference.found.image is not None
        for problem in offline_violations(reference.found.image, config.settings_for(reference.found.image))
    ]


def deep_search_images(images: Sequence[ImageRef], lookups: Lookups, config: Config) -> list[ImageRef]:
    """Images to read in full: their answer held only the newest tags, those miss the
    reference's tag or its shape, and the rules ask for `deep_search`."""
    wanted: dict[str, ImageRef] = {}
    for image in _distinct(images):
        tags = lookups.tags.get(image.name)
        if image.name in wanted or tags is None or tags.complete or not config.settings_for(image).deep_search:
            continue
        if needs_more_tags(image, tags.tags):
            wanted[image.name] = image
    return list(wanted.values())


def merge_deep(lookups: Lookups, deep: Lookups) -> Lookups:
    """The first answers, with every full list read by the deep search in their place."""
    return replace(lookups, tags={**lookups.tags, **deep.tags}, errors={**lookups.errors, **deep.errors})


def tags_to_describe(images: Sequence[ImageRef], lookups: Lookups, config: Config) -> list[tuple[ImageRef, str]]:
    """For lists of names only: the tags each reference's decision needs details of."""
    bare = {name for name, tag_list in lookups.tags.items() if not all(tag.described for tag in tag_list.tags)}
    wanted: dict[tuple[str, str], ImageRef] = {}
    for image in _distinct(images):
        if image.name not in bare:
            continue
        names = [tag.name for tag in lookups.tags[image.name].tags]
        for name in names_to_describe(image, names, config.settings_for(image)):
            wanted.setdefault((image.name, name), image)
    return [(image, name) for (_, name), image in wanted.items()]


def _distinct(images: Sequence[ImageRef]) -> list[ImageRef]:
    """One per image and tag: a monorepo names the same one in many files."""
    return list({(image.name, image.tag): image for image in images}.values())


def with_details(lookups: Lookups, described: dict[tuple[str, str], Tag], errors: dict[str, SourceError]) -> Lookups:
    """The lists with each described tag in place of its bare name."""
    tags = {
        name: replace(tag_list, tags=tuple(described.get((name, tag.name), tag) for tag in tag_list.tags))
        for name, tag_list in lookups.tags.items()
    }
    return replace(lookups, tags=tags, errors={**lookups.errors, **errors})
