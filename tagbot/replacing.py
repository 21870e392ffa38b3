"""Replacing moved images: a reference to an image that moved (`openjdk`, `k8s.gcr.io/*`) gets
an update of its own to the successor's same tag, when the successor has that tag on every
platform the reference needs; else a warning naming the successor. A deprecated image nothing
replaces is named too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tagbot.config import Config
from tagbot.errors import SourceError
from tagbot.model import LifeWarning, PlannedUpdate, Update
from tagbot.moves import Moves, Successor
from tagbot.platforms import normalize_platforms, short_platform
from tagbot.policy import required_platforms
from tagbot.refs import ImageRef
from tagbot.scan.model import DeclaredPlatform, Reference
from tagbot.sources.model import Tag, TagList


@dataclass(frozen=True)
class Replacements:
    updates: tuple[PlannedUpdate, ...]  # one per reference replaced
    warnings: tuple[LifeWarning, ...]


def successors(references: Sequence[Reference], moves: Moves) -> list[ImageRef]:
    """The successors the run must look up, once each."""
    found = (moves.successor_of(r.found.image) for r in references if r.found.image is not None)
    return list({s.image.name: s.image for s in found if s is not None}.values())


def plan_replacements(references: Sequence[Reference], tags: Mapping[str, TagList], errors: Mapping[str, SourceError],
                      moves: Moves, config: Config, declared: Sequence[DeclaredPlatform],
                      deprecated: Mapping[str, str] | None = None) -> Replacements:
    """`deprecated`: images a source says are deprecated (name -> what it says), beside the
    shipped notices."""
    updates: list[PlannedUpdate] = []
    warnings: list[LifeWarning] = []
    for reference in references:
        image = reference.found.image
        if image is None or not config.settings_for(image, reference.file, reference.kind).enabled:
            continue
        successor = moves.successor_of(image)
        if successor is None:
            notice = moves.deprecation(image) or (deprecated or {}).get(image.name)
            if notice:
                warnings.append(LifeWarning(reference, "deprecated", f"{image.short_name}: deprecated ({notice}); "
                                            "no successor is known: name one under replacements:"))
            continue
        outcome = _replacement(reference, image, successor, tags, errors, config, declared)
        if isinstance(outcome, PlannedUpdate):
            updates.append(outcome)
        else:
            warnings.append(outcome)
    return Replacements(tuple(updates), tuple(warnings))


def _replacement(reference: Reference, image: ImageRef, successor: Successor, tags: Mapping[str, TagList],
                 errors: Mapping[str, SourceError], config: Config,
                 declared: Sequence[DeclaredPlatform]) -> PlannedUpdate | LifeWarning:
    tag_name = image.effective_tag
    moved = f"{image.short_name}:{tag_name}: {image.short_name} moved to {successor.image.short_name} ({successor.move.source})"
    if successor.image.name in errors:
        return LifeWarning(reference, "moved", f"{moved}; its tags could not be looked up: {errors[successor.image.name]}")
    known = tags.get(successor.image.name)
    if known is None:  # its registry's lookups are off
        return LifeWarning(reference, "moved", f"{moved}; its tags are not looked up (registries: in the config)",
                           successor.written)
    new = _tag(known, tag_name)
    if new is None:
        return LifeWarning(reference, "moved", f"{moved}, which has no {tag_name} tag", successor.written)
    settings = config.settings_for(image, reference.file, reference.kind)
    current = _tag(tags.get(image.name), tag_name)
    required, _ = required_platforms(settings, current, reference.found.platform, declared)
    missing = required - normalize_platforms(new.platforms)
    if missing and not reference.found.artifact:
        lacks = ", ".join(sorted(map(short_platform, missing)))
        return LifeWarning(reference, "moved", f"{moved}, whose {tag_name} lacks {lacks}", successor.written)
    wants_digest = image.digest is not None or settings.wants_pins
    if wants_digest and new.digest is None:
        return LifeWarning(reference, "moved", f"{moved}, which lists no digest for {tag_name} to pin",
                           successor.written)
    had = normalize_platforms(current.platforms) if current else frozenset()
    update = Update(
        from_tag=image.tag, from_digest=image.digest, to_tag=image.tag, to_digest=new.digest if wants_digest else None,
        update_type="replace", platforms=normalize_platforms(new.platforms), size=new.size,
        last_updated=new.last_updated, from_size=current.size if current else None,
        platforms_dropped=had - normalize_platforms(new.platforms), to_image=successor.written,
    )
    pull = config.settings_for(image, reference.file, reference.kind, "replace").pull
    return PlannedUpdate(reference, update, f"{image.short_name} moved to {successor.image.short_name} "
                                            f"({successor.move.source})", pull=pull)


def _tag(tag_list: TagList | None, name: str) -> Tag | None:
    return next((t for t in tag_list.tags if t.name == name), None) if tag_list else None
