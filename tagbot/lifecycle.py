"""End-of-life and abandoned warnings for one run's references: on a line that ended (or ends
within `eol_warning`), say so and name the newest tag on a supported line the rules allow; for
an image whose newest push is older than `abandoned_after`, say so. Both from what the run
knows already (the shipped lines, the tag index): no call of their own."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from tagbot.config import DEFAULT_UPDATE_TYPES, Config, Settings, duration_text
from tagbot.lines import Line, ReleaseLines, shipped
from tagbot.model import Decision, LifeKind, LifeWarning
from tagbot.refs import ImageRef
from tagbot.scan.model import Reference
from tagbot.sources.model import TagList

# Decides a reference under the given settings (the run's policy, with its platforms).
Decider = Callable[[Reference, Settings], Decision]


def life_warnings(references: Sequence[Reference], tags: Mapping[str, TagList], config: Config, *,
                  now: datetime, decide: Decider) -> list[LifeWarning]:
    """Every warning, once per reference, in the order the references were found."""
    warnings: list[LifeWarning] = []
    said: dict[tuple[str, str, tuple[str, str] | None], LifeWarning | None] = {}  # a monorepo names one image:tag many times
    for reference in references:
        image = reference.found.image
        if image is None or image.name not in tags:
            continue
        settings = config.settings_for(image, reference.file, reference.kind)
        key = (image.name, image.effective_tag, (reference.file, reference.kind) if config.by_place else None)
        if key not in said:
            said[key] = _line_warning(reference, image, settings, now, decide) or _abandoned(
                reference, image, tags[image.name], settings, now)
        if (warning := said[key]) is not None:
            warnings.append(replace(warning, reference=reference))
    return warnings


def _line_warning(reference: Reference, image: ImageRef, settings: Settings, now: datetime,
                  decide: Decider) -> LifeWarning | None:
    lines = shipped().for_image(image)
    line = lines.line_of_tag(image.effective_tag) if lines else None
    if lines is None or line is None or not settings.enabled:
        return None
    today = now.date()
    kind: LifeKind
    if line.ended(today):
        kind, state = "ended", line.support_text(today)
    elif line.ends is not None and settings.eol_warning and line.ends - today <= settings.eol_warning:
        kind, state = "ending", f"ends {line.ends}, in {(line.ends - today).days} days"
    else:
        return None
    successor = _successor(reference, settings, lines, line, today, decide)
    text = f"{image.short_name}:{image.effective_tag} ({lines.title} {line.name} {state})"
    if successor is None:
        return LifeWarning(reference, kind, f"{text}; no supported line the rules allow has this tag's shape")
    to_tag, to_line = successor
    support = to_line.support_text(today) if to_line else f"newer than the release data of {shipped().date}"
    return LifeWarning(reference, kind, f"{text} -> {to_tag} ({support})", to_tag)


def _successor(reference: Reference, settings: Settings, lines: ReleaseLines, current: Line, today: date,
               decide: Decider) -> tuple[str, Line | None] | None:
    """The newest tag on another, supported, line that the rules allow, whatever update types
    or version range they limit pull requests to: where to go, not what to propose. A line the
    data does not know is newer than the data (None): the policy let it pass, so it stands."""
    wide = replace(settings, update_types=DEFAULT_UPDATE_TYPES, allow=None, min_age=timedelta(0))
    update = decide(reference, wide).update
    if update is None or update.to_tag is None:
        return None
    line = lines.line_of_tag(update.to_tag)
    if line == current or (line is not None and line.ended(today)):
        return None
    return update.to_tag, line


def _abandoned(reference: Reference, image: ImageRef, tags: TagList, settings: Settings,
               now: datetime) -> LifeWarning | None:
    pushes = [tag.last_updated for tag in tags.tags if tag.last_updated is not None]
    if not settings.abandoned_after or not settings.enabled or not pushes:
        return None
    newest = max(pushes)
    if now - newest < settings.abandoned_after:
        return None
    return LifeWarning(reference, "abandoned", f"{image.short_name}: nothing pushed since {newest.date()} "
                                               f"(abandoned_after {duration_text(settings.abandoned_after)})")
